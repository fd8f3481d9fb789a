// CounterReporter: which SAs get a COUNTERS snapshot and when, the sliced
// walk over the SAs, and the REPLAY_ICV_SUMMARY of each interval. No EAL:
// a fake CounterIo stands for SaTables and the SaInventory.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "dataplane/channel/counter_reporter.h"

namespace corridor::dataplane {
namespace {

constexpr std::uint64_t kInterval = 1'000'000'000;

class FakeIo final : public CounterIo {
 public:
  std::optional<channel::SaCounters> read(std::uint64_t sa_id) override {
    reads.push_back(sa_id);
    const auto it = sas.find(sa_id);
    if (it == sas.end()) return std::nullopt;
    channel::SaCounters c = it->second;
    c.sa_id = sa_id;
    c.spi = static_cast<std::uint32_t>(0x1000 + sa_id);
    c.direction = channel::Direction::inbound;
    return c;
  }
  bool send_counters(const channel::SaCounters& counters) override {
    if (outbox_full) return false;
    sent.push_back(counters);
    return true;
  }
  void send_summary(const channel::ReplayIcvSummary& summary) override { summaries.push_back(summary); }

  std::vector<std::uint64_t> sent_ids() const {
    std::vector<std::uint64_t> ids;
    for (const auto& c : sent) ids.push_back(c.sa_id);
    return ids;
  }
  void clear() {
    reads.clear();
    sent.clear();
    summaries.clear();
  }

  std::map<std::uint64_t, channel::SaCounters> sas;  // what is installed, and its counters
  bool outbox_full = false;
  std::vector<std::uint64_t> reads;
  std::vector<channel::SaCounters> sent;
  std::vector<channel::ReplayIcvSummary> summaries;
};

class CounterReporterTest : public ::testing::Test {
 protected:
  explicit CounterReporterTest(std::size_t slice = 1000) : reporter_({kInterval, slice}) {
    reporter_.turn(now_, io_);  // the first turn starts the clock
  }

  void install(std::uint64_t sa_id, bool snapshots = true) {
    io_.sas[sa_id] = {};
    reporter_.track(sa_id, snapshots);
  }
  void remove(std::uint64_t sa_id) {
    io_.sas.erase(sa_id);
    reporter_.forget(sa_id);
  }
  channel::SaCounters& counters(std::uint64_t sa_id) { return io_.sas.at(sa_id); }

  // Moves the clock to the next interval and runs turns until the pass
  // ends (it starts on the first of them).
  void pass() {
    io_.clear();
    now_ += kInterval;
    reporter_.turn(now_, io_);
    for (int i = 0; i < 10000 && reporter_.in_pass(); ++i) reporter_.turn(now_ += 1000, io_);
    ASSERT_FALSE(reporter_.in_pass());
  }

