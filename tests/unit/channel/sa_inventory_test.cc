// The dataplane's protocol consumer, driven by raw commands: apply rules,
// refusals with COMMAND_RESULT, heartbeats, inventory answers and the event
// outbox when control does not read.
#include <gtest/gtest.h>

#include <vector>

#include "channel_test_support.h"
#include "common/channel/control_endpoint.h"
#include "common/channel/dataplane_endpoint.h"
#include "fake_sa_table.h"

namespace corridor::channel {
namespace {

using namespace std::chrono_literals;
using dataplane::SaInventory;
using testing::FakeSaTable;
using testing::make_cbc_sa;
using testing::make_policy;
using testing::make_sa;
using testing::options_for;
using testing::ShmName;

class SaInventoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = ControlEndpoint::attach(options_for(name_, 64));
    ASSERT_TRUE(c.ok()) << c.error().message;
    cp_.emplace(std::move(c).value());
    auto d = DataplaneEndpoint::attach(options_for(name_, 64));
    ASSERT_TRUE(d.ok()) << d.error().message;
    dp_.emplace(std::move(d).value());
    inventory_.emplace(*dp_, table_);
  }

  // Pushes one encoded command; returns its sequence.
  template <typename Encode>
  std::uint64_t push(Encode&& encode_fn) {
    const PushOutcome out = cp_->push_commands_with(
        1, [&](std::size_t, RecordSlot& slot) { encode_fn(slot); }, SteadyClock::now() + 1s);
    EXPECT_EQ(out.status, PushStatus::ok);
    return out.first_sequence;
  }
  std::uint64_t push_sa(RecordType type, const SaRecord& sa) {
    return push([&](RecordSlot& s) { encode_sa(type, sa, s); });
  }
  template <typename T>
  std::uint64_t push_cmd(const T& cmd) {
    return push([&](RecordSlot& s) { encode(cmd, s); });
  }

  std::vector<Event> events() {
    inventory_->poll();
    std::vector<Event> out;
    while (cp_->poll_events(16, [&](const Received<Event>& r) {
      EXPECT_TRUE(r.record.ok());
      if (r.record.ok()) out.push_back(r.record.value());
    }) != 0) {
    }
    return out;
  }

  std::vector<CommandResult> results() {
    std::vector<CommandResult> out;
    for (const Event& e : events()) {
      if (const auto* r = std::get_if<CommandResult>(&e.body)) out.push_back(*r);
    }
    return out;
  }

  ShmName name_;
  FakeSaTable table_;
  std::optional<ControlEndpoint> cp_;
  std::optional<DataplaneEndpoint> dp_;
  std::optional<SaInventory> inventory_;
};

TEST_F(SaInventoryTest, AppliesCommandsThroughTheSink) {
  push_sa(RecordType::add_sa, make_sa(1));
  push_sa(RecordType::add_sa, make_cbc_sa(2));
  push_cmd(make_policy(10, 1));
  SaRecord updated = make_sa(1);
  updated.hard.bytes = 5'000'000'000ULL;
  push_sa(RecordType::update_sa, updated);
  PolicyRecord repointed = make_policy(10, 2);  // ADD_POLICY replaces (rekey)
  push_cmd(repointed);
  push_cmd(DeleteSa{1});
  EXPECT_TRUE(results().empty());
  EXPECT_EQ(table_.log, (std::vector<std::string>{"install_sa 1", "install_sa 2", "install_policy 10",
                                                  "update_sa 1", "install_policy 10", "remove_sa 1"}));
  EXPECT_EQ(table_.sas.at(2), make_cbc_sa(2));  // keys intact through the ring
  EXPECT_EQ(inventory_->sas().size(), 1U);
  EXPECT_EQ(inventory_->policies().at(10).sa_id, 2U);
  EXPECT_EQ(inventory_->stats().applied, 6U);

  push_cmd(DeletePolicy{10});
  push_cmd(Flush{1});
  EXPECT_TRUE(results().empty());
  EXPECT_EQ(table_.flushes, 1);
  EXPECT_TRUE(inventory_->sas().empty());
  EXPECT_TRUE(inventory_->policies().empty());
}

