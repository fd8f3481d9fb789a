#include "dataplane/crypto/algorithm.h"

#include "common/iana/ikev2.h"

namespace corridor::dataplane::crypto {
namespace {

using iana::EncrId;
using iana::IntegId;

std::optional<Algorithm> refuse(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return std::nullopt;
}

// Sets the integrity half of `a` for an HMAC-SHA-2 transform (RFC 4868:
// key as long as the hash output, ICV half of it).
bool set_integrity(Algorithm& a, std::uint16_t integ_id) {
  switch (static_cast<IntegId>(integ_id)) {
    case IntegId::hmac_sha2_256_128:
      a.integrity = Integrity::hmac_sha2_256_128;
      a.integrity_key_bytes = 32;
      a.icv_bytes = 16;
      return true;
    case IntegId::hmac_sha2_384_192:
      a.integrity = Integrity::hmac_sha2_384_192;
      a.integrity_key_bytes = 48;
      a.icv_bytes = 24;
      return true;
    case IntegId::hmac_sha2_512_256:
      a.integrity = Integrity::hmac_sha2_512_256;
      a.integrity_key_bytes = 64;
      a.icv_bytes = 32;
      return true;
    default:
      return false;
  }
}

bool aes_key_bits_ok(std::uint16_t bits) { return bits == 128 || bits == 192 || bits == 256; }

}  // namespace

std::optional<Algorithm> esp_algorithm(std::uint16_t encr_id, std::uint16_t key_bits, std::uint16_t integ_id,
                                       std::string* why) {
  Algorithm a;
  const auto encr = static_cast<EncrId>(encr_id);
  switch (encr) {
    case EncrId::aes_gcm_16:
    case EncrId::null_auth_aes_gmac:
      if (!aes_key_bits_ok(key_bits)) return refuse(why, "AES key length must be 128, 192 or 256 bits");
      a.cipher = encr == EncrId::aes_gcm_16 ? Cipher::aes_gcm : Cipher::aes_gmac;
      a.key_bytes = static_cast<std::uint8_t>(key_bits / 8);
      a.salt_bytes = 4;  // RFC 4106 §8.1, RFC 4543 §7.1
      a.iv_bytes = 8;
      a.icv_bytes = 16;
      break;
    case EncrId::chacha20_poly1305:
      if (key_bits != 0 && key_bits != 256) return refuse(why, "ChaCha20-Poly1305 has a 256-bit key only");
      a.cipher = Cipher::chacha20_poly1305;
      a.key_bytes = 32;
      a.salt_bytes = 4;  // RFC 7634 §2
      a.iv_bytes = 8;
      a.icv_bytes = 16;
      break;
    case EncrId::aes_cbc:
      if (!aes_key_bits_ok(key_bits)) return refuse(why, "AES key length must be 128, 192 or 256 bits");
      a.cipher = Cipher::aes_cbc;
      a.key_bytes = static_cast<std::uint8_t>(key_bits / 8);
      a.iv_bytes = 16;  // RFC 3602 §2.1
      a.block_bytes = 16;
      break;
    case EncrId::aes_ctr:
      if (!aes_key_bits_ok(key_bits)) return refuse(why, "AES key length must be 128, 192 or 256 bits");
      a.cipher = Cipher::aes_ctr;
      a.key_bytes = static_cast<std::uint8_t>(key_bits / 8);
      a.salt_bytes = 4;  // RFC 3686 §5.1 nonce
      a.iv_bytes = 8;
      break;
    case EncrId::null:
      a.cipher = Cipher::null;
      break;
    case EncrId::aes_gcm_8:
    case EncrId::aes_gcm_12:
      return refuse(why, "AES-GCM with an 8- or 12-byte ICV is not supported (RFC 8221: use the 16-byte ICV)");
    default:
      return refuse(why, "encryption transform " + std::to_string(encr_id) + " is not supported by the packet engine");
  }

  const bool makes_own_icv =
      a.cipher == Cipher::aes_gcm || a.cipher == Cipher::aes_gmac || a.cipher == Cipher::chacha20_poly1305;
  if (makes_own_icv) {
    if (integ_id != 0) return refuse(why, "an AEAD cipher takes no separate integrity algorithm");
    return a;
  }
  if (!set_integrity(a, integ_id)) {
    if (integ_id == 0) return refuse(why, "this cipher needs an integrity algorithm");
    return refuse(why, "integrity transform " + std::to_string(integ_id) + " is not supported by the packet engine");
  }
  return a;
}

std::optional<Algorithm> ah_algorithm(std::uint16_t integ_id, std::string* why) {
  Algorithm a;
  if (!set_integrity(a, integ_id)) {
    return refuse(why, "integrity transform " + std::to_string(integ_id) + " is not supported for AH");
  }
  return a;
}

std::string_view to_string(Cipher c) {
  switch (c) {
    case Cipher::null: return "null";
    case Cipher::aes_cbc: return "aes-cbc";
    case Cipher::aes_ctr: return "aes-ctr";
    case Cipher::aes_gcm: return "aes-gcm-16";
    case Cipher::aes_gmac: return "aes-gmac";
    case Cipher::chacha20_poly1305: return "chacha20-poly1305";
  }
  return "?";
}

std::string_view to_string(Integrity i) {
  switch (i) {
    case Integrity::none: return "none";
    case Integrity::hmac_sha2_256_128: return "hmac-sha2-256-128";
    case Integrity::hmac_sha2_384_192: return "hmac-sha2-384-192";
    case Integrity::hmac_sha2_512_256: return "hmac-sha2-512-256";
  }
  return "?";
}

}  // namespace corridor::dataplane::crypto
