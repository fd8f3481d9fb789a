// The normalized selector key of one clear IP packet, and the parser that
// builds it (RFC 4301 §4.4.1.1 selectors: addresses, Next Layer Protocol,
// ports).
//
// The SPD never looks at raw IP headers: IPv4 options and IPv6 extension
// headers move the ports, and fragments hide them. make_key() walks the
// headers once, bounds-checked, and copies the selector fields into a small
// fixed layout that rte_acl (spd.h) and the inbound selector check read.
//
// Ports (RFC 4301 §4.4.1.1, §7):
//   - TCP, UDP, SCTP, DCCP, UDP-Lite: source and destination port.
//   - ICMP (IPv4, 1) and ICMPv6 (58): one 16-bit value, message type in the
//     high byte and code in the low byte, carried in the source-port
//     position (the "local port" of an outbound packet, as RFC 4301 and
//     RFC 7296 §3.13.1 encode it); the destination port is OPAQUE. So an
//     outbound policy for ICMP echo requests has src_ports 0x0800-0x08ff.
//   - IPv6 Mobility Header (135): MH type in the high byte of the
//     source-port position, low byte zero; destination port OPAQUE.
//   - Any other protocol, a non-initial fragment, and an initial fragment
//     too short to hold the port fields: both ports OPAQUE.
// OPAQUE (RFC 4301 §4.4.1.1) matches only a selector whose range is ANY
// (0-65535); any narrower port range does not match it. This follows the
// stateless fragment handling of RFC 4301 §7.1: non-initial fragments match
// only SPD entries whose port selectors are ANY.
//
// Next Layer Protocol: the IPv4 Protocol field; for IPv6 the header after
// Hop-by-Hop, Routing, Destination Options and Fragment headers. AH and ESP
// end the walk (they are the next layer protocol of a clear packet that
// carries them, e.g. for a bypass policy). For a non-initial IPv6 fragment
// whose Fragment header names another extension header, the protocol is not
// available: it is OPAQUE, stored as 0, which only "any protocol" (0)
// selectors match (no selector can name protocol 0 itself).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/channel/records.h"

namespace corridor::dataplane::tables {

using channel::IpVersion;

// Layout of PacketKey::bytes(), shared with the rte_acl field definitions
// (spd.cc). All fields are in network byte order, as rte_acl_classify
// requires. A port field is 32 bits: 0 means OPAQUE, otherwise port + 1, so
// that OPAQUE is a value no real port has and only the full range matches it.
struct KeyLayout {
  static constexpr std::size_t kProtocol = 0;  // 1 byte; bytes 1..3 unused (rte_acl reads the first field alone)
  static constexpr std::size_t kSrc = 4;
  // IPv4: src 4 bytes at 4, dst at 8, ports at 12 and 16 (20 bytes used).
  static constexpr std::size_t kV4Dst = 8;
  static constexpr std::size_t kV4SrcPort = 12;
  static constexpr std::size_t kV4DstPort = 16;
  // IPv6: src 16 bytes at 4, dst at 20, ports at 36 and 40 (44 bytes used).
  static constexpr std::size_t kV6Dst = 20;
  static constexpr std::size_t kV6SrcPort = 36;
  static constexpr std::size_t kV6DstPort = 40;
  static constexpr std::size_t kSize = 44;
};

inline constexpr std::uint8_t kProtocolOpaque = 0;

// Selector fields of one packet. Value type; build one per packet of a
// burst with make_key(), or with v4()/v6() for synthesized traffic.
class PacketKey {
 public:
  PacketKey() = default;

  // port: nullopt is OPAQUE. Addresses are network-order bytes (4 or 16).
  static PacketKey v4(std::uint8_t protocol, std::span<const std::uint8_t, 4> src, std::span<const std::uint8_t, 4> dst,
                      std::optional<std::uint16_t> src_port, std::optional<std::uint16_t> dst_port);
  static PacketKey v6(std::uint8_t protocol, std::span<const std::uint8_t, 16> src,
                      std::span<const std::uint8_t, 16> dst, std::optional<std::uint16_t> src_port,
                      std::optional<std::uint16_t> dst_port);

