// IKE SA reauthentication (reauth_time, Manager::reauthenticate): a new IKE
// SA with fresh IKE_SA_INIT and IKE_AUTH takes every Child SA over before
// the old IKE SA is deleted, one message at a time between two Corridors.
#include <gtest/gtest.h>

#include "tests/unit/ikev2/peer_pair.h"

namespace corridor::ikev2_test {
namespace {

// The outbound policies: id -> the SA they steer into.
std::map<std::uint64_t, std::uint64_t> outbound(const Dataplane& d) {
  std::map<std::uint64_t, std::uint64_t> out;
  for (const auto& [id, p] : d.policies)
    if (p.direction == channel::Direction::outbound) out[id] = p.sa_id;
  return out;
}

std::uint64_t outbound_sa_id(const Dataplane& d, std::uint32_t spi) {
  for (const auto& [id, sa] : d.sas)
    if (sa.direction == channel::Direction::outbound && sa.spi == spi) return id;
  return 0;
}

TEST(Ikev2Reauth, OperatorReauthMovesTheTrafficBeforeTheOldIkeSaGoes) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  const auto old_a = p.a.list().at(0);
  const auto old_b = p.b.list().at(0);
  const auto policies_before = outbound(p.dp_a);
  ASSERT_EQ(policies_before.size(), 1u);
  std::string why;

  ASSERT_TRUE(p.a.reauthenticate(old_a.id, p.now, &why)) << why;
  EXPECT_FALSE(p.a.reauthenticate(old_a.id, p.now, &why));  // one at a time
  EXPECT_EQ(why, "it is being reauthenticated already");
  ASSERT_EQ(p.a.ike_sa_count(), 2u);
  ASSERT_TRUE(p.a_to_b());  // IKE_SA_INIT
  ASSERT_TRUE(p.b_to_a());
  ASSERT_TRUE(p.a_to_b());  // IKE_AUTH: B installs the new pair, keeps the old
  EXPECT_EQ(p.b.ike_sa_count(), 2u);
  EXPECT_EQ(p.dp_b.sas.size(), 4u);
  ASSERT_TRUE(p.b_to_a());  // IKE_AUTH response

  // A's outbound traffic is on the new Child SA at once, through the same
  // policy (no moment without one); the old inbound SA still receives.
  const auto views = p.a.list();
  ASSERT_EQ(views.size(), 2u);
  const auto& fresh = views.at(1);
  EXPECT_EQ(fresh.state, "ESTABLISHED");
  ASSERT_EQ(fresh.children.size(), 1u);
  const auto policies_during = outbound(p.dp_a);
  ASSERT_EQ(policies_during.size(), 1u);
  EXPECT_EQ(policies_during.begin()->first, policies_before.begin()->first);
  EXPECT_EQ(policies_during.begin()->second, outbound_sa_id(p.dp_a, fresh.children.at(0).spi_out));
  EXPECT_EQ(p.dp_a.sas.size(), 4u);
  EXPECT_TRUE(p.wire_a.queue.empty());

