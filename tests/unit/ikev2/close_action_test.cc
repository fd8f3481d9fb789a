// close_action (strongSwan's): when the peer closes a Child SA with a
// Delete, its own or its IKE SA's, `start` negotiates it again and `none`
// leaves it closed. A rekey's or a reauthentication's Delete is no close.
// Two Corridors, one message at a time.
#include <gtest/gtest.h>

#include "tests/unit/ikev2/peer_pair.h"

namespace corridor::ikev2_test {
namespace {

using namespace std::chrono_literals;

PeerSpec restarting() {
  PeerSpec s;
  s.close_action = "start";
  return s;
}

TEST(Ikev2CloseAction, StartNegotiatesAChildSaThePeerDeletedAgainOverTheSameIkeSa) {
  Pair p(restarting(), PeerSpec{}.mirrored());
  p.establish();
  const auto before = p.a.list().at(0);
  const auto b_sa = p.b.list().at(0);
  std::string why;
  ASSERT_TRUE(p.b.delete_child(b_sa.id, b_sa.children.at(0).spi_in, p.now, &why)) << why;
  ASSERT_TRUE(p.b_to_a());  // D(ESP): A answers, then asks for the child again
  ASSERT_TRUE(p.a_to_b());  // the Delete's response
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  EXPECT_EQ(parse(p.wire_a.queue.front()).header.exchange, iana::ExchangeType::create_child_sa);
  drain(p);
  const auto after = p.a.list().at(0);
  EXPECT_EQ(after.id, before.id);  // the same IKE SA
  ASSERT_EQ(after.children.size(), 1u);
  EXPECT_NE(after.children[0].spi_in, before.children.at(0).spi_in);
  expect_matching_child_sas(p.dp_a, p.dp_b);
  EXPECT_EQ(p.a.stats().children_restarted_on_close, 1u);
}

TEST(Ikev2CloseAction, NoneLeavesTheChildSaClosed) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  const auto b_sa = p.b.list().at(0);
  std::string why;
  ASSERT_TRUE(p.b.delete_child(b_sa.id, b_sa.children.at(0).spi_in, p.now, &why)) << why;
  drain(p);
  EXPECT_TRUE(p.a.list().at(0).children.empty());
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_EQ(p.a.stats().children_restarted_on_close, 0u);
}

TEST(Ikev2CloseAction, StartNegotiatesAgainWhenThePeerDeletesTheIkeSa) {
  Pair p(restarting(), PeerSpec{}.mirrored());
  p.establish();
  const auto before = p.a.list().at(0);
  std::string why;
  ASSERT_TRUE(p.b.terminate(p.b.list().at(0).id, p.now, &why)) << why;
  drain(p);  // D(IKE), its response, then A's IKE_SA_INIT and IKE_AUTH
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  ASSERT_EQ(p.b.ike_sa_count(), 1u);
  const auto after = p.a.list().at(0);
  EXPECT_NE(after.id, before.id);
  EXPECT_EQ(after.state, "ESTABLISHED");
  ASSERT_EQ(after.children.size(), 1u);
  expect_matching_child_sas(p.dp_a, p.dp_b);
  EXPECT_EQ(p.a.stats().children_restarted_on_close, 1u);
}

TEST(Ikev2CloseAction, ARekeyOrAReauthenticationByThePeerIsNoClose) {
  Pair p(restarting(), PeerSpec{}.mirrored());
  p.establish();
  std::string why;
  const auto b_sa = p.b.list().at(0);
  ASSERT_TRUE(p.b.rekey_child(b_sa.id, b_sa.children.at(0).spi_in, p.now, &why)) << why;
  drain(p);  // B deletes the old pair: A answers, nothing more
  ASSERT_TRUE(p.b.reauthenticate(b_sa.id, p.now, &why)) << why;
  drain(p);
  p.b.tick(p.now);  // B's new IKE SA is complete: it deletes the old one
  drain(p);
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  ASSERT_EQ(p.a.list().at(0).children.size(), 1u);
  expect_matching_child_sas(p.dp_a, p.dp_b);
  EXPECT_EQ(p.a.stats().children_restarted_on_close, 0u);
  EXPECT_EQ(p.b.stats().ike_sas_reauthenticated, 1u);
}

TEST(Ikev2CloseAction, OurOwnStopRestartsNothing) {
  Pair p(restarting(), restarting().mirrored());
  p.establish();
  p.a.shutdown(p.now);
  drain(p);
  EXPECT_TRUE(p.a.drained());
  EXPECT_EQ(p.a.stats().children_restarted_on_close, 0u);
  // B was told by A's Delete: close_action start on B negotiates again,
  // and A, stopping, drops its IKE_SA_INIT.
  EXPECT_EQ(p.b.stats().children_restarted_on_close, 1u);
  ASSERT_EQ(p.b.ike_sa_count(), 1u);
  EXPECT_EQ(p.b.list().at(0).state, "IKE_SA_INIT_SENT");
  EXPECT_EQ(p.a.stats().drops.at("shutting_down"), 1u);
}

}  // namespace
}  // namespace corridor::ikev2_test
