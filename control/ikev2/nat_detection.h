// NAT detection (RFC 7296 §2.23): each side sends
//   NAT_DETECTION_SOURCE_IP      = SHA-1(SPIi | SPIr | source IP | source port)
//   NAT_DETECTION_DESTINATION_IP = SHA-1(SPIi | SPIr | destination IP | destination port)
// in IKE_SA_INIT (SPIr zero in the request). A received source hash that
// does not match the packet's source says the peer is behind a NAT; a
// destination hash that does not match our address says we are.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "common/net/address.h"

namespace corridor::control::ikev2 {

std::vector<std::uint8_t> nat_detection_hash(const std::array<std::uint8_t, 8>& spi_i,
                                             const std::array<std::uint8_t, 8>& spi_r,
                                             const net::SocketAddress& address);

}  // namespace corridor::control::ikev2
