// Fuzz target for the dataplane's link-layer decoders, which read frames
// that any host on a port's segment, or the kernel on the exception TAP,
// can send: ARP (dataplane/net/arp.cc), IPv6 Neighbor Discovery
// (dataplane/net/nd.cc, RFC 4861) and the exception interface's proxy
// answers (dataplane/net/proxy_neighbor.cc).
//
// Input layout: byte 0 picks the decoder (bits 0-1: handle_arp, handle_nd,
// proxy_arp, proxy_neighbor_solicitation); the rest is the frame, from its
// Ethernet header (at most 1514 bytes). The port has 10.1.0.1/24 and
// 2001:db8:1::1/64 with MAC 02:00:00:00:01:01.
//
// Checked after every frame (abort() on violation):
//  - the mbuf keeps one segment with its data inside the buffer;
//  - an ARP reply is 42 bytes of Ethernet/IPv4 ARP, op 2, from our MAC;
//  - a Neighbor Advertisement is 86 bytes: IPv6 with a payload of 32, hop
//    limit 255, ICMPv6 type 136, code 0, a checksum that verifies, the
//    target link-layer option with our MAC, from our MAC;
//  - whatever the neighbor table learnt is a unicast, non-zero MAC.
//
// EAL comes up once per process, without hugepages or shared config: the
// neighbor table is an rte_hash and the frames live in mbufs.
#include <rte_mbuf.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "dataplane/net/arp.h"
#include "dataplane/net/nd.h"
#include "dataplane/net/neighbors.h"
#include "dataplane/net/proxy_neighbor.h"
#include "tests/fuzz/fuzz_eal.h"

namespace {

using namespace corridor::dataplane::net;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "link_layer_fuzz: %s\n", what);
  std::abort();
}

struct World {
  rte_mempool* pool = nullptr;
  NeighborTable* neighbors = nullptr;
  ArpPort arp;
  NdPort nd;
};

World& world() {
  static World* w = [] {
    corridor::fuzz::start_eal("link_layer_fuzz");
    auto* out = new World;
    out->pool = rte_pktmbuf_pool_create("llf_pool", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    out->neighbors = new NeighborTable("llf_nbr", 256);
    if (!out->pool) fail("no mbuf pool");
    const auto mac = *MacAddress::parse("02:00:00:00:01:01");
    out->arp.index = out->nd.index = 0;
    out->arp.mac = out->nd.mac = mac;
    out->arp.ipv4 = {*corridor::net::Prefix::parse("10.1.0.1/24")};
    out->nd.ipv6 = {*corridor::net::Prefix::parse("2001:db8:1::1/64")};
    return out;
  }();
  return *w;
}

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

void check_mbuf(const rte_mbuf* m) {
  if (m->nb_segs != 1 || m->pkt_len != m->data_len || m->data_off + m->data_len > m->buf_len)
    fail("the mbuf is no longer one segment inside its buffer");
}

void check_arp_reply(const std::uint8_t* f, std::uint32_t len, const MacAddress& ours) {
  if (len != 42 || be16(f + 12) != kEtherTypeArp || be16(f + 20) != 2) fail("an ARP reply that is not one");
  if (std::memcmp(f + 6, ours.bytes.data(), 6) != 0 || std::memcmp(f + 22, ours.bytes.data(), 6) != 0)
    fail("an ARP reply not from our MAC");
}

void check_advertisement(const std::uint8_t* f, std::uint32_t len, const MacAddress& ours) {
  const std::uint8_t* ip = f + kEtherHeaderLen;
  const std::uint8_t* na = ip + 40;
  if (len != 14 + 40 + 32 || be16(f + 12) != kEtherTypeIpv6 || (ip[0] >> 4) != 6 || be16(ip + 4) != 32 ||
      ip[6] != 58 || ip[7] != 255 || na[0] != 136 || na[1] != 0)
    fail("a Neighbor Advertisement that is not one");
  if (icmpv6_checksum(ip, na, 32) != 0) fail("a Neighbor Advertisement whose checksum does not verify");
  if (na[24] != 2 || na[25] != 1 || std::memcmp(na + 26, ours.bytes.data(), 6) != 0 ||
      std::memcmp(f + 6, ours.bytes.data(), 6) != 0)
    fail("a Neighbor Advertisement without our MAC");
}

// The sender an ARP frame or ND message would have taught the table.
void check_learnt(const std::uint8_t* f, std::uint32_t len, bool v6) {
  World& w = world();
  NeighborKey key;
  if (!v6 && len >= 42) key = NeighborKey::v4(0, f + 28);
  else if (v6 && len >= 14 + 40 + 24) key = NeighborKey::v6(0, f[54] == 136 ? f + 62 : f + 22);
  else return;
  if (const auto mac = w.neighbors->lookup(key); mac && (mac->is_multicast() || mac->is_zero()))
    fail("a multicast or zero MAC learnt");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 1 + 1514) return 0;
  World& w = world();
  rte_mbuf* m = rte_pktmbuf_alloc(w.pool);
  if (m == nullptr) fail("the pool ran dry: an mbuf leaked");
  const auto len = static_cast<std::uint16_t>(size - 1);
  auto* buf = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, len));
  if (len != 0 && buf == nullptr) fail("no room for the frame");
  if (len != 0) std::memcpy(buf, data + 1, len);
  const std::uint8_t* f = rte_pktmbuf_mtod(m, const std::uint8_t*);
  switch (data[0] & 3) {
    case 0:
      if (handle_arp(m, w.arp, *w.neighbors) == ArpResult::reply) {
        check_mbuf(m);
        check_arp_reply(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len, w.arp.mac);
      }
      check_learnt(data + 1, len, false);
      break;
    case 1: {
      const bool nd = is_neighbor_discovery(f, len);
      const NdResult r = handle_nd(m, w.nd, *w.neighbors);
      if (!nd && r != NdResult::malformed) fail("handle_nd took a frame that is no Neighbor Discovery");
      check_mbuf(m);
      if (r == NdResult::reply)
        check_advertisement(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len, w.nd.mac);
      else
        check_learnt(data + 1, len, true);
      break;
    }
    case 2:
      if (proxy_arp(m, kExceptionLinkMac) == ProxyResult::reply) {
        check_mbuf(m);
        check_arp_reply(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len, kExceptionLinkMac);
      }
      break;
    case 3:
      if (proxy_neighbor_solicitation(m, kExceptionLinkMac) == ProxyResult::reply) {
        check_mbuf(m);
        check_advertisement(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len, kExceptionLinkMac);
      }
      break;
  }
  check_mbuf(m);
  rte_pktmbuf_free(m);
  return 0;
}
