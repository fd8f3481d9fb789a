// Tests of SK/SKF payload protection (common/ike/sk_crypto.h).
//
// Known answers: computed at test-writing time by sk_crypto_kat.py (next
// to this file) with Python's `cryptography` package and hmac module from
// the RFC 7296 §3.14 / RFC 5282 / RFC 7634 layout; its output is pasted
// below. Inputs are the byte patterns named next to each vector.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "common/ike/sk_crypto.h"
#include "tests/unit/ike/ike_test_support.h"

namespace {

using namespace corridor::ike;  // NOLINT: test brevity
using corridor::iana::EncrId;
using corridor::iana::IntegId;
using corridor::ike::test::from_hex;
using Bytes = std::vector<std::uint8_t>;

Bytes range(std::uint8_t from, std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(from + i);
  return out;
}
SecretBytes secret(std::uint8_t from, std::size_t n) { return SecretBytes(range(from, n)); }

IkeSuite suite(EncrId encr, std::uint16_t bits, IntegId integ) {
  IkeSuite s;
  s.encryption = static_cast<std::uint16_t>(encr);
  s.key_bits = bits;
  s.integrity = static_cast<std::uint16_t>(integ);
  return s;
}

struct SuiteCase {
  const char* name;
  IkeSuite suite;
  std::size_t e_size, a_size, iv, icv;
};

const SuiteCase kSuites[] = {
    {"aes128-sha1_96", suite(EncrId::aes_cbc, 128, IntegId::hmac_sha1_96), 16, 20, 16, 12},
    {"aes128-sha256", suite(EncrId::aes_cbc, 128, IntegId::hmac_sha2_256_128), 16, 32, 16, 16},
    {"aes192-sha384", suite(EncrId::aes_cbc, 192, IntegId::hmac_sha2_384_192), 24, 48, 16, 24},
    {"aes256-sha512", suite(EncrId::aes_cbc, 256, IntegId::hmac_sha2_512_256), 32, 64, 16, 32},
    {"aes256-sha256", suite(EncrId::aes_cbc, 256, IntegId::hmac_sha2_256_128), 32, 32, 16, 16},
    {"aes128gcm16", suite(EncrId::aes_gcm_16, 128, IntegId::none), 20, 0, 8, 16},
    {"aes192gcm16", suite(EncrId::aes_gcm_16, 192, IntegId::none), 28, 0, 8, 16},
    {"aes256gcm16", suite(EncrId::aes_gcm_16, 256, IntegId::none), 36, 0, 8, 16},
    {"chacha20poly1305", suite(EncrId::chacha20_poly1305, 0, IntegId::none), 36, 0, 8, 16},
};

SkCrypto make(const IkeSuite& s, SecretBytes e, SecretBytes a) {
  auto sk = SkCrypto::create(s, std::move(e), std::move(a));
  EXPECT_TRUE(sk.ok()) << (sk.ok() ? "" : sk.error().message);
  return std::move(sk).value();
}
SkCrypto make(const SuiteCase& c, std::uint8_t key_from = 0x20) {
  return make(c.suite, secret(key_from, c.e_size), secret(0x90, c.a_size));
}

Bytes seal(SkCrypto& sk, const Bytes& aad, const Bytes& plain) {
  auto out = sk.seal(aad, plain);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message);
  return out.ok() ? *out : Bytes{};
}

void expect_error(const KeyExpected<Bytes>& r, KeyErrc code) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, code) << r.error().message;
}

TEST(IkeSkCrypto, SizesPerSuite) {
  for (const SuiteCase& c : kSuites) {
    SCOPED_TRACE(c.name);
    SkCrypto sk = make(c);
    EXPECT_EQ(sk.iv_size(), c.iv);
    EXPECT_EQ(sk.icv_size(), c.icv);
    for (std::size_t n : {0, 1, 14, 15, 16, 17, 31, 100}) {
      const std::size_t body = c.iv == 16 ? (n + 1 + 15) / 16 * 16 : n + 1;
      EXPECT_EQ(sk.sealed_size(n), c.iv + body + c.icv) << n;
    }
  }
}

