// corridor-dataplane's command line:
//
//   corridor-dataplane [EAL arguments] -- --config FILE [--stats FILE]
//
// EAL arguments come first, as with every DPDK application; what they leave
// out is filled in from the config (dataplane/eal_args.h). After `--`:
//   --config FILE   the JSON configuration (its dataplane and sa_channel sections)
//   --stats FILE    write every counter as JSON to FILE on exit (and on SIGUSR1)
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace corridor::dataplane::app {

struct Options {
  std::vector<std::string> eal_args;  // argv[0] first
  std::string config_path;
  std::string stats_path;
  bool help = false;
};

// nullopt with `error` set for a command line that cannot be run.
std::optional<Options> parse_options(int argc, const char* const* argv, std::string* error);

inline constexpr const char* kUsage =
    "usage: corridor-dataplane [EAL arguments] -- --config FILE [--stats FILE]\n"
    "  --config FILE  JSON configuration (dataplane and sa_channel sections)\n"
    "  --stats FILE   write all counters as JSON to FILE on exit and on SIGUSR1\n";

}  // namespace corridor::dataplane::app
