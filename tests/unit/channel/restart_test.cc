// Restart semantics (docs/sa-channel.md, "Restarts"), for each side, both
// as a clean exit and as a SIGKILL of a real process:
//  - dataplane restarts: control sees the new generation, sends FLUSH and
//    its full desired set;
//  - control restarts: the dataplane keeps its SAs; the new control asks for
//    the inventory and deletes what it no longer knows, adds what is missing.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "channel_test_support.h"
#include "common/channel/control_endpoint.h"
#include "common/channel/dataplane_endpoint.h"
#include "fake_sa_table.h"

namespace corridor::channel {
namespace {

using namespace std::chrono_literals;
using control::SaSync;
using control::SyncPhase;
using dataplane::SaInventory;
using testing::FakeSaTable;
using testing::make_cbc_sa;
using testing::make_policy;
using testing::make_sa;
using testing::options_for;
using testing::pump;
using testing::ShmName;

constexpr std::uint32_t kCapacity = 64;

ControlEndpoint attach_control(const ShmName& name) {
  auto c = ControlEndpoint::attach(options_for(name, kCapacity));
  EXPECT_TRUE(c.ok()) << c.error().message;
  return std::move(c).value();
}

DataplaneEndpoint attach_dataplane(const ShmName& name) {
  auto d = DataplaneEndpoint::attach(options_for(name, kCapacity));
  EXPECT_TRUE(d.ok()) << d.error().message;
  return std::move(d).value();
}

void desire_initial_set(SaSync& sync) {
  ASSERT_EQ(sync.set_sa(make_sa(1)).code, ResultCode::ok);
  ASSERT_EQ(sync.set_sa(make_cbc_sa(2)).code, ResultCode::ok);
  ASSERT_EQ(sync.set_sa(make_sa(3, Direction::inbound)).code, ResultCode::ok);
  ASSERT_EQ(sync.set_policy(make_policy(10, 1)).code, ResultCode::ok);
  ASSERT_EQ(sync.set_policy(make_policy(11, 3)).code, ResultCode::ok);
  sync.desired_set_complete();
}

void expect_initial_set(const FakeSaTable& table) {
  ASSERT_EQ(table.sas.size(), 3U);
  EXPECT_EQ(table.sas.at(1), make_sa(1));
  EXPECT_EQ(table.sas.at(2), make_cbc_sa(2));  // keys included
  EXPECT_EQ(table.sas.at(3), make_sa(3, Direction::inbound));
  ASSERT_EQ(table.policies.size(), 2U);
  EXPECT_EQ(table.policies.at(11), make_policy(11, 3));
}

// What a restarted dataplane gets of the initial set: the inbound SA; the
// outbound SAs 1 and 2 withheld (the dead dataplane may have used their
// sequence numbers), policy 10 of SA 1 as discard until a rekey re-points
// it, policy 11 of the inbound SA as it was.
void expect_restarted_set(const FakeSaTable& table, const SaSync& sync) {
  ASSERT_EQ(table.sas.size(), 1U);
  EXPECT_EQ(table.sas.at(3), make_sa(3, Direction::inbound));
  EXPECT_EQ(sync.withheld_sas(), (std::set<std::uint64_t>{1, 2}));
  EXPECT_EQ(sync.stats().withheld_sas, 2U);
  ASSERT_EQ(table.policies.size(), 2U);
  PolicyRecord discard = make_policy(10, 1);
  discard.action = PolicyAction::discard;
  discard.sa_id = 0;
  EXPECT_EQ(table.policies.at(10), discard);
  EXPECT_EQ(table.policies.at(11), make_policy(11, 3));
}

pid_t wait_for_exit(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, 0);
}

TEST(DataplaneRestart, CleanRestartGetsFlushAndTheFullSet) {
  ShmName name;
  std::optional<DataplaneEndpoint> first_dp(attach_dataplane(name));
  auto cp = attach_control(name);
  std::vector<std::uint64_t> restarts;
  control::SaSyncCallbacks callbacks;
  callbacks.on_dataplane_restart = [&](std::uint64_t g) { restarts.push_back(g); };
  SaSync sync(cp, std::move(callbacks));
  desire_initial_set(sync);
  {
    FakeSaTable table;
    SaInventory inventory(*first_dp, table);
    pump(sync, inventory);
    expect_initial_set(table);
    EXPECT_EQ(sync.phase(), SyncPhase::in_sync);
    EXPECT_EQ(table.flushes, 0);  // a running dataplane is reconciled, not flushed
  }
  first_dp.reset();  // the dataplane exits
  auto dp = attach_dataplane(name);
  EXPECT_EQ(dp.generation(), 2U);
  FakeSaTable table;
  SaInventory inventory(dp, table);
  pump(sync, inventory);
  EXPECT_EQ(restarts, (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(table.flushes, 1);
  EXPECT_EQ(table.log.front(), "flush");
  expect_restarted_set(table, sync);
  EXPECT_EQ(sync.stats().dataplane_restarts, 1U);

  // The rekeyed Child SA's new outbound SA and its re-pointed policy go
  // in; the withheld SA's removal sends nothing (it is not there), and an
  // update of the other one stays with control.
  ASSERT_EQ(sync.set_sa(make_sa(4)).code, ResultCode::ok);
  ASSERT_EQ(sync.set_policy(make_policy(10, 4)).code, ResultCode::ok);
  EXPECT_TRUE(sync.remove_sa(1));
  ASSERT_EQ(sync.set_sa(make_cbc_sa(2)).code, ResultCode::ok);
  const std::size_t log_start = table.log.size();
  pump(sync, inventory);
  EXPECT_EQ(std::vector<std::string>(table.log.begin() + static_cast<std::ptrdiff_t>(log_start), table.log.end()),
            (std::vector<std::string>{"install_sa 4", "install_policy 10"}));
  EXPECT_EQ(table.policies.at(10), make_policy(10, 4));
  EXPECT_EQ(sync.withheld_sas(), (std::set<std::uint64_t>{2}));
  EXPECT_EQ(sync.stats().refused_commands, 0U);
}

TEST(DataplaneRestart, KilledDataplaneIsReplacedAndResynchronised) {
  ShmName name;
  auto cp = attach_control(name);
  SaSync sync(cp);
  desire_initial_set(sync);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    alarm(60);
    auto dp = DataplaneEndpoint::attach(options_for(name, kCapacity));
    if (!dp) _exit(2);
    FakeSaTable table;
    SaInventory inventory(*dp, table);
    for (;;) {
      if (inventory.poll() == 0) usleep(100);
    }
  }
  // Wait until the child has attached and applied everything we pushed.
  const auto give_up = SteadyClock::now() + 20s;
  while (SteadyClock::now() < give_up) {
    (void)sync.poll(SteadyClock::now());
    if (sync.phase() == SyncPhase::in_sync && sync.queued_commands() == 0 &&
        cp.commands_consumed_through() + 1 == cp.next_command_sequence()) {
      break;
    }
    usleep(200);
  }
  ASSERT_EQ(sync.phase(), SyncPhase::in_sync);
  ASSERT_EQ(cp.dataplane().pid, static_cast<std::uint64_t>(child));
  // Control started before any dataplane: the child's first attach already
  // counted as a new generation (FLUSH + full set to an empty dataplane).
  const std::uint64_t restarts_before = sync.stats().dataplane_restarts;
  EXPECT_TRUE(sync.withheld_sas().empty());  // no dataplane had them before
  ASSERT_EQ(kill(child, SIGKILL), 0);
  ASSERT_EQ(wait_for_exit(child), child);

  // The replacement takes the side over from the dead pid.
  auto dp = attach_dataplane(name);
  EXPECT_EQ(dp.generation(), cp.dataplane().generation);
  FakeSaTable table;
  SaInventory inventory(dp, table);
  pump(sync, inventory);
  EXPECT_EQ(table.flushes, 1);
  expect_restarted_set(table, sync);
  EXPECT_EQ(sync.stats().dataplane_restarts, restarts_before + 1);
}

// What the restarted control wants: SA 1 and policy 10 unchanged, SA 2
// changed (new SPI after a rekey), SA 3 and policy 11 gone, SA 4 and
// policy 12 new.
void desire_changed_set(SaSync& sync) {
  ASSERT_EQ(sync.set_sa(make_sa(1)).code, ResultCode::ok);
  SaRecord longer = make_cbc_sa(2);  // the same SA, a longer lifetime: updated in place
  longer.hard.packets *= 2;
  ASSERT_EQ(sync.set_sa(longer).code, ResultCode::ok);
  ASSERT_EQ(sync.set_sa(make_sa(4)).code, ResultCode::ok);
  ASSERT_EQ(sync.set_policy(make_policy(10, 1)).code, ResultCode::ok);
  ASSERT_EQ(sync.set_policy(make_policy(12, 4)).code, ResultCode::ok);
  sync.desired_set_complete();
}

void expect_reconciled(const FakeSaTable& table, std::size_t log_start) {
  const std::vector<std::string> after(table.log.begin() + static_cast<std::ptrdiff_t>(log_start),
                                       table.log.end());
  // Make-before-break: additions and updates, then policy changes, then
  // deletions; SA 1 and policy 10 are never touched.
  EXPECT_EQ(after, (std::vector<std::string>{"update_sa 2", "install_sa 4", "install_policy 12",
                                             "remove_policy 11", "remove_sa 3"}));
  EXPECT_EQ(table.flushes, 0);
  ASSERT_EQ(table.sas.size(), 3U);
  EXPECT_EQ(table.sas.at(1), make_sa(1));
  EXPECT_EQ(table.sas.at(2).hard.packets, 2 * make_cbc_sa(2).hard.packets);
  EXPECT_TRUE(table.sas.contains(4));
  EXPECT_EQ(table.policies.size(), 2U);
  EXPECT_TRUE(table.policies.contains(10) && table.policies.contains(12));
}

// A control plane that installs the initial set and exits cleanly.
void install_initial_set_and_exit(const ShmName& name, SaInventory& inventory, const FakeSaTable& table) {
  auto cp = attach_control(name);
  SaSync sync(cp);
  desire_initial_set(sync);
  pump(sync, inventory);
  expect_initial_set(table);
}

TEST(ControlRestart, CleanRestartKeepsSasAndReconciles) {
  ShmName name;
  auto dp = attach_dataplane(name);
  FakeSaTable table;
  SaInventory inventory(dp, table);
  install_initial_set_and_exit(name, inventory, table);  // the dataplane keeps forwarding
  const std::size_t log_start = table.log.size();
  auto cp = attach_control(name);
  SaSync sync(cp);
  pump(sync, inventory);
  // Inventory received; nothing deleted before the desired set is known.
  EXPECT_EQ(sync.phase(), SyncPhase::awaiting_desired_set);
  EXPECT_EQ(table.log.size(), log_start);
  desire_changed_set(sync);
  pump(sync, inventory);
  EXPECT_EQ(sync.phase(), SyncPhase::in_sync);
  expect_reconciled(table, log_start);
  EXPECT_EQ(inventory.stats().control_restarts_seen, 2U);  // first control, then its successor
  EXPECT_EQ(inventory.stats().inventory_requests, 2U);
  EXPECT_EQ(sync.stats().reconcile_sa_deletes, 1U);
  EXPECT_EQ(sync.stats().reconcile_sa_updates, 1U);
  EXPECT_EQ(sync.stats().reconcile_sa_adds, 1U);
}

TEST(ControlRestart, KilledControlIsReplacedAndReconciles) {
  ShmName name;
  auto dp = attach_dataplane(name);
  FakeSaTable table;
  SaInventory inventory(dp, table);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    alarm(60);
    auto cp = ControlEndpoint::attach(options_for(name, kCapacity));
    if (!cp) _exit(2);
    SaSync sync(*cp);
    desire_initial_set(sync);
    for (;;) {
      (void)sync.poll(SteadyClock::now());
      usleep(100);
    }
  }
  const auto give_up = SteadyClock::now() + 20s;
  while (SteadyClock::now() < give_up && (table.sas.size() < 3 || table.policies.size() < 2)) {
    if (inventory.poll() == 0) usleep(100);
  }
  expect_initial_set(table);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  ASSERT_EQ(wait_for_exit(child), child);
  inventory.poll();  // whatever the dead control left in the ring

  const std::size_t log_start = table.log.size();
  auto cp = attach_control(name);
  EXPECT_EQ(cp.generation(), 2U);
  SaSync sync(cp);
  desire_changed_set(sync);
  pump(sync, inventory);
  expect_reconciled(table, log_start);
}

// Ids carry the control generation (channel_id_base), so a successor does
// not meet its predecessor's SA under an id of its own; should the id space
// ever wrap, that SA is replaced, not updated (an update keeps the SPI).
TEST(ControlRestart, AnotherSaUnderOurIdIsReplaced) {
  ShmName name;
  auto dp = attach_dataplane(name);
  FakeSaTable table;
  SaInventory inventory(dp, table);
  install_initial_set_and_exit(name, inventory, table);
  const std::size_t log_start = table.log.size();
  auto cp = attach_control(name);
  SaSync sync(cp);
  SaRecord other = make_sa(1);
  other.spi = 0xdead0001;
  ASSERT_EQ(sync.set_sa(other).code, ResultCode::ok);
  ASSERT_EQ(sync.set_sa(make_cbc_sa(2)).code, ResultCode::ok);
  ASSERT_EQ(sync.set_sa(make_sa(3, Direction::inbound)).code, ResultCode::ok);
  ASSERT_EQ(sync.set_policy(make_policy(10, 1)).code, ResultCode::ok);
  ASSERT_EQ(sync.set_policy(make_policy(11, 3)).code, ResultCode::ok);
  sync.desired_set_complete();
  pump(sync, inventory);
  EXPECT_EQ(sync.phase(), SyncPhase::in_sync);
  const std::vector<std::string> after(table.log.begin() + static_cast<std::ptrdiff_t>(log_start),
                                       table.log.end());
  EXPECT_EQ(after, (std::vector<std::string>{"remove_sa 1", "install_sa 1"}));
  EXPECT_EQ(table.sas.at(1).spi, 0xdead0001U);
  EXPECT_EQ(sync.stats().reconcile_sa_updates, 0U);
  EXPECT_EQ(sync.stats().refused_commands, 0U);
}

TEST(ChannelIds, EachControlGenerationHasItsOwnIds) {
  using control::channel_id_base;
  constexpr std::uint64_t kIkev1 = std::uint64_t{1} << 48;
  constexpr std::uint64_t kStatic = std::uint64_t{1} << 63;
  for (std::uint64_t g = 1; g < 40000; g += 997) {
    const std::uint64_t base = channel_id_base(g);
    const std::uint64_t next = channel_id_base(g + 1);
    EXPECT_NE(base, next) << g;
    // Both IKE versions' ranges of one generation lie below the next
    // generation's (unless it wraps to 0) and never reach the static bit.
    EXPECT_EQ(base & kStatic, 0U) << g;
    EXPECT_EQ(base & (kIkev1 | (kIkev1 - 1)), 0U) << g;
    EXPECT_EQ((base | kIkev1 | (kIkev1 - 1)) + 1, next == 0 ? std::uint64_t{1} << 63 : next) << g;
  }
  EXPECT_EQ(channel_id_base(std::uint64_t{1} << 14), channel_id_base(0));  // modulo 2^14
}

TEST(BothRestart, DataplaneRestartDuringInventoryEndsInOneFullResync) {
  ShmName name;
  {
    auto dp = attach_dataplane(name);
    FakeSaTable table;
    SaInventory inventory(dp, table);
    auto cp = attach_control(name);
    SaSync sync(cp);
    desire_initial_set(sync);
    pump(sync, inventory);
    expect_initial_set(table);
  }  // both exit
  auto cp = attach_control(name);
  SaSync sync(cp);
  (void)sync.poll(SteadyClock::now());  // INVENTORY_REQUEST is in the ring
  auto dp = attach_dataplane(name);    // a new, empty dataplane answers it
  FakeSaTable table;
  SaInventory inventory(dp, table);
  inventory.poll();
  desire_changed_set(sync);
  pump(sync, inventory);
  EXPECT_EQ(sync.stats().dataplane_restarts, 1U);
  EXPECT_GE(sync.stats().stale_inventory, 1U);  // the answer came from the new generation
  EXPECT_EQ(sync.stats().reconciles, 0U);
  EXPECT_EQ(table.flushes, 1);
  EXPECT_EQ(table.sas.size(), 3U);
  EXPECT_EQ(table.policies.size(), 2U);
  EXPECT_TRUE(table.sas.contains(4) && !table.sas.contains(3));
}

}  // namespace
}  // namespace corridor::channel
