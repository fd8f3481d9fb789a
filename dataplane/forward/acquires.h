// Acquires: what a forwarding lcore reports when a packet hits a trap
// policy (channel::PolicyAction::trap), the dataplane's side of
// strongSwan's start_action=trap and of the kernel's XFRM acquire.
//
// The packet itself is dropped (ForwardDrop::trapped): an SA takes an IKE
// round trip or two to negotiate, longer than a packet should wait in a
// forwarding lcore. What the lcore keeps is the policy and the packet's
// selectors, once per policy per `hold` (kAcquireHoldSeconds): a flow that
// keeps sending while its SA is negotiated must not flood the channel,
// and control asks again only when the negotiation failed. The rate limit
// is a direct-mapped table by policy id; two policies sharing a slot only
// cost an extra ACQUIRE, which control ignores while it negotiates.
//
// Written by the lcore that forwards, taken by the main lcore that owns
// the SA channel: today the same lcore (one forwarding lcore). With
// worker lcores each gets its own Acquires and hands them over through its
// ring to the main lcore as it does its counters.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/channel/records.h"
#include "dataplane/tables/spd_key.h"

namespace corridor::dataplane::forward {

struct AcquireCounters {
  std::uint64_t raised = 0;    // ACQUIREs queued for control
  std::uint64_t held = 0;      // trapped packets of a policy acquired less than `hold` ago
  std::uint64_t overflow = 0;  // not queued: kPending were waiting for the main lcore
};

class Acquires {
 public:
  static constexpr std::size_t kPending = 64;
  static constexpr std::size_t kSlots = 256;  // rate-limit table (power of two)

  // `hold`: in the caller's clock units (TSC cycles in the dataplane).
  explicit Acquires(std::uint64_t hold) : hold_(hold) {}

  // A packet with selectors `key` hit trap policy `policy_id` at `now`.
  // Queued unless the policy was acquired less than `hold` ago or the
  // queue is full (counted either way).
  void raise(std::uint64_t policy_id, const tables::PacketKey& key, std::uint64_t now);

  std::span<const channel::Acquire> pending() const { return {pending_.data(), n_}; }
  void clear() { n_ = 0; }
  const AcquireCounters& counters() const { return counters_; }

  // The ACQUIRE for a packet (ports 0 when OPAQUE).
  static channel::Acquire to_record(std::uint64_t policy_id, const tables::PacketKey& key);

 private:
  struct Slot {
    std::uint64_t policy_id = 0;  // 0: never used (policy ids are never 0)
    std::uint64_t at = 0;
  };
  std::uint64_t hold_;
  std::array<Slot, kSlots> recent_{};
  std::array<channel::Acquire, kPending> pending_{};
  std::size_t n_ = 0;
  AcquireCounters counters_;
};

}  // namespace corridor::dataplane::forward
