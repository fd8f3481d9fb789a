// Two Corridor IKEv1 peers in one process (control/ikev1/manager.h): Main
// Mode with pre-shared keys and Quick Mode through an in-memory wire, one
// datagram at a time, with real Diffie-Hellman and crypto, and what each
// dataplane would hold. The states each side passes, NAT-T, lost and
// repeated messages, Delete, and every refusal.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "common/config/loader.h"
#include "common/ikev1/message.h"
#include "common/log/log.h"
#include "common/channel/records.h"
#include "control/ikev1/manager.h"
#include "tests/unit/ikev1/pair.h"

namespace {

using namespace corridor;                 // NOLINT: test brevity
using namespace corridor::control::ikev1;  // NOLINT
using namespace corridor::ikev1_test;      // NOLINT
using namespace std::chrono_literals;

using test_support::Datagram;

TEST(Ikev1MainMode, PskEstablishesWithEveryStateOfTheTable) {
  StateLog states;
  Pair p;
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p.a_to_b()) << "message " << 2 * i + 1;
    ASSERT_TRUE(p.b_to_a()) << "message " << 2 * i + 2;
  }
  // Then A starts Quick Mode for the child it was asked for.
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  EXPECT_EQ(codec::parse_header(p.wire_a.queue.front().bytes)->header.exchange, v1::ExchangeType::quick_mode);
  const auto la = p.a.list();
  const auto lb = p.b.list();
  ASSERT_EQ(la.size(), 1u);
  ASSERT_EQ(lb.size(), 1u);
  EXPECT_EQ(la[0].state, "MM_DONE");
  EXPECT_EQ(lb[0].state, "MM_DONE");
  EXPECT_EQ(la[0].cookie_i, lb[0].cookie_i);
  EXPECT_EQ(la[0].cookie_r, lb[0].cookie_r);
  EXPECT_EQ(la[0].proposal, "IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048");
  EXPECT_EQ(la[0].remote_id, "b.example.net");
  EXPECT_EQ(lb[0].remote_id, "a.example.net");
  EXPECT_TRUE(la[0].initiator);
  EXPECT_FALSE(lb[0].initiator);
  EXPECT_FALSE(la[0].nat_local || la[0].nat_remote);
  EXPECT_EQ(p.a.stats().phase1_established, 1u);
  EXPECT_EQ(p.b.stats().phase1_established, 1u);

  auto has = [&](const std::string& step) {
    for (const auto& l : states.lines)
      if (l.find(step) != std::string::npos) return true;
    return false;
  };
  for (const char* step : {"MM_IDLE -> MM_SA_SENT", "MM_SA_SENT -> MM_SA_RCVD", "MM_SA_RCVD -> MM_KE_SENT",
                           "MM_KE_SENT -> MM_KE_RCVD", "MM_KE_RCVD -> MM_AUTH_SENT", "MM_AUTH_SENT -> MM_DONE",
                           "MM_IDLE -> MM_SA_RCVD", "MM_SA_RCVD -> MM_SA_SENT", "MM_SA_SENT -> MM_KE_RCVD",
                           "MM_KE_SENT -> MM_AUTH_RCVD", "MM_AUTH_RCVD -> MM_DONE"})
    EXPECT_TRUE(has(step)) << step;
  EXPECT_EQ(std::count_if(states.lines.begin(), states.lines.end(),
                          [](const std::string& l) { return l.find("MM_") != std::string::npos; }),
            12);
}

TEST(Ikev1MainMode, MessagesFiveAndSixAreEncryptedAndNothingLeaksTheKey) {
  Pair p;
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  std::vector<Datagram> seen;
  for (int i = 0; i < 3; ++i) {
    seen.push_back(p.wire_a.queue.front());
    ASSERT_TRUE(p.a_to_b());
    seen.push_back(p.wire_b.queue.front());
    ASSERT_TRUE(p.b_to_a());
  }
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(codec::parse_header(seen[i].bytes)->header.encrypted()) << i;
  for (int i = 4; i < 6; ++i) {
    const auto h = codec::parse_header(seen[i].bytes);
    EXPECT_TRUE(h->header.encrypted()) << i;
    EXPECT_EQ((seen[i].bytes.size() - codec::kHeaderSize) % 16, 0u);
    const std::string text(seen[i].bytes.begin(), seen[i].bytes.end());
    EXPECT_EQ(text.find("example.net"), std::string::npos) << "identity in the clear in message " << i + 1;
  }
  // Message 1 carries the RFC 3947, DPD and FRAGMENTATION vendor IDs; 3 and 4 the NAT-D payloads.
  const auto m1 = parse(seen[0]);
  int vids = 0;
  for (const auto& pl : m1.payloads) vids += pl.type == v1::PayloadType::vendor_id;
  EXPECT_EQ(vids, 3);
  int natd = 0;
  for (const auto& pl : parse(seen[2]).payloads) natd += pl.type == v1::PayloadType::nat_d;
  EXPECT_EQ(natd, 2);
}

