// Proposal selection against what strongSwan peers send: the default IKE
// proposals (Corridor's "default", which mirrors strongSwan 5.9.8's
// swanctl default restricted to what Corridor implements) against the
// configs operators write, ESP with and without ESN and PFS, malformed
// offers, and the initiator's check of a response.
#include "control/ike/proposal_select.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/config/proposal.h"

namespace corridor::control::ike {
namespace {

namespace wire = corridor::ike;
using config::ProposalKind;
using iana::ProtocolId;
using iana::TransformType;

std::vector<config::Proposal> parse(const std::string& text, ProposalKind kind) {
  const auto result = config::parse_proposal(text, kind);
  EXPECT_TRUE(result.ok()) << text << ": " << (result.errors.empty() ? "" : result.errors[0].message);
  return result.proposals;
}

std::vector<config::Proposal> parse_all(const std::vector<std::string>& texts, ProposalKind kind) {
  std::vector<config::Proposal> out;
  for (const auto& text : texts) {
    const auto one = parse(text, kind);
    out.insert(out.end(), one.begin(), one.end());
  }
  return out;
}

const std::vector<std::uint8_t> kNoSpi;
const std::vector<std::uint8_t> kEspSpi = {0xc1, 0x2a, 0x00, 0x01};
const std::vector<std::uint8_t> kOwnSpi = {0xd0, 0x0d, 0x00, 0x02};
const std::vector<std::uint8_t> kIkeSpi = {1, 2, 3, 4, 5, 6, 7, 8};

// What a strongSwan initiator with default IKE proposals sends.
wire::SecurityAssociation default_ike_offer() {
  return to_sa_payload(parse("default", ProposalKind::ike), ProtocolId::ike, kNoSpi, SelectFor::ike_sa_init);
}

wire::SecurityAssociation ike_offer(const std::vector<std::string>& texts) {
  return to_sa_payload(parse_all(texts, ProposalKind::ike), ProtocolId::ike, kNoSpi, SelectFor::ike_sa_init);
}

wire::SecurityAssociation esp_offer(const std::vector<std::string>& texts,
                                    SelectFor context = SelectFor::create_child) {
  return to_sa_payload(parse_all(texts, ProposalKind::esp), ProtocolId::esp, kEspSpi, context);
}

SelectExpected<Selected> select_ike(const wire::SecurityAssociation& offered, const std::string& config,
                                    std::optional<iana::KeId> prefer = std::nullopt) {
  const auto configured = parse(config, ProposalKind::ike);
  return select_proposal(offered, configured, ProtocolId::ike, SelectFor::ike_sa_init, prefer);
}

SelectExpected<Selected> select_esp(const wire::SecurityAssociation& offered, const std::string& config,
                                    SelectFor context = SelectFor::create_child) {
  const auto configured = parse(config, ProposalKind::esp);
  return select_proposal(offered, configured, ProtocolId::esp, context);
}

wire::Transform transform(TransformType type, std::uint16_t id, std::uint16_t key_bits = 0) {
  wire::Transform t;
  t.type = type;
  t.id = id;
  if (key_bits != 0) t.attributes.push_back({iana::kAttributeKeyLength, true, key_bits, {}});
  return t;
}

int count_type(const wire::Proposal& proposal, TransformType type) {
  int n = 0;
  for (const auto& t : proposal.transforms) n += t.type == type ? 1 : 0;
  return n;
}

// --- strongSwan's default offer against typical configs ---------------------------------

TEST(SelectProposal, DefaultOfferAgainstAes256Gcm16PrfSha384Ecp384) {
  const auto selected = select_ike(default_ike_offer(), "aes256gcm16-prfsha384-ecp384");
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(selected->proposal.number, 2);  // the AEAD proposal
  EXPECT_EQ(selected->encryption, static_cast<std::uint16_t>(iana::EncrId::aes_gcm_16));
  EXPECT_EQ(selected->key_bits, 256);
  EXPECT_EQ(selected->integrity, 0);
  EXPECT_EQ(selected->prf, iana::PrfId::hmac_sha2_384);
  EXPECT_EQ(selected->key_exchange, iana::KeId::ecp384);
  EXPECT_EQ(selected->to_string(), "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384");
  // Exactly one transform per type, and no INTEG with AEAD.
  ASSERT_EQ(selected->proposal.transforms.size(), 3U);
  EXPECT_EQ(selected->proposal.transforms[0], transform(TransformType::encryption, 20, 256));
  EXPECT_EQ(count_type(selected->proposal, TransformType::integrity), 0);
  EXPECT_TRUE(selected->proposal.spi.empty());

  const auto suite = selected->ike_suite();
  EXPECT_EQ(suite.encryption, 20);
  EXPECT_EQ(suite.key_bits, 256);
  EXPECT_EQ(suite.integrity, 0);
  EXPECT_EQ(suite.prf, iana::PrfId::hmac_sha2_384);
}

TEST(SelectProposal, DefaultOfferAgainstAes128Sha256Modp3072) {
  const auto selected = select_ike(default_ike_offer(), "aes128-sha256-modp3072");
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(selected->proposal.number, 1);  // the classic proposal
  EXPECT_EQ(selected->to_string(), "IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072");
  EXPECT_EQ(selected->integrity, static_cast<std::uint16_t>(iana::IntegId::hmac_sha2_256_128));
  EXPECT_EQ(selected->prf, iana::PrfId::hmac_sha2_256);  // derived from sha256, as strongSwan does
  EXPECT_EQ(selected->key_exchange, iana::KeId::modp3072);
  // Wire order ENCR, PRF, INTEG, KE.
  ASSERT_EQ(selected->proposal.transforms.size(), 4U);
  EXPECT_EQ(selected->proposal.transforms[1].type, TransformType::prf);
  EXPECT_EQ(selected->proposal.transforms[2].type, TransformType::integrity);
}

TEST(SelectProposal, DefaultOfferAgainstChacha20Poly1305PrfSha256X25519) {
  const auto selected = select_ike(default_ike_offer(), "chacha20poly1305-prfsha256-x25519");
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(selected->proposal.number, 2);
  EXPECT_EQ(selected->to_string(), "IKE:CHACHA20_POLY1305/PRF_HMAC_SHA2_256/CURVE_25519");
  EXPECT_EQ(selected->key_bits, 0);
  // RFC 7634: no Key Length attribute.
  EXPECT_TRUE(selected->proposal.transforms[0].attributes.empty());
  EXPECT_EQ(selected->key_exchange, iana::KeId::curve25519);
}

TEST(SelectProposal, DescribesTheDefaultOfferAsStrongSwanLogsIt) {
  EXPECT_EQ(describe(default_ike_offer()),
            "IKE:AES_CBC_128/AES_CBC_192/AES_CBC_256/HMAC_SHA2_256_128/HMAC_SHA2_384_192/HMAC_SHA2_512_256/"
            "PRF_HMAC_SHA2_256/PRF_HMAC_SHA2_384/PRF_HMAC_SHA2_512/CURVE_25519/ECP_256/ECP_384/ECP_521/"
            "CURVE_448/MODP_3072/MODP_4096/MODP_2048, "
            "IKE:AES_GCM_16_128/AES_GCM_16_256/CHACHA20_POLY1305/PRF_HMAC_SHA2_256/PRF_HMAC_SHA2_384/"
            "PRF_HMAC_SHA2_512/CURVE_25519/ECP_256/ECP_384/ECP_521/CURVE_448/MODP_3072/MODP_4096/MODP_2048");
}

TEST(SelectProposal, DescribeUsesStrongSwanNamesForOddTransforms) {
  wire::Proposal p;
  p.protocol = ProtocolId::ike;
  p.transforms = {transform(TransformType::encryption, 3),          // 3DES
                  transform(TransformType::integrity, 2),           // HMAC_SHA1_96
                  transform(TransformType::prf, 2),                 // PRF_HMAC_SHA1
                  transform(TransformType::key_exchange, 2),        // MODP_1024
                  transform(static_cast<TransformType>(6), 19),     // RFC 9370 ADDKE1
                  transform(TransformType::encryption, 1031, 128),  // private use
                  transform(static_cast<TransformType>(200), 7)};
  EXPECT_EQ(describe(p),
            "IKE:3DES_CBC/(1031)_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024/KE1_ECP_256/UNKNOWN_200_7");
  wire::Proposal esp;
  esp.protocol = ProtocolId::esp;
  esp.transforms = {transform(TransformType::encryption, 21, 128), transform(TransformType::integrity, 0),
                    transform(TransformType::key_exchange, 0), transform(TransformType::esn, 1)};
  EXPECT_EQ(describe(esp), "ESP:NULL_AES_GMAC_128/NONE/MODP_NONE/EXT_SEQ");
}

// --- mismatches and their one-line message -------------------------------------------------

TEST(SelectProposal, MismatchNamesBothSidesInStrongSwanSpelling) {
  const auto selected = select_ike(ike_offer({"aes256-sha256-modp3072"}), "aes256gcm16-prfsha384-ecp384");
  ASSERT_FALSE(selected.ok());
  EXPECT_EQ(selected.error().message,
            "no acceptable proposal: received IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072, "
            "configured IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384");
  EXPECT_EQ(selected.error().message.find('\n'), std::string::npos);
}

TEST(SelectProposal, KeyLengthMustMatch) {
  const auto selected = select_ike(ike_offer({"aes128-sha256-modp3072"}), "aes256-sha256-modp3072");
  ASSERT_FALSE(selected.ok());
  EXPECT_NE(selected.error().message.find("received IKE:AES_CBC_128/"), std::string::npos);
  EXPECT_NE(selected.error().message.find("configured IKE:AES_CBC_256/"), std::string::npos);
  // The same algorithms with the same length do match.
  EXPECT_TRUE(select_ike(ike_offer({"aes256-sha256-modp3072"}), "aes256-sha256-modp3072").ok());
}

TEST(SelectProposal, AeadAndClassicDoNotMatchEachOther) {
  EXPECT_FALSE(select_ike(ike_offer({"aes256-sha384-ecp384"}), "aes256gcm16-prfsha384-ecp384").ok());
  EXPECT_FALSE(select_ike(ike_offer({"aes256gcm16-prfsha384-ecp384"}), "aes256-sha384-ecp384").ok());
}

TEST(SelectProposal, GroupMismatchIsNoMatch) {
  const auto selected = select_ike(ike_offer({"aes256gcm16-prfsha384-ecp256"}), "aes256gcm16-prfsha384-ecp384");
  ASSERT_FALSE(selected.ok());
  EXPECT_NE(selected.error().message.find("ECP_256"), std::string::npos);
}

TEST(SelectProposal, AeadOfferWithIntegNoneGetsNoneBack) {
  wire::SecurityAssociation offer;
  wire::Proposal p;
  p.protocol = ProtocolId::ike;
  p.transforms = {transform(TransformType::encryption, 20, 256), transform(TransformType::prf, 6),
                  transform(TransformType::integrity, 0), transform(TransformType::key_exchange, 20)};
  offer.proposals.push_back(p);
  const auto selected = select_ike(offer, "aes256gcm16-prfsha384-ecp384");
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(selected->integrity, 0);
  ASSERT_EQ(count_type(selected->proposal, TransformType::integrity), 1);
  EXPECT_EQ(selected->proposal.transforms.size(), 4U);
}

// --- preference -------------------------------------------------------------------------------

TEST(SelectProposal, ResponderOrderWins) {
  const auto offer = ike_offer({"aes128-sha256-modp3072", "aes256gcm16-prfsha384-ecp384"});
  const auto configured = parse_all({"aes256gcm16-prfsha384-ecp384", "aes128-sha256-modp3072"}, ProposalKind::ike);
  const auto selected = select_proposal(offer, configured, ProtocolId::ike, SelectFor::ike_sa_init);
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(selected->proposal.number, 2);
  EXPECT_EQ(selected->to_string(), "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384");
}

TEST(SelectProposal, ResponderOrderWinsWithinAType) {
  const auto selected = select_ike(ike_offer({"aes128-aes256-sha256-sha512-modp2048-ecp256"}),
                                   "aes256-aes128-sha512-sha256-ecp256-modp2048");
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(selected->to_string(), "IKE:AES_CBC_256/HMAC_SHA2_512_256/PRF_HMAC_SHA2_512/ECP_256");
}

TEST(SelectProposal, PreferredKeGroupAvoidsTheRetry) {
  const auto offer = default_ike_offer();
  const auto plain = select_ike(offer, "aes128-sha256-x25519-ecp256");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->key_exchange, iana::KeId::curve25519);
  // strongSwan's choice: the peer sent a KE payload for ECP_256, we selected
  // CURVE_25519 -> INVALID_KE_PAYLOAD(CURVE_25519).
  EXPECT_EQ(group_for_retry(*plain, iana::KeId::ecp256), iana::KeId::curve25519);
  EXPECT_EQ(group_for_retry(*plain, std::nullopt), iana::KeId::curve25519);
  EXPECT_EQ(group_for_retry(*plain, iana::KeId::curve25519), std::nullopt);

