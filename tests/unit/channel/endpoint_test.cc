// Endpoints in one process: sequence numbers and their persistence across
// re-attach, gap and re-delivery detection, key hygiene, invalid records,
// the full-ring back-off, and peer status.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "channel_test_support.h"
#include "common/channel/control_endpoint.h"
#include "common/channel/dataplane_endpoint.h"

namespace corridor::channel {
namespace {

using namespace std::chrono_literals;
using testing::make_sa;
using testing::options_for;
using testing::ShmName;

Deadline soon(std::chrono::milliseconds ms = 1000ms) { return SteadyClock::now() + ms; }

ControlEndpoint control(const ShmName& name, std::uint32_t capacity = 16) {
  auto ep = ControlEndpoint::attach(options_for(name, capacity));
  EXPECT_TRUE(ep.ok()) << ep.error().message;
  return std::move(ep).value();
}

DataplaneEndpoint dataplane(const ShmName& name, std::uint32_t capacity = 16) {
  auto ep = DataplaneEndpoint::attach(options_for(name, capacity));
  EXPECT_TRUE(ep.ok()) << ep.error().message;
  return std::move(ep).value();
}

PushOutcome push_deletes(ControlEndpoint& ep, std::uint64_t first_id, std::size_t n, Deadline d) {
  return ep.push_commands_with(
      n, [&](std::size_t i, RecordSlot& slot) { encode(DeleteSa{first_id + i}, slot); }, d);
}

// Drains commands; returns (sequence, sa_id) pairs of DELETE_SA records.
std::vector<std::pair<std::uint64_t, std::uint64_t>> drain(DataplaneEndpoint& ep) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> got;
  while (ep.poll_commands(8, [&](const Received<Command>& r) {
    EXPECT_TRUE(r.record.ok());
    if (r.record.ok()) got.emplace_back(r.sequence, std::get<DeleteSa>(r.record->body).sa_id);
  }) != 0) {
  }
  return got;
}

TEST(Endpoint, SequencesStartAtOneAndSurviveProducerRestart) {
  ShmName name;
  auto dp = dataplane(name);
  {
    auto cp = control(name);
    EXPECT_EQ(cp.generation(), 1U);
    const PushOutcome out = push_deletes(cp, 100, 3, soon());
    EXPECT_EQ(out.status, PushStatus::ok);
    EXPECT_EQ(out.pushed, 3U);
    EXPECT_EQ(out.first_sequence, 1U);
  }  // control exits (detaches cleanly)
  auto cp = control(name);
  EXPECT_EQ(cp.generation(), 2U);
  EXPECT_EQ(cp.next_command_sequence(), 4U);  // continues, persisted in the segment
  ASSERT_EQ(push_deletes(cp, 200, 2, soon()).status, PushStatus::ok);
  const auto got = drain(dp);
  ASSERT_EQ(got.size(), 5U);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].first, i + 1);
  EXPECT_EQ(got[3].second, 200U);
  EXPECT_EQ(dp.command_stats().gaps, 0U);
  EXPECT_EQ(cp.commands_consumed_through(), 5U);
}

TEST(Endpoint, ConsumerResumesAfterRestartWithoutRedelivery) {
  ShmName name;
  auto cp = control(name);
  {
    auto dp = dataplane(name);
    ASSERT_EQ(push_deletes(cp, 1, 4, soon()).status, PushStatus::ok);
    EXPECT_EQ(drain(dp).size(), 4U);
  }
  ASSERT_EQ(push_deletes(cp, 5, 2, soon()).status, PushStatus::ok);
  auto dp = dataplane(name);
  EXPECT_EQ(dp.generation(), 2U);
  EXPECT_EQ(dp.last_command_sequence(), 4U);
  const auto got = drain(dp);
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[0].first, 5U);
}

TEST(Endpoint, RecordsAppliedBeforeAConsumerCrashAreSkipped) {
  ShmName name;
  auto cp = control(name);
  auto dp = dataplane(name);
  ASSERT_EQ(push_deletes(cp, 1, 5, soon()).status, PushStatus::ok);
  EXPECT_EQ(drain(dp).size(), 5U);
  dp.detach();
  // The consumer died after persisting its last sequence (5) but before
  // handing the slots back: the tail is still 2.
  auto raw = Segment::open(options_for(name).segment);
  ASSERT_TRUE(raw.ok());
  raw->header().command_consumer.tail.store(2);
  ASSERT_EQ(push_deletes(cp, 6, 1, soon()).status, PushStatus::ok);
  auto dp2 = dataplane(name);
  const auto got = drain(dp2);
  ASSERT_EQ(got.size(), 1U);  // 3, 4, 5 skipped
  EXPECT_EQ(got[0].first, 6U);
  EXPECT_EQ(dp2.command_stats().duplicates, 3U);
}

