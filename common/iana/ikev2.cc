#include "common/iana/ikev2.h"

#include <array>
#include <cstddef>

namespace corridor::iana {
namespace {

// "UNKNOWN_<n>" for every n below the private-use range, built at compile
// time so that the names are static and the lookup never allocates: a peer
// controls which IDs reach the logs.
struct UnknownNames {
  static constexpr std::size_t kCount = kFirstPrivateTransformId;
  static constexpr std::size_t kMaxLen = sizeof("UNKNOWN_1023") - 1;

  std::array<char, kCount * kMaxLen> text{};
  std::array<std::size_t, kCount> offset{};
  std::array<std::size_t, kCount> length{};

  constexpr std::string_view get(std::size_t n) const {
    return {text.data() + offset[n], length[n]};
  }
};

constexpr UnknownNames make_unknown_names() {
  UnknownNames names;
  constexpr std::string_view prefix = "UNKNOWN_";
  std::size_t pos = 0;
  for (std::size_t n = 0; n < UnknownNames::kCount; ++n) {
    names.offset[n] = pos;
    for (char c : prefix) names.text[pos++] = c;
    char digits[4] = {};
    std::size_t count = 0;
    std::size_t v = n;
    do {
      digits[count++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (count > 0) names.text[pos++] = digits[--count];
    names.length[n] = pos - names.offset[n];
  }
  return names;
}

constexpr UnknownNames kUnknownNames = make_unknown_names();

std::string_view unknown_name(std::uint16_t id) {
  if (id >= kFirstPrivateTransformId) return "PRIVATE_USE";
  return kUnknownNames.get(id);
}

std::string_view encryption_name(std::uint16_t id) {
  switch (static_cast<EncrId>(id)) {
    case EncrId::des_iv64: return "ENCR_DES_IV64";
    case EncrId::des: return "ENCR_DES";
    case EncrId::triple_des: return "ENCR_3DES";
    case EncrId::rc5: return "ENCR_RC5";
    case EncrId::idea: return "ENCR_IDEA";
    case EncrId::cast: return "ENCR_CAST";
    case EncrId::blowfish: return "ENCR_BLOWFISH";
    case EncrId::triple_idea: return "ENCR_3IDEA";
    case EncrId::des_iv32: return "ENCR_DES_IV32";
    case EncrId::null: return "ENCR_NULL";
    case EncrId::aes_cbc: return "ENCR_AES_CBC";
    case EncrId::aes_ctr: return "ENCR_AES_CTR";
    case EncrId::aes_ccm_8: return "ENCR_AES_CCM_8";
    case EncrId::aes_ccm_12: return "ENCR_AES_CCM_12";
    case EncrId::aes_ccm_16: return "ENCR_AES_CCM_16";
    case EncrId::aes_gcm_8: return "ENCR_AES_GCM_8";
    case EncrId::aes_gcm_12: return "ENCR_AES_GCM_12";
    case EncrId::aes_gcm_16: return "ENCR_AES_GCM_16";
    case EncrId::null_auth_aes_gmac: return "ENCR_NULL_AUTH_AES_GMAC";
    case EncrId::camellia_cbc: return "ENCR_CAMELLIA_CBC";
    case EncrId::camellia_ctr: return "ENCR_CAMELLIA_CTR";
    case EncrId::camellia_ccm_8: return "ENCR_CAMELLIA_CCM_8";
    case EncrId::camellia_ccm_12: return "ENCR_CAMELLIA_CCM_12";
    case EncrId::camellia_ccm_16: return "ENCR_CAMELLIA_CCM_16";
    case EncrId::chacha20_poly1305: return "ENCR_CHACHA20_POLY1305";
    case EncrId::aes_ccm_8_iiv: return "ENCR_AES_CCM_8_IIV";
    case EncrId::aes_gcm_16_iiv: return "ENCR_AES_GCM_16_IIV";
    case EncrId::chacha20_poly1305_iiv: return "ENCR_CHACHA20_POLY1305_IIV";
    case EncrId::kuznyechik_mgm_ktree: return "ENCR_KUZNYECHIK_MGM_KTREE";
    case EncrId::magma_mgm_ktree: return "ENCR_MAGMA_MGM_KTREE";
    case EncrId::kuznyechik_mgm_mac_ktree: return "ENCR_KUZNYECHIK_MGM_MAC_KTREE";
    case EncrId::magma_mgm_mac_ktree: return "ENCR_MAGMA_MGM_MAC_KTREE";
  }
  return unknown_name(id);
}

std::string_view prf_name(std::uint16_t id) {
  switch (static_cast<PrfId>(id)) {
    case PrfId::hmac_md5: return "PRF_HMAC_MD5";
    case PrfId::hmac_sha1: return "PRF_HMAC_SHA1";
    case PrfId::hmac_tiger: return "PRF_HMAC_TIGER";
    case PrfId::aes128_xcbc: return "PRF_AES128_XCBC";
    case PrfId::hmac_sha2_256: return "PRF_HMAC_SHA2_256";
    case PrfId::hmac_sha2_384: return "PRF_HMAC_SHA2_384";
    case PrfId::hmac_sha2_512: return "PRF_HMAC_SHA2_512";
    case PrfId::aes128_cmac: return "PRF_AES128_CMAC";
    case PrfId::hmac_streebog_512: return "PRF_HMAC_STREEBOG_512";
  }
  return unknown_name(id);
}

std::string_view integrity_name(std::uint16_t id) {
  switch (static_cast<IntegId>(id)) {
    case IntegId::none: return "NONE";
    case IntegId::hmac_md5_96: return "AUTH_HMAC_MD5_96";
    case IntegId::hmac_sha1_96: return "AUTH_HMAC_SHA1_96";
    case IntegId::des_mac: return "AUTH_DES_MAC";
    case IntegId::kpdk_md5: return "AUTH_KPDK_MD5";
    case IntegId::aes_xcbc_96: return "AUTH_AES_XCBC_96";
    case IntegId::hmac_md5_128: return "AUTH_HMAC_MD5_128";
    case IntegId::hmac_sha1_160: return "AUTH_HMAC_SHA1_160";
    case IntegId::aes_cmac_96: return "AUTH_AES_CMAC_96";
    case IntegId::aes_128_gmac: return "AUTH_AES_128_GMAC";
    case IntegId::aes_192_gmac: return "AUTH_AES_192_GMAC";
    case IntegId::aes_256_gmac: return "AUTH_AES_256_GMAC";
    case IntegId::hmac_sha2_256_128: return "AUTH_HMAC_SHA2_256_128";
    case IntegId::hmac_sha2_384_192: return "AUTH_HMAC_SHA2_384_192";
    case IntegId::hmac_sha2_512_256: return "AUTH_HMAC_SHA2_512_256";
  }
  return unknown_name(id);
}

// The registry describes groups in prose ("2048-bit MODP Group"); logs use
// the short forms strongSwan and most implementations print.
std::string_view key_exchange_name(std::uint16_t id) {
  switch (static_cast<KeId>(id)) {
    case KeId::none: return "NONE";
    case KeId::modp768: return "MODP_768";
    case KeId::modp1024: return "MODP_1024";
    case KeId::modp1536: return "MODP_1536";
    case KeId::modp2048: return "MODP_2048";
    case KeId::modp3072: return "MODP_3072";
    case KeId::modp4096: return "MODP_4096";
    case KeId::modp6144: return "MODP_6144";
    case KeId::modp8192: return "MODP_8192";
    case KeId::ecp256: return "ECP_256";
    case KeId::ecp384: return "ECP_384";
    case KeId::ecp521: return "ECP_521";
    case KeId::modp1024s160: return "MODP_1024_160";
    case KeId::modp2048s224: return "MODP_2048_224";
    case KeId::modp2048s256: return "MODP_2048_256";
    case KeId::ecp192: return "ECP_192";
    case KeId::ecp224: return "ECP_224";
    case KeId::ecp224bp: return "ECP_224_BP";
    case KeId::ecp256bp: return "ECP_256_BP";
    case KeId::ecp384bp: return "ECP_384_BP";
    case KeId::ecp512bp: return "ECP_512_BP";
    case KeId::curve25519: return "CURVE25519";
    case KeId::curve448: return "CURVE448";
    case KeId::gost3410_2012_256: return "GOST3410_2012_256";
    case KeId::gost3410_2012_512: return "GOST3410_2012_512";
    case KeId::ml_kem_512: return "ML_KEM_512";
    case KeId::ml_kem_768: return "ML_KEM_768";
    case KeId::ml_kem_1024: return "ML_KEM_1024";
  }
  return unknown_name(id);
}

std::string_view esn_name(std::uint16_t id) {
  switch (static_cast<EsnId>(id)) {
    case EsnId::none: return "NO_ESN";
    case EsnId::esn: return "ESN";
  }
  return unknown_name(id);
}

}  // namespace

std::string_view transform_type_name(TransformType type) {
  const auto value = static_cast<std::uint8_t>(type);
  switch (type) {
    case TransformType::encryption: return "ENCR";
    case TransformType::prf: return "PRF";
    case TransformType::integrity: return "INTEG";
    case TransformType::key_exchange: return "KE";
    case TransformType::esn: return "ESN";
  }
  // RFC 9370: types 6-12 carry the additional key exchanges.
  static constexpr std::array<std::string_view, 7> kAdditional = {
      "ADDKE1", "ADDKE2", "ADDKE3", "ADDKE4", "ADDKE5", "ADDKE6", "ADDKE7"};
  if (value >= 6 && value <= 12) return kAdditional[value - 6];
  return kUnknownNames.get(value);
}

std::string_view transform_name(TransformType type, std::uint16_t id) {
  switch (type) {
    case TransformType::encryption: return encryption_name(id);
    case TransformType::prf: return prf_name(id);
    case TransformType::integrity: return integrity_name(id);
    case TransformType::key_exchange: return key_exchange_name(id);
    case TransformType::esn: return esn_name(id);
  }
  // Additional key exchanges (RFC 9370) use the KE registry.
  const auto value = static_cast<std::uint8_t>(type);
  if (value >= 6 && value <= 12) return key_exchange_name(id);
  return unknown_name(id);
}

}  // namespace corridor::iana
