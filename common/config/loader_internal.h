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

// Not unspecified, multicast or the IPv4 limited broadcast: an address one
// host or interface can have.
bool is_unicast(const net::IpAddress& a);

std::vector<ConnectionConfig> read_connections(const nlohmann::ordered_json& value, const std::string& pointer,
                                               const Context& ctx);
std::vector<Secret> read_secrets(const nlohmann::ordered_json& value, const std::string& pointer, const Context& ctx);
DataplaneConfig read_dataplane(const nlohmann::ordered_json& value, const std::string& pointer, const Context& ctx);
// dataplane.static_sas; `dataplane` holds the ports read so far (for the
// check that an SA's local address belongs to the gateway).
std::vector<StaticSaConfig> read_static_sas(const nlohmann::ordered_json& value, const std::string& pointer,
                                            const DataplaneConfig& dataplane, const Context& ctx);

// Checks that need more than one section (secrets for PSK connections, ...).
void cross_check(const Config& config, const Context& ctx);

}  // namespace corridor::config::detail