TEST(Ikev1MainMode, BehindANatTheInitiatorFloatsToPort4500) {
  Spec anywhere;
  anywhere.remote_addrs = "%any";  // B accepts A from behind the NAT
  Pair p({}, anywhere.mirrored());
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  ASSERT_TRUE(p.a_to_b(true));
  ASSERT_TRUE(p.b_to_a());
  ASSERT_TRUE(p.a_to_b(true));
  ASSERT_TRUE(p.b_to_a());
  // Message 5 leaves from and to port 4500.
  ASSERT_FALSE(p.wire_a.queue.empty());
  EXPECT_EQ(p.wire_a.queue.front().local.port, 4500);
  EXPECT_EQ(p.wire_a.queue.front().remote.port, 4500);
  ASSERT_TRUE(p.a_to_b(true));
  ASSERT_TRUE(p.b_to_a());
  const auto la = p.a.list();
  const auto lb = p.b.list();
  ASSERT_EQ(la.size(), 1u);
  ASSERT_EQ(lb.size(), 1u);
  EXPECT_EQ(la[0].state, "MM_DONE");
  EXPECT_EQ(lb[0].state, "MM_DONE");
  EXPECT_TRUE(la[0].nat_local);
  EXPECT_TRUE(lb[0].nat_remote);
  EXPECT_EQ(lb[0].remote.address.to_string() + ":" + std::to_string(lb[0].remote.port), "203.0.113.9:44500");  // followed the float through the NAT
}

TEST(Ikev1MainMode, EncapForcesNatTraversal) {
  Spec encap;
  encap.encap = true;
  Pair p(encap, Spec{}.mirrored());
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.b_to_a());
  }
  EXPECT_EQ(p.b.list().at(0).state, "MM_DONE");
  EXPECT_TRUE(p.b.list().at(0).nat_remote);
  EXPECT_EQ(p.b.list().at(0).remote.port, 4500);
}

// RFC 3947 §5.2: transport mode through a NAT (forced here by `encap`):
// both Quick Mode messages carry NAT-OAi and NAT-OAr, the original
// addresses as each end knows them, and each end logs the other's.
TEST(Ikev1QuickMode, TransportModeThroughANatCarriesNatOa) {
  std::vector<std::string> lines;
  log::set_listener([&](log::Level, std::string_view, std::string_view m) { lines.emplace_back(m); });
  Spec a;
  a.encap = true;
  a.local_ts = R"(["192.0.2.1/32"])";
  a.remote_ts = R"(["198.51.100.2/32"])";
  a.child_extra = R"("mode": "transport")";
  Pair p(a, a.mirrored());
  establish(p);
  log::set_listener(nullptr);
  ASSERT_EQ(p.a.list().at(0).children.size(), 1u);
  EXPECT_EQ(p.a.list().at(0).children.at(0).mode, "TRANSPORT");
  const auto nat_oa_lines = std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("transport mode through a NAT, the peer's NAT-OA initiator 192.0.2.1, responder 198.51.100.2") !=
           std::string::npos;
  });
  EXPECT_EQ(nat_oa_lines, 2) << "each end logs the other's NAT-OA payloads";
}

// RFC 3948 §4: the end behind the NAT (here A, by `encap`) keeps the
// mapping open with a keepalive every keepalive_interval; the other end
// sends none.
TEST(Ikev1MainMode, TheEndBehindANatSendsKeepalives) {
  Spec encap;
  encap.encap = true;
  Pair p(encap, Spec{}.mirrored());
  establish(p);
  p.tick();
  EXPECT_EQ(p.wire_a.keepalives, 0) << "not before keepalive_interval";
  p.now += 21s;
  p.tick();
  EXPECT_EQ(p.wire_a.keepalives, 1);
  p.now += 5s;
  p.tick();
  EXPECT_EQ(p.wire_a.keepalives, 1);
  p.now += 20s;
  p.tick();
  EXPECT_EQ(p.wire_a.keepalives, 2);
  EXPECT_EQ(p.a.stats().nat_keepalives, 2u);
  EXPECT_EQ(p.wire_b.keepalives, 0) << "B is not behind a NAT";
}

TEST(Ikev1MainMode, LostMessagesAreRetransmittedAndRepeatsAnswered) {
  Pair p;
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  ASSERT_TRUE(p.a_to_b());
  p.wire_b.queue.clear();  // message 2 lost
  p.now += 5s;
  p.a.tick(p.now);         // A sends message 1 again
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  ASSERT_TRUE(p.a_to_b()); // B answers the repeat with message 2 again
  EXPECT_EQ(p.b.stats().duplicates, 1u);
  ASSERT_TRUE(p.b_to_a());
  ASSERT_TRUE(p.a_to_b());  // 3
  ASSERT_TRUE(p.b_to_a());  // 4
  ASSERT_TRUE(p.a_to_b());  // 5
  p.wire_b.queue.clear();   // 6 lost: B is done, A waits
  EXPECT_EQ(p.b.list().at(0).state, "MM_DONE");
  p.now += 5s;
  p.a.tick(p.now);          // 5 again
  ASSERT_TRUE(p.a_to_b());  // B answers with 6 again
  ASSERT_TRUE(p.b_to_a());
  EXPECT_EQ(p.a.list().at(0).state, "MM_DONE");
  EXPECT_EQ(p.a.stats().retransmitted, 2u);
  EXPECT_EQ(p.b.stats().duplicates, 2u);
  // Once done, Main Mode is not retransmitted: only the Quick Mode it started is.
  p.wire_a.queue.clear();
  p.now += 6s;
  p.a.tick(p.now);
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  EXPECT_EQ(codec::parse_header(p.wire_a.queue.front().bytes)->header.exchange, v1::ExchangeType::quick_mode);
  EXPECT_EQ(p.a.sa_count(), 1u);
}

TEST(Ikev1MainMode, AnUnansweredInitiatorGivesUp) {
  Pair p;
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  p.wire_a.queue.clear();
  for (int i = 0; i < 20 && p.a.sa_count() > 0; ++i) {
    p.now += 10s;
    p.a.tick(p.now);
    p.wire_a.queue.clear();
  }
  EXPECT_EQ(p.a.sa_count(), 0u);
  EXPECT_EQ(p.a.stats().phase1_failed, 1u);
}