TEST(IkeSkCrypto, RoundTripEverySuiteAndSize) {
  for (const SuiteCase& c : kSuites) {
    SCOPED_TRACE(c.name);
    SkCrypto sender = make(c);
    const SkCrypto receiver = make(c);
    for (std::size_t n = 0; n <= 100; ++n) {
      const Bytes plain = range(static_cast<std::uint8_t>(n), n);
      const Bytes aad = range(0xc0, 32);
      const Bytes sealed = seal(sender, aad, plain);
      ASSERT_EQ(sealed.size(), sender.sealed_size(n)) << n;
      auto opened = receiver.open(aad, sealed);
      ASSERT_TRUE(opened.ok()) << n << ": " << opened.error().message;
      EXPECT_EQ(*opened, plain) << n;
    }
    // No associated data at all also works (the caller always has some).
    auto empty = receiver.open({}, seal(sender, {}, range(1, 5)));
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(*empty, range(1, 5));
  }
}

TEST(IkeSkCrypto, TamperingAnyByteFails) {
  for (const SuiteCase& c : kSuites) {
    SCOPED_TRACE(c.name);
    SkCrypto sk = make(c);
    const Bytes aad = range(0x01, 32);
    const Bytes sealed = seal(sk, aad, range(0x40, 37));
    for (std::size_t i = 0; i < aad.size(); ++i) {
      Bytes bad = aad;
      bad[i] ^= 0x01;
      expect_error(sk.open(bad, sealed), KeyErrc::icv_mismatch);
    }
    // IV, ciphertext and ICV.
    for (std::size_t i = 0; i < sealed.size(); ++i) {
      Bytes bad = sealed;
      bad[i] ^= 0x80;
      expect_error(sk.open(aad, bad), KeyErrc::icv_mismatch);
    }
    Bytes longer_aad = aad;
    longer_aad.push_back(0);
    expect_error(sk.open(longer_aad, sealed), KeyErrc::icv_mismatch);
  }
}

TEST(IkeSkCrypto, WrongKeyFails) {
  for (const SuiteCase& c : kSuites) {
    SCOPED_TRACE(c.name);
    SkCrypto sk = make(c);
    const Bytes aad = range(0x01, 32);
    const Bytes sealed = seal(sk, aad, range(0x40, 20));
    if (c.a_size > 0) {
      // Classic suites: the ICV (SK_a) catches a wrong key...
      const SkCrypto other_integ = make(c.suite, secret(0x20, c.e_size), secret(0x91, c.a_size));
      expect_error(other_integ.open(aad, sealed), KeyErrc::icv_mismatch);
      // ...while a wrong SK_e alone decrypts to garbage (or bad padding).
      auto garbage = make(c, 0x21).open(aad, sealed);
      if (garbage.ok()) {
        EXPECT_NE(*garbage, range(0x40, 20));
      }
    } else {
      expect_error(make(c, 0x21).open(aad, sealed), KeyErrc::icv_mismatch);
      // Same key, other salt: another nonce.
      Bytes e = range(0x20, c.e_size);
      e.back() ^= 1;
      expect_error(make(c.suite, SecretBytes(e), SecretBytes()).open(aad, sealed), KeyErrc::icv_mismatch);
    }
  }
}

TEST(IkeSkCrypto, TooShort) {
  for (const SuiteCase& c : kSuites) {
    SCOPED_TRACE(c.name);
    SkCrypto sk = make(c);
    const std::size_t min = c.iv + (c.iv == 16 ? 16 : 1) + c.icv;
    for (std::size_t n : {std::size_t{0}, c.iv, min - 1}) {
      auto r = sk.open({}, Bytes(n, 0));
      expect_error(r, KeyErrc::sealed_too_short);
      EXPECT_NE(r.error().message.find(std::to_string(min)), std::string::npos) << r.error().message;
    }
    // The minimum itself is long enough to be checked.
    expect_error(sk.open({}, Bytes(min, 0)), KeyErrc::icv_mismatch);
  }
}

