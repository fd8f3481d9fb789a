// Simultaneous IKE SA rekeys (RFC 7296 §2.8.2) between two Corridor
// peers: whichever order the six messages of the two CREATE_CHILD_SA
// exchanges and the Deletes take, one IKE SA is left on each side, the
// same one, holding the Child SAs that were there before (moved, not
// negotiated again), and no "down" event is raised.
#include <gtest/gtest.h>

#include "tests/unit/ikev2/peer_pair.h"

namespace corridor::ikev2_test {
namespace {

// The SA events of one end, as "kind" strings.
struct Events {
  explicit Events(std::vector<std::string>& sink) : out(sink) {}
  ikev2::ManagerOptions options() {
    ikev2::ManagerOptions o;
    o.on_event = [this](const ikev2::SaEvent& e) {
      switch (e.kind) {
        case ikev2::SaEvent::Kind::ike_up: out.push_back("ike-up"); break;
        case ikev2::SaEvent::Kind::ike_down: out.push_back("ike-down"); break;
        case ikev2::SaEvent::Kind::ike_rekey: out.push_back("ike-rekey"); break;
        default: break;
      }
    };
    return o;
  }
  std::vector<std::string>& out;
};

// One IKE SA each, the same, established, with the Child SA pair that was
// there before; the dataplanes hold exactly that pair.
void expect_one_shared_ike_sa(Pair& p, const std::set<std::uint32_t>& child_spis_a, const std::string& when) {
  ASSERT_EQ(p.a.ike_sa_count(), 1u) << when;
  ASSERT_EQ(p.b.ike_sa_count(), 1u) << when;
  const auto va = p.a.list().at(0);
  const auto vb = p.b.list().at(0);
  EXPECT_EQ(va.state, "ESTABLISHED") << when;
  EXPECT_EQ(vb.state, "ESTABLISHED") << when;
  EXPECT_EQ(va.spi_i, vb.spi_i) << when;
  EXPECT_EQ(va.spi_r, vb.spi_r) << when;
  ASSERT_EQ(va.children.size(), 1u) << when;
  ASSERT_EQ(vb.children.size(), 1u) << when;
  EXPECT_EQ(spis(p.dp_a), child_spis_a) << when << ": the Child SAs were moved, not renegotiated";
  expect_matching_child_sas(p.dp_a, p.dp_b);
}

// Both ends see the collision: each answers the other's request before its
// own response arrives. The new IKE SA made with the lowest nonce goes.
TEST(Ikev2IkeRekeyCollision, BothEndsSeeItAndKeepOneIkeSa) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  const auto child_spis = spis(p.dp_a);
  int a_won = 0, b_won = 0;
  constexpr int kRounds = 16;
  for (int round = 0; round < kRounds; ++round) {
    const std::string when = "round " + std::to_string(round);
    ASSERT_TRUE(p.a.rekey(p.a.list().at(0).id, p.now));
    ASSERT_TRUE(p.b.rekey(p.b.list().at(0).id, p.now));
    ASSERT_EQ(p.wire_a.queue.size(), 1u);  // A's CREATE_CHILD_SA request (X)
    ASSERT_EQ(p.wire_b.queue.size(), 1u);  // B's (Y)
    ASSERT_TRUE(p.a_to_b());  // X reaches B: B answers it, noting the collision
    ASSERT_TRUE(p.b_to_a());  // Y reaches A: A answers it
    EXPECT_EQ(p.a.ike_sa_count(), 2u);  // the old one and B's new one, not yet settled
    ASSERT_TRUE(p.b_to_a());  // B's response to X: A settles
    ASSERT_TRUE(p.a_to_b());  // A's response to Y: B settles
    drain(p);                 // the Deletes of the redundant new IKE SA and of the old one
    expect_one_shared_ike_sa(p, child_spis, when);
    if (p.a.list().at(0).initiator) ++a_won;  // A initiated the exchange that made the survivor
    else ++b_won;
    EXPECT_EQ(p.a.stats().ike_rekey_collisions, static_cast<std::uint64_t>(round + 1));
    EXPECT_EQ(p.b.stats().ike_rekey_collisions, static_cast<std::uint64_t>(round + 1));
    p.now += 1s;
  }
  EXPECT_GT(a_won, 0);
  EXPECT_GT(b_won, 0);
  EXPECT_EQ(p.a.stats().ike_sas_rekeyed, static_cast<std::uint64_t>(kRounds));
  EXPECT_EQ(p.b.stats().ike_sas_rekeyed, static_cast<std::uint64_t>(kRounds));
  // What is left works: a Child SA rekey over it, then a Delete through it.
  const auto v = p.a.list().at(0);
  ASSERT_TRUE(p.a.rekey_child(v.id, v.children.at(0).spi_in, p.now));
  drain(p);
  EXPECT_NE(spis(p.dp_a), child_spis);
  expect_matching_child_sas(p.dp_a, p.dp_b);
  p.a.shutdown(p.now);
  drain(p);
  EXPECT_EQ(p.b.ike_sa_count(), 0u);
  EXPECT_TRUE(p.dp_b.sas.empty());
}

// The peer acts on the collision before our response reaches us: B settles
// on A's response to Y and sends its Delete (of its own new IKE SA when it
// lost, of the old one when it won) ahead of its response to X.
TEST(Ikev2IkeRekeyCollision, ThePeersDeleteOvertakesItsResponse) {
  std::vector<std::string> events_b;
  Events eb(events_b);
  Pair p({}, PeerSpec{}.mirrored(), eb.options());
  p.establish();
  const auto child_spis = spis(p.dp_a);
  int b_deleted_its_own = 0, b_deleted_the_old = 0;
  constexpr int kRounds = 16;
  for (int round = 0; round < kRounds; ++round) {
    const std::string when = "round " + std::to_string(round);
    ASSERT_TRUE(p.a.rekey(p.a.list().at(0).id, p.now));
    ASSERT_TRUE(p.b.rekey(p.b.list().at(0).id, p.now));
    ASSERT_TRUE(p.a_to_b());  // X reaches B: B answers it
    ASSERT_EQ(p.wire_b.queue.size(), 2u);
    const Datagram response_x = p.wire_b.queue.back();  // held back
    p.wire_b.queue.pop_back();
    ASSERT_TRUE(p.b_to_a());  // Y reaches A: A answers it
    ASSERT_TRUE(p.a_to_b());  // A's response to Y: B settles and sends a Delete
    ASSERT_EQ(p.wire_b.queue.size(), 1u) << when;
    ASSERT_EQ(p.a.ike_sa_count(), 2u) << when;  // the old one and B's new one
    ASSERT_TRUE(p.b_to_a());  // the Delete reaches A
    // The Child SA is on an IKE SA that stays, whichever went. (The old
    // one, deleted, may wait for the response the Delete overtook.)
    std::size_t carriers = 0;
    for (const auto& v : p.a.list())
      if (!v.children.empty()) {
        ++carriers;
        EXPECT_EQ(v.state, "ESTABLISHED") << when;
      }
    EXPECT_EQ(carriers, 1u) << when;
    p.wire_b.queue.push_back(response_x);
    drain(p);
    expect_one_shared_ike_sa(p, child_spis, when);
    (p.a.list().at(0).initiator ? b_deleted_its_own : b_deleted_the_old)++;
    p.now += 1s;
  }
  EXPECT_GT(b_deleted_its_own, 0);
  EXPECT_GT(b_deleted_the_old, 0);
  // Up once; every rekey was a rekey, never a down.
  EXPECT_EQ(std::count(events_b.begin(), events_b.end(), "ike-up"), 1);
  EXPECT_EQ(std::count(events_b.begin(), events_b.end(), "ike-down"), 0);
  EXPECT_EQ(std::count(events_b.begin(), events_b.end(), "ike-rekey"), kRounds);
}

// As above, but the response the Delete of the old IKE SA overtook never
// comes: the old IKE SA, which the peer deleted, waits one retransmission
// timeout for it and then goes, quietly (the peer has no SA to answer a
// retransmission; nothing failed). The peer's copy of the redundant IKE SA
// that response would have made goes 30 s later, without A's Delete.
TEST(Ikev2IkeRekeyCollision, AnOvertakenResponseThatNeverComesIsNotWaitedForLong) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  const auto child_spis = spis(p.dp_a);
  int waited = 0;
  for (int round = 0; round < 16; ++round) {
    const std::string when = "round " + std::to_string(round);
    ASSERT_TRUE(p.a.rekey(p.a.list().at(0).id, p.now));
    ASSERT_TRUE(p.b.rekey(p.b.list().at(0).id, p.now));
    ASSERT_TRUE(p.a_to_b());
    const Datagram response_x = p.wire_b.queue.back();
    p.wire_b.queue.pop_back();
    ASSERT_TRUE(p.b_to_a());
    ASSERT_TRUE(p.a_to_b());  // B settles and sends its Delete
    ASSERT_TRUE(p.b_to_a());
    drain(p);  // A's answer to the Delete
    if (p.a.ike_sa_count() == 2) {
      // B won: it deleted the old IKE SA, which A keeps for the response.
      ++waited;
      p.now += 6s;  // past the first retransmission timeout
      p.a.tick(p.now);
      p.b.tick(p.now);
      EXPECT_EQ(p.a.ike_sa_count(), 1u) << when;
      for (const auto& d : p.wire_a.queue) {
        const auto m = parse(d);
        ADD_FAILURE() << when << ": A sent " << static_cast<int>(m.header.exchange) << " id " << m.header.message_id
                      << (m.header.response ? " response" : " request");
      }
      // B waits for A's Delete of the redundant IKE SA A never made, then
      // lets it go.
      ASSERT_EQ(p.b.ike_sa_count(), 2u) << when;
      p.now += 31s;
      p.a.tick(p.now);
      p.b.tick(p.now);
      EXPECT_TRUE(p.wire_b.queue.empty()) << when;
    } else {
      p.wire_b.queue.push_back(response_x);  // B lost: the response settles it as before
      drain(p);
    }
    expect_one_shared_ike_sa(p, child_spis, when);
    p.now += 1s;
  }
  EXPECT_GT(waited, 0);
  EXPECT_EQ(p.a.stats().ike_sas_failed, 0u);
  EXPECT_EQ(p.a.stats().ike_rekey_collisions, 16u);
}

