// What happens to an established ISAKMP SA over time, with two Corridor
// IKEv1 peers in one process (tests/unit/ikev1/pair.h): Dead Peer
// Detection (RFC 3706) both ways and dpd_action, re-establishment of the
// ISAKMP SA by either side with the IPsec SAs carried over untouched, the
// end of its lifetime, and INITIAL-CONTACT after a restart.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "common/ikev1/message.h"
#include "control/ikev1/manager.h"
#include "control/ikev1/nat_t.h"
#include "tests/unit/ikev1/pair.h"

namespace {

using namespace corridor;                 // NOLINT: test brevity
using namespace corridor::control::ikev1;  // NOLINT
using namespace corridor::ikev1_test;      // NOLINT
using namespace std::chrono_literals;

// The SA channel ids of a dataplane's SAs, to show they did not change.
std::vector<std::uint64_t> sa_ids(const Dataplane& dp) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, sa] : dp.sas) ids.push_back(id);
  return ids;
}

std::size_t count_exchanges(const Wire& w, v1::ExchangeType type) {
  return static_cast<std::size_t>(std::count_if(w.queue.begin(), w.queue.end(), [&](const Datagram& d) {
    auto h = codec::parse_header(d.bytes);
    return h.ok() && h->header.exchange == type;
  }));
}

Spec with_dpd(std::string delay, std::string timeout, std::string action) {
  Spec s;
  s.connection_extra = R"("dpd_delay": ")" + delay + R"(", "dpd_timeout": ")" + timeout + R"(")";
  s.child_extra = R"("dpd_action": ")" + action + R"(")";
  return s;
}

// --- Dead Peer Detection ------------------------------------------------------------

TEST(Ikev1Dpd, AnIdlePeerIsProbedAndItsAckCounted) {
  Pair p(with_dpd("10s", "30s", "clear"));
  establish(p);
  p.now += 5s;
  p.tick();
  EXPECT_TRUE(p.wire_a.queue.empty()) << "nothing before dpd_delay";
  p.now += 6s;
  p.tick();
  ASSERT_EQ(count_exchanges(p.wire_a, v1::ExchangeType::informational), 1u);  // R-U-THERE
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.stats().dpd_answered, 1u);
  ASSERT_TRUE(p.b_to_a());  // R-U-THERE-ACK
  EXPECT_EQ(p.a.stats().dpd_sent, 1u);
  EXPECT_EQ(p.a.stats().dpd_acks, 1u);
  EXPECT_TRUE(p.a.stats().drops.empty());
  const auto view = p.a.list().at(0);
  ASSERT_TRUE(view.dpd_last_acked.has_value());
  EXPECT_EQ(view.dpd_delay, 10s);
  // Answered: the next probe waits another dpd_delay.
  p.now += 5s;
  p.tick();
  EXPECT_TRUE(p.wire_a.queue.empty());
  // B has no dpd_delay: it never probes.
  EXPECT_EQ(p.b.stats().dpd_sent, 0u);
}

TEST(Ikev1Dpd, AnUnansweredProbeIsRepeatedEveryDpdDelay) {
  Pair p(with_dpd("10s", "30s", "clear"));
  establish(p);
  p.now += 11s;
  p.tick();
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  // B answers, but the answer is lost.
  ASSERT_TRUE(p.a_to_b());
  ASSERT_EQ(p.wire_b.queue.size(), 1u);
  p.wire_b.queue.clear();
  p.now += 5s;
  p.tick();
  EXPECT_EQ(p.a.stats().dpd_sent, 1u) << "not before dpd_delay";
  EXPECT_EQ(p.a.stats().dpd_acks, 0u);
  p.now += 5s;
  p.tick();
  EXPECT_EQ(p.a.stats().dpd_sent, 2u) << "probed again after dpd_delay";
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  EXPECT_EQ(p.a.stats().dpd_acks, 1u);
}

