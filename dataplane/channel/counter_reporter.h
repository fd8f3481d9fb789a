// Which per-SA counters the dataplane reports over the SA channel, and when
// (docs/sa-channel.md §6.1): COUNTERS snapshots and REPLAY_ICV_SUMMARY.
//
// Runs on the main lcore between forwarding rounds, so its work per turn is
// bounded: it walks the SAs it tracks in sa_id order, at most `slice` per
// turn, resuming after the last sa_id it visited. One walk over all of them
// (a pass) starts every `interval_ns`; in it, each SA whose counters differ
// from its last queued snapshot is reported (an SA with no traffic yet has
// nothing to report), and the replay and ICV drops seen since the previous
// pass are summed into one REPLAY_ICV_SUMMARY, sent at the end of the pass
// only if there were any. An idle gateway sends nothing.
//
// The engine does not timestamp packets: last_packet_ns is the time of the
// first pass that saw the SA's packet counter move, so it is late by at most
// one interval (plus the pass's own length).
//
// No DPDK here: CounterIo reads the counters and queues the events (the
// dataplane: SaTables and SaInventory; tests: a fake).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "common/channel/records.h"

namespace corridor::dataplane {

class CounterIo {
 public:
  virtual ~CounterIo() = default;
  // The SA's counters now, with sa_id, spi and direction (last_packet_ns
  // is the reporter's); nullopt if the SA is no longer installed.
  virtual std::optional<channel::SaCounters> read(std::uint64_t sa_id) = 0;
  // Queues a COUNTERS snapshot; false if it was dropped (outbox full).
  virtual bool send_counters(const channel::SaCounters& counters) = 0;
  virtual void send_summary(const channel::ReplayIcvSummary& summary) = 0;
};

struct CounterReporterOptions {
  std::uint64_t interval_ns = 1'000'000'000;
  // SAs visited per turn. At this size a turn costs tens of microseconds,
  // and the slowest main loop (1 ms naps when idle) still covers some
  // 250,000 SAs a second.
  std::size_t slice = 256;
};

struct CounterReporterStats {
  std::uint64_t snapshots_sent = 0;     // COUNTERS queued (or coalesced with a queued one)
  std::uint64_t snapshots_dropped = 0;  // outbox full: the SA is tried again next pass
  std::uint64_t summaries_sent = 0;
  std::uint64_t passes = 0;
  std::uint64_t late_passes = 0;  // ended after the next pass was due: `slice` too small
};

class CounterReporter {
 public:
  explicit CounterReporter(const CounterReporterOptions& options = {}) : options_(options) {}

  // An SA was installed. `snapshots` false: count it in the summary but send
  // no COUNTERS (static SAs from the config, which control never learns).
  // Tracking an SA again keeps what was reported (UPDATE_SA carries the
  // counters over).
  void track(std::uint64_t sa_id, bool snapshots = true);
  // An SA was removed: what was reported of it is forgotten, so an SA
  // installed later under the same id starts afresh.
  void forget(std::uint64_t sa_id);
  // After a flush: forgets every SA for which `gone` is true.
  void forget_if(const std::function<bool(std::uint64_t sa_id)>& gone);

  // One main-loop turn at `now_ns` (CLOCK_MONOTONIC).
  void turn(std::uint64_t now_ns, CounterIo& io);

  std::size_t tracked() const { return sas_.size(); }
  bool in_pass() const { return in_pass_; }
  const CounterReporterStats& stats() const { return stats_; }

 private:
  struct Tracked {
    bool snapshots = true;
    channel::SaCounters reported;     // the last snapshot queued; all zero: none
    std::uint64_t packets_seen = 0;   // at the last pass, and when it moved
    std::uint64_t last_packet_ns = 0;
    std::uint64_t replay_seen = 0;    // at the last pass: the summary counts from here
    std::uint64_t icv_seen = 0;
  };

  void visit(std::uint64_t sa_id, Tracked& sa, channel::SaCounters now, std::uint64_t now_ns, CounterIo& io);
  void end_pass(std::uint64_t now_ns, CounterIo& io);

  CounterReporterOptions options_;
  std::map<std::uint64_t, Tracked> sas_;  // ordered: a pass resumes by sa_id, whatever came and went
  bool started_ = false;
  bool in_pass_ = false;
  std::uint64_t cursor_ = 0;  // last sa_id visited in this pass; 0 (never an sa_id): none yet
  std::uint64_t pass_start_ns_ = 0;
  std::uint64_t previous_pass_start_ns_ = 0;
  std::uint64_t next_pass_ns_ = 0;
  channel::ReplayIcvSummary summary_;  // of the pass in progress
  CounterReporterStats stats_;
};

}  // namespace corridor::dataplane
