// IKEv2 exchanges between two Corridor peers in one process: two Managers
// joined by an in-memory wire, stepped one message at a time, with real
// key exchange and crypto. Each step names the message it moves.
//
//   A (initiator, 192.0.2.1)  <-- wire -->  B (responder, 198.51.100.2)
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>

#include "tests/unit/ikev2/peer_pair.h"

namespace {

using namespace corridor;            // NOLINT: test brevity
using namespace corridor::control;   // NOLINT
using namespace corridor::ikev2_test;  // NOLINT
using ikev2::Clock;
using ikev2::TimePoint;
using namespace std::chrono_literals;

TEST(Ikev2Exchange, PskAesGcmEcp384EstablishesIkeAndChildSa) {
  Pair p({}, PeerSpec{}.mirrored());
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  {  // IKE_SA_INIT request: SA KE Ni N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)
    const auto m = parse(p.wire_a.queue.front());
    EXPECT_EQ(m.header.exchange, iana::ExchangeType::ike_sa_init);
    EXPECT_TRUE(m.header.initiator);
    EXPECT_FALSE(m.header.response);
    EXPECT_EQ(m.header.message_id, 0u);
    EXPECT_TRUE(has_notify(m, iana::NotifyType::nat_detection_source_ip));
    EXPECT_EQ(p.wire_a.queue.front().remote.port, 500);
  }
  ASSERT_TRUE(p.a_to_b());
  ASSERT_EQ(p.b.ike_sa_count(), 1u);
  EXPECT_EQ(p.b.list().front().state, "IKE_SA_INIT_DONE");
  ASSERT_TRUE(p.b_to_a());  // IKE_SA_INIT response
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  {  // IKE_AUTH request: one SK payload, message ID 1, still on port 500 (no NAT)
    const auto m = parse(p.wire_a.queue.front());
    EXPECT_EQ(m.header.exchange, iana::ExchangeType::ike_auth);
    EXPECT_EQ(m.header.message_id, 1u);
    ASSERT_EQ(m.payloads.size(), 1u);
    EXPECT_EQ(m.payloads.front().type, iana::PayloadType::encrypted_and_authenticated);
    EXPECT_EQ(p.wire_a.queue.front().remote.port, 500);
  }
  ASSERT_TRUE(p.a_to_b());  // IKE_AUTH request
  ASSERT_TRUE(p.b_to_a());  // IKE_AUTH response
  EXPECT_TRUE(p.wire_a.queue.empty());
  EXPECT_TRUE(p.wire_b.queue.empty());

  const auto a = p.a.list();
  const auto b = p.b.list();
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].state, "ESTABLISHED");
  EXPECT_EQ(b[0].state, "ESTABLISHED");
  EXPECT_EQ(a[0].spi_i, b[0].spi_i);
  EXPECT_EQ(a[0].spi_r, b[0].spi_r);
  EXPECT_EQ(a[0].proposal, "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384");
  EXPECT_EQ(a[0].proposal, b[0].proposal);
  EXPECT_EQ(a[0].remote_id, "b.example.net");
  EXPECT_EQ(b[0].remote_id, "a.example.net");
  ASSERT_EQ(a[0].children.size(), 1u);
  ASSERT_EQ(b[0].children.size(), 1u);
  EXPECT_EQ(a[0].children[0].spi_in, b[0].children[0].spi_out);
  EXPECT_EQ(a[0].children[0].local_ts, std::vector<std::string>{"10.1.0.0/16"});
  EXPECT_EQ(b[0].children[0].local_ts, std::vector<std::string>{"10.2.0.0/16"});
  EXPECT_FALSE(a[0].children[0].udp_encap);
  expect_matching_child_sas(p.dp_a, p.dp_b);
  const auto* out = p.dp_a.find(channel::Direction::outbound);
  EXPECT_EQ(out->encryption_id, static_cast<std::uint16_t>(iana::EncrId::aes_gcm_16));
  EXPECT_EQ(out->encryption_key_bits, 256);
  EXPECT_EQ(out->encryption_key.length, 36);  // AES-256 key and 4-byte salt (RFC 4106 §8.1)
  // One policy each way for 10.1.0.0/16 <-> 10.2.0.0/16.
  EXPECT_EQ(p.dp_a.policies.size(), 2u);
  EXPECT_EQ(p.a.stats().ike_sas_established, 1u);
  EXPECT_EQ(p.b.stats().child_sas_installed, 1u);
}

TEST(Ikev2Exchange, AesCbcSha256Modp2048AndEsnChild) {
  PeerSpec s;
  s.proposals = R"(["aes128-sha256-modp2048"])";
  s.esp = R"(["aes128-sha256-esn"])";
  Pair p(s, s.mirrored());
  p.establish();
  ASSERT_EQ(p.a.list().size(), 1u);
  EXPECT_EQ(p.a.list()[0].proposal, "IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048");
  expect_matching_child_sas(p.dp_a, p.dp_b);
  const auto* out = p.dp_b.find(channel::Direction::outbound);
  EXPECT_EQ(out->encryption_id, static_cast<std::uint16_t>(iana::EncrId::aes_cbc));
  EXPECT_EQ(out->integrity_id, static_cast<std::uint16_t>(iana::IntegId::hmac_sha2_256_128));
  EXPECT_EQ(out->integrity_key.length, 32);
  EXPECT_TRUE(out->esn);
}

TEST(Ikev2Exchange, ChaCha20Curve25519TransportMode) {
  PeerSpec s;
  s.proposals = R"(["chacha20poly1305-prfsha256-x25519"])";
  s.esp = R"(["chacha20poly1305"])";
  s.mode = "transport";
  s.local_ts = R"(["dynamic"])";
  s.remote_ts = R"(["dynamic"])";
  Pair p(s, s.mirrored());
  p.establish();
  expect_matching_child_sas(p.dp_a, p.dp_b);
  EXPECT_EQ(p.a.list()[0].children[0].mode, "TRANSPORT");
  EXPECT_EQ(p.a.list()[0].children[0].local_ts, std::vector<std::string>{"192.0.2.1/32"});
  EXPECT_EQ(p.dp_a.find(channel::Direction::outbound)->mode, channel::Mode::transport);
}

TEST(Ikev2Exchange, WrongPskFailsWithAuthenticationFailedAndLeavesNothing) {
  PeerSpec b = PeerSpec{}.mirrored();
  b.psk = "a different secret of reasonable length";
  Pair p({}, b);
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  ASSERT_TRUE(p.a_to_b());  // IKE_AUTH request with an AUTH B cannot verify
  EXPECT_EQ(p.b.stats().notifies_sent.at("AUTHENTICATION_FAILED"), 1u);
  EXPECT_EQ(p.b.ike_sa_count(), 0u);
  ASSERT_TRUE(p.b_to_a());  // IKE_AUTH response: N(AUTHENTICATION_FAILED)
  EXPECT_EQ(p.a.ike_sa_count(), 0u);
  EXPECT_EQ(p.a.stats().notifies_received.at("AUTHENTICATION_FAILED"), 1u);
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_b.sas.empty());
  EXPECT_EQ(p.a.reserved_child_spis(), 0u);  // the SPI proposed for the failed Child SA is free again
}

TEST(Ikev2Exchange, ProposalMismatchIsNoProposalChosen) {
  PeerSpec b = PeerSpec{}.mirrored();
  b.proposals = R"(["aes128-sha256-modp3072"])";
  Pair p({}, b);
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.ike_sa_count(), 0u);  // nothing kept for a refused IKE_SA_INIT
  EXPECT_EQ(p.b.stats().notifies_sent.at("NO_PROPOSAL_CHOSEN"), 1u);
  ASSERT_TRUE(p.b_to_a());
  EXPECT_EQ(p.a.ike_sa_count(), 0u);
  EXPECT_EQ(p.a.stats().ike_sas_failed, 1u);
}

