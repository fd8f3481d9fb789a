// What an SA's negotiated transforms mean for the bytes of an ESP or AH
// packet: which cipher and integrity function run, how long the key, salt,
// explicit IV and ICV are, and what the payload is padded to.
//
// The mapping from IKEv2 transform IDs (common/iana/ikev2.h) happens once,
// when an SA is installed; the per-packet code only reads the resulting
// Algorithm. It is independent of the crypto backend.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corridor::dataplane::crypto {

enum class Cipher : std::uint8_t {
  null,               // RFC 2410: ESP with integrity only (debugging)
  aes_cbc,            // RFC 3602
  aes_ctr,            // RFC 3686
  aes_gcm,            // RFC 4106, 16-byte ICV
  aes_gmac,           // RFC 4543: ENCR_NULL_AUTH_AES_GMAC, integrity only
  chacha20_poly1305,  // RFC 7634
};

enum class Integrity : std::uint8_t {
  none,               // the cipher is an AEAD (or GMAC) and makes the ICV itself
  hmac_sha2_256_128,  // RFC 4868
  hmac_sha2_384_192,
  hmac_sha2_512_256,
};

struct Algorithm {
  Cipher cipher = Cipher::null;
  Integrity integrity = Integrity::none;
  std::uint8_t key_bytes = 0;    // cipher key, without the salt
  std::uint8_t salt_bytes = 0;   // RFC 4106/4543/3686/7634 nonce salt at the end of the keying material
  std::uint8_t iv_bytes = 0;     // explicit IV carried in every ESP packet
  std::uint8_t block_bytes = 4;  // ESP payload alignment (RFC 4303 §2.4: at least 4)
  std::uint8_t icv_bytes = 0;    // integrity check value
  std::uint8_t integrity_key_bytes = 0;

  // The ICV comes from the cipher (AES-GCM, ChaCha20-Poly1305, AES-GMAC).
  bool combined() const { return integrity == Integrity::none; }
  // The payload is encrypted (false for NULL and AES-GMAC).
  bool encrypts() const { return cipher != Cipher::null && cipher != Cipher::aes_gmac; }
  // Total keying material the SA carries for the cipher.
  std::uint8_t encryption_key_bytes() const { return static_cast<std::uint8_t>(key_bytes + salt_bytes); }

  friend bool operator==(const Algorithm&, const Algorithm&) = default;
};

// The ESP algorithm for IKEv2 ENCR / INTEG transform IDs and the ENCR Key
// Length attribute (bits, without salt; 0 where the algorithm has one fixed
// size). nullopt with `why` set when Corridor does not run the combination
// (DES, 3DES, CCM, SHA-1, MD5...: see docs/packet-engine.md).
std::optional<Algorithm> esp_algorithm(std::uint16_t encr_id, std::uint16_t key_bits, std::uint16_t integ_id,
                                       std::string* why);

// The AH algorithm (RFC 4302) for an INTEG transform ID.
std::optional<Algorithm> ah_algorithm(std::uint16_t integ_id, std::string* why);

std::string_view to_string(Cipher c);
std::string_view to_string(Integrity i);

}  // namespace corridor::dataplane::crypto
