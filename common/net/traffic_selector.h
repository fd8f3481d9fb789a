// Traffic selectors in strongSwan's swanctl syntax (local_ts / remote_ts):
//
//   10.1.0.0/16            a subnet (CIDR)
//   10.1.0.5-10.1.0.50     an address range
//   2001:db8::/64[tcp/443] with a protocol/port restriction
//   0.0.0.0/0[udp/1024-2048], 10.0.0.0/8[icmp], 10.0.0.0/8[/53], [17/%any]
//   dynamic                the IKE address of that side (the default)
//
// The parsed form is the one RFC 7296 §3.13.1 puts on the wire: an address
// range, an IP protocol ID (0 = any) and a port range (0-65535 = any).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/net/address.h"

namespace corridor::net {

struct TrafficSelector {
  bool dynamic = false;           // "dynamic": filled in with the IKE address at negotiation
  IpAddress start;                // first address (inclusive)
  IpAddress end;                  // last address (inclusive)
  std::uint8_t protocol = 0;      // IP protocol number, 0 = any
  std::uint16_t port_start = 0;   // for ICMP: type/code as RFC 7296 §3.13.1 encodes them
  std::uint16_t port_end = 65535;

  static std::optional<TrafficSelector> parse(std::string_view text, std::string* error = nullptr);

  Family family() const { return start.family(); }
  // The prefix this range is exactly equal to, if it is one.
  std::optional<Prefix> as_prefix() const;
  // swanctl spelling, e.g. "10.1.0.0/16[tcp/443]".
  std::string to_string() const;

  friend bool operator==(const TrafficSelector&, const TrafficSelector&) = default;
};

// IP protocol numbers by the names strongSwan accepts ("tcp", "udp", "icmp",
// "ipv6-icmp", ...); nullopt if unknown. Numbers 0..255 are accepted as-is.
std::optional<std::uint8_t> parse_ip_protocol(std::string_view text);
std::string ip_protocol_name(std::uint8_t protocol);

}  // namespace corridor::net
