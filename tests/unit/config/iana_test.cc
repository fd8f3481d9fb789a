// IKEv2 IANA constants: every number checked against RFC 7296 §3.3.2 and
// the IANA "IKEv2 Parameters" registry (written out here as literals, not
// taken from the header under test), and the names logs print.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/iana/ikev2.h"

namespace {

using corridor::iana::EncrId;
using corridor::iana::EsnId;
using corridor::iana::IntegId;
using corridor::iana::KeId;
using corridor::iana::PrfId;
using corridor::iana::TransformType;
using corridor::iana::transform_name;
using corridor::iana::transform_type_name;

template <typename Enum>
constexpr unsigned value(Enum e) {
  return static_cast<unsigned>(e);
}

TEST(IanaIkev2, TransformTypesMatchRfc7296) {
  EXPECT_EQ(value(TransformType::encryption), 1U);
  EXPECT_EQ(value(TransformType::prf), 2U);
  EXPECT_EQ(value(TransformType::integrity), 3U);
  EXPECT_EQ(value(TransformType::key_exchange), 4U);
  EXPECT_EQ(value(TransformType::esn), 5U);
  static_assert(sizeof(TransformType) == 1, "Transform Type is one octet on the wire");
  static_assert(sizeof(EncrId) == 2 && sizeof(PrfId) == 2 && sizeof(IntegId) == 2 &&
                    sizeof(KeId) == 2 && sizeof(EsnId) == 2,
                "Transform IDs are two octets on the wire");
}

struct IdCase {
  unsigned actual;
  unsigned registry;
  TransformType type;
  std::string_view name;
};

// (enum value, registry number, type, log name). The registry numbers are
// copied from RFC 7296 §3.3.2 and the IANA registry.
const IdCase kIdCases[] = {
    {value(EncrId::des_iv64), 1, TransformType::encryption, "ENCR_DES_IV64"},
    {value(EncrId::des), 2, TransformType::encryption, "ENCR_DES"},
    {value(EncrId::triple_des), 3, TransformType::encryption, "ENCR_3DES"},
    {value(EncrId::rc5), 4, TransformType::encryption, "ENCR_RC5"},
    {value(EncrId::idea), 5, TransformType::encryption, "ENCR_IDEA"},
    {value(EncrId::cast), 6, TransformType::encryption, "ENCR_CAST"},
    {value(EncrId::blowfish), 7, TransformType::encryption, "ENCR_BLOWFISH"},
    {value(EncrId::triple_idea), 8, TransformType::encryption, "ENCR_3IDEA"},
    {value(EncrId::des_iv32), 9, TransformType::encryption, "ENCR_DES_IV32"},
    {value(EncrId::null), 11, TransformType::encryption, "ENCR_NULL"},
    {value(EncrId::aes_cbc), 12, TransformType::encryption, "ENCR_AES_CBC"},
    {value(EncrId::aes_ctr), 13, TransformType::encryption, "ENCR_AES_CTR"},
    {value(EncrId::aes_ccm_8), 14, TransformType::encryption, "ENCR_AES_CCM_8"},
    {value(EncrId::aes_ccm_12), 15, TransformType::encryption, "ENCR_AES_CCM_12"},
    {value(EncrId::aes_ccm_16), 16, TransformType::encryption, "ENCR_AES_CCM_16"},
    {value(EncrId::aes_gcm_8), 18, TransformType::encryption, "ENCR_AES_GCM_8"},
    {value(EncrId::aes_gcm_12), 19, TransformType::encryption, "ENCR_AES_GCM_12"},
    {value(EncrId::aes_gcm_16), 20, TransformType::encryption, "ENCR_AES_GCM_16"},
    {value(EncrId::null_auth_aes_gmac), 21, TransformType::encryption,
     "ENCR_NULL_AUTH_AES_GMAC"},
    {value(EncrId::camellia_cbc), 23, TransformType::encryption, "ENCR_CAMELLIA_CBC"},
    {value(EncrId::camellia_ctr), 24, TransformType::encryption, "ENCR_CAMELLIA_CTR"},
    {value(EncrId::camellia_ccm_8), 25, TransformType::encryption, "ENCR_CAMELLIA_CCM_8"},
    {value(EncrId::camellia_ccm_12), 26, TransformType::encryption, "ENCR_CAMELLIA_CCM_12"},
    {value(EncrId::camellia_ccm_16), 27, TransformType::encryption, "ENCR_CAMELLIA_CCM_16"},
    {value(EncrId::chacha20_poly1305), 28, TransformType::encryption,
     "ENCR_CHACHA20_POLY1305"},
    {value(EncrId::aes_ccm_8_iiv), 29, TransformType::encryption, "ENCR_AES_CCM_8_IIV"},
    {value(EncrId::aes_gcm_16_iiv), 30, TransformType::encryption, "ENCR_AES_GCM_16_IIV"},
    {value(EncrId::chacha20_poly1305_iiv), 31, TransformType::encryption,
     "ENCR_CHACHA20_POLY1305_IIV"},

    {value(PrfId::hmac_md5), 1, TransformType::prf, "PRF_HMAC_MD5"},
    {value(PrfId::hmac_sha1), 2, TransformType::prf, "PRF_HMAC_SHA1"},
    {value(PrfId::hmac_tiger), 3, TransformType::prf, "PRF_HMAC_TIGER"},
    {value(PrfId::aes128_xcbc), 4, TransformType::prf, "PRF_AES128_XCBC"},
    {value(PrfId::hmac_sha2_256), 5, TransformType::prf, "PRF_HMAC_SHA2_256"},
    {value(PrfId::hmac_sha2_384), 6, TransformType::prf, "PRF_HMAC_SHA2_384"},
    {value(PrfId::hmac_sha2_512), 7, TransformType::prf, "PRF_HMAC_SHA2_512"},
    {value(PrfId::aes128_cmac), 8, TransformType::prf, "PRF_AES128_CMAC"},

    {value(IntegId::none), 0, TransformType::integrity, "NONE"},
    {value(IntegId::hmac_md5_96), 1, TransformType::integrity, "AUTH_HMAC_MD5_96"},
    {value(IntegId::hmac_sha1_96), 2, TransformType::integrity, "AUTH_HMAC_SHA1_96"},
    {value(IntegId::des_mac), 3, TransformType::integrity, "AUTH_DES_MAC"},
    {value(IntegId::kpdk_md5), 4, TransformType::integrity, "AUTH_KPDK_MD5"},
    {value(IntegId::aes_xcbc_96), 5, TransformType::integrity, "AUTH_AES_XCBC_96"},
    {value(IntegId::hmac_md5_128), 6, TransformType::integrity, "AUTH_HMAC_MD5_128"},
    {value(IntegId::hmac_sha1_160), 7, TransformType::integrity, "AUTH_HMAC_SHA1_160"},
    {value(IntegId::aes_cmac_96), 8, TransformType::integrity, "AUTH_AES_CMAC_96"},
    {value(IntegId::aes_128_gmac), 9, TransformType::integrity, "AUTH_AES_128_GMAC"},
    {value(IntegId::aes_192_gmac), 10, TransformType::integrity, "AUTH_AES_192_GMAC"},
    {value(IntegId::aes_256_gmac), 11, TransformType::integrity, "AUTH_AES_256_GMAC"},
    {value(IntegId::hmac_sha2_256_128), 12, TransformType::integrity, "AUTH_HMAC_SHA2_256_128"},
    {value(IntegId::hmac_sha2_384_192), 13, TransformType::integrity, "AUTH_HMAC_SHA2_384_192"},
    {value(IntegId::hmac_sha2_512_256), 14, TransformType::integrity, "AUTH_HMAC_SHA2_512_256"},

    {value(KeId::none), 0, TransformType::key_exchange, "NONE"},
    {value(KeId::modp768), 1, TransformType::key_exchange, "MODP_768"},
    {value(KeId::modp1024), 2, TransformType::key_exchange, "MODP_1024"},
    {value(KeId::modp1536), 5, TransformType::key_exchange, "MODP_1536"},
    {value(KeId::modp2048), 14, TransformType::key_exchange, "MODP_2048"},
    {value(KeId::modp3072), 15, TransformType::key_exchange, "MODP_3072"},
    {value(KeId::modp4096), 16, TransformType::key_exchange, "MODP_4096"},
    {value(KeId::modp6144), 17, TransformType::key_exchange, "MODP_6144"},
    {value(KeId::modp8192), 18, TransformType::key_exchange, "MODP_8192"},
    {value(KeId::ecp256), 19, TransformType::key_exchange, "ECP_256"},
    {value(KeId::ecp384), 20, TransformType::key_exchange, "ECP_384"},
    {value(KeId::ecp521), 21, TransformType::key_exchange, "ECP_521"},
    {value(KeId::modp1024s160), 22, TransformType::key_exchange, "MODP_1024_160"},
    {value(KeId::modp2048s224), 23, TransformType::key_exchange, "MODP_2048_224"},
    {value(KeId::modp2048s256), 24, TransformType::key_exchange, "MODP_2048_256"},
    {value(KeId::ecp192), 25, TransformType::key_exchange, "ECP_192"},
    {value(KeId::ecp224), 26, TransformType::key_exchange, "ECP_224"},
    {value(KeId::ecp224bp), 27, TransformType::key_exchange, "ECP_224_BP"},
    {value(KeId::ecp256bp), 28, TransformType::key_exchange, "ECP_256_BP"},
    {value(KeId::ecp384bp), 29, TransformType::key_exchange, "ECP_384_BP"},
    {value(KeId::ecp512bp), 30, TransformType::key_exchange, "ECP_512_BP"},
    {value(KeId::curve25519), 31, TransformType::key_exchange, "CURVE25519"},
    {value(KeId::curve448), 32, TransformType::key_exchange, "CURVE448"},
    {value(KeId::ml_kem_512), 35, TransformType::key_exchange, "ML_KEM_512"},
    {value(KeId::ml_kem_768), 36, TransformType::key_exchange, "ML_KEM_768"},
    {value(KeId::ml_kem_1024), 37, TransformType::key_exchange, "ML_KEM_1024"},

    {value(EsnId::none), 0, TransformType::esn, "NO_ESN"},
    {value(EsnId::esn), 1, TransformType::esn, "ESN"},
};

TEST(IanaIkev2, TransformIdsMatchRegistry) {
  for (const IdCase& c : kIdCases) {
    SCOPED_TRACE(std::string(c.name));
    EXPECT_EQ(c.actual, c.registry);
  }
}

TEST(IanaIkev2, TransformNamesForLogs) {
  for (const IdCase& c : kIdCases) {
    EXPECT_EQ(transform_name(c.type, static_cast<std::uint16_t>(c.registry)), c.name)
        << "type " << value(c.type) << " id " << c.registry;
  }
}

TEST(IanaIkev2, TransformTypeNames) {
  EXPECT_EQ(transform_type_name(TransformType::encryption), "ENCR");
  EXPECT_EQ(transform_type_name(TransformType::prf), "PRF");
  EXPECT_EQ(transform_type_name(TransformType::integrity), "INTEG");
  EXPECT_EQ(transform_type_name(TransformType::key_exchange), "KE");
  EXPECT_EQ(transform_type_name(TransformType::esn), "ESN");
  // RFC 9370 additional key exchanges.
  EXPECT_EQ(transform_type_name(static_cast<TransformType>(6)), "ADDKE1");
  EXPECT_EQ(transform_type_name(static_cast<TransformType>(12)), "ADDKE7");
  EXPECT_EQ(transform_type_name(static_cast<TransformType>(0)), "UNKNOWN_0");
  EXPECT_EQ(transform_type_name(static_cast<TransformType>(13)), "UNKNOWN_13");
  EXPECT_EQ(transform_type_name(static_cast<TransformType>(255)), "UNKNOWN_255");
}

TEST(IanaIkev2, UnassignedIdsAreUnknownWithTheirNumber) {
  EXPECT_EQ(transform_name(TransformType::encryption, 0), "UNKNOWN_0");
  EXPECT_EQ(transform_name(TransformType::encryption, 10), "UNKNOWN_10");  // reserved
  EXPECT_EQ(transform_name(TransformType::encryption, 17), "UNKNOWN_17");  // unassigned
  EXPECT_EQ(transform_name(TransformType::encryption, 22), "UNKNOWN_22");  // XTS-AES reserved
  EXPECT_EQ(transform_name(TransformType::prf, 0), "UNKNOWN_0");
  EXPECT_EQ(transform_name(TransformType::integrity, 15), "UNKNOWN_15");
  EXPECT_EQ(transform_name(TransformType::key_exchange, 3), "UNKNOWN_3");
  EXPECT_EQ(transform_name(TransformType::key_exchange, 999), "UNKNOWN_999");
  EXPECT_EQ(transform_name(TransformType::esn, 2), "UNKNOWN_2");
  EXPECT_EQ(transform_name(TransformType::esn, 1023), "UNKNOWN_1023");
  EXPECT_EQ(transform_name(static_cast<TransformType>(99), 12), "UNKNOWN_12");
}

TEST(IanaIkev2, PrivateUseIds) {
  // RFC 7296 §3.3.2: 1024-65535 are for private use.
  EXPECT_EQ(corridor::iana::kFirstPrivateTransformId, 1024);
  EXPECT_EQ(transform_name(TransformType::encryption, 1024), "PRIVATE_USE");
  EXPECT_EQ(transform_name(TransformType::key_exchange, 65535), "PRIVATE_USE");
}

TEST(IanaIkev2, AdditionalKeyExchangeTypesUseTheKeRegistry) {
  EXPECT_EQ(transform_name(static_cast<TransformType>(6), 36), "ML_KEM_768");
  EXPECT_EQ(transform_name(static_cast<TransformType>(12), 31), "CURVE25519");
}

TEST(IanaIkev2, NamesAreStatic) {
  // The view must outlive the call: the same bytes each time.
  const std::string_view first = transform_name(TransformType::encryption, 17);
  const std::string_view second = transform_name(TransformType::encryption, 17);
  EXPECT_EQ(first.data(), second.data());
  EXPECT_EQ(transform_name(TransformType::encryption, 20).data(),
            transform_name(TransformType::encryption, 20).data());
}

TEST(IanaIkev2, CombinedModeEncryption) {
  for (unsigned id : {14U, 15U, 16U, 18U, 19U, 20U, 21U, 25U, 26U, 27U, 28U, 29U, 30U, 31U}) {
    EXPECT_TRUE(corridor::iana::encryption_is_aead(static_cast<std::uint16_t>(id))) << id;
  }
  for (unsigned id : {0U, 1U, 2U, 3U, 7U, 11U, 12U, 13U, 17U, 22U, 23U, 24U, 1024U, 65535U}) {
    EXPECT_FALSE(corridor::iana::encryption_is_aead(static_cast<std::uint16_t>(id))) << id;
  }
}

}  // namespace