TEST(Endpoint, GapAfterAProducerCrashIsDetectedAndCounted) {
  ShmName name;
  auto dp = dataplane(name);
  {
    auto cp = control(name);
    ASSERT_EQ(push_deletes(cp, 1, 2, soon()).status, PushStatus::ok);
  }
  // The producer died after persisting its counter for three records it
  // never published.
  auto raw = Segment::open(options_for(name).segment);
  ASSERT_TRUE(raw.ok());
  raw->header().command_producer.next_sequence.store(6);
  auto cp = control(name);
  ASSERT_EQ(push_deletes(cp, 10, 1, soon()).status, PushStatus::ok);
  std::vector<bool> gaps;
  while (dp.poll_commands(8, [&](const Received<Command>& r) { gaps.push_back(r.after_gap); }) != 0) {
  }
  EXPECT_EQ(gaps, (std::vector<bool>{false, false, true}));
  EXPECT_EQ(dp.command_stats().gaps, 3U);
  EXPECT_EQ(dp.last_command_sequence(), 6U);
}

TEST(Endpoint, SequenceBeyondTheProducersCounterIsInvalid) {
  ShmName name;
  auto cp = control(name);
  auto dp = dataplane(name);
  ASSERT_EQ(push_deletes(cp, 1, 1, soon()).status, PushStatus::ok);
  set_sequence(dp.segment().command_slots()[0], 1000);
  int seen = 0;
  dp.poll_commands(8, [&](const Received<Command>& r) {
    ++seen;
    ASSERT_FALSE(r.record.ok());
    EXPECT_EQ(r.record.error().code, ResultCode::bad_sequence);
    EXPECT_EQ(r.sequence, 1000U);
    EXPECT_EQ(r.object_id, 1U);
  });
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(dp.command_stats().invalid, 1U);
  EXPECT_EQ(dp.last_command_sequence(), 0U);  // not taken as applied
}

TEST(Endpoint, KeySlotsAreWipedAfterTheConsumerCopiesThem) {
  ShmName name;
  auto cp = control(name);
  auto dp = dataplane(name);
  const SaRecord sa = make_sa(7);
  const PushOutcome out = cp.push_commands_with(
      2,
      [&](std::size_t i, RecordSlot& slot) {
        if (i == 0) encode_sa(RecordType::add_sa, sa, slot);
        else encode(DeleteSa{9}, slot);
      },
      soon());
  ASSERT_EQ(out.pushed, 2U);
  const RecordSlot* slots = dp.segment().command_slots();
  EXPECT_EQ(slots[0].bytes[wire::kPayload + wire::sa::kEncryptionKey], sa.encryption_key.bytes[0]);
  bool got_keys = false;
  dp.poll_commands(8, [&](const Received<Command>& r) {
    ASSERT_TRUE(r.record.ok());
    if (r.record->type == RecordType::add_sa) {
      got_keys = std::get<SaRecord>(r.record->body).encryption_key == sa.encryption_key;
    }
  });
  EXPECT_TRUE(got_keys);
  for (std::size_t i = 0; i < kRecordSize; ++i) ASSERT_EQ(slots[0].bytes[i], 0) << i;
  EXPECT_EQ(read_header(slots[1]).type, static_cast<std::uint16_t>(RecordType::delete_sa));
}

TEST(Endpoint, InvalidRecordsAreCountedWipedAndReported) {
  ShmName name;
  auto cp = control(name);
  auto dp = dataplane(name);
  RecordSlot bad;
  encode(DeleteSa{0}, bad);  // sa_id 0 is never valid
  ASSERT_EQ(cp.push_commands({&bad, 1}, soon()).status, PushStatus::ok);
  int seen = 0;
  dp.poll_commands(8, [&](const Received<Command>& r) {
    ++seen;
    ASSERT_FALSE(r.record.ok());
    EXPECT_EQ(r.record.error().code, ResultCode::bad_field);
    EXPECT_EQ(r.record.error().field, Field::sa_id);
    EXPECT_EQ(r.sequence, 1U);
    EXPECT_EQ(r.raw_type, static_cast<std::uint16_t>(RecordType::delete_sa));
  });
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(dp.command_stats().invalid, 1U);
  EXPECT_EQ(read_header(dp.segment().command_slots()[0]).type, 0);  // wiped
}

