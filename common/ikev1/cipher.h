// ISAKMP message encryption (RFC 2408 §3.1 E flag, RFC 2409 Appendix B):
// everything after the header is CBC-encrypted with the Phase 1 cipher key.
//
// IKEv1 has no per-message IV and no integrity check on the ciphertext: the
// IV is chained. A Phase 1 exchange starts from hash(g^xi | g^xr) and each
// message's IV is the last ciphertext block of the previous one; every
// Quick Mode and Informational exchange starts its own chain from
// hash(last Phase 1 block | M-ID) (ikev1/keys.h). The chains are the SA's
// state, kept by the caller: IvChain below is one such chain, advanced only
// after a message has been accepted (a forged message must not move it).
//
// Plaintext is padded with zero bytes to whole blocks, as strongSwan and
// racoon do; on receipt, bytes after the last payload are padding and the
// payload walker ignores them (ikev1/message.h, padded = true).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <openssl/types.h>

#include "common/ikev1/keys.h"

namespace corridor::ikev1 {

class Phase1Cipher {
 public:
  // The suite's cipher with its key (phase1_key_size bytes).
  static KeyExpected<Phase1Cipher> create(const Phase1Suite& suite, SecretBytes key);

  Phase1Cipher(Phase1Cipher&&) noexcept = default;
  Phase1Cipher& operator=(Phase1Cipher&&) noexcept = default;
  Phase1Cipher(const Phase1Cipher&) = delete;
  Phase1Cipher& operator=(const Phase1Cipher&) = delete;
  ~Phase1Cipher() = default;

  std::size_t block_size() const { return block_size_; }

  // CBC encryption of plaintext padded with zeros to whole blocks (nothing
  // added when it already is whole blocks).
  KeyExpected<std::vector<std::uint8_t>> encrypt(ByteView iv, ByteView plaintext) const;

  // CBC decryption; bad_padding if the ciphertext is empty or not whole
  // blocks. The result still carries the padding.
  KeyExpected<std::vector<std::uint8_t>> decrypt(ByteView iv, ByteView ciphertext) const;

 private:
  struct CipherFree {
    void operator()(EVP_CIPHER* c) const;
  };
  Phase1Cipher() = default;
  KeyExpected<std::vector<std::uint8_t>> run(bool encrypt, ByteView iv, ByteView input) const;

  std::unique_ptr<EVP_CIPHER, CipherFree> cipher_;
  std::size_t block_size_ = 16;
  SecretBytes key_;
};

// One IV chain: the IV for the next message, advanced past each accepted
// message's last ciphertext block.
class IvChain {
 public:
  IvChain() = default;
  explicit IvChain(std::vector<std::uint8_t> iv) : iv_(std::move(iv)) {}
  ByteView iv() const { return iv_; }
  bool empty() const { return iv_.empty(); }
  // After a message with this ciphertext was sent or accepted.
  void advance(ByteView ciphertext) {
    if (ciphertext.size() >= iv_.size()) iv_.assign(ciphertext.end() - static_cast<std::ptrdiff_t>(iv_.size()), ciphertext.end());
  }

 private:
  std::vector<std::uint8_t> iv_;
};

}  // namespace corridor::ikev1
