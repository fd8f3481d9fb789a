// Proposal strings in strongSwan's syntax. Expected transform IDs are the
// numbers of RFC 7296 §3.3.2 and the IANA IKEv2 registry, written out as
// literals so that a wrong entry in the keyword table cannot agree with
// itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/config/proposal.h"
#include "common/config/proposal_keywords.h"

namespace {

using corridor::config::default_proposals;
using corridor::config::parse_proposal;
using corridor::config::Proposal;
using corridor::config::ProposalKind;
using corridor::config::ProposalOptions;
using corridor::config::ProposalParseResult;
using corridor::config::Transform;
using corridor::iana::TransformType;

constexpr ProposalKind kIke = ProposalKind::ike;
constexpr ProposalKind kEsp = ProposalKind::esp;
constexpr ProposalKind kAh = ProposalKind::ah;

// Transform constructors with raw registry numbers.
Transform encr(std::uint16_t id, std::uint16_t bits = 0) {
  return {TransformType::encryption, id, bits};
}
Transform prf(std::uint16_t id) { return {TransformType::prf, id, 0}; }
Transform integ(std::uint16_t id) { return {TransformType::integrity, id, 0}; }
Transform ke(std::uint16_t id) { return {TransformType::key_exchange, id, 0}; }
Transform esn(std::uint16_t id) { return {TransformType::esn, id, 0}; }

constexpr std::uint16_t kAesCbc = 12, kAesCtr = 13, kAesGcm16 = 20, kGmac = 21, kChaCha = 28,
                        kNull = 11, kDes = 2, k3Des = 3;
constexpr std::uint16_t kSha1_96 = 2, kSha256_128 = 12, kSha384_192 = 13, kSha512_256 = 14,
                        kMd5_96 = 1, kAesXcbc96 = 5;
constexpr std::uint16_t kPrfMd5 = 1, kPrfSha1 = 2, kPrfSha256 = 5, kPrfSha384 = 6,
                        kPrfSha512 = 7;
constexpr std::uint16_t kModp768 = 1, kModp1024 = 2, kModp2048 = 14, kModp3072 = 15,
                        kModp4096 = 16, kEcp256 = 19, kEcp384 = 20, kEcp521 = 21,
                        kModp1024s160 = 22, kCurve25519 = 31, kCurve448 = 32;
constexpr std::uint16_t kNoEsn = 0, kEsn = 1;

ProposalParseResult parse(std::string_view text, ProposalKind kind, bool allow_weak = false) {
  ProposalOptions options;
  options.allow_weak = allow_weak;
  return parse_proposal(text, kind, options);
}

// Parses a string that must yield exactly one proposal.
Proposal parse_one(std::string_view text, ProposalKind kind, bool allow_weak = false) {
  ProposalParseResult result = parse(text, kind, allow_weak);
  EXPECT_TRUE(result.ok()) << text << ": "
                           << (result.errors.empty() ? "" : result.errors[0].message);
  EXPECT_EQ(result.proposals.size(), 1U) << text;
  if (result.proposals.size() != 1) return Proposal{};
  return result.proposals[0];
}

// The single error a string must produce.
corridor::config::ProposalError parse_error(std::string_view text, ProposalKind kind,
                                            bool allow_weak = false) {
  ProposalParseResult result = parse(text, kind, allow_weak);
  EXPECT_FALSE(result.ok()) << text;
  EXPECT_TRUE(result.proposals.empty()) << text;
  if (result.errors.size() != 1) {
    for (const auto& e : result.errors) ADD_FAILURE() << text << ": error " << e.message;
  }
  if (result.errors.empty()) return {};
  return result.errors[0];
}

std::vector<std::string> messages(const ProposalParseResult& result) {
  std::vector<std::string> out;
  for (const auto& e : result.errors) out.push_back(e.message);
  return out;
}

// ---------------------------------------------------------------------------
// Keywords -> transforms

struct KeywordCase {
  std::string_view keyword;
  TransformType type;
  std::uint16_t id;
  std::uint16_t key_bits;
};

// A minimal proposal around one keyword, so that it parses on its own.
std::string around(const KeywordCase& c, ProposalKind kind) {
  const std::string keyword(c.keyword);
  const bool aead_encryption =
      c.type == TransformType::encryption && corridor::iana::encryption_is_aead(c.id);
  switch (c.type) {
    case TransformType::encryption:
      if (kind == kIke) return keyword + (aead_encryption ? "-prfsha256" : "-sha256") + "-ecp256";
      return keyword + (aead_encryption ? "" : "-sha256");
    case TransformType::integrity:
      if (kind == kIke) return "aes128-" + keyword + "-ecp256";
      return kind == kEsp ? "aes128-" + keyword : keyword;
    case TransformType::prf: return "aes128gcm16-" + keyword + "-ecp256";
    case TransformType::key_exchange:
      if (kind == kIke) return "aes128-sha256-" + keyword;
      return (kind == kEsp ? "aes128-sha256-" : "sha256-") + keyword;
    case TransformType::esn: return (kind == kEsp ? "aes128-sha256-" : "sha256-") + keyword;
  }
  return keyword;
}

const std::vector<Transform>& list_of(const Proposal& p, TransformType type) {
  switch (type) {
    case TransformType::encryption: return p.encryption;
    case TransformType::prf: return p.prf;
    case TransformType::integrity: return p.integrity;
    case TransformType::key_exchange: return p.key_exchange;
    case TransformType::esn: return p.esn;
  }
  return p.encryption;
}

void expect_keyword(const KeywordCase& c, ProposalKind kind, bool allow_weak = false) {
  const std::string text = around(c, kind);
  SCOPED_TRACE(std::string(to_string(kind)) + " \"" + text + "\"");
  const Proposal p = parse_one(text, kind, allow_weak);
  const std::vector<Transform>& list = list_of(p, c.type);
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(list.front(), (Transform{c.type, c.id, c.key_bits}));
}

const KeywordCase kIkeAndEspEncryption[] = {
    {"aes", TransformType::encryption, kAesCbc, 128},
    {"aes128", TransformType::encryption, kAesCbc, 128},
    {"aes192", TransformType::encryption, kAesCbc, 192},
    {"aes256", TransformType::encryption, kAesCbc, 256},
    {"aes128gcm16", TransformType::encryption, kAesGcm16, 128},
    {"aes128gcm128", TransformType::encryption, kAesGcm16, 128},
    {"aes128gcm", TransformType::encryption, kAesGcm16, 128},
    {"aes192gcm16", TransformType::encryption, kAesGcm16, 192},
    {"aes192gcm128", TransformType::encryption, kAesGcm16, 192},
    {"aes192gcm", TransformType::encryption, kAesGcm16, 192},
    {"aes256gcm16", TransformType::encryption, kAesGcm16, 256},
    {"aes256gcm128", TransformType::encryption, kAesGcm16, 256},
    {"aes256gcm", TransformType::encryption, kAesGcm16, 256},
    // RFC 7634: ChaCha20-Poly1305 has no Key Length attribute.
    {"chacha20poly1305", TransformType::encryption, kChaCha, 0},
};

const KeywordCase kEspOnlyEncryption[] = {
    {"aes128ctr", TransformType::encryption, kAesCtr, 128},
    {"aes192ctr", TransformType::encryption, kAesCtr, 192},
    {"aes256ctr", TransformType::encryption, kAesCtr, 256},
    {"aes128gmac", TransformType::encryption, kGmac, 128},
    {"aes192gmac", TransformType::encryption, kGmac, 192},
    {"aes256gmac", TransformType::encryption, kGmac, 256},
    {"null", TransformType::encryption, kNull, 0},
};

const KeywordCase kAllKindsIntegrity[] = {
    {"sha", TransformType::integrity, kSha1_96, 0},
    {"sha1", TransformType::integrity, kSha1_96, 0},
    {"sha256", TransformType::integrity, kSha256_128, 0},
    {"sha2_256", TransformType::integrity, kSha256_128, 0},
    {"sha384", TransformType::integrity, kSha384_192, 0},
    {"sha2_384", TransformType::integrity, kSha384_192, 0},
    {"sha512", TransformType::integrity, kSha512_256, 0},
    {"sha2_512", TransformType::integrity, kSha512_256, 0},
};

const KeywordCase kIkePrf[] = {
    {"prfsha1", TransformType::prf, kPrfSha1, 0},
    {"prfsha256", TransformType::prf, kPrfSha256, 0},
    {"prfsha384", TransformType::prf, kPrfSha384, 0},
    {"prfsha512", TransformType::prf, kPrfSha512, 0},
};

const KeywordCase kAllKindsKe[] = {
    {"modp2048", TransformType::key_exchange, kModp2048, 0},
    {"modp3072", TransformType::key_exchange, kModp3072, 0},
    {"modp4096", TransformType::key_exchange, kModp4096, 0},
    {"ecp256", TransformType::key_exchange, kEcp256, 0},
    {"ecp384", TransformType::key_exchange, kEcp384, 0},
    {"ecp521", TransformType::key_exchange, kEcp521, 0},
    {"curve25519", TransformType::key_exchange, kCurve25519, 0},
    {"x25519", TransformType::key_exchange, kCurve25519, 0},
    {"curve448", TransformType::key_exchange, kCurve448, 0},
    {"x448", TransformType::key_exchange, kCurve448, 0},
};

TEST(ProposalKeywords, IkeEncryption) {
  for (const auto& c : kIkeAndEspEncryption) expect_keyword(c, kIke);
}

TEST(ProposalKeywords, EspEncryption) {
  for (const auto& c : kIkeAndEspEncryption) expect_keyword(c, kEsp);
  for (const auto& c : kEspOnlyEncryption) expect_keyword(c, kEsp);
}

TEST(ProposalKeywords, Integrity) {
  for (const auto& c : kAllKindsIntegrity) {
    expect_keyword(c, kIke);
    expect_keyword(c, kEsp);
    expect_keyword(c, kAh);
  }
  const KeywordCase aesxcbc{"aesxcbc", TransformType::integrity, kAesXcbc96, 0};
  expect_keyword(aesxcbc, kEsp);
  expect_keyword(aesxcbc, kAh);
}

TEST(ProposalKeywords, Prf) {
  for (const auto& c : kIkePrf) expect_keyword(c, kIke);
}

TEST(ProposalKeywords, KeyExchange) {
  for (const auto& c : kAllKindsKe) {
    expect_keyword(c, kIke);
    expect_keyword(c, kEsp);
    expect_keyword(c, kAh);
  }
  // NONE (0) makes PFS optional for a Child SA.
  for (std::string_view none : {"modpnone", "none"}) {
    const KeywordCase c{none, TransformType::key_exchange, 0, 0};
    expect_keyword(c, kEsp);
    expect_keyword(c, kAh);
  }
}

TEST(ProposalKeywords, Esn) {
  for (ProposalKind kind : {kEsp, kAh}) {
    expect_keyword({"esn", TransformType::esn, kEsn, 0}, kind);
    expect_keyword({"noesn", TransformType::esn, kNoEsn, 0}, kind);
  }
}

TEST(ProposalKeywords, WeakOnesWithAllowWeak) {
  const KeywordCase weak_ike[] = {
      {"des", TransformType::encryption, kDes, 0},
      {"3des", TransformType::encryption, k3Des, 0},
      {"md5", TransformType::integrity, kMd5_96, 0},
      {"prfmd5", TransformType::prf, kPrfMd5, 0},
      {"modp768", TransformType::key_exchange, kModp768, 0},
      {"modp1024", TransformType::key_exchange, kModp1024, 0},
      {"modp1024s160", TransformType::key_exchange, kModp1024s160, 0},
  };
  for (const auto& c : weak_ike) expect_keyword(c, kIke, /*allow_weak=*/true);
  for (const auto& c : weak_ike) {
    if (c.type != TransformType::prf) expect_keyword(c, kEsp, /*allow_weak=*/true);
  }
  expect_keyword({"md5", TransformType::integrity, kMd5_96, 0}, kAh, /*allow_weak=*/true);
  expect_keyword({"modp1024", TransformType::key_exchange, kModp1024, 0}, kAh, true);
}

TEST(ProposalKeywords, MatchingIsCaseSensitive) {
  const auto e = parse_error("AES128-sha256-ecp256", kIke);
  EXPECT_EQ(e.column, 1U);
  EXPECT_EQ(e.message,
            "unknown algorithm keyword 'AES128' at column 1 (keywords are lowercase: did you "
            "mean 'aes128'?)");
  EXPECT_EQ(parse_error("aes128-Sha256-ecp256", kIke).column, 8U);
}

// ---------------------------------------------------------------------------
// The examples operators write

TEST(ProposalParse, AeadIkeWithPrf) {
  const Proposal p = parse_one("aes256gcm16-prfsha384-ecp384", kIke);
  EXPECT_EQ(p.kind, kIke);
  EXPECT_EQ(p.encryption, (std::vector<Transform>{encr(kAesGcm16, 256)}));
  EXPECT_TRUE(p.integrity.empty());
  EXPECT_EQ(p.prf, (std::vector<Transform>{prf(kPrfSha384)}));
  EXPECT_EQ(p.key_exchange, (std::vector<Transform>{ke(kEcp384)}));
  EXPECT_TRUE(p.esn.empty());
  EXPECT_TRUE(p.aead());
  EXPECT_EQ(p.to_string(), "aes256gcm16-prfsha384-ecp384");
}

TEST(ProposalParse, ClassicIkeDerivesPrf) {
  const Proposal p = parse_one("aes128-sha256-modp3072", kIke);
  EXPECT_EQ(p.encryption, (std::vector<Transform>{encr(kAesCbc, 128)}));
  EXPECT_EQ(p.integrity, (std::vector<Transform>{integ(kSha256_128)}));
  EXPECT_EQ(p.prf, (std::vector<Transform>{prf(kPrfSha256)}));
  EXPECT_EQ(p.key_exchange, (std::vector<Transform>{ke(kModp3072)}));
  EXPECT_FALSE(p.aead());
  EXPECT_EQ(p.to_string(), "aes128-sha256-prfsha256-modp3072");
}

TEST(ProposalParse, ChaChaWithX25519) {
  const Proposal p = parse_one("chacha20poly1305-prfsha256-x25519", kIke);
  EXPECT_EQ(p.encryption, (std::vector<Transform>{encr(kChaCha, 0)}));
  EXPECT_EQ(p.prf, (std::vector<Transform>{prf(kPrfSha256)}));
  EXPECT_EQ(p.key_exchange, (std::vector<Transform>{ke(kCurve25519)}));
  EXPECT_TRUE(p.aead());
  EXPECT_EQ(p.to_string(), "chacha20poly1305-prfsha256-curve25519");
}

TEST(ProposalParse, EspWithPfsAndEsn) {
  const Proposal p = parse_one("aes256-sha512-ecp521-esn", kEsp);
  EXPECT_EQ(p.kind, kEsp);
  EXPECT_EQ(p.encryption, (std::vector<Transform>{encr(kAesCbc, 256)}));
  EXPECT_EQ(p.integrity, (std::vector<Transform>{integ(kSha512_256)}));
  EXPECT_TRUE(p.prf.empty());
  EXPECT_EQ(p.key_exchange, (std::vector<Transform>{ke(kEcp521)}));
  EXPECT_EQ(p.esn, (std::vector<Transform>{esn(kEsn)}));
  EXPECT_EQ(p.to_string(), "aes256-sha512-ecp521-esn");
}

TEST(ProposalParse, PreferenceOrderIsKeptPerType) {
  // strongSwan: the order of different kinds does not matter, the order
  // within a kind is the preference.
  const Proposal a = parse_one("aes256gcm16-aes192gcm16-prfsha384-prfsha256-ecp384-modp3072", kIke);
  const Proposal b = parse_one("aes256gcm16-prfsha384-ecp384-aes192gcm16-prfsha256-modp3072", kIke);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.encryption, (std::vector<Transform>{encr(kAesGcm16, 256), encr(kAesGcm16, 192)}));
  EXPECT_EQ(a.prf, (std::vector<Transform>{prf(kPrfSha384), prf(kPrfSha256)}));
  EXPECT_EQ(a.key_exchange, (std::vector<Transform>{ke(kEcp384), ke(kModp3072)}));
}

