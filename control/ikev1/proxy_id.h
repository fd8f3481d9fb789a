// Quick Mode proxy identities (RFC 2409 §5.5, RFC 2407 §4.6.2): the IDci
// and IDcr payloads that say which traffic an IPsec SA carries, to and from
// Corridor's traffic selectors.
//
//   one address      ID_IPV4_ADDR / ID_IPV6_ADDR
//   a prefix         ID_IPV4_ADDR_SUBNET / ID_IPV6_ADDR_SUBNET (address, mask)
//   any other range  ID_IPV4_ADDR_RANGE / ID_IPV6_ADDR_RANGE (first, last)
//
// with the IP protocol and one port (0: any). A port range other than one
// port or all of them has no IKEv1 form and becomes "any" (strongSwan does
// the same). Without ID payloads the proxy identities are the two IKE
// addresses (§5.5).
#pragma once

#include <optional>
#include <string>

#include "common/ikev1/message.h"
#include "common/net/traffic_selector.h"

namespace corridor::control::ikev1 {

corridor::ikev1::Identification to_proxy_id(const net::TrafficSelector& ts);
// nullopt (and `why`) for ID types that are not addresses, a non-contiguous
// mask, or a range whose start is after its end.
std::optional<net::TrafficSelector> from_proxy_id(const corridor::ikev1::Identification& id, std::string* why);

// True if `outer` holds all of `inner`: addresses, protocol (0 holds any)
// and ports.
bool covers(const net::TrafficSelector& outer, const net::TrafficSelector& inner);

// A host selector for an IKE address (the "dynamic" selector, or the
// default proxy identity).
net::TrafficSelector host_selector(const net::IpAddress& address);

}  // namespace corridor::control::ikev1
