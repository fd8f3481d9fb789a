// corridor-control's end of the SA channel: produces commands, consumes
// events. Never links DPDK.
//
//   auto ep = ControlEndpoint::attach({.segment = {.name = "/corridor"}});
//   if (!ep) { log(ep.error().message); return; }
//   RecordSlot slot;
//   encode_sa(RecordType::add_sa, sa, slot);
//   PushOutcome out = ep->push_commands({&slot, 1}, SteadyClock::now() + 50ms);
//   secure_zero(&slot, sizeof slot);
//   if (out.status != PushStatus::ok) { keep it queued and retry later }
//   ep->poll_events(64, [&](const Received<Event>& ev) { ... });
//
// Higher-level state (desired set, restart handling) is in
// control/daemon/sa_sync.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "common/channel/endpoint.h"

namespace corridor::channel {

class ControlEndpoint {
 public:
  // Opens or creates the segment and attaches as the control side; this
  // increments the control generation.
  static Expected<ControlEndpoint> attach(const EndpointOptions& options = {});

  std::uint64_t generation() const { return core_.generation(); }

  // Pushes all `records` (sequence numbers are stamped here), waiting with
  // back-off for room until `deadline`.
  PushOutcome push_commands(std::span<const RecordSlot> records, Deadline deadline) {
    return core_.producer().push(records, deadline);
  }
  // Zero-copy push: fill(i, slot) encodes record i straight into the ring.
  template <typename Fill>
  PushOutcome push_commands_with(std::size_t n, Fill&& fill, Deadline deadline) {
    return core_.producer().push_with(n, std::forward<Fill>(fill), deadline);
  }
  // Sequence number the next pushed command will carry.
  std::uint64_t next_command_sequence() const { return core_.producer().next_sequence(); }
  // Highest command sequence the dataplane has taken off the ring.
  std::uint64_t commands_consumed_through() const {
    return core_.segment().header().command_consumer.last_sequence.load(std::memory_order_acquire);
  }

  // Takes up to `max` events off the event ring; fn(const Received<Event>&).
  template <typename Fn>
  std::size_t poll_events(std::size_t max, Fn&& fn) {
    return core_.receive<Event>(max, decode_event, std::forward<Fn>(fn));
  }
  bool event_ring_corrupt() const { return core_.consumer_corrupt(); }

  PeerStatus dataplane() const { return core_.peer(); }
  void heartbeat(std::uint64_t now_ns = monotonic_ns()) { core_.heartbeat(now_ns); }
  RingStats command_stats() const { return core_.command_stats(); }
  RingStats event_stats() const { return core_.event_stats(); }
  const Segment& segment() const { return core_.segment(); }
  void detach() { core_.detach(); }

 private:
  explicit ControlEndpoint(Endpoint core) : core_(std::move(core)) {}
  Endpoint core_;
};

}  // namespace corridor::channel
