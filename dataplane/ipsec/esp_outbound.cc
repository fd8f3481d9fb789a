// ESP outbound: encapsulate, pad, number, encrypt (RFC 4303 §3.1, §3.3).
#include <rte_ip.h>

#include <array>
#include <cstring>

#include "dataplane/ipsec/dispatch.h"
#include "dataplane/ipsec/encapsulate.h"
#include "dataplane/ipsec/esp.h"

namespace corridor::dataplane::ipsec {
namespace {

template <bool kTunnel, bool kOuterV6, bool kUdp, IcvKind kIcv>
bool prepare(Worker& w, RuntimeSa& sa, rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) {
  if (m->nb_segs != 1) return why = Drop::multi_segment, false;
  ClearPacket p;
  if (!parse_clear<kTunnel, kOuterV6>(m, p, why) || !may_send(sa, why)) return false;

  // Sizes. The payload (data, padding, pad length, next header) is aligned
  // to the cipher block and to 4 bytes (RFC 4303 §2.4); padding is the
  // default monotonic 1, 2, 3... (§2.4), with no TFC padding (§2.7).
  const std::uint32_t data_len = p.data_len(kTunnel);
  // block_bytes is a power of two (Sa::create checks): a mask, not a division.
  const std::uint32_t pad = (0u - (data_len + 2)) & (sa.block_bytes - 1u);
  const std::uint32_t payload_len = data_len + pad + 2;
  const std::uint32_t trailer_len = pad + 2 + sa.icv_bytes;
  const std::uint32_t esp_len = kEspHeaderLen + sa.iv_bytes + payload_len + sa.icv_bytes;
  const std::uint32_t outer_ip_len = kTunnel ? (kOuterV6 ? kIpv6HeaderLen : kIpv4HeaderLen) : p.keep;
  const std::uint32_t insert_len = (kTunnel ? outer_ip_len : 0) + (kUdp ? kUdpHeaderLen : 0) + kEspHeaderLen + sa.iv_bytes;
  const std::uint32_t total = outer_ip_len + (kUdp ? kUdpHeaderLen : 0) + esp_len;
  if (!fits_ip_length<kOuterV6>(total)) return why = Drop::oversize, false;
  if (rte_pktmbuf_tailroom(m) < trailer_len || rte_pktmbuf_headroom(m) < insert_len) {
    return why = Drop::no_room, false;
  }

  auto* trailer = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(trailer_len)));
  // The padding pattern in one fixed-size store rather than a loop whose
  // length changes with every packet size: the trailer is at least 18 bytes
  // (2 + an ICV of 16 or more, Sa::create), and what the store writes past
  // the padding is overwritten below and by the ICV.
  static constexpr std::uint8_t kPadding[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  std::memcpy(trailer, kPadding, sizeof kPadding);
  trailer[pad] = static_cast<std::uint8_t>(pad);
  trailer[pad + 1] = p.next_header;

  auto* start = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, static_cast<std::uint16_t>(insert_len)));
  std::uint8_t* ip = start;
  if constexpr (!kTunnel) std::memmove(ip, start + insert_len, p.keep);  // the IP header moves to the front
  std::uint8_t* l4 = ip + outer_ip_len;
  std::uint8_t* esp = kUdp ? l4 + kUdpHeaderLen : l4;
  const std::uint8_t carrier = kUdp ? kProtoUdp : kProtoEsp;

  if constexpr (kTunnel) {
    write_tunnel_header<kOuterV6>(w, sa, ip, total, carrier, p);
  } else {
    rewrite_transport_header<kOuterV6>(ip, total, carrier, p);
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
  account_sent(sa, s.inner_len);
}

template <bool kTunnel, bool kOuterV6, bool kUdp, IcvKind kIcv>
std::uint16_t esp_outbound(Worker& w, RuntimeSa& sa, rte_mbuf** pkts, std::uint16_t n) {
  return in_slices(pkts, n, [&](rte_mbuf** slice, std::uint16_t len) {
    return run_slice(
        w, sa, slice, len,
        [&](rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) {
          return prepare<kTunnel, kOuterV6, kUdp, kIcv>(w, sa, m, op, s, why);
        },
        [&](std::span<crypto::Op> ops) { w.backend().encrypt(ops); },
        [&](rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) {
          if (!crypto_ok(op, why)) return false;
          finish<kOuterV6, kUdp>(sa, m, s);
          return true;
        });
  });
}

}  // namespace

BurstFn esp_outbound_fn(bool tunnel, bool outer_v6, bool udp_encap, const crypto::Algorithm& a) {
  return with_bool(tunnel, [&](auto t) {
    return with_bool(outer_v6, [&](auto v6) {
      return with_bool(udp_encap, [&](auto udp) {
        return with_icv(icv_kind(a), [&](auto icv) { return &esp_outbound<t(), v6(), udp(), icv()>; });
      });
    });
  });
}

}  // namespace corridor::dataplane::ipsec