TEST(Ikev1Dpd, AReplayedAckDoesNotKeepADeadPeerAlive) {
  Pair p(with_dpd("10s", "30s", "clear"));
  establish(p);
  p.now += 11s;
  p.tick();
  ASSERT_TRUE(p.a_to_b());                      // R-U-THERE
  ASSERT_EQ(p.wire_b.queue.size(), 1u);
  const Datagram ack = p.wire_b.queue.front();  // captured on the wire
  ASSERT_TRUE(p.b_to_a());
  ASSERT_EQ(p.a.stats().dpd_acks, 1u);
  // B dies; an attacker replays the captured ACK after every probe.
  for (int i = 0; i < 4; ++i) {
    p.now += 10s;
    p.a.tick(p.now);
    p.wire_a.queue.clear();
    p.wire_b.queue.push_back(ack);
    p.b_to_a();
  }
  EXPECT_GE(p.a.stats().drops.at("replayed"), 3u);
  EXPECT_EQ(p.a.stats().dpd_acks, 1u);
  EXPECT_EQ(p.a.stats().dpd_dead_peers, 1u);
  EXPECT_EQ(p.a.sa_count(), 0u);
}

TEST(Ikev1Dpd, ADeadPeerIsClosedAndDpdActionRestartNegotiatesAgain) {
  Pair p(with_dpd("10s", "30s", "restart"));
  establish(p);
  ASSERT_EQ(p.dp_a.sas.size(), 2u);
  // B is gone: whatever A sends is lost.
  for (int i = 0; i < 4; ++i) {
    p.now += 10s;
    p.a.tick(p.now);
    p.wire_a.queue.clear();
  }
  EXPECT_EQ(p.a.stats().dpd_sent, 3u);  // at 10, 20 and 30 s
  EXPECT_EQ(p.a.stats().dpd_dead_peers, 1u);
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_a.policies.empty());
  // restart: a new Main Mode for the child is under way.
  ASSERT_EQ(p.a.sa_count(), 1u);
  EXPECT_EQ(p.a.list().at(0).state, "MM_SA_SENT");
}

TEST(Ikev1Dpd, DpdActionClearLeavesTheConnectionDown) {
  Pair p(with_dpd("10s", "20s", "clear"));
  establish(p);
  for (int i = 0; i < 3; ++i) {
    p.now += 10s;
    p.a.tick(p.now);
    p.wire_a.queue.clear();
  }
  EXPECT_EQ(p.a.stats().dpd_dead_peers, 1u);
  EXPECT_EQ(p.a.sa_count(), 0u);
  EXPECT_TRUE(p.dp_a.sas.empty());
}

TEST(Ikev1Dpd, EspFromThePeerCountsAsAliveAndNoProbeIsSent) {
  TimePoint last_esp{};
  ManagerOptions options;
  options.last_inbound_packet = [&](std::uint64_t) -> std::optional<TimePoint> { return last_esp; };
  Pair p(with_dpd("10s", "30s", "clear"), Spec{}.mirrored(), options);
  establish(p);
  for (int i = 0; i < 6; ++i) {
    p.now += 10s;
    last_esp = p.now - 1s;  // traffic keeps arriving
    p.a.tick(p.now);
  }
  EXPECT_TRUE(p.wire_a.queue.empty());
  EXPECT_EQ(p.a.stats().dpd_sent, 0u);
  EXPECT_EQ(p.a.sa_count(), 1u);
}

TEST(Ikev1Dpd, NoProbesToAPeerWithoutTheDpdVendorId) {
  Pair p(with_dpd("10s", "30s", "clear"));
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  // B's answers lose their DPD vendor ID on the way (an old peer).
  const auto dpd_vid = dpd_vendor_id();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(p.a_to_b());
    auto& d = p.wire_b.queue.front();
    auto m = codec::parse_message(d.bytes);
    if (m.ok() && !m->header.encrypted()) {
      std::erase_if(m->payloads, [&](const codec::Payload& pl) {
        const auto* vid = std::get_if<codec::VendorId>(&pl.body);
        return vid && std::ranges::equal(vid->data, dpd_vid);
      });
      auto bytes = codec::serialise_message(*m);
      ASSERT_TRUE(bytes.ok());
      d.bytes = *bytes;
    }
    ASSERT_TRUE(p.b_to_a());
  }
  ASSERT_TRUE(p.a_to_b());
  ASSERT_EQ(p.dp_a.sas.size(), 2u);
  for (int i = 0; i < 6; ++i) {
    p.now += 10s;
    p.a.tick(p.now);
  }
  EXPECT_EQ(p.a.stats().dpd_sent, 0u);
  EXPECT_EQ(p.a.sa_count(), 1u);
}

