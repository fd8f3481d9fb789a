// EAL once per dataplane test binary, without hugepages (so tests run on
// any machine), with a per-process file prefix, and its runtime directory
// removed afterwards: tests run many times on one machine.
#pragma once

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace corridor::dataplane::testing {

class EalEnvironment : public ::testing::Environment {
 public:
  explicit EalEnvironment(std::string program) : program_(std::move(program)) {}

  void SetUp() override {
    const std::string prefix = "corridor-" + program_ + "-" + std::to_string(::getpid());
    std::vector<std::string> args = {program_,        "--no-huge", "-m",          "512",   "--no-pci",
                                     "--file-prefix", prefix,      "--log-level", "error", "-l",
                                     "0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0) << rte_strerror(rte_errno);
  }
  void TearDown() override {
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    EXPECT_EQ(rte_eal_cleanup(), 0);
    std::filesystem::remove_all(runtime_dir);
  }

 private:
  std::string program_;
};

}  // namespace corridor::dataplane::testing
