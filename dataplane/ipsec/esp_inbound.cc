// ESP inbound: check the sequence number, verify and decrypt, check the
// trailer, decapsulate (RFC 4303 §3.4).
#include <rte_mbuf.h>

#include <array>
#include <cstring>

#include "dataplane/ipsec/decapsulate.h"
#include "dataplane/ipsec/dispatch.h"
#include "dataplane/ipsec/esp.h"
#include "dataplane/ipsec/worker.h"

namespace corridor::dataplane::ipsec {
namespace {

// Finds the ESP header behind the outer IP (and UDP) header and checks the
// lengths around it. The mbuf is trimmed to the IP total length (link-layer
// padding removed).
template <bool kOuterV6, bool kUdp>
bool locate_esp(const RuntimeSa& sa, rte_mbuf* m, PacketScratch& s, Drop& why) {
  OuterHeader o;
  if (!parse_outer<kOuterV6>(m, o, why)) return false;
  auto* ip = rte_pktmbuf_mtod(m, std::uint8_t*);
  const std::uint32_t len = o.len, l4 = o.l4;
  const std::uint8_t proto = o.proto;
  s.next_header_at = o.next_header_at;
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
  if ((s.payload_len & (sa.block_bytes - 1u)) != 0) return why = Drop::bad_length, false;  // a power of two
  s.outer_ecn = traffic_class(ip) & 0x03;
  return true;
}

template <bool kOuterV6, bool kUdp, IcvKind kIcv>
bool prepare(RuntimeSa& sa, rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) {
  if (m->nb_segs != 1) return why = Drop::multi_segment, false;
  if (!locate_esp<kOuterV6, kUdp>(sa, m, s, why)) return false;
  std::uint8_t* esp = s.esp;
  if (load_be32(esp) != sa.spi) return why = Drop::no_sa, false;

  if (!may_receive(sa, why) || !replay_check(sa, load_be32(esp + 4), s.seq, why)) return false;
  const auto seq_hi = ReplayWindow::seq_hi(s.seq);
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

template <bool kTunnel, bool kOuterV6, bool kUdp>
bool finish(RuntimeSa& sa, rte_mbuf* m, const crypto::Op& op, PacketScratch& s, Drop& why) {
  std::uint8_t* esp = s.esp;
  if (s.restore_gmac_esn) {
    std::memcpy(esp, esp - 4, 4);
    std::memcpy(esp - 4, s.saved, 4);
  }
  if (!crypto_ok(op, why) || !replay_update(sa, s.seq, why)) return false;

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

  std::uint32_t out_len = 0;
  if constexpr (kTunnel) {
    if (!open_tunnel(sa, m, payload, data_len, next_header, s.outer_ecn, out_len, why)) return false;
  } else {
    // The IP header (with any extension headers) closes up over the removed
    // ESP (and UDP) header.
    const std::uint32_t keep = s.l4_offset;
    const auto shift = static_cast<std::uint32_t>(payload - rte_pktmbuf_mtod(m, std::uint8_t*)) - keep;
    out_len = close_transport<kOuterV6>(m, rte_pktmbuf_mtod(m, std::uint8_t*), keep, shift, s.next_header_at,
                                        next_header, data_len);
  }
  return accept_inner(sa, m, out_len, why);
}

template <bool kTunnel, bool kOuterV6, bool kUdp, IcvKind kIcv>
std::uint16_t esp_inbound(Worker& w, RuntimeSa& sa, rte_mbuf** pkts, std::uint16_t n) {
  return in_slices(pkts, n, [&](rte_mbuf** slice, std::uint16_t len) {
    return run_slice(
        w, sa, slice, len,
        [&](rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) {
          return prepare<kOuterV6, kUdp, kIcv>(sa, m, op, s, why);
        },
        [&](std::span<crypto::Op> ops) { w.backend().decrypt(ops); },
        [&](rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) {
          return finish<kTunnel, kOuterV6, kUdp>(sa, m, op, s, why);
        });
  });
}

}  // namespace

BurstFn esp_inbound_fn(bool tunnel, bool outer_v6, bool udp_encap, const crypto::Algorithm& a) {
  return with_bool(tunnel, [&](auto t) {
    return with_bool(outer_v6, [&](auto v6) {
      return with_bool(udp_encap, [&](auto udp) {
        return with_icv(icv_kind(a), [&](auto icv) { return &esp_inbound<t(), v6(), udp(), icv()>; });
      });
    });
  });
}

}  // namespace corridor::dataplane::ipsec
