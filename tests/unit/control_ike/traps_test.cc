// Trap policies (control/ike/traps.h): which policies a trapped child gets,
// how a config change moves them, and the acquire lookup.
#include "control/ike/traps.h"

#include <gtest/gtest.h>

#include "common/config/loader.h"
#include "tests/unit/support/ike_wire.h"

namespace corridor::control::ike {
namespace {

using test_support::Dataplane;

config::Config load(const std::string& children, const std::string& addrs = R"("local_addrs": ["192.0.2.1"], "remote_addrs": ["198.51.100.2"])") {
  const std::string text = R"({ "connections": { "gw": { )" + addrs + R"(,
      "local": { "auth": "psk", "id": "a.example" }, "remote": { "auth": "psk", "id": "b.example" },
      "children": { )" + children + R"( } } },
    "secrets": { "ike-gw": { "id": ["a.example", "b.example"], "secret": "a shared secret of reasonable length" } } })";
  auto r = config::load_config_text(text);
  EXPECT_TRUE(r.ok()) << [&] {
    std::string all;
    for (const auto& d : r.diagnostics.items()) all += d.pointer + ": " + d.message + "\n";
    return all;
  }();
  return r.ok() ? *r.config : config::Config{};
}

std::string prefix_text(const channel::Prefix& p) {
  const auto family = p.family == channel::IpVersion::v4 ? net::Family::ipv4 : net::Family::ipv6;
  return net::IpAddress::from_bytes(family, p.address.data()).to_string() + "/" + std::to_string(p.length);
}

TEST(Traps, OnePolicyPerSelectorPairOfAFamilyOutboundWithoutSa) {
  const auto c = load(R"("lans": { "local_ts": ["10.1.0.0/16", "2001:db8:1::/48", "10.5.0.0/24[tcp/443]"],
                                   "remote_ts": ["10.2.0.0/16", "2001:db8:2::/48"], "start_action": "trap" })");
  std::string why;
  const auto p = Traps::policies(c.connections.at(0), c.connections.at(0).children.at(0), &why);
  ASSERT_TRUE(p.has_value()) << why;
  ASSERT_EQ(p->size(), 3u);  // two IPv4 pairs, one IPv6
  for (const auto& r : *p) {
    EXPECT_EQ(r.action, channel::PolicyAction::trap);
    EXPECT_EQ(r.direction, channel::Direction::outbound);
    EXPECT_EQ(r.sa_id, 0u);
    EXPECT_EQ(channel::validate(channel::PolicyRecord{r.policy_id + 1, r.direction, r.action, r.priority, r.src, r.dst,
                                                      r.ip_protocol, r.src_ports, r.dst_ports, r.sa_id})
                  .code,
              channel::ResultCode::ok);
  }
  EXPECT_EQ(prefix_text((*p)[0].src) + " > " + prefix_text((*p)[0].dst), "10.1.0.0/16 > 10.2.0.0/16");
  EXPECT_EQ(prefix_text((*p)[1].src) + " > " + prefix_text((*p)[1].dst), "2001:db8:1::/48 > 2001:db8:2::/48");
  EXPECT_EQ((*p)[2].ip_protocol, 6);
  EXPECT_EQ((*p)[2].src_ports, (channel::PortRange{443, 443}));
  // The more specific pair ranks first among traps, as among Child SAs.
  EXPECT_LT((*p)[2].priority, (*p)[0].priority);
}

TEST(Traps, DynamicSelectorsTakeTheConnectionsAddresses) {
  const auto c = load(R"("host": { "start_action": "trap" })");
  std::string why;
  const auto p = Traps::policies(c.connections.at(0), c.connections.at(0).children.at(0), &why);
  ASSERT_TRUE(p.has_value()) << why;
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ(prefix_text(p->at(0).src) + " > " + prefix_text(p->at(0).dst), "192.0.2.1/32 > 198.51.100.2/32");

  // Without a single local address the loader refuses the trap (loader
  // tests); Traps says why too.
  config::ConnectionConfig conn = c.connections.at(0);
  conn.local_addrs.clear();
  EXPECT_FALSE(Traps::policies(conn, conn.children.at(0), &why).has_value());
  EXPECT_NE(why.find("local_ts is dynamic"), std::string::npos) << why;
}

