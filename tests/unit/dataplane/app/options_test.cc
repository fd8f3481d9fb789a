// corridor-dataplane's command line: EAL arguments before `--`, the
// application's after it.
#include "dataplane/app/options.h"

#include <gtest/gtest.h>

namespace corridor::dataplane::app {
namespace {

std::optional<Options> parse(std::vector<const char*> argv, std::string* error) {
  return parse_options(static_cast<int>(argv.size()), argv.data(), error);
}

TEST(Options, EalArgumentsComeFirstApplicationOptionsAfterTheSeparator) {
  std::string error;
  const auto o = parse({"corridor-dataplane", "-l", "0", "--no-huge", "--", "--config", "gw.json", "--stats", "s.json"},
                       &error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->eal_args, (std::vector<std::string>{"corridor-dataplane", "-l", "0", "--no-huge"}));
  EXPECT_EQ(o->config_path, "gw.json");
  EXPECT_EQ(o->stats_path, "s.json");
}

TEST(Options, MistakesAreExplained) {
  std::string error;
  EXPECT_FALSE(parse({"corridor-dataplane", "-l", "0"}, &error));
  EXPECT_NE(error.find("--config FILE is required"), std::string::npos) << error;
  EXPECT_FALSE(parse({"corridor-dataplane", "--", "--config"}, &error));
  EXPECT_NE(error.find("needs a value"), std::string::npos) << error;
  EXPECT_FALSE(parse({"corridor-dataplane", "--", "--config", "a.json", "--bogus"}, &error));
  EXPECT_NE(error.find("unknown option --bogus"), std::string::npos) << error;
  const auto help = parse({"corridor-dataplane", "--", "--help"}, &error);
  ASSERT_TRUE(help);
  EXPECT_TRUE(help->help);
}

}  // namespace
}  // namespace corridor::dataplane::app
