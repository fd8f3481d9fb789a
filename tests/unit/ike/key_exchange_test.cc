// Tests of the IKEv2 key exchange (common/ike/key_exchange.h).
//
// Known answers: RFC 5903 §8.1-§8.3 (ECP 256/384/521: i, g^i, r, g^r,
// g^ir), RFC 7748 §6.1 (X25519) and §6.2 (X448), copied from the RFCs.
// MODP 2048: computed at test-writing time by Python's pow() with the prime
// built from its RFC 3526 §3 formula and π computed by Machin's formula
// (independent of OpenSSL); the script is pasted in the comment above the
// test.
#include <gtest/gtest.h>

#include <openssl/bn.h>

#include <set>
#include <string>
#include <vector>

#include "common/ike/key_exchange.h"
#include "tests/unit/ike/ike_test_support.h"

namespace {

using namespace corridor::ike;  // NOLINT: test brevity
using corridor::iana::KeId;
using corridor::ike::test::from_hex;

std::vector<std::uint8_t> bytes(const SecretBytes& s) { return {s.data(), s.data() + s.size()}; }

const KeId kAllGroups[] = {KeId::modp1024, KeId::modp1536, KeId::modp2048, KeId::modp3072, KeId::modp4096,
                           KeId::ecp256,   KeId::ecp384,   KeId::ecp521,   KeId::curve25519, KeId::curve448};

DiffieHellman make(KeId group) {
  auto kx = DiffieHellman::generate(group);
  EXPECT_TRUE(kx.ok()) << (kx.ok() ? "" : kx.error().message);
  return std::move(kx).value();
}

DiffieHellman fixed(KeId group, const std::string& private_hex) {
  auto kx = DiffieHellman::from_private(group, from_hex(private_hex));
  EXPECT_TRUE(kx.ok()) << (kx.ok() ? "" : kx.error().message);
  return std::move(kx).value();
}

std::vector<std::uint8_t> agree(const DiffieHellman& own, const std::vector<std::uint8_t>& peer) {
  auto s = own.shared_secret(peer);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? bytes(*s) : std::vector<std::uint8_t>{};
}

void expect_refused(const DiffieHellman& own, const std::vector<std::uint8_t>& peer, const std::string& reason) {
  auto s = own.shared_secret(peer);
  ASSERT_FALSE(s.ok()) << reason;
  EXPECT_EQ(s.error().code, KeyErrc::invalid_public_value) << s.error().message;
  EXPECT_NE(s.error().message.find(reason), std::string::npos) << s.error().message;
}

TEST(IkeKeyExchange, SupportedGroupsAndSizes) {
  const std::pair<KeId, std::size_t> sizes[] = {
      {KeId::modp1024, 128}, {KeId::modp1536, 192}, {KeId::modp2048, 256}, {KeId::modp3072, 384},
      {KeId::modp4096, 512}, {KeId::ecp256, 64},    {KeId::ecp384, 96},    {KeId::ecp521, 132},
      {KeId::curve25519, 32}, {KeId::curve448, 56},
  };
  for (auto [group, size] : sizes) {
    EXPECT_TRUE(key_exchange_supported(group)) << static_cast<int>(group);
    auto n = public_value_size(group);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, size) << static_cast<int>(group);
  }
  for (KeId group : {KeId::none, KeId::modp768, KeId::modp6144, KeId::modp8192, KeId::modp2048s256, KeId::ecp256bp,
                     KeId::ml_kem_768}) {
    EXPECT_FALSE(key_exchange_supported(group)) << static_cast<int>(group);
    auto n = public_value_size(group);
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.error().code, KeyErrc::unsupported_group);
    auto kx = DiffieHellman::generate(group);
    ASSERT_FALSE(kx.ok());
    EXPECT_EQ(kx.error().code, KeyErrc::unsupported_group);
  }
  EXPECT_NE(public_value_size(KeId::ecp256bp).error().message.find("ECP_256_BP"), std::string::npos);
}