// --- Re-establishment of the ISAKMP SA ------------------------------------------------

// Renews after `rekey`, exactly (no jitter); the lifetime is rekey + over.
Spec renewing(const std::string& rekey, const std::string& over, bool mirrored = false) {
  Spec s = mirrored ? Spec{}.mirrored() : Spec{};
  s.connection_extra = R"("rekey_time": ")" + rekey + R"(", "rand_time": "0s", "over_time": ")" + over + R"(")";
  return s;
}

// Never renews; offers an hour's lifetime.
Spec never_renewing(bool mirrored) {
  Spec s = mirrored ? Spec{}.mirrored() : Spec{};
  s.connection_extra = R"("rekey_time": "0s", "over_time": "1h")";
  return s;
}

TEST(Ikev1Reestablish, TheInitiatorRenewsPhaseOneAndTheIpsecSasCarryOver) {
  // Lifetime 120 s; the IPsec SA renews after 90-100 s.
  Spec a = renewing("60s", "60s");
  a.child_rekey = "100s";
  Pair p(a, never_renewing(true));
  establish(p);
  const auto ids_a = sa_ids(p.dp_a);
  const auto ids_b = sa_ids(p.dp_b);
  const auto old_b = p.b.list().at(0).id;
  EXPECT_NE(p.a.list().at(0).reestablish_at, TimePoint::max());
  p.now += 59s;
  p.tick();
  EXPECT_TRUE(p.wire_a.queue.empty());
  p.now += 2s;
  p.tick();
  ASSERT_EQ(count_exchanges(p.wire_a, v1::ExchangeType::identity_protection), 1u);  // a new Main Mode 1
  EXPECT_EQ(p.a.stats().phase1_reestablished, 1u);
  EXPECT_EQ(p.a.sa_count(), 2u);
  p.settle();
  // One ISAKMP SA each, the new one, holding the same IPsec SAs.
  ASSERT_EQ(p.a.sa_count(), 1u);
  ASSERT_EQ(p.b.sa_count(), 1u);
  const auto a_view = p.a.list().at(0);
  const auto b_view = p.b.list().at(0);
  EXPECT_EQ(a_view.state, "MM_DONE");
  EXPECT_NE(b_view.id, old_b);
  EXPECT_EQ(a_view.children.size(), 1u);
  EXPECT_EQ(b_view.children.size(), 1u);
  EXPECT_EQ(sa_ids(p.dp_a), ids_a);
  EXPECT_EQ(sa_ids(p.dp_b), ids_b);
  expect_mirrored(p.dp_a, p.dp_b);
  // Not a first contact: B dropped nothing for INITIAL-CONTACT.
  EXPECT_EQ(p.b.stats().initial_contact_replaced, 0u);
  EXPECT_EQ(p.b.stats().ipsec_sas_deleted, 0u);
  // The carried-over IPsec SA is still renewed, over the new ISAKMP SA.
  p.now += 40s;
  p.tick();
  ASSERT_EQ(count_exchanges(p.wire_a, v1::ExchangeType::quick_mode), 1u);
}

TEST(Ikev1Reestablish, TheResponderRenewsPhaseOneAndTheInitiatorAdoptsTheIpsecSas) {
  Pair p(never_renewing(false), renewing("60s", "60s", true));
  establish(p);
  const auto ids_a = sa_ids(p.dp_a);
  p.now += 61s;
  p.tick();
  ASSERT_EQ(count_exchanges(p.wire_b, v1::ExchangeType::identity_protection), 1u);
  EXPECT_TRUE(p.wire_a.queue.empty());
  p.settle();
  ASSERT_EQ(p.a.sa_count(), 1u);
  ASSERT_EQ(p.b.sa_count(), 1u);
  EXPECT_FALSE(p.a.list().at(0).initiator);
  EXPECT_TRUE(p.b.list().at(0).initiator);
  EXPECT_EQ(p.a.list().at(0).children.size(), 1u);
  EXPECT_EQ(sa_ids(p.dp_a), ids_a);
  expect_mirrored(p.dp_a, p.dp_b);
}