TEST(Ikev1MainMode, NoCommonProposalIsAnsweredNoProposalChosen) {
  Spec other;
  other.proposals = R"(["aes128-sha1-modp3072"])";
  Pair p({}, other.mirrored());
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  ASSERT_TRUE(p.a_to_b());
  ASSERT_EQ(p.wire_b.queue.size(), 1u);
  const auto n = parse(p.wire_b.queue.front());
  EXPECT_EQ(n.header.exchange, v1::ExchangeType::informational);
  ASSERT_EQ(n.payloads.size(), 1u);
  EXPECT_EQ(std::get<codec::Notification>(n.payloads[0].body).type, v1::NotifyType::no_proposal_chosen);
  EXPECT_EQ(p.b.sa_count(), 0u);
  EXPECT_EQ(p.b.stats().notifies_sent.at("NO-PROPOSAL-CHOSEN"), 1u);
  ASSERT_TRUE(p.b_to_a());  // logged and counted by A, which keeps waiting (it is not authenticated)
  EXPECT_EQ(p.a.stats().notifies_received.at("NO-PROPOSAL-CHOSEN"), 1u);
  EXPECT_EQ(p.a.sa_count(), 1u);
}

TEST(Ikev1MainMode, DifferentPresharedKeysFailAuthentication) {
  Spec wrong;
  wrong.psk = "not the same secret at all, sorry";
  Pair p({}, wrong.mirrored());
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.b_to_a());
  }
  ASSERT_TRUE(p.a_to_b());  // message 5 under A's key: B cannot read it
  EXPECT_EQ(p.b.sa_count(), 0u);
  EXPECT_EQ(p.b.stats().phase1_failed, 1u);
  EXPECT_EQ(p.b.stats().notifies_sent.at("AUTHENTICATION-FAILED"), 1u);
}

TEST(Ikev1MainMode, AnUnexpectedPeerIdentityIsRefused) {
  Spec picky;
  picky.remote_id = "someone-else.example.net";
  Pair p({}, picky.mirrored());
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.b_to_a());
  }
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.sa_count(), 0u);
  EXPECT_EQ(p.b.stats().notifies_sent.at("AUTHENTICATION-FAILED"), 1u);
}

TEST(Ikev1MainMode, GarbageAndStrayMessagesAreDroppedWithAName) {
  Pair p;
  const std::vector<std::uint8_t> junk{1, 2, 3};
  p.b.receive({kAddrB, 500}, {kAddrA, 500}, junk, p.now);
  EXPECT_EQ(p.b.stats().drops.at("malformed"), 1u);
  // A Main Mode message for cookies nobody knows.
  codec::Message m;
  m.header.cookie_i = {1, 2, 3, 4, 5, 6, 7, 8};
  m.header.cookie_r = {9, 9, 9, 9, 9, 9, 9, 9};
  m.payloads.push_back({v1::PayloadType::nonce, codec::Nonce{std::vector<std::uint8_t>(16, 7)}});
  auto bytes = codec::serialise_message(m);
  p.b.receive({kAddrB, 500}, {kAddrA, 500}, *bytes, p.now);
  EXPECT_EQ(p.b.stats().drops.at("unknown_cookies"), 1u);
  // Message 1 with a malformed SA: PAYLOAD-MALFORMED or BAD-PROPOSAL-SYNTAX back, no SA.
  m.header.cookie_r = {};
  m.payloads = {{v1::PayloadType::sa, codec::SecurityAssociation{}}};
  bytes = codec::serialise_message(m);
  p.b.receive({kAddrB, 500}, {kAddrA, 500}, *bytes, p.now);
  EXPECT_EQ(p.b.sa_count(), 0u);
  EXPECT_EQ(p.b.stats().notifies_sent.at("BAD-PROPOSAL-SYNTAX"), 1u);
  // A half-open responder SA is dropped after the Phase 1 timeout.
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.sa_count(), 1u);
  p.now += 31s;
  p.b.tick(p.now);
  EXPECT_EQ(p.b.sa_count(), 0u);
}

TEST(Ikev1MainMode, InitiateRefusesWhatIsNotThere) {
  Pair p;
  std::string why;
  EXPECT_FALSE(p.a.initiate("nope", "", p.now, &why));
  EXPECT_EQ(why, "no such connection");
}

// --- Quick Mode ---------------------------------------------------------------------