TEST(IkeKeyExchange, EveryGroupAgreesBothWays) {
  for (KeId group : kAllGroups) {
    SCOPED_TRACE(static_cast<int>(group));
    DiffieHellman a = make(group);
    DiffieHellman b = make(group);
    EXPECT_EQ(a.group(), group);
    EXPECT_EQ(a.public_value().size(), *public_value_size(group));
    EXPECT_NE(a.public_value(), b.public_value());
    const auto ab = agree(a, b.public_value());
    const auto ba = agree(b, a.public_value());
    EXPECT_EQ(ab, ba);
    // g^ir is the prime length (MODP), the x coordinate (ECP), 32/56 bytes.
    const std::size_t expected = (group == KeId::ecp256 || group == KeId::ecp384 || group == KeId::ecp521)
                                     ? a.public_value().size() / 2
                                     : a.public_value().size();
    EXPECT_EQ(ab.size(), expected);
  }
}

TEST(IkeKeyExchange, MovedKeyStillWorks) {
  DiffieHellman a = make(KeId::ecp256);
  DiffieHellman b = make(KeId::ecp256);
  const auto pub = a.public_value();
  DiffieHellman moved(std::move(a));
  EXPECT_EQ(moved.public_value(), pub);
  DiffieHellman assigned = make(KeId::curve25519);
  assigned = std::move(moved);
  EXPECT_EQ(assigned.group(), KeId::ecp256);
  EXPECT_EQ(agree(assigned, b.public_value()), agree(b, pub));
}

struct EcpVector {
  KeId group;
  const char *i, *gix, *giy, *r, *grx, *gry, *girx;
};

// RFC 5903 §8.1, §8.2, §8.3.
const EcpVector kRfc5903[] = {
    {KeId::ecp256, "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
     "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180",
     "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
     "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53",
     "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63",
     "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
     "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE"},
    {KeId::ecp384,
     "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655E35B538041E649EE3FAEF896783AB194",
     "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6DE3AC808ACB4BDB4C88732AEE95F41AA",
     "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A81C",
     "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942E0308312916B8ED2960E4BD55A7448FC",
     "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D0D1AC43A0336DEF96FDA41D0774A3571",
     "DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C",
     "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4D603135569B9E9D09CF5D4A270F59746"},
    {KeId::ecp521,
     "0037ADE9319A89F4DABDB3EF411AACCCA5123C61ACAB57B5393DCE47608172A095AA85A30FE1C2952C6771D937BA9777F5957B2639BAB0"
     "72462F68C27A57382D4A52",
     "0015417E84DBF28C0AD3C278713349DC7DF153C897A1891BD98BAB4357C9ECBEE1E3BF42E00B8E380AEAE57C2D107564941885942AF5A7"
     "F4601723C4195D176CED3E",
     "017CAE20B6641D2EEB695786D8C946146239D099E18E1D5A514C739D7CB4A10AD8A788015AC405D7799DC75E7B7D5B6CF2261A6A7F1507"
     "438BF01BEB6CA3926F9582",
     "0145BA99A847AF43793FDD0E872E7CDFA16BE30FDC780F97BCCC3F078380201E9C677D600B343757A3BDBF2A3163E4C2F869CCA7458AA4"
     "A4EFFC311F5CB151685EB9",
     "00D0B3975AC4B799F5BEA16D5E13E9AF971D5E9B984C9F39728B5E5739735A219B97C356436ADC6E95BB0352F6BE64A6C2912D4EF2D043"
     "3CED2B6171640012D9460F",
     "015C68226383956E3BD066E797B623C27CE0EAC2F551A10C2C724D9852077B87220B6536C5C408A1D2AEBB8E86D678AE49CB57091F4732"
     "296579AB44FCD17F0FC56A",
     "01144C7D79AE6956BC8EDB8E7C787C4521CB086FA64407F97894E5E6B2D79B04D1427E73CA4BAA240A34786859810C06B3C715A3A8CC31"
     "51F2BEE417996D19F3DDEA"},
};