TEST(Endpoint, FullRingStallsUntilTheDeadlineThenReportsIt) {
  ShmName name;
  auto cp = control(name);
  auto dp = dataplane(name);
  const auto start = SteadyClock::now();
  const PushOutcome out = push_deletes(cp, 1, 20, soon(30ms));
  EXPECT_GE(SteadyClock::now() - start, 30ms);
  EXPECT_EQ(out.status, PushStatus::ring_full);
  EXPECT_EQ(out.pushed, 16U);  // never overwrites: the first 16 are in, 4 are not
  const RingStats stats = cp.command_stats();
  EXPECT_EQ(stats.stalls, 1U);
  EXPECT_EQ(stats.timeouts, 1U);
  EXPECT_GE(stats.stall_ns, 25'000'000U);
  EXPECT_EQ(stats.produced, 16U);
  EXPECT_EQ(drain(dp).size(), 16U);
  ASSERT_EQ(push_deletes(cp, 17, 4, soon()).status, PushStatus::ok);
  const auto rest = drain(dp);
  ASSERT_EQ(rest.size(), 4U);
  EXPECT_EQ(rest[0].second, 17U);
}

TEST(Endpoint, BacksOffUntilALateConsumerMakesRoom) {
  ShmName name;
  auto cp = control(name);
  constexpr std::size_t kCount = 2000;
  std::vector<std::uint64_t> ids;
  std::thread consumer([&] {
    std::this_thread::sleep_for(150ms);  // starts late: the ring is full by then
    auto dp = dataplane(name);
    while (ids.size() < kCount) {
      const std::size_t n = dp.poll_commands(16, [&](const Received<Command>& r) {
        ids.push_back(r.record.ok() ? std::get<DeleteSa>(r.record->body).sa_id : 0);
      });
      if (n == 0) std::this_thread::yield();
    }
  });
  const PushOutcome out = push_deletes(cp, 1, kCount, soon(20'000ms));
  consumer.join();
  EXPECT_EQ(out.status, PushStatus::ok);
  EXPECT_EQ(out.pushed, kCount);
  ASSERT_EQ(ids.size(), kCount);
  for (std::size_t i = 0; i < kCount; ++i) ASSERT_EQ(ids[i], i + 1);
  EXPECT_GE(cp.command_stats().stalls, 1U);
  EXPECT_GE(cp.command_stats().stall_ns, 50'000'000U);  // most of the 150 ms
  EXPECT_EQ(cp.command_stats().timeouts, 0U);
}

TEST(Endpoint, CorruptIndicesStopThePush) {
  ShmName name;
  auto cp = control(name);
  auto raw = Segment::open(options_for(name).segment);
  ASSERT_TRUE(raw.ok());
  raw->header().command_consumer.tail.store(1000);  // beyond head
  const PushOutcome out = push_deletes(cp, 1, 20, soon());
  EXPECT_EQ(out.status, PushStatus::ring_corrupt);
}

TEST(Endpoint, EachSideSeesThePeersGenerationPidAndHeartbeat) {
  ShmName name;
  auto cp = control(name);
  EXPECT_EQ(cp.dataplane().generation, 0U);
  EXPECT_FALSE(cp.dataplane().alive(monotonic_ns(), 1s));
  {
    auto dp = dataplane(name);
    dp.heartbeat(monotonic_ns());
    const PeerStatus peer = cp.dataplane();
    EXPECT_EQ(peer.generation, 1U);
    EXPECT_EQ(peer.pid, static_cast<std::uint64_t>(getpid()));
    EXPECT_TRUE(peer.alive(monotonic_ns(), 1s));
    EXPECT_FALSE(peer.alive(monotonic_ns() + 5'000'000'000ULL, 1s));  // stale heartbeat
    EXPECT_EQ(dp.control().generation, 1U);
  }
  EXPECT_EQ(cp.dataplane().pid, 0U);  // detached cleanly
  EXPECT_FALSE(cp.dataplane().alive(monotonic_ns(), 1s));
  EXPECT_EQ(cp.dataplane().generation, 1U);
}

TEST(Endpoint, EventsFlowBackWithTheirOwnSequence) {
  ShmName name;
  auto cp = control(name);
  auto dp = dataplane(name);
  std::vector<RecordSlot> events(3);
  encode(HeartbeatAck{dp.generation(), 1, 1, 0, 0}, events[0]);
  encode(SeqOverflow{5, 0x1000, 0xffffffffULL}, events[1]);
  encode(DeleteSa{1}, events[2]);  // a command on the event ring: refused
  ASSERT_EQ(dp.push_events(events, soon()).status, PushStatus::ok);
  std::vector<RecordType> types;
  int refused = 0;
  cp.poll_events(8, [&](const Received<Event>& r) {
    if (r.record.ok()) types.push_back(r.record->type);
    else refused += r.record.error().code == ResultCode::wrong_ring ? 1 : 0;
  });
  EXPECT_EQ(types, (std::vector<RecordType>{RecordType::heartbeat_ack, RecordType::seq_overflow}));
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(cp.event_stats().invalid, 1U);
  EXPECT_EQ(cp.event_stats().last_sequence, 3U);
}

}  // namespace
}  // namespace corridor::channel
