#include "dataplane/net/proxy_neighbor.h"

#include <rte_mbuf.h>

#include <cstring>

#include "common/net/checksum.h"
#include "dataplane/net/nd.h"

namespace corridor::dataplane::net {
namespace {

constexpr std::uint32_t kArpLen = 28;  // Ethernet/IPv4 ARP payload
constexpr std::uint16_t kArpRequest = 1, kArpReply = 2;
constexpr std::uint32_t kIpv6HeaderLen = 40;
constexpr std::uint8_t kProtoIcmpv6 = 58;
constexpr std::uint8_t kNeighborSolicitation = 135;

}  // namespace

std::uint16_t icmpv6_checksum(const std::uint8_t* ip, const std::uint8_t* icmp, std::uint32_t len) {
  std::uint32_t sum = corridor::net::checksum_add(0, ip + 8, 32);  // source and destination
  sum += len >> 16;
  sum += len & 0xffff;
  sum += kProtoIcmpv6;
  return corridor::net::checksum_finish(corridor::net::checksum_add(sum, icmp, len));
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
  const auto solicitation = validate_neighbor_message(frame);  // RFC 4861 §7.1.1
  if (!solicitation) return ProxyResult::malformed;
  if (solicitation->unspecified_source) return ProxyResult::ignored;  // duplicate address detection
  return advertise(frame, *solicitation, ours) ? ProxyResult::reply : ProxyResult::malformed;
}

}  // namespace corridor::dataplane::net
