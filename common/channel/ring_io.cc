#include "common/channel/ring_io.h"

namespace corridor::channel {

std::string_view to_string(PushStatus status) {
  switch (status) {
    case PushStatus::ok: return "ok";
    case PushStatus::ring_full: return "ring full";
    case PushStatus::ring_corrupt: return "ring corrupt";
  }
  return "unknown";
}

RingStats read_stats(const ProducerBlock& p, const ConsumerBlock& c) {
  constexpr auto r = std::memory_order_relaxed;
  RingStats s;
  s.head = p.head.load(r);
  s.next_sequence = p.next_sequence.load(r);
  s.produced = p.produced.load(r);
  s.stalls = p.stalls.load(r);
  s.stall_ns = p.stall_ns.load(r);
  s.timeouts = p.timeouts.load(r);
  s.tail = c.tail.load(r);
  s.last_sequence = c.last_sequence.load(r);
  s.consumed = c.consumed.load(r);
  s.gaps = c.gaps.load(r);
  s.duplicates = c.duplicates.load(r);
  s.invalid = c.invalid.load(r);
  return s;
}

SequencedProducer::SequencedProducer(ProducerBlock& producer, const ConsumerBlock& consumer,
                                     RecordSlot* slots, std::uint32_t capacity,
                                     const BackoffPolicy& backoff)
    : ring_(&producer.head, &consumer.tail, slots, capacity), block_(&producer), backoff_(backoff),
      // A restarted producer continues the numbering where it stopped.
      next_sequence_(producer.next_sequence.load(std::memory_order_relaxed)) {}

void SequencedProducer::commit(std::size_t n) {
  next_sequence_ += n;
  block_->next_sequence.store(next_sequence_, std::memory_order_relaxed);
  bump(block_->produced, n);
  ring_.publish(n);  // release: orders the stores above and the slot contents
}

SequencedConsumer::SequencedConsumer(const ProducerBlock& producer, ConsumerBlock& consumer,
                                     RecordSlot* slots, std::uint32_t capacity)
    : ring_(&producer.head, &consumer.tail, slots, capacity), producer_(&producer),
      block_(&consumer),
      // A restarted consumer knows what it applied before it stopped.
      last_sequence_(consumer.last_sequence.load(std::memory_order_relaxed)) {}

void SequencedConsumer::finish(std::size_t n) {
  block_->last_sequence.store(last_sequence_, std::memory_order_relaxed);
  bump(block_->consumed, n);
  ring_.release(n);  // release: our reads and wipes happen before reuse
}

}  // namespace corridor::channel
