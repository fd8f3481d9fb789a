// What a forwarding lcore counts besides the per-SA engine counters: every
// frame received is either forwarded, handed to the main lcore, absorbed,
// or dropped under exactly one of these names.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace corridor::dataplane::forward {

enum class FwdDrop : std::uint8_t {
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
  count_,
};

inline constexpr std::size_t kFwdDropReasons = static_cast<std::size_t>(FwdDrop::count_);

constexpr std::string_view to_string(FwdDrop d) {
  switch (d) {
    case FwdDrop::runt: return "runt";
    case FwdDrop::other_host: return "other_host";
    case FwdDrop::unknown_ethertype: return "unknown_ethertype";
    case FwdDrop::vlan: return "vlan";
    case FwdDrop::bad_ip_header: return "bad_ip_header";
    case FwdDrop::ttl_exceeded: return "ttl_exceeded";
    case FwdDrop::no_policy: return "no_policy";
    case FwdDrop::policy_discard: return "policy_discard";
    case FwdDrop::sa_gone: return "sa_gone";
    case FwdDrop::no_sa: return "no_sa";
    case FwdDrop::wrong_destination: return "wrong_destination";
    case FwdDrop::no_route: return "no_route";
    case FwdDrop::neighbor_unresolved: return "neighbor_unresolved";
    case FwdDrop::mtu_exceeded: return "mtu_exceeded";
    case FwdDrop::tx_full: return "tx_full";
    case FwdDrop::exception_full: return "exception_full";
    case FwdDrop::count_: break;
  }
  return "?";
}

// One lcore's counters; written by it alone, read by the main lcore.
struct ForwardCounters {
  std::uint64_t rx = 0;            // frames received
  std::uint64_t tx = 0;            // frames sent
  std::uint64_t protected_out = 0;  // clear packets that left ESP/AH-protected
  std::uint64_t decapsulated = 0;   // ESP/AH packets that left in the clear
  std::uint64_t bypassed = 0;       // forwarded in the clear by a bypass policy
  std::uint64_t to_main = 0;        // ARP and traffic for the gateway itself
  std::uint64_t nat_keepalives = 0;  // RFC 3948 §2.3, absorbed
  std::uint64_t engine_drops = 0;    // dropped by the ESP/AH engine (per SA reason in the SA's counters)
  std::array<std::uint64_t, kFwdDropReasons> drops{};

  void drop(FwdDrop d, std::uint64_t n = 1) { drops[static_cast<std::size_t>(d)] += n; }
  std::uint64_t dropped(FwdDrop d) const { return drops[static_cast<std::size_t>(d)]; }
};

}  // namespace corridor::dataplane::forward
