#include "dataplane/eal_args.h"

#include <algorithm>
#include <cctype>

namespace corridor::dataplane {
namespace {

bool has_option(const std::vector<std::string>& args, std::initializer_list<const char*> names) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
    for (const char* n : names) {
      const std::string name(n);
      if (a == name || a.starts_with(name + "=")) return true;
      // Short options may be glued to their value: "-l0-3", "-a0000:03:00.0".
      if (name.size() == 2 && name[0] == '-' && name[1] != '-' && a.starts_with(name) && a.size() > 2) return true;
    }
    return false;
  });
}

bool has_vdev(const std::vector<std::string>& args, const std::string& device) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string value;
    if (args[i] == "--vdev" && i + 1 < args.size()) value = args[i + 1];
    else if (args[i].starts_with("--vdev=")) value = args[i].substr(7);
    else continue;
    if (value.substr(0, value.find(',')) == device) return true;
  }
  return false;
}

}  // namespace

std::string ethdev_name(const config::PortConfig& port) {
  if (!port.is_pci()) return port.name;
  // EAL names PCI devices with the domain; the config may omit it.
  std::string name = std::count(port.name.begin(), port.name.end(), ':') == 1 ? "0000:" + port.name : port.name;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

std::vector<std::string> build_eal_args(const config::DataplaneConfig& config,
                                        const std::vector<std::string>& operator_args) {
  std::vector<std::string> args = operator_args;
  if (!has_option(args, {"-l", "-c", "--lcores"})) {
    std::string lcores = std::to_string(config.main_lcore);
    for (unsigned w : config.worker_lcores) lcores += "," + std::to_string(w);
    args.insert(args.end(), {"-l", lcores});
  }
  if (!has_option(args, {"--main-lcore"})) args.insert(args.end(), {"--main-lcore", std::to_string(config.main_lcore)});

  bool any_pci = false;
  for (const auto& port : config.ports) {
    if (port.is_pci()) {
      any_pci = true;
    } else if (!port.devargs.empty() && !has_vdev(args, port.name)) {
      args.insert(args.end(), {"--vdev", port.name + "," + port.devargs});
    }
  }
  // The exception interface: a net_tap device whose kernel side is NAME.
  const std::string tap(config::kExceptionTapDevice);
  if (config.exception_interface && !has_vdev(args, tap))
    args.insert(args.end(), {"--vdev", tap + ",iface=" + *config.exception_interface});
  // With an explicit allow or block list the operator has chosen the PCI devices.
  if (!has_option(args, {"-a", "--allow", "-b", "--block", "--no-pci"})) {
    if (!any_pci) {
      args.emplace_back("--no-pci");
    } else {
      for (const auto& port : config.ports)
        if (port.is_pci()) args.insert(args.end(), {"-a", port.devargs.empty() ? port.name : port.name + "," + port.devargs});
    }
  }
  return args;
}

}  // namespace corridor::dataplane
