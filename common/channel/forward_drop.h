// Why a forwarding lcore dropped a frame: part of the SA channel protocol,
// since WORKER_STATS carries one counter per reason in this order
// (docs/sa-channel.md); the dataplane counts them (dataplane/forward),
// control shows them (/stats, /dataplane/workers, corridor_dataplane_drops_total).
// New reasons go at the end; at most kMaxForwardDrops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace corridor::channel {

enum class ForwardDrop : std::uint8_t {
  runt,                 // shorter than an Ethernet header
  other_host,           // unicast to another MAC address (a shared segment or a bridge flooding)
  unknown_ethertype,    // neither IPv4, IPv6 nor ARP
  vlan,                 // 802.1Q/802.1ad tagged: the ports are untagged
  bad_ip_header,        // version, header length or total length do not add up
  ttl_exceeded,         // TTL / hop limit would reach 0 on forwarding
  no_policy,            // no SPD entry matched (RFC 4301 §5.1: discard)
  policy_discard,       // an SPD entry said discard (or protect with its SA absent)
  sa_gone,              // the SA a policy named was removed during the burst
  no_sa,                // inbound ESP/AH with an SPI no SA has
  wrong_destination,    // inbound ESP/AH for an SA of another gateway address
  no_route,             // no route to the destination
  neighbor_unresolved,  // next hop's MAC not known yet (resolution requested)
  mtu_exceeded,         // larger than the outgoing port's MTU
  tx_full,              // the port's TX queue did not take it
  exception_full,       // the main lcore's queue for ARP / gateway traffic was full
  trapped,              // a trap policy caught it: reported in an ACQUIRE, its SA is negotiated
  count_,
};

inline constexpr std::size_t kForwardDropReasons = static_cast<std::size_t>(ForwardDrop::count_);

constexpr std::string_view to_string(ForwardDrop d) {
  switch (d) {
    case ForwardDrop::runt: return "runt";
    case ForwardDrop::other_host: return "other_host";
    case ForwardDrop::unknown_ethertype: return "unknown_ethertype";
    case ForwardDrop::vlan: return "vlan";
    case ForwardDrop::bad_ip_header: return "bad_ip_header";
    case ForwardDrop::ttl_exceeded: return "ttl_exceeded";
    case ForwardDrop::no_policy: return "no_policy";
    case ForwardDrop::policy_discard: return "policy_discard";
    case ForwardDrop::sa_gone: return "sa_gone";
    case ForwardDrop::no_sa: return "no_sa";
    case ForwardDrop::wrong_destination: return "wrong_destination";
    case ForwardDrop::no_route: return "no_route";
    case ForwardDrop::neighbor_unresolved: return "neighbor_unresolved";
    case ForwardDrop::mtu_exceeded: return "mtu_exceeded";
    case ForwardDrop::tx_full: return "tx_full";
    case ForwardDrop::exception_full: return "exception_full";
    case ForwardDrop::trapped: return "trapped";
    case ForwardDrop::count_: break;
  }
  return "?";
}

inline constexpr std::size_t kMaxForwardDrops = 18;  // room in a WORKER_STATS record (240-byte payload)
static_assert(kForwardDropReasons <= kMaxForwardDrops);

}  // namespace corridor::channel
