// The crypto backend: published known-answer vectors, then every algorithm
// and key size cross-checked against OpenSSL (an independent
// implementation) on random keys and lengths, decryption round trips and
// ICV failures, AES-CBC IV generation, and the transform-ID mapping.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/iana/ikev2.h"
#include "dataplane/crypto/algorithm.h"
#include "dataplane/crypto/ipsec_mb.h"

namespace corridor::dataplane::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;
using iana::EncrId;
using iana::IntegId;

Bytes hex(std::string_view s) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string to_hex(const std::uint8_t* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

Algorithm esp(EncrId e, std::uint16_t bits, IntegId i = IntegId::none) {
  std::string why;
  auto a = esp_algorithm(static_cast<std::uint16_t>(e), bits, static_cast<std::uint16_t>(i), &why);
  EXPECT_TRUE(a) << why;
  return a.value_or(Algorithm{});
}

class CryptoTest : public ::testing::Test {
 protected:
  std::unique_ptr<Session> session(const Algorithm& a, const Bytes& ekey, const Bytes& ikey) {
    std::string error;
    auto s = backend_.create_session(a, ekey, ikey, &error);
    EXPECT_NE(s, nullptr) << error;
    return s;
  }
  IpsecMbBackend backend_;
  std::mt19937_64 rng_{20261123};
  Bytes random_bytes(std::size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng_());
    return b;
  }
};

// The Galois/Counter Mode of Operation (McGrew, Viega), test case 4,
// laid out as ESP keying does it: key | 4-byte salt, IV from the sequence.
TEST_F(CryptoTest, AesGcmKnownAnswer) {
  const Algorithm a = esp(EncrId::aes_gcm_16, 128);
  Bytes key = hex("feffe9928665731c6d6a8f9467308308");
  for (auto b : hex("cafebabe")) key.push_back(b);
  auto s = session(a, key, {});
  Bytes data = hex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657b"
      "a637b39");
  const Bytes aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  std::uint8_t iv[8], icv[16];
  Op op;
  op.session = s.get();
  op.payload = data.data();
  op.payload_len = static_cast<std::uint32_t>(data.size());
  op.iv = iv;
  op.aad = aad.data();
  op.aad_len = static_cast<std::uint32_t>(aad.size());
  op.icv = icv;
  op.iv_seed = 0xfacedbaddecaf888;
  backend_.encrypt({&op, 1});
  ASSERT_EQ(op.status, OpStatus::ok);
  EXPECT_EQ(to_hex(iv, 8), "facedbaddecaf888");
  EXPECT_EQ(to_hex(data.data(), data.size()),
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0a"
            "ac973d58e091");
  EXPECT_EQ(to_hex(icv, 16), "5bc94fbc3221a5db94fae95ae7121a47");

  backend_.decrypt({&op, 1});
  ASSERT_EQ(op.status, OpStatus::ok);
  EXPECT_EQ(to_hex(data.data(), 8), "d9313225f88406e5");
}

// RFC 8439 §2.8.2: its 12-byte nonce is constant 07000000 | IV, exactly the
// RFC 7634 ESP nonce salt | IV.
TEST_F(CryptoTest, ChaCha20Poly1305KnownAnswer) {
  const Algorithm a = esp(EncrId::chacha20_poly1305, 0);
  Bytes key;
  for (int i = 0x80; i < 0xa0; ++i) key.push_back(static_cast<std::uint8_t>(i));
  for (auto b : hex("07000000")) key.push_back(b);
  auto s = session(a, key, {});
  const std::string text =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
  Bytes data(text.begin(), text.end());
  const Bytes aad = hex("50515253c0c1c2c3c4c5c6c7");
  std::uint8_t iv[8], icv[16];
  Op op;
  op.session = s.get();
  op.payload = data.data();
  op.payload_len = static_cast<std::uint32_t>(data.size());
  op.iv = iv;
  op.aad = aad.data();
  op.aad_len = static_cast<std::uint32_t>(aad.size());
  op.icv = icv;
  op.iv_seed = 0x4041424344454647;
  backend_.encrypt({&op, 1});
  ASSERT_EQ(op.status, OpStatus::ok);
  EXPECT_EQ(to_hex(data.data(), 16), "d31a8d34648e60db7b86afbc53ef7ec2");
  EXPECT_EQ(to_hex(icv, 16), "1ae10b594f09e26a7e902ecbd0600691");
}