  const auto preferred = select_ike(offer, "aes128-sha256-x25519-ecp256", iana::KeId::ecp256);
  ASSERT_TRUE(preferred.ok());
  EXPECT_EQ(preferred->key_exchange, iana::KeId::ecp256);
  EXPECT_EQ(group_for_retry(*preferred, iana::KeId::ecp256), std::nullopt);
  // A preferred group the config does not allow changes nothing.
  const auto other = select_ike(offer, "aes128-sha256-x25519-ecp256", iana::KeId::modp3072);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->key_exchange, iana::KeId::curve25519);
}

// --- malformed and unusual offers ------------------------------------------------------------

TEST(SelectProposal, UnknownTransformTypeSkipsOnlyThatProposal) {
  auto offer = ike_offer({"aes256gcm16-prfsha384-ecp384", "aes256gcm16-prfsha384-ecp384"});
  offer.proposals[0].transforms.push_back(transform(static_cast<TransformType>(6), 36));  // ADDKE1 ML-KEM-768
  const auto selected = select_ike(offer, "aes256gcm16-prfsha384-ecp384");
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(selected->proposal.number, 2);

  offer.proposals.pop_back();
  const auto failed = select_ike(offer, "aes256gcm16-prfsha384-ecp384");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("KE1_ML_KEM_768"), std::string::npos) << failed.error().message;
  EXPECT_NE(failed.error().message.find("received proposal 1 ignored: transform type 6 (ADDKE1) not supported"),
            std::string::npos)
      << failed.error().message;
}

