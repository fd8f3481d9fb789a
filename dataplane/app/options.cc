#include "dataplane/app/options.h"

#include <string_view>

namespace corridor::dataplane::app {

std::optional<Options> parse_options(int argc, const char* const* argv, std::string* error) {
  Options o;
  int i = 0;
  for (; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") break;
    o.eal_args.emplace_back(argv[i]);
  }
  if (o.eal_args.empty()) o.eal_args.emplace_back("corridor-dataplane");
  for (++i; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        *error = std::string(a) + " needs a value";
        return false;
      }
      out = argv[++i];
      return true;
    };
    if (a == "--config") {
      if (!value(o.config_path)) return std::nullopt;
    } else if (a == "--stats") {
      if (!value(o.stats_path)) return std::nullopt;
    } else if (a == "--help" || a == "-h") {
      o.help = true;
    } else {
      *error = "unknown option " + std::string(a) + " (application options come after --)";
      return std::nullopt;
    }
  }
  if (o.config_path.empty() && !o.help) {
    *error = "--config FILE is required (after --)";
    return std::nullopt;
  }
  return o;
}

}  // namespace corridor::dataplane::app
