// The dataplane's per-SA counters as the control plane keeps them: the
// latest COUNTERS snapshot of each SA (what the API shows per Child SA) and
// running totals per connection and per drop reason (what Prometheus
// scrapes as counters, which must never go down, even when the SAs that
// carried the traffic are rekeyed or deleted).
//
// Snapshots arrive by SA channel id, which says nothing about the
// connection; settle() is given the owners of the SAs alive now and moves
// each SA's traffic since the last settle into its connection's totals. An
// SA that is gone is settled to the connection it had when last seen, then
// forgotten.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/channel/records.h"

namespace corridor::control {

struct TrafficTotals {
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t packets_in = 0;
  std::uint64_t packets_out = 0;
};

struct DropTotals {
  std::uint64_t replay = 0;
  std::uint64_t icv = 0;
  std::uint64_t malformed = 0;
};

class TrafficLedger {
 public:
  using Latest = std::unordered_map<std::uint64_t, channel::SaCounters>;

  void record(const channel::SaCounters& snapshot);

  // `owner` names the connection of an SA channel id that is alive now,
  // nullopt for one that is gone.
  void settle(const std::function<std::optional<std::string>(std::uint64_t sa_id)>& owner);

  const Latest& latest() const { return latest_; }
  const std::map<std::string, TrafficTotals>& by_connection() const { return by_connection_; }
  const DropTotals& drops() const { return drops_; }

 private:
  struct Pending {
    TrafficTotals traffic;
    std::string owner;  // the connection when last settled; "" if never seen alive
  };
  Latest latest_;
  std::unordered_map<std::uint64_t, Pending> pending_;
  std::map<std::string, TrafficTotals> by_connection_;
  DropTotals drops_;
};

}  // namespace corridor::control