TEST(Ikev1Reestablish, AnIsakmpSaThatIsNotRenewedEndsAtItsLifetime) {
  Spec a;
  a.connection_extra = R"("rekey_time": "0s", "over_time": "30s")";
  Spec b = a.mirrored();
  Pair p(a, b);
  establish(p);
  EXPECT_EQ(p.a.list().at(0).reestablish_at, TimePoint::max());
  p.now += 31s;
  p.a.tick(p.now);
  EXPECT_EQ(p.a.stats().phase1_expired, 1u);
  EXPECT_EQ(p.a.sa_count(), 0u);
  EXPECT_TRUE(p.dp_a.sas.empty());
  p.settle();  // its Deletes
  EXPECT_EQ(p.b.sa_count(), 0u);
  EXPECT_TRUE(p.dp_b.sas.empty());
}

TEST(Ikev1Reestablish, AFailedRenewalIsRetriedWhileTheLifetimeLasts) {
  Pair p(renewing("60s", "1h"), never_renewing(true));
  establish(p);
  p.now += 61s;
  p.tick();
  ASSERT_EQ(p.a.sa_count(), 2u);
  // B never answers: the new Main Mode gives up after phase1_timeout.
  p.wire_a.queue.clear();
  p.now += 31s;
  p.a.tick(p.now);
  p.wire_a.queue.clear();
  ASSERT_EQ(p.a.sa_count(), 1u);
  p.a.tick(p.now);  // notices and schedules a retry
  p.now += 31s;
  p.a.tick(p.now);
  EXPECT_EQ(p.a.stats().phase1_reestablished, 2u);
  EXPECT_EQ(p.a.list().at(0).children.size(), 1u) << "the old SA still holds the IPsec SA";
}

// --- Operator commands (the API's rekey and child routes) -------------------------------

TEST(Ikev1Operator, RekeyReestablishesNowAndTheIpsecSaCarriesOver) {
  Pair p;
  establish(p);
  const auto old = p.a.list().at(0);
  const auto ids_a = sa_ids(p.dp_a);
  std::string why;
  ASSERT_TRUE(p.a.rekey(old.id, p.now, &why)) << why;
  EXPECT_FALSE(p.a.rekey(old.id, p.now, &why)) << "a second one while the first runs";
  EXPECT_NE(why.find("already being re-established"), std::string::npos) << why;
  p.settle();
  ASSERT_EQ(p.a.sa_count(), 1u);
  ASSERT_EQ(p.b.sa_count(), 1u);
  const auto now_a = p.a.list().at(0);
  EXPECT_NE(now_a.id, old.id);
  EXPECT_NE(now_a.cookie_i, old.cookie_i);
  EXPECT_EQ(now_a.children.at(0).spi_in, old.children.at(0).spi_in);
  EXPECT_EQ(sa_ids(p.dp_a), ids_a);
  expect_mirrored(p.dp_a, p.dp_b);
  EXPECT_FALSE(p.a.rekey(old.id, p.now, &why));
  EXPECT_NE(why.find("no ISAKMP SA"), std::string::npos) << why;
}

TEST(Ikev1Operator, RekeyRefusesWhatItCannotCarryOver) {
  Pair p;
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  std::string why;
  EXPECT_FALSE(p.a.rekey(p.a.list().at(0).id, p.now, &why));
  EXPECT_NE(why.find("not established"), std::string::npos) << why;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.b_to_a());
  }
  p.wire_a.queue.clear();  // Quick Mode 1 lost: established, no IPsec SA yet
  EXPECT_FALSE(p.a.rekey(p.a.list().at(0).id, p.now, &why));
  EXPECT_NE(why.find("no IPsec SA"), std::string::npos) << why;
}