  // The next tick finds the new IKE SA complete and deletes the old one.
  p.a.tick(p.now);
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  ASSERT_EQ(p.b.ike_sa_count(), 1u);
  const auto now_a = p.a.list().at(0);
  const auto now_b = p.b.list().at(0);
  EXPECT_NE(now_a.spi_i, old_a.spi_i);
  EXPECT_EQ(now_a.spi_i, now_b.spi_i);
  EXPECT_NE(now_b.id, old_b.id);
  EXPECT_NE(now_a.children.at(0).spi_in, old_a.children.at(0).spi_in);
  expect_matching_child_sas(p.dp_a, p.dp_b);
  EXPECT_EQ(p.dp_a.sas.size(), 2u);
  EXPECT_EQ(outbound(p.dp_a), policies_during);  // the old pair's removal left the policy alone
  EXPECT_EQ(p.a.stats().ike_sas_reauth_started, 1u);
  EXPECT_EQ(p.a.stats().ike_sas_reauthenticated, 1u);
  EXPECT_EQ(p.b.stats().ike_sas_established, 2u);  // authenticated twice
  EXPECT_EQ(p.a.reserved_child_spis(), 1u);
}

TEST(Ikev2Reauth, ReauthTimeRenewsEveryChildSaAndAnIkeRekeyKeepsItsTime) {
  PeerSpec a;
  a.reauth = "1h";
  a.net2_local_ts = R"(["10.3.0.0/16"])";
  a.net2_remote_ts = R"(["10.4.0.0/16"])";
  PeerSpec b = a.mirrored();
  b.reauth = "0s";  // A alone: else whichever end's jittered time comes first
  Pair p(a, b);
  p.establish();
  std::string why;
  ASSERT_TRUE(p.a.initiate("peer", "net2", p.now, &why)) << why;  // over the same IKE SA
  run_until(p, p.now + 2s);
  ASSERT_EQ(p.a.list().at(0).children.size(), 2u);
  const auto first = p.a.list().at(0);
  ASSERT_TRUE(first.reauth_at != TimePoint::max());
  EXPECT_LE(first.reauth_at, p.now + 1h);
  EXPECT_GE(first.reauth_at, p.now + 30min - 2s);  // jitter takes at most half

  // An IKE SA rekey renews keys, not the authentication: same reauth time.
  ASSERT_TRUE(p.a.rekey(first.id, p.now, &why)) << why;
  run_until(p, p.now + 2s);
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  EXPECT_NE(p.a.list().at(0).id, first.id);
  EXPECT_EQ(p.a.list().at(0).reauth_at, first.reauth_at);

  const auto policies_before = outbound(p.dp_a);
  ASSERT_EQ(policies_before.size(), 2u);
  run_until(p, first.reauth_at + 5s);
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  ASSERT_EQ(p.b.ike_sa_count(), 1u);
  EXPECT_EQ(p.a.stats().ike_sas_reauthenticated, 1u);
  const auto after = p.a.list().at(0);
  EXPECT_EQ(after.children.size(), 2u);
  EXPECT_EQ(p.b.list().at(0).children.size(), 2u);
  EXPECT_EQ(p.dp_a.sas.size(), 4u);
  EXPECT_EQ(spis(p.dp_a), spis(p.dp_b));  // each outbound SPI is the other end's inbound
  // Both Child SAs (the one in IKE_AUTH, the one by CREATE_CHILD_SA) took
  // their predecessors' policies over: the same ids, now on the new SAs.
  const auto policies_after = outbound(p.dp_a);
  ASSERT_EQ(policies_after.size(), 2u);
  std::set<std::uint64_t> new_sa_ids;
  for (const auto& c : after.children) new_sa_ids.insert(outbound_sa_id(p.dp_a, c.spi_out));
  for (const auto& [id, sa_id] : policies_after) {
    EXPECT_TRUE(policies_before.contains(id)) << id;
    EXPECT_TRUE(new_sa_ids.contains(sa_id)) << sa_id;
  }
  EXPECT_GT(after.reauth_at, first.reauth_at + 30min);  // scheduled anew
}

TEST(Ikev2Reauth, TheResponderReauthenticatesToo) {
  PeerSpec b = PeerSpec{}.mirrored();
  b.reauth = "600s";
  Pair p({}, b);
  p.establish();
  const auto old_b = p.b.list().at(0);
  EXPECT_FALSE(old_b.initiator);
  run_until(p, old_b.reauth_at + 5s);
  ASSERT_EQ(p.b.ike_sa_count(), 1u);
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  EXPECT_TRUE(p.b.list().at(0).initiator);  // B began the new IKE SA
  EXPECT_EQ(p.b.stats().ike_sas_reauthenticated, 1u);
  EXPECT_EQ(p.a.list().at(0).children.size(), 1u);
  expect_matching_child_sas(p.dp_a, p.dp_b);
}

// The peer does not answer: the new IKE SA gives up, the old one stays up
// with its Child SAs and tries again later, and then succeeds.
TEST(Ikev2Reauth, AFailedReauthKeepsTheOldIkeSaAndRetries) {
  PeerSpec a;
  a.reauth = "4h";  // retried only where reauth_time asks for reauthentication
  Pair p(a, PeerSpec{}.mirrored());
  p.establish();
  const auto old_a = p.a.list().at(0);
  std::string why;
  ASSERT_TRUE(p.a.reauthenticate(old_a.id, p.now, &why)) << why;
  for (int i = 0; i < 400 && p.a.stats().ike_sas_reauth_failed == 0; ++i) {
    p.wire_a.queue.clear();  // lost on the way
    p.now += 1s;
    p.a.tick(p.now);
  }
  ASSERT_EQ(p.a.stats().ike_sas_reauth_failed, 1u);
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  const auto kept = p.a.list().at(0);
  EXPECT_EQ(kept.id, old_a.id);
  EXPECT_EQ(kept.state, "ESTABLISHED");
  EXPECT_EQ(kept.children.size(), 1u);
  EXPECT_EQ(p.dp_a.sas.size(), 2u);
  EXPECT_GE(kept.reauth_at, p.now + 30s);
  EXPECT_LE(kept.reauth_at, p.now + 60s);
  p.wire_a.queue.clear();

  run_until(p, kept.reauth_at + 5s);
  EXPECT_EQ(p.a.stats().ike_sas_reauthenticated, 1u);
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  EXPECT_NE(p.a.list().at(0).id, old_a.id);
  expect_matching_child_sas(p.dp_a, p.dp_b);
}

TEST(Ikev2Reauth, RefusedWhileStoppingOrDeletingAndForUnknownSas) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  std::string why;
  const auto view = p.a.list().at(0);
  EXPECT_FALSE(p.a.reauthenticate(view.id + 100, p.now, &why));
  EXPECT_EQ(why, "no IKE SA " + std::to_string(view.id + 100));
  // A Child SA rekey out keeps the SA ESTABLISHED through the stop.
  ASSERT_TRUE(p.a.rekey_child(view.id, view.children.at(0).spi_in, p.now, &why)) << why;
  p.a.shutdown(p.now);
  ASSERT_EQ(p.a.list().at(0).state, "ESTABLISHED");
  EXPECT_FALSE(p.a.reauthenticate(view.id, p.now, &why));
  EXPECT_EQ(why, "shutting down");
}

