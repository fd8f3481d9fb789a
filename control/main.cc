// corridor-control: the control plane (IKE, REST API, SA lifecycle).
// Never links DPDK; reaches the dataplane only through the SA channel.
#include <cstring>
#include <iostream>
#include <string>

#include "common/config/loader.h"
#include "control/check.h"
#include "control/service.h"

namespace {

void usage(std::ostream& out) {
  out << "usage: corridor-control --config FILE [--check]\n"
         "  --config FILE  JSON configuration (swanctl.conf-shaped; see docs/configuration.md)\n"
         "  --check        validate FILE, print every problem, exit 0 if valid, 2 if not\n"
         "  --status FILE  write the SA list and IKE counters as JSON to FILE on SIGUSR1 and at exit\n"
         "  --version      print the version\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check = false;
  corridor::control::DaemonOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--status" && i + 1 < argc) {
      options.status_file = argv[++i];
    } else if (arg == "--check") {
      check = true;
    } else if (arg == "--version") {
      std::cout << "corridor-control " << CORRIDOR_VERSION << '\n';
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return 0;
    } else {
      std::cerr << "corridor-control: unknown argument '" << arg << "'\n";
      usage(std::cerr);
      return 64;  // EX_USAGE
    }
  }
  if (config_path.empty()) {
    std::cerr << "corridor-control: --config FILE is required\n";
    usage(std::cerr);
    return 64;
  }

  auto result = corridor::config::load_config_file(config_path);
  if (check) return corridor::control::report_check(result, config_path, std::cout);
  if (!result.ok()) return corridor::control::report_check(result, config_path, std::cerr);
  options.config_file = config_path;
  return corridor::control::run_daemon(std::move(result), options);
}