// §2.8.2's special case: A's response to X reaches A before B's request Y
// does, so A finishes its rekey without seeing the collision and answers Y
// TEMPORARY_FAILURE (the old IKE SA is going). B, which did see it, learns
// from that answer or from A's Delete of the old IKE SA (whichever comes
// first) that A's new IKE SA is the one, and forgets its own rekey.
TEST(Ikev2IkeRekeyCollision, OnlyOneEndSeesIt) {
  for (const bool delete_first : {true, false}) {
    const std::string when = delete_first ? "Delete first" : "TEMPORARY_FAILURE first";
    Pair p({}, PeerSpec{}.mirrored());
    p.establish();
    const auto child_spis = spis(p.dp_a);
    const auto old_spi_i = p.a.list().at(0).spi_i;
    ASSERT_TRUE(p.a.rekey(p.a.list().at(0).id, p.now));
    ASSERT_TRUE(p.b.rekey(p.b.list().at(0).id, p.now));
    ASSERT_TRUE(p.a_to_b());  // X reaches B: B answers it, noting the collision
    // B's queue: Y, then the response to X. The response goes first.
    ASSERT_EQ(p.wire_b.queue.size(), 2u);
    std::swap(p.wire_b.queue.front(), p.wire_b.queue.back());
    ASSERT_TRUE(p.b_to_a());  // A's rekey is done: it sends the Delete of the old IKE SA
    ASSERT_TRUE(p.b_to_a());  // Y reaches A: TEMPORARY_FAILURE
    EXPECT_EQ(p.a.stats().notifies_sent.at("TEMPORARY_FAILURE"), 1u) << when;
    ASSERT_EQ(p.wire_a.queue.size(), 2u) << when;
    if (!delete_first) std::swap(p.wire_a.queue.front(), p.wire_a.queue.back());
    drain(p);
    expect_one_shared_ike_sa(p, child_spis, when);
    EXPECT_NE(p.a.list().at(0).spi_i, old_spi_i) << when;
    EXPECT_TRUE(p.a.list().at(0).initiator) << when << ": A's new IKE SA is the one";
    EXPECT_EQ(p.a.stats().ike_rekey_collisions, 0u) << when << ": A never saw it";
    EXPECT_EQ(p.b.stats().ike_rekey_collisions, 1u) << when;
    EXPECT_EQ(p.b.stats().ike_sas_rekeyed, 1u) << when;
    // The survivor carries the next rekey, by B this time.
    ASSERT_TRUE(p.b.rekey(p.b.list().at(0).id, p.now));
    drain(p);
    expect_one_shared_ike_sa(p, child_spis, when + ", rekeyed again");
  }
}

}  // namespace
}  // namespace corridor::ikev2_test
