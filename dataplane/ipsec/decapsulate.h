// What ESP and AH inbound share: the checks before the ICV (lifetime,
// anti-replay), and after it the inner packet of tunnel mode with RFC 6040
// ECN, the closed-up header of transport mode, the inbound policy check
// (RFC 4301 §5.2) and the accounting.
#pragma once

#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/ipsec/ip.h"
#include "dataplane/ipsec/sa.h"
#include "dataplane/tables/spd_key.h"

namespace corridor::dataplane::ipsec {

// The outer IP header of an arriving ESP or AH packet.
struct OuterHeader {
  std::uint32_t len = 0;            // IP total length (the mbuf is trimmed to it)
  std::uint32_t l4 = 0;             // where the ESP/AH/UDP header starts
  std::uint8_t proto = 0;           // its protocol number
  std::uint16_t next_header_at = 0;  // offset of the byte naming it (IPv4 protocol, IPv6 next header)
};

// Parses the outer header (IPv6: past Hop-by-Hop, Routing and Destination
// Options) and trims link-layer padding. Fragments are refused: reassembly
// comes before the engine.
template <bool kOuterV6>
[[gnu::always_inline]] inline bool parse_outer(rte_mbuf* m, OuterHeader& o, Drop& why) {
  const auto* ip = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const std::uint32_t avail = m->data_len;
  if constexpr (kOuterV6) {
    if (avail < kIpv6HeaderLen) return why = Drop::too_short, false;
    if ((ip[0] >> 4) != 6) return why = Drop::bad_ip_header, false;
    o.len = kIpv6HeaderLen + load_be16(ip + 4);
    if (o.len > avail) return why = Drop::bad_ip_header, false;
    std::uint32_t proto_at = 0;
    if (!ipv6_skip_extensions(ip, o.len, o.l4, o.proto, proto_at)) return why = Drop::bad_ip_header, false;
    if (o.proto == kIpv6Fragment) return why = Drop::fragment, false;
    o.next_header_at = static_cast<std::uint16_t>(proto_at);
  } else {
    if (avail < kIpv4HeaderLen) return why = Drop::too_short, false;
    o.l4 = (ip[0] & 0x0f) * 4u;
    o.len = load_be16(ip + 2);
    if ((ip[0] >> 4) != 4 || o.l4 < kIpv4HeaderLen || o.len < o.l4 || o.len > avail) return why = Drop::bad_ip_header, false;
    if ((load_be16(ip + 6) & 0x3fff) != 0) return why = Drop::fragment, false;
    o.proto = ip[9];
    o.next_header_at = 9;
  }
  if (o.len < avail) rte_pktmbuf_trim(m, static_cast<std::uint16_t>(avail - o.len));
  return true;
}

// The SA may still receive (hard lifetime not reached).
[[gnu::always_inline]] inline bool may_receive(RuntimeSa& sa, Drop& why) {
  const SaCounters& c = *sa.counters;
  if (c.bytes >= sa.bytes_hard || c.packets >= sa.packets_hard) {
    sa.raise(kHardLifetime);
    return why = Drop::sa_expired, false;
  }
  return true;
}

// RFC 4303 §3.4.3 / RFC 4302 §3.4.3: the replay check comes before the
// ICV (the window update after it). Sets `seq` to the full sequence number.
[[gnu::always_inline]] inline bool replay_check(const RuntimeSa& sa, std::uint32_t seq_lo, std::uint64_t& seq, Drop& why) {
  const auto r = sa.replay->check(seq_lo);
  switch (r.verdict) {
    case ReplayWindow::Verdict::ok: break;
    case ReplayWindow::Verdict::replayed: return why = Drop::replay, false;
    case ReplayWindow::Verdict::too_old:
    case ReplayWindow::Verdict::zero: return why = Drop::replay_too_old, false;
  }
  seq = r.seq;
  return true;
}

// After the ICV verified: the window moves. A second copy in the same
// burst passed replay_check() too and is caught here.
[[gnu::always_inline]] inline bool replay_update(const RuntimeSa& sa, std::uint64_t seq, Drop& why) {
  if (sa.replay->update(seq) != ReplayWindow::Verdict::ok) return why = Drop::replay, false;
  return true;
}

// The inner IPv4/IPv6 packet of a tunnel-mode SA: its length (which may be
// shorter than the data when the peer added TFC padding, RFC 4303 §2.7).
[[gnu::always_inline]] inline bool inner_length(const std::uint8_t* inner, std::uint32_t data_len, std::uint8_t next_header,
                         std::uint32_t& len) {
  if (next_header == kProtoIpv4) {
    if (data_len < kIpv4HeaderLen || (inner[0] >> 4) != 4) return false;
    len = load_be16(inner + 2);
    return (inner[0] & 0x0f) >= 5 && len >= (inner[0] & 0x0f) * 4u && len <= data_len;
  }
  if (data_len < kIpv6HeaderLen || (inner[0] >> 4) != 6) return false;
  len = kIpv6HeaderLen + load_be16(inner + 4);
  return len <= data_len;
}

// Tunnel mode: checks the inner packet that starts at `inner` (`data_len`
// bytes follow it in the mbuf) and makes it the mbuf's packet, with the
// outer ECN combined into it (RFC 6040 §4.2) when the SA propagates ECN.
[[gnu::always_inline]] inline bool open_tunnel(const RuntimeSa& sa, rte_mbuf* m, std::uint8_t* inner, std::uint32_t data_len,
                        std::uint8_t next_header, std::uint8_t outer_ecn, std::uint32_t& out_len, Drop& why) {
  if (next_header != kProtoIpv4 && next_header != kProtoIpv6) return why = Drop::bad_next_header, false;
  if (!inner_length(inner, data_len, next_header, out_len)) return why = Drop::bad_inner_packet, false;
  if (sa.has(kEcnPropagate)) {
    const std::uint8_t tc = traffic_class(inner);
    const int ecn = ecn_decapsulate(tc & 0x03, outer_ecn);
    if (ecn < 0) return why = Drop::ecn_ce_not_ect, false;
    if (ecn != (tc & 0x03)) set_traffic_class(inner, static_cast<std::uint8_t>((tc & 0xfc) | ecn));
  }
  rte_pktmbuf_adj(m, static_cast<std::uint16_t>(inner - rte_pktmbuf_mtod(m, std::uint8_t*)));
  rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - out_len));
  return true;
}