// Main Mode 1-6 and Quick Mode 1-3.
TEST(Ikev1QuickMode, InstallsMirroredPairsWithPfs) {
  StateLog states;
  Pair p;
  establish(p);
  EXPECT_TRUE(p.wire_a.queue.empty() && p.wire_b.queue.empty());
  expect_mirrored(p.dp_a, p.dp_b);
  const auto la = p.a.list().at(0);
  const auto lb = p.b.list().at(0);
  ASSERT_EQ(la.children.size(), 1u);
  ASSERT_EQ(lb.children.size(), 1u);
  EXPECT_EQ(la.children[0].state, "QM_DONE");
  EXPECT_EQ(la.children[0].name, "office");
  EXPECT_EQ(la.children[0].proposal, "ESP:AES_CBC_128/HMAC_SHA2_256_128/MODP_2048/NO_EXT_SEQ");
  EXPECT_EQ(la.children[0].local_ts, std::vector<std::string>{"10.1.0.0/16"});
  EXPECT_EQ(la.children[0].remote_ts, std::vector<std::string>{"10.2.0.0/16"});
  EXPECT_EQ(lb.children[0].local_ts, std::vector<std::string>{"10.2.0.0/16"});
  EXPECT_EQ(la.children[0].spi_out, lb.children[0].spi_in);
  EXPECT_FALSE(la.children[0].encap);
  const auto* out = p.dp_a.find(channel::Direction::outbound);
  EXPECT_EQ(out->encryption_id, 12);  // ENCR_AES_CBC
  EXPECT_EQ(out->encryption_key_bits, 128);
  EXPECT_EQ(out->integrity_id, 12);   // AUTH_HMAC_SHA2_256_128
  EXPECT_EQ(out->mode, channel::Mode::tunnel);
  EXPECT_FALSE(out->udp_encap);
  EXPECT_GE(out->sa_id, std::uint64_t{1} << 48);  // apart from IKEv2's ids
  EXPECT_EQ(p.a.stats().ipsec_sas_installed, 1u);
  EXPECT_EQ(p.b.stats().ipsec_sas_installed, 1u);
  auto has = [&](const std::string& step) {
    return std::any_of(states.lines.begin(), states.lines.end(),
                       [&](const std::string& l) { return l.find(step) != std::string::npos; });
  };
  EXPECT_TRUE(has("QM_IDLE -> QM_INIT_SENT"));
  EXPECT_TRUE(has("QM_INIT_SENT -> QM_RESP_RCVD"));
  EXPECT_TRUE(has("QM_RESP_RCVD -> QM_DONE"));
  EXPECT_TRUE(has("QM_IDLE -> QM_INIT_RCVD"));
  EXPECT_TRUE(has("QM_INIT_RCVD -> QM_RESP_SENT"));
  EXPECT_TRUE(has("QM_RESP_SENT -> QM_DONE"));
}

TEST(Ikev1QuickMode, AeadWithoutPfsAndASecondChildOverTheSameIsakmpSa) {
  Spec gcm;
  gcm.esp = R"(["aes256gcm16"])";
  Pair p(gcm, gcm.mirrored());
  establish(p);
  expect_mirrored(p.dp_a, p.dp_b);
  EXPECT_EQ(p.a.list().at(0).children.at(0).proposal, "ESP:AES_GCM_16_256/NO_EXT_SEQ");
  EXPECT_EQ(p.dp_a.find(channel::Direction::outbound)->integrity_id, 0);
  // Asking again runs another Quick Mode over the same ISAKMP SA.
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.a.sa_count(), 1u);
  EXPECT_EQ(p.a.list().at(0).children.size(), 2u);
  EXPECT_EQ(p.dp_a.sas.size(), 4u);
}

TEST(Ikev1QuickMode, BehindANatTheSasAreUdpEncapsulated) {
  Spec anywhere;
  anywhere.remote_addrs = "%any";
  Pair p({}, anywhere.mirrored());
  establish(p, true);
  ASSERT_EQ(p.dp_a.sas.size(), 2u);
  const auto* out = p.dp_a.find(channel::Direction::outbound);
  EXPECT_TRUE(out->udp_encap);
  EXPECT_EQ(out->encap_src_port, 4500);
  EXPECT_EQ(out->encap_dst_port, 4500);
  const auto* b_out = p.dp_b.find(channel::Direction::outbound);
  EXPECT_TRUE(b_out->udp_encap);
  EXPECT_EQ(b_out->encap_dst_port, 44500);  // the NAT's mapping of A's port 4500
  EXPECT_TRUE(p.a.list().at(0).children.at(0).encap);
}

TEST(Ikev1QuickMode, LostMessageTwoIsResentForARepeatedMessageOne) {
  Pair p;
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.b_to_a());
  }
  ASSERT_TRUE(p.a_to_b());  // Quick Mode 1
  p.wire_b.queue.clear();   // 2 lost
  p.now += 5s;
  p.a.tick(p.now);
  ASSERT_TRUE(p.a_to_b());  // 1 again: B sends 2 again
  ASSERT_TRUE(p.b_to_a());
  ASSERT_TRUE(p.a_to_b());  // 3
  expect_mirrored(p.dp_a, p.dp_b);
}

// The initiator installs and sends on the new pair when message 2 arrives;
// the responder's inbound SA must already be there, or the first packets
// are dropped (a packet lost at every renewal). Its own traffic moves on 3.
TEST(Ikev1QuickMode, TheResponderCanReceiveBeforeMessageThreeAndTakesItBackIfThreeNeverComes) {
  Pair p;
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.b_to_a());
  }
  ASSERT_TRUE(p.a_to_b());  // Quick Mode 1; B answers with 2
  ASSERT_EQ(p.dp_b.sas.size(), 2u) << "both SAs pushed before message 2 left";
  EXPECT_TRUE(p.dp_b.policies.empty()) << "no traffic steered into them yet";
  ASSERT_TRUE(p.b_to_a());  // 2: A installs and may send at once
  const auto* a_out = p.dp_a.find(channel::Direction::outbound);
  ASSERT_NE(a_out, nullptr);
  const auto* b_in = p.dp_b.find(channel::Direction::inbound);
  ASSERT_NE(b_in, nullptr);
  EXPECT_EQ(b_in->spi, a_out->spi);
  EXPECT_EQ(b_in->encryption_key.bytes, a_out->encryption_key.bytes);
  EXPECT_EQ(p.b.list().at(0).children.size(), 0u) << "not an IPsec SA of B's before message 3";
  // Message 3 is lost for good: B's Quick Mode times out and its SAs go.
  p.wire_a.queue.clear();
  p.now += 31s;
  p.b.tick(p.now);
  EXPECT_TRUE(p.dp_b.sas.empty());
  EXPECT_TRUE(p.dp_b.policies.empty());
  EXPECT_EQ(p.b.stats().quick_modes_failed, 1u);
}

