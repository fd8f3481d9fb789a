// Control's SaSync against an in-process dataplane consumer: start-up
// reconciliation, incremental changes, a full ring (nothing lost),
// heartbeats, refusals and event callbacks.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "channel_test_support.h"
#include "common/channel/control_endpoint.h"
#include "common/channel/dataplane_endpoint.h"
#include "fake_sa_table.h"

namespace corridor::channel {
namespace {

using namespace std::chrono_literals;
using control::SaSync;
using control::SaSyncCallbacks;
using control::SyncPhase;
using dataplane::SaInventory;
using testing::FakeSaTable;
using testing::make_cbc_sa;
using testing::make_policy;
using testing::make_sa;
using testing::options_for;
using testing::pump;
using testing::ShmName;

class SaSyncTest : public ::testing::Test {
 protected:
  void attach(std::uint32_t capacity = 64, SaSyncCallbacks callbacks = {},
              control::SaSyncOptions options = {}) {
    // The usual order: a running dataplane, then control (re)starts.
    auto d = DataplaneEndpoint::attach(options_for(name_, capacity));
    ASSERT_TRUE(d.ok()) << d.error().message;
    dp_.emplace(std::move(d).value());
    auto c = ControlEndpoint::attach(options_for(name_, capacity));
    ASSERT_TRUE(c.ok()) << c.error().message;
    cp_.emplace(std::move(c).value());
    inventory_.emplace(*dp_, table_);
    sync_.emplace(*cp_, std::move(callbacks), options);
  }