TEST(Ikev2Exchange, InvalidKePayloadRetriesInTheRequestedGroup) {
  PeerSpec a;
  a.proposals = R"(["aes256gcm16-prfsha384-ecp256-ecp384"])";  // KE sent: ECP-256
  PeerSpec b = PeerSpec{}.mirrored();
  b.proposals = R"(["aes256gcm16-prfsha384-ecp384"])";
  Pair p(a, b);
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  ASSERT_TRUE(p.a_to_b());  // IKE_SA_INIT with KE ECP-256
  ASSERT_EQ(p.wire_b.queue.size(), 1u);
  {
    const auto m = parse(p.wire_b.queue.front());
    EXPECT_TRUE(has_notify(m, iana::NotifyType::invalid_ke_payload));
  }
  EXPECT_EQ(p.b.ike_sa_count(), 0u);
  ASSERT_TRUE(p.b_to_a());  // N(INVALID_KE_PAYLOAD, ECP_384)
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  {
    const auto m = parse(p.wire_a.queue.front());
    EXPECT_EQ(m.header.message_id, 0u);
    int groups_seen = 0;
    for (const auto& pl : m.payloads) {
      if (const auto* ke = std::get_if<corridor::ike::KeyExchange>(&pl.body)) {
        EXPECT_EQ(ke->group, 20);
        ++groups_seen;
      }
    }
    EXPECT_EQ(groups_seen, 1);
  }
  ASSERT_TRUE(p.a_to_b());  // IKE_SA_INIT again, KE ECP-384
  ASSERT_TRUE(p.b_to_a());
  ASSERT_TRUE(p.a_to_b());  // IKE_AUTH
  ASSERT_TRUE(p.b_to_a());
  EXPECT_EQ(p.a.list().at(0).state, "ESTABLISHED");
  EXPECT_EQ(p.a.list().at(0).proposal, "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384");
  expect_matching_child_sas(p.dp_a, p.dp_b);
}

TEST(Ikev2Exchange, LostIkeAuthRequestIsRetransmittedAndDuplicateAnsweredFromCache) {
  Pair p({}, PeerSpec{}.mirrored());
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  const Datagram first = p.wire_a.queue.front();
  p.wire_a.queue.clear();  // the IKE_AUTH request is lost
  p.now += 3s;
  p.a.tick(p.now);
  EXPECT_TRUE(p.wire_a.queue.empty());  // not yet: 4 s
  p.now += 2s;
  p.a.tick(p.now);
  ASSERT_EQ(p.wire_a.queue.size(), 1u);  // the same bytes again
  EXPECT_EQ(p.wire_a.queue.front().bytes, first.bytes);
  EXPECT_EQ(p.a.stats().retransmitted, 1u);
  p.wire_a.queue.push_back(first);  // and a duplicate of it arrives too
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.stats().duplicate_requests, 1u);
  EXPECT_EQ(p.b.stats().child_sas_installed, 1u);  // processed once
  ASSERT_EQ(p.wire_b.queue.size(), 2u);
  EXPECT_EQ(p.wire_b.queue[0].bytes, p.wire_b.queue[1].bytes);
  ASSERT_TRUE(p.b_to_a());
  ASSERT_TRUE(p.b_to_a());  // the second copy answers no request: dropped
  EXPECT_EQ(p.a.stats().drops.at("unexpected_response"), 1u);
  expect_matching_child_sas(p.dp_a, p.dp_b);
}

TEST(Ikev2Exchange, InitiatorGivesUpAfterRetransmissions) {
  Pair p({}, PeerSpec{}.mirrored());
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  for (int i = 0; i < 400 && p.a.ike_sa_count() != 0; ++i) {
    p.now += 1s;
    p.a.tick(p.now);
  }
  EXPECT_EQ(p.a.ike_sa_count(), 0u);
  EXPECT_EQ(p.a.stats().retransmitted, 5u);
  EXPECT_EQ(p.wire_a.queue.size(), 6u);  // the request and 5 resends
}

TEST(Ikev2Exchange, HalfOpenResponderSaTimesOut) {
  Pair p({}, PeerSpec{}.mirrored());
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.ike_sa_count(), 1u);
  p.now += 31s;
  p.b.tick(p.now);
  EXPECT_EQ(p.b.ike_sa_count(), 0u);
  EXPECT_EQ(p.b.stats().drops.at("half_open_timeout"), 1u);
}

TEST(Ikev2Exchange, ForcedEncapsulationFloatsToPort4500) {
  PeerSpec a;
  a.encap = true;
  Pair p(a, PeerSpec{}.mirrored());
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  EXPECT_EQ(p.wire_a.queue.front().local.port, 4500);  // IKE_AUTH from 4500 to 4500
  EXPECT_EQ(p.wire_a.queue.front().remote.port, 4500);
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  expect_matching_child_sas(p.dp_a, p.dp_b);
  const auto* out = p.dp_a.find(channel::Direction::outbound);
  EXPECT_TRUE(out->udp_encap);
  EXPECT_EQ(out->encap_src_port, 4500);
  EXPECT_EQ(out->encap_dst_port, 4500);
  EXPECT_TRUE(p.b.list()[0].nat_remote);  // B was made to see a NAT in front of A
  EXPECT_EQ(p.b.list()[0].remote, "192.0.2.1[4500]");
}

TEST(Ikev2Exchange, ResponderNarrowsTrafficSelectors) {
  PeerSpec a;
  a.remote_ts = R"(["10.2.0.0/16"])";
  PeerSpec b;
  b.local_ts = R"(["10.2.5.0/24"])";
  b.remote_ts = R"(["10.0.0.0/8"])";
  Pair p(a, b);
  p.establish();
  ASSERT_EQ(p.a.list()[0].children.size(), 1u);
  EXPECT_EQ(p.a.list()[0].children[0].remote_ts, std::vector<std::string>{"10.2.5.0/24"});
  EXPECT_EQ(p.a.list()[0].children[0].local_ts, std::vector<std::string>{"10.1.0.0/16"});
  EXPECT_EQ(p.b.list()[0].children[0].remote_ts, std::vector<std::string>{"10.1.0.0/16"});
}

TEST(Ikev2Exchange, DisjointSelectorsGiveTsUnacceptableButKeepTheIkeSa) {
  PeerSpec b = PeerSpec{}.mirrored();
  b.local_ts = R"(["10.9.0.0/16"])";
  Pair p({}, b);
  p.establish();
  EXPECT_EQ(p.a.list().at(0).state, "ESTABLISHED");
  EXPECT_TRUE(p.a.list().at(0).children.empty());
  EXPECT_EQ(p.b.stats().notifies_sent.at("TS_UNACCEPTABLE"), 1u);
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_b.sas.empty());
}

TEST(Ikev2Exchange, EspProposalMismatchKeepsTheIkeSa) {
  PeerSpec b = PeerSpec{}.mirrored();
  b.esp = R"(["aes128-sha256"])";
  Pair p({}, b);
  p.establish();
  EXPECT_EQ(p.b.list().at(0).state, "ESTABLISHED");
  EXPECT_TRUE(p.b.list().at(0).children.empty());
  EXPECT_EQ(p.b.stats().notifies_sent.at("NO_PROPOSAL_CHOSEN"), 1u);
  EXPECT_TRUE(p.dp_a.sas.empty());
}

TEST(Ikev2Exchange, DeleteFromInitiatorRemovesBothSides) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  ASSERT_EQ(p.dp_b.sas.size(), 2u);
  p.a.shutdown(p.now);  // INFORMATIONAL request: D(IKE)
  EXPECT_FALSE(p.a.drained());  // until the peer answers
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.ike_sa_count(), 0u);
  EXPECT_TRUE(p.dp_b.sas.empty());
  EXPECT_TRUE(p.dp_b.policies.empty());
  EXPECT_EQ(p.wire_b.queue.size(), 1u);  // the (empty) INFORMATIONAL response
  ASSERT_TRUE(p.b_to_a());
  EXPECT_TRUE(p.a.drained());
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_a.policies.empty());
  EXPECT_EQ(p.a.reserved_child_spis(), 0u);  // every inbound SPI given back
  EXPECT_EQ(p.b.reserved_child_spis(), 0u);
}

