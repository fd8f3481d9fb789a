// The Internet checksum (RFC 1071): the one's complement of the one's
// complement sum of 16-bit big-endian words. IPv4 headers, ICMP, ICMPv6
// (over its pseudo-header) and UDP all use it; this is the one place it is
// computed. A received header or message is intact when the checksum over
// it, its checksum field included, is 0.
#pragma once

#include <cstdint>

namespace corridor::net {

// Adds `n` bytes at `p` to a running sum, as 16-bit big-endian words; an
// odd last byte counts as the high byte of a word padded with zero. The
// 32-bit sum does not overflow for anything shorter than 128 KiB.
inline std::uint32_t checksum_add(std::uint32_t sum, const std::uint8_t* p, std::uint32_t n) {
  for (std::uint32_t i = 0; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += static_cast<std::uint32_t>(p[n - 1]) << 8;
  return sum;
}

// The checksum of a running sum: folded to 16 bits, complemented.
inline std::uint16_t checksum_finish(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

inline std::uint16_t internet_checksum(const std::uint8_t* p, std::uint32_t n) {
  return checksum_finish(checksum_add(0, p, n));
}

}  // namespace corridor::net