  std::uint64_t now_ = 5'000'000'000;
  FakeIo io_;
  CounterReporter reporter_;
};

TEST_F(CounterReporterTest, NothingBeforeTheFirstInterval) {
  install(1);
  counters(1).packets = 5;
  reporter_.turn(now_ + kInterval - 1, io_);
  EXPECT_TRUE(io_.reads.empty());
  EXPECT_TRUE(io_.sent.empty());
}

TEST_F(CounterReporterTest, IdleSasSendNothing) {
  for (std::uint64_t id = 1; id <= 5; ++id) install(id);
  pass();
  EXPECT_EQ(io_.reads.size(), 5U);
  EXPECT_TRUE(io_.sent.empty());
  EXPECT_TRUE(io_.summaries.empty());
  EXPECT_EQ(reporter_.stats().passes, 1U);
}

TEST_F(CounterReporterTest, ChangedSaReportedUnchangedNot) {
  install(1);
  install(2);
  counters(1).packets = 10;
  counters(1).bytes = 1000;
  counters(2).packets = 3;
  counters(2).bytes = 300;
  pass();
  ASSERT_EQ(io_.sent_ids(), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(io_.sent[0].packets, 10U);
  EXPECT_EQ(io_.sent[0].bytes, 1000U);
  EXPECT_EQ(io_.sent[0].spi, 0x1001U);
  EXPECT_EQ(io_.sent[0].direction, channel::Direction::inbound);

  pass();  // nothing moved
  EXPECT_TRUE(io_.sent.empty());

  counters(2).packets = 4;
  counters(2).bytes = 400;
  pass();
  ASSERT_EQ(io_.sent_ids(), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(io_.sent[0].packets, 4U);
  EXPECT_EQ(io_.sent[0].bytes, 400U);
  EXPECT_EQ(reporter_.stats().snapshots_sent, 3U);
}

TEST_F(CounterReporterTest, AnyDropCounterIsAChange) {
  install(1);
  counters(1).packets = 1;
  pass();
  counters(1).malformed_drops = 1;
  pass();
  EXPECT_EQ(io_.sent_ids(), (std::vector<std::uint64_t>{1}));
  counters(1).replay_drops = 1;
  pass();
  EXPECT_EQ(io_.sent_ids(), (std::vector<std::uint64_t>{1}));
  counters(1).icv_failures = 1;
  pass();
  ASSERT_EQ(io_.sent_ids(), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(io_.sent[0].malformed_drops, 1U);
  EXPECT_EQ(io_.sent[0].replay_drops, 1U);
  EXPECT_EQ(io_.sent[0].icv_failures, 1U);
}

TEST_F(CounterReporterTest, NewSaReportedOnceItHasTraffic) {
  install(7);
  pass();
  EXPECT_TRUE(io_.sent.empty());
  counters(7).packets = 1;
  counters(7).bytes = 84;
  pass();
  ASSERT_EQ(io_.sent_ids(), (std::vector<std::uint64_t>{7}));
  EXPECT_EQ(io_.sent[0].last_packet_ns, now_);
  pass();
  EXPECT_TRUE(io_.sent.empty());

  // Installed during an interval: the next pass picks it up.
  install(9);
  counters(9).icv_failures = 2;  // traffic, even if none of it passed
  pass();
  ASSERT_EQ(io_.sent_ids(), (std::vector<std::uint64_t>{9}));
  EXPECT_EQ(io_.sent[0].last_packet_ns, 0U);  // no packet yet
}

TEST_F(CounterReporterTest, LastPacketIsWhenThePacketCounterMoved) {
  install(1);
  counters(1).packets = 1;
  pass();
  const std::uint64_t first = now_;
  ASSERT_EQ(io_.sent.size(), 1U);
  EXPECT_EQ(io_.sent[0].last_packet_ns, first);
  // Drops alone are not a packet: the snapshot goes, the time stays.
  counters(1).replay_drops = 3;
  pass();
  ASSERT_EQ(io_.sent.size(), 1U);
  EXPECT_EQ(io_.sent[0].last_packet_ns, first);
  counters(1).packets = 2;
  pass();
  ASSERT_EQ(io_.sent.size(), 1U);
  EXPECT_EQ(io_.sent[0].last_packet_ns, now_);
  EXPECT_GT(now_, first);
}

TEST_F(CounterReporterTest, DeletedSaForgotten) {
  install(1);
  install(2);
  counters(1).packets = 5;
  counters(2).packets = 5;
  pass();
  remove(1);
  EXPECT_EQ(reporter_.tracked(), 1U);
  pass();
  EXPECT_EQ(io_.reads, (std::vector<std::uint64_t>{2}));

  // The same id installed again is a new SA: its first traffic is reported
  // even though the counts equal what the old one last reported.
  install(1);
  pass();
  EXPECT_TRUE(io_.sent.empty());
  counters(1).packets = 5;
  pass();
  EXPECT_EQ(io_.sent_ids(), (std::vector<std::uint64_t>{1}));
}

TEST_F(CounterReporterTest, SaGoneWithoutNoticeIsForgottenByThePass) {
  install(1);
  install(2);
  io_.sas.erase(1);
  pass();
  EXPECT_EQ(reporter_.tracked(), 1U);
}

TEST_F(CounterReporterTest, ForgetIfAfterFlush) {
  for (std::uint64_t id = 1; id <= 4; ++id) install(id);
  reporter_.forget_if([](std::uint64_t id) { return id % 2 == 0; });
  EXPECT_EQ(reporter_.tracked(), 2U);
}

TEST_F(CounterReporterTest, DroppedSnapshotRetriedNextPass) {
  install(1);
  counters(1).packets = 5;
  io_.outbox_full = true;
  pass();
  EXPECT_TRUE(io_.sent.empty());
  EXPECT_EQ(reporter_.stats().snapshots_dropped, 1U);
  io_.outbox_full = false;
  pass();
  ASSERT_EQ(io_.sent_ids(), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(io_.sent[0].packets, 5U);
  pass();
  EXPECT_TRUE(io_.sent.empty());
}

TEST_F(CounterReporterTest, StaticSaOnlyInTheSummary) {
  install(1, false);  // a static SA
  counters(1).packets = 5;
  counters(1).replay_drops = 2;
  pass();
  EXPECT_TRUE(io_.sent.empty());
  ASSERT_EQ(io_.summaries.size(), 1U);  // but in the summary
  EXPECT_EQ(io_.summaries[0].worst_sa_id, 1U);
}

TEST_F(CounterReporterTest, SummaryOnlyWhenSomethingHappened) {
  install(1);
  install(2);
  install(3);
  counters(1).packets = 100;  // traffic, but no replay or ICV drops
  pass();
  EXPECT_TRUE(io_.summaries.empty());

  counters(1).replay_drops = 2;
  counters(1).icv_failures = 1;
  counters(2).replay_drops = 1;
  counters(3).icv_failures = 5;
  counters(3).malformed_drops = 9;  // not in the summary
  pass();
  ASSERT_EQ(io_.summaries.size(), 1U);
  auto s = io_.summaries[0];
  EXPECT_EQ(s.interval_ns, kInterval);
  EXPECT_EQ(s.replay_drops, 3U);
  EXPECT_EQ(s.icv_failures, 6U);
  EXPECT_EQ(s.worst_sa_id, 3U);
  EXPECT_EQ(s.worst_sa_drops, 5U);
  EXPECT_EQ(s.sas_affected, 3U);

  // Deltas: only what grew since the previous pass.
  counters(1).replay_drops = 12;
  counters(2).icv_failures = 4;
  pass();
  ASSERT_EQ(io_.summaries.size(), 1U);
  s = io_.summaries[0];
  EXPECT_EQ(s.replay_drops, 10U);
  EXPECT_EQ(s.icv_failures, 4U);
  EXPECT_EQ(s.worst_sa_id, 1U);
  EXPECT_EQ(s.worst_sa_drops, 10U);
  EXPECT_EQ(s.sas_affected, 2U);

  pass();  // quiet again
  EXPECT_TRUE(io_.summaries.empty());
  EXPECT_EQ(reporter_.stats().summaries_sent, 2U);
}

TEST_F(CounterReporterTest, SummaryIntervalIsTheTimeBetweenPasses) {
  install(1);
  pass();
  counters(1).icv_failures = 1;
  io_.clear();
  now_ += 3 * kInterval;  // the loop was away
  reporter_.turn(now_, io_);
  ASSERT_EQ(io_.summaries.size(), 1U);
  EXPECT_EQ(io_.summaries[0].interval_ns, 3 * kInterval);
}

class SlicedReporterTest : public CounterReporterTest {
 protected:
  SlicedReporterTest() : CounterReporterTest(3) {}
};

TEST_F(SlicedReporterTest, SlicesCoverEverySaAcrossTurnsAndWrap) {
  for (std::uint64_t id = 1; id <= 10; ++id) {
    install(id * 10);
    counters(id * 10).packets = id;
  }
  now_ += kInterval;
  std::vector<std::size_t> per_turn;
  std::vector<std::uint64_t> seen;
  do {
    io_.clear();
    reporter_.turn(now_ += 1000, io_);
    per_turn.push_back(io_.reads.size());
    seen.insert(seen.end(), io_.reads.begin(), io_.reads.end());
  } while (reporter_.in_pass());
  EXPECT_EQ(per_turn, (std::vector<std::size_t>{3, 3, 3, 1}));
  std::vector<std::uint64_t> all;
  for (std::uint64_t id = 1; id <= 10; ++id) all.push_back(id * 10);
  EXPECT_EQ(seen, all);
  EXPECT_EQ(reporter_.stats().snapshots_sent, 10U);

  // Between passes nothing is read; the next pass starts from the first SA.
  io_.clear();
  reporter_.turn(now_ + 1000, io_);
  EXPECT_TRUE(io_.reads.empty());
  now_ += kInterval;
  io_.clear();
  reporter_.turn(now_, io_);
  EXPECT_EQ(io_.reads, (std::vector<std::uint64_t>{10, 20, 30}));
}

TEST_F(SlicedReporterTest, SasComingAndGoingDuringAPass) {
  for (std::uint64_t id = 1; id <= 6; ++id) install(id * 10);
  now_ += kInterval;
  io_.clear();
  reporter_.turn(now_, io_);
  EXPECT_EQ(io_.reads, (std::vector<std::uint64_t>{10, 20, 30}));
  remove(30);  // already visited
  remove(40);  // not yet
  install(5);  // before the cursor: next pass
  install(45);  // after it: this pass
  io_.clear();
  reporter_.turn(now_ += 1000, io_);
  EXPECT_EQ(io_.reads, (std::vector<std::uint64_t>{45, 50, 60}));
  EXPECT_FALSE(reporter_.in_pass());
  pass();
  EXPECT_EQ(io_.reads, (std::vector<std::uint64_t>{5, 10, 20, 45, 50, 60}));
}

TEST_F(SlicedReporterTest, LatePassCounted) {
  for (std::uint64_t id = 1; id <= 7; ++id) install(id);
  now_ += kInterval;
  reporter_.turn(now_, io_);
  reporter_.turn(now_ + kInterval / 2, io_);
  reporter_.turn(now_ + kInterval, io_);  // ends when the next one was due
  EXPECT_FALSE(reporter_.in_pass());
  EXPECT_EQ(reporter_.stats().late_passes, 1U);
  io_.clear();
  reporter_.turn(now_ + kInterval + 1, io_);  // starts at once
  EXPECT_EQ(io_.reads.size(), 3U);
}

}  // namespace
}  // namespace corridor::dataplane
