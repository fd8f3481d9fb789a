#include "common/channel/endpoint.h"

#include <utility>

namespace corridor::channel {

Expected<Endpoint> Endpoint::attach(Side side, const EndpointOptions& options) {
  Expected<Segment> seg = Segment::open(options.segment);
  if (!seg) return seg.error();
  Expected<std::uint64_t> generation = seg->attach(side);
  if (!generation) return generation.error();
  return Endpoint(std::move(seg).value(), side, generation.value(), options.backoff);
}

Endpoint::Endpoint(Segment segment, Side side, std::uint64_t generation,
                   const BackoffPolicy& backoff)
    : segment_(std::move(segment)), side_(side), generation_(generation), attached_(true) {
  SegmentHeader& h = segment_.header();
  if (side == Side::control) {
    producer_ = SequencedProducer(h.command_producer, h.command_consumer, segment_.command_slots(),
                                  segment_.command_capacity(), backoff);
    consumer_ = SequencedConsumer(h.event_producer, h.event_consumer, segment_.event_slots(),
                                  segment_.event_capacity());
  } else {
    producer_ = SequencedProducer(h.event_producer, h.event_consumer, segment_.event_slots(),
                                  segment_.event_capacity(), backoff);
    consumer_ = SequencedConsumer(h.command_producer, h.command_consumer, segment_.command_slots(),
                                  segment_.command_capacity());
  }
}

Endpoint::Endpoint(Endpoint&& other) noexcept
    : segment_(std::move(other.segment_)), side_(other.side_), generation_(other.generation_),
      producer_(other.producer_), consumer_(other.consumer_), attached_(other.attached_) {
  other.attached_ = false;
}

Endpoint& Endpoint::operator=(Endpoint&& other) noexcept {
  if (this != &other) {
    detach();
    segment_ = std::move(other.segment_);
    side_ = other.side_;
    generation_ = other.generation_;
    producer_ = other.producer_;
    consumer_ = other.consumer_;
    attached_ = other.attached_;
    other.attached_ = false;
  }
  return *this;
}

Endpoint::~Endpoint() { detach(); }

void Endpoint::detach() {
  if (!attached_) return;
  segment_.detach(side_);
  attached_ = false;
}

void Endpoint::heartbeat(std::uint64_t now_ns) {
  segment_.side(side_).heartbeat_ns.store(now_ns, std::memory_order_relaxed);
}

PeerStatus Endpoint::peer() const {
  const SideBlock& b = segment_.side(side_ == Side::control ? Side::dataplane : Side::control);
  return {b.generation.load(std::memory_order_acquire), b.pid.load(std::memory_order_acquire),
          b.heartbeat_ns.load(std::memory_order_relaxed)};
}

RingStats Endpoint::command_stats() const {
  const SegmentHeader& h = segment_.header();
  return read_stats(h.command_producer, h.command_consumer);
}

RingStats Endpoint::event_stats() const {
  const SegmentHeader& h = segment_.header();
  return read_stats(h.event_producer, h.event_consumer);
}

}  // namespace corridor::channel