// The new IKE SA took the first Child SA's traffic over in IKE_AUTH, then
// dies asking for the second: the first goes back to the old IKE SA's
// pair (same policy ids), which stays up.
TEST(Ikev2Reauth, ANewIkeSaThatFailsAfterTheTakeoverHandsThePoliciesBack) {
  PeerSpec a;
  a.net2_local_ts = R"(["10.3.0.0/16"])";
  a.net2_remote_ts = R"(["10.4.0.0/16"])";
  Pair p(a, a.mirrored());
  p.establish();
  std::string why;
  ASSERT_TRUE(p.a.initiate("peer", "net2", p.now, &why)) << why;
  run_until(p, p.now + 2s);
  const auto old_a = p.a.list().at(0);
  ASSERT_EQ(old_a.children.size(), 2u);
  const auto before = outbound(p.dp_a);
  ASSERT_EQ(before.size(), 2u);

  ASSERT_TRUE(p.a.reauthenticate(old_a.id, p.now, &why)) << why;
  ASSERT_TRUE(p.a_to_b());  // IKE_SA_INIT
  ASSERT_TRUE(p.b_to_a());
  ASSERT_TRUE(p.a_to_b());  // IKE_AUTH with the first Child SA
  ASSERT_TRUE(p.b_to_a());  // taken over; CREATE_CHILD_SA for the second goes out
  const auto during = outbound(p.dp_a);
  EXPECT_NE(during, before);  // one policy re-pointed
  for (int i = 0; i < 400 && p.a.ike_sa_count() == 2; ++i) {
    p.wire_a.queue.clear();  // the CREATE_CHILD_SA and its retransmissions are lost
    p.now += 1s;
    p.a.tick(p.now);
  }
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  p.now += 1s;
  p.a.tick(p.now);  // the old IKE SA notices
  const auto kept = p.a.list().at(0);
  EXPECT_EQ(kept.id, old_a.id);
  EXPECT_EQ(kept.children.size(), 2u);
  EXPECT_EQ(outbound(p.dp_a), before);  // same ids, the old SAs again
  for (const auto& c : kept.children) EXPECT_NE(outbound_sa_id(p.dp_a, c.spi_out), 0u) << c.name;
  EXPECT_EQ(p.a.stats().ike_sas_reauth_failed, 1u);
  // Without reauth_time nothing retries on its own.
  EXPECT_EQ(kept.reauth_at, TimePoint::max());
}

}  // namespace
}  // namespace corridor::ikev2_test
