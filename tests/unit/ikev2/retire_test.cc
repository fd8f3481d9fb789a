// The inbound half of a replaced Child SA pair (ManagerOptions::
// retire_delay, strongSwan's delete_rekeyed_delay): after a rekey or a
// reauthentication deletes the old pair, its inbound SA and inbound
// policies stay in the dataplane for retire_delay, so the peer's packets
// sent on it just before it switched are still decrypted. A pair deleted
// for good goes at once. Two Corridors, one message at a time.
#include <gtest/gtest.h>

#include "tests/unit/ikev2/peer_pair.h"

namespace corridor::ikev2_test {
namespace {

using namespace std::chrono_literals;

PeerSpec lingering() {
  PeerSpec s;
  s.retire_delay = 5s;
  return s;
}

// The dataplane's SAs in one direction, by SPI.
std::set<std::uint32_t> spis(const Dataplane& d, channel::Direction direction) {
  std::set<std::uint32_t> out;
  for (const auto& [id, sa] : d.sas)
    if (sa.direction == direction) out.insert(sa.spi);
  return out;
}

// The inbound policies that check what the SA with this SPI delivers.
std::size_t inbound_policies_of(const Dataplane& d, std::uint32_t spi) {
  std::size_t n = 0;
  for (const auto& [id, p] : d.policies) {
    const auto sa = d.sas.find(p.sa_id);
    if (p.direction == channel::Direction::inbound && sa != d.sas.end() && sa->second.spi == spi) ++n;
  }
  return n;
}

// Ticks both managers at `at` and moves every message.
void tick_at(Pair& p, TimePoint at) {
  p.now = at;
  p.a.tick(p.now);
  p.b.tick(p.now);
  while (p.a_to_b() || p.b_to_a()) {
  }
}

TEST(Ikev2Retire, ARekeyedPairsInboundSaOutlivesItsDeleteByRetireDelay) {
  Pair p(lingering(), lingering().mirrored());
  p.establish();
  const auto old_a = p.a.list().at(0).children.at(0);
  const auto old_b = p.b.list().at(0).children.at(0);
  std::string why;
  ASSERT_TRUE(p.a.rekey_child(p.a.list().at(0).id, old_a.spi_in, p.now, &why)) << why;
  ASSERT_TRUE(p.a_to_b());  // CREATE_CHILD_SA request
  ASSERT_TRUE(p.b_to_a());  // its response: A installs the new pair, sends D(ESP, old)
  ASSERT_TRUE(p.a_to_b());  // INFORMATIONAL D: B removes the old pair
  ASSERT_TRUE(p.b_to_a());  // its response: A removes the old pair
  const auto new_a = p.a.list().at(0).children.at(0);
  ASSERT_NE(new_a.spi_in, old_a.spi_in);

  // Both ends: the new pair, and the old inbound SA with its inbound
  // policy still there; the old outbound SA is gone (nothing steers into it).
  for (auto [d, old, self] : {std::tuple{&p.dp_a, old_a, &p.a}, std::tuple{&p.dp_b, old_b, &p.b}}) {
    EXPECT_EQ(d->sas.size(), 3u);
    EXPECT_EQ(spis(*d, channel::Direction::inbound).count(old.spi_in), 1u);
    EXPECT_EQ(spis(*d, channel::Direction::outbound).count(old.spi_out), 0u);
    EXPECT_EQ(inbound_policies_of(*d, old.spi_in), 1u);
    EXPECT_EQ(d->policies.size(), 3u);  // the new pair's two, the old inbound one
    EXPECT_EQ(self->retired_inbound_sas(), 1u);
    EXPECT_EQ(self->reserved_child_spis(), 2u);  // the old SPI is not handed out again yet
    ASSERT_EQ(self->list().at(0).children.size(), 1u);  // the operator sees the new pair only
  }

  tick_at(p, p.now);  // the first tick dates it: retire_delay from here
  tick_at(p, p.now + 4s);
  EXPECT_EQ(p.dp_a.sas.size(), 3u);
  EXPECT_EQ(p.dp_b.sas.size(), 3u);
  tick_at(p, p.now + 1s);
  EXPECT_EQ(p.dp_a.sas.size(), 2u);
  EXPECT_EQ(p.dp_b.sas.size(), 2u);
  expect_matching_child_sas(p.dp_a, p.dp_b);
  EXPECT_EQ(p.dp_a.policies.size(), 2u);
  EXPECT_EQ(p.dp_b.policies.size(), 2u);
  for (auto* self : {&p.a, &p.b}) {
    EXPECT_EQ(self->retired_inbound_sas(), 0u);
    EXPECT_EQ(self->reserved_child_spis(), 1u);
  }
}

TEST(Ikev2Retire, APairDeletedForGoodGoesAtOnce) {
  Pair p(lingering(), lingering().mirrored());
  p.establish();
  std::string why;
  const auto sa = p.a.list().at(0);
  ASSERT_TRUE(p.a.delete_child(sa.id, sa.children.at(0).spi_in, p.now, &why)) << why;
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_b.sas.empty());
  EXPECT_TRUE(p.dp_a.policies.empty());
  EXPECT_TRUE(p.dp_b.policies.empty());
  EXPECT_EQ(p.a.retired_inbound_sas(), 0u);
  EXPECT_EQ(p.b.reserved_child_spis(), 0u);

