// corridor-dataplane: the DPDK primary process that owns the NICs.
//   corridor-dataplane [EAL arguments] -- --config FILE [--stats FILE]
#include <rte_eal.h>
#include <rte_errno.h>

#include <csignal>
#include <cstdio>

#include "common/config/loader.h"
#include "common/log/log.h"
#include "dataplane/app/dataplane.h"
#include "dataplane/app/options.h"
#include "dataplane/eal_args.h"

namespace {

void on_signal(int) { corridor::dataplane::app::Dataplane::stop(); }
void on_usr1(int) { corridor::dataplane::app::Dataplane::dump_stats(); }

}  // namespace

int main(int argc, char** argv) {
  using namespace corridor;
  std::string error;
  const auto options = dataplane::app::parse_options(argc, argv, &error);
  if (!options) {
    std::fprintf(stderr, "corridor-dataplane: %s\n%s", error.c_str(), dataplane::app::kUsage);
    return 64;
  }
  if (options->help) {
    std::fputs(dataplane::app::kUsage, stdout);
    return 0;
  }
  const auto loaded = config::load_config_file(options->config_path);
  for (const auto& d : loaded.diagnostics.items()) {
    std::fprintf(stderr, "%s: %s\n", d.severity == config::Severity::error ? "error" : "warning", d.to_string().c_str());
  }
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s: invalid configuration, not started\n", options->config_path.c_str());
    return 2;
  }
  const config::Config& cfg = *loaded.config;
  if (const auto why = log::configure(cfg.logging, "corridor-dataplane"); !why.empty()) log::warning("main", why);

  auto eal = dataplane::build_eal_args(cfg.dataplane, options->eal_args);
  std::vector<char*> eal_argv;
  for (auto& a : eal) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    log::error("eal", std::string("EAL initialisation failed: ") + rte_strerror(rte_errno));
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGUSR1, on_usr1);

  int status = 0;
  {
    dataplane::app::Dataplane dp(cfg, *options);
    if (dp.start()) {
      dp.write_stats();  // the first --stats file says the process is up
      dp.run();
    } else {
      status = 1;
    }
    dp.write_stats();
  }
  rte_eal_cleanup();
  return status;
}