TEST_F(SaInventoryTest, RefusesInconsistentCommandsWithTheirSequence) {
  push_sa(RecordType::add_sa, make_sa(1));
  const std::uint64_t dup = push_sa(RecordType::add_sa, make_sa(1));
  const std::uint64_t upd = push_sa(RecordType::update_sa, make_sa(2));
  const std::uint64_t del = push_cmd(DeleteSa{3});
  const std::uint64_t pol = push_cmd(make_policy(10, 4));
  const std::uint64_t delpol = push_cmd(DeletePolicy{11});
  table_.reject_sa_id = 5;
  const std::uint64_t rej = push_sa(RecordType::add_sa, make_sa(5));
  table_.capacity = 1;
  const std::uint64_t full = push_sa(RecordType::add_sa, make_sa(6));
  const auto r = results();
  ASSERT_EQ(r.size(), 7U);
  const std::pair<std::uint64_t, ResultCode> want[] = {
      {dup, ResultCode::sa_exists},     {upd, ResultCode::sa_unknown}, {del, ResultCode::sa_unknown},
      {pol, ResultCode::sa_unknown},    {delpol, ResultCode::policy_unknown},
      {rej, ResultCode::rejected},      {full, ResultCode::table_full}};
  for (std::size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i].command_sequence, want[i].first) << i;
    EXPECT_EQ(r[i].code, want[i].second) << i;
  }
  EXPECT_EQ(r[0].object_id, 1U);
  EXPECT_EQ(r[0].command_type, static_cast<std::uint16_t>(RecordType::add_sa));
  EXPECT_EQ(r[4].object_id, 11U);
  EXPECT_EQ(inventory_->stats().refused, 7U);
  EXPECT_EQ(inventory_->sas().size(), 1U);
}

TEST_F(SaInventoryTest, InvalidRecordIsACountedNamedDrop) {
  SaRecord bad = make_sa(1);
  bad.encryption_key_bits = 300;  // not a whole number of bytes
  const std::uint64_t seq = push_sa(RecordType::add_sa, bad);
  const std::uint64_t seq2 = push([](RecordSlot& s) {
    encode(DeleteSa{4}, s);
    s.bytes[wire::kVersion] = 9;
  });
  const auto r = results();
  ASSERT_EQ(r.size(), 2U);
  EXPECT_EQ(r[0].command_sequence, seq);
  EXPECT_EQ(r[0].code, ResultCode::bad_field);
  EXPECT_EQ(r[0].field, Field::encryption_key_bits);
  EXPECT_EQ(r[0].object_id, 1U);
  EXPECT_EQ(r[1].command_sequence, seq2);
  EXPECT_EQ(r[1].code, ResultCode::unknown_version);
  EXPECT_EQ(inventory_->stats().invalid, 2U);
  EXPECT_EQ(dp_->command_stats().invalid, 2U);
  EXPECT_TRUE(table_.log.empty());
}

TEST_F(SaInventoryTest, AnswersHeartbeatsWithGenerationAndCounts) {
  push_sa(RecordType::add_sa, make_sa(1));
  push_cmd(make_policy(3, 1));
  push_cmd(Heartbeat{cp_->generation(), 42, monotonic_ns()});
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1U);
  const auto& ack = std::get<HeartbeatAck>(ev[0].body);
  EXPECT_EQ(ack.heartbeat_id, 42U);
  EXPECT_EQ(ack.dataplane_generation, dp_->generation());
  EXPECT_EQ(ack.control_generation_seen, cp_->generation());
  EXPECT_EQ(ack.sa_count, 1U);
  EXPECT_EQ(ack.policy_count, 1U);
  EXPECT_GT(dp_->segment().side(Side::dataplane).heartbeat_ns.load(), 0U);
}

TEST_F(SaInventoryTest, AnswersInventoryRequestsWithoutKeys) {
  push_sa(RecordType::add_sa, make_sa(1));
  push_sa(RecordType::add_sa, make_cbc_sa(2));
  push_cmd(make_policy(3, 1));
  push_cmd(InventoryRequest{77});
  const auto ev = events();
  ASSERT_EQ(ev.size(), 4U);
  EXPECT_EQ(std::get<InventorySa>(ev[0].body).sa, summarize(make_sa(1)));
  EXPECT_EQ(std::get<InventorySa>(ev[1].body).sa, summarize(make_cbc_sa(2)));
  EXPECT_EQ(std::get<InventoryPolicy>(ev[2].body).policy, make_policy(3, 1));
  const auto& end = std::get<InventoryEnd>(ev[3].body);
  EXPECT_EQ(end.request_id, 77U);
  EXPECT_EQ(end.sa_count, 2U);
  EXPECT_EQ(end.policy_count, 1U);
  EXPECT_EQ(end.dataplane_generation, dp_->generation());
}

