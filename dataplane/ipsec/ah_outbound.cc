// AH outbound: encapsulate, number, compute the ICV over the packet with
// its mutable fields zeroed (RFC 4302 §3.1, §3.3).
#include <array>
#include <cstring>

#include "dataplane/ipsec/ah.h"
#include "dataplane/ipsec/dispatch.h"
#include "dataplane/ipsec/encapsulate.h"

namespace corridor::dataplane::ipsec {
namespace {

template <bool kTunnel, bool kOuterV6>
bool prepare(Worker& w, RuntimeSa& sa, rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) {
  if (m->nb_segs != 1) return why = Drop::multi_segment, false;
  ClearPacket p;
  if (!parse_clear<kTunnel, kOuterV6>(m, p, why) || !may_send(sa, why)) return false;

  const std::uint32_t ah_len = ah_header_len(sa.icv_bytes, kOuterV6);
  const std::uint32_t ip_len = kTunnel ? (kOuterV6 ? kIpv6HeaderLen : kIpv4HeaderLen) : p.keep;
  const std::uint32_t insert_len = (kTunnel ? ip_len : 0) + ah_len;
  const std::uint32_t total = ip_len + ah_len + p.data_len(kTunnel);
  const bool esn = sa.has(kEsn);
  if (ip_len > kMaxSavedIpHeader) return why = Drop::unsupported_header, false;
  if (!fits_ip_length<kOuterV6>(total)) return why = Drop::oversize, false;
  // With ESN the high half of the sequence number is appended for the ICV
  // computation only (RFC 4302 §2.5.1), in the tailroom.
  if (rte_pktmbuf_headroom(m) < insert_len || (esn && rte_pktmbuf_tailroom(m) < 4)) return why = Drop::no_room, false;

  auto* ip = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, static_cast<std::uint16_t>(insert_len)));
  if constexpr (kTunnel) {
    write_tunnel_header<kOuterV6>(w, sa, ip, total, kProtoAh, p);
  } else {
    std::memmove(ip, ip + insert_len, p.keep);  // the IP header moves to the front
    rewrite_transport_header<kOuterV6>(ip, total, kProtoAh, p);
  }

  const std::uint64_t seq = ++sa.seq;
  std::uint8_t* ah = ip + ip_len;
  ah[0] = p.next_header;
  ah[1] = static_cast<std::uint8_t>(ah_len / 4 - 2);  // RFC 4302 §2.2: 32-bit words minus 2
  ah[2] = ah[3] = 0;
  store_be32(ah + 4, sa.spi);
  store_be32(ah + 8, static_cast<std::uint32_t>(seq));
  std::memset(ah + kAhFixedLen, 0, ah_len - kAhFixedLen);  // ICV (zero while computed) and its padding

  // The header as it is sent, kept aside; the packet's copy is zeroed
  // where routers may change it. Transport-mode options or extension
  // headers the rules cannot cover drop the packet here.
  std::memcpy(s.ip_header, ip, ip_len);
  switch (zero_mutable_fields(ip, ip_len)) {
    case MutableFields::zeroed: break;
    case MutableFields::malformed: return why = Drop::bad_ip_header, false;
    case MutableFields::unsupported: return why = Drop::unsupported_header, false;
  }
  if (esn) store_be32(reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 4)), static_cast<std::uint32_t>(seq >> 32));

  s.seq = seq;
  s.esp = ah;
  s.l4_offset = static_cast<std::uint16_t>(ip_len);
  s.inner_len = p.len;
  op.session = sa.session;
  op.payload = ip;  // nothing is encrypted
  op.payload_len = 0;
  op.iv = nullptr;
  op.iv_seed = seq;
  op.auth = ip;
  op.auth_len = total + (esn ? 4 : 0);
  op.icv = s.icv;  // written into the packet after the header is restored
  return true;
}

void finish(RuntimeSa& sa, rte_mbuf* m, PacketScratch& s) {
  auto* ip = rte_pktmbuf_mtod(m, std::uint8_t*);
  std::memcpy(ip, s.ip_header, s.l4_offset);
  std::memcpy(s.esp + kAhFixedLen, s.icv, sa.icv_bytes);
  if (sa.has(kEsn)) rte_pktmbuf_trim(m, 4);
  account_sent(sa, s.inner_len);
}

template <bool kTunnel, bool kOuterV6>
std::uint16_t ah_outbound(Worker& w, RuntimeSa& sa, rte_mbuf** pkts, std::uint16_t n) {
  return in_slices(pkts, n, [&](rte_mbuf** slice, std::uint16_t len) {
    return run_slice(
        w, sa, slice, len,
        [&](rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) {
          return prepare<kTunnel, kOuterV6>(w, sa, m, op, s, why);
        },
        [&](std::span<crypto::Op> ops) { w.backend().encrypt(ops); },
        [&](rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) {
          if (!crypto_ok(op, why)) return false;
          finish(sa, m, s);
          return true;
        });
  });
}

}  // namespace

BurstFn ah_outbound_fn(bool tunnel, bool outer_v6) {
  return with_bool(tunnel, [&](auto t) {
    return with_bool(outer_v6, [&](auto v6) { return &ah_outbound<t(), v6()>; });
  });
}

}  // namespace corridor::dataplane::ipsec
