// IANA "Assigned Internet Protocol Numbers": the values of the IPv4
// Protocol field and of the IPv6 Next Header field the dataplane parses or
// writes. One list, so the packet engine, the SPD key parser and the
// config agree on what 50 means.
#pragma once

#include <cstdint>

namespace corridor::iana::ip_protocol {

inline constexpr std::uint8_t kIpv6HopByHop = 0;
inline constexpr std::uint8_t kIcmp = 1;
inline constexpr std::uint8_t kIpv4 = 4;  // IP-in-IP: the next header of an IPv4 packet in a tunnel
inline constexpr std::uint8_t kTcp = 6;
inline constexpr std::uint8_t kUdp = 17;
inline constexpr std::uint8_t kDccp = 33;
inline constexpr std::uint8_t kIpv6 = 41;
inline constexpr std::uint8_t kIpv6Routing = 43;
inline constexpr std::uint8_t kIpv6Fragment = 44;
inline constexpr std::uint8_t kEsp = 50;
inline constexpr std::uint8_t kAh = 51;
inline constexpr std::uint8_t kIcmpV6 = 58;
inline constexpr std::uint8_t kNoNextHeader = 59;  // RFC 4303 §2.6 dummy packet
inline constexpr std::uint8_t kIpv6DestOpts = 60;
inline constexpr std::uint8_t kSctp = 132;
inline constexpr std::uint8_t kMobilityHeader = 135;
inline constexpr std::uint8_t kUdpLite = 136;

// Protocols whose header begins with a source and a destination port,
// which IPsec selectors can name (RFC 4301 §4.4.1.1).
constexpr bool has_ports(std::uint8_t protocol) {
  return protocol == kTcp || protocol == kUdp || protocol == kSctp || protocol == kDccp || protocol == kUdpLite;
}

}  // namespace corridor::iana::ip_protocol
