// IKEv1 proposals (control/ikev1/proposal.h): swanctl proposal strings
// expanded into IKEv1 suites, written as SA payloads, chosen by a responder
// and checked by the initiator, through the real ISAKMP codec.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/config/proposal.h"
#include "common/ikev1/message.h"
#include "control/ikev1/proposal.h"

namespace {

using namespace corridor::control::ikev1;  // NOLINT: test brevity
using corridor::config::ProposalKind;
using corridor::iana::KeId;

std::vector<corridor::config::Proposal> proposals(std::initializer_list<const char*> texts, ProposalKind kind) {
  std::vector<corridor::config::Proposal> out;
  for (const char* t : texts) {
    auto r = corridor::config::parse_proposal(t, kind, {.allow_weak = true});
    EXPECT_TRUE(r.ok()) << t;
    out.insert(out.end(), r.proposals.begin(), r.proposals.end());
  }
  return out;
}

std::vector<Phase1Suite> ike(std::initializer_list<const char*> texts, std::uint32_t life = 10800) {
  auto s = phase1_suites(proposals(texts, ProposalKind::ike), v1::Phase1Auth::pre_shared_key, life);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : std::vector<Phase1Suite>{};
}

// What the peer's parser sees: the offer through the wire format.
codec::SecurityAssociation over_the_wire(const codec::SecurityAssociation& sa) {
  std::vector<codec::Payload> payloads{codec::Payload{v1::PayloadType::sa, sa}};
  auto bytes = codec::serialise_payloads(payloads);
  EXPECT_TRUE(bytes.ok());
  auto back = codec::parse_payloads(v1::PayloadType::sa, *bytes, false, 0);
  EXPECT_TRUE(back.ok()) << (back.ok() ? "" : back.error().message);
  return std::get<codec::SecurityAssociation>(back->at(0).body);
}

TEST(Ikev1Phase1Proposal, ExpandsEveryCombinationInConfigOrder) {
  auto suites = ike({"aes256-aes128-sha256-sha1-modp3072-modp2048"});
  ASSERT_EQ(suites.size(), 8u);
  EXPECT_EQ(suites[0].to_string(), "IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072");
  EXPECT_EQ(suites[1].to_string(), "IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048");
  EXPECT_EQ(suites[2].to_string(), "IKE:AES_CBC_256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_3072");
  EXPECT_EQ(suites[7].to_string(), "IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_2048");
  EXPECT_EQ(suites[0].life_seconds, 10800u);
}

TEST(Ikev1Phase1Proposal, AeadOnlyProposalsHaveNoIkev1Suite) {
  auto s = phase1_suites(proposals({"aes256gcm16-prfsha384-ecp384"}, ProposalKind::ike), v1::Phase1Auth::pre_shared_key, 0);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("IKEv1 needs AES-CBC or 3DES"), std::string::npos) << s.error().message;
}

TEST(Ikev1Phase1Proposal, ResponderPicksTheFirstConfiguredAndEchoesTheTransform) {
  const auto offered = ike({"aes256-sha256-modp3072", "aes128-sha1-modp2048"});
  const auto offer = over_the_wire(phase1_offer(offered));
  ASSERT_EQ(offer.proposals.size(), 1u);
  ASSERT_EQ(offer.proposals[0].transforms.size(), 2u);
  const auto configured = ike({"aes128-sha1-modp2048", "aes256-sha256-modp3072"});
  auto chosen = select_phase1(offer, configured);
  ASSERT_TRUE(chosen.ok()) << chosen.error().message;
  EXPECT_EQ(chosen->suite.to_string(), "IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_2048");
  ASSERT_EQ(chosen->reply.proposals.size(), 1u);
  EXPECT_EQ(chosen->reply.proposals[0].transforms[0], offer.proposals[0].transforms[1]);  // unchanged, number 2
  auto accepted = accept_phase1_reply(over_the_wire(chosen->reply), offered);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_TRUE(accepted->same_algorithms(chosen->suite));
  EXPECT_EQ(accepted->life_seconds, 10800u);
}

