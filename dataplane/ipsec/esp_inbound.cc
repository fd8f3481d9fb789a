// ESP inbound: check the sequence number, verify and decrypt, check the
// trailer, decapsulate (RFC 4303 §3.4).
#include <rte_mbuf.h>

#include <array>
#include <cstring>

#include "dataplane/ipsec/esp.h"
#include "dataplane/ipsec/ip.h"
#include "dataplane/ipsec/worker.h"

namespace corridor::dataplane::ipsec {
namespace {

// Finds the ESP header behind the outer IP (and UDP) header and checks the
// lengths around it. The mbuf is trimmed to the IP total length (link-layer
// padding removed).
template <bool kOuterV6, bool kUdp>
bool locate_esp(const RuntimeSa& sa, rte_mbuf* m, PacketScratch& s, Drop& why) {
  auto* ip = rte_pktmbuf_mtod(m, std::uint8_t*);
  const std::uint32_t avail = m->data_len;
  std::uint32_t len = 0, l4 = 0;
  std::uint8_t proto = 0;
  if constexpr (kOuterV6) {
    if (avail < kIpv6HeaderLen) return why = Drop::too_short, false;
    if ((ip[0] >> 4) != 6) return why = Drop::bad_ip_header, false;
    len = kIpv6HeaderLen + load_be16(ip + 4);
    if (len > avail) return why = Drop::bad_ip_header, false;
    std::uint32_t proto_at = 0;
    if (!ipv6_skip_extensions(ip, len, l4, proto, proto_at)) return why = Drop::bad_ip_header, false;
    if (proto == kIpv6Fragment) return why = Drop::fragment, false;
    s.next_header_at = static_cast<std::uint16_t>(proto_at);
  } else {
    if (avail < kIpv4HeaderLen) return why = Drop::too_short, false;
    l4 = (ip[0] & 0x0f) * 4u;
    len = load_be16(ip + 2);
    if ((ip[0] >> 4) != 4 || l4 < kIpv4HeaderLen || len < l4 || len > avail) return why = Drop::bad_ip_header, false;
    if ((load_be16(ip + 6) & 0x3fff) != 0) return why = Drop::fragment, false;
    proto = ip[9];
    s.next_header_at = 9;
  }
  if (len < avail) rte_pktmbuf_trim(m, static_cast<std::uint16_t>(avail - len));
  if ((proto == kProtoUdp) != kUdp || (proto != kProtoUdp && proto != kProtoEsp)) return why = Drop::encap_mismatch, false;
  s.l4_offset = static_cast<std::uint16_t>(l4);
  std::uint32_t esp = l4;
  if constexpr (kUdp) {
    if (len < l4 + kUdpHeaderLen) return why = Drop::too_short, false;
    esp += kUdpHeaderLen;
  }
  // ESP header, IV, at least the two trailer bytes, ICV.
  const std::uint32_t overhead = kEspHeaderLen + sa.iv_bytes + sa.icv_bytes;
  if (len < esp + overhead + 2) return why = Drop::too_short, false;
  s.esp = ip + esp;
  s.payload_len = len - esp - overhead;
  // RFC 4303 §2.4: the payload is a whole number of cipher blocks and 4-byte words.
  if (s.payload_len % sa.block_bytes != 0) return why = Drop::bad_length, false;
  s.outer_ecn = traffic_class(ip) & 0x03;
  return true;
}

template <bool kOuterV6, bool kUdp, IcvKind kIcv>
bool prepare(RuntimeSa& sa, rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) {
  if (m->nb_segs != 1) return why = Drop::multi_segment, false;
  if (!locate_esp<kOuterV6, kUdp>(sa, m, s, why)) return false;
  std::uint8_t* esp = s.esp;
  if (load_be32(esp) != sa.spi) return why = Drop::no_sa, false;

  const SaCounters& c = *sa.counters;
  if (c.bytes >= sa.bytes_hard || c.packets >= sa.packets_hard) {
    sa.raise(kHardLifetime);
    return why = Drop::sa_expired, false;
  }
  // RFC 4303 §3.4.3: the replay check comes before the ICV, the window
  // update after it.
  const auto r = sa.replay->check(load_be32(esp + 4));
  switch (r.verdict) {
    case ReplayWindow::Verdict::ok: break;
    case ReplayWindow::Verdict::replayed: return why = Drop::replay, false;
    case ReplayWindow::Verdict::too_old:
    case ReplayWindow::Verdict::zero: return why = Drop::replay_too_old, false;
  }
  s.seq = r.seq;
  const auto seq_hi = ReplayWindow::seq_hi(r.seq);
  const bool esn = sa.has(kEsn);

  std::uint8_t* payload = esp + kEspHeaderLen + sa.iv_bytes;
  std::uint8_t* icv = payload + s.payload_len;
  s.restore_gmac_esn = false;
  op.session = sa.session;
  op.iv = esp + kEspHeaderLen;
  op.icv = icv;
  if constexpr (kIcv == IcvKind::aead) {
    op.payload = payload;
    op.payload_len = s.payload_len;
    op.aad_len = esn ? 12 : 8;
    if (esn) {
      std::memcpy(s.aad, esp, 4);
      store_be32(s.aad + 4, seq_hi);
      std::memcpy(s.aad + 8, esp + 4, 4);
      op.aad = s.aad;
    } else {
      op.aad = esp;
    }
  } else if constexpr (kIcv == IcvKind::hmac) {
    op.payload = payload;
    op.payload_len = s.payload_len;
    op.auth = esp;
    op.auth_len = kEspHeaderLen + sa.iv_bytes + s.payload_len;
    if (esn) {
      // RFC 4303 §3.3.2.1: seq hi is authenticated after the payload. It
      // goes where the ICV lies; the received ICV is kept aside.
      std::memcpy(s.icv, icv, sa.icv_bytes);
      store_be32(icv, seq_hi);
      op.auth_len += 4;
      op.icv = s.icv;
    }
  } else {
    op.payload = payload;
    op.payload_len = 0;
    op.auth = esp;
    op.auth_len = kEspHeaderLen + sa.iv_bytes + s.payload_len;
    if (esn) {  // RFC 4543 §3.3: SPI | seq hi | seq lo | IV | payload
      std::memcpy(s.saved, esp - 4, 4);
      std::memcpy(esp - 4, esp, 4);
      store_be32(esp, seq_hi);
      op.auth = esp - 4;
      op.auth_len += 4;
      s.restore_gmac_esn = true;
    }
  }
  return true;
}

// The inner IPv4/IPv6 packet of a tunnel-mode SA: its length (which may be
// shorter than the data when the peer added TFC padding, RFC 4303 §2.7).
bool inner_length(const std::uint8_t* inner, std::uint32_t data_len, std::uint8_t next_header, std::uint32_t& len) {
  if (next_header == kProtoIpv4) {
    if (data_len < kIpv4HeaderLen || (inner[0] >> 4) != 4) return false;
    len = load_be16(inner + 2);
    return (inner[0] & 0x0f) >= 5 && len >= (inner[0] & 0x0f) * 4u && len <= data_len;
  }
  if (data_len < kIpv6HeaderLen || (inner[0] >> 4) != 6) return false;
  len = kIpv6HeaderLen + load_be16(inner + 4);
  return len <= data_len;
}

template <bool kTunnel, bool kOuterV6, bool kUdp>
bool finish(RuntimeSa& sa, rte_mbuf* m, const crypto::Op& op, PacketScratch& s, Drop& why) {
  std::uint8_t* esp = s.esp;
  if (s.restore_gmac_esn) {
    std::memcpy(esp, esp - 4, 4);
    std::memcpy(esp - 4, s.saved, 4);
  }
  switch (op.status) {
    case crypto::OpStatus::ok: break;
    case crypto::OpStatus::icv_mismatch: return why = Drop::icv_failure, false;
    case crypto::OpStatus::failed: return why = Drop::crypto_failed, false;
  }
  // Only now, with the ICV verified, does the window move. A second copy
  // in the same burst passed check() too and is caught here.
  if (sa.replay->update(s.seq) != ReplayWindow::Verdict::ok) return why = Drop::replay, false;

  std::uint8_t* payload = esp + kEspHeaderLen + sa.iv_bytes;
  const std::uint8_t next_header = payload[s.payload_len - 1];
  const std::uint8_t pad = payload[s.payload_len - 2];
  if (pad + 2u > s.payload_len) return why = Drop::bad_padding, false;
  const std::uint32_t data_len = s.payload_len - 2 - pad;
  // RFC 4303 §2.4: with the default rule the padding is 1, 2, 3... and the
  // receiver SHOULD check it (TFC padding, §2.7, comes before it and is
  // removed by the inner packet's length instead).
  for (std::uint32_t i = 0; i < pad; ++i) {
    if (payload[data_len + i] != i + 1) return why = Drop::bad_padding, false;
  }
  if (next_header == kProtoNoNext) return why = Drop::dummy_packet, false;

  auto* ip = rte_pktmbuf_mtod(m, std::uint8_t*);
  std::uint32_t out_len = 0;
  if constexpr (kTunnel) {
    if (next_header != kProtoIpv4 && next_header != kProtoIpv6) return why = Drop::bad_next_header, false;
    if (!inner_length(payload, data_len, next_header, out_len)) return why = Drop::bad_inner_packet, false;
    if (sa.has(kEcnPropagate)) {
      const std::uint8_t tc = traffic_class(payload);
      const int ecn = ecn_decapsulate(tc & 0x03, s.outer_ecn);
      if (ecn < 0) return why = Drop::ecn_ce_not_ect, false;
      if (ecn != (tc & 0x03)) set_traffic_class(payload, static_cast<std::uint8_t>((tc & 0xfc) | ecn));
    }
    rte_pktmbuf_adj(m, static_cast<std::uint16_t>(payload - ip));
  } else {
    // Transport: the IP header (with any extension headers) closes up over
    // the removed ESP/UDP header and names the upper-layer protocol again.
    const std::uint32_t keep = s.l4_offset;
    const auto shift = static_cast<std::uint32_t>(payload - ip) - keep;
    ip[s.next_header_at] = next_header;
    out_len = keep + data_len;
    if constexpr (kOuterV6) {
      store_be16(ip + 4, static_cast<std::uint16_t>(out_len - kIpv6HeaderLen));
    } else {
      store_be16(ip + 2, static_cast<std::uint16_t>(out_len));
      set_ipv4_checksum(ip);
    }
    std::memmove(ip + shift, ip, keep);
    rte_pktmbuf_adj(m, static_cast<std::uint16_t>(shift));
  }
  rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - out_len));

