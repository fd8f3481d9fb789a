// Known-answer tests for IKEv1 key derivation, authentication hashes and
// the Phase 1 cipher (common/ikev1/keys.h, cipher.h).
//
// The answers were computed at test-writing time by keys_kat.py next to this
// file: HMAC built by hand from hashlib digests (RFC 2104), the derivations
// written from RFC 2409 §5, §5.5 and Appendix B, CBC from
// python3-cryptography. Inputs are the byte patterns written below.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/ikev1/cipher.h"
#include "common/ikev1/keys.h"
#include "tests/unit/ike/ike_test_support.h"

namespace {

using namespace corridor::ikev1;  // NOLINT: test brevity
using corridor::iana::PrfId;
using corridor::iana::ikev1::Phase1Encryption;
using corridor::iana::ikev1::Phase1Hash;
using corridor::iana::ikev1::ProtocolId;
using corridor::ike::test::from_hex;
using Bytes = std::vector<std::uint8_t>;

Bytes bytes(const SecretBytes& s) { return {s.data(), s.data() + s.size()}; }
Bytes fill(std::uint8_t v, std::size_t n) { return Bytes(n, v); }
Bytes range(std::uint8_t from, std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(from + i);
  return out;
}

// The inputs of keys_kat.py.
struct Inputs {
  Bytes ni = range(0x10, 32), nr = range(0x40, 32);
  Bytes gxy = range(0x80, 64), gxi = fill(0x31, 64), gxr = fill(0x32, 64);
  Bytes cky_i = from_hex("0102030405060708"), cky_r = from_hex("1112131415161718");
  std::string psk_text = "correct-horse-battery-staple-42";
  Bytes psk{psk_text.begin(), psk_text.end()};
  Bytes sai_b = from_hex("00000001000000010000002c01010001000000240101000080010007800e0080800200028003000180040002");
  Bytes idii_b = from_hex("01000000c6336401"), idir_b = from_hex("01000000c6336402");
  Bytes last_block = range(0xa0, 16);
  std::uint32_t mid = 0x01020304;
  Bytes qni = fill(0x51, 16), qnr = fill(0x52, 16);
  Bytes rest = from_hex("0a00001401020304");
  Bytes spi = from_hex("c1c2c3c4");
  Bytes gqm = fill(0x77, 32);
};

Phase1Keys derive(const Phase1Suite& suite, SecretBytes skeyid) {
  Inputs in;
  auto keys = derive_phase1_keys(suite, std::move(skeyid), in.gxy, in.cky_i, in.cky_r, in.gxi, in.gxr);
  EXPECT_TRUE(keys.ok()) << (keys.ok() ? "" : keys.error().message);
  return keys.ok() ? std::move(*keys) : Phase1Keys{};
}

SecretBytes psk_skeyid() {
  Inputs in;
  auto s = skeyid_psk(PrfId::hmac_sha1, in.psk, in.ni, in.nr);
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : SecretBytes{};
}

TEST(Ikev1Keys, PskSha1Aes128UsesTheStartOfSkeyidE) {
  auto k = derive({Phase1Encryption::aes_cbc, 128, PrfId::hmac_sha1}, psk_skeyid());
  EXPECT_EQ(bytes(k.skeyid), from_hex("02575a1ea9f00ffc577b9af569fa796ea995422f"));
  EXPECT_EQ(bytes(k.skeyid_d), from_hex("c9c2c045b07ac6006bd01ee7f2b8e727d3373d42"));
  EXPECT_EQ(bytes(k.skeyid_a), from_hex("3ddaae32aebca4379bd742474735d6b3af2df499"));
  EXPECT_EQ(bytes(k.skeyid_e), from_hex("e188bcecfcac2546bc7cc83d0c066de2ac3a355a"));
  EXPECT_EQ(bytes(k.encryption_key), from_hex("e188bcecfcac2546bc7cc83d0c066de2"));
  EXPECT_EQ(k.iv, from_hex("d173e10fac6d9364f44a652274521c64"));
}

TEST(Ikev1Keys, ShortSkeyidEIsExpandedPerAppendixB) {
  // AES-256 needs 32 bytes, SHA1 gives 20: K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1).
  auto k = derive({Phase1Encryption::aes_cbc, 256, PrfId::hmac_sha1}, psk_skeyid());
  EXPECT_EQ(bytes(k.encryption_key), from_hex("af98bdcb8fff77ce8bc3d072189f4354b668a754762adf5d6c73bed41ddce9e1"));
  auto des = derive({Phase1Encryption::triple_des_cbc, 0, PrfId::hmac_sha1}, psk_skeyid());
  EXPECT_EQ(bytes(des.encryption_key), from_hex("af98bdcb8fff77ce8bc3d072189f4354b668a754762adf5d"));
  EXPECT_EQ(des.iv, from_hex("d173e10fac6d9364"));  // cut to the 8-byte 3DES block
}

TEST(Ikev1Keys, SignatureSkeyidSha256) {
  Inputs in;
  auto skeyid = skeyid_signature(PrfId::hmac_sha2_256, in.ni, in.nr, in.gxy);
  ASSERT_TRUE(skeyid.ok());
  auto k = derive({Phase1Encryption::aes_cbc, 256, PrfId::hmac_sha2_256}, *skeyid);
  EXPECT_EQ(bytes(k.skeyid), from_hex("9b01a1a22a62297f2b989fad414426bc928035943c775d41c26feba347768ca6"));
  EXPECT_EQ(bytes(k.skeyid_d), from_hex("c881c892c7e3ee8baf3eb934e9d5ea70d5c6f79536f4a631a2227fa8bc29fdf6"));
  EXPECT_EQ(bytes(k.skeyid_a), from_hex("ac3a4fd6be70a2729c96a9659e1f0423659b5b4effd9d5ea2076bca9891cb8e1"));
  EXPECT_EQ(bytes(k.encryption_key), from_hex("1e3aefa91b2ea2860778fc27f0f11229655afebdab90ee98d7e24532a6d65e9d"));
  EXPECT_EQ(k.iv, from_hex("ca9034371c79ec26ec0496b53420a111"));
}

TEST(Ikev1Keys, MainModeHashes) {
  Inputs in;
  const Phase1Transcript t{in.gxi, in.gxr, in.cky_i, in.cky_r, in.sai_b};
  auto a = psk_skeyid();
  auto hi = hash_i(PrfId::hmac_sha1, a, t, in.idii_b);
  auto hr = hash_r(PrfId::hmac_sha1, a, t, in.idir_b);
  ASSERT_TRUE(hi.ok() && hr.ok());
  EXPECT_EQ(*hi, from_hex("84467812db2d099404ea613294be79d3852ddb80"));
  EXPECT_EQ(*hr, from_hex("acd7b2523dbb0a99ba97d25b4a64c624f01c1b02"));
  auto skeyid_c = skeyid_signature(PrfId::hmac_sha2_256, in.ni, in.nr, in.gxy);
  auto hc = hash_i(PrfId::hmac_sha2_256, *skeyid_c, t, in.idii_b);
  EXPECT_EQ(*hc, from_hex("1caa19aa462273d071b0ed4024332f8ca89770ab6e13d1d2647e44ac77127976"));
}

TEST(Ikev1Keys, PhaseTwoIv) {
  Inputs in;
  EXPECT_EQ(*phase2_iv(PrfId::hmac_sha1, in.last_block, in.mid, 16), from_hex("9d717368ae3fbbd11980bbc5d33161c3"));
  EXPECT_EQ(*phase2_iv(PrfId::hmac_sha2_256, in.last_block, in.mid, 16), from_hex("2afdd41977e6077e0dd67830a6b62404"));
}

TEST(Ikev1Keys, QuickModeHashesAndKeymat) {
  Inputs in;
  auto skeyid = skeyid_signature(PrfId::hmac_sha2_256, in.ni, in.nr, in.gxy);
  auto k = derive({Phase1Encryption::aes_cbc, 256, PrfId::hmac_sha2_256}, *skeyid);
  const auto prf = PrfId::hmac_sha2_256;
  EXPECT_EQ(*hash_1(prf, k.skeyid_a, in.mid, in.rest),
            from_hex("77855500ca9441106f4ec8c91bf31f33d62048e4bc8162f67509d32cb97e9b5f"));
  EXPECT_EQ(*hash_2(prf, k.skeyid_a, in.mid, in.qni, in.rest),
            from_hex("d3a1de15e3bf748f09e3dc6c8c2e155629bc8d837c301568a96f88d753dd727f"));
  EXPECT_EQ(*hash_3(prf, k.skeyid_a, in.mid, in.qni, in.qnr),
            from_hex("932508016c7928ba9928738f417a48e5d9d58a85d4febdb8bf4d31aef414adc3"));
  auto km = keymat(prf, k.skeyid_d, {}, ProtocolId::esp, in.spi, in.qni, in.qnr, 48);
  ASSERT_TRUE(km.ok());
  EXPECT_EQ(bytes(*km), from_hex("ead421811b996735ec74fbc92f8ae5d3be25402f9d82519982447789304d657e"
                                 "19ca19ea7e4fa83e605988bc5a415476"));
  auto pfs = keymat(prf, k.skeyid_d, in.gqm, ProtocolId::esp, in.spi, in.qni, in.qnr, 80);
  ASSERT_TRUE(pfs.ok());
  EXPECT_EQ(bytes(*pfs), from_hex("56c0953289023946101f8e38000d60bc586ef6f20035c3ba910d5067cb649545"
                                  "e204ed9d1336a8ea27804b50ed21eacdee5516aeeb7fe7d6cd316a61c77401ba"
                                  "a5e74f5e0f53f5d7a9a4fc2fc2e712c5"));
  auto a = derive({Phase1Encryption::aes_cbc, 128, PrfId::hmac_sha1}, psk_skeyid());
  auto ah = keymat(PrfId::hmac_sha1, a.skeyid_d, {}, ProtocolId::ah, in.spi, in.qni, in.qnr, 20);
  EXPECT_EQ(bytes(*ah), from_hex("8814a4a6434871a2f5599ef379b790d7926502a2"));
}

TEST(Ikev1Keys, RefusesWhatIsNotImplemented) {
  EXPECT_EQ(prf_for_hash(Phase1Hash::md5).error().code, KeyErrc::unsupported_prf);
  EXPECT_EQ(*prf_for_hash(Phase1Hash::sha2_384), PrfId::hmac_sha2_384);
  EXPECT_EQ(phase1_key_size({Phase1Encryption::aes_cbc, 100, PrfId::hmac_sha1}).error().code, KeyErrc::bad_key_length);
  EXPECT_EQ(phase1_key_size({Phase1Encryption::des_cbc, 0, PrfId::hmac_sha1}).error().code,
            KeyErrc::unsupported_encryption);
}

TEST(Ikev1Cipher, AesCbcPadsWithZerosAndRoundTrips) {
  auto k = derive({Phase1Encryption::aes_cbc, 128, PrfId::hmac_sha1}, psk_skeyid());
  auto cipher = Phase1Cipher::create({Phase1Encryption::aes_cbc, 128, PrfId::hmac_sha1}, k.encryption_key);
  ASSERT_TRUE(cipher.ok()) << cipher.error().message;
  const Bytes pt = range(0, 37);
  auto ct = cipher->encrypt(k.iv, pt);
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(*ct, from_hex("e09a3013862dc0b14ac91f6c5b5f4ff8bbc40268a5c37a0869f04aa575657b47"
                          "a58d0d424c10780923e8a758a7a72724"));
  auto back = cipher->decrypt(k.iv, *ct);
  ASSERT_TRUE(back.ok());
  Bytes padded = pt;
  padded.resize(48, 0);
  EXPECT_EQ(*back, padded);
  EXPECT_EQ(cipher->decrypt(k.iv, Bytes(47, 0)).error().code, KeyErrc::bad_padding);
  EXPECT_EQ(cipher->decrypt(k.iv, Bytes{}).error().code, KeyErrc::bad_padding);
}

TEST(Ikev1Cipher, TripleDesCbc) {
  const Phase1Suite suite{Phase1Encryption::triple_des_cbc, 0, PrfId::hmac_sha1};
  auto k = derive(suite, psk_skeyid());
  auto cipher = Phase1Cipher::create(suite, k.encryption_key);
  ASSERT_TRUE(cipher.ok()) << cipher.error().message;
  EXPECT_EQ(cipher->block_size(), 8u);
  auto ct = cipher->encrypt(k.iv, range(0, 37));
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(*ct, from_hex("d49e3eeae512dc312bdd3d32842d7e61521e1c3a68288b6f6b00fe6d031c0879"
                          "9fbe55e941c16dc1"));
}

TEST(Ikev1Cipher, RefusesAKeyOfTheWrongSize) {
  auto c = Phase1Cipher::create({Phase1Encryption::aes_cbc, 256, PrfId::hmac_sha1}, SecretBytes(Bytes(16, 1)));
  EXPECT_EQ(c.error().code, KeyErrc::bad_key_length);
}

TEST(Ikev1Cipher, IvChainFollowsTheLastCiphertextBlock) {
  IvChain chain(range(0, 16));
  const Bytes ct = range(0x40, 48);
  chain.advance(ct);
  EXPECT_EQ(Bytes(chain.iv().begin(), chain.iv().end()), range(0x60, 16));
}

}  // namespace