TEST(Ikev1Phase1Proposal, NoMatchNamesBothSides) {
  const auto offer = phase1_offer(ike({"aes256-sha256-modp3072"}));
  auto chosen = select_phase1(offer, ike({"aes128-sha1-modp2048"}));
  ASSERT_FALSE(chosen.ok());
  EXPECT_EQ(chosen.error().message,
            "no acceptable Phase 1 proposal: received IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072, "
            "configured IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_2048");
  // A different authentication method is a different suite.
  auto rsa = phase1_suites(proposals({"aes256-sha256-modp3072"}, ProposalKind::ike), v1::Phase1Auth::rsa_signatures, 0);
  EXPECT_FALSE(select_phase1(offer, *rsa).ok());
}

TEST(Ikev1Phase1Proposal, InitiatorRefusesWhatItDidNotOffer) {
  const auto offered = ike({"aes256-sha256-modp3072"});
  auto other = phase1_offer(ike({"aes128-sha1-modp2048"}));
  auto r = accept_phase1_reply(other, offered);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("which was not offered"), std::string::npos);
  auto two = phase1_offer(ike({"aes256-sha256-modp3072-modp2048"}));
  EXPECT_FALSE(accept_phase1_reply(two, ike({"aes256-sha256-modp3072-modp2048"})).ok());  // two transforms
}

TEST(Ikev1Phase1Proposal, TransformsWithUnknownOrMissingAttributesAreSkipped) {
  auto offer = phase1_offer(ike({"aes128-sha1-modp2048"}));
  auto& t = offer.proposals[0].transforms[0];
  auto unknown = t;
  unknown.attributes.push_back(codec::make_attribute(99, 1));
  EXPECT_FALSE(read_phase1_transform(unknown).ok());
  auto no_group = t;
  no_group.attributes.erase(no_group.attributes.begin() + 4);  // Group Description
  EXPECT_FALSE(read_phase1_transform(no_group).ok());
  auto md5 = t;
  md5.attributes[2].value = static_cast<std::uint16_t>(v1::Phase1Hash::md5);
  auto r = read_phase1_transform(md5);
  ASSERT_FALSE(r.ok());
  // Both lifetimes (seconds and kilobytes) may be given.
  auto lives = t;
  lives.attributes.push_back(codec::make_attribute(11, 2));
  lives.attributes.push_back(codec::make_attribute(12, 100000));
  auto both = read_phase1_transform(lives);
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(both->life_seconds, 10800u);
  // The skipped transform is named in the error.
  offer.proposals[0].transforms = {unknown};
  auto chosen = select_phase1(offer, ike({"aes128-sha1-modp2048"}));
  ASSERT_FALSE(chosen.ok());
  EXPECT_NE(chosen.error().message.find("transform 1 ignored: attribute class 99 is not supported"), std::string::npos)
      << chosen.error().message;
}

corridor::config::ChildConfig child(std::initializer_list<const char*> esp) {
  corridor::config::ChildConfig c;
  c.name = "office";
  c.esp_proposals = proposals(esp, ProposalKind::esp);
  c.life_time = corridor::config::Seconds(3960);
  return c;
}

TEST(Ikev1QuickModeProposal, OnePfsGroupForTheWholeOffer) {
  auto suites = phase2_suites(child({"aes256-sha256-modp2048", "aes128gcm16-modp2048", "aes128-sha1"}), true);
  ASSERT_TRUE(suites.ok()) << suites.error().message;
  ASSERT_EQ(suites->size(), 2u);  // "aes128-sha1" has no PFS: left out
  EXPECT_EQ((*suites)[0].to_string(), "ESP:AES_CBC_256/HMAC_SHA2_256_128/MODP_2048/NO_EXT_SEQ");
  EXPECT_EQ((*suites)[1].to_string(), "ESP:AES_GCM_16_128/MODP_2048/NO_EXT_SEQ");
  EXPECT_EQ((*suites)[0].mode, v1::EncapsulationMode::udp_tunnel);
  EXPECT_EQ((*suites)[1].life_seconds, 3960u);
  EXPECT_EQ(*(*suites)[0].keymat_size(), 64u);  // 32 + 32
  EXPECT_EQ(*(*suites)[1].keymat_size(), 20u);  // 16 + 4 salt
  const auto c = (*suites)[1].child_suite();
  EXPECT_EQ(c.encryption, 20);
  EXPECT_EQ(c.key_bits, 128);
  EXPECT_EQ(c.integrity, 0);
  EXPECT_EQ((*suites)[0].child_suite().integrity, 12);  // AUTH_HMAC_SHA2_256_128
}