TEST(SelectProposal, TransformWithUnknownAttributeIsSkipped) {
  auto offer = ike_offer({"aes256-aes128-sha256-modp3072"});
  offer.proposals[0].transforms[0].attributes.push_back({0x0777, true, 1, {}});  // on AES_CBC_256
  EXPECT_FALSE(select_ike(offer, "aes256-sha256-modp3072").ok());
  const auto selected = select_ike(offer, "aes256-aes128-sha256-modp3072");
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(selected->key_bits, 128);
}

TEST(SelectProposal, ProposalMissingAConfiguredTypeDoesNotMatch) {
  auto offer = ike_offer({"aes256gcm16-prfsha384-ecp384"});
  auto& transforms = offer.proposals[0].transforms;
  std::erase_if(transforms, [](const wire::Transform& t) { return t.type == TransformType::key_exchange; });
  EXPECT_FALSE(select_ike(offer, "aes256gcm16-prfsha384-ecp384").ok());
}

TEST(SelectProposal, PrfInAnEspProposalMakesItUnacceptable) {
  auto offer = esp_offer({"aes256gcm16"});
  offer.proposals[0].transforms.push_back(transform(TransformType::prf, 5));
  const auto selected = select_esp(offer, "aes256gcm16");
  ASSERT_FALSE(selected.ok());
  EXPECT_NE(selected.error().message.find("not negotiated by ESP"), std::string::npos) << selected.error().message;
}