TEST_F(SaInventoryTest, EventsWaitInTheOutboxWhileTheRingIsFull) {
  for (std::uint64_t i = 1; i <= 100; ++i) {
    inventory_->report_seq_overflow(SeqOverflow{i, 0x1000, 0xffffffff});
  }
  inventory_->poll();  // 64 fit, 36 wait
  EXPECT_EQ(inventory_->queued_events(), 36U);
  EXPECT_GE(dp_->event_stats().stalls, 1U);
  std::vector<std::uint64_t> ids;
  for (int turn = 0; turn < 10 && ids.size() < 100; ++turn) {
    cp_->poll_events(64, [&](const Received<Event>& r) {
      ids.push_back(std::get<SeqOverflow>(r.record->body).sa_id);
    });
    inventory_->poll();
  }
  ASSERT_EQ(ids.size(), 100U);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], i + 1);  // nothing lost or reordered
  EXPECT_EQ(inventory_->queued_events(), 0U);
}

TEST_F(SaInventoryTest, CountersSnapshotsCoalesceAndAreDroppedLast) {
  SaInventory small(*dp_, table_, {.outbox_limit = 3});
  for (std::uint64_t i = 1; i <= 70; ++i) {
    small.report_hard_lifetime({i, 0x1000, Direction::outbound, LifetimeKind::bytes, 1, 1});
  }
  small.poll();  // 64 pushed, 6 wait: the outbox is over its limit
  EXPECT_FALSE(small.report_counters({9, 0x1000, Direction::inbound, 1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(small.dropped_counters(), 1U);
  small.report_soft_lifetime({1, 0x1000, Direction::outbound, LifetimeKind::packets, 1, 1});
  EXPECT_EQ(small.queued_events(), 7U);  // lifetimes are never dropped

  SaInventory roomy(*dp_, table_);
  // Drain the ring so that only coalescing is tested.
  while (cp_->poll_events(64, [](const Received<Event>&) {}) != 0) {
  }
  small.poll();
  while (cp_->poll_events(64, [](const Received<Event>&) {}) != 0) {
  }
  EXPECT_TRUE(roomy.report_counters({9, 0x1000, Direction::inbound, 1, 100, 0, 0, 0, 0}));
  EXPECT_TRUE(roomy.report_counters({9, 0x1000, Direction::inbound, 2, 200, 0, 0, 0, 0}));
  EXPECT_TRUE(roomy.report_counters({8, 0x1000, Direction::inbound, 5, 500, 0, 0, 0, 0}));
  EXPECT_EQ(roomy.queued_events(), 2U);
  roomy.poll();
  std::vector<SaCounters> got;
  cp_->poll_events(64, [&](const Received<Event>& r) { got.push_back(std::get<SaCounters>(r.record->body)); });
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[0].sa_id, 9U);
  EXPECT_EQ(got[0].packets, 2U);  // the newer snapshot replaced the older one
  EXPECT_EQ(got[1].sa_id, 8U);
}

TEST_F(SaInventoryTest, CorruptCommandRingIsNotFollowed) {
  push_sa(RecordType::add_sa, make_sa(1));
  // A head 1000 records ahead of the tail cannot happen in a 64-slot ring.
  dp_->segment().header().command_producer.head.store(1000);
  EXPECT_EQ(inventory_->poll(), 0U);
  EXPECT_TRUE(dp_->command_ring_corrupt());
  EXPECT_TRUE(table_.log.empty());
}

TEST_F(SaInventoryTest, ControlRestartKeepsEverything) {
  push_sa(RecordType::add_sa, make_sa(1));
  inventory_->poll();
  cp_.reset();  // control exits
  auto again = ControlEndpoint::attach(options_for(name_, 64));
  ASSERT_TRUE(again.ok());
  inventory_->poll();
  EXPECT_EQ(inventory_->stats().control_restarts_seen, 1U);
  EXPECT_EQ(table_.sas.size(), 1U);
  EXPECT_EQ(table_.flushes, 0);
}

}  // namespace
}  // namespace corridor::channel
