// Stateless cookies for IKE_SA_INIT (RFC 7296 §2.6) against half-open SA
// floods from spoofed addresses.
//
//   Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>)
//
// with SHA-256 as the hash and a 32-byte random secret. The secret is
// replaced regularly; a cookie made with the previous one is still taken,
// so an initiator caught by the change is not refused. Checking compares
// in constant time.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/net/address.h"

namespace corridor::control::ikev2 {

class CookieJar {
 public:
  // `first_secret`: 32 random bytes.
  explicit CookieJar(std::span<const std::uint8_t> first_secret);

  std::vector<std::uint8_t> make(std::span<const std::uint8_t> nonce_i, const net::IpAddress& initiator,
                                 const std::array<std::uint8_t, 8>& spi_i) const;
  bool valid(std::span<const std::uint8_t> cookie, std::span<const std::uint8_t> nonce_i,
             const net::IpAddress& initiator, const std::array<std::uint8_t, 8>& spi_i) const;
  // A new secret; the current one becomes the previous one.
  void rotate(std::span<const std::uint8_t> new_secret);

 private:
  struct Secret {
    std::uint32_t version = 0;
    std::array<std::uint8_t, 32> bytes{};
  };
  static std::vector<std::uint8_t> compute(const Secret& secret, std::span<const std::uint8_t> nonce_i,
                                           const net::IpAddress& initiator, const std::array<std::uint8_t, 8>& spi_i);
  Secret current_;
  Secret previous_;
  bool has_previous_ = false;
};

}  // namespace corridor::control::ikev2