TEST(SelectProposal, IkeRekeyNeedsAnEightByteSpi) {
  const auto configured = parse("aes256gcm16-prfsha384-ecp384", ProposalKind::ike);
  const auto rekey = to_sa_payload(configured, ProtocolId::ike, kIkeSpi, SelectFor::create_child);
  const auto selected = select_proposal(rekey, configured, ProtocolId::ike, SelectFor::create_child);
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(selected->proposal.spi, kIkeSpi);

  const auto initial = to_sa_payload(configured, ProtocolId::ike, kNoSpi, SelectFor::ike_sa_init);
  const auto wrong = select_proposal(initial, configured, ProtocolId::ike, SelectFor::create_child);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("SPI of 0 bytes, 8 expected"), std::string::npos) << wrong.error().message;
  // And IKE_SA_INIT takes no SPI.
  EXPECT_FALSE(select_proposal(rekey, configured, ProtocolId::ike, SelectFor::ike_sa_init).ok());
}

TEST(SelectProposal, OtherProtocolsProposalsAreNotCandidates) {
  const auto ah = to_sa_payload(parse("sha256", ProposalKind::ah), ProtocolId::ah, kEspSpi);
  const auto selected = select_esp(ah, "aes256gcm16");
  ASSERT_FALSE(selected.ok());
  EXPECT_NE(selected.error().message.find("received AH:HMAC_SHA2_256_128/NO_EXT_SEQ"), std::string::npos)
      << selected.error().message;
  EXPECT_FALSE(select_proposal(ah, parse("sha256", ProposalKind::ah), ProtocolId::ah, SelectFor::ike_sa_init).ok());
}