TEST(Ikev1Operator, AnIpsecSaIsRenewedOrDeletedOnRequest) {
  Pair p;
  establish(p);
  const auto sa = p.a.list().at(0);
  const auto spi = sa.children.at(0).spi_in;
  std::string why;
  EXPECT_FALSE(p.a.rekey_ipsec(sa.id, spi ^ 1u, p.now, &why));
  EXPECT_NE(why.find("no IPsec SA with inbound SPI"), std::string::npos) << why;
  ASSERT_TRUE(p.a.rekey_ipsec(sa.id, spi, p.now, &why)) << why;
  EXPECT_FALSE(p.a.rekey_ipsec(sa.id, spi, p.now, &why));
  EXPECT_NE(why.find("already being renewed"), std::string::npos) << why;
  p.settle();
  EXPECT_EQ(p.a.stats().ipsec_sas_rekeyed, 1u);
  const auto renewed = p.a.list().at(0).children;
  ASSERT_EQ(renewed.size(), 2u);  // the new pair, and the old one retiring
  const auto fresh = std::find_if(renewed.begin(), renewed.end(), [](const auto& c) { return c.state == "QM_DONE"; });
  ASSERT_NE(fresh, renewed.end());
  EXPECT_NE(fresh->spi_in, spi);
  EXPECT_FALSE(p.a.rekey_ipsec(sa.id, spi, p.now, &why));
  EXPECT_NE(why.find("being retired"), std::string::npos) << why;
  // Delete the new one: both sides let it go.
  ASSERT_TRUE(p.a.delete_ipsec(sa.id, fresh->spi_in, p.now, &why)) << why;
  p.settle();
  const auto left_a = p.a.list().at(0).children;
  const auto left_b = p.b.list().at(0).children;
  EXPECT_TRUE(std::none_of(left_a.begin(), left_a.end(), [&](const auto& c) { return c.spi_in == fresh->spi_in; }));
  EXPECT_TRUE(std::none_of(left_b.begin(), left_b.end(), [&](const auto& c) { return c.spi_out == fresh->spi_in; }));
  EXPECT_GE(p.b.stats().ipsec_sas_deleted, 1u);
}

// --- Volume lifetimes (the dataplane's soft and hard limit events) -----------------------

TEST(Ikev1VolumeLifetime, SoftRenewsTheIpsecSaAndHardDeletesIt) {
  Spec a;
  a.child_extra = R"("rekey_bytes": "1M", "life_bytes": "2M")";
  Pair p(a, Spec{}.mirrored());
  establish(p);
  const auto* out = p.dp_a.find(channel::Direction::outbound);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->soft.bytes, 1u << 20) << "the limits reach the dataplane";
  EXPECT_EQ(out->hard.bytes, 2u << 20);
  const auto out_id = out->sa_id;
  const auto old_spi = p.a.list().at(0).children.at(0).spi_in;
  EXPECT_FALSE(p.a.lifetime_reached(12345, false, p.now)) << "not ours";
  // Soft: a Quick Mode renews it.
  ASSERT_TRUE(p.a.lifetime_reached(out_id, false, p.now));
  ASSERT_EQ(count_exchanges(p.wire_a, v1::ExchangeType::quick_mode), 1u);
  EXPECT_TRUE(p.a.lifetime_reached(out_id, false, p.now)) << "a repeat starts nothing more";
  EXPECT_EQ(count_exchanges(p.wire_a, v1::ExchangeType::quick_mode), 1u);
  p.settle();
  EXPECT_EQ(p.a.stats().ipsec_sas_rekeyed, 1u);
  const auto children = p.a.list().at(0).children;
  const auto fresh = std::find_if(children.begin(), children.end(), [](const auto& c) { return c.state == "QM_DONE"; });
  ASSERT_NE(fresh, children.end());
  EXPECT_NE(fresh->spi_in, old_spi);
  // Hard on the new one: deleted here and, by the Delete, at the peer.
  ASSERT_TRUE(p.a.lifetime_reached(fresh->sa_id_in, true, p.now));
  EXPECT_EQ(p.a.stats().ipsec_sas_expired, 1u);
  p.settle();
  const auto b_sas = p.b.list();  // kept: a range-for over list().at(0).children would outlive the list
  for (const auto& c : b_sas.at(0).children) EXPECT_NE(c.spi_out, fresh->spi_in);
  EXPECT_EQ(p.b.stats().ipsec_sas_deleted, 1u);
}