// RFC 4868 §2.7.2.1-3, test cases AUTH256-1, AUTH384-1, AUTH512-1 (key
// 0x0b repeated, data "Hi There"), through ESP-NULL with HMAC.
TEST_F(CryptoTest, HmacSha2KnownAnswers) {
  struct Case {
    IntegId id;
    std::size_t key_len;
    const char* icv;
  } cases[] = {
      {IntegId::hmac_sha2_256_128, 32, "198a607eb44bfbc69903a0f1cf2bbdc5"},
      {IntegId::hmac_sha2_384_192, 48, "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973"},
      {IntegId::hmac_sha2_512_256, 64, "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"},
  };
  for (const auto& c : cases) {
    const Algorithm a = esp(EncrId::null, 0, c.id);
    auto s = session(a, {}, Bytes(c.key_len, 0x0b));
    Bytes data{'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'};
    std::uint8_t icv[32];
    Op op;
    op.session = s.get();
    op.auth = data.data();
    op.auth_len = static_cast<std::uint32_t>(data.size());
    op.payload = data.data() + data.size();
    op.icv = icv;
    backend_.encrypt({&op, 1});
    ASSERT_EQ(op.status, OpStatus::ok);
    EXPECT_EQ(to_hex(icv, a.icv_bytes), c.icv) << to_string(a.integrity);
    backend_.decrypt({&op, 1});
    EXPECT_EQ(op.status, OpStatus::ok);
    icv[a.icv_bytes - 1] ^= 1;
    backend_.decrypt({&op, 1});
    EXPECT_EQ(op.status, OpStatus::icv_mismatch);
  }
}

// ---- cross-check against OpenSSL ----------------------------------------

const EVP_CIPHER* openssl_cipher(const Algorithm& a) {
  const int bits = a.key_bytes * 8;
  switch (a.cipher) {
    case Cipher::aes_gcm:
    case Cipher::aes_gmac:
      return bits == 128 ? EVP_aes_128_gcm() : bits == 192 ? EVP_aes_192_gcm() : EVP_aes_256_gcm();
    case Cipher::aes_cbc:
      return bits == 128 ? EVP_aes_128_cbc() : bits == 192 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
    case Cipher::aes_ctr:
      return bits == 128 ? EVP_aes_128_ctr() : bits == 192 ? EVP_aes_192_ctr() : EVP_aes_256_ctr();
    case Cipher::chacha20_poly1305:
      return EVP_chacha20_poly1305();
    case Cipher::null:
      return nullptr;
  }
  return nullptr;
}

const EVP_MD* openssl_md(Integrity i) {
  switch (i) {
    case Integrity::hmac_sha2_256_128: return EVP_sha256();
    case Integrity::hmac_sha2_384_192: return EVP_sha384();
    case Integrity::hmac_sha2_512_256: return EVP_sha512();
    case Integrity::none: return nullptr;
  }
  return nullptr;
}

// Encrypts `plain` as RFC 4106/7634/3602/3686 say, with OpenSSL: returns
// ciphertext and the tag (AEAD) in `tag`.
Bytes openssl_encrypt(const Algorithm& a, const Bytes& key, const Bytes& iv_block, const Bytes& aad, const Bytes& plain,
                      Bytes& tag) {
  Bytes out(plain.size() + 16);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const bool aead = a.cipher == Cipher::aes_gcm || a.cipher == Cipher::chacha20_poly1305 || a.cipher == Cipher::aes_gmac;
  EXPECT_EQ(EVP_EncryptInit_ex(ctx, openssl_cipher(a), nullptr, nullptr, nullptr), 1);
  if (aead) EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(iv_block.size()), nullptr);
  EXPECT_EQ(EVP_EncryptInit_ex(ctx, nullptr, nullptr, key.data(), iv_block.data()), 1);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  int len = 0, total = 0;
  if (!aad.empty()) {
    EXPECT_EQ(EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())), 1);
  }
  if (!plain.empty()) {
    EXPECT_EQ(EVP_EncryptUpdate(ctx, out.data(), &len, plain.data(), static_cast<int>(plain.size())), 1);
    total = len;
  }
  EXPECT_EQ(EVP_EncryptFinal_ex(ctx, out.data() + total, &len), 1);
  total += len;
  if (aead) {
    tag.resize(16);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag.data());
  }
  EVP_CIPHER_CTX_free(ctx);
  out.resize(static_cast<std::size_t>(total));
  return out;
}

struct Layout {
  // [8-byte ESP header][IV][payload][ICV], like an ESP packet.
  Bytes buf;
  std::size_t iv_off = 8, payload_off = 0, payload_len = 0;
};