TEST(SelectProposal, NothingConfiguredForTheProtocolIsSaid) {
  const auto ike_only = parse("aes256gcm16-prfsha384-ecp384", ProposalKind::ike);
  const auto selected =
      select_proposal(esp_offer({"aes256gcm16"}), ike_only, ProtocolId::esp, SelectFor::create_child);
  ASSERT_FALSE(selected.ok());
  EXPECT_NE(selected.error().message.find("no ESP proposals are configured"), std::string::npos);
}

// --- ESP: ESN and PFS -----------------------------------------------------------------------

TEST(SelectProposal, EspWithoutEsnKeywordNegotiatesNoEsn) {
  const auto selected = select_esp(esp_offer({"aes256gcm16-esn-noesn"}), "aes256gcm16");
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_FALSE(selected->esn);
  EXPECT_EQ(selected->to_string(), "ESP:AES_GCM_16_256/NO_EXT_SEQ");
  EXPECT_EQ(selected->proposal.spi, kEspSpi);  // the peer's SPI
  EXPECT_EQ(selected->for_response(kOwnSpi).spi, kOwnSpi);
  EXPECT_EQ(selected->for_response(kOwnSpi).transforms, selected->proposal.transforms);
  const auto suite = selected->child_suite();
  EXPECT_EQ(suite.encryption, 20);
  EXPECT_EQ(suite.key_bits, 256);
  EXPECT_EQ(suite.integrity, 0);
}

TEST(SelectProposal, EspWithEsn) {
  const auto selected = select_esp(esp_offer({"aes256-sha256-esn"}), "aes256-sha256-esn");
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_TRUE(selected->esn);
  EXPECT_EQ(selected->to_string(), "ESP:AES_CBC_256/HMAC_SHA2_256_128/EXT_SEQ");
  EXPECT_EQ(selected->child_suite().integrity, static_cast<std::uint16_t>(iana::IntegId::hmac_sha2_256_128));
}

TEST(SelectProposal, EsnOnlyOfferAgainstNoEsnConfigFails) {
  const auto selected = select_esp(esp_offer({"aes256gcm16-esn"}), "aes256gcm16");
  ASSERT_FALSE(selected.ok());
  EXPECT_NE(selected.error().message.find(
                "received ESP:AES_GCM_16_256/EXT_SEQ, configured ESP:AES_GCM_16_256/NO_EXT_SEQ"),
            std::string::npos)
      << selected.error().message;
}

TEST(SelectProposal, EspOfferWithoutEsnTransformFails) {
  auto offer = esp_offer({"aes256gcm16"});
  std::erase_if(offer.proposals[0].transforms, [](const wire::Transform& t) { return t.type == TransformType::esn; });
  EXPECT_FALSE(select_esp(offer, "aes256gcm16").ok());
}