TEST(IkeSkCrypto, CbcNotWholeBlocks) {
  SkCrypto sk = make(kSuites[1]);
  expect_error(sk.open({}, Bytes(16 + 17 + 16, 0)), KeyErrc::bad_padding);
}

TEST(IkeSkCrypto, AeadIvCounterIncrementsAndNeverRepeats) {
  for (const SuiteCase& c : kSuites) {
    if (c.iv != 8) continue;
    SCOPED_TRACE(c.name);
    SkCrypto sk = make(c);
    std::set<Bytes> ivs;
    for (std::uint64_t n = 0; n < 300; ++n) {
      const Bytes sealed = seal(sk, {}, {});
      Bytes iv(sealed.begin(), sealed.begin() + 8);
      Bytes expected(8);
      for (int i = 0; i < 8; ++i) expected[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (56 - 8 * i));
      EXPECT_EQ(iv, expected) << n;
      ivs.insert(iv);
    }
    EXPECT_EQ(ivs.size(), 300U);

    // The last counter value is used once; then seal() refuses to wrap.
    sk.set_iv_counter_for_testing(std::numeric_limits<std::uint64_t>::max());
    const Bytes last = seal(sk, {}, {});
    EXPECT_EQ(Bytes(last.begin(), last.begin() + 8), Bytes(8, 0xff));
    auto refused = sk.seal({}, {});
    expect_error(refused, KeyErrc::crypto_failure);
    EXPECT_NE(refused.error().message.find("rekey"), std::string::npos);
  }
}

TEST(IkeSkCrypto, CbcIvsAreRandom) {
  SkCrypto sk = make(kSuites[1]);
  std::set<Bytes> ivs;
  for (int n = 0; n < 50; ++n) {
    const Bytes sealed = seal(sk, {}, {});
    ivs.insert(Bytes(sealed.begin(), sealed.begin() + 16));
  }
  EXPECT_EQ(ivs.size(), 50U);
}

TEST(IkeSkCrypto, MovedSkCryptoKeepsWorking) {
  SkCrypto a = make(kSuites[7]);
  a.set_iv_counter_for_testing(41);
  SkCrypto b(std::move(a));
  const Bytes sealed = seal(b, {}, range(1, 3));
  EXPECT_EQ(sealed[7], 41);
  SkCrypto c = make(kSuites[0]);
  c = std::move(b);
  EXPECT_EQ(c.iv_size(), 8U);
  EXPECT_EQ(*c.open({}, sealed), range(1, 3));
}

