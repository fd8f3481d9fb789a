// IKEv2 Diffie-Hellman key exchange (the KE payload, RFC 7296 §2.14,
// §3.4) on OpenSSL 3 EVP:
//
//   MODP   1024 (2, RFC 2409), 1536 (5), 2048 (14), 3072 (15), 4096 (16)
//          (RFC 3526); public value and g^ir are big-endian integers
//          left-padded to the prime's length (RFC 7296 §2.14).
//   ECP    256 (19), 384 (20), 521 (21) (RFC 5903): public value x | y
//          without the SEC1 0x04 prefix, each coordinate padded to the field
//          size; g^ir is the x coordinate of the shared point (§7).
//   Curve25519 (31), Curve448 (32) (RFC 8031): the 32/56-byte u values and
//          X25519/X448 outputs of RFC 7748.
//
// Every peer value is checked before use (RFC 6989 §2.1 for MODP, on-curve
// for ECP, RFC 7748 §6.1 all-zero output for Curve25519/448) and refused
// with KeyErrc::invalid_public_value, whose message names the group and the
// reason: the caller answers INVALID_SYNTAX or drops the exchange.
// MODP 1024 and 1536 are implemented, but whether a config may use them
// (weak algorithms) is the caller's decision.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <openssl/types.h>

#include "common/iana/ikev2.h"
#include "common/ike/keys.h"

namespace corridor::ike {

// True for the groups Corridor implements (the list above).
bool key_exchange_supported(iana::KeId group);

// Size in bytes of the group's public value on the wire (the KE payload's
// Key Exchange Data): MODP: prime length; ECP: twice the coordinate length;
// Curve25519: 32; Curve448: 56.
KeyExpected<std::size_t> public_value_size(iana::KeId group);

// One side's ephemeral key pair (RFC 7296 §2.14 calls the computation
// Diffie-Hellman; the KE payload itself is ike::KeyExchange in message.h).
// Movable, not copyable; the private key is freed (and wiped by OpenSSL)
// when the object goes away.
class DiffieHellman {
 public:
  // A fresh private key for the group (OpenSSL's default private exponent
  // size for the named MODP groups).
  static KeyExpected<DiffieHellman> generate(iana::KeId group);

  // TEST ONLY: a key pair from a fixed private key, for the known-answer
  // vectors of RFC 5903 §8 and RFC 7748 §6. The private key is big-endian
  // for MODP/ECP (at most the prime/order length) and the raw 32/56-byte
  // scalar for Curve25519/448. Real exchanges must use generate().
  static KeyExpected<DiffieHellman> from_private(iana::KeId group, ByteView private_key);

  DiffieHellman(DiffieHellman&& other) noexcept;
  DiffieHellman& operator=(DiffieHellman&& other) noexcept;
  DiffieHellman(const DiffieHellman&) = delete;
  DiffieHellman& operator=(const DiffieHellman&) = delete;
  ~DiffieHellman();

  iana::KeId group() const { return group_; }
  // Wire form, exactly public_value_size(group()) bytes.
  const std::vector<std::uint8_t>& public_value() const { return public_; }

  // g^ir from the peer's Key Exchange Data, in the form RFC 7296 §2.14 /
  // RFC 5903 §7 / RFC 8031 §2 feed to SKEYSEED. Refuses a value of the
  // wrong length, a MODP value outside 2..p-2 (RFC 6989 §2.1), an ECP point
  // not on the curve, and an all-zero Curve25519/448 output.
  KeyExpected<SecretBytes> shared_secret(ByteView peer_public) const;

 private:
  DiffieHellman(iana::KeId group, EVP_PKEY* key, std::vector<std::uint8_t> public_value)
      : group_(group), key_(key), public_(std::move(public_value)) {}

  iana::KeId group_ = iana::KeId::none;
  EVP_PKEY* key_ = nullptr;
  std::vector<std::uint8_t> public_;
};

}  // namespace corridor::ike