  // RFC 4301 §5.2: a packet that decrypts under this SA must also be one
  // the SA was negotiated for, or a peer could inject traffic for another
  // tunnel's networks through its own SA.
  if (sa.selectors != nullptr) {
    tables::PacketKey key;
    if (tables::make_key(rte_pktmbuf_mtod(m, const std::uint8_t*), out_len, key) != tables::KeyError::ok ||
        !tables::selectors_match(*sa.selectors, key)) {
      return why = Drop::policy_mismatch, false;
    }
  }

  SaCounters& c = *sa.counters;
  ++c.packets;
  c.bytes += out_len;
  if (c.bytes >= sa.bytes_soft || c.packets >= sa.packets_soft) sa.raise(kSoftLifetime);
  return true;
}

template <bool kTunnel, bool kOuterV6, bool kUdp, IcvKind kIcv>
std::uint16_t inbound_slice(Worker& w, RuntimeSa& sa, rte_mbuf** pkts, std::uint16_t n) {
  std::array<std::uint8_t, kMaxBurst> op_of{};
  std::array<Drop, kMaxBurst> why{};
  std::uint16_t nops = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    if (prepare<kOuterV6, kUdp, kIcv>(sa, pkts[i], w.ops[nops], w.scratch[nops], why[i])) {
      op_of[i] = static_cast<std::uint8_t>(nops++);
    } else {
      op_of[i] = kMaxBurst;
    }
  }
  w.backend().decrypt({w.ops.data(), nops});

  std::array<rte_mbuf*, kMaxBurst> failed;
  std::uint16_t good = 0, bad = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const std::uint8_t k = op_of[i];
    if (k != kMaxBurst && finish<kTunnel, kOuterV6, kUdp>(sa, m, w.ops[k], w.scratch[k], why[i])) {
      pkts[good++] = m;
      continue;
    }
    sa.counters->drop(why[i]);
    failed[bad++] = m;
  }
  std::copy_n(failed.begin(), bad, pkts + good);
  return good;
}