TEST(ProposalParse, BlanksAroundKeywordsAreTrimmed) {
  const Proposal p = parse_one("  aes128 - sha256\t-ecp256 ", kIke);
  EXPECT_EQ(p.to_string(), "aes128-sha256-prfsha256-ecp256");
}

TEST(ProposalParse, DuplicatesAndSynonymsKeepTheFirst) {
  const Proposal p =
      parse_one("aes128-aes-aes256-aes128-sha256-sha2_256-sha1-x25519-curve25519-ecp256", kIke);
  EXPECT_EQ(p.encryption, (std::vector<Transform>{encr(kAesCbc, 128), encr(kAesCbc, 256)}));
  EXPECT_EQ(p.integrity, (std::vector<Transform>{integ(kSha256_128), integ(kSha1_96)}));
  EXPECT_EQ(p.key_exchange, (std::vector<Transform>{ke(kCurve25519), ke(kEcp256)}));
  const Proposal gcm = parse_one("aes128gcm128-aes128gcm16-aes128gcm-prfsha256-ecp256", kIke);
  EXPECT_EQ(gcm.encryption, (std::vector<Transform>{encr(kAesGcm16, 128)}));
}

TEST(ProposalParse, CanonicalSpelling) {
  EXPECT_EQ(parse_one("aes256gcm128-sha2_384-x448", kIke).to_string(),
            "aes256gcm16-prfsha384-curve448");
  EXPECT_EQ(parse_one("aes-sha-none", kEsp).to_string(), "aes128-sha1-modpnone-noesn");
  EXPECT_EQ(parse_one("sha2_512-x25519-esn-noesn", kAh).to_string(),
            "sha512-curve25519-esn-noesn");
}

