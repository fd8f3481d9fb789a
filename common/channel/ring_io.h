// Sequenced producer and consumer of one channel ring: the SPSC ring plus
// the protocol rules around it (docs/sa-channel.md, "Sequence numbers" and
// "Full ring").
//
// Producer: stamps each record with the next sequence number, persists the
// counter in the segment BEFORE publishing the records (so a producer that
// dies between the two leaves a gap the consumer detects, never a reused
// number), never overwrites, and when the ring is full waits with back-off
// until the caller's deadline, counting the stall in the header statistics.
// It returns how many records went in and why it stopped; the caller must
// handle a partial push ([[nodiscard]]).
//
// Consumer: accepts a record only if its sequence is above the last one it
// applied (persisted in the segment) and below the producer's counter; a
// record at or below the last applied one is a re-delivery after a consumer
// restart and is skipped; a jump counts the missing numbers as gaps. Slots
// that carried key material are wiped before they are handed back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/channel/backoff.h"
#include "common/channel/layout.h"
#include "common/channel/record_codec.h"
#include "common/channel/spsc_ring.h"

namespace corridor::channel {

enum class PushStatus : std::uint8_t {
  ok,            // everything was pushed
  ring_full,     // the deadline passed with the ring still full: retry later
  ring_corrupt,  // the consumer's index is impossible: the segment is damaged
};
std::string_view to_string(PushStatus status);

struct [[nodiscard]] PushOutcome {
  std::size_t pushed = 0;            // records in the ring: a prefix of the input
  PushStatus status = PushStatus::ok;
  std::uint64_t first_sequence = 0;  // sequence of the first pushed record, 0 if none
};

// Counters of one ring, read from the segment (either side may read them).
struct RingStats {
  std::uint64_t head = 0;
  std::uint64_t tail = 0;
  std::uint64_t next_sequence = 0;
  std::uint64_t last_sequence = 0;
  std::uint64_t produced = 0;
  std::uint64_t stalls = 0;
  std::uint64_t stall_ns = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t consumed = 0;
  std::uint64_t gaps = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t invalid = 0;
};
RingStats read_stats(const ProducerBlock& producer, const ConsumerBlock& consumer);

class SequencedProducer {
 public:
  SequencedProducer() = default;
  SequencedProducer(ProducerBlock& producer, const ConsumerBlock& consumer, RecordSlot* slots,
                    std::uint32_t capacity, const BackoffPolicy& backoff);

  // Pushes n records; fill(i, slot) must write record i completely (the
  // encoders do) into the ring slot. Waits for room until `deadline`
  // (a deadline in the past makes this a single non-blocking attempt).
  template <typename Fill>
  PushOutcome push_with(std::size_t n, Fill&& fill, Deadline deadline) {
    PushOutcome out;
    Backoff backoff(backoff_);
    bool stalled = false;
    std::uint64_t stall_start = 0;
    while (out.pushed < n) {
      const std::size_t got = ring_.claim(n - out.pushed);
      if (got != 0) {
        if (out.first_sequence == 0) out.first_sequence = next_sequence_;
        for (std::size_t i = 0; i < got; ++i) {
          RecordSlot& slot = ring_.slot(i);
          fill(out.pushed + i, slot);
          set_sequence(slot, next_sequence_ + i);
        }
        commit(got);
        out.pushed += got;
        continue;
      }
      if (ring_.corrupt()) {
        out.status = PushStatus::ring_corrupt;
        break;
      }
      if (!stalled) {
        stalled = true;
        stall_start = monotonic_ns();
        bump(block_->stalls, 1);
      }
      if (SteadyClock::now() >= deadline) {
        out.status = PushStatus::ring_full;
        bump(block_->timeouts, 1);
        break;
      }
      backoff.pause(deadline);
    }
    if (stalled) bump(block_->stall_ns, monotonic_ns() - stall_start);
    return out;
  }

  PushOutcome push(std::span<const RecordSlot> records, Deadline deadline) {
    return push_with(
        records.size(), [&](std::size_t i, RecordSlot& slot) { slot = records[i]; }, deadline);
  }

  std::uint64_t next_sequence() const { return next_sequence_; }
  bool corrupt() const { return ring_.corrupt(); }

 private:
  // Sequence first, then the records become visible (release on head).
  void commit(std::size_t n);
  // Single writer: a plain load/store pair, no read-modify-write needed.
  static void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  SpscProducer<RecordSlot> ring_;
  ProducerBlock* block_ = nullptr;
  BackoffPolicy backoff_;
  std::uint64_t next_sequence_ = 1;
};

// How the consumer judged a record's sequence number.
enum class SequenceCheck : std::uint8_t {
  in_order,  // last + 1
  after_gap, // above last + 1: records were lost (counted in `gaps`)
  bogus,     // 0, or not yet issued by the producer: the record is invalid
};

class SequencedConsumer {
 public:
  SequencedConsumer() = default;
  SequencedConsumer(const ProducerBlock& producer, ConsumerBlock& consumer, RecordSlot* slots,
                    std::uint32_t capacity);

  // Hands up to `max` records to fn(RecordSlot& slot, SequenceCheck check)
  // (re-deliveries are skipped without calling fn), wipes key-carrying
  // slots, persists the last sequence and releases the slots. Returns the
  // number of slots taken off the ring.
  template <typename Fn>
  std::size_t consume(std::size_t max, Fn&& fn) {
    const std::size_t n = ring_.available(max);
    if (n == 0) return 0;
    // Stored by the producer before its release store of head, which our
    // acquire load of head (in available) has seen: bounds every sequence
    // in the slots we are about to read.
    const std::uint64_t issued = producer_->next_sequence.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < n; ++i) {
      RecordSlot& slot = ring_.slot(i);
      const RecordHeader header = read_header(slot);
      const std::uint64_t seq = header.sequence;
      if (seq == 0 || seq >= issued) {
        fn(slot, SequenceCheck::bogus);
      } else if (seq <= last_sequence_) {
        bump(block_->duplicates, 1);
      } else {
        const bool gap = seq != last_sequence_ + 1;
        if (gap) bump(block_->gaps, seq - last_sequence_ - 1);
        last_sequence_ = seq;
        fn(slot, gap ? SequenceCheck::after_gap : SequenceCheck::in_order);
      }
      if (carries_keys(header.type)) secure_zero(slot.bytes.data(), slot.bytes.size());
    }
    finish(n);
    return n;
  }

  // Wipes a whole slot (for invalid records, whose contents are unknown).
  static void wipe(RecordSlot& slot) { secure_zero(slot.bytes.data(), slot.bytes.size()); }
  void count_invalid() { bump(block_->invalid, 1); }
  std::uint64_t last_sequence() const { return last_sequence_; }
  bool corrupt() const { return ring_.corrupt(); }

 private:
  void finish(std::size_t n);
  static void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  SpscConsumer<RecordSlot> ring_;
  const ProducerBlock* producer_ = nullptr;
  ConsumerBlock* block_ = nullptr;
  std::uint64_t last_sequence_ = 0;
};

}  // namespace corridor::channel
