#include "dataplane/channel/event_outbox.h"

namespace corridor::dataplane {

using channel::RecordSlot;

void EventOutbox::add(const RecordSlot& slot) { queue_.push_back(slot); }

bool EventOutbox::add_counters(const channel::SaCounters& counters) {
  const auto it = counters_serial_.find(counters.sa_id);
  if (it != counters_serial_.end() && it->second >= front_serial_) {
    // An older snapshot of this SA is still waiting: the new one replaces it.
    channel::encode(counters, queue_[it->second - front_serial_]);
    return true;
  }
  if (queue_.size() >= limit_) {
    ++dropped_counters_;
    return false;
  }
  RecordSlot slot;
  channel::encode(counters, slot);
  queue_.push_back(slot);
  counters_serial_[counters.sa_id] = front_serial_ + queue_.size() - 1;
  return true;
}

channel::PushOutcome EventOutbox::flush(channel::DataplaneEndpoint& endpoint,
                                        channel::Deadline deadline) {
  if (queue_.empty()) return {};
  const channel::PushOutcome out = endpoint.push_events_with(
      queue_.size(), [&](std::size_t i, RecordSlot& slot) { slot = queue_[i]; }, deadline);
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(out.pushed));
  front_serial_ += out.pushed;
  if (queue_.empty()) counters_serial_.clear();
  return out;
}

}  // namespace corridor::dataplane