// A stop while the IKE SA rekey is out: the Delete waits for its answer
// (window of 1, §2.3) and then goes to the new IKE SA as well, so the peer
// keeps nothing; nothing new is started or accepted meanwhile.
TEST(Ikev2Exchange, ShutdownDuringIkeRekeyDeletesTheNewIkeSaToo) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  std::string why;
  ASSERT_TRUE(p.a.rekey(p.a.list().at(0).id, p.now, &why)) << why;
  ASSERT_EQ(p.wire_a.queue.size(), 1u);  // CREATE_CHILD_SA out
  p.a.shutdown(p.now);
  EXPECT_EQ(p.wire_a.queue.size(), 1u);  // no Delete past it
  EXPECT_FALSE(p.a.initiate("peer", "net", p.now, &why));
  EXPECT_EQ(why, "shutting down");
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.ike_sa_count(), 2u);  // old and new
  run_until(p, p.now + 2s);
  EXPECT_EQ(p.b.ike_sa_count(), 0u);
  EXPECT_TRUE(p.dp_b.sas.empty());
  EXPECT_TRUE(p.a.drained());
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_EQ(p.a.reserved_child_spis(), 0u);
}

// A stop while a Child SA rekey is out: one Delete, for the IKE SA, once
// the rekey is answered; the old Child SA's Delete is not sent on its own.
TEST(Ikev2Exchange, ShutdownDuringChildRekeyWaitsForIt) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  std::string why;
  const auto view = p.a.list().at(0);
  ASSERT_TRUE(p.a.rekey_child(view.id, view.children.at(0).spi_in, p.now, &why)) << why;
  p.a.shutdown(p.now);
  EXPECT_EQ(p.wire_a.queue.size(), 1u);
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());  // the rekey's answer: the Delete of the IKE SA follows at once
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  const auto m = parse(p.wire_a.queue.front());
  EXPECT_EQ(m.header.exchange, iana::ExchangeType::informational);
  EXPECT_EQ(m.header.message_id, 3u);  // IKE_SA_INIT 0, IKE_AUTH 1, the rekey 2
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.ike_sa_count(), 0u);  // so it was the IKE SA's Delete
  ASSERT_TRUE(p.b_to_a());
  EXPECT_TRUE(p.a.drained());
  EXPECT_TRUE(p.dp_a.sas.empty());
}

// A stopping responder takes no new IKE SA; a half-open one of its own
// goes at once; an unanswered Delete leaves the SA until abandon_all().
TEST(Ikev2Exchange, ShutdownRefusesNewIkeSasAndAbandonsTheUnanswered) {
  Pair p({}, PeerSpec{}.mirrored());
  p.b.shutdown(p.now);
  EXPECT_TRUE(p.b.drained());
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.ike_sa_count(), 0u);
  EXPECT_EQ(p.b.stats().drops.at("shutting_down"), 1u);
  EXPECT_TRUE(p.wire_b.queue.empty());

  Pair q({}, PeerSpec{}.mirrored());
  q.establish();
  ASSERT_TRUE(q.a.initiate("peer", "net", q.now));  // a second IKE SA, IKE_SA_INIT out
  ASSERT_EQ(q.a.ike_sa_count(), 2u);
  q.a.shutdown(q.now);
  EXPECT_EQ(q.a.ike_sa_count(), 1u);  // the half-open one went
  EXPECT_EQ(q.a.list().at(0).state, "DELETING");
  q.a.abandon_all();  // the peer never answered
  EXPECT_TRUE(q.a.drained());
  EXPECT_TRUE(q.dp_a.sas.empty());
}

TEST(Ikev2Exchange, LivenessCheckAfterDpdDelayIsAnswered) {
  PeerSpec a;
  a.dpd_delay = "10s";
  Pair p(a, PeerSpec{}.mirrored());
  p.establish();
  const auto established = p.now;
  EXPECT_EQ(p.a.list().at(0).dpd_delay, 10s);
  EXPECT_FALSE(p.a.list().at(0).liveness_sent);
  p.now += 9s;
  p.a.tick(p.now);
  EXPECT_TRUE(p.wire_a.queue.empty());  // not yet
  p.now += 2s;
  p.a.tick(p.now);
  ASSERT_EQ(p.wire_a.queue.size(), 1u);  // INFORMATIONAL request, empty SK, message ID 2
  EXPECT_EQ(parse(p.wire_a.queue.front()).header.message_id, 2u);
  EXPECT_EQ(p.a.stats().liveness_checks_sent, 1u);
  const auto sent_at = p.now;
  EXPECT_EQ(p.a.list().at(0).liveness_sent, sent_at);
  EXPECT_FALSE(p.a.list().at(0).liveness_acknowledged);
  EXPECT_EQ(p.a.list().at(0).last_received, established);
  ASSERT_TRUE(p.a_to_b());
  p.now += 1s;
  ASSERT_TRUE(p.b_to_a());  // the empty response
  EXPECT_EQ(p.a.list().at(0).liveness_acknowledged, p.now);
  EXPECT_EQ(p.a.list().at(0).last_received, p.now);
  EXPECT_FALSE(p.b.list().at(0).liveness_sent) << "B only answered";
  p.now += 5s;
  p.a.tick(p.now);
  EXPECT_TRUE(p.wire_a.queue.empty());  // answered: no retransmission, next check in 10 s
  EXPECT_EQ(p.a.list().at(0).state, "ESTABLISHED");
  EXPECT_EQ(p.b.list().at(0).state, "ESTABLISHED");
}

// RFC 7296 §2.4: ESP from the peer shows it is alive as well as an IKE
// message does. B checks liveness every 10 s, and the dataplane says when
// a packet last arrived on B's inbound SA: while ESP flows, no check goes
// out; once it stops, one does.
TEST(Ikev2Exchange, InboundEspCountsAsASignOfLife) {
  std::optional<TimePoint> esp_at;
  std::uint64_t asked_for = 0;
  ikev2::ManagerOptions options_b;
  options_b.last_inbound_packet = [&](std::uint64_t sa_id) {
    asked_for = sa_id;
    return esp_at;
  };
  PeerSpec b = PeerSpec{}.mirrored();
  b.dpd_delay = "10s";
  Pair p({}, b, std::move(options_b));
  p.establish();
  for (int second = 1; second <= 30; ++second) {  // ESP every second for 30 s
    p.now += 1s;
    esp_at = p.now;
    p.b.tick(p.now);
  }
  EXPECT_TRUE(p.wire_b.queue.empty()) << "no liveness check while ESP arrives";
  EXPECT_EQ(p.b.stats().liveness_checks_sent, 0u);
  EXPECT_EQ(asked_for, p.dp_b.find(channel::Direction::inbound)->sa_id) << "asked about the inbound SA";
  p.now += 11s;  // the ESP stops
  p.b.tick(p.now);
  ASSERT_EQ(p.wire_b.queue.size(), 1u);
  EXPECT_EQ(p.b.stats().liveness_checks_sent, 1u);
}

TEST(Ikev2Exchange, DeadPeerIsDetectedAndDpdActionRestartInitiatesAgain) {
  PeerSpec a;
  a.dpd_delay = "10s";
  a.dpd_action = "restart";
  Pair p(a, PeerSpec{}.mirrored());
  p.establish();
  ASSERT_EQ(p.dp_a.sas.size(), 2u);
  // B vanishes: nothing A sends is answered.
  for (int i = 0; i < 400 && p.a.stats().dead_peers == 0; ++i) {
    p.now += 1s;
    p.a.tick(p.now);
    p.wire_a.queue.clear();
  }
  p.a.tick(p.now);
  EXPECT_EQ(p.a.stats().dead_peers, 1u);
  EXPECT_EQ(p.a.stats().retransmitted, 5u);
  EXPECT_TRUE(p.dp_a.sas.empty());  // the old Child SA is gone from the dataplane
  ASSERT_EQ(p.a.ike_sa_count(), 1u);  // and a new IKE SA is being set up (dpd_action restart)
  EXPECT_EQ(p.a.list().at(0).state, "IKE_SA_INIT_SENT");
}