// ---------------------------------------------------------------------------
// PRF derivation (strongSwan's integ_prf_map)

TEST(ProposalPrf, DerivedFromEachIntegrityAlgorithmInOrder) {
  const Proposal p = parse_one("aes256-sha512-sha384-sha256-sha1-ecp256", kIke);
  EXPECT_EQ(p.prf, (std::vector<Transform>{prf(kPrfSha512), prf(kPrfSha384), prf(kPrfSha256),
                                           prf(kPrfSha1)}));
}

TEST(ProposalPrf, Md5DerivesPrfMd5WhenWeakIsAllowed) {
  const Proposal p = parse_one("aes128-md5-modp2048", kIke, /*allow_weak=*/true);
  EXPECT_EQ(p.prf, (std::vector<Transform>{prf(kPrfMd5)}));
}

TEST(ProposalPrf, ExplicitPrfIsNotExtended) {
  const Proposal p = parse_one("aes128-sha256-sha512-prfsha384-ecp256", kIke);
  EXPECT_EQ(p.prf, (std::vector<Transform>{prf(kPrfSha384)}));
}

TEST(ProposalPrf, AeadIkeTakesPrfFromIntegrityThenDropsIt) {
  // strongSwan derives before removing integrity from an AEAD proposal.
  const Proposal p = parse_one("aes128gcm16-sha384-ecp256", kIke);
  EXPECT_TRUE(p.integrity.empty());
  EXPECT_EQ(p.prf, (std::vector<Transform>{prf(kPrfSha384)}));
}