TEST(Traps, ReconcileKeepsWhatStandsAndMovesWhatChanged) {
  Dataplane dp;
  Traps traps(dp, 1000);
  const auto first = load(R"("a": { "local_ts": ["10.1.0.0/16"], "remote_ts": ["10.2.0.0/16"], "start_action": "trap" },
                             "b": { "local_ts": ["10.3.0.0/16"], "remote_ts": ["10.4.0.0/16"], "start_action": "trap" },
                             "c": { "local_ts": ["10.5.0.0/16"], "remote_ts": ["10.6.0.0/16"] })");
  traps.reconcile(first);
  EXPECT_EQ(traps.children(), 2u);
  ASSERT_EQ(dp.policies.size(), 2u);
  const auto ids_before = dp.policies;
  EXPECT_TRUE(traps.installed("gw", "a"));
  EXPECT_FALSE(traps.installed("gw", "c"));

  // a unchanged, b's remote_ts changed, c now trapped.
  const auto second = load(R"("a": { "local_ts": ["10.1.0.0/16"], "remote_ts": ["10.2.0.0/16"], "start_action": "trap" },
                              "b": { "local_ts": ["10.3.0.0/16"], "remote_ts": ["10.9.0.0/16"], "start_action": "trap" },
                              "c": { "local_ts": ["10.5.0.0/16"], "remote_ts": ["10.6.0.0/16"], "start_action": "trap" })");
  traps.reconcile(second);
  EXPECT_EQ(traps.children(), 3u);
  ASSERT_EQ(dp.policies.size(), 3u);
  const auto a_hit = traps.acquired(ids_before.begin()->first);
  ASSERT_TRUE(a_hit.has_value()) << "a kept its policy id";
  EXPECT_EQ(a_hit->child, "a");
  EXPECT_FALSE(traps.acquired(std::next(ids_before.begin())->first).has_value()) << "b's old trap is gone";
  for (const auto& [id, p] : dp.policies) EXPECT_GT(id, 1000u);

  // A child that was trapped by dpd_action stays while its dpd_action is trap.
  config::Config third = second;
  third.connections.at(0).children.at(2).start_action = config::Action::none;
  third.connections.at(0).children.at(2).dpd_action = config::Action::trap;
  traps.reconcile(third);
  EXPECT_FALSE(traps.installed("gw", "c")) << "installed for start_action, which is none now";
  std::string why;
  ASSERT_TRUE(traps.install(third.connections.at(0), third.connections.at(0).children.at(2), TrapOrigin::dpd_action, &why))
      << why;
  traps.reconcile(third);
  EXPECT_TRUE(traps.installed("gw", "c"));

  // Gone from the config: gone from the dataplane.
  traps.reconcile(load(R"("other": { "local_ts": ["10.7.0.0/16"], "remote_ts": ["10.8.0.0/16"] })"));
  EXPECT_EQ(traps.children(), 0u);
  EXPECT_TRUE(dp.policies.empty());
}

TEST(Traps, RemoveAndClear) {
  Dataplane dp;
  Traps traps(dp, 0);
  const auto c = load(R"("a": { "local_ts": ["10.1.0.0/16"], "remote_ts": ["10.2.0.0/16"], "start_action": "trap" },
                         "b": { "local_ts": ["10.3.0.0/16"], "remote_ts": ["10.4.0.0/16"], "close_action": "trap" })");
  traps.reconcile(c);
  EXPECT_EQ(traps.children(), 1u) << "close_action trap installs when the child is closed, not at load";
  std::string why;
  ASSERT_TRUE(traps.install(c.connections.at(0), c.connections.at(0).children.at(1), TrapOrigin::close_action, &why));
  ASSERT_TRUE(traps.install(c.connections.at(0), c.connections.at(0).children.at(1), TrapOrigin::close_action, &why))
      << "installing again changes nothing";
  EXPECT_EQ(dp.policies.size(), 2u);
  EXPECT_TRUE(traps.remove("gw", "b"));
  EXPECT_FALSE(traps.remove("gw", "b"));
  EXPECT_EQ(dp.policies.size(), 1u);
  traps.clear();
  EXPECT_TRUE(dp.policies.empty());
  EXPECT_EQ(traps.policy_count(), 0u);
}

// What the dataplane reports for a TCP packet from 10.1.0.5:40000 to 10.2.0.7:443.
channel::Acquire https_acquire() {
  channel::Acquire a;
  a.policy_id = 1;
  a.ip_protocol = 6;
  a.src = {10, 1, 0, 5};
  a.dst = {10, 2, 0, 7};
  a.src_port = 40000;
  a.dst_port = 443;
  return a;
}

TEST(Traps, TriggerSelectorsAreThePacketsOwn) {
  channel::Acquire a = https_acquire();
  auto t = trigger_of(a);
  EXPECT_EQ(t.tsi.to_string(), "10.1.0.5/32[tcp/40000]");
  EXPECT_EQ(t.tsr.to_string(), "10.2.0.7/32[tcp/443]");
  a.ip_protocol = 33;  // DCCP has ports too, as the dataplane's SPD key reads them
  EXPECT_EQ(trigger_of(a).tsr.port_start, 443);
  a.ip_protocol = 1;  // ICMP: any "port" (type/code are not ports here)
  t = trigger_of(a);
  EXPECT_EQ(t.tsi.protocol, 1);
  EXPECT_EQ(t.tsi.port_start, 0);
  EXPECT_EQ(t.tsi.port_end, 65535);
}

TEST(Traps, DescribeNamesThePacket) {
  channel::Acquire a = https_acquire();
  EXPECT_EQ(describe(a), "10.1.0.5 -> 10.2.0.7 tcp 40000 -> 443");
  a.ip_protocol = 1;
  EXPECT_EQ(describe(a), "10.1.0.5 -> 10.2.0.7 icmp");
  a.family = channel::IpVersion::v6;
  a.ip_protocol = 58;
  a.src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  a.dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  EXPECT_EQ(describe(a), "2001:db8::1 -> 2001:db8::2 icmpv6");
}

}  // namespace
}  // namespace corridor::control::ike
