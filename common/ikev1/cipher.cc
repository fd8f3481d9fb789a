#include "common/ikev1/cipher.h"

#include <openssl/evp.h>

#include <string>

namespace corridor::ikev1 {

using iana::ikev1::Phase1Encryption;

void Phase1Cipher::CipherFree::operator()(EVP_CIPHER* c) const { EVP_CIPHER_free(c); }

KeyExpected<Phase1Cipher> Phase1Cipher::create(const Phase1Suite& suite, SecretBytes key) {
  auto key_size = phase1_key_size(suite);
  if (!key_size) return key_size.error();
  if (key.size() != *key_size) {
    return KeyError{KeyErrc::bad_key_length, "Phase 1 key of " + std::to_string(key.size()) + " bytes, the cipher takes " +
                                                 std::to_string(*key_size)};
  }
  const char* name = nullptr;
  if (suite.encryption == Phase1Encryption::triple_des_cbc) {
    name = "DES-EDE3-CBC";
  } else {
    name = suite.key_bits == 128 ? "AES-128-CBC" : suite.key_bits == 192 ? "AES-192-CBC" : "AES-256-CBC";
  }
  Phase1Cipher c;
  c.cipher_.reset(EVP_CIPHER_fetch(nullptr, name, nullptr));
  if (!c.cipher_) {
    return KeyError{KeyErrc::crypto_failure, std::string("OpenSSL has no ") + name + " (3DES needs the default provider)"};
  }
  c.block_size_ = static_cast<std::size_t>(EVP_CIPHER_get_block_size(c.cipher_.get()));
  c.key_ = std::move(key);
  return c;
}

KeyExpected<std::vector<std::uint8_t>> Phase1Cipher::run(bool encrypt, ByteView iv, ByteView input) const {
  if (iv.size() != block_size_) {
    return KeyError{KeyErrc::crypto_failure, "IV of " + std::to_string(iv.size()) + " bytes for a " +
                                                 std::to_string(block_size_) + "-byte block cipher"};
  }
  std::vector<std::uint8_t> out(input.begin(), input.end());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0, tail = 0;
  bool ok = ctx != nullptr && EVP_CipherInit_ex2(ctx, cipher_.get(), key_.data(), iv.data(), encrypt ? 1 : 0, nullptr) == 1 &&
            EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
            EVP_CipherUpdate(ctx, out.data(), &len, out.data(), static_cast<int>(out.size())) == 1 &&
            EVP_CipherFinal_ex(ctx, out.data() + len, &tail) == 1 &&
            static_cast<std::size_t>(len + tail) == out.size();
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return KeyError{KeyErrc::crypto_failure, "CBC pass failed in OpenSSL"};
  return out;
}

KeyExpected<std::vector<std::uint8_t>> Phase1Cipher::encrypt(ByteView iv, ByteView plaintext) const {
  std::vector<std::uint8_t> padded(plaintext.begin(), plaintext.end());
  const std::size_t rem = padded.size() % block_size_;
  if (rem != 0 || padded.empty()) padded.resize(padded.size() + (block_size_ - rem), 0);
  return run(true, iv, padded);
}

KeyExpected<std::vector<std::uint8_t>> Phase1Cipher::decrypt(ByteView iv, ByteView ciphertext) const {
  if (ciphertext.empty() || ciphertext.size() % block_size_ != 0) {
    return KeyError{KeyErrc::bad_padding, "encrypted ISAKMP body of " + std::to_string(ciphertext.size()) +
                                              " bytes is not whole " + std::to_string(block_size_) + "-byte blocks"};
  }
  return run(false, iv, ciphertext);
}

}  // namespace corridor::ikev1