TEST(Ikev1QuickModeProposal, SelectAndAcceptWithSpis) {
  auto offered = *phase2_suites(child({"aes256-sha256-modp2048", "aes128gcm16-modp2048"}), false);
  auto offer = over_the_wire(phase2_offer(offered, 0xc1c2c3c4));
  EXPECT_EQ(offer.proposals[0].protocol, v1::ProtocolId::esp);
  auto configured = *phase2_suites(child({"aes128gcm16-modp2048"}), false);
  configured[0].life_seconds = 1200;
  auto chosen = select_phase2(offer, configured);
  ASSERT_TRUE(chosen.ok()) << chosen.error().message;
  EXPECT_EQ(chosen->peer_spi, 0xc1c2c3c4u);
  EXPECT_EQ(chosen->suite.life_seconds, 1200u);  // the shorter of 3960 and 1200
  auto reply = over_the_wire(chosen->with_spi(0xd1d2d3d4));
  auto accepted = accept_phase2_reply(reply, offered);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->peer_spi, 0xd1d2d3d4u);
  EXPECT_EQ(accepted->suite.to_string(), "ESP:AES_GCM_16_128/MODP_2048/NO_EXT_SEQ");
  EXPECT_FALSE(accepted->suite.udp_encapsulated());
}

TEST(Ikev1QuickModeProposal, ModeAndNatMustAgree) {
  auto offer = phase2_offer(*phase2_suites(child({"aes128-sha256"}), true), 1000);
  auto plain = *phase2_suites(child({"aes128-sha256"}), false);
  EXPECT_FALSE(select_phase2(offer, plain).ok());  // UDP-encapsulated offered, plain configured
  auto udp = *phase2_suites(child({"aes128-sha256"}), true);
  EXPECT_TRUE(select_phase2(offer, udp).ok());
}

TEST(Ikev1QuickModeProposal, BundlesAndBadTransformsAreRefused) {
  auto offer = phase2_offer(*phase2_suites(child({"aes128-sha256"}), false), 1000);
  auto bundle = offer;
  bundle.proposals.push_back(bundle.proposals[0]);  // same number: AH+ESP style bundle
  auto r = select_phase2(bundle, *phase2_suites(child({"aes128-sha256"}), false));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("SA bundles are not supported"), std::string::npos);
  auto gcm_with_auth = offer.proposals[0].transforms[0];
  gcm_with_auth.id = static_cast<std::uint8_t>(v1::EspTransform::aes_gcm_16);
  EXPECT_FALSE(read_phase2_transform(v1::ProtocolId::esp, gcm_with_auth).ok());
  auto dup = offer.proposals[0].transforms[0];
  dup.attributes.push_back(codec::make_attribute(5, 2));  // a second Authentication Algorithm
  EXPECT_FALSE(read_phase2_transform(v1::ProtocolId::esp, dup).ok());
}

TEST(Ikev1QuickModeProposal, AhSuites) {
  corridor::config::ChildConfig c;
  c.ah_proposals = proposals({"sha256-sha1"}, ProposalKind::ah);
  auto suites = phase2_suites(c, false);
  ASSERT_TRUE(suites.ok()) << suites.error().message;
  ASSERT_EQ(suites->size(), 2u);
  EXPECT_EQ((*suites)[0].protocol, v1::ProtocolId::ah);
  EXPECT_EQ((*suites)[0].transform_id, static_cast<std::uint8_t>(v1::AhTransform::sha2_256));
  auto offer = over_the_wire(phase2_offer(*suites, 77777));
  auto chosen = select_phase2(offer, *suites);
  ASSERT_TRUE(chosen.ok()) << chosen.error().message;
  EXPECT_EQ(*chosen->suite.keymat_size(), 32u);
}

