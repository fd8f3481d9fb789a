#include "dataplane/net/nd.h"

#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/net/proxy_neighbor.h"

namespace corridor::dataplane::net {
namespace {

constexpr std::uint32_t kIpv6HeaderLen = 40;
constexpr std::uint8_t kProtoIcmpv6 = 58;
constexpr std::uint8_t kRouterSolicitation = 133, kRedirect = 137;
constexpr std::uint8_t kNeighborSolicitation = 135, kNeighborAdvertisement = 136;
constexpr std::uint32_t kNdBodyLen = 24;       // type, code, checksum, flags/reserved, target
constexpr std::uint32_t kLinkLayerOption = 8;  // type, length (in 8 octets), MAC
constexpr std::uint8_t kSourceLinkLayer = 1, kTargetLinkLayer = 2;
// RFC 4861 §4.4: Router, Solicited, Override.
constexpr std::uint8_t kFlagRouter = 0x80, kFlagSolicited = 0x40, kFlagOverride = 0x20;

bool link_local(const std::uint8_t* a) { return a[0] == 0xfe && (a[1] & 0xc0) == 0x80; }

corridor::net::IpAddress v6(const std::uint8_t* a) {
  return corridor::net::IpAddress::from_bytes(corridor::net::Family::ipv6, a);
}

bool ours(const NdPort& port, const std::uint8_t* a) {
  for (const auto& p : port.ipv6)
    if (std::memcmp(p.address.bytes().data(), a, 16) == 0) return true;
  return false;
}

bool on_link(const NdPort& port, const std::uint8_t* a) {
  if (link_local(a)) return true;
  const auto address = v6(a);
  for (const auto& p : port.ipv6)
    if (p.contains(address)) return true;
  return false;
}

}  // namespace

bool is_neighbor_discovery(const std::uint8_t* frame, std::uint32_t len) {
  if (len < kEtherHeaderLen + kIpv6HeaderLen + 1 || be16(frame + 12) != kEtherTypeIpv6) return false;
  const std::uint8_t* ip = frame + kEtherHeaderLen;
  const std::uint8_t type = ip[kIpv6HeaderLen];
  return ip[6] == kProtoIcmpv6 && type >= kRouterSolicitation && type <= kRedirect;
}

std::optional<NdMessage> validate_neighbor_message(const rte_mbuf* frame) {
  if (frame->nb_segs != 1 || !is_neighbor_discovery(rte_pktmbuf_mtod(frame, const std::uint8_t*), frame->data_len))
    return std::nullopt;
  const auto* f = rte_pktmbuf_mtod(frame, const std::uint8_t*);
  const std::uint8_t* ip = f + kEtherHeaderLen;
  const std::uint8_t* icmp = ip + kIpv6HeaderLen;
  NdMessage m;
  m.type = icmp[0];
  if (m.type != kNeighborSolicitation && m.type != kNeighborAdvertisement) return std::nullopt;
  const std::uint32_t icmp_len = be16(ip + 4);
  if ((ip[0] >> 4) != 6 || frame->data_len < kEtherHeaderLen + kIpv6HeaderLen + icmp_len || ip[7] != 255 ||
      icmp[1] != 0 || icmp_len < kNdBodyLen || icmpv6_checksum(ip, icmp, icmp_len) != 0)
    return std::nullopt;
  m.source = ip + 8;
  m.target = icmp + 8;
  if (m.target[0] == 0xff) return std::nullopt;  // a multicast target
  m.unspecified_source = all_zero(m.source, 16);
  for (std::uint32_t at = kNdBodyLen; at < icmp_len;) {
    if (icmp_len - at < 2 || icmp[at + 1] == 0 || icmp_len - at < icmp[at + 1] * 8u) return std::nullopt;
    const std::uint8_t option = icmp[at];
    if (option == kSourceLinkLayer && m.type == kNeighborSolicitation) {
      if (m.unspecified_source) return std::nullopt;
      m.link_layer = icmp + at + 2;
    } else if (option == kTargetLinkLayer && m.type == kNeighborAdvertisement) {
      m.link_layer = icmp + at + 2;
    }
    at += icmp[at + 1] * 8u;
  }
  return m;
}

bool advertise(rte_mbuf* frame, const NdMessage& solicitation, const MacAddress& ours) {
  auto* f = rte_pktmbuf_mtod(frame, std::uint8_t*);
  MacAddress asker;
  std::memcpy(asker.bytes.data(), f + 6, 6);
  std::uint8_t target[16], source[16];  // copied: the frame is rewritten below
  std::memcpy(target, solicitation.target, 16);
  std::memcpy(source, solicitation.source, 16);
  const std::uint32_t na_len = kNdBodyLen + kLinkLayerOption;
  const std::uint32_t frame_len = kEtherHeaderLen + kIpv6HeaderLen + na_len;
  if (frame->data_len < frame_len &&
      rte_pktmbuf_append(frame, static_cast<std::uint16_t>(frame_len - frame->data_len)) == nullptr)
    return false;
  if (frame->data_len > frame_len) rte_pktmbuf_trim(frame, static_cast<std::uint16_t>(frame->data_len - frame_len));
  std::memcpy(f, asker.bytes.data(), 6);
  std::memcpy(f + 6, ours.bytes.data(), 6);
  put16(f + 12, kEtherTypeIpv6);
  std::uint8_t* ip = f + kEtherHeaderLen;
  ip[0] = 0x60, ip[1] = 0, ip[2] = 0, ip[3] = 0;
  put16(ip + 4, static_cast<std::uint16_t>(na_len));
  ip[6] = kProtoIcmpv6;
  ip[7] = 255;
  std::memcpy(ip + 8, target, 16);
  std::memcpy(ip + 24, source, 16);
  std::uint8_t* na = ip + kIpv6HeaderLen;
  std::memset(na, 0, na_len);
  na[0] = kNeighborAdvertisement;
  na[4] = kFlagRouter | kFlagSolicited | kFlagOverride;
  std::memcpy(na + 8, target, 16);
  na[kNdBodyLen] = kTargetLinkLayer;
  na[kNdBodyLen + 1] = 1;
  std::memcpy(na + kNdBodyLen + 2, ours.bytes.data(), 6);
  put16(na + 2, icmpv6_checksum(ip, na, na_len));
  return true;
}

NdResult handle_nd(rte_mbuf* frame, const NdPort& port, NeighborTable& neighbors) {
  const auto* f = rte_pktmbuf_mtod(frame, const std::uint8_t*);
  if (frame->nb_segs != 1 || !is_neighbor_discovery(f, frame->data_len)) return NdResult::malformed;
  const std::uint8_t type = f[kEtherHeaderLen + kIpv6HeaderLen];
  if (type != kNeighborSolicitation && type != kNeighborAdvertisement) return NdResult::ignored;
  const auto m = validate_neighbor_message(frame);
  if (!m) return NdResult::malformed;
  MacAddress mac;
  if (m->link_layer) std::memcpy(mac.bytes.data(), m->link_layer, 6);
  const bool usable_mac = m->link_layer && !mac.is_multicast() && !mac.is_zero();

  if (type == kNeighborAdvertisement) {
    // §7.2.5: an advertisement updates an entry that exists (we asked, or
    // know the neighbor); others are discarded.
    if (!usable_mac || ours(port, m->target) || !on_link(port, m->target)) return NdResult::ignored;
    const auto key = NeighborKey::v6(port.index, m->target);
    if (neighbors.slot(key) < 0) return NdResult::ignored;
    return neighbors.set(key, mac, false) ? NdResult::learnt : NdResult::ignored;
  }
  if (m->unspecified_source) return NdResult::ignored;  // duplicate address detection: not ours to answer
  bool learnt = false;
  if (usable_mac && !ours(port, m->source) && on_link(port, m->source))
    learnt = neighbors.set(NeighborKey::v6(port.index, m->source), mac, false);
  if (!ours(port, m->target)) return learnt ? NdResult::learnt : NdResult::ignored;
  return advertise(frame, *m, port.mac) ? NdResult::reply : NdResult::malformed;
}

rte_mbuf* make_neighbor_solicitation(rte_mempool* pool, const NdPort& port, const std::uint8_t* target) {
  const corridor::net::Prefix* from = nullptr;
  if (link_local(target)) {
    if (!port.ipv6.empty()) from = &port.ipv6.front();
  } else {
    const auto t = v6(target);
    for (const auto& p : port.ipv6)
      if (p.contains(t)) from = &p;
  }
  if (from == nullptr) return nullptr;
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  const std::uint32_t icmp_len = kNdBodyLen + kLinkLayerOption;
  auto* f = reinterpret_cast<std::uint8_t*>(
      rte_pktmbuf_append(m, static_cast<std::uint16_t>(kEtherHeaderLen + kIpv6HeaderLen + icmp_len)));
  if (f == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  // The solicited-node multicast address ff02::1:ffXX:XXXX of the target's
  // last 24 bits (RFC 4291 §2.7.1), and its MAC 33:33:ff:XX:XX:XX (RFC 2464 §7).
  const std::uint8_t group[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, target[13], target[14], target[15]};
  const std::uint8_t group_mac[6] = {0x33, 0x33, group[12], group[13], group[14], group[15]};
  std::memcpy(f, group_mac, 6);
  std::memcpy(f + 6, port.mac.bytes.data(), 6);
  put16(f + 12, kEtherTypeIpv6);
  std::uint8_t* ip = f + kEtherHeaderLen;
  std::memset(ip, 0, kIpv6HeaderLen + icmp_len);
  ip[0] = 0x60;
  put16(ip + 4, static_cast<std::uint16_t>(icmp_len));
  ip[6] = kProtoIcmpv6;
  ip[7] = 255;
  std::memcpy(ip + 8, from->address.bytes().data(), 16);
  std::memcpy(ip + 24, group, 16);
  std::uint8_t* ns = ip + kIpv6HeaderLen;
  ns[0] = kNeighborSolicitation;
  std::memcpy(ns + 8, target, 16);
  ns[kNdBodyLen] = kSourceLinkLayer;
  ns[kNdBodyLen + 1] = 1;
  std::memcpy(ns + kNdBodyLen + 2, port.mac.bytes.data(), 6);
  put16(ns + 2, icmpv6_checksum(ip, ns, icmp_len));
  return m;
}

}  // namespace corridor::dataplane::net