TEST(SelectProposal, PfsInCreateChildSa) {
  // Both want ECP_384.
  auto selected = select_esp(esp_offer({"aes256gcm16-ecp384"}), "aes256gcm16-ecp384");
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(selected->key_exchange, iana::KeId::ecp384);
  EXPECT_EQ(selected->to_string(), "ESP:AES_GCM_16_256/ECP_384/NO_EXT_SEQ");
  EXPECT_EQ(group_for_retry(*selected, iana::KeId::ecp384), std::nullopt);
  EXPECT_EQ(group_for_retry(*selected, iana::KeId::ecp256), iana::KeId::ecp384);

  // The peer demands PFS, we do not do it.
  EXPECT_FALSE(select_esp(esp_offer({"aes256gcm16-ecp384"}), "aes256gcm16").ok());
  // The peer makes PFS optional: no PFS, KE NONE in the answer.
  selected = select_esp(esp_offer({"aes256gcm16-ecp384-modpnone"}), "aes256gcm16");
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(selected->key_exchange, std::nullopt);
  ASSERT_EQ(count_type(selected->proposal, TransformType::key_exchange), 1);
  EXPECT_EQ(group_for_retry(*selected, iana::KeId::ecp384), std::nullopt);
  // We demand PFS, the peer offers none.
  EXPECT_FALSE(select_esp(esp_offer({"aes256gcm16"}), "aes256gcm16-ecp384").ok());
  // We make it optional.
  selected = select_esp(esp_offer({"aes256gcm16"}), "aes256gcm16-ecp384-modpnone");
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(selected->key_exchange, std::nullopt);
  EXPECT_EQ(count_type(selected->proposal, TransformType::key_exchange), 0);
}

TEST(SelectProposal, IkeAuthChildIgnoresKe) {
  // The SA payload an IKE_AUTH initiator sends has no KE transforms.
  const auto configured = parse("aes256gcm16-ecp384", ProposalKind::esp);
  const auto sent = to_sa_payload(configured, ProtocolId::esp, kEspSpi, SelectFor::ike_auth_child);
  EXPECT_EQ(count_type(sent.proposals[0], TransformType::key_exchange), 0);

  // A config with PFS still matches an offer without KE...
  auto selected = select_esp(sent, "aes256gcm16-ecp384", SelectFor::ike_auth_child);
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(selected->key_exchange, std::nullopt);
  // ...and an offer with a KE is answered without it.
  selected = select_esp(esp_offer({"aes256gcm16-ecp256"}), "aes256gcm16", SelectFor::ike_auth_child);
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_EQ(count_type(selected->proposal, TransformType::key_exchange), 0);
  EXPECT_EQ(selected->to_string(), "ESP:AES_GCM_16_256/NO_EXT_SEQ");
}

// --- the SA payload we send -------------------------------------------------------------------

TEST(ToSaPayload, NumbersProposalsAndCarriesEverything) {
  const auto sa = to_sa_payload(parse("default", ProposalKind::esp), ProtocolId::esp, kEspSpi);
  ASSERT_EQ(sa.proposals.size(), 2U);
  for (std::size_t i = 0; i < sa.proposals.size(); ++i) {
    EXPECT_EQ(sa.proposals[i].number, i + 1);
    EXPECT_EQ(sa.proposals[i].protocol, ProtocolId::esp);
    EXPECT_EQ(sa.proposals[i].spi, kEspSpi);
    EXPECT_EQ(count_type(sa.proposals[i], TransformType::esn), 1);
    EXPECT_EQ(count_type(sa.proposals[i], TransformType::prf), 0);
  }
  // AEAD first: AES-GCM with Key Length, ChaCha20-Poly1305 without.
  const auto& aead = sa.proposals[0].transforms;
  ASSERT_GE(aead.size(), 4U);
  EXPECT_EQ(aead[0], transform(TransformType::encryption, 20, 128));
  EXPECT_EQ(aead[1], transform(TransformType::encryption, 20, 256));
  EXPECT_EQ(aead[2], transform(TransformType::encryption, 28));
  EXPECT_EQ(aead.back(), transform(TransformType::esn, 0));
  EXPECT_EQ(describe(sa), "ESP:AES_GCM_16_128/AES_GCM_16_256/CHACHA20_POLY1305/NO_EXT_SEQ, "
                          "ESP:AES_CBC_128/AES_CBC_256/HMAC_SHA2_256_128/HMAC_SHA2_384_192/HMAC_SHA2_512_256/"
                          "NO_EXT_SEQ");
}

TEST(ToSaPayload, EspWithoutEsnGetsNoEsnAndOtherKindsAreLeftOut) {
  config::Proposal esp;
  esp.kind = ProposalKind::esp;
  esp.encryption = {{TransformType::encryption, 20, 256}};
  const std::vector<config::Proposal> mixed = {parse("aes256gcm16-prfsha384-ecp384", ProposalKind::ike)[0], esp};
  const auto sa = to_sa_payload(mixed, ProtocolId::esp, kEspSpi);
  ASSERT_EQ(sa.proposals.size(), 1U);
  EXPECT_EQ(sa.proposals[0].number, 1);
  EXPECT_EQ(describe(sa), "ESP:AES_GCM_16_256/NO_EXT_SEQ");
}

