#include "dataplane/net/arp.h"

#include <rte_mbuf.h>

#include <cstring>

namespace corridor::dataplane::net {
namespace {

constexpr std::uint32_t kArpLen = 28;  // Ethernet/IPv4 ARP payload
constexpr std::uint16_t kRequest = 1, kReply = 2;

const corridor::net::Prefix* own_address(const ArpPort& port, const std::uint8_t* ip) {
  for (const auto& p : port.ipv4) {
    if (std::memcmp(p.address.bytes().data(), ip, 4) == 0) return &p;
  }
  return nullptr;
}

bool on_subnet(const ArpPort& port, const std::uint8_t* ip) {
  const auto a = corridor::net::IpAddress::from_bytes(corridor::net::Family::ipv4, ip);
  for (const auto& p : port.ipv4) {
    if (p.contains(a)) return true;
  }
  return false;
}

// Ethernet + ARP header for an Ethernet/IPv4 ARP packet.
void write_arp(std::uint8_t* f, const MacAddress& eth_dst, const MacAddress& sender_mac, const std::uint8_t* sender_ip,
               const MacAddress& target_mac, const std::uint8_t* target_ip, std::uint16_t op) {
  std::memcpy(f, eth_dst.bytes.data(), 6);
  std::memcpy(f + 6, sender_mac.bytes.data(), 6);
  put16(f + 12, kEtherTypeArp);
  std::uint8_t* a = f + kEtherHeaderLen;
  put16(a, 1);             // hardware: Ethernet
  put16(a + 2, 0x0800);    // protocol: IPv4
  a[4] = 6;
  a[5] = 4;
  put16(a + 6, op);
  std::memcpy(a + 8, sender_mac.bytes.data(), 6);
  std::memcpy(a + 14, sender_ip, 4);
  std::memcpy(a + 18, target_mac.bytes.data(), 6);
  std::memcpy(a + 24, target_ip, 4);
}

}  // namespace

ArpResult handle_arp(rte_mbuf* frame, const ArpPort& port, NeighborTable& neighbors) {
  if (frame->nb_segs != 1 || frame->data_len < kEtherHeaderLen + kArpLen) return ArpResult::malformed;
  auto* f = rte_pktmbuf_mtod(frame, std::uint8_t*);
  const std::uint8_t* a = f + kEtherHeaderLen;
  if (be16(f + 12) != kEtherTypeArp) return ArpResult::malformed;
  if (be16(a) != 1 || be16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4) return ArpResult::malformed;
  const std::uint16_t op = be16(a + 6);
  if (op != kRequest && op != kReply) return ArpResult::malformed;
  MacAddress sender_mac;
  std::memcpy(sender_mac.bytes.data(), a + 8, 6);
  std::uint8_t sender_ip[4], target_ip[4];
  std::memcpy(sender_ip, a + 14, 4);
  std::memcpy(target_ip, a + 24, 4);
  if (sender_mac.is_multicast() || sender_mac.is_zero()) return ArpResult::malformed;

  // RFC 826 "merge": learn senders on our subnets (not ourselves; not
  // 0.0.0.0, which is an address probe, RFC 5227).
  const bool probe = sender_ip[0] == 0 && sender_ip[1] == 0 && sender_ip[2] == 0 && sender_ip[3] == 0;
  bool learnt = false;
  if (!probe && own_address(port, sender_ip) == nullptr && on_subnet(port, sender_ip)) {
    learnt = neighbors.set(NeighborKey::v4(port.index, sender_ip), sender_mac, false);
  }
  if (op == kRequest && own_address(port, target_ip) != nullptr) {
    write_arp(f, sender_mac, port.mac, target_ip, sender_mac, sender_ip, kReply);
    rte_pktmbuf_trim(frame, static_cast<std::uint16_t>(frame->data_len - (kEtherHeaderLen + kArpLen)));
    return ArpResult::reply;
  }
  return learnt ? ArpResult::learnt : ArpResult::ignored;
}

rte_mbuf* make_arp_request(rte_mempool* pool, const ArpPort& port, const std::uint8_t* target) {
  const auto t = corridor::net::IpAddress::from_bytes(corridor::net::Family::ipv4, target);
  const corridor::net::Prefix* source = nullptr;
  for (const auto& p : port.ipv4) {
    if (p.contains(t)) source = &p;
  }
  if (source == nullptr) return nullptr;
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  // 60 bytes: the Ethernet minimum without FCS, zero-padded.
  auto* f = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 60));
  if (f == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memset(f, 0, 60);
  write_arp(f, MacAddress::broadcast(), port.mac, source->address.bytes().data(), MacAddress{}, target, kRequest);
  return m;
}

}  // namespace corridor::dataplane::net
