#include "dataplane/channel/counter_reporter.h"

namespace corridor::dataplane {

namespace {

// Growth of a counter since `before`. A counter below its earlier value
// belongs to another SA under the same id (removed and installed again
// between two passes): it all counts as new.
std::uint64_t growth(std::uint64_t now, std::uint64_t before) { return now >= before ? now - before : now; }

bool same_counts(const channel::SaCounters& a, const channel::SaCounters& b) {
  return a.packets == b.packets && a.bytes == b.bytes && a.replay_drops == b.replay_drops &&
         a.icv_failures == b.icv_failures && a.malformed_drops == b.malformed_drops;
}

}  // namespace

void CounterReporter::track(std::uint64_t sa_id, bool snapshots) {
  if (sa_id == 0) return;  // never an sa_id; 0 is the cursor's "none yet"
  sas_.try_emplace(sa_id).first->second.snapshots = snapshots;
}

void CounterReporter::forget(std::uint64_t sa_id) { sas_.erase(sa_id); }

void CounterReporter::forget_if(const std::function<bool(std::uint64_t)>& gone) {
  std::erase_if(sas_, [&](const auto& entry) { return gone(entry.first); });
}

void CounterReporter::turn(std::uint64_t now_ns, CounterIo& io) {
  if (!started_) {
    // The first pass comes one interval after the first turn, so that its
    // summary covers an interval like every other.
    started_ = true;
    pass_start_ns_ = now_ns;
    next_pass_ns_ = now_ns + options_.interval_ns;
    return;
  }
  if (!in_pass_) {
    if (now_ns < next_pass_ns_) return;
    in_pass_ = true;
    cursor_ = 0;
    previous_pass_start_ns_ = pass_start_ns_;
    pass_start_ns_ = now_ns;
    summary_ = {};
  }
  // By sa_id rather than by iterator: SAs come and go between turns.
  auto it = sas_.upper_bound(cursor_);
  for (std::size_t n = 0; n < options_.slice && it != sas_.end(); ++n) {
    cursor_ = it->first;
    const auto counters = io.read(it->first);
    if (!counters) {
      it = sas_.erase(it);  // removed without our hearing of it
      continue;
    }
    visit(it->first, it->second, *counters, now_ns, io);
    ++it;
  }
  if (it == sas_.end()) end_pass(now_ns, io);
}

void CounterReporter::visit(std::uint64_t sa_id, Tracked& sa, channel::SaCounters now, std::uint64_t now_ns,
                            CounterIo& io) {
  if (now.packets != sa.packets_seen) {
    sa.packets_seen = now.packets;
    sa.last_packet_ns = now.packets != 0 ? now_ns : 0;
  }
  const std::uint64_t replay = growth(now.replay_drops, sa.replay_seen);
  const std::uint64_t icv = growth(now.icv_failures, sa.icv_seen);
  sa.replay_seen = now.replay_drops;
  sa.icv_seen = now.icv_failures;
  if (replay + icv != 0) {
    summary_.replay_drops += replay;
    summary_.icv_failures += icv;
    ++summary_.sas_affected;
    if (replay + icv > summary_.worst_sa_drops) {
      summary_.worst_sa_id = sa_id;
      summary_.worst_sa_drops = replay + icv;
    }
  }
  now.sa_id = sa_id;
  now.last_packet_ns = sa.last_packet_ns;
  if (!sa.snapshots || same_counts(now, sa.reported)) return;
  if (io.send_counters(now)) {
    sa.reported = now;
    ++stats_.snapshots_sent;
  } else {
    ++stats_.snapshots_dropped;  // `reported` unchanged: the next pass tries again
  }
}

void CounterReporter::end_pass(std::uint64_t now_ns, CounterIo& io) {
  in_pass_ = false;
  ++stats_.passes;
  next_pass_ns_ = pass_start_ns_ + options_.interval_ns;
  if (now_ns >= next_pass_ns_) ++stats_.late_passes;
  if (summary_.sas_affected == 0) return;
  // Each SA's drops are counted from its visit in the previous pass to its
  // visit in this one: the time between the two passes' starts.
  summary_.interval_ns = pass_start_ns_ - previous_pass_start_ns_;
  io.send_summary(summary_);
  ++stats_.summaries_sent;
}

}  // namespace corridor::dataplane