TEST(IkeSkCrypto, CreateRefusesBadSuitesAndKeys) {
  auto code = [](const IkeSuite& s, std::size_t e, std::size_t a) {
    auto sk = SkCrypto::create(s, secret(0, e), secret(0, a));
    EXPECT_FALSE(sk.ok());
    return sk.ok() ? KeyErrc::crypto_failure : sk.error().code;
  };
  EXPECT_EQ(code(suite(EncrId::triple_des, 0, IntegId::hmac_sha2_256_128), 24, 32), KeyErrc::unsupported_encryption);
  EXPECT_EQ(code(suite(EncrId::aes_ccm_16, 128, IntegId::none), 19, 0), KeyErrc::unsupported_encryption);
  EXPECT_EQ(code(suite(EncrId::aes_gcm_8, 128, IntegId::none), 20, 0), KeyErrc::unsupported_encryption);
  EXPECT_EQ(code(suite(EncrId::aes_cbc, 128, IntegId::aes_xcbc_96), 16, 16), KeyErrc::unsupported_integrity);
  EXPECT_EQ(code(suite(EncrId::aes_cbc, 128, IntegId::none), 16, 0), KeyErrc::missing_integrity);
  EXPECT_EQ(code(suite(EncrId::aes_gcm_16, 128, IntegId::hmac_sha2_256_128), 20, 32), KeyErrc::aead_with_integrity);
  EXPECT_EQ(code(suite(EncrId::aes_cbc, 0, IntegId::hmac_sha2_256_128), 16, 32), KeyErrc::bad_key_length);
  EXPECT_EQ(code(suite(EncrId::aes_cbc, 100, IntegId::hmac_sha2_256_128), 16, 32), KeyErrc::bad_key_length);
  EXPECT_EQ(code(suite(EncrId::chacha20_poly1305, 128, IntegId::none), 36, 0), KeyErrc::bad_key_length);
  // Key sizes that disagree with the suite.
  EXPECT_EQ(code(suite(EncrId::aes_cbc, 256, IntegId::hmac_sha2_256_128), 16, 32), KeyErrc::bad_key_length);
  EXPECT_EQ(code(suite(EncrId::aes_cbc, 128, IntegId::hmac_sha2_256_128), 16, 20), KeyErrc::bad_key_length);
  EXPECT_EQ(code(suite(EncrId::aes_gcm_16, 256, IntegId::none), 32, 0), KeyErrc::bad_key_length);  // no salt
  EXPECT_EQ(code(suite(EncrId::aes_gcm_16, 256, IntegId::none), 36, 1), KeyErrc::bad_key_length);
}

// --- Known answers from sk_crypto_kat.py -------------------------------------

const char* const kPlain = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f6061626364";

void expect_kat(SkCrypto& sk, const char* aad_hex, const Bytes& sealed, const Bytes& expected) {
  EXPECT_EQ(sealed, expected);
  auto opened = sk.open(from_hex(aad_hex), expected);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, from_hex(kPlain));
}

TEST(IkeSkCrypto, KnownAnswersAead) {
  {  // AES-256-GCM-16 (SK_e 00..23, IV counter 5)
    SkCrypto sk = make(suite(EncrId::aes_gcm_16, 256, IntegId::none), secret(0x00, 36), {});
    sk.set_iv_counter_for_testing(5);
    const char* aad = "010203040506070811121314151617182e202308000000010000005e23000042";
    expect_kat(sk, aad, seal(sk, from_hex(aad), from_hex(kPlain)),
               from_hex("0000000000000005e38dcccadbcb79fbec9bef128b508ab25403683a941d57a77633853c7321fde14dc88b3d8e79"
                        "d2ec1d1349ff82ea70447d338c60d394"));
  }
  {  // AES-128-GCM-16 (SK_e 10..23, IV counter 0: the first seal)
    SkCrypto sk = make(suite(EncrId::aes_gcm_16, 128, IntegId::none), secret(0x10, 20), {});
    const char* aad = "010203040506070811121314151617182e202308000000010000005e23000042";
    expect_kat(sk, aad, seal(sk, from_hex(aad), from_hex(kPlain)),
               from_hex("0000000000000000352686f53a22a7f833180d6c989e37e88888f4ed98a7e2be58fc0557ee10a061824dc75da5bd"
                        "f269a9aa5df8de47a57ce4f42d0b6907"));
  }
  {  // ChaCha20-Poly1305 (SK_e 80..a3, IV counter 0102030405060708)
    SkCrypto sk = make(suite(EncrId::chacha20_poly1305, 0, IntegId::none), secret(0x80, 36), {});
    sk.set_iv_counter_for_testing(0x0102030405060708);
    const char* aad = "010203040506070811121314151617182e202308000000010000005e23000042";
    expect_kat(sk, aad, seal(sk, from_hex(aad), from_hex(kPlain)),
               from_hex("0102030405060708ded8fc39603285925e3803b140d6dd16f8a9e685067435840d5a6dac3be9ef380df7af22e0c0"
                        "20ecd463115cab606e5e3101b4ee1220"));
  }
}