// RFC 2407 §4.6.3.1: B's lifetimes (time and volume) are shorter than A's
// offer; B says so with RESPONDER-LIFETIME in message 2, A adopts both and
// renews before the shorter time, and both dataplanes get B's byte limit.
TEST(Ikev1ResponderLifetime, TheInitiatorAdoptsTheResponderShorterLifetimes) {
  std::vector<std::string> lines;
  log::set_listener([&](log::Level, std::string_view, std::string_view m) { lines.emplace_back(m); });
  Spec a;
  a.child_extra = R"("rekey_bytes": "8M", "life_bytes": "10M")";
  Spec b = Spec{}.mirrored();
  b.child_rekey = "15m";
  b.child_life = "20m";
  b.child_extra = R"("rekey_bytes": "1M", "life_bytes": "2M")";
  Pair p(a, b);
  establish(p);
  log::set_listener(nullptr);
  ASSERT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("sending RESPONDER-LIFETIME 1200 s, 2048 KB") != std::string::npos;
  })) << "B did not announce its shorter lifetimes";
  ASSERT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("RESPONDER-LIFETIME, the IPsec SA lives 1200 s, 2048 KB") != std::string::npos;
  })) << "A did not adopt them";
  const auto la = p.a.list();
  const auto& child = la.at(0).children.at(0);
  EXPECT_EQ(child.expire_at, p.now + 1200s);
  EXPECT_EQ(child.rekey_at, p.now + 1080s) << "renewed at nine tenths of the peer's lifetime, not A's 1h";
  for (const auto* dp : {&p.dp_a, &p.dp_b}) {
    const auto* out = dp->find(channel::Direction::outbound);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(out->hard.bytes, 2u << 20);
    EXPECT_LE(out->soft.bytes, (2u << 20) - (2u << 20) / 10) << "the soft limit comes before the peer's hard one";
  }
  EXPECT_EQ(p.a.stats().quick_modes_failed + p.b.stats().quick_modes_failed, 0u);
}

// --- Events (the API's event stream) -----------------------------------------------------

// Each side publishes what an operator follows, in the words of IKEv2's
// (strongSwan's) events: ike-up and child-up at establishment; child-rekey
// naming the renewed pair; ike-rekey naming the ISAKMP SA a re-established
// one replaced, with no ike-down for it; child-down and ike-down at the
// end, and nothing for a pair that was renewed.
TEST(Ikev1Events, EachChangeIsPublishedOnce) {
  std::vector<std::string> a_events, b_events;
  auto record = [](std::vector<std::string>& into) {
    return [&into](const control::ike::SaEvent& e) {
      std::string text(control::ike::to_string(e.kind));
      if (!e.child.empty()) text += " " + e.child;
      if (e.old_ike_id) text += " old_ike";
      if (e.old_spi_in) text += " old_spi";
      into.push_back(text);
    };
  };
  ManagerOptions ao, bo;
  ao.on_event = record(a_events);
  bo.on_event = record(b_events);
  Pair p({}, Spec{}.mirrored(), ao, bo);
  establish(p);
  const std::vector<std::string> up{"ike-up", "child-up office"};
  EXPECT_EQ(a_events, up);
  EXPECT_EQ(b_events, up);

  // Renewal of the IPsec SA; the old pair's retirement publishes nothing.
  const auto sa = p.a.list().at(0);
  std::string why;
  ASSERT_TRUE(p.a.rekey_ipsec(sa.id, sa.children.at(0).spi_in, p.now, &why)) << why;
  p.settle();
  p.now += 10s;  // past retire_delay
  p.tick();
  p.settle();
  EXPECT_EQ(a_events.at(2), "child-rekey office old_spi");
  EXPECT_EQ(b_events.at(2), "child-rekey office old_spi");
  EXPECT_EQ(a_events.size(), 3u);
  EXPECT_EQ(b_events.size(), 3u);

  // Re-establishment: ike-rekey on both sides, no ike-down for the old SA.
  ASSERT_TRUE(p.a.rekey(sa.id, p.now, &why)) << why;
  p.settle();
  EXPECT_EQ(a_events.at(3), "ike-rekey old_ike");
  EXPECT_EQ(b_events.at(3), "ike-rekey old_ike");
  EXPECT_EQ(a_events.size(), 4u);
  EXPECT_EQ(b_events.size(), 4u);

  // The end.
  p.a.shutdown(p.now);
  p.settle();
  const std::vector<std::string> down{"child-down office", "ike-down"};
  EXPECT_EQ(std::vector<std::string>(a_events.begin() + 4, a_events.end()), down);
  EXPECT_EQ(std::vector<std::string>(b_events.begin() + 4, b_events.end()), down);
}