  ShmName name_;
  FakeSaTable table_;
  std::optional<ControlEndpoint> cp_;
  std::optional<DataplaneEndpoint> dp_;
  std::optional<SaInventory> inventory_;
  std::optional<SaSync> sync_;
};

TEST_F(SaSyncTest, RefusesInvalidRecordsAndDanglingPolicies) {
  attach();
  SaRecord bad = make_sa(1);
  bad.spi = 0;
  EXPECT_EQ(sync_->set_sa(bad).field, Field::spi);
  EXPECT_EQ(sync_->set_policy(make_policy(1, 99)).code, ResultCode::sa_unknown);
  PolicyRecord bad_policy = make_policy(1, 0);
  bad_policy.src.length = 99;
  EXPECT_EQ(sync_->set_policy(bad_policy).field, Field::src_prefix);
  EXPECT_TRUE(sync_->desired_sas().empty());
  EXPECT_TRUE(sync_->desired_policies().empty());
  EXPECT_FALSE(sync_->remove_sa(1));
  EXPECT_FALSE(sync_->remove_policy(1));
}

TEST_F(SaSyncTest, FreshStartReconcilesThenPushesChangesAsTheyCome) {
  attach();
  EXPECT_EQ(sync_->phase(), SyncPhase::awaiting_inventory);
  ASSERT_EQ(sync_->set_sa(make_sa(1)).code, ResultCode::ok);
  ASSERT_EQ(sync_->set_policy(make_policy(10, 1)).code, ResultCode::ok);
  pump(*sync_, *inventory_);
  // Inventory answered (empty), but the desired set is not complete yet:
  // nothing installed, nothing deleted.
  EXPECT_EQ(sync_->phase(), SyncPhase::awaiting_desired_set);
  EXPECT_TRUE(table_.log.empty());
  sync_->desired_set_complete();
  pump(*sync_, *inventory_);
  EXPECT_EQ(sync_->phase(), SyncPhase::in_sync);
  EXPECT_EQ(table_.log, (std::vector<std::string>{"install_sa 1", "install_policy 10"}));

  SaRecord rekeyed = make_sa(1);
  rekeyed.soft.bytes = 1;
  ASSERT_EQ(sync_->set_sa(rekeyed).code, ResultCode::ok);  // known id: UPDATE_SA
  ASSERT_EQ(sync_->set_sa(make_cbc_sa(2)).code, ResultCode::ok);
  ASSERT_EQ(sync_->set_policy(make_policy(10, 2)).code, ResultCode::ok);
  EXPECT_TRUE(sync_->remove_sa(1));
  ASSERT_EQ(sync_->set_policy(make_policy(11, 0)).code, ResultCode::ok);
  EXPECT_TRUE(sync_->remove_policy(11));
  pump(*sync_, *inventory_);
  EXPECT_EQ(table_.log, (std::vector<std::string>{"install_sa 1", "install_policy 10", "update_sa 1",
                                                  "install_sa 2", "install_policy 10", "remove_sa 1",
                                                  "install_policy 11", "remove_policy 11"}));
  EXPECT_EQ(table_.sas.at(2), make_cbc_sa(2));
  EXPECT_EQ(sync_->stats().refused_commands, 0U);
  EXPECT_EQ(sync_->stats().reconciles, 1U);
}

TEST_F(SaSyncTest, FullRingKeepsChangesQueuedInOrder) {
  attach(16);
  sync_->desired_set_complete();
  pump(*sync_, *inventory_);
  ASSERT_EQ(sync_->phase(), SyncPhase::in_sync);
  for (std::uint64_t id = 1; id <= 100; ++id) ASSERT_EQ(sync_->set_sa(make_sa(id)).code, ResultCode::ok);
  // The dataplane is not reading: 16 fit, the rest wait, none dropped.
  const control::SyncPollResult r = sync_->poll(SteadyClock::now() + 20ms);
  EXPECT_EQ(r.push_status, PushStatus::ring_full);
  EXPECT_GE(r.still_queued, 84U);
  EXPECT_GE(cp_->command_stats().stalls, 1U);
  EXPECT_GE(sync_->stats().push_incomplete, 1U);
  pump(*sync_, *inventory_);
  EXPECT_EQ(sync_->queued_commands(), 0U);
  ASSERT_EQ(table_.sas.size(), 100U);
  for (std::uint64_t id = 1; id <= 100; ++id) EXPECT_EQ(table_.log[id - 1], "install_sa " + std::to_string(id));
  EXPECT_EQ(table_.sas.at(77), make_sa(77));
}

TEST_F(SaSyncTest, KeepsAtMostOneHeartbeatInTheRing) {
  control::SaSyncOptions options;
  options.heartbeat_interval = 0ms;
  attach(64, {}, options);
  for (int i = 0; i < 10; ++i) (void)sync_->poll(SteadyClock::now());
  EXPECT_EQ(sync_->stats().heartbeats_sent, 1U);  // the dataplane has not consumed it
  pump(*sync_, *inventory_, 5);
  EXPECT_GE(sync_->stats().heartbeat_acks, 1U);
  EXPECT_GE(inventory_->stats().heartbeats, 1U);
  EXPECT_TRUE(sync_->dataplane_alive(1s));
}

TEST_F(SaSyncTest, ReportsRefusalsAndIgnoresStaleOnes) {
  std::vector<CommandResult> refused;
  SaSyncCallbacks cb;
  cb.on_command_refused = [&](const CommandResult& r) { refused.push_back(r); };
  attach(64, std::move(cb));
  sync_->desired_set_complete();
  pump(*sync_, *inventory_);
  table_.reject_sa_id = 5;
  ASSERT_EQ(sync_->set_sa(make_sa(5)).code, ResultCode::ok);
  pump(*sync_, *inventory_);
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].code, ResultCode::rejected);
  EXPECT_EQ(refused[0].object_id, 5U);
  EXPECT_EQ(sync_->stats().refused_commands, 1U);

  // A refusal of a command older than the latest FLUSH is stale: here the
  // dataplane restarts with an UPDATE for an SA it no longer has in the ring.
  ASSERT_EQ(sync_->set_sa(make_sa(5)).code, ResultCode::ok);  // UPDATE_SA 5
  (void)sync_->poll(SteadyClock::now());
  inventory_.reset();
  dp_.reset();
  auto d = DataplaneEndpoint::attach(options_for(name_, 64));
  ASSERT_TRUE(d.ok());
  dp_.emplace(std::move(d).value());
  FakeSaTable fresh;
  SaInventory fresh_inventory(*dp_, fresh);
  fresh_inventory.poll();  // applies the stale UPDATE_SA 5 -> sa_unknown
  pump(*sync_, fresh_inventory);
  EXPECT_EQ(refused.size(), 1U);
  EXPECT_EQ(sync_->stats().stale_results, 1U);
  EXPECT_EQ(fresh.flushes, 1);
}

