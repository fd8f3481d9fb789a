// IPv4 and IPv6 packets built field by field for the SPD tests: options,
// extension headers, fragments, ICMP, and make_key() over an exact-size
// copy so that ASan sees any read past the end.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "dataplane/tables/spd_key.h"

namespace corridor::dataplane::tables::test {

using Bytes = std::vector<std::uint8_t>;
using A4 = std::array<std::uint8_t, 4>;
using A16 = std::array<std::uint8_t, 16>;

inline constexpr std::uint8_t kTcp = 6, kUdp = 17, kIcmp = 1, kIcmpV6 = 58, kGre = 47, kEsp = 50;
inline constexpr std::uint8_t kHopByHop = 0, kRouting = 43, kFragment = 44, kDestOpts = 60, kMobility = 135;

inline Bytes ports(std::uint16_t src, std::uint16_t dst) {  // first 8 bytes of a TCP/UDP header
  return {static_cast<std::uint8_t>(src >> 8), static_cast<std::uint8_t>(src), static_cast<std::uint8_t>(dst >> 8),
          static_cast<std::uint8_t>(dst), 0, 0, 0, 0};
}
inline Bytes icmp(std::uint8_t type, std::uint8_t code) { return {type, code, 0, 0, 0, 0, 0, 0}; }

struct V4Packet {
  std::uint8_t protocol = kUdp;
  A4 src{10, 1, 0, 5};
  A4 dst{10, 2, 0, 9};
  Bytes options;  // multiple of 4 bytes
  std::uint16_t fragment_offset = 0;  // 8-octet units
  bool more_fragments = false;
  Bytes payload = ports(40000, 443);

  Bytes build() const {
    const std::size_t ihl = 20 + options.size();
    Bytes p(ihl + payload.size());
    p[0] = static_cast<std::uint8_t>(0x40 | (ihl / 4));
    p[2] = static_cast<std::uint8_t>(p.size() >> 8);
    p[3] = static_cast<std::uint8_t>(p.size());
    const std::uint16_t frag = static_cast<std::uint16_t>((more_fragments ? 0x2000 : 0) | fragment_offset);
    p[6] = static_cast<std::uint8_t>(frag >> 8);
    p[7] = static_cast<std::uint8_t>(frag);
    p[8] = 64;
    p[9] = protocol;
    std::copy(src.begin(), src.end(), p.begin() + 12);
    std::copy(dst.begin(), dst.end(), p.begin() + 16);
    std::copy(options.begin(), options.end(), p.begin() + 20);
    std::copy(payload.begin(), payload.end(), p.begin() + static_cast<std::ptrdiff_t>(ihl));
    return p;
  }
};

inline A16 addr6(std::uint16_t w0, std::uint16_t w1, std::uint16_t last) {
  A16 a{};
  a[0] = static_cast<std::uint8_t>(w0 >> 8);
  a[1] = static_cast<std::uint8_t>(w0);
  a[2] = static_cast<std::uint8_t>(w1 >> 8);
  a[3] = static_cast<std::uint8_t>(w1);
  a[14] = static_cast<std::uint8_t>(last >> 8);
  a[15] = static_cast<std::uint8_t>(last);
  return a;
}

// Hop-by-Hop, Routing or Destination Options header of `units` x 8 bytes,
// filled with Pad1 options; the builder sets its Next Header.
inline Bytes ext(unsigned units) {
  Bytes b(8 * units, 0);
  b[1] = static_cast<std::uint8_t>(units - 1);
  return b;
}
inline Bytes fragment_header(std::uint16_t offset_units, bool more) {
  const std::uint16_t v = static_cast<std::uint16_t>((offset_units << 3) | (more ? 1 : 0));
  return {0, 0, static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v), 0, 0, 0x12, 0x34};
}

struct V6Packet {
  A16 src = addr6(0x2001, 0x0db8, 1);
  A16 dst = addr6(0x2001, 0x0db8, 2);
  std::vector<std::pair<std::uint8_t, Bytes>> extensions;  // (header type, bytes)
  std::uint8_t protocol = kUdp;
  Bytes payload = ports(40000, 443);

  Bytes build() const {
    Bytes p(40, 0);
    p[0] = 0x60;
    p[6] = extensions.empty() ? protocol : extensions.front().first;
    p[7] = 64;
    std::copy(src.begin(), src.end(), p.begin() + 8);
    std::copy(dst.begin(), dst.end(), p.begin() + 24);
    for (std::size_t i = 0; i < extensions.size(); ++i) {
      Bytes h = extensions[i].second;
      h[0] = i + 1 < extensions.size() ? extensions[i + 1].first : protocol;
      p.insert(p.end(), h.begin(), h.end());
    }
    p.insert(p.end(), payload.begin(), payload.end());
    const std::size_t payload_length = p.size() - 40;
    p[4] = static_cast<std::uint8_t>(payload_length >> 8);
    p[5] = static_cast<std::uint8_t>(payload_length);
    return p;
  }
};

inline KeyError parse(const Bytes& packet, PacketKey& key) {
  // An exact-size heap copy, so that ASan sees any read past the end.
  auto copy = std::make_unique<std::uint8_t[]>(packet.size());
  std::copy(packet.begin(), packet.end(), copy.get());
  return make_key(copy.get(), static_cast<std::uint32_t>(packet.size()), key);
}

inline PacketKey key_of(const Bytes& packet) {
  PacketKey k;
  EXPECT_EQ(parse(packet, k), KeyError::ok);
  return k;
}

}  // namespace corridor::dataplane::tables::test
