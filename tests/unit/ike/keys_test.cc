// Known-answer tests for IKEv2 key derivation.
//
// PRFs: RFC 4231 §4.2/§4.3/§4.7 and RFC 4868 §2.7.1 (PRF-1) vectors, copied
// from the RFCs. prf+, SKEYSEED, SK_*, rekeyed SKEYSEED and KEYMAT: computed
// at test-writing time by a separate Python 3 script that builds HMAC by
// hand from hashlib digests (RFC 2104 ipad/opad), prf+ from RFC 7296 §2.13
// and the key splits from §2.14, §2.17 and §2.18; its output is pasted
// below (the script is keys_kat.py next to this file). The inputs are the
// simple byte patterns written next to them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/ike/keys.h"
#include "tests/unit/ike/ike_test_support.h"

namespace {

using namespace corridor::ike;  // NOLINT: test brevity
using corridor::iana::PrfId;
using corridor::ike::test::from_hex;

std::vector<std::uint8_t> bytes(const SecretBytes& s) { return {s.data(), s.data() + s.size()}; }
std::vector<std::uint8_t> text(const std::string& s) { return {s.begin(), s.end()}; }
std::vector<std::uint8_t> fill(std::uint8_t v, std::size_t n) { return std::vector<std::uint8_t>(n, v); }
std::vector<std::uint8_t> range(std::uint8_t from, std::size_t n) {
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(from + i);
  return out;
}

std::vector<std::uint8_t> prf_of(PrfId id, const std::vector<std::uint8_t>& key, const std::vector<std::uint8_t>& data) {
  auto out = prf(id, key, data);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message);
  return out.ok() ? bytes(*out) : std::vector<std::uint8_t>{};
}

