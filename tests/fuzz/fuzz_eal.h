// EAL for the fuzz targets whose code under test lives in mbufs and DPDK
// tables: started once per process, without hugepages, PCI, shared config
// or telemetry, with a per-process file prefix, and its runtime directory
// removed at exit (fuzzers run many times on one machine).
#pragma once

#include <rte_eal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace corridor::fuzz {

// `program` names the target in EAL's arguments and, with the pid, its
// file prefix. Aborts when EAL does not start: nothing could be fuzzed.
inline void start_eal(const std::string& program) {
  std::vector<std::string> args = {program,          "--no-huge",     "-m",
                                   "64",             "--no-pci",      "--no-shconf",
                                   "--no-telemetry", "--file-prefix", program + "-" + std::to_string(::getpid()),
                                   "--log-level",    "error",         "-l",
                                   "0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    std::fprintf(stderr, "%s: EAL did not start\n", program.c_str());
    std::abort();
  }
  std::atexit([] { std::filesystem::remove_all(rte_eal_get_runtime_dir()); });
}

}  // namespace corridor::fuzz
