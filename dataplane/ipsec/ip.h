// IP header facts the ESP and AH stages need, on raw bytes (the engine
// parses and writes headers itself; DPDK's packet-type flags are not
// trusted for anything that decides a packet's fate).
#pragma once

#include <cstdint>
#include <cstring>

#include "common/iana/ip_protocol.h"
#include "common/net/checksum.h"

namespace corridor::dataplane::ipsec {

namespace proto = iana::ip_protocol;
inline constexpr std::uint8_t kProtoIpv4 = proto::kIpv4;
inline constexpr std::uint8_t kProtoUdp = proto::kUdp;
inline constexpr std::uint8_t kProtoIpv6 = proto::kIpv6;
inline constexpr std::uint8_t kProtoEsp = proto::kEsp;
inline constexpr std::uint8_t kProtoAh = proto::kAh;
inline constexpr std::uint8_t kProtoNoNext = proto::kNoNextHeader;
inline constexpr std::uint8_t kIpv6HopByHop = proto::kIpv6HopByHop;
inline constexpr std::uint8_t kIpv6Routing = proto::kIpv6Routing;
inline constexpr std::uint8_t kIpv6Fragment = proto::kIpv6Fragment;
inline constexpr std::uint8_t kIpv6DestOpts = proto::kIpv6DestOpts;

inline constexpr std::uint32_t kIpv4HeaderLen = 20;
inline constexpr std::uint32_t kIpv6HeaderLen = 40;
inline constexpr std::uint32_t kUdpHeaderLen = 8;
inline constexpr std::uint32_t kEspHeaderLen = 8;  // SPI + sequence number

inline std::uint16_t load_be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
inline std::uint32_t load_be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
inline void store_be16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

// RFC 1071 checksum of an IPv4 header (the checksum field taken as 0).
inline std::uint16_t ipv4_header_checksum(const std::uint8_t* ip, std::uint32_t header_len) {
  namespace cs = corridor::net;
  if (header_len <= 12) return cs::checksum_finish(cs::checksum_add(0, ip, header_len < 10 ? header_len : 10));
  return cs::checksum_finish(cs::checksum_add(cs::checksum_add(0, ip, 10), ip + 12, header_len - 12));
}
inline void set_ipv4_checksum(std::uint8_t* ip) {
  store_be16(ip + 10, ipv4_header_checksum(ip, (ip[0] & 0x0f) * 4u));
}

// Traffic class octet (DSCP << 2 | ECN) of an IPv4 or IPv6 header.
inline std::uint8_t traffic_class(const std::uint8_t* ip) {
  if ((ip[0] >> 4) == 4) return ip[1];
  return static_cast<std::uint8_t>((ip[0] & 0x0f) << 4 | ip[1] >> 4);
}
inline void set_traffic_class(std::uint8_t* ip, std::uint8_t tc) {
  if ((ip[0] >> 4) == 4) {
    ip[1] = tc;
    set_ipv4_checksum(ip);
    return;
  }
  ip[0] = static_cast<std::uint8_t>((ip[0] & 0xf0) | tc >> 4);
  ip[1] = static_cast<std::uint8_t>((ip[1] & 0x0f) | (tc & 0x0f) << 4);
}

// ECN codepoints (RFC 3168).
inline constexpr std::uint8_t kNotEct = 0, kEct1 = 1, kEct0 = 2, kCe = 3;

// RFC 6040 §4.2 decapsulation: the inner ECN field after combining it
// with the outer one, or -1 when the packet must be dropped (outer CE on a
// Not-ECT inner packet: the congestion signal cannot be passed on).
inline int ecn_decapsulate(std::uint8_t inner, std::uint8_t outer) {
  if (inner == kNotEct) return outer == kCe ? -1 : kNotEct;
  if (outer == kCe) return kCe;
  if (inner == kEct0 && outer == kEct1) return kEct1;
  return inner;
}

// IPv6: walks the extension headers that precede ESP/AH in transport mode
// and that a gateway must look past to find ESP on input (Hop-by-Hop,
// Routing, Destination Options). Returns false on truncation. On return
// `offset` is where the next header starts, `proto` its protocol number and
// `proto_at` the offset of the byte that names it (6 for the fixed header).
inline bool ipv6_skip_extensions(const std::uint8_t* ip, std::uint32_t len, std::uint32_t& offset,
                                 std::uint8_t& proto, std::uint32_t& proto_at) {
  offset = kIpv6HeaderLen;
  proto = ip[6];
  proto_at = 6;
  for (int guard = 0; guard < 8; ++guard) {
    if (proto != kIpv6HopByHop && proto != kIpv6Routing && proto != kIpv6DestOpts) return true;
    if (offset + 8 > len) return false;
    const std::uint32_t ext_len = (ip[offset + 1] + 1u) * 8u;
    if (offset + ext_len > len) return false;
    proto = ip[offset];
    proto_at = offset;
    offset += ext_len;
  }
  return false;  // more extension headers than any real packet carries
}

}  // namespace corridor::dataplane::ipsec
