// Section readers shared by the loader's translation units. Not a public
// interface: use loader.h.
#pragma once

#include <string>
#include <vector>

#include "common/config/json_reader.h"
#include "common/config/loader.h"

namespace corridor::config::detail {

struct Context {
  const LoadOptions& options;
  Diagnostics& diag;

  // Absolute path for a file named in the config; warns if it is unreadable.
  std::string resolve_file(const std::string& pointer, const std::string& path) const;
};

// Names of connections, children and ports appear in API URLs and logs.
bool valid_name(std::string_view name);

std::vector<ConnectionConfig> read_connections(const nlohmann::ordered_json& value, const std::string& pointer,
                                               const Context& ctx);
std::vector<Secret> read_secrets(const nlohmann::ordered_json& value, const std::string& pointer, const Context& ctx);
DataplaneConfig read_dataplane(const nlohmann::ordered_json& value, const std::string& pointer, const Context& ctx);

// Checks that need more than one section (secrets for PSK connections, ...).
void cross_check(const Config& config, const Context& ctx);

}  // namespace corridor::config::detail
