#include "common/ike/sk_crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <limits>
#include <string>

namespace corridor::ike {

using iana::EncrId;
using iana::IntegId;

namespace {

constexpr std::size_t kBlock = 16;       // AES block, CBC IV (RFC 3602 §3)
constexpr std::size_t kAeadIv = 8;       // RFC 5282 §3, RFC 7634 §3
constexpr std::size_t kAeadTag = 16;     // ENCR_AES_GCM_16, Poly1305
constexpr std::size_t kSalt = 4;         // RFC 5282 §7.1, RFC 7634 §3
constexpr std::size_t kNonce = kSalt + kAeadIv;

std::string encr_name(std::uint16_t id) {
  return std::string(iana::transform_name(iana::TransformType::encryption, id));
}
std::string integ_name(std::uint16_t id) {
  return std::string(iana::transform_name(iana::TransformType::integrity, id));
}

KeyError failure(const char* what) { return {KeyErrc::crypto_failure, std::string("OpenSSL failed: ") + what}; }

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;
using MacCtx = std::unique_ptr<EVP_MAC_CTX, CtxFree>;

// Runs one EVP cipher pass over data in place (CBC without OpenSSL's
// padding: the IKE padding is ours). AEAD: aad first, tag in/out.
bool cipher_pass(const EVP_CIPHER* cipher, bool encrypt, const std::uint8_t* key, const std::uint8_t* iv, ByteView aad,
                 std::uint8_t* data, std::size_t size, std::uint8_t* tag, std::size_t tag_size) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), cipher, key, iv, encrypt ? 1 : 0, nullptr) != 1) return false;
  int len = 0;
  if (tag == nullptr) {
    if (EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) return false;
  } else {
    if (!encrypt &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_size), tag) != 1) {
      return false;
    }
    if (!aad.empty() && EVP_CipherUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
      return false;
    }
  }
  if (EVP_CipherUpdate(ctx.get(), data, &len, data, static_cast<int>(size)) != 1) return false;
  int tail = 0;
  // For AEAD decryption this is where the tag is checked.
  if (EVP_CipherFinal_ex(ctx.get(), data + len, &tail) != 1 || static_cast<std::size_t>(len + tail) != size) {
    return false;
  }
  if (tag != nullptr && encrypt &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_size), tag) != 1) {
    return false;
  }
  return true;
}

}  // namespace

void SkCrypto::CipherFree::operator()(EVP_CIPHER* c) const { EVP_CIPHER_free(c); }

KeyExpected<SkCrypto> SkCrypto::create(const IkeSuite& suite, SecretBytes sk_e, SecretBytes sk_a) {
  SkCrypto sk;
  const char* cipher_name = nullptr;
  const auto bits = suite.key_bits;
  switch (static_cast<EncrId>(suite.encryption)) {
    case EncrId::aes_cbc:
      sk.mode_ = Mode::cbc;
      cipher_name = bits == 128 ? "AES-128-CBC" : bits == 192 ? "AES-192-CBC" : "AES-256-CBC";
      break;
    case EncrId::aes_gcm_16:
      sk.mode_ = Mode::aead;
      cipher_name = bits == 128 ? "AES-128-GCM" : bits == 192 ? "AES-192-GCM" : "AES-256-GCM";
      break;
    case EncrId::chacha20_poly1305:
      sk.mode_ = Mode::aead;
      cipher_name = "ChaCha20-Poly1305";
      break;
    default:
      return KeyError{KeyErrc::unsupported_encryption,
                      encr_name(suite.encryption) +
                          " is not implemented for the IKE SA (AES-CBC, AES-GCM-16 and ChaCha20-Poly1305 are)"};
  }
  // Also validates the Key Length (128/192/256 for AES, none or 256 for
  // ChaCha20) before the cipher name above is trusted.
  auto e_size = encryption_key_size(suite.encryption, bits);
  if (!e_size) return e_size.error();
  const bool aead = sk.mode_ == Mode::aead;
  sk.key_size_ = aead ? *e_size - kSalt : *e_size;

  if (aead) {
    if (suite.integrity != 0) {
      return KeyError{KeyErrc::aead_with_integrity, encr_name(suite.encryption) + " takes no integrity algorithm, got " +
                                                        integ_name(suite.integrity) + " (RFC 7296 §3.3)"};
    }
    sk.icv_size_ = kAeadTag;
  } else {
    switch (static_cast<IntegId>(suite.integrity)) {
      case IntegId::none:
        return KeyError{KeyErrc::missing_integrity, encr_name(suite.encryption) + " needs an integrity algorithm"};
      // RFC 2404 §2, RFC 4868 §2.3: HMAC truncated to half (SHA-2) or 96 bits.
      case IntegId::hmac_sha1_96: sk.set_hmac("SHA1", 12); break;
      case IntegId::hmac_sha2_256_128: sk.set_hmac("SHA2-256", 16); break;
      case IntegId::hmac_sha2_384_192: sk.set_hmac("SHA2-384", 24); break;
      case IntegId::hmac_sha2_512_256: sk.set_hmac("SHA2-512", 32); break;
      default:
        return KeyError{KeyErrc::unsupported_integrity,
                        integ_name(suite.integrity) +
                            " is not implemented for the IKE SA (HMAC-SHA1-96, HMAC-SHA2-256/384/512 are)"};
    }
  }
  auto a_size = integrity_key_size(suite.integrity);
  if (!a_size) return a_size.error();
  if (sk_e.size() != *e_size) {
    return KeyError{KeyErrc::bad_key_length, "SK_e of " + std::to_string(sk_e.size()) + " bytes, " +
                                                 encr_name(suite.encryption) + " " + std::to_string(bits) + " needs " +
                                                 std::to_string(*e_size)};
  }
  if (sk_a.size() != *a_size) {
    return KeyError{KeyErrc::bad_key_length, "SK_a of " + std::to_string(sk_a.size()) + " bytes, " +
                                                 integ_name(suite.integrity) + " needs " + std::to_string(*a_size)};
  }
  sk.cipher_.reset(EVP_CIPHER_fetch(nullptr, cipher_name, nullptr));
  if (!sk.cipher_) return failure(cipher_name);
  sk.sk_e_ = std::move(sk_e);
  sk.sk_a_ = std::move(sk_a);
  return sk;
}