TEST(Ikev2Exchange, DeadPeerWithDpdActionClearLeavesNothing) {
  PeerSpec a;
  a.dpd_delay = "10s";
  Pair p(a, PeerSpec{}.mirrored());
  p.establish();
  for (int i = 0; i < 400 && p.a.stats().dead_peers == 0; ++i) {
    p.now += 1s;
    p.a.tick(p.now);
    p.wire_a.queue.clear();
  }
  EXPECT_EQ(p.a.stats().dead_peers, 1u);
  EXPECT_EQ(p.a.ike_sa_count(), 0u);
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_a.policies.empty());
}

// Delivers whatever is queued, both ways, until both wires are quiet.
// Every policy points at an SA the dataplane holds, outbound ones at an
// outbound SA: no packet is steered to a deleted or wrong SA.
void expect_policies_point_at_live_sas(const Dataplane& d) {
  for (const auto& [id, pol] : d.policies) {
    const auto it = d.sas.find(pol.sa_id);
    ASSERT_NE(it, d.sas.end()) << "policy " << id << " points at SA " << pol.sa_id << ", which is gone";
    EXPECT_EQ(it->second.direction, pol.direction);
  }
}

std::set<std::uint32_t> child_spis_in(const ikev2::Manager& m) {
  std::set<std::uint32_t> out;
  const auto sas = m.list();  // kept: a range-for over list().at(0).children would outlive the list
  for (const auto& c : sas.at(0).children) out.insert(c.spi_in);
  return out;
}

std::uint32_t added(const std::set<std::uint32_t>& before, const std::set<std::uint32_t>& after) {
  for (const auto spi : after)
    if (!before.count(spi)) return spi;
  return 0;
}

// RFC 7296 §2.8.1: both ends rekey the same Child SA at once, each request
// reaching the other before its own response comes back. Each end answers
// the other's request, then settles with its own response: the pair made
// with the lowest of the four nonces goes (deleted by the end that made
// it), the old pair is deleted by the end whose pair survives. Several
// rounds, so that each end's pair survives at least once.
TEST(Ikev2Exchange, SimultaneousChildSaRekeyKeepsExactlyOnePair) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  int a_won = 0, b_won = 0;
  for (int round = 0; round < 12; ++round) {
    const auto va = p.a.list().at(0);
    const auto vb = p.b.list().at(0);
    ASSERT_EQ(va.children.size(), 1u);
    const auto old_a = child_spis_in(p.a);
    ASSERT_TRUE(p.a.rekey_child(va.id, va.children[0].spi_in, p.now));
    ASSERT_TRUE(p.b.rekey_child(vb.id, vb.children[0].spi_in, p.now));
    ASSERT_EQ(p.wire_a.queue.size(), 1u);  // A's CREATE_CHILD_SA request (X)
    ASSERT_EQ(p.wire_b.queue.size(), 1u);  // B's (Y)
    ASSERT_TRUE(p.a_to_b());  // X reaches B: B answers it, noting the collision
    ASSERT_TRUE(p.b_to_a());  // Y reaches A: A answers it
    const auto with_y = child_spis_in(p.a);
    const std::uint32_t made_by_b = added(old_a, with_y);
    ASSERT_NE(made_by_b, 0u);
    ASSERT_TRUE(p.b_to_a());  // B's response to X: A settles
    const std::uint32_t made_by_a = added(with_y, child_spis_in(p.a));
    ASSERT_NE(made_by_a, 0u);
    ASSERT_TRUE(p.a_to_b());  // A's response to Y: B settles
    drain(p);  // the two Deletes (the redundant pair's and the old pair's) and their responses

    const auto after_a = p.a.list().at(0);
    const auto after_b = p.b.list().at(0);
    ASSERT_EQ(after_a.children.size(), 1u) << "round " << round;
    ASSERT_EQ(after_b.children.size(), 1u) << "round " << round;
    EXPECT_EQ(after_a.children[0].state, "INSTALLED");
    EXPECT_EQ(after_b.children[0].state, "INSTALLED");
    EXPECT_EQ(after_a.children[0].spi_in, after_b.children[0].spi_out);
    EXPECT_EQ(after_a.children[0].spi_out, after_b.children[0].spi_in);
    expect_matching_child_sas(p.dp_a, p.dp_b);
    expect_policies_point_at_live_sas(p.dp_a);
    expect_policies_point_at_live_sas(p.dp_b);
    EXPECT_EQ(p.dp_a.policies.size(), 2u);
    EXPECT_EQ(p.dp_b.policies.size(), 2u);
    if (after_a.children[0].spi_in == made_by_a) ++a_won;
    else if (after_a.children[0].spi_in == made_by_b) ++b_won;
    else ADD_FAILURE() << "round " << round << ": neither new pair survived";
    p.now += 1s;
  }
  EXPECT_EQ(p.a.stats().child_rekey_collisions, 12u);
  EXPECT_EQ(p.b.stats().child_rekey_collisions, 12u);
  EXPECT_GT(a_won, 0);
  EXPECT_GT(b_won, 0);
  EXPECT_EQ(p.a.reserved_child_spis(), 1u) << "the SPIs of every deleted pair are released";
  EXPECT_EQ(p.b.reserved_child_spis(), 1u);
}

// strongSwan's order (seen against it): B settles first and, having lost,
// deletes its own new pair before A's response reaches A. A must keep
// the old pair's outbound policies meanwhile, then settle with the
// peer's pair gone; when B won instead, its Delete of the old pair comes
// first. Either way one pair is left and no policy points at nothing.
TEST(Ikev2Exchange, SimultaneousChildSaRekeyWhenThePeerActsBeforeOurResponse) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  int b_deleted_its_own = 0, b_deleted_the_old = 0;
  for (int round = 0; round < 12; ++round) {
    const auto va = p.a.list().at(0);
    const auto vb = p.b.list().at(0);
    const auto old_a = child_spis_in(p.a);
    ASSERT_TRUE(p.a.rekey_child(va.id, va.children[0].spi_in, p.now));
    ASSERT_TRUE(p.b.rekey_child(vb.id, vb.children[0].spi_in, p.now));
    ASSERT_TRUE(p.a_to_b());  // X reaches B: B answers it
    ASSERT_EQ(p.wire_b.queue.size(), 2u);
    const Datagram response_x = p.wire_b.queue.back();  // held back
    p.wire_b.queue.pop_back();
    ASSERT_TRUE(p.b_to_a());  // Y reaches A: A answers it
    const std::uint32_t made_by_b = added(old_a, child_spis_in(p.a));
    ASSERT_TRUE(p.a_to_b());  // A's response to Y: B settles and sends a Delete
    ASSERT_EQ(p.wire_b.queue.size(), 1u);
    ASSERT_TRUE(p.b_to_a());  // the Delete reaches A
    const auto mid = child_spis_in(p.a);
    if (!mid.count(made_by_b)) ++b_deleted_its_own;
    else ++b_deleted_the_old;
    expect_policies_point_at_live_sas(p.dp_a);
    EXPECT_EQ(p.dp_a.policies.size(), 2u) << "round " << round << ": A lost an outbound policy";
    p.wire_b.queue.push_back(response_x);
    drain(p);  // the response to X, A's settling, the Deletes left

    const auto after_a = p.a.list().at(0);
    const auto after_b = p.b.list().at(0);
    ASSERT_EQ(after_a.children.size(), 1u) << "round " << round;
    ASSERT_EQ(after_b.children.size(), 1u) << "round " << round;
    EXPECT_EQ(after_a.children[0].spi_in, after_b.children[0].spi_out);
    expect_matching_child_sas(p.dp_a, p.dp_b);
    expect_policies_point_at_live_sas(p.dp_a);
    expect_policies_point_at_live_sas(p.dp_b);
    EXPECT_EQ(p.dp_a.policies.size(), 2u);
    EXPECT_EQ(p.dp_b.policies.size(), 2u);
    p.now += 1s;
  }
  EXPECT_GT(b_deleted_its_own, 0);
  EXPECT_GT(b_deleted_the_old, 0);
  EXPECT_EQ(p.a.reserved_child_spis(), 1u);
  EXPECT_EQ(p.b.reserved_child_spis(), 1u);
}

