// Trap policies with the IKEv2 manager: start_action trap installs them
// (control/ike/traps.h) and an acquire initiates the child; the Child SA's
// own policies then take precedence; dpd_action / close_action trap hand
// the closed child over to be trapped; child_active() tells an acquire
// that the child is up or on its way. Two Corridors, one message at a time.
#include <gtest/gtest.h>

#include <tuple>

#include "control/ike/traps.h"
#include "control/daemon/sa_sync.h"
#include "tests/unit/ikev2/peer_pair.h"

namespace corridor::ikev2_test {
namespace {

using control::ike::TrapOrigin;
using control::ike::Traps;

struct Handed {
  std::vector<std::tuple<std::string, std::string, TrapOrigin>> children;
  ikev2::ManagerOptions options() {
    ikev2::ManagerOptions o;
    o.on_trap = [this](const config::ConnectionConfig& conn, const config::ChildConfig& child, TrapOrigin origin) {
      children.emplace_back(conn.name, child.name, origin);
    };
    return o;
  }
};

std::vector<channel::PolicyRecord> with_action(const Dataplane& dp, channel::PolicyAction action) {
  std::vector<channel::PolicyRecord> out;
  for (const auto& [id, p] : dp.policies)
    if (p.action == action) out.push_back(p);
  return out;
}

TEST(Ikev2Trap, AnAcquireInitiatesTheTrappedChildAndItsPoliciesWin) {
  PeerSpec b = PeerSpec{}.mirrored();
  b.start_action = "trap";
  Pair p({}, b);
  Traps traps(p.dp_b, control::kTrapChannelIdBit);
  traps.reconcile(p.config_b);
  const auto trap_policies = with_action(p.dp_b, channel::PolicyAction::trap);
  ASSERT_EQ(trap_policies.size(), 1u);
  const auto& trap = trap_policies.front();
  EXPECT_EQ(trap.direction, channel::Direction::outbound);
  EXPECT_EQ(trap.sa_id, 0u);
  EXPECT_EQ(trap.src.address[1], 2) << "B's local_ts 10.2.0.0/16";
  EXPECT_EQ(trap.dst.address[1], 1);
  p.b.start(p.now);
  EXPECT_TRUE(p.wire_b.queue.empty()) << "a trap does not initiate at start";

  // The dataplane's ACQUIRE for a packet from 10.2.0.9 to 10.1.0.7.
  const auto hit = traps.acquired(trap.policy_id);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->connection, "peer");
  EXPECT_EQ(hit->child, "net");
  EXPECT_EQ(hit->version, 2u);
  EXPECT_FALSE(p.b.child_active("peer", "net"));
  ASSERT_TRUE(p.b.initiate(hit->connection, hit->child, p.now));
  EXPECT_TRUE(p.b.child_active("peer", "net")) << "being negotiated: a second acquire starts nothing";
  drain(p);
  ASSERT_EQ(p.b.ike_sa_count(), 1u);
  EXPECT_EQ(p.b.list().at(0).state, "ESTABLISHED");
  EXPECT_TRUE(p.b.child_active("peer", "net"));
  expect_matching_child_sas(p.dp_a, p.dp_b);
  // The Child SA's outbound policy wins over the trap for the same
  // selectors: lower priority value (SPD precedence).
  const auto protect = with_action(p.dp_b, channel::PolicyAction::protect);
  const auto out = std::find_if(protect.begin(), protect.end(),
                                [](const auto& x) { return x.direction == channel::Direction::outbound; });
  ASSERT_NE(out, protect.end());
  EXPECT_EQ(out->src, trap.src);
  EXPECT_EQ(out->dst, trap.dst);
  EXPECT_LT(out->priority, trap.priority);
  EXPECT_EQ(traps.stats().acquires, 1u);
  EXPECT_FALSE(traps.acquired(12345).has_value());
  EXPECT_EQ(traps.stats().acquires_unknown, 1u);
}

// §2.9: the acquire's packet goes first in TSi/TSr, in IKE_AUTH and in
// CREATE_CHILD_SA; the responder narrows it away, so the Child SAs carry the
// configured subnets, not the one packet.
TEST(Ikev2Trap, TheTriggeringPacketIsProposedFirstAndTheSubnetsAreAgreed) {
  PeerSpec a;
  a.net2_local_ts = R"(["10.3.0.0/16"])";
  a.net2_remote_ts = R"(["10.4.0.0/16"])";
  Pair p(a, a.mirrored());
  const auto packet = [](const char* src, const char* dst) {
    control::ike::TriggerPacket t;
    t.tsi = *net::TrafficSelector::parse(std::string(src) + "/32[udp/5000]");
    t.tsr = *net::TrafficSelector::parse(std::string(dst) + "/32[udp/53]");
    return t;
  };
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now, nullptr, packet("10.1.0.5", "10.2.0.7")));
  drain(p);
  ASSERT_TRUE(p.a.initiate("peer", "net2", p.now, nullptr, packet("10.3.0.5", "10.4.0.7")));  // CREATE_CHILD_SA
  drain(p);
  const auto sa = p.a.list().at(0);
  ASSERT_EQ(sa.children.size(), 2u);
  for (const auto& c : sa.children) {
    const bool net = c.name == "net";
    EXPECT_EQ(c.local_ts, std::vector<std::string>{net ? "10.1.0.0/16" : "10.3.0.0/16"}) << c.name;
    EXPECT_EQ(c.remote_ts, std::vector<std::string>{net ? "10.2.0.0/16" : "10.4.0.0/16"}) << c.name;
  }
  EXPECT_EQ(p.dp_a.sas.size(), 4u);  // two pairs each side
  EXPECT_EQ(p.dp_b.sas.size(), 4u);
  EXPECT_EQ(p.b.list().at(0).children.size(), 2u);
}

