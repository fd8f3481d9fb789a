#include "control/ike/addresses.h"

namespace corridor::control::ike {

bool address_matches(const std::vector<config::AddressSpec>& specs, const net::IpAddress& address) {
  if (specs.empty()) return true;  // %any
  for (const auto& s : specs) {
    switch (s.kind) {
      case config::AddressSpec::Kind::any: return true;
      case config::AddressSpec::Kind::any4:
        if (address.is_v4()) return true;
        break;
      case config::AddressSpec::Kind::any6:
        if (!address.is_v4()) return true;
        break;
      case config::AddressSpec::Kind::address:
      case config::AddressSpec::Kind::prefix:
        if (s.prefix.contains(address)) return true;
        break;
      case config::AddressSpec::Kind::range:
        if (address.family() == s.prefix.address.family() && !(address < s.prefix.address) && !(s.range_end < address))
          return true;
        break;
      case config::AddressSpec::Kind::hostname: break;  // resolved only when initiating
    }
  }
  return false;
}

std::optional<InitiatorEndpoints> initiator_endpoints(const config::ConnectionConfig& conn, Transport& transport,
                                                      std::string* why) {
  if (conn.remote_addrs.empty() || conn.remote_addrs.front().kind != config::AddressSpec::Kind::address) {
    *why = "remote_addrs must start with one IP address to initiate to";
    return std::nullopt;
  }
  const net::SocketAddress remote{conn.remote_addrs.front().prefix.address, conn.remote_port};
  std::optional<net::IpAddress> local;
  if (!conn.local_addrs.empty() && conn.local_addrs.front().kind == config::AddressSpec::Kind::address)
    local = conn.local_addrs.front().prefix.address;
  else
    local = transport.source_for(remote.address);
  if (!local) {
    *why = "no route to " + remote.address.to_string();
    return std::nullopt;
  }
  return InitiatorEndpoints{{*local, conn.local_port}, remote};
}

}  // namespace corridor::control::ike