TEST(IkeKeyExchange, Rfc5903EcpVectors) {
  for (const EcpVector& v : kRfc5903) {
    SCOPED_TRACE(static_cast<int>(v.group));
    DiffieHellman i = fixed(v.group, v.i);
    DiffieHellman r = fixed(v.group, v.r);
    // §7: the KE payload carries x | y without the 0x04 prefix.
    EXPECT_EQ(i.public_value(), from_hex(std::string(v.gix) + v.giy));
    EXPECT_EQ(r.public_value(), from_hex(std::string(v.grx) + v.gry));
    // §7: g^ir is the x coordinate only.
    EXPECT_EQ(agree(i, r.public_value()), from_hex(v.girx));
    EXPECT_EQ(agree(r, i.public_value()), from_hex(v.girx));
  }
}

TEST(IkeKeyExchange, Rfc7748Vectors) {
  // §6.1 X25519.
  DiffieHellman alice = fixed(KeId::curve25519, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  DiffieHellman bob = fixed(KeId::curve25519, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  EXPECT_EQ(alice.public_value(), from_hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
  EXPECT_EQ(bob.public_value(), from_hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
  const auto k = from_hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(agree(alice, bob.public_value()), k);
  EXPECT_EQ(agree(bob, alice.public_value()), k);

  // §6.2 X448.
  DiffieHellman alice448 = fixed(KeId::curve448,
                               "9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf574a9419744897391006382a6"
                               "f127ab1d9ac2d8c0a598726b");
  DiffieHellman bob448 = fixed(KeId::curve448,
                             "1c306a7ac2a0e2e0990b294470cba339e6453772b075811d8fad0d1d6927c120bb5ee8972b0d3e21374c9c921b"
                             "09d1b0366f10b65173992d");
  EXPECT_EQ(alice448.public_value(), from_hex("9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bbc8366472"
                                              "41d953d40c5b12da88120d53177f80e532c41fa0"));
  EXPECT_EQ(bob448.public_value(), from_hex("3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b43027d8b972fc3e34fb42"
                                            "32a13ca706dcb57aec3dae07bdc1c67bf33609"));
  const auto k448 = from_hex("07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282bb60c0b56fd2464c335543936521c2440"
                             "3085d59a449a5037514a879d");
  EXPECT_EQ(agree(alice448, bob448.public_value()), k448);
  EXPECT_EQ(agree(bob448, alice448.public_value()), k448);
}

// MODP 2048 (RFC 3526 §3), computed with Python 3 at test-writing time:
//
//   def pi_fixed(bits):  # floor(pi * 2^bits), Machin: pi = 16 atan(1/5) - 4 atan(1/239)
//       guard = 64; one = 1 << (bits + guard)
//       def atan_inv(x):
//           total = term = one // x; n = 1; sign = -1
//           while term:
//               term //= x * x; n += 2; total += sign * (term // n); sign = -sign
//           return total
//       return (16 * atan_inv(5) - 4 * atan_inv(239)) >> guard
//   p = 2**2048 - 2**1984 - 1 + 2**64 * (pi_fixed(1918) + 124476)
//   assert pow(2, p - 1, p) == 1
//   x = 0x0102..1fe3; y = 0x4142..5f8f   # last byte searched so that g^x
//   print(pow(2, x, p), pow(2, y, p), pow(2, x * y, p))  # and g^xy start with 00
//
// g^x and g^xy have a leading zero byte, so the left padding of RFC 7296
// §2.14 is checked on both the public value and the shared secret.
TEST(IkeKeyExchange, Modp2048AgainstPythonPow) {
  DiffieHellman x = fixed(KeId::modp2048, "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fe3");
  DiffieHellman y = fixed(KeId::modp2048, "4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f8f");
  EXPECT_EQ(x.public_value(),
            from_hex("00c2b5896a9710151ec37855f40c0c73bb237da2cbb98736f26a7dddfdc8630cd935fa528b4bc95e0be0ba8ee5e2160b"
                     "9da42adcc8dea3983ac32ac3526062ebd059210420e28500e231c5e5e069d1f663fe5f23e93624824bb2b81bf503955f"
                     "80a8289373535da0f24da1e4c903bc4ac3243b570ba56cf4ce0a0ecbf2ea369e547538e1ad94d339d2b3027060fb60ad"
                     "011f3f36366aa2c85514d74f4f63cc75f9a12b4b1a5eb2d84f54962d3f6305da80de66ae3e62ba8db6540bc5169619bc"
                     "f56bed6e91f9b4c51f6f989b3c562412cb204db85f8c7a8db1f81586c22403e4f1fbabce02ab548e0ebeabdeee1a5a89"
                     "d98601be2f5aac6451df017f328f3e89"));
  EXPECT_EQ(y.public_value(),
            from_hex("e216ddfef5185f133872dd3f83c79d9a0eaf63139d2e87f77e9cb83933ee0db30a661d1fd19be378cd106a5801a07c23"
                     "8efcab5f39517a04b76f3e99e99f92005b347142de41a8a886f9440e2ca0ca185fd925caf0d7a2befe7ba1ac2979f57a"
                     "ec9f7361c3af7925cd30c97772bf62e4d978f94f8606dceedd2ac19157df1667715c8f0cbddccbccb929586fbe63d61e"
                     "94caf1eff5e61c37cdea2f3e6c19b7b3b7f1fd3125ae944def061018ffb4914674d677d4054c82e94e4e02183592dbb9"
                     "02f8d8b873aebd478e03133474b414b3b69a1526b4fb7db1c9627ce2c27dcb1cd0c75efa1816d8bd6aba7e925f78c424"
                     "4622980011841e62e2518cd61581346f"));
  const auto gxy = from_hex(
      "001eae69f2669bd345e5bc5cb6470db47a1ab614856d655faa05584f29d55a62a2fa9fced8b5cd13c5c1d92b66072d91b9f20ffb0646d10b"
      "79585c4cc0a10fc2e290f4b06ef685c8b00c49a4b8dc401671ee59fd708e6cf583e10122930e96cd964fb47d0ba435a70e3416c9eafbcd59"
      "16fc0553badde47b7ccfe46b8cd9347fe654c5b40ec4733c325162cce74f4d9efff420cd08768abca7ad00b1278d325eee4155e9f621a7de"
      "57031437fa780245856e0ff2e6325429a1742af565f9107b3b7cf9eb239866b4c82c3e4214d1322dc8891d6f59c972d34454745ca05cf8cd"
      "40073846861b70accdbbefb3f6d91f5986f2ac7e621aab399c3e8970e27999ac");
  EXPECT_EQ(agree(x, y.public_value()), gxy);
  EXPECT_EQ(agree(y, x.public_value()), gxy);
}

TEST(IkeKeyExchange, RefusesWrongLength) {
  for (KeId group : kAllGroups) {
    SCOPED_TRACE(static_cast<int>(group));
    DiffieHellman a = make(group);
    auto value = make(group).public_value();
    value.pop_back();
    expect_refused(a, value, "bytes, the group's public value is");
    value.push_back(1);
    value.push_back(1);
    expect_refused(a, value, "bytes, the group's public value is");
    expect_refused(a, {}, "bytes, the group's public value is");
  }
}

TEST(IkeKeyExchange, RefusesModpOutsideTwoToPMinusTwo) {
  DiffieHellman a = make(KeId::modp2048);
  std::vector<std::uint8_t> p(256);
  BIGNUM* prime = BN_get_rfc3526_prime_2048(nullptr);
  ASSERT_NE(prime, nullptr);
  ASSERT_EQ(BN_bn2binpad(prime, p.data(), static_cast<int>(p.size())), 256);
  BN_free(prime);
  ASSERT_EQ(p.back(), 0xff);

  std::vector<std::uint8_t> v(256, 0);
  expect_refused(a, v, "value is 0 or 1 (RFC 6989 §2.1)");
  v.back() = 1;
  expect_refused(a, v, "value is 0 or 1 (RFC 6989 §2.1)");
  v = p;
  v.back() = 0xfe;  // p - 1
  expect_refused(a, v, "value is p-1 or larger (RFC 6989 §2.1)");
  expect_refused(a, p, "value is p-1 or larger");
  expect_refused(a, std::vector<std::uint8_t>(256, 0xff), "value is p-1 or larger");
  EXPECT_NE(a.shared_secret(v).error().message.find("MODP_2048"), std::string::npos);

  // 2 and p - 2 are in range: 2 = g is in the order-q subgroup; p - 2 = -g
  // is not (-1 is a non-residue mod these safe primes), and OpenSSL's
  // public key check refuses it.
  v.assign(256, 0);
  v.back() = 2;
  EXPECT_TRUE(a.shared_secret(v).ok());
  v = p;
  v.back() = 0xfd;
  expect_refused(a, v, "not in the prime-order subgroup");

  // MODP 1024 (explicit RFC 2409 parameters) gets the same checks.
  DiffieHellman weak = make(KeId::modp1024);
  expect_refused(weak, std::vector<std::uint8_t>(128, 0), "value is 0 or 1");
  expect_refused(weak, std::vector<std::uint8_t>(128, 0xff), "value is p-1 or larger");
}

TEST(IkeKeyExchange, RefusesEcpPointOffTheCurve) {
  DiffieHellman i = fixed(KeId::ecp256, kRfc5903[0].i);
  auto point = from_hex(std::string(kRfc5903[0].grx) + kRfc5903[0].gry);
  ASSERT_EQ(agree(i, point), from_hex(kRfc5903[0].girx));
  point.back() ^= 0x01;  // y + 1 or y - 1: no longer on the curve
  expect_refused(i, point, "not a point on the curve");
  expect_refused(i, std::vector<std::uint8_t>(64, 0), "not a point on the curve");
  // x and y of the field prime's size but >= p.
  expect_refused(i, std::vector<std::uint8_t>(64, 0xff), "not a point on the curve");
  DiffieHellman big = make(KeId::ecp521);
  auto other = make(KeId::ecp521).public_value();
  other[70] ^= 0x40;
  expect_refused(big, other, "ECP_521 public value refused");
}

TEST(IkeKeyExchange, RefusesLowOrderMontgomeryPoints) {
  // RFC 7748 §6.1: u = 0 and u = 1 (little-endian) are of low order and
  // give the all-zero output, which RFC 8031 §2.3 says to refuse.
  DiffieHellman x = make(KeId::curve25519);
  std::vector<std::uint8_t> u(32, 0);
  expect_refused(x, u, "all zero");
  u[0] = 1;
  expect_refused(x, u, "all zero");
  // A point of order 8 (from the list of low-order points on Curve25519).
  expect_refused(x, from_hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"), "all zero");
  EXPECT_NE(x.shared_secret(u).error().message.find("CURVE25519"), std::string::npos);

  DiffieHellman x448 = make(KeId::curve448);
  std::vector<std::uint8_t> u448(56, 0);
  expect_refused(x448, u448, "all zero");
  u448[0] = 1;
  expect_refused(x448, u448, "all zero");
}

TEST(IkeKeyExchange, FromPrivateRefusesBadKeys) {
  EXPECT_EQ(DiffieHellman::from_private(KeId::curve25519, std::vector<std::uint8_t>(31, 1)).error().code,
            KeyErrc::bad_key_length);
  EXPECT_EQ(DiffieHellman::from_private(KeId::ecp256, std::vector<std::uint8_t>(33, 1)).error().code,
            KeyErrc::bad_key_length);
  EXPECT_EQ(DiffieHellman::from_private(KeId::modp2048, std::vector<std::uint8_t>(32, 0)).error().code,
            KeyErrc::bad_key_length);
  EXPECT_EQ(DiffieHellman::from_private(KeId::modp768, std::vector<std::uint8_t>(32, 1)).error().code,
            KeyErrc::unsupported_group);
}

TEST(IkeKeyExchange, FreshKeysDiffer) {
  std::set<std::vector<std::uint8_t>> seen;
  for (int n = 0; n < 8; ++n) seen.insert(make(KeId::curve25519).public_value());
  EXPECT_EQ(seen.size(), 8U);
}

}  // namespace