// --- initiator: the response ------------------------------------------------------------------

wire::SecurityAssociation one(const wire::Proposal& p) {
  wire::SecurityAssociation sa;
  sa.proposals.push_back(p);
  return sa;
}

TEST(AcceptResponse, AcceptsWhatAResponderSelected) {
  const auto sent = default_ike_offer();
  const auto chosen = select_ike(sent, "aes256gcm16-prfsha384-ecp384");
  ASSERT_TRUE(chosen.ok());
  const auto accepted = accept_response(sent, one(chosen->proposal), ProtocolId::ike);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->to_string(), "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384");
  EXPECT_EQ(accepted->encryption, 20);
  EXPECT_EQ(accepted->key_bits, 256);
  EXPECT_EQ(accepted->prf, iana::PrfId::hmac_sha2_384);
  EXPECT_EQ(accepted->key_exchange, iana::KeId::ecp384);
}

TEST(AcceptResponse, RejectsTwoProposals) {
  const auto sent = default_ike_offer();
  const auto chosen = select_ike(sent, "aes256gcm16-prfsha384-ecp384");
  ASSERT_TRUE(chosen.ok());
  auto response = one(chosen->proposal);
  response.proposals.push_back(chosen->proposal);
  response.proposals[1].number = 2;
  const auto accepted = accept_response(sent, response, ProtocolId::ike);
  ASSERT_FALSE(accepted.ok());
  EXPECT_NE(accepted.error().message.find("2 proposals"), std::string::npos) << accepted.error().message;
}

TEST(AcceptResponse, RejectsATransformWeDidNotSend) {
  const auto sent = ike_offer({"aes128-sha256-modp3072"});
  wire::Proposal p;
  p.number = 1;
  p.protocol = ProtocolId::ike;
  p.transforms = {transform(TransformType::encryption, 12, 256), transform(TransformType::prf, 5),
                  transform(TransformType::integrity, 12), transform(TransformType::key_exchange, 15)};
  const auto accepted = accept_response(sent, one(p), ProtocolId::ike);
  ASSERT_FALSE(accepted.ok());
  EXPECT_NE(accepted.error().message.find("AES_CBC_256 was not offered in proposal 1"), std::string::npos)
      << accepted.error().message;
  EXPECT_NE(accepted.error().message.find("sent IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072"),
            std::string::npos)
      << accepted.error().message;
  // With the key length we sent it is fine.
  p.transforms[0] = transform(TransformType::encryption, 12, 128);
  EXPECT_TRUE(accept_response(sent, one(p), ProtocolId::ike).ok());
  // A transform from another proposal we sent is not.
  const auto two = ike_offer({"aes128-sha256-modp3072", "aes256-sha256-modp3072"});
  p.transforms[0] = transform(TransformType::encryption, 12, 256);
  EXPECT_FALSE(accept_response(two, one(p), ProtocolId::ike).ok());
  p.number = 2;
  EXPECT_TRUE(accept_response(two, one(p), ProtocolId::ike).ok());
}

TEST(AcceptResponse, RejectsAProposalNumberWeNeverSent) {
  const auto sent = ike_offer({"aes128-sha256-modp3072"});
  const auto chosen = select_ike(sent, "aes128-sha256-modp3072");
  ASSERT_TRUE(chosen.ok());
  auto p = chosen->proposal;
  p.number = 3;
  const auto accepted = accept_response(sent, one(p), ProtocolId::ike);
  ASSERT_FALSE(accepted.ok());
  EXPECT_NE(accepted.error().message.find("proposal number 3 was never sent"), std::string::npos)
      << accepted.error().message;
}