  IpVersion family() const { return family_; }
  std::uint8_t protocol() const { return bytes_[KeyLayout::kProtocol]; }  // kProtocolOpaque: unknown
  std::span<const std::uint8_t> src_address() const {
    return {bytes_.data() + KeyLayout::kSrc, family_ == IpVersion::v4 ? 4u : 16u};
  }
  std::span<const std::uint8_t> dst_address() const {
    return family_ == IpVersion::v4 ? std::span<const std::uint8_t>{bytes_.data() + KeyLayout::kV4Dst, 4}
                                    : std::span<const std::uint8_t>{bytes_.data() + KeyLayout::kV6Dst, 16};
  }
  // nullopt: OPAQUE (see the header comment for what each protocol puts here).
  std::optional<std::uint16_t> src_port() const {
    return decode_port(family_ == IpVersion::v4 ? KeyLayout::kV4SrcPort : KeyLayout::kV6SrcPort);
  }
  std::optional<std::uint16_t> dst_port() const {
    return decode_port(family_ == IpVersion::v4 ? KeyLayout::kV4DstPort : KeyLayout::kV6DstPort);
  }
  // The raw 32-bit port selector value (0 = OPAQUE, else port + 1), host order.
  std::uint32_t src_port_selector() const {
    return load_be32(family_ == IpVersion::v4 ? KeyLayout::kV4SrcPort : KeyLayout::kV6SrcPort);
  }
  std::uint32_t dst_port_selector() const {
    return load_be32(family_ == IpVersion::v4 ? KeyLayout::kV4DstPort : KeyLayout::kV6DstPort);
  }

  // What rte_acl_classify reads (KeyLayout).
  const std::uint8_t* acl_input() const { return bytes_.data(); }

  friend bool operator==(const PacketKey&, const PacketKey&) = default;

 private:
  friend class KeyWriter;

  std::optional<std::uint16_t> decode_port(std::size_t offset) const {
    const std::uint32_t v = load_be32(offset);
    if (v == 0) return std::nullopt;
    return static_cast<std::uint16_t>(v - 1);
  }
  std::uint32_t load_be32(std::size_t offset) const {
    return (std::uint32_t{bytes_[offset]} << 24) | (std::uint32_t{bytes_[offset + 1]} << 16) |
           (std::uint32_t{bytes_[offset + 2]} << 8) | std::uint32_t{bytes_[offset + 3]};
  }

  std::array<std::uint8_t, KeyLayout::kSize> bytes_{};
  IpVersion family_ = IpVersion::v4;
};

// Why make_key() refused a packet. The caller counts each under its own name
// and drops the packet.
enum class KeyError : std::uint8_t {
  ok = 0,
  truncated,            // the buffer ends before a header (or the IP length) says
  bad_version,          // IP version nibble is neither 4 nor 6
  bad_header_length,    // IPv4 IHL < 5, or Total Length < IHL
  bad_extension_order,  // IPv6 Hop-by-Hop header anywhere but first (RFC 8200 §4.1)
  too_many_extension_headers,  // more than kMaxExtensionHeaders IPv6 extension headers
};
std::string_view to_string(KeyError error);

// IPv6 extension headers make_key() walks before it gives up. Legitimate
// packets carry two or three; the bound keeps the per-packet cost fixed.
inline constexpr unsigned kMaxExtensionHeaders = 8;

// Parses the IP packet at `packet` (starting with the IPv4 or IPv6 header;
// the version nibble decides) and fills `key`. `length` is the number of
// bytes available; bytes past the IP length (link-layer padding) are
// ignored. On an error `key` is unspecified. Never reads outside
// [packet, packet + length).
KeyError make_key(const std::uint8_t* packet, std::uint32_t length, PacketKey& key);

}  // namespace corridor::dataplane::tables