TEST(Ikev1QuickMode, ALostMessageThreeIsRecoveredByTheResponderRepeatingTwo) {
  Pair p;
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.b_to_a());
  }
  ASSERT_TRUE(p.a_to_b());  // 1
  ASSERT_TRUE(p.b_to_a());  // 2: A is done and sends 3
  ASSERT_EQ(p.wire_a.queue.size(), 1u);
  p.wire_a.queue.clear();   // 3 lost
  ASSERT_EQ(p.b.list().at(0).children.size(), 0u);
  p.now += 5s;
  p.b.tick(p.now);          // B repeats 2 (retransmit_timeout 4 s)
  ASSERT_EQ(p.wire_b.queue.size(), 1u);
  ASSERT_TRUE(p.b_to_a());  // A answers the repeat with 3 again
  ASSERT_TRUE(p.a_to_b());
  expect_mirrored(p.dp_a, p.dp_b);
  EXPECT_EQ(p.b.list().at(0).children.at(0).state, "QM_DONE");
  EXPECT_EQ(p.a.stats().duplicates, 1u);
  // Done: B repeats nothing more.
  p.now += 30s;
  p.b.tick(p.now);
  EXPECT_TRUE(p.wire_b.queue.empty());
}

TEST(Ikev1QuickMode, SelectorsOutsideTheChildAreRefused) {
  Pair q({}, [] {
    Spec b = Spec{}.mirrored();
    b.remote_ts = R"(["10.9.0.0/16"])";  // B's idea of A's side differs
    return b;
  }());
  ASSERT_TRUE(q.a.initiate("legacy", "office", q.now));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(q.a_to_b());
    ASSERT_TRUE(q.b_to_a());
  }
  ASSERT_TRUE(q.a_to_b());  // Quick Mode 1
  ASSERT_TRUE(q.b_to_a());  // an Informational with INVALID-ID-INFORMATION
  EXPECT_EQ(q.b.stats().notifies_sent.at("INVALID-ID-INFORMATION"), 1u);
  EXPECT_EQ(q.a.stats().notifies_received.at("INVALID-ID-INFORMATION"), 1u);
  EXPECT_TRUE(q.dp_b.sas.empty());
  EXPECT_TRUE(q.dp_a.sas.empty());
}

TEST(Ikev1QuickMode, ShutdownDeletesOnBothSides) {
  Pair p;
  establish(p);
  ASSERT_EQ(p.dp_b.sas.size(), 2u);
  p.a.shutdown(p.now);
  EXPECT_EQ(p.a.sa_count(), 0u);
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_a.policies.empty());
  ASSERT_EQ(p.wire_a.queue.size(), 2u);  // Delete of the ESP SA, then of the ISAKMP SA
  ASSERT_TRUE(p.a_to_b());
  EXPECT_TRUE(p.dp_b.sas.empty());
  EXPECT_TRUE(p.dp_b.policies.empty());
  EXPECT_EQ(p.b.list().at(0).children.size(), 0u);
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.sa_count(), 0u);
}

TEST(Ikev1MainMode, ShutdownWaitsForMessageSixThenDeletes) {
  // A stops with its Main Mode 5 on the way: B answers it and holds the
  // ISAKMP SA as established. A keeps its SA until Main Mode 6 comes (the
  // Informational's IV follows from it), then deletes it with notice.
  Pair p;
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.b_to_a());
  }
  ASSERT_EQ(p.a.list().at(0).state, "MM_AUTH_SENT");
  p.a.shutdown(p.now);
  EXPECT_EQ(p.a.sa_count(), 1u);
  EXPECT_FALSE(p.a.drained());
  ASSERT_TRUE(p.a_to_b());  // 5
  ASSERT_EQ(p.b.list().at(0).state, "MM_DONE");
  ASSERT_TRUE(p.b_to_a());  // 6: A is established and deletes at once
  EXPECT_EQ(p.a.sa_count(), 0u);
  EXPECT_TRUE(p.a.drained());
  EXPECT_TRUE(p.dp_a.sas.empty());
  ASSERT_EQ(p.wire_a.queue.size(), 1u);  // the Delete of the ISAKMP SA, no Quick Mode
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.sa_count(), 0u);
  EXPECT_EQ(p.b.stats().drops.count("undecryptable"), 0u);
}

TEST(Ikev1MainMode, FinishShutdownRemovesAnSaWhoseMessageSixNeverCame) {
  Pair p;
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.b_to_a());
  }
  p.a.shutdown(p.now);
  ASSERT_FALSE(p.a.drained());
  p.wire_a.queue.clear();  // 5 lost
  p.a.finish_shutdown(p.now);
  EXPECT_EQ(p.a.sa_count(), 0u);
  EXPECT_TRUE(p.a.drained());
  EXPECT_TRUE(p.wire_a.queue.empty());  // nothing to say without phase 1's last IV
  // Nothing is negotiated any more.
  EXPECT_FALSE(p.a.initiate("legacy", "office", p.now));
}

TEST(Ikev1MainMode, AResponderStoppingBeforeMessageFiveForgetsTheSa) {
  // B stops while it waits for Main Mode 5: A cannot hold the SA as
  // established before B's 6, so B drops it at once and 5 finds nothing.
  Pair p;
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.b_to_a());
  }
  p.b.shutdown(p.now);
  EXPECT_TRUE(p.b.drained());  // B's state (MM_KE_SENT) is not one the peer can hold as established
  ASSERT_EQ(p.b.sa_count(), 0u);
  ASSERT_TRUE(p.a_to_b());  // 5, for an SA B no longer has
  EXPECT_EQ(p.b.stats().drops.at("unknown_cookies"), 1u);
  EXPECT_TRUE(p.wire_b.queue.empty());
}