// The same collision with A's response overtaking B's request: A has
// already replaced and is deleting the old pair, so it refuses B's rekey
// of it (TEMPORARY_FAILURE, §2.25.1) and B keeps A's pair.
TEST(Ikev2Exchange, ARekeyOfAChildSaBeingDeletedIsRefusedTemporarily) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  const auto va = p.a.list().at(0);
  const auto vb = p.b.list().at(0);
  ASSERT_TRUE(p.a.rekey_child(va.id, va.children[0].spi_in, p.now));
  ASSERT_TRUE(p.b.rekey_child(vb.id, vb.children[0].spi_in, p.now));
  ASSERT_TRUE(p.a_to_b());  // X reaches B: B answers (its response queues behind Y)
  // Reorder B's wire: the response to X reaches A before B's request Y.
  ASSERT_EQ(p.wire_b.queue.size(), 2u);
  std::swap(p.wire_b.queue[0], p.wire_b.queue[1]);
  ASSERT_TRUE(p.b_to_a());  // B's response to X: A installs its pair, queues the old pair's Delete
  ASSERT_TRUE(p.b_to_a());  // Y: A refuses it
  EXPECT_EQ(p.a.stats().notifies_sent.at("TEMPORARY_FAILURE"), 1u);
  drain(p);
  EXPECT_EQ(p.b.stats().notifies_received.at("TEMPORARY_FAILURE"), 1u);
  const auto after_a = p.a.list().at(0);
  const auto after_b = p.b.list().at(0);
  ASSERT_EQ(after_a.children.size(), 1u);
  ASSERT_EQ(after_b.children.size(), 1u);
  EXPECT_EQ(after_a.children[0].spi_in, after_b.children[0].spi_out);
  EXPECT_EQ(after_b.children[0].state, "INSTALLED") << "B's refused rekey leaves A's pair installed";
  expect_matching_child_sas(p.dp_a, p.dp_b);
  expect_policies_point_at_live_sas(p.dp_a);
  expect_policies_point_at_live_sas(p.dp_b);
  EXPECT_EQ(p.a.stats().child_rekey_collisions, 0u);
  EXPECT_EQ(p.b.stats().child_rekey_collisions, 0u);
}

// A connection with two children keeps both on one IKE SA: the second,
// asked for while the IKE SA is up or still being set up, is created with
// CREATE_CHILD_SA (§1.3.1); asking again for a child that is up changes
// nothing.
TEST(Ikev2Exchange, ASecondChildOfTheConnectionIsCreatedOverTheSameIkeSa) {
  PeerSpec a;
  a.net2_local_ts = R"(["10.11.0.0/16"])";
  a.net2_remote_ts = R"(["10.12.0.0/16"])";
  Pair p(a, a.mirrored());
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  ASSERT_TRUE(p.a.initiate("peer", "net2", p.now));  // while IKE_SA_INIT is out: queued
  EXPECT_EQ(p.a.ike_sa_count(), 1u);
  p.establish_initiated();
  EXPECT_EQ(p.a.list().at(0).children.size(), 1u);
  p.a.tick(p.now);  // the queued child goes out once the IKE SA is up
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  EXPECT_EQ(parse(p.wire_a.queue.front()).header.exchange, iana::ExchangeType::create_child_sa);
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  const auto va = p.a.list();
  const auto vb = p.b.list();
  ASSERT_EQ(va.size(), 1u);
  ASSERT_EQ(vb.size(), 1u);
  ASSERT_EQ(va[0].children.size(), 2u);
  ASSERT_EQ(vb[0].children.size(), 2u);
  EXPECT_EQ(va[0].children[1].name, "net2");
  EXPECT_EQ(va[0].children[1].local_ts, std::vector<std::string>{"10.11.0.0/16"});
  EXPECT_EQ(va[0].children[1].remote_ts, std::vector<std::string>{"10.12.0.0/16"});
  EXPECT_EQ(vb[0].children[1].name, "net2");
  EXPECT_EQ(va[0].children[1].spi_in, vb[0].children[1].spi_out);
  EXPECT_EQ(p.dp_a.sas.size(), 4u);
  EXPECT_EQ(p.dp_a.policies.size(), 4u);

  ASSERT_TRUE(p.a.initiate("peer", "net2", p.now));  // up already: nothing more
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  EXPECT_TRUE(p.wire_a.queue.empty());
  EXPECT_EQ(p.a.ike_sa_count(), 1u);

  // Deleted by the operator, net2 comes back over the same IKE SA.
  ASSERT_TRUE(p.a.delete_child(va[0].id, va[0].children[1].spi_in, p.now));
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  EXPECT_EQ(p.a.list().at(0).children.size(), 1u);
  ASSERT_TRUE(p.a.initiate("peer", "net2", p.now));
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  EXPECT_EQ(p.a.list().at(0).children.size(), 2u);
  EXPECT_EQ(p.b.list().at(0).children.size(), 2u);
  EXPECT_EQ(p.a.ike_sa_count(), 1u);
}

// A restarted dataplane's withheld SAs are renewed in one call: each Child
// SA named (by either direction's id) is rekeyed once, one exchange after
// the other (window 1), and the ids no Child SA has come back.
TEST(Ikev2Exchange, RenewingManyChannelIdsRekeysEachChildOnce) {
  PeerSpec a;
  a.net2_local_ts = R"(["10.11.0.0/16"])";
  a.net2_remote_ts = R"(["10.12.0.0/16"])";
  Pair p(a, a.mirrored());
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  ASSERT_TRUE(p.a.initiate("peer", "net2", p.now));
  p.establish_initiated();
  p.a.tick(p.now);
  drain(p);
  ASSERT_EQ(p.dp_a.sas.size(), 4u);
  const auto before = spis(p.dp_a);
  std::vector<std::uint64_t> ids;
  for (const auto& [id, sa] : p.dp_a.sas) ids.push_back(id);  // both directions of both children
  ids.push_back(987654321);
  const auto unknown = p.a.renew_child_sas(ids, "lost its outbound sequence number (test)", p.now);
  EXPECT_EQ(unknown, std::vector<std::uint64_t>{987654321});
  ASSERT_EQ(p.wire_a.queue.size(), 1u);  // the first rekey; the second waits its turn
  drain(p);     // the first rekey and the old pair's Delete
  p.a.tick(p.now);  // the next task goes out
  drain(p);
  EXPECT_EQ(p.a.stats().child_sas_rekeyed, 2u);
  const auto after = spis(p.dp_a);
  for (const auto spi : after) EXPECT_EQ(before.count(spi), 0u) << "every pair is new";
  EXPECT_EQ(after, spis(p.dp_b)) << "each SA of A has its other half at B";
  // Asked again while nothing is left to renew: only the unknown id comes back.
  EXPECT_EQ(p.a.renew_child_sas({987654321}, "again", p.now), std::vector<std::uint64_t>{987654321});
}