TEST_F(CryptoTest, EveryAlgorithmMatchesOpenSsl) {
  std::vector<Algorithm> algorithms;
  for (std::uint16_t bits : {128, 192, 256}) {
    algorithms.push_back(esp(EncrId::aes_gcm_16, bits));
    algorithms.push_back(esp(EncrId::null_auth_aes_gmac, bits));
    for (auto integ : {IntegId::hmac_sha2_256_128, IntegId::hmac_sha2_384_192, IntegId::hmac_sha2_512_256}) {
      algorithms.push_back(esp(EncrId::aes_cbc, bits, integ));
      algorithms.push_back(esp(EncrId::aes_ctr, bits, integ));
    }
  }
  algorithms.push_back(esp(EncrId::chacha20_poly1305, 256));
  algorithms.push_back(esp(EncrId::null, 0, IntegId::hmac_sha2_256_128));

  for (const Algorithm& a : algorithms) {
    SCOPED_TRACE(std::string(to_string(a.cipher)) + " " + std::to_string(a.key_bytes * 8) + " " +
                 std::string(to_string(a.integrity)));
    for (std::size_t len : {0u, 1u, 15u, 16u, 64u, 1400u, 9000u}) {
      // CBC takes whole blocks (ESP pads to them).
      if (a.block_bytes == 16 && len % 16 != 0) continue;
      SCOPED_TRACE("length " + std::to_string(len));
      const Bytes ekey = random_bytes(a.encryption_key_bytes());
      const Bytes ikey = random_bytes(a.integrity_key_bytes);
      auto s = session(a, ekey, ikey);
      const Bytes header = random_bytes(8);
      const Bytes plain = random_bytes(len);
      const Bytes aad = random_bytes(rng_() % 2 ? 8 : 12);  // SPI|seq or SPI|seq hi|seq lo
      const std::uint64_t seed = rng_();

      Bytes pkt = header;
      pkt.resize(8 + a.iv_bytes);
      pkt.insert(pkt.end(), plain.begin(), plain.end());
      pkt.resize(pkt.size() + a.icv_bytes);
      std::uint8_t* payload = pkt.data() + 8 + a.iv_bytes;
      std::uint8_t* icv = payload + len;
      Op op;
      op.session = s.get();
      op.iv = pkt.data() + 8;
      op.iv_seed = seed;
      op.icv = icv;
      if (a.cipher == Cipher::aes_gmac) {
        op.auth = pkt.data();
        op.auth_len = static_cast<std::uint32_t>(8 + a.iv_bytes + len);
        op.payload = payload;
      } else if (a.combined()) {
        op.aad = aad.data();
        op.aad_len = static_cast<std::uint32_t>(aad.size());
        op.payload = payload;
        op.payload_len = static_cast<std::uint32_t>(len);
      } else {
        op.auth = pkt.data();
        op.auth_len = static_cast<std::uint32_t>(8 + a.iv_bytes + len);
        op.payload = payload;
        op.payload_len = static_cast<std::uint32_t>(len);
      }
      backend_.encrypt({&op, 1});
      if (len == 0 && a.encrypts() && !a.combined()) {
        // IPsec-MB refuses empty CBC/CTR jobs; an ESP payload is never
        // empty (the trailer alone is 2 bytes), and the refusal is reported.
        EXPECT_EQ(op.status, OpStatus::failed);
        continue;
      }
      ASSERT_EQ(op.status, OpStatus::ok);

      // The IV: the sequence number for counter modes, unpredictable for CBC.
      const Bytes iv(pkt.begin() + 8, pkt.begin() + 8 + a.iv_bytes);
      if (a.cipher != Cipher::aes_cbc && a.iv_bytes == 8) {
        Bytes want(8);
        for (int i = 0; i < 8; ++i) want[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(seed >> (56 - 8 * i));
        EXPECT_EQ(iv, want);
      }
      // OpenSSL's view of the same packet.
      Bytes iv_block;
      if (a.salt_bytes) iv_block.assign(ekey.end() - 4, ekey.end());
      iv_block.insert(iv_block.end(), iv.begin(), iv.end());
      if (a.cipher == Cipher::aes_ctr) iv_block.insert(iv_block.end(), {0, 0, 0, 1});  // RFC 3686 §4
      const Bytes cipher_key(ekey.begin(), ekey.begin() + a.key_bytes);
      Bytes tag;
      if (a.cipher == Cipher::aes_gmac) {
        const Bytes all(pkt.begin(), pkt.begin() + op.auth_len);
        openssl_encrypt(a, cipher_key, iv_block, all, {}, tag);
        EXPECT_EQ(to_hex(icv, 16), to_hex(tag.data(), 16));
        EXPECT_EQ(Bytes(payload, payload + len), plain);  // GMAC leaves the payload in clear
      } else if (a.combined()) {
        const Bytes ct = openssl_encrypt(a, cipher_key, iv_block, aad, plain, tag);
        EXPECT_EQ(Bytes(payload, payload + len), ct);
        EXPECT_EQ(to_hex(icv, 16), to_hex(tag.data(), 16));
      } else {
        if (a.cipher != Cipher::null) {
          const Bytes ct = openssl_encrypt(a, cipher_key, iv_block, {}, plain, tag);
          EXPECT_EQ(Bytes(payload, payload + len), ct);
        }
        std::uint8_t mac[64];
        unsigned mac_len = 0;
        HMAC(openssl_md(a.integrity), ikey.data(), static_cast<int>(ikey.size()), pkt.data(), op.auth_len, mac, &mac_len);
        EXPECT_EQ(to_hex(icv, a.icv_bytes), to_hex(mac, a.icv_bytes));
      }

      // Back again, then with one bit flipped in the ICV, and in the data.
      backend_.decrypt({&op, 1});
      ASSERT_EQ(op.status, OpStatus::ok);
      EXPECT_EQ(Bytes(payload, payload + len), plain);
      if (a.icv_bytes == 0) continue;
      backend_.encrypt({&op, 1});
      icv[rng_() % a.icv_bytes] ^= static_cast<std::uint8_t>(1u << (rng_() % 8));
      backend_.decrypt({&op, 1});
      EXPECT_EQ(op.status, OpStatus::icv_mismatch);
      if (len == 0) continue;
      backend_.encrypt({&op, 1});
      payload[rng_() % len] ^= 0x80;
      backend_.decrypt({&op, 1});
      EXPECT_EQ(op.status, OpStatus::icv_mismatch);
    }
  }
}

// A burst mixing algorithms and lengths comes back complete and in order:
// the job API returns jobs after several later ones were queued.
TEST_F(CryptoTest, MixedBurstRoundTrips) {
  const std::vector<Algorithm> algorithms = {
      esp(EncrId::aes_gcm_16, 128), esp(EncrId::aes_cbc, 256, IntegId::hmac_sha2_256_128),
      esp(EncrId::chacha20_poly1305, 0), esp(EncrId::aes_ctr, 128, IntegId::hmac_sha2_512_256)};
  std::vector<std::unique_ptr<Session>> sessions;
  for (const auto& a : algorithms) {
    sessions.push_back(session(a, random_bytes(a.encryption_key_bytes()), random_bytes(a.integrity_key_bytes)));
  }
  constexpr std::size_t kBurst = 200;  // more than IPsec-MB keeps in flight
  std::vector<Bytes> pkts(kBurst), plains(kBurst);
  std::vector<Op> ops(kBurst);
  const Bytes aad = random_bytes(8);
  for (std::size_t i = 0; i < kBurst; ++i) {
    const Session& s = *sessions[i % sessions.size()];
    const Algorithm& a = s.algorithm();
    const std::size_t len = 16 * (1 + rng_() % 90);
    plains[i] = random_bytes(len);
    pkts[i] = random_bytes(8 + a.iv_bytes);
    pkts[i].insert(pkts[i].end(), plains[i].begin(), plains[i].end());
    pkts[i].resize(pkts[i].size() + a.icv_bytes);
    Op& op = ops[i];
    op.session = &s;
    op.iv = pkts[i].data() + 8;
    op.payload = pkts[i].data() + 8 + a.iv_bytes;
    op.payload_len = static_cast<std::uint32_t>(len);
    op.icv = op.payload + len;
    op.iv_seed = i + 1;
    if (a.combined()) {
      op.aad = aad.data();
      op.aad_len = 8;
    } else {
      op.auth = pkts[i].data();
      op.auth_len = static_cast<std::uint32_t>(8 + a.iv_bytes + len);
    }
  }
  backend_.encrypt(ops);
  for (std::size_t i = 0; i < kBurst; ++i) {
    ASSERT_EQ(ops[i].status, OpStatus::ok) << i;
    EXPECT_NE(Bytes(ops[i].payload, ops[i].payload + plains[i].size()), plains[i]) << i;
  }
  ops[7].icv[0] ^= 1;
  backend_.decrypt(ops);
  for (std::size_t i = 0; i < kBurst; ++i) {
    if (i == 7) {
      EXPECT_EQ(ops[i].status, OpStatus::icv_mismatch);
      continue;
    }
    ASSERT_EQ(ops[i].status, OpStatus::ok) << i;
    EXPECT_EQ(Bytes(ops[i].payload, ops[i].payload + plains[i].size()), plains[i]) << i;
  }
}

// RFC 3602 §2.1: CBC IVs must be unpredictable. Each session encrypts the
// sequence number under its own random key: no repeats within an SA, and
// two SAs with the same keys do not share IVs.
TEST_F(CryptoTest, CbcIvsAreDistinctAndPerSession) {
  const Algorithm a = esp(EncrId::aes_cbc, 128, IntegId::hmac_sha2_256_128);
  const Bytes ekey = random_bytes(16), ikey = random_bytes(32);
  auto s1 = session(a, ekey, ikey);
  auto s2 = session(a, ekey, ikey);
  std::set<std::string> seen;
  for (std::uint64_t seq = 1; seq <= 2000; ++seq) {
    for (const Session* s : {s1.get(), s2.get()}) {
      Bytes pkt(8 + 16 + 16 + 16);
      Op op;
      op.session = s;
      op.iv = pkt.data() + 8;
      op.payload = pkt.data() + 24;
      op.payload_len = 16;
      op.icv = pkt.data() + 40;
      op.auth = pkt.data();
      op.auth_len = 40;
      op.iv_seed = seq;
      backend_.encrypt({&op, 1});
      ASSERT_EQ(op.status, OpStatus::ok);
      EXPECT_TRUE(seen.insert(to_hex(op.iv, 16)).second) << "IV repeated at " << seq;
    }
  }
}

TEST_F(CryptoTest, SessionRefusesWrongKeyLengths) {
  const Algorithm gcm = esp(EncrId::aes_gcm_16, 256);
  std::string error;
  EXPECT_EQ(backend_.create_session(gcm, Bytes(32), {}, &error), nullptr);  // salt missing
  EXPECT_NE(error.find("encryption key length"), std::string::npos);
  const Algorithm cbc = esp(EncrId::aes_cbc, 128, IntegId::hmac_sha2_256_128);
  EXPECT_EQ(backend_.create_session(cbc, Bytes(16), Bytes(20), &error), nullptr);
  EXPECT_NE(error.find("integrity key length"), std::string::npos);
  EXPECT_NE(backend_.create_session(cbc, Bytes(16), Bytes(32), &error), nullptr);
}

TEST(Algorithm, MapsTransformIds) {
  std::string why;
  auto gcm = esp_algorithm(20, 256, 0, &why);
  ASSERT_TRUE(gcm);
  EXPECT_EQ(gcm->cipher, Cipher::aes_gcm);
  EXPECT_EQ(gcm->encryption_key_bytes(), 36);
  EXPECT_EQ(gcm->iv_bytes, 8);
  EXPECT_EQ(gcm->icv_bytes, 16);
  EXPECT_EQ(gcm->block_bytes, 4);
  EXPECT_TRUE(gcm->combined());

  auto cbc = esp_algorithm(12, 128, 14, &why);
  ASSERT_TRUE(cbc);
  EXPECT_EQ(cbc->iv_bytes, 16);
  EXPECT_EQ(cbc->block_bytes, 16);
  EXPECT_EQ(cbc->icv_bytes, 32);
  EXPECT_EQ(cbc->integrity_key_bytes, 64);

  auto gmac = esp_algorithm(21, 128, 0, &why);
  ASSERT_TRUE(gmac);
  EXPECT_FALSE(gmac->encrypts());

  auto ah = ah_algorithm(13, &why);
  ASSERT_TRUE(ah);
  EXPECT_EQ(ah->icv_bytes, 24);
}

TEST(Algorithm, RefusesWhatTheEngineDoesNotRun) {
  std::string why;
  EXPECT_FALSE(esp_algorithm(3, 0, 12, &why));  // 3DES
  EXPECT_NE(why.find("not supported"), std::string::npos);
  EXPECT_FALSE(esp_algorithm(18, 128, 0, &why));  // GCM with 8-byte ICV
  EXPECT_FALSE(esp_algorithm(20, 128, 12, &why));  // AEAD plus integrity
  EXPECT_NE(why.find("AEAD"), std::string::npos);
  EXPECT_FALSE(esp_algorithm(12, 128, 0, &why));  // CBC without integrity
  EXPECT_FALSE(esp_algorithm(12, 128, 2, &why));  // HMAC-SHA1-96
  EXPECT_FALSE(esp_algorithm(12, 100, 12, &why));  // bad key length
  EXPECT_FALSE(esp_algorithm(28, 128, 0, &why));   // ChaCha20 is 256-bit only
  EXPECT_FALSE(ah_algorithm(1, &why));             // HMAC-MD5-96
}

}  // namespace
}  // namespace corridor::dataplane::crypto
