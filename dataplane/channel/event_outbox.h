// Events waiting for room on the event ring.
//
// The dataplane must never block its channel loop on control: when the
// event ring is full (control stopped or slow) events wait here, in order,
// and are pushed on the next poll. Lifetime, overflow, inventory, results
// and heartbeat acks are never dropped (there is at most a few per SA). A
// COUNTERS snapshot replaces a queued older snapshot of the same SA, and when
// the outbox holds more than `limit` records new snapshots are dropped and
// counted: they are periodic and the next one supersedes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>

#include "common/channel/dataplane_endpoint.h"
#include "common/channel/record_codec.h"

namespace corridor::dataplane {

class EventOutbox {
 public:
  explicit EventOutbox(std::size_t limit = 1U << 20) : limit_(limit) {}

  // Queues an encoded event (anything but COUNTERS).
  void add(const channel::RecordSlot& slot);
  // Queues (or coalesces) a counters snapshot; false if dropped.
  bool add_counters(const channel::SaCounters& counters);

  // Pushes queued events until done or `deadline`; what does not fit stays.
  channel::PushOutcome flush(channel::DataplaneEndpoint& endpoint, channel::Deadline deadline);

  std::size_t size() const { return queue_.size(); }
  std::uint64_t dropped_counters() const { return dropped_counters_; }

 private:
  std::size_t limit_;
  std::deque<channel::RecordSlot> queue_;
  std::uint64_t front_serial_ = 0;  // serial of queue_.front()
  std::unordered_map<std::uint64_t, std::uint64_t> counters_serial_;  // sa_id -> serial
  std::uint64_t dropped_counters_ = 0;
};

}  // namespace corridor::dataplane
