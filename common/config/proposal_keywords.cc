#include "common/config/proposal_keywords.h"

#include <array>

namespace corridor::config {
namespace {

using iana::EncrId;
using iana::EsnId;
using iana::IntegId;
using iana::KeId;
using iana::PrfId;
using iana::TransformType;

constexpr std::uint8_t I = ProposalKeyword::kIke;
constexpr std::uint8_t E = ProposalKeyword::kEsp;
constexpr std::uint8_t A = ProposalKeyword::kAh;
constexpr std::uint8_t W = ProposalKeyword::kWeak;
constexpr std::uint8_t C = ProposalKeyword::kCanonical;
constexpr std::uint8_t kNotImplemented = 0;

constexpr ProposalKeyword encr(std::string_view keyword, EncrId id, std::uint16_t key_bits,
                               std::uint8_t flags) {
  return {keyword, TransformType::encryption, static_cast<std::uint16_t>(id), key_bits, flags, {}};
}
constexpr ProposalKeyword integ(std::string_view keyword, IntegId id, std::uint8_t flags) {
  return {keyword, TransformType::integrity, static_cast<std::uint16_t>(id), 0, flags, {}};
}
constexpr ProposalKeyword prf(std::string_view keyword, PrfId id, std::uint8_t flags) {
  return {keyword, TransformType::prf, static_cast<std::uint16_t>(id), 0, flags, {}};
}
constexpr ProposalKeyword ke(std::string_view keyword, KeId id, std::uint8_t flags) {
  return {keyword, TransformType::key_exchange, static_cast<std::uint16_t>(id), 0, flags, {}};
}
constexpr ProposalKeyword esn(std::string_view keyword, EsnId id, std::uint8_t flags) {
  return {keyword, TransformType::esn, static_cast<std::uint16_t>(id), 0, flags, {}};
}
// An algorithm strongSwan numbers in the private-use range (>= 1024): it has
// no IANA ID, so no peer but strongSwan speaks it and Corridor never will.
constexpr ProposalKeyword private_alg(std::string_view keyword, TransformType type,
                                      std::string_view name, std::uint16_t key_bits) {
  return {keyword, type, 0, key_bits, kNotImplemented, name};
}

// strongSwan's proposal_keywords_static.txt, in its order: the 5.9 table
// plus what 6.0 added ("none", the ICV-less "aes128gcm"/"aes128ccm"
// synonyms, ML-KEM). Keywords of strongSwan's never-released post-quantum
// test branch are left out. Corridor's own decisions are only the flags.
constexpr auto kKeywords = std::to_array<ProposalKeyword>({
    // --- Encryption (Transform Type 1) ---
    encr("null", EncrId::null, 0, E | C),
    encr("des", EncrId::des, 0, I | E | W | C),
    encr("3des", EncrId::triple_des, 0, I | E | W | C),
    encr("aes", EncrId::aes_cbc, 128, I | E),
    encr("aes128", EncrId::aes_cbc, 128, I | E | C),
    encr("aes192", EncrId::aes_cbc, 192, I | E | C),
    encr("aes256", EncrId::aes_cbc, 256, I | E | C),
    encr("aes128ctr", EncrId::aes_ctr, 128, E | C),
    encr("aes192ctr", EncrId::aes_ctr, 192, E | C),
    encr("aes256ctr", EncrId::aes_ctr, 256, E | C),
    // AES-CCM: a strongSwan keyword outside Corridor's supported set.
    encr("aes128ccm8", EncrId::aes_ccm_8, 128, C),
    encr("aes128ccm64", EncrId::aes_ccm_8, 128, kNotImplemented),
    encr("aes128ccm12", EncrId::aes_ccm_12, 128, C),
    encr("aes128ccm96", EncrId::aes_ccm_12, 128, kNotImplemented),
    encr("aes128ccm16", EncrId::aes_ccm_16, 128, C),
    encr("aes128ccm128", EncrId::aes_ccm_16, 128, kNotImplemented),
    encr("aes128ccm", EncrId::aes_ccm_16, 128, kNotImplemented),
    encr("aes192ccm8", EncrId::aes_ccm_8, 192, C),
    encr("aes192ccm64", EncrId::aes_ccm_8, 192, kNotImplemented),
    encr("aes192ccm12", EncrId::aes_ccm_12, 192, C),
    encr("aes192ccm96", EncrId::aes_ccm_12, 192, kNotImplemented),
    encr("aes192ccm16", EncrId::aes_ccm_16, 192, C),
    encr("aes192ccm128", EncrId::aes_ccm_16, 192, kNotImplemented),
    encr("aes192ccm", EncrId::aes_ccm_16, 192, kNotImplemented),
    encr("aes256ccm8", EncrId::aes_ccm_8, 256, C),
    encr("aes256ccm64", EncrId::aes_ccm_8, 256, kNotImplemented),
    encr("aes256ccm12", EncrId::aes_ccm_12, 256, C),
    encr("aes256ccm96", EncrId::aes_ccm_12, 256, kNotImplemented),
    encr("aes256ccm16", EncrId::aes_ccm_16, 256, C),
    encr("aes256ccm128", EncrId::aes_ccm_16, 256, kNotImplemented),
    encr("aes256ccm", EncrId::aes_ccm_16, 256, kNotImplemented),
    // AES-GCM: Corridor implements the 16-octet ICV only, the one RFC 8221
    // and RFC 8247 recommend; the 8- and 12-octet ICVs are for constrained
    // devices.
    encr("aes128gcm8", EncrId::aes_gcm_8, 128, C),
    encr("aes128gcm64", EncrId::aes_gcm_8, 128, kNotImplemented),
    encr("aes128gcm12", EncrId::aes_gcm_12, 128, C),
    encr("aes128gcm96", EncrId::aes_gcm_12, 128, kNotImplemented),
    encr("aes128gcm16", EncrId::aes_gcm_16, 128, I | E | C),
    encr("aes128gcm128", EncrId::aes_gcm_16, 128, I | E),
    encr("aes128gcm", EncrId::aes_gcm_16, 128, I | E),
    encr("aes192gcm8", EncrId::aes_gcm_8, 192, C),
    encr("aes192gcm64", EncrId::aes_gcm_8, 192, kNotImplemented),
    encr("aes192gcm12", EncrId::aes_gcm_12, 192, C),
    encr("aes192gcm96", EncrId::aes_gcm_12, 192, kNotImplemented),
    encr("aes192gcm16", EncrId::aes_gcm_16, 192, I | E | C),
    encr("aes192gcm128", EncrId::aes_gcm_16, 192, I | E),
    encr("aes192gcm", EncrId::aes_gcm_16, 192, I | E),
    encr("aes256gcm8", EncrId::aes_gcm_8, 256, C),
    encr("aes256gcm64", EncrId::aes_gcm_8, 256, kNotImplemented),
    encr("aes256gcm12", EncrId::aes_gcm_12, 256, C),
    encr("aes256gcm96", EncrId::aes_gcm_12, 256, kNotImplemented),
    encr("aes256gcm16", EncrId::aes_gcm_16, 256, I | E | C),
    encr("aes256gcm128", EncrId::aes_gcm_16, 256, I | E),
    encr("aes256gcm", EncrId::aes_gcm_16, 256, I | E),
    // AES-GMAC authenticates without encrypting (RFC 4543): ESP only.
    encr("aes128gmac", EncrId::null_auth_aes_gmac, 128, E | C),
    encr("aes192gmac", EncrId::null_auth_aes_gmac, 192, E | C),
    encr("aes256gmac", EncrId::null_auth_aes_gmac, 256, E | C),
    // RFC 7634: no Key Length attribute. The "compat" keyword sends one
    // anyway, for strongSwan releases before 5.5.3.
    encr("chacha20poly1305", EncrId::chacha20_poly1305, 0, I | E | C),
    encr("chacha20poly1305compat", EncrId::chacha20_poly1305, 256, C),
    encr("blowfish", EncrId::blowfish, 128, kNotImplemented),
    encr("blowfish128", EncrId::blowfish, 128, C),
    encr("blowfish192", EncrId::blowfish, 192, C),
    encr("blowfish256", EncrId::blowfish, 256, C),
    encr("camellia", EncrId::camellia_cbc, 128, kNotImplemented),
    encr("camellia128", EncrId::camellia_cbc, 128, C),
    encr("camellia192", EncrId::camellia_cbc, 192, C),
    encr("camellia256", EncrId::camellia_cbc, 256, C),
    encr("camellia128ctr", EncrId::camellia_ctr, 128, C),
    encr("camellia192ctr", EncrId::camellia_ctr, 192, C),
    encr("camellia256ctr", EncrId::camellia_ctr, 256, C),
    encr("camellia128ccm8", EncrId::camellia_ccm_8, 128, C),
    encr("camellia128ccm64", EncrId::camellia_ccm_8, 128, kNotImplemented),
    encr("camellia128ccm12", EncrId::camellia_ccm_12, 128, C),
    encr("camellia128ccm96", EncrId::camellia_ccm_12, 128, kNotImplemented),
    encr("camellia128ccm16", EncrId::camellia_ccm_16, 128, C),
    encr("camellia128ccm128", EncrId::camellia_ccm_16, 128, kNotImplemented),
    encr("camellia192ccm8", EncrId::camellia_ccm_8, 192, C),
    encr("camellia192ccm64", EncrId::camellia_ccm_8, 192, kNotImplemented),
    encr("camellia192ccm12", EncrId::camellia_ccm_12, 192, C),
    encr("camellia192ccm96", EncrId::camellia_ccm_12, 192, kNotImplemented),
    encr("camellia192ccm16", EncrId::camellia_ccm_16, 192, C),
    encr("camellia192ccm128", EncrId::camellia_ccm_16, 192, kNotImplemented),
    encr("camellia256ccm8", EncrId::camellia_ccm_8, 256, C),
    encr("camellia256ccm64", EncrId::camellia_ccm_8, 256, kNotImplemented),
    encr("camellia256ccm12", EncrId::camellia_ccm_12, 256, C),
    encr("camellia256ccm96", EncrId::camellia_ccm_12, 256, kNotImplemented),
    encr("camellia256ccm16", EncrId::camellia_ccm_16, 256, C),
    encr("camellia256ccm128", EncrId::camellia_ccm_16, 256, kNotImplemented),
    encr("cast128", EncrId::cast, 128, C),
    private_alg("serpent", TransformType::encryption, "ENCR_SERPENT_CBC", 128),
    private_alg("serpent128", TransformType::encryption, "ENCR_SERPENT_CBC", 128),
    private_alg("serpent192", TransformType::encryption, "ENCR_SERPENT_CBC", 192),
    private_alg("serpent256", TransformType::encryption, "ENCR_SERPENT_CBC", 256),
    private_alg("twofish", TransformType::encryption, "ENCR_TWOFISH_CBC", 128),
    private_alg("twofish128", TransformType::encryption, "ENCR_TWOFISH_CBC", 128),
    private_alg("twofish192", TransformType::encryption, "ENCR_TWOFISH_CBC", 192),
    private_alg("twofish256", TransformType::encryption, "ENCR_TWOFISH_CBC", 256),

    // --- Integrity (Transform Type 3) ---
    integ("sha", IntegId::hmac_sha1_96, I | E | A),
    integ("sha1", IntegId::hmac_sha1_96, I | E | A | C),
    integ("sha1_160", IntegId::hmac_sha1_160, C),
    integ("sha256", IntegId::hmac_sha2_256_128, I | E | A | C),
    integ("sha2_256", IntegId::hmac_sha2_256_128, I | E | A),
    // HMAC-SHA-256 truncated to 96 bits, as Linux kernels before 2.6.33 did
    // (RFC 4868 says 128): strongSwan imitates them under a private ID.
    private_alg("sha256_96", TransformType::integrity, "AUTH_HMAC_SHA2_256_96", 0),
    private_alg("sha2_256_96", TransformType::integrity, "AUTH_HMAC_SHA2_256_96", 0),
    integ("sha384", IntegId::hmac_sha2_384_192, I | E | A | C),
    integ("sha2_384", IntegId::hmac_sha2_384_192, I | E | A),
    integ("sha512", IntegId::hmac_sha2_512_256, I | E | A | C),
    integ("sha2_512", IntegId::hmac_sha2_512_256, I | E | A),
    integ("md5", IntegId::hmac_md5_96, I | E | A | W | C),
    integ("md5_128", IntegId::hmac_md5_128, W | C),
    // AES-XCBC-MAC-96 (RFC 3566) is implemented for ESP/AH only.
    integ("aesxcbc", IntegId::aes_xcbc_96, E | A | C),
    private_alg("camelliaxcbc", TransformType::integrity, "AUTH_CAMELLIA_XCBC_96", 0),
    integ("aescmac", IntegId::aes_cmac_96, C),

    // --- PRF (Transform Type 2) ---
    prf("prfsha1", PrfId::hmac_sha1, I | C),
    prf("prfsha256", PrfId::hmac_sha2_256, I | C),
    prf("prfsha384", PrfId::hmac_sha2_384, I | C),
    prf("prfsha512", PrfId::hmac_sha2_512, I | C),
    prf("prfmd5", PrfId::hmac_md5, I | W | C),
    prf("prfaesxcbc", PrfId::aes128_xcbc, C),
    private_alg("prfcamelliaxcbc", TransformType::prf, "PRF_CAMELLIA128_XCBC", 0),
    prf("prfaescmac", PrfId::aes128_cmac, C),

    // --- Key exchange (Transform Type 4) ---
    // NONE makes PFS optional in a Child SA proposal (RFC 7296 §3.3.3).
    // "modpnone" is the 5.x spelling, so it is the one printed.
    ke("none", KeId::none, E | A),
    ke("modpnone", KeId::none, E | A | C),
    private_alg("modpnull", TransformType::key_exchange, "MODP_NULL", 0),
    ke("modp768", KeId::modp768, I | E | A | W | C),
    ke("modp1024", KeId::modp1024, I | E | A | W | C),
    ke("modp1536", KeId::modp1536, C),
    ke("modp2048", KeId::modp2048, I | E | A | C),
    ke("modp3072", KeId::modp3072, I | E | A | C),
    ke("modp4096", KeId::modp4096, I | E | A | C),
    ke("modp6144", KeId::modp6144, C),
    ke("modp8192", KeId::modp8192, C),
    ke("ecp192", KeId::ecp192, C),
    ke("ecp224", KeId::ecp224, C),
    ke("ecp256", KeId::ecp256, I | E | A | C),
    ke("ecp384", KeId::ecp384, I | E | A | C),
    ke("ecp521", KeId::ecp521, I | E | A | C),
    ke("modp1024s160", KeId::modp1024s160, I | E | A | W | C),
    ke("modp2048s224", KeId::modp2048s224, C),
    ke("modp2048s256", KeId::modp2048s256, C),
    ke("ecp224bp", KeId::ecp224bp, C),
    ke("ecp256bp", KeId::ecp256bp, C),
    ke("ecp384bp", KeId::ecp384bp, C),
    ke("ecp512bp", KeId::ecp512bp, C),
    ke("curve25519", KeId::curve25519, I | E | A | C),
    ke("x25519", KeId::curve25519, I | E | A),
    ke("curve448", KeId::curve448, I | E | A | C),
    ke("x448", KeId::curve448, I | E | A),
    private_alg("ntru112", TransformType::key_exchange, "NTRU_112", 0),
    private_alg("ntru128", TransformType::key_exchange, "NTRU_128", 0),
    private_alg("ntru192", TransformType::key_exchange, "NTRU_192", 0),
    private_alg("ntru256", TransformType::key_exchange, "NTRU_256", 0),
    private_alg("newhope128", TransformType::key_exchange, "NEWHOPE_128", 0),
    ke("mlkem512", KeId::ml_kem_512, C),
    ke("mlkem768", KeId::ml_kem_768, C),
    ke("mlkem1024", KeId::ml_kem_1024, C),

    // --- Extended Sequence Numbers (Transform Type 5) ---
    esn("noesn", EsnId::none, E | A | C),
    esn("esn", EsnId::esn, E | A | C),
});

}  // namespace

bool ProposalKeyword::supported_for(ProposalKind kind) const {
  switch (kind) {
    case ProposalKind::ike: return (flags & kIke) != 0;
    case ProposalKind::esp: return (flags & kEsp) != 0;
    case ProposalKind::ah: return (flags & kAh) != 0;
  }
  return false;
}

std::string ProposalKeyword::algorithm_name() const {
  std::string name(in_iana_registry() ? iana::transform_name(type, id) : private_name);
  if (key_bits != 0) {
    name += '-';
    name += std::to_string(key_bits);
  }
  return name;
}

std::span<const ProposalKeyword> proposal_keywords() { return kKeywords; }

const ProposalKeyword* find_proposal_keyword(std::string_view keyword) {
  for (const ProposalKeyword& entry : kKeywords) {
    if (entry.keyword == keyword) return &entry;
  }
  return nullptr;
}

const ProposalKeyword* canonical_keyword(const Transform& transform) {
  for (const ProposalKeyword& entry : kKeywords) {
    if (entry.canonical() && entry.in_iana_registry() && entry.transform() == transform) {
      return &entry;
    }
  }
  return nullptr;
}

}  // namespace corridor::config
