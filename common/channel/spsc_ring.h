// Lock-free single-producer / single-consumer ring of fixed-size slots that
// may live in memory shared by two processes.
//
// The ring is the classic Lamport queue with the refinements of DPDK's
// rte_ring (SP/SC mode) and of Seastar's/folly's SPSC queues:
//  - head and tail are free-running 64-bit counters (never wrapped; 2^64
//    records at 10^9/s is 584 years), the slot is `index & (capacity - 1)`,
//    so "full" and "empty" need no spare slot;
//  - the index each side writes lives on its own 128-byte block (two cache
//    lines: Intel's adjacent-line prefetcher pulls pairs), see layout.h;
//  - each side keeps a private copy of the other side's index and rereads the
//    shared one only when the copy says the ring is full/empty, so in steady
//    state a burst costs one acquire load and one release store;
//  - bursts: claim(n) / publish(n) and available(n) / release(n) move many
//    slots per pair of atomic operations, and the caller fills or reads the
//    slots in place (no intermediate copy).
//
// The ring trusts nothing it reads from the other side: if the other index is
// impossible for the capacity (a foreign or corrupted segment), the ring
// reports `corrupt()` and stops moving instead of touching a wrong slot.
// Slot addresses are always computed with the mask, so a bad index can never
// address memory outside the slot array.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace corridor::channel {

using RingIndex = std::atomic<std::uint64_t>;
static_assert(RingIndex::is_always_lock_free,
              "ring indices are shared between processes: they must be lock-free (address-free)");

constexpr bool is_power_of_two(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

template <typename Slot>
class SpscProducer {
  static_assert(std::is_trivially_copyable_v<Slot>, "slots are copied as bytes");

 public:
  SpscProducer() = default;
  // `head` is written by this producer only; `tail` by the consumer only.
  // Precondition: capacity is a power of two and `slots` has that many slots.
  SpscProducer(RingIndex* head, const RingIndex* tail, Slot* slots, std::uint64_t capacity)
      : head_(head), tail_(tail), slots_(slots), capacity_(capacity), mask_(capacity - 1),
        local_head_(head->load(std::memory_order_relaxed)),
        cached_tail_(tail->load(std::memory_order_acquire)) {
    assert(is_power_of_two(capacity));
  }

  // Reserves up to `want` slots for writing and returns how many were
  // reserved (0 when full or corrupt). Slots stay invisible to the consumer
  // until publish().
  std::size_t claim(std::size_t want) {
    std::uint64_t free = free_from(cached_tail_);
    if (free < want) {
      cached_tail_ = tail_->load(std::memory_order_acquire);
      free = free_from(cached_tail_);
    }
    claimed_ = static_cast<std::size_t>(std::min<std::uint64_t>(want, free));
    return claimed_;
  }

  // The i-th claimed slot (0 <= i < claimed).
  Slot& slot(std::size_t i) {
    assert(i < claimed_);
    return slots_[(local_head_ + i) & mask_];
  }

  // Makes the first n claimed slots visible to the consumer (release store:
  // the consumer's acquire load of head sees the slot contents).
  void publish(std::size_t n) {
    assert(n <= claimed_);
    local_head_ += n;
    claimed_ = 0;
    head_->store(local_head_, std::memory_order_release);
  }

  // Copies up to n slots in and publishes them; returns how many.
  std::size_t try_push(const Slot* src, std::size_t n) {
    const std::size_t got = claim(n);
    for (std::size_t i = 0; i < got; ++i) slot(i) = src[i];
    if (got != 0) publish(got);
    return got;
  }

  std::uint64_t head() const { return local_head_; }
  std::uint64_t capacity() const { return capacity_; }
  bool corrupt() const { return corrupt_; }

 private:
  std::uint64_t free_from(std::uint64_t tail) {
    const std::uint64_t used = local_head_ - tail;
    if (used > capacity_) {  // tail ahead of head, or further back than capacity
      corrupt_ = true;
      return 0;
    }
    return capacity_ - used;
  }

  RingIndex* head_ = nullptr;
  const RingIndex* tail_ = nullptr;
  Slot* slots_ = nullptr;
  std::uint64_t capacity_ = 0;
  std::uint64_t mask_ = 0;
  std::uint64_t local_head_ = 0;
  std::uint64_t cached_tail_ = 0;
  std::size_t claimed_ = 0;
  bool corrupt_ = false;
};

template <typename Slot>
class SpscConsumer {
  static_assert(std::is_trivially_copyable_v<Slot>, "slots are copied as bytes");

 public:
  SpscConsumer() = default;
  // `tail` is written by this consumer only; `head` by the producer only.
  SpscConsumer(const RingIndex* head, RingIndex* tail, Slot* slots, std::uint64_t capacity)
      : head_(head), tail_(tail), slots_(slots), capacity_(capacity), mask_(capacity - 1),
        local_tail_(tail->load(std::memory_order_relaxed)),
        cached_head_(head->load(std::memory_order_acquire)) {
    assert(is_power_of_two(capacity));
  }

  // How many slots (up to `want`) can be read now; 0 when empty or corrupt.
  std::size_t available(std::size_t want) {
    std::uint64_t avail = used_to(cached_head_);
    if (avail < want) {
      cached_head_ = head_->load(std::memory_order_acquire);
      avail = used_to(cached_head_);
    }
    peeked_ = static_cast<std::size_t>(std::min<std::uint64_t>(want, avail));
    return peeked_;
  }

  // The i-th readable slot (0 <= i < available). Writable so that the
  // consumer can wipe key material before handing the slot back.
  Slot& slot(std::size_t i) {
    assert(i < peeked_);
    return slots_[(local_tail_ + i) & mask_];
  }

  // Hands the first n slots back to the producer (release store: our reads
  // and wipes of those slots happen before the producer may overwrite them).
  void release(std::size_t n) {
    assert(n <= peeked_);
    local_tail_ += n;
    peeked_ -= n;
    tail_->store(local_tail_, std::memory_order_release);
  }

  // Copies out up to n slots and releases them; returns how many.
  std::size_t try_pop(Slot* dst, std::size_t n) {
    const std::size_t got = available(n);
    for (std::size_t i = 0; i < got; ++i) dst[i] = slot(i);
    if (got != 0) release(got);
    return got;
  }

  std::uint64_t tail() const { return local_tail_; }
  std::uint64_t capacity() const { return capacity_; }
  bool corrupt() const { return corrupt_; }

 private:
  std::uint64_t used_to(std::uint64_t head) {
    const std::uint64_t used = head - local_tail_;
    if (used > capacity_) {  // head behind tail, or further ahead than capacity
      corrupt_ = true;
      return 0;
    }
    return used;
  }

  const RingIndex* head_ = nullptr;
  RingIndex* tail_ = nullptr;
  Slot* slots_ = nullptr;
  std::uint64_t capacity_ = 0;
  std::uint64_t mask_ = 0;
  std::uint64_t local_tail_ = 0;
  std::uint64_t cached_head_ = 0;
  std::size_t peeked_ = 0;
  bool corrupt_ = false;
};

}  // namespace corridor::channel
