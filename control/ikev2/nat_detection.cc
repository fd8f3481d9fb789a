#include "control/ikev2/nat_detection.h"

#include <openssl/sha.h>

namespace corridor::control::ikev2 {

std::vector<std::uint8_t> nat_detection_hash(const std::array<std::uint8_t, 8>& spi_i,
                                             const std::array<std::uint8_t, 8>& spi_r,
                                             const net::SocketAddress& address) {
  std::vector<std::uint8_t> input(spi_i.begin(), spi_i.end());
  input.insert(input.end(), spi_r.begin(), spi_r.end());
  const auto& bytes = address.address.bytes();
  input.insert(input.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(address.address.byte_length()));
  input.push_back(static_cast<std::uint8_t>(address.port >> 8));
  input.push_back(static_cast<std::uint8_t>(address.port));
  std::vector<std::uint8_t> out(SHA_DIGEST_LENGTH);
  SHA1(input.data(), input.size(), out.data());
  return out;
}

}  // namespace corridor::control::ikev2