std::size_t SkCrypto::iv_size() const { return mode_ == Mode::cbc ? kBlock : kAeadIv; }
std::size_t SkCrypto::icv_size() const { return icv_size_; }

std::size_t SkCrypto::sealed_size(std::size_t plaintext_size) const {
  // §3.14: plaintext | Padding | Pad Length; CBC needs whole blocks,
  // AEAD (RFC 5282 §3) needs no padding.
  std::size_t body = plaintext_size + 1;
  if (mode_ == Mode::cbc) body = (body + kBlock - 1) / kBlock * kBlock;
  return iv_size() + body + icv_size_;
}

bool SkCrypto::hmac(ByteView aad, ByteView iv_and_ciphertext, std::uint8_t* icv) const {
  // Fetched once: an EVP_MAC is immutable and safe to share across threads.
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return false;
  MacCtx ctx(EVP_MAC_CTX_new(mac));
  if (!ctx) return false;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest_), 0),
      OSSL_PARAM_construct_end(),
  };
  std::uint8_t full[EVP_MAX_MD_SIZE];
  std::size_t n = 0;
  bool ok = EVP_MAC_init(ctx.get(), sk_a_.data(), sk_a_.size(), params) == 1 &&
            (aad.empty() || EVP_MAC_update(ctx.get(), aad.data(), aad.size()) == 1) &&
            EVP_MAC_update(ctx.get(), iv_and_ciphertext.data(), iv_and_ciphertext.size()) == 1 &&
            EVP_MAC_final(ctx.get(), full, &n, sizeof full) == 1 && n >= icv_size_;
  // §3.14 / RFC 4868 §2.3: the ICV is the HMAC truncated to its first bytes.
  if (ok) std::copy(full, full + icv_size_, icv);
  OPENSSL_cleanse(full, sizeof full);
  return ok;
}

KeyExpected<std::vector<std::uint8_t>> SkCrypto::seal(ByteView aad, ByteView plaintext) {
  std::uint8_t iv[kBlock];
  if (mode_ == Mode::cbc) {
    // RFC 7296 §3.14: CBC IVs must be unpredictable.
    if (RAND_bytes(iv, static_cast<int>(kBlock)) != 1) return failure("RAND_bytes");
  } else {
    // RFC 5282 §3: the IV must never repeat under one key; a counter makes
    // that certain. Refuse rather than wrap after 2^64 messages.
    if (exhausted_) {
      return KeyError{KeyErrc::crypto_failure, "AEAD IV counter exhausted: the IKE SA must be rekeyed"};
    }
    for (std::size_t i = 0; i < kAeadIv; ++i) iv[i] = static_cast<std::uint8_t>(next_iv_ >> (8 * (kAeadIv - 1 - i)));
    if (next_iv_ == std::numeric_limits<std::uint64_t>::max()) exhausted_ = true;
    else ++next_iv_;
  }
  return seal_iv(aad, plaintext, ByteView(iv, iv_size()));
}

KeyExpected<std::vector<std::uint8_t>> SkCrypto::seal_with_iv_for_testing(ByteView aad, ByteView plaintext,
                                                                          ByteView iv) const {
  if (iv.size() != iv_size()) {
    return KeyError{KeyErrc::crypto_failure, "test IV of " + std::to_string(iv.size()) + " bytes, expected " +
                                                 std::to_string(iv_size())};
  }
  return seal_iv(aad, plaintext, iv);
}