TEST(Ikev2Exchange, ChildSaRekeyIsMakeBeforeBreak) {
  PeerSpec a;
  a.child_rekey = "20s";
  Pair p(a, PeerSpec{}.mirrored());
  p.establish();
  const auto before = spis(p.dp_a);
  const auto out_policy = [&] {
    for (const auto& [id, pol] : p.dp_a.policies)
      if (pol.direction == channel::Direction::outbound) return pol;
    return channel::PolicyRecord{};
  };
  const auto policy_before = out_policy();
  const auto b_out_policy = [&] {
    for (const auto& [id, pol] : p.dp_b.policies)
      if (pol.direction == channel::Direction::outbound) return pol;
    return channel::PolicyRecord{};
  };
  const auto b_policy_before = b_out_policy();
  p.now += 21s;
  p.a.tick(p.now);
  ASSERT_EQ(p.wire_a.queue.size(), 1u);  // CREATE_CHILD_SA request: N(REKEY_SA) SA Ni TSi TSr
  EXPECT_EQ(parse(p.wire_a.queue.front()).header.exchange, iana::ExchangeType::create_child_sa);
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.dp_b.sas.size(), 4u);  // B: old and new pairs side by side
  // B, the rekey responder, keeps sending on the old SA: A cannot decrypt
  // the new one before B's response reaches it (RFC 7296 §2.8).
  EXPECT_EQ(b_out_policy().sa_id, b_policy_before.sa_id);
  ASSERT_TRUE(p.b_to_a());
  EXPECT_EQ(p.dp_a.sas.size(), 4u);  // A: the same, and its Delete for the old pair is out
  // The outbound policy kept its id and now points at the new outbound SA.
  const auto policy_after = out_policy();
  EXPECT_EQ(policy_after.policy_id, policy_before.policy_id);
  EXPECT_NE(policy_after.sa_id, policy_before.sa_id);
  ASSERT_EQ(p.wire_a.queue.size(), 1u);  // INFORMATIONAL: D(ESP, old SPI)
  ASSERT_TRUE(p.a_to_b());
  // The Delete of the old pair moves B's outbound traffic to the new SA.
  EXPECT_EQ(b_out_policy().policy_id, b_policy_before.policy_id);
  EXPECT_NE(b_out_policy().sa_id, b_policy_before.sa_id);
  ASSERT_TRUE(p.b_to_a());
  expect_matching_child_sas(p.dp_a, p.dp_b);
  EXPECT_EQ(p.dp_b.policies.size(), 2u);
  for (const auto spi : spis(p.dp_a)) EXPECT_EQ(before.count(spi), 0u) << spi;  // both SPIs are new
  EXPECT_EQ(p.dp_a.policies.size(), 2u);
  EXPECT_EQ(p.a.stats().child_sas_rekeyed, 1u);
  EXPECT_EQ(p.b.stats().child_sas_rekeyed, 1u);
  EXPECT_EQ(p.a.list().at(0).children.size(), 1u);
  EXPECT_EQ(p.b.list().at(0).children.size(), 1u);
  EXPECT_EQ(p.a.list().at(0).children[0].state, "INSTALLED");
}

TEST(Ikev2Exchange, SoftVolumeLimitRekeysAndHardLimitDeletes) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  const auto old_out = p.dp_a.find(channel::Direction::outbound)->sa_id;
  EXPECT_FALSE(p.a.lifetime_reached(999999, false, p.now));  // no such SA
  // The dataplane reports the soft limit of A's outbound SA: A rekeys.
  ASSERT_TRUE(p.a.lifetime_reached(old_out, false, p.now));
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  EXPECT_EQ(parse(p.wire_a.queue.front()).header.exchange, iana::ExchangeType::create_child_sa);
  while (p.a_to_b() || p.b_to_a()) {
  }
  expect_matching_child_sas(p.dp_a, p.dp_b);
  EXPECT_EQ(p.a.stats().child_sas_rekeyed, 1u);
  // The hard limit of the new one: deleted on both sides.
  const auto new_out = p.dp_a.find(channel::Direction::outbound)->sa_id;
  ASSERT_TRUE(p.a.lifetime_reached(new_out, true, p.now));
  while (p.a_to_b() || p.b_to_a()) {
  }
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_b.sas.empty());
  EXPECT_EQ(p.a.stats().child_sas_expired, 1u);
  EXPECT_EQ(p.a.list().at(0).state, "ESTABLISHED");  // the IKE SA stays
}

TEST(Ikev2Exchange, ChildSaRekeyWithPfsByTheResponder) {
  PeerSpec a;
  a.esp = R"(["aes256gcm16-ecp256"])";
  PeerSpec b = a.mirrored();
  b.child_rekey = "20s";  // B, the IKE responder, starts the Child SA rekey
  Pair p(a, b);
  p.establish();
  const auto key_before = p.dp_a.find(channel::Direction::outbound)->encryption_key;
  run_until(p, p.now + 25s);
  expect_matching_child_sas(p.dp_a, p.dp_b);
  EXPECT_NE(p.dp_a.find(channel::Direction::outbound)->encryption_key, key_before);
  EXPECT_EQ(p.b.stats().child_sas_rekeyed, 1u);
  EXPECT_EQ(p.a.stats().child_sas_rekeyed, 1u);
}

TEST(Ikev2Exchange, IkeSaRekeyMovesTheChildSas) {
  PeerSpec spec;
  spec.ike_rekey = "30s";
  Pair p(spec, PeerSpec{}.mirrored());
  p.establish();
  const auto old_spi_i = p.a.list().at(0).spi_i;
  const auto child_spis = spis(p.dp_a);
  run_until(p, p.now + 35s);
  ASSERT_EQ(p.a.ike_sa_count(), 1u);  // the old IKE SA was deleted after the rekey
  ASSERT_EQ(p.b.ike_sa_count(), 1u);
  const auto view_a = p.a.list().at(0);
  const auto view_b = p.b.list().at(0);
  EXPECT_EQ(view_a.state, "ESTABLISHED");
  EXPECT_NE(view_a.spi_i, old_spi_i);
  EXPECT_EQ(view_a.spi_i, view_b.spi_i);
  EXPECT_EQ(view_a.spi_r, view_b.spi_r);
  EXPECT_EQ(view_a.children.size(), 1u);
  EXPECT_EQ(spis(p.dp_a), child_spis);  // the Child SAs were moved, not renegotiated
  EXPECT_EQ(p.a.stats().ike_sas_rekeyed, 1u);
  EXPECT_EQ(p.b.stats().ike_sas_rekeyed, 1u);
  // The new IKE SA works: a delete through it removes everything on both sides.
  p.a.shutdown(p.now);
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.ike_sa_count(), 0u);
  EXPECT_TRUE(p.dp_b.sas.empty());
}

TEST(Ikev2Exchange, ResponderDemandsACookieAndTheInitiatorReturnsIt) {
  ikev2::ManagerOptions strict;
  strict.cookie_threshold = 0;  // every IKE_SA_INIT must carry a cookie (§2.6)
  Pair p({}, PeerSpec{}.mirrored(), strict);
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.ike_sa_count(), 0u);  // stateless: nothing kept for a request without a cookie
  EXPECT_EQ(p.b.stats().cookies_sent, 1u);
  ASSERT_TRUE(p.b_to_a());  // N(COOKIE)
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  {  // the request again, N(COOKIE) first, still message ID 0
    const auto m = parse(p.wire_a.queue.front());
    ASSERT_FALSE(m.payloads.empty());
    const auto* n = std::get_if<corridor::ike::Notify>(&m.payloads.front().body);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->type, iana::NotifyType::cookie);
    EXPECT_EQ(m.header.message_id, 0u);
  }
  // A forged cookie is refused with a fresh one, and nothing is kept.
  Datagram forged = p.wire_a.queue.front();
  forged.bytes[28 + 8 + 10] ^= 0xff;  // inside the cookie data
  p.b.receive(forged.remote, forged.local, forged.bytes, p.now);
  EXPECT_EQ(p.b.stats().drops.at("invalid_cookie"), 1u);
  EXPECT_EQ(p.b.ike_sa_count(), 0u);
  p.wire_b.queue.clear();
  ASSERT_TRUE(p.a_to_b());  // the genuine retry
  EXPECT_EQ(p.b.half_open_count(), 1u);
  ASSERT_TRUE(p.b_to_a());
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  EXPECT_EQ(p.b.half_open_count(), 0u);
  expect_matching_child_sas(p.dp_a, p.dp_b);
}

