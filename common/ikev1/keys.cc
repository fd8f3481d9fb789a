#include "common/ikev1/keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <string>

namespace corridor::ikev1 {

using iana::PrfId;
using iana::ikev1::Phase1Encryption;
using iana::ikev1::Phase1Hash;

namespace {

ByteView view(const SecretBytes& s) { return {s.data(), s.size()}; }

// A concatenation that may hold secrets (g^xy, keys): wiped when done.
class SecretConcat {
 public:
  SecretConcat(std::initializer_list<ByteView> parts) {
    for (ByteView p : parts) bytes_.insert(bytes_.end(), p.begin(), p.end());
  }
  ~SecretConcat() {
    if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  }
  SecretConcat(const SecretConcat&) = delete;
  SecretConcat& operator=(const SecretConcat&) = delete;
  ByteView view() const { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
};

KeyExpected<SecretBytes> prf_of(PrfId prf, ByteView key, std::initializer_list<ByteView> parts) {
  SecretConcat data(parts);
  return ike::prf(prf, key, data.view());
}

KeyExpected<std::vector<std::uint8_t>> public_prf(PrfId prf, ByteView key, std::initializer_list<ByteView> parts) {
  auto out = prf_of(prf, key, parts);
  if (!out) return out.error();
  return std::vector<std::uint8_t>(out->data(), out->data() + out->size());
}

std::array<std::uint8_t, 4> be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}

const EVP_MD* digest_of(PrfId prf) {
  switch (prf) {
    case PrfId::hmac_sha1: return EVP_sha1();
    case PrfId::hmac_sha2_256: return EVP_sha256();
    case PrfId::hmac_sha2_384: return EVP_sha384();
    case PrfId::hmac_sha2_512: return EVP_sha512();
    default: return nullptr;
  }
}

}  // namespace

KeyExpected<PrfId> prf_for_hash(Phase1Hash hash) {
  switch (hash) {
    case Phase1Hash::sha1: return PrfId::hmac_sha1;
    case Phase1Hash::sha2_256: return PrfId::hmac_sha2_256;
    case Phase1Hash::sha2_384: return PrfId::hmac_sha2_384;
    case Phase1Hash::sha2_512: return PrfId::hmac_sha2_512;
    default: break;
  }
  return KeyError{KeyErrc::unsupported_prf, "Phase 1 hash " + std::to_string(static_cast<int>(hash)) +
                                                " is not implemented (SHA1 and SHA2-256/384/512 are)"};
}

KeyExpected<std::vector<std::uint8_t>> digest(PrfId prf, std::initializer_list<ByteView> parts) {
  const EVP_MD* md = digest_of(prf);
  if (md == nullptr) return KeyError{KeyErrc::unsupported_prf, "no digest for this PRF"};
  std::vector<std::uint8_t> out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestInit_ex2(ctx, md, nullptr) == 1;
  for (ByteView p : parts) {
    if (ok && !p.empty()) ok = EVP_DigestUpdate(ctx, p.data(), p.size()) == 1;
  }
  unsigned int n = 0;
  if (ok) ok = EVP_DigestFinal_ex(ctx, out.data(), &n) == 1 && n == out.size();
  EVP_MD_CTX_free(ctx);
  if (!ok) return KeyError{KeyErrc::crypto_failure, "digest failed in OpenSSL"};
  return out;
}

KeyExpected<std::size_t> phase1_key_size(const Phase1Suite& suite) {
  switch (suite.encryption) {
    case Phase1Encryption::aes_cbc:
      if (suite.key_bits == 128 || suite.key_bits == 192 || suite.key_bits == 256) return suite.key_bits / 8u;
      return KeyError{KeyErrc::bad_key_length,
                      "AES-CBC Key Length " + std::to_string(suite.key_bits) + " (128, 192 or 256)"};
    case Phase1Encryption::triple_des_cbc: return std::size_t{24};
    default: break;
  }
  return KeyError{KeyErrc::unsupported_encryption,
                  "Phase 1 encryption " + std::to_string(static_cast<int>(suite.encryption)) +
                      " is not implemented (AES-CBC and 3DES-CBC are)"};
}

KeyExpected<std::size_t> phase1_block_size(const Phase1Suite& suite) {
  auto key = phase1_key_size(suite);
  if (!key) return key.error();
  return suite.encryption == Phase1Encryption::triple_des_cbc ? std::size_t{8} : std::size_t{16};
}

KeyExpected<SecretBytes> skeyid_psk(PrfId prf, ByteView psk, ByteView ni_b, ByteView nr_b) {
  return prf_of(prf, psk, {ni_b, nr_b});
}

KeyExpected<SecretBytes> skeyid_signature(PrfId prf, ByteView ni_b, ByteView nr_b, ByteView g_xy) {
  std::vector<std::uint8_t> key(ni_b.begin(), ni_b.end());
  key.insert(key.end(), nr_b.begin(), nr_b.end());
  return prf_of(prf, key, {g_xy});
}

KeyExpected<Phase1Keys> derive_phase1_keys(const Phase1Suite& suite, SecretBytes skeyid, ByteView g_xy,
                                           ByteView cky_i, ByteView cky_r, ByteView g_xi, ByteView g_xr) {
  auto key_size = phase1_key_size(suite);
  if (!key_size) return key_size.error();
  auto block = phase1_block_size(suite);
  static constexpr std::uint8_t kZero = 0, kOne = 1, kTwo = 2;
  Phase1Keys keys;
  auto d = prf_of(suite.prf, view(skeyid), {g_xy, cky_i, cky_r, ByteView(&kZero, 1)});
  if (!d) return d.error();
  auto a = prf_of(suite.prf, view(skeyid), {view(*d), g_xy, cky_i, cky_r, ByteView(&kOne, 1)});
  if (!a) return a.error();
  auto e = prf_of(suite.prf, view(skeyid), {view(*a), g_xy, cky_i, cky_r, ByteView(&kTwo, 1)});
  if (!e) return e.error();
  keys.skeyid = std::move(skeyid);
  keys.skeyid_d = std::move(*d);
  keys.skeyid_a = std::move(*a);
  keys.skeyid_e = std::move(*e);

  // Appendix B: SKEYID_e itself when long enough, else its expansion.
  std::vector<std::uint8_t> material;
  if (keys.skeyid_e.size() >= *key_size) {
    material.assign(keys.skeyid_e.data(), keys.skeyid_e.data() + *key_size);
  } else {
    SecretBytes k;
    auto k1 = prf_of(suite.prf, view(keys.skeyid_e), {ByteView(&kZero, 1)});
    if (!k1) return k1.error();
    k = std::move(*k1);
    while (true) {
      material.insert(material.end(), k.data(), k.data() + k.size());
      if (material.size() >= *key_size) break;
      auto next = prf_of(suite.prf, view(keys.skeyid_e), {view(k)});
      if (!next) return next.error();
      k = std::move(*next);
    }
    OPENSSL_cleanse(material.data() + *key_size, material.size() - *key_size);
    material.resize(*key_size);
  }
  keys.encryption_key = SecretBytes(std::move(material));

  auto iv = digest(suite.prf, {g_xi, g_xr});
  if (!iv) return iv.error();
  iv->resize(*block);
  keys.iv = std::move(*iv);
  return keys;
}

KeyExpected<std::vector<std::uint8_t>> hash_i(PrfId prf, const SecretBytes& skeyid, const Phase1Transcript& t,
                                              ByteView idii_b) {
  return public_prf(prf, view(skeyid), {t.g_xi, t.g_xr, t.cky_i, t.cky_r, t.sai_b, idii_b});
}

KeyExpected<std::vector<std::uint8_t>> hash_r(PrfId prf, const SecretBytes& skeyid, const Phase1Transcript& t,
                                              ByteView idir_b) {
  return public_prf(prf, view(skeyid), {t.g_xr, t.g_xi, t.cky_r, t.cky_i, t.sai_b, idir_b});
}

KeyExpected<std::vector<std::uint8_t>> phase2_iv(PrfId prf, ByteView last_phase1_block, std::uint32_t message_id,
                                                 std::size_t block_size) {
  const auto mid = be32(message_id);
  auto iv = digest(prf, {last_phase1_block, mid});
  if (!iv) return iv.error();
  if (iv->size() < block_size) return KeyError{KeyErrc::crypto_failure, "digest shorter than the cipher block"};
  iv->resize(block_size);
  return iv;
}

KeyExpected<std::vector<std::uint8_t>> hash_1(PrfId prf, const SecretBytes& skeyid_a, std::uint32_t message_id,
                                              ByteView rest) {
  const auto mid = be32(message_id);
  return public_prf(prf, view(skeyid_a), {mid, rest});
}

KeyExpected<std::vector<std::uint8_t>> hash_2(PrfId prf, const SecretBytes& skeyid_a, std::uint32_t message_id,
                                              ByteView ni_b, ByteView rest) {
  const auto mid = be32(message_id);
  return public_prf(prf, view(skeyid_a), {mid, ni_b, rest});
}

KeyExpected<std::vector<std::uint8_t>> hash_3(PrfId prf, const SecretBytes& skeyid_a, std::uint32_t message_id,
                                              ByteView ni_b, ByteView nr_b) {
  static constexpr std::uint8_t kZero = 0;
  const auto mid = be32(message_id);
  return public_prf(prf, view(skeyid_a), {ByteView(&kZero, 1), mid, ni_b, nr_b});
}

KeyExpected<SecretBytes> keymat(PrfId prf, const SecretBytes& skeyid_d, ByteView g_qm, iana::ikev1::ProtocolId protocol,
                                ByteView spi, ByteView ni_b, ByteView nr_b, std::size_t length) {
  const std::uint8_t proto = static_cast<std::uint8_t>(protocol);
  std::vector<std::uint8_t> out;
  SecretBytes k;
  bool first = true;
  while (out.size() < length) {
    auto next = first ? prf_of(prf, view(skeyid_d), {g_qm, ByteView(&proto, 1), spi, ni_b, nr_b})
                      : prf_of(prf, view(skeyid_d), {view(k), g_qm, ByteView(&proto, 1), spi, ni_b, nr_b});
    if (!next) {
      OPENSSL_cleanse(out.data(), out.size());
      return next.error();
    }
    k = std::move(*next);
    out.insert(out.end(), k.data(), k.data() + k.size());
    first = false;
  }
  if (out.size() > length) OPENSSL_cleanse(out.data() + length, out.size() - length);
  out.resize(length);
  return SecretBytes(std::move(out));
}

}  // namespace corridor::ikev1
