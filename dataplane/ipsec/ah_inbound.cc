// AH inbound: check the sequence number, verify the ICV over the packet
// with its mutable fields zeroed, decapsulate (RFC 4302 §3.4).
#include <array>
#include <cstring>

#include "dataplane/ipsec/ah.h"
#include "dataplane/ipsec/decapsulate.h"
#include "dataplane/ipsec/dispatch.h"
#include "dataplane/ipsec/worker.h"

namespace corridor::dataplane::ipsec {
namespace {

// Finds the AH header behind the outer IP header (and any IPv6 extension
// headers) and checks its length against the SA's ICV. The mbuf is trimmed
// to the IP total length (link-layer padding removed).
template <bool kOuterV6>
bool locate_ah(const RuntimeSa& sa, rte_mbuf* m, PacketScratch& s, std::uint32_t& len, Drop& why) {
  OuterHeader o;
  if (!parse_outer<kOuterV6>(m, o, why)) return false;
  auto* ip = rte_pktmbuf_mtod(m, std::uint8_t*);
  len = o.len;
  const std::uint32_t l4 = o.l4;
  const std::uint8_t proto = o.proto;
  s.next_header_at = o.next_header_at;
  if (proto != kProtoAh) return why = Drop::no_sa, false;  // ESP or anything else is not this SA's
  if (l4 > kMaxSavedIpHeader) return why = Drop::unsupported_header, false;
  if (len < l4 + kAhFixedLen) return why = Drop::too_short, false;
  const std::uint32_t ah_len = (ip[l4 + 1] + 2u) * 4u;
  // RFC 4302 §2.2, §3.3.3.2.1: the length is the SA's ICV plus exactly the
  // padding the address family needs.
  if (ah_len != ah_header_len(sa.icv_bytes, kOuterV6)) return why = Drop::bad_length, false;
  if (len < l4 + ah_len) return why = Drop::too_short, false;
  s.l4_offset = static_cast<std::uint16_t>(l4);
  s.esp = ip + l4;
  s.payload_len = len - l4 - ah_len;
  s.outer_ecn = traffic_class(ip) & 0x03;
  return true;
}

template <bool kOuterV6>
bool prepare(RuntimeSa& sa, rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) {
  if (m->nb_segs != 1) return why = Drop::multi_segment, false;
  std::uint32_t len = 0;
  if (!locate_ah<kOuterV6>(sa, m, s, len, why)) return false;
  std::uint8_t* ah = s.esp;
  if (load_be32(ah + 4) != sa.spi) return why = Drop::no_sa, false;
  if (!may_receive(sa, why) || !replay_check(sa, load_be32(ah + 8), s.seq, why)) return false;
  const bool esn = sa.has(kEsn);
  if (esn && rte_pktmbuf_tailroom(m) < 4) return why = Drop::no_room, false;

  // The header as received is kept aside; the ICV is computed over a
  // packet whose mutable fields and ICV field are zero. The ICV padding
  // stays as received: it is covered as sent (RFC 4302 §3.3.3.2.1).
  auto* ip = rte_pktmbuf_mtod(m, std::uint8_t*);
  std::memcpy(s.ip_header, ip, s.l4_offset);
  switch (zero_mutable_fields(ip, s.l4_offset)) {
    case MutableFields::zeroed: break;
    case MutableFields::malformed: return why = Drop::bad_ip_header, false;
    case MutableFields::unsupported: return why = Drop::unsupported_header, false;
  }
  std::memcpy(s.icv, ah + kAhFixedLen, sa.icv_bytes);
  std::memset(ah + kAhFixedLen, 0, sa.icv_bytes);
  if (esn) {
    store_be32(reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 4)), ReplayWindow::seq_hi(s.seq));
  }

  op.session = sa.session;
  op.payload = ip;  // nothing is decrypted
  op.payload_len = 0;
  op.iv = nullptr;
  op.auth = ip;
  op.auth_len = len + (esn ? 4 : 0);
  op.icv = s.icv;
  return true;
}

template <bool kTunnel, bool kOuterV6>
bool finish(RuntimeSa& sa, rte_mbuf* m, const crypto::Op& op, PacketScratch& s, Drop& why) {
  if (sa.has(kEsn)) rte_pktmbuf_trim(m, 4);
  if (!crypto_ok(op, why) || !replay_update(sa, s.seq, why)) return false;

  std::uint8_t* ah = s.esp;
  const std::uint8_t next_header = ah[0];
  std::uint8_t* data = ah + ah_header_len(sa.icv_bytes, kOuterV6);
  std::uint32_t out_len = 0;
  if constexpr (kTunnel) {
    if (!open_tunnel(sa, m, data, s.payload_len, next_header, s.outer_ecn, out_len, why)) return false;
  } else {
    // The saved header (mutable fields as received) closes up over AH.
    const auto shift = static_cast<std::uint32_t>(data - rte_pktmbuf_mtod(m, std::uint8_t*)) - s.l4_offset;
    out_len = close_transport<kOuterV6>(m, s.ip_header, s.l4_offset, shift, s.next_header_at, next_header,
                                        s.payload_len);
  }
  return accept_inner(sa, m, out_len, why);
}

template <bool kTunnel, bool kOuterV6>
std::uint16_t ah_inbound(Worker& w, RuntimeSa& sa, rte_mbuf** pkts, std::uint16_t n) {
  return in_slices(pkts, n, [&](rte_mbuf** slice, std::uint16_t len) {
    return run_slice(
        w, sa, slice, len,
        [&](rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) { return prepare<kOuterV6>(sa, m, op, s, why); },
        [&](std::span<crypto::Op> ops) { w.backend().decrypt(ops); },
        [&](rte_mbuf* m, crypto::Op& op, PacketScratch& s, Drop& why) {
          return finish<kTunnel, kOuterV6>(sa, m, op, s, why);
        });
  });
}

}  // namespace

BurstFn ah_inbound_fn(bool tunnel, bool outer_v6) {
  return with_bool(tunnel, [&](auto t) {
    return with_bool(outer_v6, [&](auto v6) { return &ah_inbound<t(), v6()>; });
  });
}

}  // namespace corridor::dataplane::ipsec
