// Reassembly of fragmented ESP and AH addressed to the gateway (RFC 4303
// §3.4.1: "reassembly is performed prior to IPsec processing"). Corridor
// never fragments ESP itself in tunnel mode (path_mtu.h fragments before
// encryption), but a peer may, and so may a router on the way when the DF
// bit of the outer header is clear; transport mode with DF clear
// fragments after the engine too.
//
// One table per forwarding lcore (DPDK's rte_ip_frag, not shared between
// lcores), small and short-lived on purpose: a fragment waits at most
// kTimeout for the rest of its datagram, at most kFlows datagrams are in
// progress, and a datagram has at most 8 fragments (RTE_LIBRTE_IP_FRAG_MAX_
// FRAG), so fragments can never hold more than kFlows * 8 mbufs of the
// pool. The whole datagram comes back in one segment, as the engine wants
// it: its size is bounded by the mbuf's data room (about 2 KB, enough for a
// 1500-byte MTU's packet in two or three pieces); a larger one is dropped.
//
// Only ESP and AH: a fragmented IKE message (UDP) goes on to the kernel,
// which reassembles it for corridor-control's socket. Fragmented
// ESP-in-UDP is not reassembled (see docs/dataplane.md).
#pragma once

#include <cstdint>

struct rte_mbuf;
struct rte_ip_frag_tbl;
struct rte_ip_frag_death_row;

namespace corridor::dataplane::forward {

struct ReassemblyCounters {
  std::uint64_t fragments = 0;    // ESP/AH fragments taken in
  std::uint64_t reassembled = 0;  // datagrams put back together
  std::uint64_t dropped = 0;      // fragments freed: timed out, overlapping, table full, too large, malformed
};

// Whether the IP packet `ip` (checked) is a fragment of ESP or AH that
// reassembly should take: IPv4 with MF or an offset; IPv6 whose Fragment
// header follows the fixed header directly.
bool is_ipsec_fragment(const std::uint8_t* ip, std::uint32_t len);

class Reassembly {
 public:
  static constexpr std::uint32_t kFlows = 256;
  static constexpr std::uint64_t kTimeoutMs = 3000;

  Reassembly();
  ~Reassembly();
  Reassembly(const Reassembly&) = delete;
  Reassembly& operator=(const Reassembly&) = delete;

  bool ok() const { return table_ != nullptr; }

  // Takes the fragment `m` (IP header first, no Ethernet, one segment,
  // is_ipsec_fragment()). Returns the whole datagram, one segment with its
  // IP header made whole (no MF or offset, length and checksum), once its
  // last piece is in; null otherwise (held, or dropped and counted).
  // `now` in TSC cycles.
  rte_mbuf* add(rte_mbuf* m, std::uint64_t now);
  // Frees the fragments that waited longer than kTimeoutMs. Cheap; call it
  // every poll round or so.
  void expire(std::uint64_t now);

  const ReassemblyCounters& counters() const { return counters_; }

 private:
  void free_dead();

  rte_ip_frag_tbl* table_ = nullptr;
  rte_ip_frag_death_row* death_row_ = nullptr;
  ReassemblyCounters counters_;
};

}  // namespace corridor::dataplane::forward