TEST(Ikev2Trap, CloseActionTrapHandsTheClosedChildOver) {
  PeerSpec b = PeerSpec{}.mirrored();
  b.close_action = "trap";
  Handed handed;
  Pair p({}, b, handed.options());
  p.establish();
  const auto a_sa = p.a.list().at(0);
  std::string why;
  ASSERT_TRUE(p.a.delete_child(a_sa.id, a_sa.children.at(0).spi_in, p.now, &why)) << why;
  drain(p);
  ASSERT_EQ(handed.children.size(), 1u);
  EXPECT_EQ(handed.children[0], std::make_tuple(std::string("peer"), std::string("net"), TrapOrigin::close_action));
  EXPECT_FALSE(p.b.child_active("peer", "net"));
  EXPECT_TRUE(p.dp_b.sas.empty());
}

TEST(Ikev2Trap, OurOwnDeleteIsNoClose) {
  PeerSpec b = PeerSpec{}.mirrored();
  b.close_action = "trap";
  Handed handed;
  Pair p({}, b, handed.options());
  p.establish();
  const auto b_sa = p.b.list().at(0);
  std::string why;
  ASSERT_TRUE(p.b.delete_child(b_sa.id, b_sa.children.at(0).spi_in, p.now, &why)) << why;
  EXPECT_FALSE(p.b.child_active("peer", "net")) << "being deleted";
  drain(p);
  EXPECT_TRUE(handed.children.empty());
}

TEST(Ikev2Trap, DpdActionTrapHandsTheChildrenOfADeadPeerOver) {
  PeerSpec b = PeerSpec{}.mirrored();
  b.dpd_delay = "10s";
  b.dpd_action = "trap";
  Handed handed;
  Pair p({}, b, handed.options());
  p.establish();
  for (int i = 0; i < 400 && p.b.stats().dead_peers == 0; ++i) {  // A vanishes
    p.now += 1s;
    p.b.tick(p.now);
    p.wire_b.queue.clear();
  }
  EXPECT_EQ(p.b.stats().dead_peers, 1u);
  EXPECT_EQ(p.b.ike_sa_count(), 0u) << "trap does not initiate at once";
  ASSERT_EQ(handed.children.size(), 1u);
  EXPECT_EQ(handed.children[0], std::make_tuple(std::string("peer"), std::string("net"), TrapOrigin::dpd_action));
}

TEST(Ikev2Trap, ChildActiveKnowsEveryStageAndOnlyItsChild) {
  PeerSpec a;
  a.net2_local_ts = R"(["10.3.0.0/16"])";
  a.net2_remote_ts = R"(["10.4.0.0/16"])";
  Pair p(a, a.mirrored());
  EXPECT_FALSE(p.a.child_active("peer", "net"));
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  EXPECT_TRUE(p.a.child_active("peer", "net")) << "IKE_SA_INIT out";
  EXPECT_FALSE(p.a.child_active("peer", "net2"));
  EXPECT_FALSE(p.a.child_active("other", "net"));
  ASSERT_TRUE(p.a.initiate("peer", "net2", p.now));
  EXPECT_TRUE(p.a.child_active("peer", "net2")) << "queued behind IKE_AUTH";
  drain(p);
  EXPECT_TRUE(p.a.child_active("peer", "net"));
  EXPECT_TRUE(p.a.child_active("peer", "net2"));
  EXPECT_TRUE(p.b.child_active("peer", "net")) << "as responder too";
}

}  // namespace
}  // namespace corridor::ikev2_test
