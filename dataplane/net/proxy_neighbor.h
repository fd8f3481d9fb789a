// The dataplane's end of the exception interface's link. The kernel sees
// the TAP as an Ethernet link and resolves every destination and next hop
// it sends to there; the dataplane answers every such question with one
// MAC address of its own (proxy ARP, RFC 1027; a proxy Neighbor
// Advertisement, RFC 4861 §7.2.8), so that whatever the kernel sends comes
// to the dataplane, which routes it with its own tables.
//
// Both functions turn the request frame (starting at its Ethernet header)
// into the answer in place; the answer goes back into the TAP.
#pragma once

#include <cstdint>

#include "dataplane/net/ethernet.h"

struct rte_mbuf;

namespace corridor::dataplane::net {

// A fixed locally administered (IEEE 802 U/L bit), unicast address for the
// dataplane's side of the exception interface: "\x02" "corrd".
inline constexpr MacAddress kExceptionLinkMac{{0x02, 0x63, 0x6f, 0x72, 0x72, 0x64}};

// RFC 4443 §2.3: the ICMPv6 checksum over the pseudo-header (RFC 8200
// §8.1) and the `len` bytes of the message at `icmp`, for the fixed IPv6
// header at `ip` (0xffff-complement arithmetic, RFC 1071). A received
// message is intact when this gives 0 over it, checksum included.
std::uint16_t icmpv6_checksum(const std::uint8_t* ip, const std::uint8_t* icmp, std::uint32_t len);

enum class ProxyResult : std::uint8_t {
  reply,      // the frame is now the answer: send it back to the kernel
  ignored,    // valid, nothing to answer (a reply, a gratuitous announcement, DAD); free it
  malformed,  // not a well-formed request; free it and count
};

// An Ethernet/IPv4 ARP frame from the kernel: a request for any address
// other than the sender's own is answered with `ours`.
ProxyResult proxy_arp(rte_mbuf* frame, const MacAddress& ours);

// An IPv6 frame from the kernel holding an ICMPv6 Neighbor Solicitation
// (RFC 4861 §4.3, validated as §7.1.1 says: hop limit 255, code 0, length,
// checksum, a unicast target, no source link-layer option from ::). Answered
// with a solicited, override Neighbor Advertisement (router flag set: the
// dataplane forwards) carrying `ours` as the target's link-layer address,
// from the target address to the solicitation's source. Solicitations from
// :: (duplicate address detection of the kernel's own addresses) are
// ignored: answering them would make the kernel give its address up.
ProxyResult proxy_neighbor_solicitation(rte_mbuf* frame, const MacAddress& ours);

// Whether `frame` (Ethernet header on, IPv6) carries an ICMPv6 Neighbor
// Solicitation right after the fixed header.
bool is_neighbor_solicitation(const rte_mbuf* frame);

}  // namespace corridor::dataplane::net
