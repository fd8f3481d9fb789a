// Packets too big for the path they are about to take: a router either
// fragments them (IPv4 without DF, RFC 791 §3.2) or drops them and tells
// the sender the MTU it may use (IPv4 with DF: ICMP "fragmentation needed",
// RFC 1191 §4; IPv6: ICMPv6 "packet too big", RFC 8201, RFC 4443 §3.2).
// Into a tunnel the MTU is the path's less what ESP or AH adds
// (ipsec/overhead.h), and fragmenting comes before encryption, so the
// peer never has to reassemble ESP (RFC 4301 §8.1, "pre-fragmentation").
//
// Both build new packets from a mempool and leave the one they are about
// to the caller, which counts and frees it.
#pragma once

#include <cstdint>

struct rte_mbuf;
struct rte_mempool;

namespace corridor::dataplane::forward {

// The most fragments one packet is cut into: a 9000-byte jumbo frame into
// 576-byte pieces needs 17.
inline constexpr std::uint16_t kMaxFragments = 32;

// Whether an IPv4 packet may be fragmented on the way (DF clear).
bool may_fragment(const std::uint8_t* ip);

// Cuts the IPv4 packet in `m` (IP header first, single segment, checked)
// into fragments of at most `max_len` bytes each, written to `out`: the
// data in multiples of 8 bytes, the options whose copied flag is set in
// every fragment and the others in the first only (RFC 791 §3.2), offsets
// and MF continuing those of `m` if it is a fragment already, each header
// checksum computed. Returns how many, or 0 if it cannot be done (DF set,
// a header that leaves no room for 8 bytes of data, more than `cap`
// fragments, the pool empty).
std::uint16_t fragment_ipv4(const rte_mbuf* m, std::uint32_t max_len, rte_mempool* pool, rte_mbuf** out,
                            std::uint16_t cap);

// Whether the rules for ICMP errors allow one about this packet: not
// about an ICMP error (or any ICMPv4 but echo request), not about a
// non-initial fragment, not to a source that is no single host
// (unspecified, loopback, multicast, broadcast, class E); RFC 1812
// §4.3.2.7, RFC 4443 §2.4(e).
bool may_answer_with_error(const std::uint8_t* ip, std::uint32_t len);

// The ICMP "destination unreachable, fragmentation needed" (type 3 code
// 4, the next-hop MTU in the second word) or ICMPv6 "packet too big"
// (type 2, the MTU, at least 1280) about the packet `ip` of `len` bytes,
// from `source` (4 or 16 bytes, the packet's family) to its sender: an IP
// packet (no Ethernet header) in a new mbuf, quoting as much of the
// packet as fits 576 bytes (IPv4, RFC 1812 §4.3.2.3) or 1280 (IPv6, RFC
// 4443 §2.4(c)). Null when may_answer_with_error() says no or the pool is
// empty.
rte_mbuf* too_big_message(const std::uint8_t* ip, std::uint32_t len, std::uint32_t mtu, const std::uint8_t* source,
                          rte_mempool* pool);

}  // namespace corridor::dataplane::forward