TEST(Ikev2Exchange, HalfOpenSasFromOneAddressAreLimited) {
  ikev2::ManagerOptions limits;
  limits.cookie_threshold_ip = 100;
  limits.block_threshold_ip = 2;
  Pair p({}, PeerSpec{}.mirrored(), limits);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
    ASSERT_TRUE(p.a_to_b());  // IKE_SA_INIT requests that never go on to IKE_AUTH
  }
  EXPECT_EQ(p.b.ike_sa_count(), 2u);
  EXPECT_EQ(p.b.half_open_count(), 2u);
  EXPECT_EQ(p.b.stats().drops.at("half_open_limit"), 1u);
  p.now += 31s;
  p.b.tick(p.now);  // the half-open SAs time out and make room again
  EXPECT_EQ(p.b.half_open_count(), 0u);
  EXPECT_EQ(p.b.ike_sa_count(), 0u);
}

TEST(Ikev2Exchange, LargeIkeAuthGoesInRfc7383FragmentsBothWays) {
  // 120 subnets make IKE_AUTH (request and response) larger than 1252 bytes.
  std::string many = "[";
  for (int i = 0; i < 120; ++i) many += std::string(i ? "," : "") + "\"10.1." + std::to_string(i) + ".0/24\"";
  many += "]";
  PeerSpec a;
  a.local_ts = many;
  PeerSpec b = PeerSpec{}.mirrored();
  b.remote_ts = R"(["10.1.0.0/16"])";
  Pair p(a, b);
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  EXPECT_TRUE(has_notify(parse(p.wire_a.queue.front()), iana::NotifyType::ikev2_fragmentation_supported));
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  ASSERT_GT(p.wire_a.queue.size(), 1u);  // IKE_AUTH request in fragments
  for (const auto& d : p.wire_a.queue) {
    EXPECT_LE(d.bytes.size(), 1252u);
    EXPECT_EQ(parse(d).payloads.front().type, iana::PayloadType::encrypted_fragment);
  }
  const std::size_t fragments = p.wire_a.queue.size();
  // Deliver them last first, the last one twice: reassembly does not care.
  std::reverse(p.wire_a.queue.begin(), p.wire_a.queue.end());
  p.wire_a.queue.insert(p.wire_a.queue.begin() + 1, p.wire_a.queue.front());
  while (p.a_to_b()) {
  }
  EXPECT_EQ(p.b.stats().messages_reassembled, 1u);
  EXPECT_EQ(p.b.stats().drops.at("fragment_duplicate"), 1u);
  EXPECT_GT(p.wire_b.queue.size(), 1u);  // the response too
  while (p.b_to_a()) {
  }
  EXPECT_EQ(p.a.stats().messages_reassembled, 1u);
  expect_matching_child_sas(p.dp_a, p.dp_b);
  EXPECT_EQ(p.a.list().at(0).children.at(0).local_ts.size(), 120u);
  EXPECT_GE(fragments, 2u);
}

TEST(Ikev2Exchange, InitialContactFromARebootedPeerReplacesItsOldSa) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  const auto old_spi = p.b.list().at(0).spi_i;
  // A reboots: a fresh manager with the same identity and no SAs.
  Wire wire_a2(kAddrA);
  Dataplane dp_a2;
  ikev2::Manager a2(p.config_a, wire_a2, dp_a2);
  ASSERT_TRUE(a2.initiate("peer", "net", p.now));
  auto to_b = [&] {
    while (!wire_a2.queue.empty()) {
      const Datagram d = wire_a2.queue.front();
      wire_a2.queue.pop_front();
      p.b.receive(d.remote, d.local, d.bytes, p.now);
    }
  };
  auto to_a2 = [&] {
    while (!p.wire_b.queue.empty()) {
      const Datagram d = p.wire_b.queue.front();
      p.wire_b.queue.pop_front();
      a2.receive(d.remote, d.local, d.bytes, p.now);
    }
  };
  to_b();
  to_a2();
  to_b();  // IKE_AUTH with N(INITIAL_CONTACT)
  to_a2();
  ASSERT_EQ(p.b.ike_sa_count(), 1u);  // the old IKE SA and its Child SA are gone
  EXPECT_NE(p.b.list().at(0).spi_i, old_spi);
  EXPECT_EQ(p.b.list().at(0).state, "ESTABLISHED");
  expect_matching_child_sas(dp_a2, p.dp_b);
}

TEST(Ikev2Exchange, GarbageIsCountedAndTheEstablishedSaStays) {
  Pair p({}, PeerSpec{}.mirrored());
  p.establish();
  std::vector<std::uint8_t> garbage(40, 0x5a);
  p.b.receive({kAddrB, 500}, {kAddrA, 500}, garbage, p.now);
  std::vector<std::uint8_t> tiny(10, 0);
  p.b.receive({kAddrB, 500}, {kAddrA, 500}, tiny, p.now);
  EXPECT_EQ(p.b.stats().drops.at("truncated"), 1u);
  EXPECT_GE(p.b.stats().drops.size(), 2u);
  EXPECT_EQ(p.b.list().at(0).state, "ESTABLISHED");
}

TEST(Ikev2Exchange, TamperedIkeAuthIsDroppedAndTheGenuineOneStillWorks) {
  Pair p({}, PeerSpec{}.mirrored());
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  Datagram forged = p.wire_a.queue.front();
  forged.bytes[forged.bytes.size() - 20] ^= 0x01;  // inside the ciphertext
  p.b.receive(forged.remote, forged.local, forged.bytes, p.now);
  EXPECT_EQ(p.b.stats().drops.at("integrity_failed"), 1u);
  EXPECT_TRUE(p.wire_b.queue.empty());  // §2.21.2: no answer to a forgery
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  expect_matching_child_sas(p.dp_a, p.dp_b);
}

TEST(Ikev2Exchange, UnknownCriticalPayloadInIkeSaInitIsAnswered) {
  Pair p({}, PeerSpec{}.mirrored());
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  Datagram d = p.wire_a.queue.front();
  // Turn the first payload (SA, type 33) into an unknown type with the
  // critical bit: Next Payload in the header, critical flag in the payload.
  d.bytes[16] = 60;
  d.bytes[28 + 1] |= 0x80;
  p.b.receive(d.remote, d.local, d.bytes, p.now);
  ASSERT_EQ(p.wire_b.queue.size(), 1u);
  EXPECT_TRUE(has_notify(parse(p.wire_b.queue.front()), iana::NotifyType::unsupported_critical_payload));
  EXPECT_EQ(p.b.ike_sa_count(), 0u);
}

