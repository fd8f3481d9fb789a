// ESP outbound: encapsulate, pad, number, encrypt (RFC 4303 §3.1, §3.3).
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <array>
#include <cstring>

#include "dataplane/ipsec/esp.h"
#include "dataplane/ipsec/ip.h"
#include "dataplane/ipsec/worker.h"

namespace corridor::dataplane::ipsec {
namespace {

using channel::DfMode;

// Parsed facts of a clear packet, read before the headers move.
struct ClearPacket {
  std::uint32_t len = 0;       // IP total length (the mbuf is trimmed to it)
  std::uint32_t keep = 0;      // transport: bytes of IP header (+ extensions) kept in front of ESP
  std::uint32_t proto_at = 0;  // transport: offset of the byte that will name ESP/UDP
  std::uint8_t next_header = 0;
  std::uint8_t tc = 0;  // traffic class (DSCP | ECN)
  bool df = false;      // IPv4 DF bit (IPv6 packets are never fragmented en route)
};

// Validates the clear IP packet at the start of `m` and trims link-layer
// padding after it. Tunnel mode protects any IPv4/IPv6 packet; transport mode
// protects the packet's own payload, so its family must be the SA's and it
// must not be a fragment (RFC 4303 §3.3: ESP applies to whole datagrams).
template <bool kTunnel, bool kOuterV6>
bool parse_clear(rte_mbuf* m, ClearPacket& p, Drop& why) {
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

// RFC 4301 §5.1.2.1 / RFC 6040 §4.1: DSCP copied unless configured not to,
// ECN copied in normal mode.
std::uint8_t outer_traffic_class(const RuntimeSa& sa, std::uint8_t inner_tc) {
  std::uint8_t tc = 0;
  if (sa.has(kDscpCopy)) tc |= inner_tc & 0xfc;
  if (sa.has(kEcnPropagate)) tc |= inner_tc & 0x03;
  return tc;
}

bool outer_df(const RuntimeSa& sa, bool inner_df) {
  switch (sa.df) {
    case DfMode::set: return true;
    case DfMode::clear: return false;
    case DfMode::copy: break;
  }
  return inner_df;
}

template <bool kTunnel, bool kOuterV6, bool kUdp, IcvKind kIcv>
bool prepare(Worker& w, RuntimeSa& sa, rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) {
  if (m->nb_segs != 1) return why = Drop::multi_segment, false;
  ClearPacket p;
  if (!parse_clear<kTunnel, kOuterV6>(m, p, why)) return false;

  const SaCounters& c = *sa.counters;
  if (c.bytes >= sa.bytes_hard || c.packets >= sa.packets_hard) {
    sa.raise(kHardLifetime);
    return why = Drop::sa_expired, false;
  }
  if (sa.seq >= sa.seq_limit()) {  // RFC 4303 §3.3.3: never wrap; the SA must be rekeyed
    sa.raise(kSeqOverflow);
    return why = Drop::seq_overflow, false;
  }

  // Sizes. The payload (data, padding, pad length, next header) is aligned
  // to the cipher block and to 4 bytes (RFC 4303 §2.4); padding is the
  // default monotonic 1, 2, 3... (§2.4), with no TFC padding (§2.7).
  const std::uint32_t data_len = kTunnel ? p.len : p.len - p.keep;
  const std::uint32_t pad = (sa.block_bytes - (data_len + 2) % sa.block_bytes) % sa.block_bytes;
  const std::uint32_t payload_len = data_len + pad + 2;
  const std::uint32_t trailer_len = pad + 2 + sa.icv_bytes;
  const std::uint32_t esp_len = kEspHeaderLen + sa.iv_bytes + payload_len + sa.icv_bytes;
  const std::uint32_t outer_ip_len = kTunnel ? (kOuterV6 ? kIpv6HeaderLen : kIpv4HeaderLen) : p.keep;
  const std::uint32_t insert_len = (kTunnel ? outer_ip_len : 0) + (kUdp ? kUdpHeaderLen : 0) + kEspHeaderLen + sa.iv_bytes;
  const std::uint32_t total = outer_ip_len + (kUdp ? kUdpHeaderLen : 0) + esp_len;
  if ((kOuterV6 ? total - kIpv6HeaderLen : total) > 0xffff) return why = Drop::oversize, false;
  if (rte_pktmbuf_tailroom(m) < trailer_len || rte_pktmbuf_headroom(m) < insert_len) {
    return why = Drop::no_room, false;
  }

  auto* trailer = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(trailer_len)));
  for (std::uint32_t i = 0; i < pad; ++i) trailer[i] = static_cast<std::uint8_t>(i + 1);
  trailer[pad] = static_cast<std::uint8_t>(pad);
  trailer[pad + 1] = p.next_header;