TEST(IkeSkCrypto, KnownAnswersCbc) {
  struct Kat {
    IkeSuite suite;
    std::size_t e, a;
    const char* aad;
    const char* sealed;
  };
  // SK_e 20.., SK_a 50.., IV a0..af.
  const Kat kats[] = {
      {suite(EncrId::aes_cbc, 128, IntegId::hmac_sha2_256_128), 16, 32,
       "010203040506070811121314151617182e202308000000010000007023000054",
       "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf5414eee58edee6a4c3c5876f911c5165c2998ea5d26a7e2f4e24409fb4e54a68729e26317a63a2"
       "4df13cfebee3933f4ba7d88c5ee4aae5ee617d621b6114161e"},
      {suite(EncrId::aes_cbc, 256, IntegId::hmac_sha2_384_192), 32, 48,
       "010203040506070811121314151617182e20230800000001000000782300005c",
       "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf56caecc7276bb8eb0de5c354f83541f772b8917e3d75caeb28996c345a1f94ffc6159b845b1597"
       "27dc35fb4859d3643e213d5b55f24fc14f3fcffdc5e46f5a4895efdadb2c61056d"},
      {suite(EncrId::aes_cbc, 192, IntegId::hmac_sha2_512_256), 24, 64,
       "010203040506070811121314151617182e202308000000010000008023000064",
       "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf1066f9a33e6ebc76bff580be5c7f194168161c45182b64cac99ac524f017be876af8a3c4ffd79a"
       "142416e59e5b8a52928a41b6709284fc34c4318597c46e5612a1bb23f2d5384d984b0ec94860fa35db"},
      {suite(EncrId::aes_cbc, 128, IntegId::hmac_sha1_96), 16, 20,
       "010203040506070811121314151617182e202308000000010000006c23000050",
       "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf5414eee58edee6a4c3c5876f911c5165c2998ea5d26a7e2f4e24409fb4e54a68729e26317a63a2"
       "4df13cfebee3933f4b68158e832469385f7e422273"},
  };
  for (const Kat& k : kats) {
    SCOPED_TRACE(k.sealed);
    SkCrypto sk = make(k.suite, secret(0x20, k.e), secret(0x50, k.a));
    auto sealed = sk.seal_with_iv_for_testing(from_hex(k.aad), from_hex(kPlain), range(0xa0, 16));
    ASSERT_TRUE(sealed.ok()) << sealed.error().message;
    expect_kat(sk, k.aad, *sealed, from_hex(k.sealed));
  }
}

TEST(IkeSkCrypto, CbcPadLengthBeyondDataIsBadPadding) {
  // A correct ICV over a decrypted block pair ending in Pad Length 255,
  // with only 31 bytes before it (sk_crypto_kat.py, last vector).
  SkCrypto sk = make(suite(EncrId::aes_cbc, 128, IntegId::hmac_sha2_256_128), secret(0x20, 16), secret(0x50, 32));
  auto r = sk.open(from_hex("010203040506070811121314151617182e202308000000010000006023000044"),
                   from_hex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf110c14a5f7777ad13148070aa5c74b90cb2593b60a7dac3e6fd305a2a4"
                            "4b1c6c903cde20af115bb11e20b7c87191a922"));
  expect_error(r, KeyErrc::bad_padding);
  EXPECT_NE(r.error().message.find("Pad Length 255 exceeds the 31 bytes"), std::string::npos) << r.error().message;
}

TEST(IkeSkCrypto, TestIvMustHaveIvSize) {
  SkCrypto sk = make(kSuites[1]);
  EXPECT_FALSE(sk.seal_with_iv_for_testing({}, {}, Bytes(8, 0)).ok());
}

}  // namespace