// Transport mode: the IP header (with any extension headers; `keep` bytes,
// taken from `header`, which is the packet's own front or a saved copy of
// it) closes up over the removed ESP/AH (and UDP) header, `shift` bytes,
// and names the upper-layer protocol `next_header` again at offset
// `next_header_at`. `data_len` bytes of upper layer follow.
template <bool kOuterV6>
[[gnu::always_inline]] inline std::uint32_t close_transport(rte_mbuf* m, const std::uint8_t* header, std::uint32_t keep, std::uint32_t shift,
                              std::uint32_t next_header_at, std::uint8_t next_header, std::uint32_t data_len) {
  std::uint8_t* ip = rte_pktmbuf_mtod(m, std::uint8_t*) + shift;
  std::memmove(ip, header, keep);
  const std::uint32_t out_len = keep + data_len;
  ip[next_header_at] = next_header;
  if constexpr (kOuterV6) {
    store_be16(ip + 4, static_cast<std::uint16_t>(out_len - kIpv6HeaderLen));
  } else {
    store_be16(ip + 2, static_cast<std::uint16_t>(out_len));
    set_ipv4_checksum(ip);
  }
  rte_pktmbuf_adj(m, static_cast<std::uint16_t>(shift));
  rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - out_len));
  return out_len;
}

// The last step of every inbound packet. RFC 4301 §5.2: a packet that
// verifies under this SA must also be one the SA was negotiated for, or a
// peer could inject traffic for another tunnel's networks through its own
// SA. Then the packet counts against the SA's lifetimes.
[[gnu::always_inline]] inline bool accept_inner(RuntimeSa& sa, const rte_mbuf* m, std::uint32_t len, Drop& why) {
  if (const tables::SelectorSet* selectors = sa.selector_set()) {
    tables::PacketKey key;
    if (tables::make_key(rte_pktmbuf_mtod(m, const std::uint8_t*), len, key) != tables::KeyError::ok ||
        !tables::selectors_match(*selectors, key)) {
      return why = Drop::policy_mismatch, false;
    }
  }
  SaCounters& c = *sa.counters;
  ++c.packets;
  c.bytes += len;
  if (c.bytes >= sa.bytes_soft || c.packets >= sa.packets_soft) sa.raise(kSoftLifetime);
  return true;
}

}  // namespace corridor::dataplane::ipsec