  auto* start = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, static_cast<std::uint16_t>(insert_len)));
  std::uint8_t* ip = start;
  if constexpr (!kTunnel) std::memmove(ip, start + insert_len, p.keep);  // the IP header moves to the front
  std::uint8_t* l4 = ip + outer_ip_len;
  std::uint8_t* esp = kUdp ? l4 + kUdpHeaderLen : l4;
  const std::uint8_t carrier = kUdp ? kProtoUdp : kProtoEsp;

  if constexpr (kTunnel) {
    const std::uint8_t tc = outer_traffic_class(sa, p.tc);
    if constexpr (kOuterV6) {
      store_be32(ip, 6u << 28 | std::uint32_t{tc} << 20);  // flow label 0
      store_be16(ip + 4, static_cast<std::uint16_t>(total - kIpv6HeaderLen));
      ip[6] = carrier;
      ip[7] = sa.outer_ttl;
      std::memcpy(ip + 8, sa.outer_src, 16);
      std::memcpy(ip + 24, sa.outer_dst, 16);
    } else {
      ip[0] = 0x45;
      ip[1] = tc;
      store_be16(ip + 2, static_cast<std::uint16_t>(total));
      store_be16(ip + 4, w.next_ipv4_id());
      store_be16(ip + 6, outer_df(sa, p.df) ? 0x4000 : 0);
      ip[8] = sa.outer_ttl;
      ip[9] = carrier;
      std::memcpy(ip + 12, sa.outer_src, 4);
      std::memcpy(ip + 16, sa.outer_dst, 4);
      set_ipv4_checksum(ip);
    }
  } else {
    ip[p.proto_at] = carrier;
    if constexpr (kOuterV6) {
      store_be16(ip + 4, static_cast<std::uint16_t>(total - kIpv6HeaderLen));
    } else {
      store_be16(ip + 2, static_cast<std::uint16_t>(total));
      set_ipv4_checksum(ip);
    }
  }
  if constexpr (kUdp) {
    // RFC 3948 §2.1: checksum 0 over IPv4. Over IPv6 a zero UDP checksum is
    // not allowed (RFC 8200 §8.1), so it is computed after encryption.
    store_be16(l4, sa.encap_sport);
    store_be16(l4 + 2, sa.encap_dport);
    store_be16(l4 + 4, static_cast<std::uint16_t>(kUdpHeaderLen + esp_len));
    store_be16(l4 + 6, 0);
  }

  const std::uint64_t seq = ++sa.seq;
  store_be32(esp, sa.spi);
  store_be32(esp + 4, static_cast<std::uint32_t>(seq));
  const auto seq_hi = static_cast<std::uint32_t>(seq >> 32);
  const bool esn = sa.has(kEsn);

  std::uint8_t* payload = esp + kEspHeaderLen + sa.iv_bytes;
  s.seq = seq;
  s.esp = esp;
  s.inner_len = p.len;
  s.restore_gmac_esn = false;
  op.session = sa.session;
  op.iv = esp + kEspHeaderLen;
  op.iv_seed = seq;
  op.icv = payload + payload_len;
  if constexpr (kIcv == IcvKind::aead) {
    op.payload = payload;
    op.payload_len = payload_len;
    op.aad_len = esn ? 12 : 8;
    if (esn) {
      store_be32(s.aad, sa.spi);
      store_be32(s.aad + 4, seq_hi);
      store_be32(s.aad + 8, static_cast<std::uint32_t>(seq));
      op.aad = s.aad;
    } else {
      op.aad = esp;  // SPI | sequence number, as carried
    }
  } else if constexpr (kIcv == IcvKind::hmac) {
    op.payload = payload;
    op.payload_len = payload_len;
    op.auth = esp;
    op.auth_len = kEspHeaderLen + sa.iv_bytes + payload_len;
    if (esn) {  // RFC 4303 §3.3.2.1: seq hi follows the payload, where the ICV goes
      store_be32(op.icv, seq_hi);
      op.auth_len += 4;
    }
  } else {
    op.payload = payload;
    op.payload_len = 0;
    op.auth = esp;
    op.auth_len = kEspHeaderLen + sa.iv_bytes + payload_len;
    if (esn) {
      // RFC 4543 §3.3 with ESN: SPI | seq hi | seq lo | IV | payload. Borrow
      // the 4 bytes in front of the ESP header to make it contiguous.
      std::memcpy(s.saved, esp - 4, 4);
      store_be32(esp - 4, sa.spi);
      store_be32(esp, seq_hi);
      op.auth = esp - 4;
      op.auth_len += 4;
      s.restore_gmac_esn = true;
    }
  }
  return true;
}

