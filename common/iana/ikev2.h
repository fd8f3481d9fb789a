// IKEv2 specification constants: Transform Types (RFC 7296 §3.3.2) and the
// Transform IDs of the IANA "Internet Key Exchange Version 2 (IKEv2)
// Parameters" registry. Numbers here come from the standards only;
// what Corridor implements is decided elsewhere (common/config/).
#pragma once

#include <cstdint>
#include <string_view>

namespace corridor::iana {

// RFC 7296 §3.3.2. RFC 9370 renamed type 4 from "Diffie-Hellman Group (D-H)"
// to "Key Exchange Method (KE)".
enum class TransformType : std::uint8_t {
  encryption = 1,    // ENCR
  prf = 2,           // PRF
  integrity = 3,     // INTEG
  key_exchange = 4,  // KE (formerly D-H)
  esn = 5,           // ESN
};

// Transform Type 1 - Encryption Algorithm Transform IDs.
enum class EncrId : std::uint16_t {
  des_iv64 = 1,
  des = 2,
  triple_des = 3,  // ENCR_3DES
  rc5 = 4,
  idea = 5,
  cast = 6,
  blowfish = 7,
  triple_idea = 8,  // ENCR_3IDEA
  des_iv32 = 9,
  // 10 is reserved
  null = 11,  // RFC 2410
  aes_cbc = 12,  // RFC 3602
  aes_ctr = 13,  // RFC 5930
  aes_ccm_8 = 14,  // RFC 4309, RFC 5282
  aes_ccm_12 = 15,
  aes_ccm_16 = 16,
  // 17 is unassigned
  aes_gcm_8 = 18,  // RFC 4106, RFC 5282
  aes_gcm_12 = 19,
  aes_gcm_16 = 20,
  null_auth_aes_gmac = 21,  // RFC 4543 (ESP only)
  // 22 is reserved for IEEE P1619 XTS-AES
  camellia_cbc = 23,  // RFC 5529
  camellia_ctr = 24,
  camellia_ccm_8 = 25,
  camellia_ccm_12 = 26,
  camellia_ccm_16 = 27,
  chacha20_poly1305 = 28,  // RFC 7634
  aes_ccm_8_iiv = 29,  // RFC 8750 (ESP only)
  aes_gcm_16_iiv = 30,
  chacha20_poly1305_iiv = 31,
  kuznyechik_mgm_ktree = 32,  // RFC 9227
  magma_mgm_ktree = 33,
  kuznyechik_mgm_mac_ktree = 34,
  magma_mgm_mac_ktree = 35,
};

// Transform Type 2 - Pseudorandom Function Transform IDs.
enum class PrfId : std::uint16_t {
  hmac_md5 = 1,
  hmac_sha1 = 2,
  hmac_tiger = 3,
  aes128_xcbc = 4,  // RFC 4434
  hmac_sha2_256 = 5,  // RFC 4868
  hmac_sha2_384 = 6,
  hmac_sha2_512 = 7,
  aes128_cmac = 8,  // RFC 4615
  hmac_streebog_512 = 9,  // RFC 9385
};

// Transform Type 3 - Integrity Algorithm Transform IDs.
enum class IntegId : std::uint16_t {
  none = 0,
  hmac_md5_96 = 1,
  hmac_sha1_96 = 2,
  des_mac = 3,
  kpdk_md5 = 4,
  aes_xcbc_96 = 5,  // RFC 3566
  hmac_md5_128 = 6,  // RFC 4595
  hmac_sha1_160 = 7,
  aes_cmac_96 = 8,  // RFC 4494
  aes_128_gmac = 9,  // RFC 4543 (AH only)
  aes_192_gmac = 10,
  aes_256_gmac = 11,
  hmac_sha2_256_128 = 12,  // RFC 4868
  hmac_sha2_384_192 = 13,
  hmac_sha2_512_256 = 14,
};

// Transform Type 4 - Key Exchange Method Transform IDs.
enum class KeId : std::uint16_t {
  none = 0,  // ESP/AH only: no PFS
  modp768 = 1,  // RFC 7296 Appendix B
  modp1024 = 2,
  // 3 and 4 are reserved (IKEv1 EC2N groups)
  modp1536 = 5,  // RFC 3526
  // 6 to 13 are unassigned
  modp2048 = 14,  // RFC 3526
  modp3072 = 15,
  modp4096 = 16,
  modp6144 = 17,
  modp8192 = 18,
  ecp256 = 19,  // RFC 5903
  ecp384 = 20,
  ecp521 = 21,
  modp1024s160 = 22,  // RFC 5114
  modp2048s224 = 23,
  modp2048s256 = 24,
  ecp192 = 25,  // RFC 5114
  ecp224 = 26,
  ecp224bp = 27,  // RFC 6954 (Brainpool)
  ecp256bp = 28,
  ecp384bp = 29,
  ecp512bp = 30,
  curve25519 = 31,  // RFC 8031
  curve448 = 32,
  gost3410_2012_256 = 33,  // RFC 9385
  gost3410_2012_512 = 34,
  ml_kem_512 = 35,  // draft-ietf-ipsecme-ikev2-mlkem
  ml_kem_768 = 36,
  ml_kem_1024 = 37,
};

// Transform Type 5 - Extended Sequence Numbers Transform IDs.
enum class EsnId : std::uint16_t {
  none = 0,  // "No Extended Sequence Numbers"
  esn = 1,   // "Extended Sequence Numbers" (RFC 4303 §2.2.1)
};

// RFC 7296 §3.3.2: Transform IDs 1024-65535 are for private use; IANA
// assigns below that.
inline constexpr std::uint16_t kFirstPrivateTransformId = 1024;

// Combined-mode (AEAD) encryption: authenticates as well as encrypts, so a
// proposal with it must not also carry an integrity algorithm (RFC 7296
// §3.3). ENCR_NULL_AUTH_AES_GMAC counts: it is a combined mode that only
// authenticates (RFC 4543).
constexpr bool encryption_is_aead(std::uint16_t id) {
  switch (static_cast<EncrId>(id)) {
    case EncrId::aes_ccm_8:
    case EncrId::aes_ccm_12:
    case EncrId::aes_ccm_16:
    case EncrId::aes_gcm_8:
    case EncrId::aes_gcm_12:
    case EncrId::aes_gcm_16:
    case EncrId::null_auth_aes_gmac:
    case EncrId::camellia_ccm_8:
    case EncrId::camellia_ccm_12:
    case EncrId::camellia_ccm_16:
    case EncrId::chacha20_poly1305:
    case EncrId::aes_ccm_8_iiv:
    case EncrId::aes_gcm_16_iiv:
    case EncrId::chacha20_poly1305_iiv:
    case EncrId::kuznyechik_mgm_ktree:
    case EncrId::magma_mgm_ktree:
    case EncrId::kuznyechik_mgm_mac_ktree:
    case EncrId::magma_mgm_mac_ktree:
      return true;
    default:
      return false;
  }
}

// Short name of a transform type as logs and the IANA registry abbreviate
// it: "ENCR", "PRF", "INTEG", "KE", "ESN"; RFC 9370's additional key
// exchanges 6-12 are "ADDKE1".."ADDKE7"; anything else "UNKNOWN_<n>".
std::string_view transform_type_name(TransformType type);

// Name of a transform ID for logs, in the registry's spelling:
// "ENCR_AES_GCM_16", "PRF_HMAC_SHA2_384", "AUTH_HMAC_SHA2_256_128",
// "MODP_2048", "ECP_384", "CURVE25519", "ESN", "NO_ESN". An ID the registry
// does not name gives "UNKNOWN_<id>"; IDs of the private-use range
// (>= 1024) give "PRIVATE_USE", so a log line should print the number too.
// The view refers to static storage and stays valid for the program's life.
std::string_view transform_name(TransformType type, std::uint16_t id);

}  // namespace corridor::iana
