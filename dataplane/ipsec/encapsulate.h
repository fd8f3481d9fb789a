// What ESP and AH outbound share: reading the clear packet, the checks an
// SA makes before it numbers a packet, the outer header of tunnel mode
// (RFC 4301 §5.1.2) and the rewritten header of transport mode, and the
// accounting after a packet is protected.
#pragma once

#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/ipsec/ip.h"
#include "dataplane/ipsec/sa.h"
#include "dataplane/ipsec/worker.h"

namespace corridor::dataplane::ipsec {

// Parsed facts of a clear packet, read before the headers move.
struct ClearPacket {
  std::uint32_t len = 0;       // IP total length (the mbuf is trimmed to it)
  std::uint32_t keep = 0;      // transport: bytes of IP header (+ extensions) kept in front of ESP/AH
  std::uint32_t proto_at = 0;  // transport: offset of the byte that will name ESP/AH/UDP
  std::uint8_t next_header = 0;
  std::uint8_t tc = 0;  // traffic class (DSCP | ECN)
  bool df = false;      // IPv4 DF bit (IPv6 packets are never fragmented en route)

  // The bytes ESP/AH protect as their payload: the whole packet in tunnel
  // mode, what follows the kept header in transport mode.
  std::uint32_t data_len(bool tunnel) const { return tunnel ? len : len - keep; }
};

// Validates the clear IP packet at the start of `m` and trims link-layer
// padding after it. Tunnel mode protects any IPv4/IPv6 packet; transport mode
// protects the packet's own payload, so its family must be the SA's and it
// must not be a fragment (RFC 4303 §3.3, RFC 4302 §3.3: whole datagrams).
template <bool kTunnel, bool kOuterV6>
[[gnu::always_inline]] inline bool parse_clear(rte_mbuf* m, ClearPacket& p, Drop& why) {
  const auto* ip = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const std::uint32_t avail = m->data_len;
  if (avail < 1) return why = Drop::too_short, false;
  const unsigned version = ip[0] >> 4;
  if (version == 4) {
    if (avail < kIpv4HeaderLen) return why = Drop::too_short, false;
    const std::uint32_t ihl = (ip[0] & 0x0f) * 4u;
    p.len = load_be16(ip + 2);
    if (ihl < kIpv4HeaderLen || p.len < ihl || p.len > avail) return why = Drop::bad_ip_header, false;
    p.tc = ip[1];
    p.df = (ip[6] & 0x40) != 0;
    if constexpr (!kTunnel) {
      if (kOuterV6) return why = Drop::bad_ip_header, false;
      if ((load_be16(ip + 6) & 0x3fff) != 0) return why = Drop::fragment, false;
      p.keep = ihl;
      p.proto_at = 9;
      p.next_header = ip[9];
    } else {
      p.next_header = kProtoIpv4;
    }
  } else if (version == 6) {
    if (avail < kIpv6HeaderLen) return why = Drop::too_short, false;
    p.len = kIpv6HeaderLen + load_be16(ip + 4);
    if (p.len > avail) return why = Drop::bad_ip_header, false;
    p.tc = traffic_class(ip);
    p.df = true;
    if constexpr (!kTunnel) {
      if (!kOuterV6) return why = Drop::bad_ip_header, false;
      std::uint8_t proto = 0;
      if (!ipv6_skip_extensions(ip, p.len, p.keep, proto, p.proto_at)) return why = Drop::bad_ip_header, false;
      if (proto == kIpv6Fragment) return why = Drop::fragment, false;
      p.next_header = proto;
    } else {
      p.next_header = kProtoIpv6;
    }
  } else {
    return why = Drop::bad_ip_header, false;
  }
  if (p.len < avail) rte_pktmbuf_trim(m, static_cast<std::uint16_t>(avail - p.len));
  return true;
}

// The SA may still send: hard lifetime not reached, sequence numbers left
// (RFC 4303 §3.3.3, RFC 4302 §3.3.2: never wrap; the SA must be rekeyed).
[[gnu::always_inline]] inline bool may_send(RuntimeSa& sa, Drop& why) {
  const SaCounters& c = *sa.counters;
  if (c.bytes >= sa.bytes_hard || c.packets >= sa.packets_hard) {
    sa.raise(kHardLifetime);
    return why = Drop::sa_expired, false;
  }
  if (sa.seq >= sa.seq_limit()) {
    sa.raise(kSeqOverflow);
    return why = Drop::seq_overflow, false;
  }
  return true;
}

// Counts a protected packet (its clear length is what lifetimes count).
[[gnu::always_inline]] inline void account_sent(RuntimeSa& sa, std::uint32_t clear_len) {
  SaCounters& c = *sa.counters;
  ++c.packets;
  c.bytes += clear_len;
  if (c.bytes >= sa.bytes_soft || c.packets >= sa.packets_soft) sa.raise(kSoftLifetime);
}

// RFC 4301 §5.1.2.1 / RFC 6040 §4.1: DSCP copied unless configured not to,
// ECN copied in normal mode.
inline std::uint8_t outer_traffic_class(const RuntimeSa& sa, std::uint8_t inner_tc) {
  std::uint8_t tc = 0;
  if (sa.has(kDscpCopy)) tc |= inner_tc & 0xfc;
  if (sa.has(kEcnPropagate)) tc |= inner_tc & 0x03;
  return tc;
}

inline bool outer_df(const RuntimeSa& sa, bool inner_df) {
  switch (sa.df) {
    case channel::DfMode::set: return true;
    case channel::DfMode::clear: return false;
    case channel::DfMode::copy: break;
  }
  return inner_df;
}

// Tunnel mode: writes the outer header for a packet `total` bytes long
// whose next protocol is `carrier` (ESP, AH or UDP).
template <bool kOuterV6>
[[gnu::always_inline]] inline void write_tunnel_header(Worker& w, const RuntimeSa& sa, std::uint8_t* ip, std::uint32_t total, std::uint8_t carrier,
                         const ClearPacket& p) {
  const std::uint8_t tc = outer_traffic_class(sa, p.tc);
  if constexpr (kOuterV6) {
    store_be32(ip, 6u << 28 | std::uint32_t{tc} << 20);  // flow label 0
    store_be16(ip + 4, static_cast<std::uint16_t>(total - kIpv6HeaderLen));
    ip[6] = carrier;
    ip[7] = sa.outer_ttl;
    std::memcpy(ip + 8, sa.outer_src, 16);
    std::memcpy(ip + 24, sa.outer_dst, 16);
  } else {
    // Built from values in registers, the checksum summed from them too
    // (RFC 1071) rather than re-read from the packet: this runs per packet.
    const std::uint32_t src = load_be32(sa.outer_src), dst = load_be32(sa.outer_dst);
    const std::uint16_t id = w.next_ipv4_id();
    const std::uint16_t flags = outer_df(sa, p.df) ? 0x4000 : 0;
    const std::uint16_t ttl_proto = static_cast<std::uint16_t>(sa.outer_ttl << 8 | carrier);
    std::uint32_t sum = (0x4500u | tc) + total + id + flags + ttl_proto + (src >> 16) + (src & 0xffff) + (dst >> 16) +
                        (dst & 0xffff);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    store_be32(ip, 0x45000000u | std::uint32_t{tc} << 16 | total);
    store_be32(ip + 4, std::uint32_t{id} << 16 | flags);
    store_be32(ip + 8, std::uint32_t{ttl_proto} << 16 | static_cast<std::uint16_t>(~sum));
    store_be32(ip + 12, src);
    store_be32(ip + 16, dst);
  }
}

// Transport mode: the packet's own header (moved to the front) now names
// `carrier` and covers `total` bytes.
template <bool kOuterV6>
[[gnu::always_inline]] inline void rewrite_transport_header(std::uint8_t* ip, std::uint32_t total, std::uint8_t carrier, const ClearPacket& p) {
  ip[p.proto_at] = carrier;
  if constexpr (kOuterV6) {
    store_be16(ip + 4, static_cast<std::uint16_t>(total - kIpv6HeaderLen));
  } else {
    store_be16(ip + 2, static_cast<std::uint16_t>(total));
    set_ipv4_checksum(ip);
  }
}

// The outer packet's length limit: 65535 bytes of IPv4 total length or of
// IPv6 payload length.
template <bool kOuterV6>
bool fits_ip_length(std::uint32_t total) {
  return (kOuterV6 ? total - kIpv6HeaderLen : total) <= 0xffff;
}

}  // namespace corridor::dataplane::ipsec