// UDP checksum over IPv6 (RFC 8200 §8.1), with the UDP length from the UDP
// header: in transport mode extension headers may sit between the two, so
// the IPv6 payload length is not the UDP length. rte_raw_cksum sums 16-bit
// words as they lie in memory, so the result is stored as it comes, without
// a byte-order conversion.
void set_udp6_checksum(const std::uint8_t* ip, std::uint8_t* udp) {
  const std::uint16_t udp_len = load_be16(udp + 4);
  std::uint8_t pseudo[8] = {0, 0, static_cast<std::uint8_t>(udp_len >> 8), static_cast<std::uint8_t>(udp_len), 0, 0, 0,
                            kProtoUdp};
  std::uint32_t sum = rte_raw_cksum(ip + 8, 32);  // source and destination addresses
  sum += rte_raw_cksum(pseudo, sizeof pseudo);
  sum += rte_raw_cksum(udp, udp_len);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  auto folded = static_cast<std::uint16_t>(~sum);
  if (folded == 0) folded = 0xffff;  // 0 means "no checksum"
  std::memcpy(udp + 6, &folded, 2);
}

template <bool kOuterV6, bool kUdp>
void finish(RuntimeSa& sa, rte_mbuf* m, PacketScratch& s) {
  if (s.restore_gmac_esn) {
    store_be32(s.esp, sa.spi);
    std::memcpy(s.esp - 4, s.saved, 4);
  }
  if constexpr (kOuterV6 && kUdp) {
    std::uint8_t* udp = s.esp - kUdpHeaderLen;
    set_udp6_checksum(rte_pktmbuf_mtod(m, const std::uint8_t*), udp);
  }
  SaCounters& c = *sa.counters;
  ++c.packets;
  c.bytes += s.inner_len;
  if (c.bytes >= sa.bytes_soft || c.packets >= sa.packets_soft) sa.raise(kSoftLifetime);
}

template <bool kTunnel, bool kOuterV6, bool kUdp, IcvKind kIcv>
std::uint16_t outbound_slice(Worker& w, RuntimeSa& sa, rte_mbuf** pkts, std::uint16_t n) {
  std::array<std::uint8_t, kMaxBurst> op_of{};  // packet -> op index; kMaxBurst: dropped
  std::array<Drop, kMaxBurst> why{};
  std::uint16_t nops = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    crypto::Op& op = w.ops[nops];
    if (prepare<kTunnel, kOuterV6, kUdp, kIcv>(w, sa, pkts[i], op, w.scratch[nops], why[i])) {
      op_of[i] = static_cast<std::uint8_t>(nops++);
    } else {
      op_of[i] = kMaxBurst;
    }
  }
  w.backend().encrypt({w.ops.data(), nops});

  std::array<rte_mbuf*, kMaxBurst> failed;
  std::uint16_t good = 0, bad = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (op_of[i] != kMaxBurst) {
      PacketScratch& s = w.scratch[op_of[i]];
      if (w.ops[op_of[i]].status == crypto::OpStatus::ok) {
        finish<kOuterV6, kUdp>(sa, m, s);
        pkts[good++] = m;
        continue;
      }
      why[i] = Drop::crypto_failed;
    }
    sa.counters->drop(why[i]);
    failed[bad++] = m;
  }
  std::copy_n(failed.begin(), bad, pkts + good);
  return good;
}

template <bool kTunnel, bool kOuterV6, bool kUdp, IcvKind kIcv>
std::uint16_t esp_outbound(Worker& w, RuntimeSa& sa, rte_mbuf** pkts, std::uint16_t n) {
  return in_slices(pkts, n, [&](rte_mbuf** slice, std::uint16_t len) {
    return outbound_slice<kTunnel, kOuterV6, kUdp, kIcv>(w, sa, slice, len);
  });
}

template <bool kTunnel, bool kOuterV6, bool kUdp>
BurstFn pick_icv(const crypto::Algorithm& a) {
  switch (icv_kind(a)) {
    case IcvKind::aead: return esp_outbound<kTunnel, kOuterV6, kUdp, IcvKind::aead>;
    case IcvKind::gmac: return esp_outbound<kTunnel, kOuterV6, kUdp, IcvKind::gmac>;
    case IcvKind::hmac: break;
  }
  return esp_outbound<kTunnel, kOuterV6, kUdp, IcvKind::hmac>;
}

template <bool kTunnel, bool kOuterV6>
BurstFn pick_udp(bool udp, const crypto::Algorithm& a) {
  return udp ? pick_icv<kTunnel, kOuterV6, true>(a) : pick_icv<kTunnel, kOuterV6, false>(a);
}

}  // namespace

BurstFn esp_outbound_fn(bool tunnel, bool outer_v6, bool udp_encap, const crypto::Algorithm& a) {
  if (tunnel) return outer_v6 ? pick_udp<true, true>(udp_encap, a) : pick_udp<true, false>(udp_encap, a);
  return outer_v6 ? pick_udp<false, true>(udp_encap, a) : pick_udp<false, false>(udp_encap, a);
}

}  // namespace corridor::dataplane::ipsec