// --- INITIAL-CONTACT --------------------------------------------------------------------

TEST(Ikev1InitialContact, APeerThatRestartedReplacesItsOldSas) {
  Pair p;
  establish(p);
  ASSERT_EQ(p.b.sa_count(), 1u);
  ASSERT_EQ(p.dp_b.sas.size(), 2u);
  // A restarts: a new manager with no memory of the SA B still holds.
  Dataplane dp_a2;
  Manager a2(p.config_a, p.wire_a, dp_a2);
  ASSERT_TRUE(a2.initiate("legacy", "office", p.now));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.step(p.wire_b, a2));
  }
  EXPECT_EQ(p.b.stats().initial_contact_replaced, 1u);
  ASSERT_EQ(p.b.sa_count(), 1u);
  EXPECT_EQ(p.b.list().at(0).state, "MM_DONE");
  EXPECT_TRUE(p.dp_b.sas.empty()) << "the old IPsec SAs went with the old ISAKMP SA";
  // Quick Mode over the new SA installs fresh ones.
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.step(p.wire_b, a2));
  ASSERT_TRUE(p.a_to_b());
  expect_mirrored(dp_a2, p.dp_b);
}

// --- close_action: the peer deletes an IPsec SA ------------------------------------

Spec with_close_action(std::string action) {
  Spec s;
  s.child_extra = R"("close_action": ")" + action + R"(")";
  return s;
}

TEST(Ikev1CloseAction, StartNegotiatesAnIpsecSaThePeerDeletedAgain) {
  Pair p(with_close_action("start"));
  establish(p);
  const auto before = p.a.list().at(0);
  const auto b_sa = p.b.list().at(0);
  std::string why;
  ASSERT_TRUE(p.b.delete_ipsec(b_sa.id, b_sa.children.at(0).spi_in, p.now, &why)) << why;
  p.settle();  // B's Delete, then A's Quick Mode over the same ISAKMP SA
  const auto after = p.a.list().at(0);
  EXPECT_EQ(after.id, before.id);
  ASSERT_EQ(after.children.size(), 1u);
  EXPECT_EQ(after.children[0].state, "QM_DONE");
  EXPECT_NE(after.children[0].spi_in, before.children.at(0).spi_in);
  expect_mirrored(p.dp_a, p.dp_b);
  EXPECT_EQ(p.a.stats().children_restarted_on_close, 1u);
}

TEST(Ikev1CloseAction, NoneLeavesItClosedAndARenewalIsNoClose) {
  Pair p(with_close_action("none"));
  establish(p);
  std::string why;
  auto b_sa = p.b.list().at(0);
  ASSERT_TRUE(p.b.delete_ipsec(b_sa.id, b_sa.children.at(0).spi_in, p.now, &why)) << why;
  p.settle();
  EXPECT_TRUE(p.a.list().at(0).children.empty());
  EXPECT_TRUE(p.dp_a.sas.empty());

  Pair q(with_close_action("start"));
  establish(q);
  b_sa = q.b.list().at(0);
  ASSERT_TRUE(q.b.rekey_ipsec(b_sa.id, b_sa.children.at(0).spi_in, q.now, &why)) << why;
  q.settle();
  q.now += 10s;  // past retire_delay: B deletes the old pair
  q.tick();
  q.settle();
  ASSERT_EQ(q.a.list().at(0).children.size(), 1u);
  expect_mirrored(q.dp_a, q.dp_b);
  EXPECT_EQ(q.a.stats().children_restarted_on_close, 0u);
}

