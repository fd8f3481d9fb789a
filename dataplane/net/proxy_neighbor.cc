#include "dataplane/net/proxy_neighbor.h"

#include <rte_mbuf.h>

#include <cstring>

namespace corridor::dataplane::net {
namespace {

constexpr std::uint32_t kArpLen = 28;  // Ethernet/IPv4 ARP payload
constexpr std::uint16_t kArpRequest = 1, kArpReply = 2;
constexpr std::uint32_t kIpv6HeaderLen = 40;
constexpr std::uint8_t kProtoIcmpv6 = 58;
constexpr std::uint8_t kNeighborSolicitation = 135, kNeighborAdvertisement = 136;
constexpr std::uint32_t kNdBodyLen = 24;     // type, code, checksum, flags/reserved, target
constexpr std::uint32_t kLinkLayerOption = 8;  // type, length (in 8 octets), MAC
constexpr std::uint8_t kSourceLinkLayer = 1, kTargetLinkLayer = 2;
// RFC 4861 §4.4: Router, Solicited, Override.
constexpr std::uint8_t kFlagRouter = 0x80, kFlagSolicited = 0x40, kFlagOverride = 0x20;

}  // namespace

std::uint16_t icmpv6_checksum(const std::uint8_t* ip, const std::uint8_t* icmp, std::uint32_t len) {
  std::uint32_t sum = 0;
  const auto add = [&](const std::uint8_t* p, std::uint32_t n) {
    for (std::uint32_t i = 0; i + 1 < n; i += 2) sum += be16(p + i);
    if (n & 1) sum += static_cast<std::uint32_t>(p[n - 1]) << 8;
  };
  add(ip + 8, 32);  // source and destination
  sum += len >> 16;
  sum += len & 0xffff;
  sum += kProtoIcmpv6;
  add(icmp, len);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

ProxyResult proxy_arp(rte_mbuf* frame, const MacAddress& ours) {
  if (frame->nb_segs != 1 || frame->data_len < kEtherHeaderLen + kArpLen) return ProxyResult::malformed;
  auto* f = rte_pktmbuf_mtod(frame, std::uint8_t*);
  std::uint8_t* a = f + kEtherHeaderLen;
  // The caller dispatched on the ethertype; checked again, as the answer
  // keeps it (found by the link_layer fuzz target).
  if (be16(f + 12) != kEtherTypeArp) return ProxyResult::malformed;
  if (be16(a) != 1 || be16(a + 2) != kEtherTypeIpv4 || a[4] != 6 || a[5] != 4) return ProxyResult::malformed;
  const std::uint16_t op = be16(a + 6);
  if (op != kArpRequest && op != kArpReply) return ProxyResult::malformed;
  MacAddress sender;
  std::memcpy(sender.bytes.data(), a + 8, 6);
  if (sender.is_multicast() || sender.is_zero()) return ProxyResult::malformed;
  if (op != kArpRequest) return ProxyResult::ignored;
  std::uint8_t sender_ip[4], target_ip[4];
  std::memcpy(sender_ip, a + 14, 4);
  std::memcpy(target_ip, a + 24, 4);
  // An announcement (sender = target, RFC 5227 §2.3) or a probe (sender
  // 0.0.0.0) asks nobody: answering would report a conflict.
  if (std::memcmp(sender_ip, target_ip, 4) == 0 || all_zero(sender_ip, 4)) return ProxyResult::ignored;

  std::memcpy(f, sender.bytes.data(), 6);
  std::memcpy(f + 6, ours.bytes.data(), 6);
  put16(a + 6, kArpReply);
  std::memcpy(a + 8, ours.bytes.data(), 6);
  std::memcpy(a + 14, target_ip, 4);
  std::memcpy(a + 18, sender.bytes.data(), 6);
  std::memcpy(a + 24, sender_ip, 4);
  rte_pktmbuf_trim(frame, static_cast<std::uint16_t>(frame->data_len - (kEtherHeaderLen + kArpLen)));
  return ProxyResult::reply;
}

bool is_neighbor_solicitation(const rte_mbuf* frame) {
  if (frame->data_len < kEtherHeaderLen + kIpv6HeaderLen + 1) return false;
  const auto* f = rte_pktmbuf_mtod(frame, const std::uint8_t*);
  const std::uint8_t* ip = f + kEtherHeaderLen;
  return be16(f + 12) == kEtherTypeIpv6 && ip[6] == kProtoIcmpv6 && ip[kIpv6HeaderLen] == kNeighborSolicitation;
}

ProxyResult proxy_neighbor_solicitation(rte_mbuf* frame, const MacAddress& ours) {
  if (frame->nb_segs != 1 || !is_neighbor_solicitation(frame)) return ProxyResult::malformed;
  auto* f = rte_pktmbuf_mtod(frame, std::uint8_t*);
  std::uint8_t* ip = f + kEtherHeaderLen;
  const std::uint32_t icmp_len = be16(ip + 4);
  if ((ip[0] >> 4) != 6 || frame->data_len < kEtherHeaderLen + kIpv6HeaderLen + icmp_len) return ProxyResult::malformed;
  const std::uint8_t* icmp = ip + kIpv6HeaderLen;
  // RFC 4861 §7.1.1.
  if (ip[7] != 255 || icmp[1] != 0 || icmp_len < kNdBodyLen || icmpv6_checksum(ip, icmp, icmp_len) != 0)
    return ProxyResult::malformed;
  const std::uint8_t* target = icmp + 8;
  if (target[0] == 0xff) return ProxyResult::malformed;  // a multicast target
  const bool unspecified_source = all_zero(ip + 8, 16);
  for (std::uint32_t at = kNdBodyLen; at < icmp_len;) {  // options: none of length 0
    if (icmp_len - at < 2 || icmp[at + 1] == 0 || icmp_len - at < icmp[at + 1] * 8u) return ProxyResult::malformed;
    if (icmp[at] == kSourceLinkLayer && unspecified_source) return ProxyResult::malformed;
    at += icmp[at + 1] * 8u;
  }
  if (unspecified_source) return ProxyResult::ignored;  // duplicate address detection

  MacAddress asker;
  std::memcpy(asker.bytes.data(), f + 6, 6);
  std::uint8_t target_addr[16], source_addr[16];
  std::memcpy(target_addr, target, 16);
  std::memcpy(source_addr, ip + 8, 16);

  // The advertisement, written over the solicitation.
  const std::uint32_t na_len = kNdBodyLen + kLinkLayerOption;
  const std::uint32_t frame_len = kEtherHeaderLen + kIpv6HeaderLen + na_len;
  if (frame->data_len < frame_len && rte_pktmbuf_append(frame, static_cast<std::uint16_t>(frame_len - frame->data_len)) == nullptr)
    return ProxyResult::malformed;
  if (frame->data_len > frame_len) rte_pktmbuf_trim(frame, static_cast<std::uint16_t>(frame->data_len - frame_len));
  std::memcpy(f, asker.bytes.data(), 6);
  std::memcpy(f + 6, ours.bytes.data(), 6);
  put16(f + 12, kEtherTypeIpv6);
  ip[0] = 0x60, ip[1] = 0, ip[2] = 0, ip[3] = 0;
  put16(ip + 4, static_cast<std::uint16_t>(na_len));
  ip[6] = kProtoIcmpv6;
  ip[7] = 255;
  std::memcpy(ip + 8, target_addr, 16);
  std::memcpy(ip + 24, source_addr, 16);
  std::uint8_t* na = ip + kIpv6HeaderLen;
  std::memset(na, 0, na_len);
  na[0] = kNeighborAdvertisement;
  na[4] = kFlagRouter | kFlagSolicited | kFlagOverride;
  std::memcpy(na + 8, target_addr, 16);
  na[kNdBodyLen] = kTargetLinkLayer;
  na[kNdBodyLen + 1] = 1;
  std::memcpy(na + kNdBodyLen + 2, ours.bytes.data(), 6);
  put16(na + 2, icmpv6_checksum(ip, na, na_len));
  return ProxyResult::reply;
}

}  // namespace corridor::dataplane::net
