// IKEv2 key derivation in one place (RFC 7296 §2.13, §2.14, §2.17, §2.18),
// on OpenSSL 3:
//
//   prf      HMAC-SHA1 (RFC 2104), HMAC-SHA2-256/384/512 (RFC 4868)
//   prf+     T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n), at most 255 blocks
//   SKEYSEED = prf(Ni | Nr, g^ir)
//   {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
//            = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
//   rekeyed SKEYSEED = prf_old(SK_d old, g^ir new | Ni | Nr), then the split
//            above with the new SA's PRF, nonces and SPIs
//   KEYMAT   = prf+(SK_d, [g^ir new |] Ni | Nr), taken initiator->responder
//            (encryption, then integrity) before responder->initiator
//
// Key sizes come from the negotiated transforms: SK_d/SK_pi/SK_pr are the
// PRF's output size (its preferred key size, RFC 4868 §2.2); combined-mode
// ciphers have no SK_a and their SK_e includes the salt (AES-GCM and
// ChaCha20-Poly1305: 4 bytes, AES-CCM: 3 bytes, RFC 5282 §7.1, RFC 7634 §3).
// Every key is a SecretBytes, wiped when it goes away.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/channel/result.h"
#include "common/config/secret.h"
#include "common/iana/ikev2.h"

namespace corridor::ike {

using config::SecretBytes;

enum class KeyErrc : std::uint8_t {
  unsupported_prf,          // not an HMAC PRF Corridor implements
  unsupported_encryption,   // key size of this cipher unknown here
  unsupported_integrity,
  bad_key_length,           // Key Length attribute missing or invalid for the cipher
  aead_with_integrity,      // combined mode cipher with an INTEG transform (RFC 7296 §3.3)
  missing_integrity,        // IKE SA with a classic cipher and no INTEG transform
  output_too_long,          // prf+ asked for more than 255 blocks
  crypto_failure,           // OpenSSL refused
  // Key exchange (key_exchange.h).
  unsupported_group,        // a Diffie-Hellman group Corridor does not implement
  invalid_public_value,     // peer KE data of the wrong size or refused by RFC 6989 / RFC 7748 checks
  // SK/SKF payload protection (sk_crypto.h).
  icv_mismatch,             // integrity check value / AEAD tag does not verify
  bad_padding,              // Pad Length larger than the decrypted data, or CBC data not whole blocks
  sealed_too_short,         // fewer bytes than IV + minimum ciphertext + ICV
};

std::string_view to_string(KeyErrc code);

struct KeyError {
  KeyErrc code = KeyErrc::crypto_failure;
  std::string message;
};

template <typename T>
using KeyExpected = channel::Expected<T, KeyError>;

using ByteView = std::span<const std::uint8_t>;

// Output (and preferred key) size of a PRF in bytes.
KeyExpected<std::size_t> prf_size(iana::PrfId prf);

KeyExpected<SecretBytes> prf(iana::PrfId prf, ByteView key, ByteView data);
KeyExpected<SecretBytes> prf_plus(iana::PrfId prf, ByteView key, ByteView seed, std::size_t length);

// Bytes of keying material a cipher takes, salt or nonce included
// (key_bits: the Key Length attribute, 0 if the transform has none).
KeyExpected<std::size_t> encryption_key_size(std::uint16_t encr_id, std::uint16_t key_bits);
// Bytes of an integrity key (0 for NONE).
KeyExpected<std::size_t> integrity_key_size(std::uint16_t integ_id);

// The negotiated IKE SA transforms (IDs of RFC 7296 §3.3.2).
struct IkeSuite {
  std::uint16_t encryption = 0;
  std::uint16_t key_bits = 0;  // Key Length attribute; 0 when the cipher has none
  std::uint16_t integrity = 0; // 0 (NONE) with combined-mode ciphers
  iana::PrfId prf = iana::PrfId::hmac_sha2_256;
};

struct IkeSaKeys {
  SecretBytes sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr;
};

KeyExpected<SecretBytes> skeyseed(iana::PrfId prf, ByteView ni, ByteView nr, ByteView g_ir);
KeyExpected<SecretBytes> rekeyed_skeyseed(iana::PrfId old_prf, const SecretBytes& old_sk_d, ByteView g_ir_new,
                                          ByteView ni, ByteView nr);

// SK_* from a SKEYSEED (either kind): prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
KeyExpected<IkeSaKeys> ike_sa_keys(const IkeSuite& suite, const SecretBytes& skeyseed, ByteView ni, ByteView nr,
                                   ByteView spi_i, ByteView spi_r);

// IKE_SA_INIT: SKEYSEED and the SK_* in one call.
KeyExpected<IkeSaKeys> derive_ike_sa_keys(const IkeSuite& suite, ByteView ni, ByteView nr, ByteView g_ir,
                                          ByteView spi_i, ByteView spi_r);

// CREATE_CHILD_SA rekeying the IKE SA: SKEYSEED with the old SA's PRF and
// SK_d (RFC 7296 §2.18), SK_* with the new suite, nonces and SPIs.
KeyExpected<IkeSaKeys> derive_rekeyed_ike_sa_keys(iana::PrfId old_prf, const SecretBytes& old_sk_d,
                                                  const IkeSuite& new_suite, ByteView g_ir_new, ByteView ni,
                                                  ByteView nr, ByteView spi_i, ByteView spi_r);

// The Child SA (ESP) transforms.
struct ChildSuite {
  std::uint16_t encryption = 0;
  std::uint16_t key_bits = 0;
  std::uint16_t integrity = 0;
};

struct ChildSaKeys {
  SecretBytes encryption_i;  // initiator -> responder
  SecretBytes integrity_i;
  SecretBytes encryption_r;  // responder -> initiator
  SecretBytes integrity_r;
};

// KEYMAT = prf+(SK_d, g^ir | Ni | Nr) with PFS, prf+(SK_d, Ni | Nr)
// without (g_ir_new empty).
KeyExpected<ChildSaKeys> derive_child_sa_keys(iana::PrfId prf, const SecretBytes& sk_d, const ChildSuite& suite,
                                              ByteView g_ir_new, ByteView ni, ByteView nr);

}  // namespace corridor::ike