TEST(ProposalPrf, AeadIkeWithoutPrfIsAnError) {
  const auto e = parse_error("aes256gcm16-ecp384", kIke);
  EXPECT_EQ(e.column, 0U);
  EXPECT_EQ(e.message,
            "an AEAD IKE proposal needs a PRF (e.g. prfsha256): none is given and there is no "
            "integrity algorithm to derive one from");
}

// ---------------------------------------------------------------------------
// AEAD and classic in one string: refused, as strongSwan 5.9 refuses it

constexpr const char* kMixedMessage =
    "classic and combined-mode (AEAD) encryption cannot be in the same proposal, as in strongSwan: "
    "write two proposals, e.g. \"aes256gcm16-prfsha256-ecp256\" and \"aes256-sha256-ecp256\"";

TEST(ProposalMixed, ClassicThenAeadIsRefusedAtTheAead) {
  const ProposalParseResult r = parse("aes128-aes256gcm16-sha256-prfsha384-ecp256", kIke);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.proposals.empty());
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_EQ(r.errors[0].message, kMixedMessage);
  EXPECT_EQ(r.errors[0].column, 8U);  // where aes256gcm16 starts
}

TEST(ProposalMixed, AeadThenClassicIsRefusedAtTheClassic) {
  const ProposalParseResult r = parse("aes256gcm16-chacha20poly1305-aes128-aes256-sha256-modp2048-esn", kEsp);
  EXPECT_TRUE(r.proposals.empty());
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_EQ(r.errors[0].message, kMixedMessage);
  EXPECT_EQ(r.errors[0].column, 30U);  // where aes128 starts
}

TEST(ProposalMixed, GmacCountsAsCombinedMode) {
  const ProposalParseResult r = parse("aes256gmac-aes256-sha256", kEsp);
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_EQ(r.errors[0].message, kMixedMessage);
}

TEST(ProposalMixed, TheTwoHalvesParseOnTheirOwn) {
  EXPECT_FALSE(parse("aes256gcm16-aes256-sha384-ecp384", kIke).ok());
  EXPECT_EQ(parse_one("aes256gcm16-sha384-ecp384", kIke).to_string(), "aes256gcm16-prfsha384-ecp384");
  EXPECT_EQ(parse_one("aes256-sha384-ecp384", kIke).to_string(), "aes256-sha384-prfsha384-ecp384");
}

TEST(ProposalAead, EspAeadDropsIntegrity) {
  const Proposal p = parse_one("aes128gcm16-sha256", kEsp);
  EXPECT_TRUE(p.integrity.empty());
  EXPECT_EQ(p.esn, (std::vector<Transform>{esn(kNoEsn)}));
  const Proposal gmac = parse_one("aes256gmac-sha256", kEsp);
  EXPECT_TRUE(gmac.aead());
  EXPECT_TRUE(gmac.integrity.empty());
}

// ---------------------------------------------------------------------------
// ESP / AH specifics

TEST(ProposalEsp, EsnDefaultsToNoEsn) {
  EXPECT_EQ(parse_one("aes128-sha256", kEsp).esn, (std::vector<Transform>{esn(kNoEsn)}));
  EXPECT_EQ(parse_one("sha256", kAh).esn, (std::vector<Transform>{esn(kNoEsn)}));
  EXPECT_EQ(parse_one("aes128-sha256-esn-noesn", kEsp).esn,
            (std::vector<Transform>{esn(kEsn), esn(kNoEsn)}));
}

TEST(ProposalEsp, PfsIsOptional) {
  EXPECT_TRUE(parse_one("aes128gcm16", kEsp).key_exchange.empty());
  EXPECT_TRUE(parse_one("sha256", kAh).key_exchange.empty());
  EXPECT_EQ(parse_one("aes128gcm16-ecp256-modpnone", kEsp).key_exchange,
            (std::vector<Transform>{ke(kEcp256), ke(0)}));
}

TEST(ProposalEsp, NullEncryptionWithIntegrity) {
  const Proposal p = parse_one("null-sha256", kEsp);
  EXPECT_EQ(p.encryption, (std::vector<Transform>{encr(kNull, 0)}));
  EXPECT_EQ(p.integrity, (std::vector<Transform>{integ(kSha256_128)}));
  EXPECT_FALSE(p.aead());
}

TEST(ProposalAh, IntegrityOnly) {
  const Proposal p = parse_one("sha384-aesxcbc-ecp384", kAh);
  EXPECT_EQ(p.kind, kAh);
  EXPECT_TRUE(p.encryption.empty());
  EXPECT_EQ(p.integrity, (std::vector<Transform>{integ(kSha384_192), integ(kAesXcbc96)}));
  EXPECT_EQ(p.key_exchange, (std::vector<Transform>{ke(kEcp384)}));
  EXPECT_FALSE(p.aead());
}

// ---------------------------------------------------------------------------
// Errors: each with its message and column

TEST(ProposalErrors, UnknownKeyword) {
  const auto e = parse_error("aes257-sha256-ecp256", kIke);
  EXPECT_EQ(e.column, 1U);
  EXPECT_EQ(e.message, "unknown algorithm keyword 'aes257' at column 1");
  const auto later = parse_error("aes128-sha256-ecp999", kIke);
  EXPECT_EQ(later.column, 15U);
  EXPECT_EQ(later.message, "unknown algorithm keyword 'ecp999' at column 15");
  // Leading blanks count in the column.
  EXPECT_EQ(parse_error("  aes257-sha256-ecp256", kIke).column, 3U);
}