TEST(IkePrf, Rfc4231HmacVectors) {
  // Test Case 1.
  EXPECT_EQ(prf_of(PrfId::hmac_sha2_256, fill(0x0b, 20), text("Hi There")),
            from_hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
  // Test Case 2.
  const auto jefe = text("Jefe");
  const auto what = text("what do ya want for nothing?");
  EXPECT_EQ(prf_of(PrfId::hmac_sha2_256, jefe, what),
            from_hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  EXPECT_EQ(prf_of(PrfId::hmac_sha2_384, jefe, what),
            from_hex("af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
                     "8e2240ca5e69e2c78b3239ecfab21649"));
  EXPECT_EQ(prf_of(PrfId::hmac_sha2_512, jefe, what),
            from_hex("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                     "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"));
  // Test Case 6: a key longer than the block is hashed first.
  EXPECT_EQ(prf_of(PrfId::hmac_sha2_512, fill(0xaa, 131), text("Test Using Larger Than Block-Size Key - Hash Key First")),
            from_hex("80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
                     "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"));
}

TEST(IkePrf, Rfc4868PrfVectors) {
  // §2.7.1 Test Case PRF-1: key of the PRF's output size, "Hi There".
  EXPECT_EQ(prf_of(PrfId::hmac_sha2_256, fill(0x0b, 32), text("Hi There")),
            from_hex("198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"));
  EXPECT_EQ(prf_of(PrfId::hmac_sha2_384, fill(0x0b, 48), text("Hi There")),
            from_hex("b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee9737a959796489bddbc"
                     "4c5df61d5b3297b4fb68dab9f1b582c2"));
  EXPECT_EQ(prf_of(PrfId::hmac_sha2_512, fill(0x0b, 64), text("Hi There")),
            from_hex("637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"
                     "ac2878ebd5803f6f0b61dbce5e251ff8789a4722c1be65aea45fd464e89f8f5b"));
  EXPECT_EQ(*prf_size(PrfId::hmac_sha2_384), 48U);
  auto bad = prf(PrfId::aes128_xcbc, fill(1, 16), text("x"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, KeyErrc::unsupported_prf);
}

TEST(IkePrf, PrfPlus) {
  // Key 00 01 .. 1f, seed "corridor prf+ seed".
  const auto key = range(0, 32);
  const auto seed = text("corridor prf+ seed");
  auto out = prf_plus(PrfId::hmac_sha2_256, key, seed, 100);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(bytes(*out), from_hex("e8ce8966838d3132f93622fd6bb12c7bc8ea5cea747c39b7f60d62e02579977f"
                                  "66d0a7ef1991f32fa5eec56aec3df3e309cdf64cbb6d275ec9ebdd6fd26064b8"
                                  "475797d96e5707b77953aaff7ebc5e6990d1f2e87fb2597c38e1c24ba79df67d"
                                  "10990b81"));
  out = prf_plus(PrfId::hmac_sha2_512, key, seed, 130);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(bytes(*out), from_hex("27d334ffe61d7cdcdb9ffc2fe6fe937eb9681303f78e31e72229b53d25dd40e5"
                                  "2a2945a7b86686c0079456cd851d9124ec54ddb5cf3e0c2d09eeedc3c34ac954"
                                  "21e5eb2a2c0610f4aa87cecd4287fa1af3829728353f39ecd864f4502a1a31d2"
                                  "a1b6f234ca3e5c3caac7302fb4da9388fa270ee74166b9dfc162178e78447fbf"
                                  "c3bf"));
  // The one-octet counter allows 255 blocks.
  EXPECT_TRUE(prf_plus(PrfId::hmac_sha2_256, key, seed, 255 * 32).ok());
  auto too_long = prf_plus(PrfId::hmac_sha2_256, key, seed, 255 * 32 + 1);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, KeyErrc::output_too_long);
}

// Common inputs: Ni = 10..2f, Nr = 40..5f, g^ir = 80..9f,
// SPIi = 0102030405060708, SPIr = 1112131415161718.
const auto kNi = range(0x10, 32);
const auto kNr = range(0x40, 32);
const auto kGir = range(0x80, 32);
const auto kSpiI = from_hex("0102030405060708");
const auto kSpiR = from_hex("1112131415161718");

TEST(IkeKeys, ClassicSuite) {
  // aes256-sha256-prfsha256: ENCR_AES_CBC 256, AUTH_HMAC_SHA2_256_128, PRF_HMAC_SHA2_256.
  const IkeSuite suite{12, 256, 12, PrfId::hmac_sha2_256};
  auto seed = skeyseed(suite.prf, kNi, kNr, kGir);
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(bytes(*seed), from_hex("d962ef6e1398f0b4c4a0541c7ce335a4eb85a116a981052a841ee091a413cacb"));
  auto keys = derive_ike_sa_keys(suite, kNi, kNr, kGir, kSpiI, kSpiR);
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(bytes(keys->sk_d), from_hex("c722ec79f3a6f0fdf87e7d7286473ceedfc74bf31ac7839e19182a1423795f9e"));
  EXPECT_EQ(bytes(keys->sk_ai), from_hex("d5059c6d4aa25e27ad4c0f860b90ccd9ca06fb1931f2b2f36f0b0fa2f5e6374d"));
  EXPECT_EQ(bytes(keys->sk_ar), from_hex("9ef86245814f6807fea335556ec21e4b17b916775a7ae93b8b2b04a0e5d51382"));
  EXPECT_EQ(bytes(keys->sk_ei), from_hex("010462b0dd90c5a9331cde56e9c2c7bab1558566bee0337afcf43c5d50b22276"));
  EXPECT_EQ(bytes(keys->sk_er), from_hex("856b5081172d29354a66752eb21ca7f0661cdc5db04232cff5fc6f18f6542a72"));
  EXPECT_EQ(bytes(keys->sk_pi), from_hex("5ea13121d56eb4117e3bba0e0e9889870821a071acb94a43cc11491e739e7343"));
  EXPECT_EQ(bytes(keys->sk_pr), from_hex("e65667302cf21036f38897f1978b6ee3a95285135855d319981f0cdb08ef494c"));
}

TEST(IkeKeys, AeadSuiteHasNoSkAAndSaltInSkE) {
  // aes256gcm16-prfsha384: ENCR_AES_GCM_16 256 (32 + 4 salt), PRF_HMAC_SHA2_384.
  const IkeSuite suite{20, 256, 0, PrfId::hmac_sha2_384};
  auto keys = derive_ike_sa_keys(suite, kNi, kNr, kGir, kSpiI, kSpiR);
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_TRUE(keys->sk_ai.empty());
  EXPECT_TRUE(keys->sk_ar.empty());
  EXPECT_EQ(bytes(keys->sk_d), from_hex("b38cd05d444c96fd6f6ebde9c6b683966d8d021591efa1d4"
                                        "09290e0b552e9a7d19f1291e3b0228c81dbf53a71b8c5e11"));
  EXPECT_EQ(bytes(keys->sk_ei), from_hex("a07e48412645c0a79756ce68e0cca29cfb30d470da73924e95f6323c2d5501702926fe47"));
  EXPECT_EQ(bytes(keys->sk_er), from_hex("32ccab714343df2da1cadd48b005b9373da4cd78f91a4f179d0d09c08d7d5893f79722be"));
  EXPECT_EQ(bytes(keys->sk_pi), from_hex("aecc0433f5f66b1eefb6748e78232d2123b1da4d35c8ea15"
                                         "0563ef3483ec87df3984a22a2ef75e60d78047cdf57caa1a"));
  EXPECT_EQ(bytes(keys->sk_pr), from_hex("06c08d6652dee995899c3af26efb2f38e522eb3a15fc79e3"
                                         "6087f29bb8246a90f2738a0f4b262b762f14213d71aded20"));
}

TEST(IkeKeys, RekeyedIkeSaUsesOldPrfAndSkD) {
  // The classic suite's IKE SA rekeyed into the AEAD suite: SKEYSEED with
  // PRF_HMAC_SHA2_256 and the old SK_d; Ni' = 21.., Nr' = 22.., g^ir' = 23.. (48),
  // new SPIs a1..a8 / b1..b8.
  const IkeSuite old_suite{12, 256, 12, PrfId::hmac_sha2_256};
  auto old_keys = derive_ike_sa_keys(old_suite, kNi, kNr, kGir, kSpiI, kSpiR);
  ASSERT_TRUE(old_keys.ok());
  const auto ni = fill(0x21, 32), nr = fill(0x22, 32), gir = fill(0x23, 48);
  const auto spi_i = from_hex("a1a2a3a4a5a6a7a8"), spi_r = from_hex("b1b2b3b4b5b6b7b8");
  auto seed = rekeyed_skeyseed(PrfId::hmac_sha2_256, old_keys->sk_d, gir, ni, nr);
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(bytes(*seed), from_hex("57f2b74200928dc5245a3bb08c03f16ba89e7c610aef752ce9446a20709111c6"));
  const IkeSuite new_suite{20, 256, 0, PrfId::hmac_sha2_384};
  auto keys = derive_rekeyed_ike_sa_keys(PrfId::hmac_sha2_256, old_keys->sk_d, new_suite, gir, ni, nr, spi_i, spi_r);
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(bytes(keys->sk_d), from_hex("e27ab045bf92e82b0833d233a6be55022d3911ab5fec9261"
                                        "753774329b8e4491d8f8d2d2892eede5293b7e636538bbc4"));
  EXPECT_EQ(bytes(keys->sk_ei), from_hex("af2432b844b6d328ab6391e18d9d6043682e5c76257b4e40003659aa85be2606ceaa7e53"));
  EXPECT_EQ(bytes(keys->sk_er), from_hex("f2cca9f50f7c2b495b18c43819ec8c6caa7842e0f74706c87889b75a506ccd388a3c4fcb"));
  EXPECT_EQ(bytes(keys->sk_pi), from_hex("f47021dfbb7f425fdec1fe1f7d835169136fcc47a77bb3b0"
                                         "0b4385e020c8d696cd01d0f9b0afacc24701658f57f45334"));
  EXPECT_EQ(bytes(keys->sk_pr), from_hex("80f3baca13e27677cd3e170751608bb2c3ba3bb16de8b174"
                                         "0cfd986e689484e6dde7026fd8c460cb27c1067352f056aa"));
}

TEST(IkeKeys, ChildSaKeymat) {
  const IkeSuite suite{12, 256, 12, PrfId::hmac_sha2_256};
  auto ike = derive_ike_sa_keys(suite, kNi, kNr, kGir, kSpiI, kSpiR);
  ASSERT_TRUE(ike.ok());
  const auto ni = fill(0x21, 32), nr = fill(0x22, 32), gir = fill(0x23, 48);
  // ESP aes128gcm16 (16 + 4 salt), no PFS: KEYMAT = prf+(SK_d, Ni | Nr).
  auto gcm = derive_child_sa_keys(PrfId::hmac_sha2_256, ike->sk_d, ChildSuite{20, 128, 0}, {}, ni, nr);
  ASSERT_TRUE(gcm.ok()) << gcm.error().message;
  EXPECT_EQ(bytes(gcm->encryption_i), from_hex("4399cb0340a2c12969a69a2a5316067e1dbcc02e"));
  EXPECT_EQ(bytes(gcm->encryption_r), from_hex("47ced07cd85e4a2b345843ea610ffeac920eac0c"));
  EXPECT_TRUE(gcm->integrity_i.empty());
  EXPECT_TRUE(gcm->integrity_r.empty());
  // ESP aes128-sha256 with PFS: KEYMAT = prf+(SK_d, g^ir | Ni | Nr), split Ei Ai Er Ar.
  auto cbc = derive_child_sa_keys(PrfId::hmac_sha2_256, ike->sk_d, ChildSuite{12, 128, 12}, gir, ni, nr);
  ASSERT_TRUE(cbc.ok()) << cbc.error().message;
  EXPECT_EQ(bytes(cbc->encryption_i), from_hex("98e071204fe642ac4f88859e8ffa3156"));
  EXPECT_EQ(bytes(cbc->integrity_i), from_hex("d7d951f9ac61f6818f3e36e28a13341c615aa7414c10727a5f15bd9e7630b2ce"));
  EXPECT_EQ(bytes(cbc->encryption_r), from_hex("9f7aa47c5be7ca293388e321065aff9c"));
  EXPECT_EQ(bytes(cbc->integrity_r), from_hex("2188540e241d9b735063d597d13bafbad34608dbc6e479f9b2171e39644fcb31"));
  // AH with HMAC-SHA2-256-128, no PFS: the same prf+ stream as the GCM case
  // above, split Ai Ar (32 bytes each): Ai starts with GCM's Ei (bytes 0-19),
  // Ar (bytes 32-63) with the last 8 bytes of GCM's Er (bytes 20-39).
  auto ah = derive_child_sa_keys(PrfId::hmac_sha2_256, ike->sk_d, ChildSuite{0, 0, 12}, {}, ni, nr);
  ASSERT_TRUE(ah.ok()) << ah.error().message;
  EXPECT_TRUE(ah->encryption_i.empty());
  EXPECT_TRUE(ah->encryption_r.empty());
  ASSERT_EQ(ah->integrity_i.size(), 32U);
  ASSERT_EQ(ah->integrity_r.size(), 32U);
  const auto ai = bytes(ah->integrity_i), ar = bytes(ah->integrity_r), gcm_er = bytes(gcm->encryption_r);
  EXPECT_EQ(std::vector<std::uint8_t>(ai.begin(), ai.begin() + 20), bytes(gcm->encryption_i));
  EXPECT_EQ(std::vector<std::uint8_t>(ar.begin(), ar.begin() + 8),
            std::vector<std::uint8_t>(gcm_er.begin() + 12, gcm_er.end()));
  // Neither encryption nor integrity: refused, not an empty KEYMAT.
  EXPECT_EQ(derive_child_sa_keys(PrfId::hmac_sha2_256, ike->sk_d, ChildSuite{0, 0, 0}, {}, ni, nr).error().code,
            KeyErrc::missing_integrity);
}

TEST(IkeKeys, KeySizesFromTransforms) {
  EXPECT_EQ(*encryption_key_size(12, 128), 16U);
  EXPECT_EQ(*encryption_key_size(12, 256), 32U);
  EXPECT_EQ(*encryption_key_size(20, 128), 20U);  // AES-GCM: 4-byte salt
  EXPECT_EQ(*encryption_key_size(16, 256), 35U);  // AES-CCM: 3-byte salt
  EXPECT_EQ(*encryption_key_size(13, 128), 20U);  // AES-CTR: 4-byte nonce
  EXPECT_EQ(*encryption_key_size(28, 0), 36U);    // ChaCha20-Poly1305: 32 + 4
  EXPECT_EQ(*encryption_key_size(3, 0), 24U);     // 3DES
  EXPECT_EQ(*integrity_key_size(12), 32U);
  EXPECT_EQ(*integrity_key_size(13), 48U);
  EXPECT_EQ(*integrity_key_size(14), 64U);
  EXPECT_EQ(*integrity_key_size(2), 20U);
  EXPECT_EQ(encryption_key_size(12, 0).error().code, KeyErrc::bad_key_length);
  EXPECT_EQ(encryption_key_size(12, 64).error().code, KeyErrc::bad_key_length);
  EXPECT_EQ(encryption_key_size(28, 128).error().code, KeyErrc::bad_key_length);
  EXPECT_EQ(encryption_key_size(23, 128).error().code, KeyErrc::unsupported_encryption);  // Camellia
  EXPECT_EQ(integrity_key_size(9).error().code, KeyErrc::unsupported_integrity);

  // ChaCha20-Poly1305 IKE SA with PRF_HMAC_SHA2_256: SK_e of 36 bytes.
  auto chacha = derive_ike_sa_keys(IkeSuite{28, 0, 0, PrfId::hmac_sha2_256}, kNi, kNr, kGir, kSpiI, kSpiR);
  ASSERT_TRUE(chacha.ok());
  EXPECT_EQ(chacha->sk_ei.size(), 36U);
  EXPECT_EQ(chacha->sk_d.size(), 32U);
  EXPECT_TRUE(chacha->sk_ai.empty());
  // SK_d is the first 32 bytes of the same prf+ stream as the classic suite's.
  auto classic = derive_ike_sa_keys(IkeSuite{12, 256, 12, PrfId::hmac_sha2_256}, kNi, kNr, kGir, kSpiI, kSpiR);
  EXPECT_TRUE(chacha->sk_d.equals(classic->sk_d));

  auto both = derive_ike_sa_keys(IkeSuite{20, 256, 12, PrfId::hmac_sha2_256}, kNi, kNr, kGir, kSpiI, kSpiR);
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().code, KeyErrc::aead_with_integrity);
  auto none = derive_ike_sa_keys(IkeSuite{12, 256, 0, PrfId::hmac_sha2_256}, kNi, kNr, kGir, kSpiI, kSpiR);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, KeyErrc::missing_integrity);
  auto xcbc = derive_ike_sa_keys(IkeSuite{12, 256, 12, PrfId::aes128_xcbc}, kNi, kNr, kGir, kSpiI, kSpiR);
  ASSERT_FALSE(xcbc.ok());
  EXPECT_EQ(xcbc.error().code, KeyErrc::unsupported_prf);
}

}  // namespace