// RFC 7296 §2.21.2: the initiator cannot verify the responder (here: B
// identifies as an identity A does not expect, with a PSK both hold). B
// believes the IKE SA is up until A's INFORMATIONAL with
// AUTHENTICATION_FAILED; then neither keeps anything.
TEST(Ikev2Exchange, TheInitiatorTellsTheResponderItsAuthenticationFailed) {
  const auto config_a = make_config("192.0.2.1", "198.51.100.2", "a.example.net", "b.example.net", PeerSpec{});
  const auto config_b =
      make_config("198.51.100.2", "192.0.2.1", "impostor.example.net", "a.example.net", PeerSpec{}.mirrored());
  Wire wire_a(kAddrA), wire_b(kAddrB);
  Dataplane dp_a, dp_b;
  ikev2::Manager a(config_a, wire_a, dp_a), b(config_b, wire_b, dp_b);
  auto now = Clock::now();
  const auto deliver = [&](Wire& from, ikev2::Manager& to) {
    if (from.queue.empty()) return false;
    const auto d = from.queue.front();
    from.queue.pop_front();
    to.receive(d.remote, d.local, d.bytes, now);
    return true;
  };
  ASSERT_TRUE(a.initiate("peer", "net", now));
  ASSERT_TRUE(deliver(wire_a, b));  // IKE_SA_INIT
  ASSERT_TRUE(deliver(wire_b, a));
  ASSERT_TRUE(deliver(wire_a, b));  // IKE_AUTH: B accepts A and installs the Child SA
  EXPECT_EQ(b.list().at(0).state, "ESTABLISHED");
  EXPECT_FALSE(dp_b.sas.empty());
  ASSERT_TRUE(deliver(wire_b, a));  // A refuses IDr impostor.example.net ...
  EXPECT_EQ(a.ike_sa_count(), 0u);
  EXPECT_TRUE(dp_a.sas.empty());
  EXPECT_EQ(a.stats().notifies_sent.at("AUTHENTICATION_FAILED"), 1u);
  ASSERT_EQ(wire_a.queue.size(), 1u);  // ... and says so in an INFORMATIONAL
  ASSERT_TRUE(deliver(wire_a, b));
  EXPECT_EQ(b.ike_sa_count(), 0u);
  EXPECT_TRUE(dp_b.sas.empty());
  EXPECT_TRUE(dp_b.policies.empty());
  EXPECT_EQ(b.stats().notifies_received.at("AUTHENTICATION_FAILED"), 1u);
  EXPECT_EQ(wire_b.queue.size(), 1u);  // its (empty) response, which nobody waits for
  while (deliver(wire_b, a) || deliver(wire_a, b)) {
  }
  EXPECT_EQ(a.ike_sa_count(), 0u);
}

}  // namespace

// The operator's commands (control/ikev2/operator.cc, the REST API's SA
// resources), from either side of the IKE SA.
TEST(Ikev2Exchange, OperatorRekeysAndDeletesChildSasAndTerminatesTheIkeSa) {
  Pair p(PeerSpec{}, PeerSpec{}.mirrored());
  p.establish();
  const auto id_a = p.a.list().at(0).id;
  const auto id_b = p.b.list().at(0).id;
  const auto before = spis(p.dp_a);
  std::string why;

  // Unknown SAs and SPIs are refused with a reason, nothing changes.
  EXPECT_FALSE(p.a.rekey(id_a + 100, p.now, &why));
  EXPECT_NE(why.find("no IKE SA"), std::string::npos);
  EXPECT_FALSE(p.a.rekey_child(id_a, 0x1234, p.now, &why));
  EXPECT_NE(why.find("no Child SA"), std::string::npos);
  EXPECT_FALSE(p.wire_a.queue.size());

  // The responder rekeys the Child SA: new SPIs on both sides, old pair gone.
  ASSERT_TRUE(p.b.rekey_child(id_b, p.b.list().at(0).children.at(0).spi_in, p.now, &why)) << why;
  run_until(p, p.now + 3s);
  const auto after_child = spis(p.dp_a);
  EXPECT_EQ(after_child.size(), 2u);
  for (const auto spi : after_child) EXPECT_EQ(before.count(spi), 0u);
  expect_matching_child_sas(p.dp_a, p.dp_b);
  EXPECT_EQ(p.b.stats().child_sas_rekeyed, 1u);

  // The initiator rekeys the IKE SA; the Child SAs move with it.
  ASSERT_TRUE(p.a.rekey(id_a, p.now, &why)) << why;
  run_until(p, p.now + 3s);
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  EXPECT_EQ(p.a.stats().ike_sas_rekeyed, 1u);
  EXPECT_EQ(spis(p.dp_a), after_child);
  const auto view = p.a.list().at(0);
  EXPECT_NE(view.id, id_a);
  EXPECT_EQ(view.state, "ESTABLISHED");
  ASSERT_TRUE(view.established_at.has_value());

  // Deleting the Child SA by name leaves the IKE SA up, empty.
  EXPECT_EQ(p.a.terminate_children("peer", "other", p.now), 0u);
  EXPECT_EQ(p.a.terminate_children("peer", "net", p.now), 1u);
  run_until(p, p.now + 2s);
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_b.sas.empty());
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  EXPECT_TRUE(p.a.list().at(0).children.empty());

  // Terminate: a Delete the peer answers, nothing left on either side; a
  // second terminate of the same SA is refused while the first is out.
  ASSERT_TRUE(p.b.terminate(p.b.list().at(0).id, p.now, &why)) << why;
  EXPECT_FALSE(p.b.terminate(p.b.list().at(0).id, p.now, &why));
  EXPECT_NE(why.find("DELETING"), std::string::npos) << why;
  run_until(p, p.now + 2s);
  EXPECT_EQ(p.a.ike_sa_count(), 0u);
  EXPECT_EQ(p.b.ike_sa_count(), 0u);
}

TEST(Ikev2Exchange, OperatorTerminateOfAHalfOpenSaDropsItQuietly) {
  Pair p(PeerSpec{}, PeerSpec{}.mirrored());
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  const auto id = p.a.list().at(0).id;
  p.wire_a.queue.clear();  // the IKE_SA_INIT request is lost
  std::string why;
  EXPECT_FALSE(p.a.rekey(id, p.now, &why));  // not established yet
  ASSERT_TRUE(p.a.terminate(id, p.now, &why)) << why;
  EXPECT_EQ(p.a.ike_sa_count(), 0u);
  EXPECT_TRUE(p.wire_a.queue.empty());  // nothing to tell a peer that has no keys
}

// The events the REST API streams: up and down once per SA, rekeys as
// rekeys (no down/up pair for the SA that was replaced).
TEST(Ikev2Exchange, SaEventsFollowTheLifecycle) {
  std::vector<std::string> events;
  ikev2::ManagerOptions options;
  options.on_event = [&](const ikev2::SaEvent& e) {
    events.push_back(std::string(ikev2::to_string(e.kind)) + (e.child.empty() ? "" : " " + e.child));
  };
  Pair p(PeerSpec{}, PeerSpec{}.mirrored(), options);
  p.establish();
  EXPECT_EQ(events, (std::vector<std::string>{"ike-up", "child-up net"}));
  events.clear();

  const auto id = p.b.list().at(0).id;
  std::string why;
  ASSERT_TRUE(p.b.rekey_child(id, p.b.list().at(0).children.at(0).spi_in, p.now, &why)) << why;
  run_until(p, p.now + 3s);
  ASSERT_TRUE(p.b.rekey(id, p.now, &why)) << why;
  run_until(p, p.now + 3s);
  EXPECT_EQ(events, (std::vector<std::string>{"child-rekey net", "ike-rekey"}));
  events.clear();

  p.b.shutdown(p.now);
  ASSERT_TRUE(p.b_to_a());
  ASSERT_TRUE(p.a_to_b());
  EXPECT_TRUE(p.b.drained());
  EXPECT_EQ(events, (std::vector<std::string>{"child-down net", "ike-down"}));
}

// INITIAL_CONTACT only with the first IKE SA (§2.4): a second IKE SA of
// the same connection must not make the peer delete the first.
TEST(Ikev2Exchange, SecondIkeSaToAPeerCarriesNoInitialContact) {
  Pair p(PeerSpec{}, PeerSpec{}.mirrored());
  p.establish();
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  ASSERT_FALSE(p.wire_a.queue.empty());
  ASSERT_TRUE(p.a_to_b());  // IKE_AUTH request, encrypted: check its effect
  ASSERT_TRUE(p.b_to_a());
  EXPECT_EQ(p.a.ike_sa_count(), 2u);
  EXPECT_EQ(p.b.ike_sa_count(), 2u);
}