TEST(Ikev1CloseAction, TrapHandsTheClosedChildOverAndChildActiveFollowsIt) {
  std::vector<std::pair<std::string, control::ike::TrapOrigin>> handed;
  control::ikev1::ManagerOptions options;
  options.on_trap = [&](const config::ConnectionConfig& conn, const config::ChildConfig& child,
                        control::ike::TrapOrigin origin) { handed.emplace_back(conn.name + "/" + child.name, origin); };
  Pair p(with_close_action("trap"), Spec{}.mirrored(), std::move(options));
  const std::string conn = p.config_a.connections.at(0).name;
  const std::string child = p.config_a.connections.at(0).children.at(0).name;
  EXPECT_FALSE(p.a.child_active(conn, child));
  ASSERT_TRUE(p.a.initiate(conn, child, p.now));
  EXPECT_TRUE(p.a.child_active(conn, child)) << "waiting for Main Mode";
  EXPECT_FALSE(p.a.child_active(conn, "other"));
  p.settle();
  ASSERT_EQ(p.a.list().at(0).children.size(), 1u);
  EXPECT_TRUE(p.a.child_active(conn, child));
  const auto b_sa = p.b.list().at(0);
  std::string why;
  ASSERT_TRUE(p.b.delete_ipsec(b_sa.id, b_sa.children.at(0).spi_in, p.now, &why)) << why;
  p.settle();
  ASSERT_EQ(handed.size(), 1u);
  EXPECT_EQ(handed[0].first, conn + "/" + child);
  EXPECT_EQ(handed[0].second, control::ike::TrapOrigin::close_action);
  EXPECT_FALSE(p.a.child_active(conn, child));
  EXPECT_EQ(p.a.stats().children_restarted_on_close, 0u);
}

TEST(Ikev1Operator, TerminateChildrenDeletesTheChildsIpsecSasOnBothSides) {
  Pair p;
  establish(p);
  const std::string conn = p.config_a.connections.at(0).name;
  const std::string child = p.config_a.connections.at(0).children.at(0).name;
  EXPECT_EQ(p.a.terminate_children(conn, "no-such-child", p.now), 0u);
  EXPECT_EQ(p.a.terminate_children("no-such-connection", child, p.now), 0u);
  EXPECT_EQ(p.a.terminate_children(conn, child, p.now), 1u);
  p.settle();
  EXPECT_TRUE(p.a.list().at(0).children.empty());
  EXPECT_TRUE(p.b.list().at(0).children.empty());
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_b.sas.empty());
  EXPECT_EQ(p.a.terminate_children(conn, child, p.now), 0u) << "nothing left";
}

// Main Mode's responder is done once it has sent message 6; when the
// initiator refuses that message (here: an identity it does not expect),
// its Informational (AUTHENTICATION-FAILED and a Delete of the ISAKMP SA)
// takes the responder's ISAKMP SA down too.
TEST(Ikev1Phase1, ARefusedMessage6IsToldToTheResponder) {
  Spec a;
  a.remote_id = "someone-else.example.net";
  Pair p(a);
  const std::string conn = p.config_a.connections.at(0).name;
  ASSERT_TRUE(p.a.initiate(conn, "", p.now));
  p.settle();
  EXPECT_EQ(p.a.sa_count(), 0u);
  EXPECT_EQ(p.a.stats().phase1_failed, 1u);
  EXPECT_EQ(p.a.stats().notifies_sent.at("AUTHENTICATION-FAILED"), 1u);
  EXPECT_EQ(p.b.sa_count(), 0u) << "the responder's ISAKMP SA went with the Delete";
}

}  // namespace