// A restarted dataplane's withheld SAs, renewed in one call: the IPsec SA
// (named by both its ids) gets one new Quick Mode; an unknown id comes back.
TEST(Ikev1QuickMode, RenewingManyChannelIdsStartsOneQuickModePerIpsecSa) {
  Pair p;
  establish(p);
  ASSERT_EQ(p.dp_a.sas.size(), 2u);
  std::vector<std::uint64_t> ids;
  for (const auto& [id, sa] : p.dp_a.sas) ids.push_back(id);
  ids.push_back(987654321);
  EXPECT_EQ(p.a.renew_ipsec_sas(ids, "lost its outbound sequence number (test)", p.now),
            std::vector<std::uint64_t>{987654321});
  ASSERT_EQ(p.wire_a.queue.size(), 1u);  // one Quick Mode 1
  p.settle();
  EXPECT_EQ(p.a.stats().ipsec_sas_rekeyed, 1u);
  EXPECT_EQ(p.a.renew_ipsec_sas({987654321}, "again", p.now), std::vector<std::uint64_t>{987654321});
}

TEST(Ikev1QuickMode, RekeyIsMakeBeforeBreak) {
  // A renews 10-20 s in (rekey_time less up to half of it as jitter); the
  // new pair's own renewal then comes 10 s after it at the earliest, later
  // than the old pair's retirement 5 s after it.
  Spec a;
  a.child_rekey = "20s";
  a.child_life = "60s";
  Spec b = Spec{}.mirrored();
  b.child_rekey = "0s";  // only A renews
  b.child_life = "60s";
  Pair p(a, b);
  establish(p);
  ASSERT_EQ(p.dp_a.sas.size(), 2u);
  const auto old_out = p.dp_a.find(channel::Direction::outbound)->sa_id;
  std::uint64_t out_policy = 0;
  for (const auto& [id, pol] : p.dp_a.policies)
    if (pol.direction == channel::Direction::outbound) out_policy = id;
  p.now += 21s;
  p.a.tick(p.now);
  p.b.tick(p.now);
  ASSERT_EQ(p.wire_a.queue.size(), 1u);  // Quick Mode 1 renewing the pair
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());
  ASSERT_TRUE(p.a_to_b());
  // Both pairs installed; the one outbound policy (same id) now uses the new SA.
  ASSERT_EQ(p.dp_a.sas.size(), 4u);
  ASSERT_EQ(p.dp_b.sas.size(), 4u);
  int outbound = 0;
  for (const auto& [id, pol] : p.dp_a.policies) {
    if (pol.direction != channel::Direction::outbound) continue;
    ++outbound;
    EXPECT_EQ(id, out_policy);
    EXPECT_NE(pol.sa_id, old_out);
    EXPECT_TRUE(p.dp_a.sas.count(pol.sa_id));
  }
  EXPECT_EQ(outbound, 1);
  EXPECT_EQ(p.a.list().at(0).children.at(0).state, "REKEYED");
  EXPECT_EQ(p.a.stats().ipsec_sas_rekeyed, 1u);
  EXPECT_EQ(p.b.stats().ipsec_sas_rekeyed, 1u);
  // After the retire delay the old pair goes on both sides.
  p.now += 6s;
  p.a.tick(p.now);
  p.b.tick(p.now);
  while (p.a_to_b() || p.b_to_a()) {
  }
  expect_mirrored(p.dp_a, p.dp_b);
  EXPECT_NE(p.dp_a.find(channel::Direction::outbound)->sa_id, old_out);
  EXPECT_EQ(p.a.list().at(0).children.size(), 1u);
  EXPECT_EQ(p.b.list().at(0).children.size(), 1u);
}

// Both ends renew the same IPsec SA at once (their Quick Mode 1 cross):
// each ends with two new pairs. Both must keep the same one for traffic and
// the other must go, or each side retires the pair the other uses and the
// tunnel is left with none. The pair with the lowest of the four nonces is
// the redundant one (the rule of RFC 7296 §2.8.1), deleted by its initiator.
void renew_at_once(Pair& p, bool a_first) {
  const auto sa_a = p.a.list().at(0);
  const auto sa_b = p.b.list().at(0);
  std::string why;
  ASSERT_TRUE(p.a.rekey_ipsec(sa_a.id, sa_a.children.at(0).spi_in, p.now, &why)) << why;
  ASSERT_TRUE(p.b.rekey_ipsec(sa_b.id, sa_b.children.at(0).spi_in, p.now, &why)) << why;
  // Both Quick Mode 1 are on the wire before either is answered.
  if (a_first) {
    ASSERT_TRUE(p.a_to_b());  // A's 1: B answers 2
    ASSERT_TRUE(p.b_to_a());  // B's 1: A answers 2
  } else {
    ASSERT_TRUE(p.b_to_a());
    ASSERT_TRUE(p.a_to_b());
  }
  p.settle();
}

// Twice past retire_delay, Deletes delivered: every retired or redundant
// pair is gone; exactly one pair must be left, the same at both ends.
void expect_one_pair_once_retired(Pair& p) {
  for (int i = 0; i < 2; ++i) {
    p.now += 6s;
    p.tick();
    p.settle();
  }
  expect_mirrored(p.dp_a, p.dp_b);
  ASSERT_EQ(p.a.list().at(0).children.size(), 1u);
  ASSERT_EQ(p.b.list().at(0).children.size(), 1u);
  EXPECT_EQ(p.a.list().at(0).children[0].state, "QM_DONE");
  EXPECT_EQ(p.b.list().at(0).children[0].state, "QM_DONE");
}

