// The traffic ledger behind the Prometheus counters: totals per
// connection that never go down while SAs come and go, and the
// exposition's escaping. The text format itself is checked by promtool in
// tests/integration/api_test.py against the running daemon.
#include <gtest/gtest.h>

#include "control/api/metrics.h"
#include "control/daemon/traffic_ledger.h"

namespace corridor::control {
namespace {

channel::SaCounters snapshot(std::uint64_t id, channel::Direction d, std::uint64_t packets, std::uint64_t bytes,
                             std::uint64_t replay = 0) {
  channel::SaCounters c;
  c.sa_id = id;
  c.spi = 0x1000 + static_cast<std::uint32_t>(id);
  c.direction = d;
  c.packets = packets;
  c.bytes = bytes;
  c.replay_drops = replay;
  return c;
}

TEST(TrafficLedger, TotalsFollowSasThroughRekeyAndDelete) {
  TrafficLedger ledger;
  std::map<std::uint64_t, std::string> alive{{1, "site"}, {2, "site"}};
  auto owner = [&](std::uint64_t id) -> std::optional<std::string> {
    const auto it = alive.find(id);
    if (it == alive.end()) return std::nullopt;
    return it->second;
  };
  ledger.record(snapshot(1, channel::Direction::inbound, 10, 1000, 2));
  ledger.record(snapshot(2, channel::Direction::outbound, 5, 500));
  ledger.record(snapshot(1, channel::Direction::inbound, 15, 1500, 3));  // only the delta counts
  ledger.settle(owner);
  auto t = ledger.by_connection().at("site");
  EXPECT_EQ(t.bytes_in, 1500u);
  EXPECT_EQ(t.packets_in, 15u);
  EXPECT_EQ(t.bytes_out, 500u);
  EXPECT_EQ(ledger.drops().replay, 3u);
  EXPECT_EQ(ledger.latest().at(1).bytes, 1500u);

  // SA 1 carries more, then is rekeyed away before the next settle: its
  // last traffic still lands in "site", and it is forgotten.
  ledger.record(snapshot(1, channel::Direction::inbound, 20, 2000, 3));
  alive.erase(1);
  alive[3] = "site";
  ledger.record(snapshot(3, channel::Direction::inbound, 1, 100));
  ledger.settle(owner);
  t = ledger.by_connection().at("site");
  EXPECT_EQ(t.bytes_in, 2100u);
  EXPECT_EQ(ledger.latest().count(1), 0u);

  // A dataplane restart starts an SA's counters from zero again: the new
  // value is the delta, the total does not go back.
  ledger.record(snapshot(3, channel::Direction::inbound, 1, 40));
  ledger.settle(owner);
  EXPECT_EQ(ledger.by_connection().at("site").bytes_in, 2140u);
}

TEST(TrafficLedger, TrafficOfAnSaNeverSeenAliveIsKeptUnderNoConnection) {
  TrafficLedger ledger;
  ledger.record(snapshot(9, channel::Direction::outbound, 1, 64));
  ledger.settle([](std::uint64_t) { return std::nullopt; });
  EXPECT_EQ(ledger.by_connection().at("").bytes_out, 64u);
  EXPECT_TRUE(ledger.latest().empty());
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(api::escape_label(R"(a"b\c)"), R"(a\"b\\c)");
  EXPECT_EQ(api::escape_label("x\ny"), "x\\ny");
}

}  // namespace
}  // namespace corridor::control
