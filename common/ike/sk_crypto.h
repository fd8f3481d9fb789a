// Protection of the Encrypted (SK, RFC 7296 §3.14) and Encrypted Fragment
// (SKF, RFC 7383 §2.5) payloads with one direction's SK_e / SK_a:
//
//   ENCR_AES_CBC 128/192/256 (RFC 3602) with AUTH_HMAC_SHA2_256_128 /
//     _384_192 / _512_256 (RFC 4868) or AUTH_HMAC_SHA1_96 (RFC 2404):
//     random IV (16), CBC with the IKE padding, ICV = truncated HMAC over
//     everything from the IKE header through the ciphertext (§3.14).
//   ENCR_AES_GCM_16 128/192/256 (RFC 5282): IV 8, nonce = salt(4) | IV,
//     tag 16; AAD = the IKE header through the SK/SKF header (§5.1).
//   ENCR_CHACHA20_POLY1305 (RFC 7634 §3-4): the same layout as AES-GCM.
//
// The caller serialises the datagram up to the IV (IKE header, payloads
// before SK, the SK header [+ SKF Fragment Number / Total Fragments]) with
// the final Length fields, which it gets from sealed_size(); that prefix is
// `aad` below. seal() returns what follows it: IV | ciphertext | ICV, where
// the ciphertext covers plaintext | padding | Pad Length (§3.14).
//
// Keys live in SecretBytes and are never logged. open() is const and keeps
// no state, so one SkCrypto can verify datagrams from several threads;
// seal() advances the AEAD IV counter and needs the caller's serialisation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <openssl/types.h>

#include "common/ike/keys.h"

namespace corridor::ike {

class SkCrypto {
 public:
  // sk_e / sk_a of one direction (SK_ei/SK_ai or SK_er/SK_ar) for the
  // negotiated suite. AEAD: sk_e ends with the 4-byte salt and sk_a is
  // empty. Refuses other ciphers / integrity algorithms, and key sizes that
  // disagree with the suite (KeyErrc::bad_key_length).
  //
  // The AEAD IV is a counter starting at 0 (RFC 5282 §3 requires only that
  // it never repeats under one key), so make ONE SkCrypto per outbound key
  // and keep it for the IKE SA's life: a second one for the same key would
  // repeat nonces.
  static KeyExpected<SkCrypto> create(const IkeSuite& suite, SecretBytes sk_e, SecretBytes sk_a);

  SkCrypto(SkCrypto&&) noexcept = default;
  SkCrypto& operator=(SkCrypto&&) noexcept = default;
  SkCrypto(const SkCrypto&) = delete;  // a copy would reuse the IV counter
  SkCrypto& operator=(const SkCrypto&) = delete;
  ~SkCrypto() = default;

  std::size_t iv_size() const;   // CBC 16; AES-GCM and ChaCha20-Poly1305 8
  std::size_t icv_size() const;  // HMAC truncation 12/16/24/32; AEAD 16

  // IV + ciphertext + ICV for a plaintext of n bytes: CBC pads
  // plaintext | Pad Length up to whole 16-byte blocks; AEAD adds only the
  // Pad Length byte (0).
  std::size_t sealed_size(std::size_t plaintext_size) const;

  // IV | ciphertext | ICV, exactly sealed_size(plaintext.size()) bytes. CBC
  // IVs come from RAND_bytes; AEAD IVs from the counter (big-endian), and
  // after 2^64 messages seal() refuses (crypto_failure) rather than wrap.
  KeyExpected<std::vector<std::uint8_t>> seal(ByteView aad, ByteView plaintext);

  // The plaintext (without padding and Pad Length) of IV | ciphertext | ICV.
  // CBC: checks the ICV in constant time before decrypting. Errors:
  // sealed_too_short, icv_mismatch (ICV or AEAD tag; also a wrong key),
  // bad_padding (Pad Length beyond the data, CBC data not whole blocks).
  KeyExpected<std::vector<std::uint8_t>> open(ByteView aad, ByteView sealed) const;

  // TEST ONLY (known-answer tests): seal with a given IV (iv_size() bytes)
  // without touching the counter. Never use it on the wire.
  KeyExpected<std::vector<std::uint8_t>> seal_with_iv_for_testing(ByteView aad, ByteView plaintext,
                                                                  ByteView iv) const;
  // TEST ONLY: the AEAD IV counter value the next seal() uses.
  void set_iv_counter_for_testing(std::uint64_t next) {
    next_iv_ = next;
    exhausted_ = false;
  }

 private:
  enum class Mode : std::uint8_t { cbc, aead };
  struct CipherFree {
    void operator()(EVP_CIPHER* c) const;
  };

  SkCrypto() = default;
  KeyExpected<std::vector<std::uint8_t>> seal_iv(ByteView aad, ByteView plaintext, ByteView iv) const;
  bool hmac(ByteView aad, ByteView iv_and_ciphertext, std::uint8_t* icv) const;
  void set_hmac(const char* digest, std::size_t icv_size) {
    digest_ = digest;
    icv_size_ = icv_size;
  }

  Mode mode_ = Mode::cbc;
  std::unique_ptr<EVP_CIPHER, CipherFree> cipher_;  // fetched once
  const char* digest_ = nullptr;                    // HMAC digest name (CBC)
  std::size_t key_size_ = 0;                        // cipher key within sk_e (salt excluded)
  std::size_t icv_size_ = 0;
  SecretBytes sk_e_;
  SecretBytes sk_a_;
  std::uint64_t next_iv_ = 0;
  bool exhausted_ = false;
};

}  // namespace corridor::ike