TEST(AcceptResponse, RejectsAWrongSpiSize) {
  const auto sent = esp_offer({"aes256gcm16"});
  const auto chosen = select_esp(sent, "aes256gcm16");
  ASSERT_TRUE(chosen.ok());
  EXPECT_TRUE(accept_response(sent, one(chosen->for_response(kOwnSpi)), ProtocolId::esp).ok());
  const auto accepted = accept_response(sent, one(chosen->for_response(kIkeSpi)), ProtocolId::esp);
  ASSERT_FALSE(accepted.ok());
  EXPECT_NE(accepted.error().message.find("SPI of 8 bytes, 4 expected"), std::string::npos)
      << accepted.error().message;
  // IKE_SA_INIT: no SPI in the response either.
  const auto ike_sent = ike_offer({"aes128-sha256-modp3072"});
  const auto ike_chosen = select_ike(ike_sent, "aes128-sha256-modp3072");
  ASSERT_TRUE(ike_chosen.ok());
  EXPECT_FALSE(accept_response(ike_sent, one(ike_chosen->for_response(kIkeSpi)), ProtocolId::ike).ok());
}

TEST(AcceptResponse, RejectsDuplicateAndMissingTypes) {
  const auto sent = ike_offer({"aes128-aes256-sha256-modp3072"});
  const auto chosen = select_ike(sent, "aes128-sha256-modp3072");
  ASSERT_TRUE(chosen.ok());
  auto twice = chosen->proposal;
  twice.transforms.push_back(transform(TransformType::encryption, 12, 256));
  auto result = accept_response(sent, one(twice), ProtocolId::ike);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("more than one transform of type 1 (ENCR)"), std::string::npos)
      << result.error().message;

  auto missing = chosen->proposal;
  std::erase_if(missing.transforms, [](const wire::Transform& t) { return t.type == TransformType::integrity; });
  result = accept_response(sent, one(missing), ProtocolId::ike);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("no transform of type 3 (INTEG)"), std::string::npos)
      << result.error().message;
}

TEST(AcceptResponse, NoPfsIsFineWhenWeOfferedNone) {
  const auto optional_pfs = esp_offer({"aes256gcm16-ecp384-modpnone"});
  const auto required_pfs = esp_offer({"aes256gcm16-ecp384"});
  wire::Proposal p;
  p.number = 1;
  p.protocol = ProtocolId::esp;
  p.spi = kOwnSpi;
  p.transforms = {transform(TransformType::encryption, 20, 256), transform(TransformType::esn, 0)};
  const auto accepted = accept_response(optional_pfs, one(p), ProtocolId::esp);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->key_exchange, std::nullopt);
  EXPECT_EQ(accepted->proposal.spi, kOwnSpi);
  EXPECT_FALSE(accept_response(required_pfs, one(p), ProtocolId::esp).ok());
}

// --- KE groups on the initiator side ----------------------------------------------------------

TEST(KeyExchange, FirstKeyExchangeOfTheFirstProposalThatHasOne) {
  EXPECT_EQ(first_key_exchange(parse("default", ProposalKind::ike)), iana::KeId::curve25519);
  EXPECT_EQ(first_key_exchange(parse("aes128-sha256-modp3072-ecp256", ProposalKind::ike)), iana::KeId::modp3072);
  EXPECT_EQ(first_key_exchange(parse_all({"aes256gcm16", "aes256-sha256-ecp384"}, ProposalKind::esp)),
            iana::KeId::ecp384);
  EXPECT_EQ(first_key_exchange(parse("aes256gcm16", ProposalKind::esp)), std::nullopt);
  EXPECT_EQ(first_key_exchange(parse("aes256gcm16-modpnone-ecp256", ProposalKind::esp)), std::nullopt);
}

TEST(KeyExchange, InvalidKePayloadRetry) {
  const auto sent = ike_offer({"aes256gcm16-prfsha384-ecp384-ecp256", "aes128-sha256-modp3072"});
  EXPECT_TRUE(proposal_allows_group(sent, iana::KeId::ecp256));
  EXPECT_TRUE(proposal_allows_group(sent, iana::KeId::modp3072));
  EXPECT_FALSE(proposal_allows_group(sent, iana::KeId::curve25519));

  const auto retry = promote_group(sent, iana::KeId::modp3072);
  ASSERT_EQ(retry.proposals.size(), 2U);
  EXPECT_EQ(describe(retry),
            "IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072, "
            "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384/ECP_256");
  EXPECT_EQ(retry.proposals[0].number, 1);
  EXPECT_EQ(retry.proposals[1].number, 2);

  const auto ecp256 = promote_group(sent, iana::KeId::ecp256);
  EXPECT_EQ(describe(ecp256),
            "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_256/ECP_384, "
            "IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072");
}

}  // namespace
}  // namespace corridor::control::ike
