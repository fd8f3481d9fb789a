// Ethernet framing as the dataplane's ports see it: the frame header the
// forwarding path strips on input and writes on output.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace corridor::dataplane::net {

inline constexpr std::uint32_t kEtherHeaderLen = 14;
inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;
inline constexpr std::uint16_t kEtherTypeVlan = 0x8100;
inline constexpr std::uint16_t kEtherTypeQinQ = 0x88a8;
inline constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;

// Network byte order in frames, for the link-layer protocols here (ARP,
// Neighbor Discovery, the exception link).
inline std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
inline void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline bool all_zero(const std::uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] != 0) return false;
  return true;
}

struct MacAddress {
  std::array<std::uint8_t, 6> bytes{};

  static constexpr MacAddress broadcast() { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  bool is_multicast() const { return (bytes[0] & 1) != 0; }
  bool is_zero() const { return bytes == std::array<std::uint8_t, 6>{}; }
  // "02:00:00:00:00:01" (colon-separated hex, 6 octets).
  static std::optional<MacAddress> parse(std::string_view text) {
    MacAddress m;
    unsigned v[6];
    char tail = 0;
    const std::string s(text);
    if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6 ||
        s.size() != 17) {
      return std::nullopt;
    }
    for (int i = 0; i < 6; ++i) m.bytes[i] = static_cast<std::uint8_t>(v[i]);
    return m;
  }
  std::string to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2], bytes[3], bytes[4],
                  bytes[5]);
    return buf;
  }
  // Packed into the low 48 bits (for a single atomic store in tables).
  std::uint64_t packed() const {
    std::uint64_t v = 0;
    for (auto b : bytes) v = v << 8 | b;
    return v;
  }
  static MacAddress unpack(std::uint64_t v) {
    MacAddress m;
    for (int i = 5; i >= 0; --i) {
      m.bytes[i] = static_cast<std::uint8_t>(v);
      v >>= 8;
    }
    return m;
  }
  friend bool operator==(const MacAddress&, const MacAddress&) = default;
};

}  // namespace corridor::dataplane::net