  // An IKE SA the peer deletes with no other to carry on takes its
  // Child SAs along at once too.
  Pair q(lingering(), lingering().mirrored());
  q.establish();
  ASSERT_TRUE(q.a.terminate(q.a.list().at(0).id, q.now, &why)) << why;
  ASSERT_TRUE(q.a_to_b());
  ASSERT_TRUE(q.b_to_a());
  EXPECT_TRUE(q.dp_a.sas.empty());
  EXPECT_TRUE(q.dp_b.sas.empty());
  EXPECT_EQ(q.b.retired_inbound_sas(), 0u);
}

TEST(Ikev2Retire, AReauthenticatedIkeSasChildSasLeaveTheirInboundSasOnBothEnds) {
  Pair p(lingering(), lingering().mirrored());
  p.establish();
  const auto old_a = p.a.list().at(0).children.at(0);
  const auto old_b = p.b.list().at(0).children.at(0);
  std::string why;
  ASSERT_TRUE(p.a.reauthenticate(p.a.list().at(0).id, p.now, &why)) << why;
  ASSERT_TRUE(p.a_to_b());  // IKE_SA_INIT
  ASSERT_TRUE(p.b_to_a());
  ASSERT_TRUE(p.a_to_b());  // IKE_AUTH
  ASSERT_TRUE(p.b_to_a());
  p.a.tick(p.now);          // the new IKE SA is complete: the old one's Delete
  ASSERT_TRUE(p.a_to_b());  // B: the peer deletes an IKE SA while another is up
  ASSERT_TRUE(p.b_to_a());
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  ASSERT_EQ(p.b.ike_sa_count(), 1u);
  EXPECT_EQ(spis(p.dp_a, channel::Direction::inbound).count(old_a.spi_in), 1u);
  EXPECT_EQ(spis(p.dp_b, channel::Direction::inbound).count(old_b.spi_in), 1u);
  EXPECT_EQ(spis(p.dp_a, channel::Direction::outbound).count(old_a.spi_out), 0u);
  EXPECT_EQ(spis(p.dp_b, channel::Direction::outbound).count(old_b.spi_out), 0u);
  EXPECT_EQ(p.a.retired_inbound_sas(), 1u);
  EXPECT_EQ(p.b.retired_inbound_sas(), 1u);

  run_until(p, p.now + 7s);
  expect_matching_child_sas(p.dp_a, p.dp_b);
  EXPECT_EQ(p.a.retired_inbound_sas(), 0u);
  EXPECT_EQ(p.b.retired_inbound_sas(), 0u);
  EXPECT_EQ(p.a.reserved_child_spis(), 1u);
  EXPECT_EQ(p.b.reserved_child_spis(), 1u);
}

TEST(Ikev2Retire, ShutdownRemovesRetiredInboundSasAtOnce) {
  Pair p(lingering(), lingering().mirrored());
  p.establish();
  const auto old_a = p.a.list().at(0).children.at(0);
  std::string why;
  ASSERT_TRUE(p.a.rekey_child(p.a.list().at(0).id, old_a.spi_in, p.now, &why)) << why;
  while (p.a_to_b() || p.b_to_a()) {
  }
  ASSERT_EQ(p.a.retired_inbound_sas(), 1u);
  p.a.shutdown(p.now);
  EXPECT_EQ(p.a.retired_inbound_sas(), 0u);
  EXPECT_EQ(spis(p.dp_a, channel::Direction::inbound).count(old_a.spi_in), 0u);
  while (p.a_to_b() || p.b_to_a()) {  // the IKE SA's Delete: nothing lingers after a shutdown
  }
  EXPECT_TRUE(p.a.drained());
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_a.policies.empty());
  EXPECT_EQ(p.a.reserved_child_spis(), 0u);
}

}  // namespace
}  // namespace corridor::ikev2_test