// RFC 2407 §4.6.3.1: the responder says when its lifetime is shorter than
// the offer's, the initiator adopts it, and nothing ever lengthens one.
TEST(Ikev1QuickModeProposal, ResponderLifetimeShortensAndOnlyShortens) {
  auto offered = *phase2_suites(child({"aes128gcm16"}), false);
  offered[0].life_kilobytes = 4000000;
  auto offer = over_the_wire(phase2_offer(offered, 0xc1c2c3c4));
  auto configured = *phase2_suites(child({"aes128gcm16"}), false);

  // Same lifetimes: no notification.
  configured[0].life_kilobytes = 4000000;
  auto same = select_phase2(offer, configured);
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_FALSE(responder_lifetime(*same, 0xd1d2d3d4).has_value());

  // Ours shorter in both: the notification carries both, with our SPI.
  configured[0].life_seconds = 1200;
  configured[0].life_kilobytes = 50000;
  auto shorter = select_phase2(offer, configured);
  ASSERT_TRUE(shorter.ok()) << shorter.error().message;
  EXPECT_EQ(shorter->suite.life_seconds, 1200u);
  EXPECT_EQ(shorter->suite.life_kilobytes, 50000u);
  const auto n = responder_lifetime(*shorter, 0xd1d2d3d4);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->type, v1::NotifyType::responder_lifetime);
  EXPECT_EQ(n->protocol, v1::ProtocolId::esp);
  EXPECT_EQ(n->spi, (codec::Bytes{0xd1, 0xd2, 0xd3, 0xd4}));
  auto attributes = codec::parse_attributes(n->data);
  ASSERT_TRUE(attributes.ok()) << attributes.error().message;
  ASSERT_EQ(attributes->size(), 4u);  // type seconds, 1200, type kilobytes, 50000
  EXPECT_EQ(*(*attributes)[1].integer(), 1200u);
  EXPECT_EQ(*(*attributes)[3].integer(), 50000u);

  // The initiator: what it offered, shortened by the notification.
  auto adopted = apply_responder_lifetime(*n, offered[0]);
  ASSERT_TRUE(adopted.ok()) << adopted.error().message;
  EXPECT_EQ(adopted->life_seconds, 1200u);
  EXPECT_EQ(adopted->life_kilobytes, 50000u);
  // A longer lifetime in the notification does not lengthen ours.
  Phase2Suite tight = offered[0];
  tight.life_seconds = 600;
  tight.life_kilobytes = 1000;
  auto kept = apply_responder_lifetime(*n, tight);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->life_seconds, 600u);
  EXPECT_EQ(kept->life_kilobytes, 1000u);

  // Malformed: an attribute running past the data; a duration without a type.
  codec::Notification bad = *n;
  bad.data.pop_back();
  EXPECT_FALSE(apply_responder_lifetime(bad, offered[0]).ok());
  auto orphan = codec::serialise_attributes({codec::make_attribute(2, 99)});
  ASSERT_TRUE(orphan.ok());
  bad.data = *orphan;
  const auto refused = apply_responder_lifetime(bad, offered[0]);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("without a known Life Type"), std::string::npos);
}

// A peer that imposes a lifetime of a few seconds would have every pair
// renewed at once, forever: below 10 s it is refused, in an offer, a reply
// or a RESPONDER-LIFETIME. Our own short lifetime stands.
TEST(Ikev1QuickModeProposal, APeersLifetimeBelowTenSecondsIsRefused) {
  auto offered = *phase2_suites(child({"aes128gcm16"}), false);
  offered[0].life_seconds = 5;
  auto configured = *phase2_suites(child({"aes128gcm16"}), false);
  auto refused = select_phase2(over_the_wire(phase2_offer(offered, 1000)), configured);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("5 s is below the 10 s"), std::string::npos) << refused.error().message;
  configured[0].life_seconds = 5;  // ours is as short: no one imposes anything
  EXPECT_TRUE(select_phase2(over_the_wire(phase2_offer(offered, 1000)), configured).ok());

  codec::Notification n;
  n.type = v1::NotifyType::responder_lifetime;
  auto data = codec::serialise_attributes({codec::make_attribute(1, 1), codec::make_attribute(2, 3)});
  ASSERT_TRUE(data.ok());
  n.data = *data;
  const auto short_rl = apply_responder_lifetime(n, (*phase2_suites(child({"aes128gcm16"}), false))[0]);
  ASSERT_FALSE(short_rl.ok());
  EXPECT_NE(short_rl.error().message.find("RESPONDER-LIFETIME: the peer's IPsec SA lifetime of 3 s"), std::string::npos)
      << short_rl.error().message;
}

}  // namespace
