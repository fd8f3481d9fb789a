// Deferred release of what the workers may still be reading (RCU with
// DPDK's quiescent-state-based reclamation, rte_rcu_qsbr).
//
// The main lcore unpublishes an object (swaps a pointer, unlinks a SAD
// entry), then hands its release to defer(). Every worker reports a
// quiescent state between bursts (rte_rcu_qsbr_quiescent); once all of them
// have done so after the defer() call, no worker can still hold the old
// pointer and poll() runs the release. Workers never lock and never wait.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <utility>

struct rte_rcu_qsbr;

namespace corridor::dataplane::forward {

class GracePeriod {
 public:
  // `qsbr` is initialised for the worker threads and outlives this.
  explicit GracePeriod(rte_rcu_qsbr* qsbr) : qsbr_(qsbr) {}
  GracePeriod(const GracePeriod&) = delete;
  GracePeriod& operator=(const GracePeriod&) = delete;
  ~GracePeriod() { drain(); }

  // Runs `release` once every registered reader has been quiescent after
  // this call.
  void defer(std::function<void()> release);
  // Runs every release that is due. Returns how many are still waiting.
  std::size_t poll();
  // Runs every release, waiting for the readers (shutdown: readers that
  // have stopped must be offline or unregistered).
  void drain();
  std::size_t pending() const { return pending_.size(); }

 private:
  rte_rcu_qsbr* qsbr_;
  std::deque<std::pair<std::uint64_t, std::function<void()>>> pending_;
};

}  // namespace corridor::dataplane::forward