KeyExpected<std::vector<std::uint8_t>> SkCrypto::seal_iv(ByteView aad, ByteView plaintext, ByteView iv) const {
  if (!cipher_) return failure("use of a moved-from SkCrypto");
  std::vector<std::uint8_t> out(sealed_size(plaintext.size()), 0);
  const std::size_t body = out.size() - iv.size() - icv_size_;
  std::copy(iv.begin(), iv.end(), out.begin());
  std::uint8_t* data = out.data() + iv.size();
  std::uint8_t* icv = data + body;
  // plaintext | Padding (zeros: §3.14 lets the sender choose) | Pad Length.
  std::copy(plaintext.begin(), plaintext.end(), data);
  data[body - 1] = static_cast<std::uint8_t>(body - 1 - plaintext.size());

  bool ok = false;
  if (mode_ == Mode::cbc) {
    ok = cipher_pass(cipher_.get(), true, sk_e_.data(), iv.data(), {}, data, body, nullptr, 0) &&
         hmac(aad, ByteView(out.data(), iv.size() + body), icv);
  } else {
    // RFC 5282 §4 / RFC 7634 §4: nonce = salt (end of SK_e) | IV.
    std::uint8_t nonce[kNonce];
    std::copy(sk_e_.data() + key_size_, sk_e_.data() + key_size_ + kSalt, nonce);
    std::copy(iv.begin(), iv.end(), nonce + kSalt);
    ok = cipher_pass(cipher_.get(), true, sk_e_.data(), nonce, aad, data, body, icv, icv_size_);
  }
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());  // may still hold plaintext
    return failure("SK payload encryption");
  }
  return out;
}

KeyExpected<std::vector<std::uint8_t>> SkCrypto::open(ByteView aad, ByteView sealed) const {
  if (!cipher_) return failure("use of a moved-from SkCrypto");
  const std::size_t iv = iv_size();
  // At least one block (CBC) or the Pad Length byte (AEAD).
  const std::size_t min_body = mode_ == Mode::cbc ? kBlock : 1;
  if (sealed.size() < iv + min_body + icv_size_) {
    return KeyError{KeyErrc::sealed_too_short,
                    "encrypted payload content of " + std::to_string(sealed.size()) + " bytes, at least " +
                        std::to_string(iv + min_body + icv_size_) + " needed (IV " + std::to_string(iv) +
                        ", ciphertext " + std::to_string(min_body) + ", ICV " + std::to_string(icv_size_) + ")"};
  }
  const std::size_t body = sealed.size() - iv - icv_size_;
  const ByteView received_icv = sealed.subspan(iv + body);
  std::vector<std::uint8_t> plain(sealed.begin() + static_cast<std::ptrdiff_t>(iv),
                                  sealed.begin() + static_cast<std::ptrdiff_t>(iv + body));

  if (mode_ == Mode::cbc) {
    if (body % kBlock != 0) {
      return KeyError{KeyErrc::bad_padding, "CBC ciphertext of " + std::to_string(body) +
                                                " bytes is not a whole number of 16-byte blocks"};
    }
    // §3.14: verify before decrypting, in constant time.
    std::uint8_t icv[EVP_MAX_MD_SIZE];
    if (!hmac(aad, sealed.first(iv + body), icv)) return failure("HMAC");
    if (CRYPTO_memcmp(icv, received_icv.data(), icv_size_) != 0) {
      return KeyError{KeyErrc::icv_mismatch, "Integrity Checksum Data does not verify (RFC 7296 §3.14)"};
    }
    if (!cipher_pass(cipher_.get(), false, sk_e_.data(), sealed.data(), {}, plain.data(), body, nullptr, 0)) {
      OPENSSL_cleanse(plain.data(), plain.size());
      return failure("SK payload decryption");
    }
  } else {
    std::uint8_t nonce[kNonce];
    std::copy(sk_e_.data() + key_size_, sk_e_.data() + key_size_ + kSalt, nonce);
    std::copy(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(iv), nonce + kSalt);
    std::uint8_t tag[kAeadTag];
    std::copy(received_icv.begin(), received_icv.end(), tag);
    if (!cipher_pass(cipher_.get(), false, sk_e_.data(), nonce, aad, plain.data(), body, tag, kAeadTag)) {
      OPENSSL_cleanse(plain.data(), plain.size());
      return KeyError{KeyErrc::icv_mismatch, "AEAD tag does not verify (RFC 5282 §5)"};
    }
  }
  // §3.14: Pad Length counts the padding bytes before it; it may not
  // claim more than was decrypted.
  const std::size_t pad = plain.back();
  if (pad + 1 > plain.size()) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return KeyError{KeyErrc::bad_padding, "Pad Length " + std::to_string(pad) + " exceeds the " +
                                              std::to_string(plain.size() - 1) + " bytes decrypted before it"};
  }
  plain.resize(plain.size() - pad - 1);
  return plain;
}

}  // namespace corridor::ike