TEST(ProposalErrors, UnknownKeywordIsQuotedSafely) {
  const std::string garbage = std::string("ae\x01s\xff", 5) + "-sha256-ecp256";
  const auto e = parse_error(garbage, kIke);
  EXPECT_EQ(e.message, "unknown algorithm keyword 'ae\\x01s\\xff' at column 1");
  const std::string long_word(100, 'z');
  const auto l = parse_error(long_word + "-sha256-ecp256", kIke);
  EXPECT_EQ(l.message, "unknown algorithm keyword '" + std::string(64, 'z') + "...' at column 1");
}

TEST(ProposalErrors, StrongSwanKeywordsCorridorDoesNotImplement) {
  struct Case {
    std::string_view text;
    ProposalKind kind;
    std::size_t column;
    std::string_view message;
  };
  const Case cases[] = {
      {"camellia128-sha256", kEsp, 1,
       "'camellia128' is a strongSwan keyword (ENCR_CAMELLIA_CBC-128) that Corridor does not "
       "implement for ESP"},
      {"aes128ccm16-prfsha256-ecp256", kIke, 1,
       "'aes128ccm16' is a strongSwan keyword (ENCR_AES_CCM_16-128) that Corridor does not "
       "implement for IKE"},
      {"aes256gcm8", kEsp, 1,
       "'aes256gcm8' is a strongSwan keyword (ENCR_AES_GCM_8-256) that Corridor does not "
       "implement for ESP"},
      {"blowfish-sha256", kEsp, 1,
       "'blowfish' is a strongSwan keyword (ENCR_BLOWFISH-128) that Corridor does not "
       "implement for ESP"},
      {"serpent256-sha256", kEsp, 1,
       "'serpent256' is a strongSwan keyword (ENCR_SERPENT_CBC-256) that Corridor does not "
       "implement for ESP"},
      {"aes128-sha256_96", kEsp, 8,
       "'sha256_96' is a strongSwan keyword (AUTH_HMAC_SHA2_256_96) that Corridor does not "
       "implement for ESP"},
      {"aes128-md5_128", kEsp, 8,
       "'md5_128' is a strongSwan keyword (AUTH_HMAC_MD5_128) that Corridor does not implement "
       "for ESP"},
      {"chacha20poly1305compat", kEsp, 1,
       "'chacha20poly1305compat' is a strongSwan keyword (ENCR_CHACHA20_POLY1305-256) that "
       "Corridor does not implement for ESP"},
      {"aes128ctr-sha256-ecp256", kIke, 1,
       "'aes128ctr' is a strongSwan keyword (ENCR_AES_CTR-128) that Corridor does not "
       "implement for IKE"},
      {"aes128gmac-prfsha256-ecp256", kIke, 1,
       "'aes128gmac' is a strongSwan keyword (ENCR_NULL_AUTH_AES_GMAC-128) that Corridor does "
       "not implement for IKE"},
      {"null-sha256-ecp256", kIke, 1,
       "'null' is a strongSwan keyword (ENCR_NULL) that Corridor does not implement for IKE"},
      {"aes128-aesxcbc-ecp256", kIke, 8,
       "'aesxcbc' is a strongSwan keyword (AUTH_AES_XCBC_96) that Corridor does not implement "
       "for IKE"},
      {"aes128-sha256-prfaesxcbc-ecp256", kIke, 15,
       "'prfaesxcbc' is a strongSwan keyword (PRF_AES128_XCBC) that Corridor does not "
       "implement for IKE"},
      {"aes128-sha256-modp1536", kIke, 15,
       "'modp1536' is a strongSwan keyword (MODP_1536) that Corridor does not implement for "
       "IKE"},
      {"aes128-sha256-ecp256bp", kEsp, 15,
       "'ecp256bp' is a strongSwan keyword (ECP_256_BP) that Corridor does not implement for "
       "ESP"},
      {"aes128-sha256-mlkem768", kIke, 15,
       "'mlkem768' is a strongSwan keyword (ML_KEM_768) that Corridor does not implement for "
       "IKE"},
      {"aes128-sha256-modpnull", kIke, 15,
       "'modpnull' is a strongSwan keyword (MODP_NULL) that Corridor does not implement for "
       "IKE"},
      {"sha256-ntru128", kAh, 8,
       "'ntru128' is a strongSwan keyword (NTRU_128) that Corridor does not implement for AH"},
      {"aes128-aescmac", kEsp, 8,
       "'aescmac' is a strongSwan keyword (AUTH_AES_CMAC_96) that Corridor does not implement "
       "for ESP"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    const auto e = parse_error(c.text, c.kind);
    EXPECT_EQ(e.column, c.column);
    EXPECT_EQ(e.message, c.message);
  }
}

TEST(ProposalErrors, WeakIsRefusedWithoutAllowWeak) {
  const auto e = parse_error("aes128-sha256-modp1024", kIke);
  EXPECT_EQ(e.column, 15U);
  EXPECT_EQ(e.message, "'modp1024' (MODP_1024) is weak (RFC 8247): set allow_weak to use it");

  const ProposalParseResult r = parse("3des-md5-prfmd5-modp768-modp1024s160", kIke);
  EXPECT_EQ(messages(r),
            (std::vector<std::string>{
                "'3des' (ENCR_3DES) is weak (RFC 8247): set allow_weak to use it",
                "'md5' (AUTH_HMAC_MD5_96) is weak (RFC 8247): set allow_weak to use it",
                "'prfmd5' (PRF_HMAC_MD5) is weak (RFC 8247): set allow_weak to use it",
                "'modp768' (MODP_768) is weak (RFC 8247): set allow_weak to use it",
                "'modp1024s160' (MODP_1024_160) is weak (RFC 8247): set allow_weak to use it",
            }));
  EXPECT_EQ(r.errors[1].column, 6U);

  // ESP/AH algorithms are graded by RFC 8221, groups by RFC 8247.
  const ProposalParseResult esp = parse("des-md5-modp1024", kEsp);
  EXPECT_EQ(messages(esp),
            (std::vector<std::string>{
                "'des' (ENCR_DES) is weak (RFC 8221): set allow_weak to use it",
                "'md5' (AUTH_HMAC_MD5_96) is weak (RFC 8221): set allow_weak to use it",
                "'modp1024' (MODP_1024) is weak (RFC 8247): set allow_weak to use it",
            }));
}

TEST(ProposalErrors, WeakIsAcceptedWithAllowWeak) {
  const Proposal p = parse_one("3des-md5-modp1024", kIke, /*allow_weak=*/true);
  EXPECT_EQ(p.encryption, (std::vector<Transform>{encr(k3Des, 0)}));
  EXPECT_EQ(p.integrity, (std::vector<Transform>{integ(kMd5_96)}));
  EXPECT_EQ(p.prf, (std::vector<Transform>{prf(kPrfMd5)}));
  EXPECT_EQ(p.key_exchange, (std::vector<Transform>{ke(kModp1024)}));
  EXPECT_EQ(p.to_string(), "3des-md5-prfmd5-modp1024");
  // allow_weak does not make an unimplemented algorithm implemented.
  EXPECT_EQ(parse_error("aes128-md5_128", kEsp, /*allow_weak=*/true).column, 8U);
}

TEST(ProposalErrors, EmptyKeywords) {
  const auto middle = parse_error("aes128--sha256-ecp256", kIke);
  EXPECT_EQ(middle.column, 8U);
  EXPECT_EQ(middle.message,
            "empty algorithm keyword at column 8 (two '-' in a row, or a leading or trailing "
            "'-')");
  EXPECT_EQ(parse_error("-aes128-sha256-ecp256", kIke).column, 1U);
  EXPECT_EQ(parse_error("aes128-sha256-ecp256-", kIke).column, 21U);
  EXPECT_EQ(parse_error("aes128-  -sha256-ecp256", kIke).column, 8U);

  const ProposalParseResult both = parse("-aes128-sha256-ecp256-", kIke);
  ASSERT_EQ(both.errors.size(), 2U);
  EXPECT_EQ(both.errors[0].column, 1U);
  EXPECT_EQ(both.errors[1].column, 22U);
}

TEST(ProposalErrors, EmptyProposal) {
  for (std::string_view text : {"", "   ", "\t"}) {
    const auto e = parse_error(text, kEsp);
    EXPECT_EQ(e.column, 0U);
    EXPECT_EQ(e.message, "empty proposal");
  }
  EXPECT_EQ(messages(parse(" - ", kEsp)),
            (std::vector<std::string>{
                "empty algorithm keyword at column 2 (two '-' in a row, or a leading or "
                "trailing '-')",
                "an ESP proposal needs an encryption algorithm (for integrity protection only, "
                "use 'null' with an integrity algorithm, or AH)",
            }));
}

TEST(ProposalErrors, IpsecConfStrictFlag) {
  const auto e = parse_error("aes128-sha256-modp2048!", kIke);
  EXPECT_EQ(e.column, 23U);
  EXPECT_EQ(e.message,
            "trailing '!' at column 23 is ipsec.conf's strict-proposal flag; swanctl proposals "
            "have no '!' because only the proposals listed are ever accepted: remove it");
  // Only that error: the rest is checked as if the '!' were not there.
  EXPECT_EQ(parse("aes128-sha256-modp2048 ! ", kIke).errors.size(), 1U);
  EXPECT_EQ(parse("aes257-modp2048!", kIke).errors.size(), 2U);
}

TEST(ProposalErrors, CommaSeparatedList) {
  const auto e = parse_error("aes128-sha256,aes256-sha384", kEsp);
  EXPECT_EQ(e.column, 14U);
  EXPECT_EQ(e.message,
            "',' at column 14 separates proposals in a list; a proposal string holds one "
            "proposal: give each one separately");
}

TEST(ProposalErrors, TypesAKindDoesNotNegotiate) {
  const auto prf_in_esp = parse_error("aes128-sha256-prfsha256", kEsp);
  EXPECT_EQ(prf_in_esp.column, 15U);
  EXPECT_EQ(prf_in_esp.message,
            "'prfsha256' at column 15 is a PRF, which only IKE proposals negotiate (RFC 7296 "
            "§3.3.3): remove it from this ESP proposal");
  EXPECT_EQ(parse_error("sha256-prfsha256", kAh).message,
            "'prfsha256' at column 8 is a PRF, which only IKE proposals negotiate (RFC 7296 "
            "§3.3.3): remove it from this AH proposal");

  const auto esn_in_ike = parse_error("aes128-sha256-ecp256-noesn", kIke);
  EXPECT_EQ(esn_in_ike.column, 22U);
  EXPECT_EQ(esn_in_ike.message,
            "'noesn' at column 22 is an extended sequence numbers option, which only ESP and AH "
            "proposals negotiate (RFC 7296 §3.3.3): remove it from this IKE proposal");

  const auto encr_in_ah = parse_error("aes128-sha256", kAh);
  EXPECT_EQ(encr_in_ah.column, 1U);
  EXPECT_EQ(encr_in_ah.message,
            "'aes128' at column 1 is an encryption algorithm, but AH only authenticates (RFC "
            "4302): use an ESP proposal to encrypt");
  EXPECT_EQ(parse_error("aes128gmac-sha256", kAh).column, 1U);

  const auto none_in_ike = parse_error("aes128-sha256-modpnone-ecp256", kIke);
  EXPECT_EQ(none_in_ike.column, 15U);
  EXPECT_EQ(none_in_ike.message,
            "'modpnone' at column 15 means no key exchange, but IKE_SA_INIT always performs one "
            "(RFC 7296 §1.2)");
}

TEST(ProposalErrors, AdditionalKeyExchangeSyntax) {
  const auto e = parse_error("aes128-sha256-ecp256-ke1_mlkem768", kIke);
  EXPECT_EQ(e.column, 22U);
  EXPECT_EQ(e.message,
            "'ke1_mlkem768' at column 22 is strongSwan's syntax for an additional key exchange "
            "(RFC 9370), which Corridor does not implement");
  // Not a key exchange after the prefix: simply unknown.
  EXPECT_EQ(parse_error("aes128-sha256-ecp256-ke1_sha256", kIke).message,
            "unknown algorithm keyword 'ke1_sha256' at column 22");
}

TEST(ProposalErrors, MissingTransforms) {
  EXPECT_EQ(parse_error("sha256-prfsha256-ecp256", kIke).message,
            "an IKE proposal needs an encryption algorithm (e.g. aes256gcm16 or aes256)");
  EXPECT_EQ(parse_error("aes128-sha256", kIke).message,
            "an IKE proposal needs a key exchange method (e.g. curve25519, ecp256 or modp3072)");
  EXPECT_EQ(parse_error("aes128-prfsha256-ecp256", kIke).message,
            "classic (non-AEAD) encryption 'aes128' in an IKE proposal needs an integrity "
            "algorithm (e.g. sha256)");
  EXPECT_EQ(parse_error("sha256-ecp256", kEsp).message,
            "an ESP proposal needs an encryption algorithm (for integrity protection only, use "
            "'null' with an integrity algorithm, or AH)");
  EXPECT_EQ(parse_error("aes256-modp2048", kEsp).message,
            "classic (non-AEAD) encryption 'aes256' in an ESP proposal needs an integrity "
            "algorithm (e.g. sha256)");
  const auto null_alone = parse_error("null", kEsp);
  EXPECT_EQ(null_alone.column, 0U);
  EXPECT_EQ(null_alone.message,
            "'null' encryption in an ESP proposal needs an integrity algorithm (e.g. sha256): "
            "ESP must not be left without protection");
  EXPECT_EQ(parse_error("ecp256-esn", kAh).message,
            "an AH proposal needs an integrity algorithm (e.g. sha256)");
}

TEST(ProposalErrors, AllErrorsAreReported) {
  const ProposalParseResult r = parse("aes257-camellia128-md5-prfsha256-esn-modp1024", kIke);
  EXPECT_EQ(messages(r),
            (std::vector<std::string>{
                "unknown algorithm keyword 'aes257' at column 1",
                "'camellia128' is a strongSwan keyword (ENCR_CAMELLIA_CBC-128) that Corridor "
                "does not implement for IKE",
                "'md5' (AUTH_HMAC_MD5_96) is weak (RFC 8247): set allow_weak to use it",
                "'esn' at column 34 is an extended sequence numbers option, which only ESP and "
                "AH proposals negotiate (RFC 7296 §3.3.3): remove it from this IKE proposal",
                "'modp1024' (MODP_1024) is weak (RFC 8247): set allow_weak to use it",
            }));
  std::vector<std::size_t> columns;
  for (const auto& e : r.errors) columns.push_back(e.column);
  EXPECT_EQ(columns, (std::vector<std::size_t>{1, 8, 20, 34, 38}));
  EXPECT_TRUE(r.proposals.empty());
}

TEST(ProposalErrors, StructuralRulesStayQuietAboutRefusedKeywords) {
  // The refused modp1024 was the key exchange: no second error about it.
  EXPECT_EQ(parse("aes128-sha256-modp1024", kIke).errors.size(), 1U);
  // The refused md5 was the integrity algorithm.
  EXPECT_EQ(parse("aes128-md5", kEsp).errors.size(), 1U);
  // But a missing key exchange is still reported next to an unrelated refusal.
  EXPECT_EQ(messages(parse("aes128-md5-sha256", kIke)),
            (std::vector<std::string>{
                "'md5' (AUTH_HMAC_MD5_96) is weak (RFC 8247): set allow_weak to use it",
                "an IKE proposal needs a key exchange method (e.g. curve25519, ecp256 or "
                "modp3072)",
            }));
}

// ---------------------------------------------------------------------------
// default

TEST(ProposalDefault, IkeDefaults) {
  const std::vector<Transform> kes = {ke(kCurve25519), ke(kEcp256),   ke(kEcp384),
                                      ke(kEcp521),     ke(kCurve448), ke(kModp3072),
                                      ke(kModp4096),   ke(kModp2048)};
  const std::vector<Transform> prfs = {prf(kPrfSha256), prf(kPrfSha384), prf(kPrfSha512)};
  const std::vector<Proposal> d = default_proposals(kIke);
  ASSERT_EQ(d.size(), 2U);
  // swanctl puts the classic IKE proposal first.
  EXPECT_EQ(d[0].kind, kIke);
  EXPECT_EQ(d[0].encryption, (std::vector<Transform>{encr(kAesCbc, 128), encr(kAesCbc, 192),
                                                     encr(kAesCbc, 256)}));
  EXPECT_EQ(d[0].integrity,
            (std::vector<Transform>{integ(kSha256_128), integ(kSha384_192), integ(kSha512_256)}));
  EXPECT_EQ(d[0].prf, prfs);
  EXPECT_EQ(d[0].key_exchange, kes);
  EXPECT_TRUE(d[0].esn.empty());
  EXPECT_EQ(d[1].encryption, (std::vector<Transform>{encr(kAesGcm16, 128), encr(kAesGcm16, 256),
                                                     encr(kChaCha, 0)}));
  EXPECT_TRUE(d[1].integrity.empty());
  EXPECT_EQ(d[1].prf, prfs);
  EXPECT_EQ(d[1].key_exchange, kes);
}

TEST(ProposalDefault, EspAndAhDefaults) {
  const std::vector<Proposal> esp = default_proposals(kEsp);
  ASSERT_EQ(esp.size(), 2U);
  // swanctl puts the AEAD ESP proposal first; no PFS by default.
  EXPECT_EQ(esp[0].to_string(), "aes128gcm16-aes256gcm16-chacha20poly1305-noesn");
  EXPECT_EQ(esp[1].to_string(), "aes128-aes256-sha256-sha384-sha512-noesn");
  EXPECT_TRUE(esp[0].key_exchange.empty());
  EXPECT_TRUE(esp[1].key_exchange.empty());
  EXPECT_EQ(esp[1].integrity,
            (std::vector<Transform>{integ(kSha256_128), integ(kSha384_192), integ(kSha512_256)}));

  const std::vector<Proposal> ah = default_proposals(kAh);
  ASSERT_EQ(ah.size(), 1U);
  EXPECT_EQ(ah[0].integrity,
            (std::vector<Transform>{integ(kSha256_128), integ(kSha384_192), integ(kSha512_256)}));
  EXPECT_EQ(ah[0].esn, (std::vector<Transform>{esn(kNoEsn)}));
}

TEST(ProposalDefault, KeywordYieldsTheDefaults) {
  for (ProposalKind kind : {kIke, kEsp, kAh}) {
    for (std::string_view text : {"default", "DEFAULT", " Default "}) {
      const ProposalParseResult r = parse(text, kind);
      ASSERT_TRUE(r.ok()) << text;
      EXPECT_EQ(r.proposals, default_proposals(kind)) << text;
    }
  }
}

TEST(ProposalDefault, CannotBeCombined) {
  const auto e = parse_error("default-aes128", kEsp);
  EXPECT_EQ(e.column, 1U);
  EXPECT_EQ(e.message,
            "'default' at column 1 stands for the whole default proposal list and cannot be "
            "combined with other keywords");
  EXPECT_EQ(parse_error("aes128-sha256-default", kEsp).column, 15U);
}

// ---------------------------------------------------------------------------
// to_string -> parse round trip

TEST(ProposalRoundTrip, ParsedProposalsReparseEqual) {
  const std::pair<std::string_view, ProposalKind> inputs[] = {
      {"aes256gcm16-prfsha384-ecp384", kIke},
      {"aes128-sha256-modp3072", kIke},
      {"chacha20poly1305-prfsha256-x25519", kIke},
      {"aes128-aes192-aes256-sha1-sha2_512-x448-modp4096", kIke},
      {"aes128-sha384-curve25519", kIke},
      {"aes256gcm128-sha384-curve25519", kIke},
      {"aes256-sha512-ecp521-esn", kEsp},
      {"aes128ctr-null-aesxcbc-sha1-none-esn-noesn", kEsp},
      {"aes256gmac-none-esn-noesn", kEsp},
      {"chacha20poly1305-aes192gcm-modp2048", kEsp},
      {"sha256-sha2_384-aesxcbc-ecp256-modpnone-esn", kAh},
      {"default", kIke},
      {"default", kEsp},
      {"default", kAh},
  };
  for (const auto& [text, kind] : inputs) {
    const ProposalParseResult first = parse(text, kind);
    ASSERT_TRUE(first.ok()) << text;
    for (const Proposal& p : first.proposals) {
      const std::string printed = p.to_string();
      SCOPED_TRACE(std::string(text) + " -> " + printed);
      const ProposalParseResult again = parse(printed, kind);
      ASSERT_TRUE(again.ok());
      ASSERT_EQ(again.proposals.size(), 1U);
      EXPECT_EQ(again.proposals[0], p);
      EXPECT_EQ(again.proposals[0].to_string(), printed);
    }
  }
}

TEST(ProposalRoundTrip, WeakNeedsAllowWeakToReparse) {
  const Proposal p = parse_one("3des-sha1-modp1024", kEsp, /*allow_weak=*/true);
  EXPECT_EQ(parse_one(p.to_string(), kEsp, /*allow_weak=*/true), p);
  EXPECT_FALSE(parse(p.to_string(), kEsp).ok());
}

TEST(ProposalToString, TransformsWithoutKeywordUseRegistryNames) {
  Proposal p;
  p.kind = kEsp;
  p.encryption = {encr(17), encr(kAesGcm16, 64)};
  p.integrity = {integ(kSha256_128)};
  p.esn = {esn(kNoEsn)};
  EXPECT_EQ(p.to_string(), "UNKNOWN_17-ENCR_AES_GCM_16_64-sha256-noesn");
  EXPECT_EQ(Proposal{}.to_string(), "");
}

TEST(ProposalToString, UnimplementedKeywordsStillPrintAsKeywords) {
  Proposal p;
  p.kind = kEsp;
  p.encryption = {encr(23, 256)};  // ENCR_CAMELLIA_CBC
  p.integrity = {integ(8)};        // AUTH_AES_CMAC_96
  EXPECT_EQ(p.to_string(), "camellia256-aescmac");
}

TEST(ProposalKind, Names) {
  EXPECT_EQ(to_string(kIke), "IKE");
  EXPECT_EQ(to_string(kEsp), "ESP");
  EXPECT_EQ(to_string(kAh), "AH");
}

TEST(ProposalAead, ClassificationOfEncryption) {
  EXPECT_FALSE(Proposal{}.aead());
  Proposal p;
  p.encryption = {encr(kAesGcm16, 128), encr(kChaCha)};
  EXPECT_TRUE(p.aead());
  p.encryption.push_back(encr(kAesCbc, 128));
  EXPECT_FALSE(p.aead());
}

// ---------------------------------------------------------------------------
// The keyword table itself

TEST(ProposalKeywordTable, KeywordsAreUniqueAndLowercase) {
  std::set<std::string_view> seen;
  for (const auto& k : corridor::config::proposal_keywords()) {
    EXPECT_TRUE(seen.insert(k.keyword).second) << "duplicate " << k.keyword;
    EXPECT_TRUE(std::none_of(k.keyword.begin(), k.keyword.end(),
                             [](char c) { return c >= 'A' && c <= 'Z'; }))
        << k.keyword;
    EXPECT_EQ(k.keyword.find('-'), std::string_view::npos) << k.keyword;
  }
  EXPECT_GT(seen.size(), 150U);
}

TEST(ProposalKeywordTable, OneCanonicalKeywordPerTransform) {
  std::set<std::tuple<unsigned, unsigned, unsigned>> transforms;
  std::set<std::tuple<unsigned, unsigned, unsigned>> canonical;
  for (const auto& k : corridor::config::proposal_keywords()) {
    if (!k.in_iana_registry()) {
      EXPECT_FALSE(k.supported_for(kIke) || k.supported_for(kEsp) || k.supported_for(kAh))
          << k.keyword << ": a private-use algorithm cannot be implemented";
      EXPECT_FALSE(k.canonical()) << k.keyword;
      continue;
    }
    const auto key = std::make_tuple(static_cast<unsigned>(k.type), unsigned{k.id},
                                     unsigned{k.key_bits});
    transforms.insert(key);
    if (k.canonical()) {
      EXPECT_TRUE(canonical.insert(key).second) << "second canonical " << k.keyword;
    }
  }
  EXPECT_EQ(transforms, canonical);
}

TEST(ProposalKeywordTable, StrongSwanSpellingsArePresent) {
  for (std::string_view keyword :
       {"aes128gcm16", "aes128gcm128", "sha256", "sha2_256", "curve25519", "x25519", "ecp256",
        "modp2048", "esn", "noesn", "null", "camellia128", "blowfish", "serpent", "sha256_96",
        "md5_128", "modpnone", "prfcamelliaxcbc", "newhope128"}) {
    EXPECT_NE(corridor::config::find_proposal_keyword(keyword), nullptr) << keyword;
  }
  EXPECT_EQ(corridor::config::find_proposal_keyword("AES128"), nullptr);
  EXPECT_EQ(corridor::config::find_proposal_keyword(""), nullptr);
}

}  // namespace
