// Which connections a datagram's addresses fit (local_addrs / remote_addrs
// of swanctl.conf), shared by both IKE versions' responders.
#pragma once

#include <vector>

#include "common/config/model.h"
#include "common/net/address.h"

namespace corridor::control::ike {

// True if `address` is one of `specs` (empty: %any). Host names match
// nothing here: they are resolved only when initiating.
bool address_matches(const std::vector<config::AddressSpec>& specs, const net::IpAddress& address);

}  // namespace corridor::control::ike
