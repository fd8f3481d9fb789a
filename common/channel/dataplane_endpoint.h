// corridor-dataplane's end of the SA channel: consumes commands, produces
// events. Free of DPDK so that it can be tested without EAL; it runs on the
// dataplane's main (non-worker) lcore, off the fast path.
//
// The consumer of the protocol (apply commands, answer inventory requests)
// is dataplane/channel/sa_inventory.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "common/channel/endpoint.h"

namespace corridor::channel {

class DataplaneEndpoint {
 public:
  // Opens or creates the segment and attaches as the dataplane side; this
  // increments the dataplane generation, which tells control to resend.
  static Expected<DataplaneEndpoint> attach(const EndpointOptions& options = {});

  std::uint64_t generation() const { return core_.generation(); }

  // Takes up to `max` commands off the command ring;
  // fn(const Received<Command>&). Key-carrying slots are wiped afterwards.
  template <typename Fn>
  std::size_t poll_commands(std::size_t max, Fn&& fn) {
    return core_.receive<Command>(max, decode_command, std::forward<Fn>(fn));
  }
  bool command_ring_corrupt() const { return core_.consumer_corrupt(); }
  std::uint64_t last_command_sequence() const { return core_.last_consumed_sequence(); }

  PushOutcome push_events(std::span<const RecordSlot> records, Deadline deadline) {
    return core_.producer().push(records, deadline);
  }
  template <typename Fill>
  PushOutcome push_events_with(std::size_t n, Fill&& fill, Deadline deadline) {
    return core_.producer().push_with(n, std::forward<Fill>(fill), deadline);
  }

  PeerStatus control() const { return core_.peer(); }
  void heartbeat(std::uint64_t now_ns = monotonic_ns()) { core_.heartbeat(now_ns); }
  RingStats command_stats() const { return core_.command_stats(); }
  RingStats event_stats() const { return core_.event_stats(); }
  const Segment& segment() const { return core_.segment(); }
  void detach() { core_.detach(); }

 private:
  explicit DataplaneEndpoint(Endpoint core) : core_(std::move(core)) {}
  Endpoint core_;
};

}  // namespace corridor::channel
