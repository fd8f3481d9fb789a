// The Internet checksum (RFC 1071): the one's complement of the one's
// complement sum of 16-bit big-endian words. IPv4 headers, ICMP, ICMPv6
// (over its pseudo-header) and UDP all use it; this is the one place it is
// computed. A received header or message is intact when the checksum over
// it, its checksum field included, is 0.
#pragma once

#include <cstdint>
#include <cstring>

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

// Whether the `len` bytes at `p` (a multiple of 4: an IPv4 header, its
// checksum included) are intact: their one's complement sum is 0xffff.
// The check RFC 1812 §5.2.2 asks of a router for every packet, so it is
// made fast: 32-bit words in host order, since the one's complement sum
// does not depend on byte order (RFC 1071 §2(B)) and 0xffff is its own
// swap; five additions for the usual 20 bytes.
inline bool checksum_ok_words(const std::uint8_t* p, std::uint32_t len) {
  std::uint64_t sum = 0;
  for (std::uint32_t i = 0; i + 4 <= len; i += 4) {
    std::uint32_t w;
    std::memcpy(&w, p + i, 4);
    sum += w;
  }
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  return sum == 0xffffu;
}

}  // namespace corridor::net