TEST_F(SaSyncTest, DeliversDataplaneEventsToCallbacks) {
  std::vector<std::string> seen;
  SaSyncCallbacks cb;
  cb.on_lifetime = [&](const LifetimeExpired& e, bool hard) {
    seen.push_back(std::string(hard ? "hard " : "soft ") + std::to_string(e.sa_id));
  };
  cb.on_seq_overflow = [&](const SeqOverflow& e) { seen.push_back("overflow " + std::to_string(e.sa_id)); };
  cb.on_counters = [&](const SaCounters& e) { seen.push_back("counters " + std::to_string(e.packets)); };
  cb.on_replay_icv_summary = [&](const ReplayIcvSummary& e) {
    seen.push_back("summary " + std::to_string(e.icv_failures));
  };
  cb.on_port_stats = [&](const PortStats& e) {
    seen.push_back("port " + std::string(e.name_view()) + " " + std::to_string(e.ipackets));
  };
  cb.on_worker_stats = [&](const WorkerStats& e) { seen.push_back("worker " + std::to_string(e.rx)); };
  attach(64, std::move(cb));
  inventory_->report_soft_lifetime({1, 0x1000, Direction::outbound, LifetimeKind::bytes, 9, 1});
  inventory_->report_hard_lifetime({2, 0x1000, Direction::outbound, LifetimeKind::packets, 9, 1});
  inventory_->report_seq_overflow({3, 0x1000, 0xffffffff});
  inventory_->report_counters({4, 0x1000, Direction::inbound, 123, 1, 0, 0, 0, 0});
  inventory_->report_replay_icv_summary({1'000'000'000, 3, 7, 4, 10, 1});
  PortStats port;
  port.set_name("net_tap0");
  port.ipackets = 77;
  EXPECT_TRUE(inventory_->report_stats(port));
  WorkerStats worker;
  worker.rx = 88;
  EXPECT_TRUE(inventory_->report_stats(worker));
  pump(*sync_, *inventory_);
  EXPECT_EQ(seen, (std::vector<std::string>{"soft 1", "hard 2", "overflow 3", "counters 123", "summary 7",
                                            "port net_tap0 77", "worker 88"}));
}

// Stats are periodic: with control not reading, they stop queueing at
// the backlog limit instead of growing the outbox without bound.
TEST_F(SaSyncTest, StatsReportsStopAtTheOutboxBacklog) {
  attach(64, {});
  PortStats port;
  port.set_name("net_tap0");
  std::size_t queued = 0;
  while (inventory_->report_stats(port) && queued < 10'000) ++queued;
  EXPECT_GT(queued, 0U);
  EXPECT_EQ(inventory_->queued_events(), SaInventory::kStatsBacklog) << queued << " queued";
  EXPECT_FALSE(inventory_->report_stats(WorkerStats{}));
}

TEST_F(SaSyncTest, NewGenerationInAHeartbeatAckTriggersAResync) {
  std::vector<std::uint64_t> restarts;
  SaSyncCallbacks cb;
  cb.on_dataplane_restart = [&](std::uint64_t g) { restarts.push_back(g); };
  attach(64, std::move(cb));
  ASSERT_EQ(sync_->set_sa(make_sa(1)).code, ResultCode::ok);
  sync_->desired_set_complete();
  pump(*sync_, *inventory_);
  ASSERT_EQ(table_.sas.size(), 1U);
  RecordSlot ack;
  encode(HeartbeatAck{dp_->generation() + 5, 1, 1, 0, 0}, ack);
  ASSERT_EQ(dp_->push_events({&ack, 1}, SteadyClock::now() + 1s).status, PushStatus::ok);
  pump(*sync_, *inventory_);
  EXPECT_EQ(restarts, (std::vector<std::uint64_t>{dp_->generation() + 5}));
  EXPECT_EQ(table_.flushes, 1);
  // Not resent after the FLUSH: an outbound SA the old dataplane may have
  // sent on waits for its Child SA's rekey.
  EXPECT_TRUE(table_.sas.empty());
  EXPECT_EQ(sync_->withheld_sas(), (std::set<std::uint64_t>{1}));
}

}  // namespace
}  // namespace corridor::channel
