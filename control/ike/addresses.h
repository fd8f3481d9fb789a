// Which connections a datagram's addresses fit (local_addrs / remote_addrs
// of swanctl.conf), shared by both IKE versions' responders.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config/model.h"
#include "common/net/address.h"
#include "control/ike/transport.h"

namespace corridor::control::ike {

// True if `address` is one of `specs` (empty: %any). Host names match
// nothing here: they are resolved only when initiating.
bool address_matches(const std::vector<config::AddressSpec>& specs, const net::IpAddress& address);

// Where an initiator sends a connection's first message: to the first of
// remote_addrs (which must be an IP address) at remote_port, from the first
// of local_addrs when it is an address, else from the address the host
// routes through. nullopt with the reason (as an operator reads it) if
// there is no such address or no route.
struct InitiatorEndpoints {
  net::SocketAddress local;
  net::SocketAddress remote;
};
std::optional<InitiatorEndpoints> initiator_endpoints(const config::ConnectionConfig& conn, Transport& transport,
                                                      std::string* why);

}  // namespace corridor::control::ike
