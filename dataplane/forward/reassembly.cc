// rte_ip_frag_table_del_expired_entries() is still marked experimental in
// DPDK 22.11; without it, a datagram whose last fragment never comes would
// hold its mbufs until another one hashed to its place.
#define ALLOW_EXPERIMENTAL_API 1

#include "dataplane/forward/reassembly.h"

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dataplane/ipsec/ip.h"

namespace corridor::dataplane::forward {
namespace {

constexpr std::uint32_t kBuckets = 512;
constexpr std::uint32_t kBucketEntries = 4;  // 8 places a flow: few collisions before kFlows
constexpr std::uint32_t kFragmentHeaderLen = 8;

bool ipsec_protocol(std::uint8_t p) { return p == ipsec::kProtoEsp || p == ipsec::kProtoAh; }

}  // namespace

bool is_ipsec_fragment(const std::uint8_t* ip, std::uint32_t len) {
  if ((ip[0] >> 4) == 4) return (ipsec::load_be16(ip + 6) & 0x3fff) != 0 && ipsec_protocol(ip[9]);
  return len >= ipsec::kIpv6HeaderLen + kFragmentHeaderLen && ip[6] == ipsec::kIpv6Fragment &&
         ipsec_protocol(ip[ipsec::kIpv6HeaderLen]);
}

Reassembly::Reassembly() {
  static_assert(kBuckets * kBucketEntries >= kFlows);
  const std::uint64_t max_cycles = rte_get_tsc_hz() / 1000 * kTimeoutMs;
  table_ = rte_ip_frag_table_create(kBuckets, kBucketEntries, kFlows, max_cycles, static_cast<int>(rte_socket_id()));
  death_row_ = new rte_ip_frag_death_row{};
}

Reassembly::~Reassembly() {
  if (table_ != nullptr) rte_ip_frag_table_destroy(table_);  // frees the fragments it still holds
  free_dead();
  delete death_row_;
}

void Reassembly::free_dead() {
  counters_.dropped += death_row_->cnt;
  if (death_row_->cnt != 0) rte_ip_frag_free_death_row(death_row_, 0);
}

rte_mbuf* Reassembly::add(rte_mbuf* m, std::uint64_t now) {
  ++counters_.fragments;
  if (table_ == nullptr) {
    ++counters_.dropped;
    rte_pktmbuf_free(m);
    return nullptr;
  }
  auto* ip = rte_pktmbuf_mtod(m, std::uint8_t*);
  const bool v6 = (ip[0] >> 4) == 6;
  m->l2_len = 0;  // the Ethernet header is already gone
  rte_mbuf* whole = nullptr;
  if (v6) {
    m->l3_len = ipsec::kIpv6HeaderLen + kFragmentHeaderLen;
    auto* header = reinterpret_cast<rte_ipv6_hdr*>(ip);
    whole = rte_ipv6_frag_reassemble_packet(table_, death_row_, m, now, header,
                                            reinterpret_cast<rte_ipv6_fragment_ext*>(header + 1));
  } else {
    m->l3_len = (ip[0] & 0x0f) * 4u;
    whole = rte_ipv4_frag_reassemble_packet(table_, death_row_, m, now, reinterpret_cast<rte_ipv4_hdr*>(ip));
  }
  free_dead();  // overlaps, duplicates, a full table: the library's refusals
  if (whole == nullptr) return nullptr;
  // The engine reads one segment: the pieces go into the first one's
  // buffer, which has the room when the datagram fits the data room.
  const std::uint16_t pieces = whole->nb_segs;
  if (rte_pktmbuf_linearize(whole) != 0) {
    counters_.dropped += pieces;
    rte_pktmbuf_free(whole);
    return nullptr;
  }
  // The library sets the length and clears MF and the offset (IPv4), or
  // takes the Fragment header out (IPv6); the IPv4 checksum is ours.
  ip = rte_pktmbuf_mtod(whole, std::uint8_t*);
  if (!v6) ipsec::set_ipv4_checksum(ip);
  ++counters_.reassembled;
  return whole;
}

void Reassembly::expire(std::uint64_t now) {
  if (table_ == nullptr) return;
  rte_ip_frag_table_del_expired_entries(table_, death_row_, now);
  free_dead();
}

}  // namespace corridor::dataplane::forward