template <bool kTunnel, bool kOuterV6, bool kUdp, IcvKind kIcv>
std::uint16_t esp_inbound(Worker& w, RuntimeSa& sa, rte_mbuf** pkts, std::uint16_t n) {
  return in_slices(pkts, n, [&](rte_mbuf** slice, std::uint16_t len) {
    return inbound_slice<kTunnel, kOuterV6, kUdp, kIcv>(w, sa, slice, len);
  });
}

template <bool kTunnel, bool kOuterV6, bool kUdp>
BurstFn pick_icv(const crypto::Algorithm& a) {
  switch (icv_kind(a)) {
    case IcvKind::aead: return esp_inbound<kTunnel, kOuterV6, kUdp, IcvKind::aead>;
    case IcvKind::gmac: return esp_inbound<kTunnel, kOuterV6, kUdp, IcvKind::gmac>;
    case IcvKind::hmac: break;
  }
  return esp_inbound<kTunnel, kOuterV6, kUdp, IcvKind::hmac>;
}

template <bool kTunnel, bool kOuterV6>
BurstFn pick_udp(bool udp, const crypto::Algorithm& a) {
  return udp ? pick_icv<kTunnel, kOuterV6, true>(a) : pick_icv<kTunnel, kOuterV6, false>(a);
}

}  // namespace

BurstFn esp_inbound_fn(bool tunnel, bool outer_v6, bool udp_encap, const crypto::Algorithm& a) {
  if (tunnel) return outer_v6 ? pick_udp<true, true>(udp_encap, a) : pick_udp<true, false>(udp_encap, a);
  return outer_v6 ? pick_udp<false, true>(udp_encap, a) : pick_udp<false, false>(udp_encap, a);
}

}  // namespace corridor::dataplane::ipsec