void expect_one_pair_after_collision(Pair& p) {
  EXPECT_EQ(p.a.stats().ipsec_rekey_collisions, 1u);
  EXPECT_EQ(p.b.stats().ipsec_rekey_collisions, 1u);
  expect_one_pair_once_retired(p);
  // Each side's outbound policy leads into the pair the other receives on.
  const auto* out_a = p.dp_a.find(channel::Direction::outbound);
  ASSERT_EQ(p.dp_a.policies.size(), 2u);
  bool steered = false;
  for (const auto& [id, pol] : p.dp_a.policies) steered |= pol.sa_id == out_a->sa_id;
  EXPECT_TRUE(steered);
}

TEST(Ikev1QuickMode, BothEndsRenewingAtOnceKeepOnePairBetweenThem) {
  Pair p(Spec{}, Spec{}.mirrored());
  establish(p);
  renew_at_once(p, true);
  expect_one_pair_after_collision(p);
}

TEST(Ikev1QuickMode, BothEndsRenewingAtOnceKeepOnePairWhicheverIsAnsweredFirst) {
  Pair p(Spec{}, Spec{}.mirrored());
  establish(p);
  renew_at_once(p, false);
  expect_one_pair_after_collision(p);
}

// B starts its own renewal after answering A's, before A's message 3 comes:
// B's Quick Mode renews A's new pair, not the old one. Both ends must see
// it that way (no collision), or each deletes the pair the other keeps.
TEST(Ikev1QuickMode, ARenewalStartedAfterAnsweringTheOtherIsNoCollision) {
  Pair p(Spec{}, Spec{}.mirrored());
  establish(p);
  const auto sa_a = p.a.list().at(0);
  const auto sa_b = p.b.list().at(0);
  std::string why;
  ASSERT_TRUE(p.a.rekey_ipsec(sa_a.id, sa_a.children.at(0).spi_in, p.now, &why)) << why;
  ASSERT_TRUE(p.a_to_b());  // A's 1: B answers 2
  ASSERT_TRUE(p.b.rekey_ipsec(sa_b.id, sa_b.children.at(0).spi_in, p.now, &why)) << why;
  ASSERT_TRUE(p.b_to_a());  // B's 2: A installs its new pair, sends 3
  ASSERT_TRUE(p.b_to_a());  // B's 1 (renewing the old pair, as B sees it)
  p.settle();
  EXPECT_EQ(p.a.stats().ipsec_rekey_collisions, 0u);
  EXPECT_EQ(p.b.stats().ipsec_rekey_collisions, 0u);
  expect_one_pair_once_retired(p);
}

TEST(Ikev1QuickMode, AnIpsecSaThatIsNotRenewedExpires) {
  Spec a;
  a.child_rekey = "0s";
  a.child_life = "20s";
  Spec b = a.mirrored();
  Pair p(a, b);
  establish(p);
  ASSERT_EQ(p.dp_a.sas.size(), 2u);
  p.now += 21s;
  p.a.tick(p.now);
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_a.policies.empty());
  EXPECT_EQ(p.a.stats().ipsec_sas_expired, 1u);
  ASSERT_TRUE(p.a_to_b());  // its Delete
  EXPECT_TRUE(p.dp_b.sas.empty());
  EXPECT_EQ(p.a.sa_count(), 1u);  // the ISAKMP SA stays
}

// --- Aggressive Mode -------------------------------------------------------------------

Spec aggressive_spec() {
  Spec s;
  s.aggressive = true;
  return s;
}

TEST(Ikev1AggressiveMode, PskEstablishesInThreeMessagesThenQuickMode) {
  StateLog states;
  Pair p(aggressive_spec(), aggressive_spec().mirrored());
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  const auto m1 = parse(p.wire_a.queue.front());
  EXPECT_EQ(m1.header.exchange, v1::ExchangeType::aggressive);
  bool id_in_clear = false;
  for (const auto& pl : m1.payloads) id_in_clear |= pl.type == v1::PayloadType::id;
  EXPECT_TRUE(id_in_clear);  // what Aggressive Mode gives away
  ASSERT_TRUE(p.a_to_b());   // 1
  const auto m2 = parse(p.wire_b.queue.front());
  int natd = 0;
  for (const auto& pl : m2.payloads) natd += pl.type == v1::PayloadType::nat_d;
  EXPECT_EQ(natd, 2);
  ASSERT_TRUE(p.b_to_a());  // 2
  ASSERT_EQ(p.wire_a.queue.size(), 2u);  // 3, then Quick Mode 1 at once
  EXPECT_TRUE(codec::parse_header(p.wire_a.queue.front().bytes)->header.encrypted());
  ASSERT_TRUE(p.a_to_b());  // 3
  EXPECT_EQ(p.a.list().at(0).state, "AM_DONE");
  EXPECT_EQ(p.b.list().at(0).state, "AM_DONE");
  EXPECT_EQ(p.b.list().at(0).remote_id, "a.example.net");
  ASSERT_TRUE(p.a_to_b());  // Quick Mode 1
  ASSERT_TRUE(p.b_to_a());  // 2
  ASSERT_TRUE(p.a_to_b());  // 3
  expect_mirrored(p.dp_a, p.dp_b);
  auto has = [&](const std::string& step) {
    return std::any_of(states.lines.begin(), states.lines.end(),
                       [&](const std::string& l) { return l.find(step) != std::string::npos; });
  };
  for (const char* step : {"AM_IDLE -> AM_INIT_SENT", "AM_INIT_SENT -> AM_RESP_RCVD", "AM_RESP_RCVD -> AM_DONE",
                           "AM_IDLE -> AM_INIT_RCVD", "AM_INIT_RCVD -> AM_RESP_SENT", "AM_RESP_SENT -> AM_DONE"})
    EXPECT_TRUE(has(step)) << step;
}

