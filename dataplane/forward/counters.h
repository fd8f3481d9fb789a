// What a forwarding lcore counts besides the per-SA engine counters: every
// frame received is either forwarded, handed to the main lcore, absorbed,
// or dropped under exactly one of these names.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "common/channel/forward_drop.h"

namespace corridor::dataplane::forward {

// The drop reasons are the SA channel's (WORKER_STATS reports them).
using FwdDrop = channel::ForwardDrop;
inline constexpr std::size_t kFwdDropReasons = channel::kForwardDropReasons;
using channel::to_string;

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
  std::uint64_t polls = 0;           // rounds over every port's RX queue
  std::uint64_t busy_polls = 0;      // rounds that found frames: busy / all is the lcore's load
  std::uint64_t fragmented = 0;      // IPv4 packets cut to fit their path (RFC 791; before ESP, RFC 4301 §8.1)
  std::uint64_t fragments = 0;       // the pieces they were cut into
  std::uint64_t too_big_sent = 0;    // ICMP "fragmentation needed" / ICMPv6 "packet too big" sent
  std::uint64_t too_big_rate_limited = 0;  // of those due, not sent: over the rate limit
  std::array<std::uint64_t, kFwdDropReasons> drops{};

  void drop(FwdDrop d, std::uint64_t n = 1) { drops[static_cast<std::size_t>(d)] += n; }
  std::uint64_t dropped(FwdDrop d) const { return drops[static_cast<std::size_t>(d)]; }
};

}  // namespace corridor::dataplane::forward
