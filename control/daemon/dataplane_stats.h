// The dataplane's port and worker counters as it last reported them over
// the SA channel (PORT_STATS / WORKER_STATS, once per reporting interval).
// The API's /dataplane/ports, /dataplane/workers and /stats and the
// Prometheus metrics read them here; nothing is asked of the dataplane per
// request. A dataplane restart clears them: its counters start again from
// zero, and stale numbers from the old process would read as a wrap.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>

#include "common/channel/records.h"

namespace corridor::control {

class DataplaneStats {
 public:
  using Clock = std::chrono::steady_clock;

  struct Port {
    channel::PortStats stats;
    Clock::time_point received{};
  };
  struct Worker {
    channel::WorkerStats stats;
    Clock::time_point received{};
  };

  void update(const channel::PortStats& p, Clock::time_point now) { ports_[p.port_id] = {p, now}; }
  void update(const channel::WorkerStats& w, Clock::time_point now) { workers_[w.worker_index] = {w, now}; }
  void clear() {
    ports_.clear();
    workers_.clear();
  }

  const std::map<std::uint16_t, Port>& ports() const { return ports_; }        // by DPDK port id
  const std::map<std::uint16_t, Worker>& workers() const { return workers_; }  // by worker index

  // Forwarding drops of every worker, by reason.
  std::array<std::uint64_t, channel::kMaxForwardDrops> drops() const {
    std::array<std::uint64_t, channel::kMaxForwardDrops> out{};
    for (const auto& [index, w] : workers_)
      for (std::size_t r = 0; r < out.size(); ++r) out[r] += w.stats.drops[r];
    return out;
  }

 private:
  std::map<std::uint16_t, Port> ports_;
  std::map<std::uint16_t, Worker> workers_;
};

}  // namespace corridor::control
