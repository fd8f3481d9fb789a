// What the two sides of the channel have in common: the attached segment,
// this side's generation and heartbeat, the producer of one ring and the
// consumer of the other, and the statistics. ControlEndpoint and
// DataplaneEndpoint wrap it with the record types of their direction.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "common/channel/backoff.h"
#include "common/channel/record_codec.h"
#include "common/channel/result.h"
#include "common/channel/ring_io.h"
#include "common/channel/segment.h"

namespace corridor::channel {

struct EndpointOptions {
  SegmentOptions segment;
  BackoffPolicy backoff;
};

// The other side as its SideBlock shows it.
struct PeerStatus {
  std::uint64_t generation = 0;    // 0: never attached
  std::uint64_t pid = 0;           // 0: detached (cleanly) or never attached
  std::uint64_t heartbeat_ns = 0;  // CLOCK_MONOTONIC of its latest heartbeat
  // Attached and heard from within `timeout` of `now_ns`.
  bool alive(std::uint64_t now_ns, std::chrono::nanoseconds timeout) const {
    return pid != 0 && now_ns >= heartbeat_ns &&
           now_ns - heartbeat_ns <= static_cast<std::uint64_t>(timeout.count());
  }
};

// One record taken off a ring. `record` holds the decoded value or why it
// was refused; the other fields are read from the raw header even for
// refused records, so that a COMMAND_RESULT can name what it refuses.
template <typename T>
struct Received {
  std::uint64_t sequence = 0;
  std::uint16_t raw_type = 0;
  std::uint64_t object_id = 0;  // payload bytes 0..7: SA / policy / request id
  bool after_gap = false;       // sequence numbers were missing before this one
  Expected<T, RecordError> record;
};

class Endpoint {
 public:
  // Opens (or creates) the segment and attaches as `side`.
  static Expected<Endpoint> attach(Side side, const EndpointOptions& options);

  Endpoint(Endpoint&& other) noexcept;
  Endpoint& operator=(Endpoint&& other) noexcept;
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;
  ~Endpoint();  // detaches cleanly

  Side side() const { return side_; }
  std::uint64_t generation() const { return generation_; }  // this side's, from attach
  // Refreshes this side's heartbeat timestamp; call from the main loop.
  void heartbeat(std::uint64_t now_ns = monotonic_ns());
  PeerStatus peer() const;
  RingStats command_stats() const;
  RingStats event_stats() const;
  const Segment& segment() const { return segment_; }
  // Gives the side up now (the destructor does it otherwise).
  void detach();

  SequencedProducer& producer() { return producer_; }
  const SequencedProducer& producer() const { return producer_; }

  // Takes up to `max` records off the consumed ring, decodes each with
  // `decode` and hands a Received<T> to fn. Refused records are counted
  // (header statistic `invalid`) and their slots wiped.
  template <typename T, typename Decode, typename Fn>
  std::size_t receive(std::size_t max, Decode&& decode, Fn&& fn) {
    return consumer_.consume(max, [&](RecordSlot& slot, SequenceCheck check) {
      const RecordHeader h = read_header(slot);
      Received<T> r{h.sequence, h.type, read_object_id(slot), check == SequenceCheck::after_gap,
                    check == SequenceCheck::bogus
                        ? Expected<T, RecordError>(RecordError{ResultCode::bad_sequence, Field::none})
                        : decode(slot)};
      if (!r.record.ok()) {
        consumer_.count_invalid();
        SequencedConsumer::wipe(slot);
      }
      fn(r);
    });
  }
  bool consumer_corrupt() const { return consumer_.corrupt(); }
  std::uint64_t last_consumed_sequence() const { return consumer_.last_sequence(); }

 private:
  Endpoint(Segment segment, Side side, std::uint64_t generation, const BackoffPolicy& backoff);

  Segment segment_;
  Side side_ = Side::control;
  std::uint64_t generation_ = 0;
  SequencedProducer producer_;
  SequencedConsumer consumer_;
  bool attached_ = false;
};

}  // namespace corridor::channel