TEST(Ikev1AggressiveMode, BehindANatMessageThreeGoesToPort4500) {
  Spec b = aggressive_spec().mirrored();
  b.remote_addrs = "%any";
  Pair p(aggressive_spec(), b);
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  ASSERT_TRUE(p.a_to_b(true));
  ASSERT_TRUE(p.b_to_a());
  ASSERT_FALSE(p.wire_a.queue.empty());
  EXPECT_EQ(p.wire_a.queue.front().local.port, 4500);
  EXPECT_EQ(p.wire_a.queue.front().remote.port, 4500);
  ASSERT_TRUE(p.a_to_b(true));
  const auto lb = p.b.list().at(0);
  EXPECT_EQ(lb.state, "AM_DONE");
  EXPECT_TRUE(lb.nat_remote);
  EXPECT_EQ(lb.remote.port, 44500);
  EXPECT_TRUE(p.a.list().at(0).nat_local);
}

TEST(Ikev1AggressiveMode, OnlyConnectionsThatAskForItAcceptIt) {
  Pair p(aggressive_spec(), Spec{}.mirrored());  // B: Main Mode only
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.sa_count(), 0u);
  EXPECT_EQ(p.b.stats().notifies_sent.at("NO-PROPOSAL-CHOSEN"), 1u);
}

TEST(Ikev1AggressiveMode, DifferentPresharedKeysFailAtTheInitiator) {
  Spec wrong = aggressive_spec().mirrored();
  wrong.psk = "not the same secret at all, sorry";
  Pair p(aggressive_spec(), wrong);
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  ASSERT_TRUE(p.a_to_b());
  ASSERT_TRUE(p.b_to_a());  // HASH_R under B's key: A refuses it
  EXPECT_EQ(p.a.sa_count(), 0u);
  EXPECT_EQ(p.a.stats().phase1_failed, 1u);
  EXPECT_TRUE(p.wire_a.queue.empty());
  p.now += 31s;
  p.b.tick(p.now);
  EXPECT_EQ(p.b.sa_count(), 0u);  // B's half-open SA times out
}

TEST(Ikev1AggressiveMode, ALostMessageThreeIsRecoveredByTheResponder) {
  Pair p(aggressive_spec(), aggressive_spec().mirrored());
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  ASSERT_TRUE(p.a_to_b());  // 1
  ASSERT_TRUE(p.b_to_a());  // 2
  p.wire_a.queue.clear();   // 3 (and Quick Mode 1) lost
  EXPECT_EQ(p.b.list().at(0).state, "AM_RESP_SENT");
  p.now += 5s;
  p.b.tick(p.now);          // B sends message 2 again
  ASSERT_TRUE(p.b_to_a());  // A answers the repeat with message 3 again
  EXPECT_EQ(p.a.stats().duplicates, 1u);
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.list().at(0).state, "AM_DONE");
}

TEST(Ikev1AggressiveMode, AResponderShuttingDownWaitsForMessageThree) {
  // B sent Aggressive Mode 2 and stops: A, on sending 3, holds the SA as
  // established, so B waits for 3 and then deletes it with notice.
  Pair p(aggressive_spec(), aggressive_spec().mirrored());
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  ASSERT_TRUE(p.a_to_b());  // 1
  ASSERT_EQ(p.b.list().at(0).state, "AM_RESP_SENT");
  p.b.shutdown(p.now);
  EXPECT_EQ(p.b.sa_count(), 1u);
  EXPECT_FALSE(p.b.drained());
  ASSERT_TRUE(p.b_to_a());  // 2
  ASSERT_EQ(p.a.list().at(0).state, "AM_DONE");
  ASSERT_TRUE(p.a_to_b());  // 3: B is established and deletes at once
  EXPECT_EQ(p.b.sa_count(), 0u);
  EXPECT_TRUE(p.b.drained());
  p.settle();  // A's Quick Mode 1 finds no SA; B's Delete removes A's
  EXPECT_EQ(p.a.sa_count(), 0u);
  EXPECT_TRUE(p.dp_a.sas.empty());
}

TEST(Ikev1MainMode, AReplayedMessageOneAfterTheSaIsGoneStartsAfresh) {
  // Behind a NAT the responder's SA floats to 4500; once it is gone, the
  // old message 1 (from port 500) must not find a stale entry.
  Spec anywhere;
  anywhere.remote_addrs = "%any";
  Pair p({}, anywhere.mirrored());
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  Datagram first = p.wire_a.queue.front();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p.a_to_b(true));
    ASSERT_TRUE(p.b_to_a());
  }
  ASSERT_EQ(p.b.list().at(0).state, "MM_DONE");
  p.b.shutdown(p.now);
  ASSERT_EQ(p.b.sa_count(), 0u);
  first.local = {*net::IpAddress::parse("203.0.113.9"), 40500};
  p.b.receive(first.remote, first.local, first.bytes, p.now);
  EXPECT_EQ(p.b.sa_count(), 1u);
  EXPECT_EQ(p.b.list().at(0).state, "MM_SA_SENT");
}

}  // namespace
