// Clock and back-off used by the SA channel.
//
// Both processes run on the same host, so CLOCK_MONOTONIC timestamps written
// into the segment by one side are directly comparable by the other (that is
// how heartbeats are judged stale). A producer that finds its ring full waits
// in three stages, like DPDK's rte_ring users and Seastar's reactor idle loop:
// spin with the CPU's pause hint (the consumer usually frees a slot within
// nanoseconds), then yield the core (the consumer may share it), then sleep
// with a doubling interval up to a cap (the consumer is stopped or busy).
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <thread>

namespace corridor::channel {

using SteadyClock = std::chrono::steady_clock;
using Deadline = SteadyClock::time_point;

// CLOCK_MONOTONIC in nanoseconds: the clock of every timestamp in the segment.
inline std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

struct BackoffPolicy {
  std::uint32_t spins = 256;   // pause-hint iterations before yielding
  std::uint32_t yields = 64;   // sched_yield calls before sleeping
  std::chrono::microseconds first_sleep{20};
  std::chrono::microseconds max_sleep{2000};
};

class Backoff {
 public:
  explicit Backoff(const BackoffPolicy& policy) : policy_(policy), sleep_(policy.first_sleep) {}

  // Waits once; each call waits at least as long as the previous one. Never
  // sleeps past `deadline` so the caller's deadline is honoured to within
  // one scheduler tick.
  void pause(Deadline deadline) {
    if (spins_ < policy_.spins) {
      ++spins_;
      cpu_relax();
      return;
    }
    if (yields_ < policy_.yields) {
      ++yields_;
      std::this_thread::yield();
      return;
    }
    const auto now = SteadyClock::now();
    if (now >= deadline) return;
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now);
    std::this_thread::sleep_for(left < sleep_ ? left : sleep_);
    sleep_ = sleep_ * 2 > policy_.max_sleep ? policy_.max_sleep : sleep_ * 2;
  }

  void reset() {
    spins_ = 0;
    yields_ = 0;
    sleep_ = policy_.first_sleep;
  }

 private:
  BackoffPolicy policy_;
  std::uint32_t spins_ = 0;
  std::uint32_t yields_ = 0;
  std::chrono::microseconds sleep_;
};

}  // namespace corridor::channel
