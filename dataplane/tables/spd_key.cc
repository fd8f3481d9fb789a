#include "dataplane/tables/spd_key.h"

#include <cstring>

#include "common/iana/ip_protocol.h"

namespace corridor::dataplane::tables {

// Writes PacketKey fields at their KeyLayout offsets (big-endian).
class KeyWriter {
 public:
  explicit KeyWriter(PacketKey& key) : key_(key) {}

  void start(IpVersion family) {
    key_.bytes_.fill(0);
    key_.family_ = family;
  }
  void protocol(std::uint8_t p) { key_.bytes_[KeyLayout::kProtocol] = p; }
  void src(const std::uint8_t* a) { std::memcpy(key_.bytes_.data() + KeyLayout::kSrc, a, address_size()); }
  void dst(const std::uint8_t* a) {
    std::memcpy(key_.bytes_.data() + (v4() ? KeyLayout::kV4Dst : KeyLayout::kV6Dst), a, address_size());
  }
  void ports(std::optional<std::uint16_t> src_port, std::optional<std::uint16_t> dst_port) {
    store_port(v4() ? KeyLayout::kV4SrcPort : KeyLayout::kV6SrcPort, src_port);
    store_port(v4() ? KeyLayout::kV4DstPort : KeyLayout::kV6DstPort, dst_port);
  }

 private:
  bool v4() const { return key_.family_ == IpVersion::v4; }
  std::size_t address_size() const { return v4() ? 4 : 16; }
  void store_port(std::size_t offset, std::optional<std::uint16_t> port) {
    const std::uint32_t v = port ? std::uint32_t{*port} + 1 : 0;  // 0 = OPAQUE
    key_.bytes_[offset] = static_cast<std::uint8_t>(v >> 24);
    key_.bytes_[offset + 1] = static_cast<std::uint8_t>(v >> 16);
    key_.bytes_[offset + 2] = static_cast<std::uint8_t>(v >> 8);
    key_.bytes_[offset + 3] = static_cast<std::uint8_t>(v);
  }

  PacketKey& key_;
};

namespace {

// The key for a packet of `family` whose fields are already known.
PacketKey make(IpVersion family, std::uint8_t protocol, const std::uint8_t* src, const std::uint8_t* dst,
               std::optional<std::uint16_t> src_port, std::optional<std::uint16_t> dst_port) {
  PacketKey key;
  KeyWriter w(key);
  w.start(family);
  w.protocol(protocol);
  w.src(src);
  w.dst(dst);
  w.ports(src_port, dst_port);
  return key;
}

}  // namespace

PacketKey PacketKey::v4(std::uint8_t protocol, std::span<const std::uint8_t, 4> src,
                        std::span<const std::uint8_t, 4> dst, std::optional<std::uint16_t> src_port,
                        std::optional<std::uint16_t> dst_port) {
  return make(IpVersion::v4, protocol, src.data(), dst.data(), src_port, dst_port);
}

PacketKey PacketKey::v6(std::uint8_t protocol, std::span<const std::uint8_t, 16> src,
                        std::span<const std::uint8_t, 16> dst, std::optional<std::uint16_t> src_port,
                        std::optional<std::uint16_t> dst_port) {
  return make(IpVersion::v6, protocol, src.data(), dst.data(), src_port, dst_port);
}

std::string_view to_string(KeyError error) {
  switch (error) {
    case KeyError::ok: return "ok";
    case KeyError::truncated: return "truncated";
    case KeyError::bad_version: return "bad_version";
    case KeyError::bad_header_length: return "bad_header_length";
    case KeyError::bad_extension_order: return "bad_extension_order";
    case KeyError::too_many_extension_headers: return "too_many_extension_headers";
  }
  return "unknown";
}

namespace {

using namespace iana::ip_protocol;  // the protocol numbers the parser treats specially

constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kIpv6FragmentHeader = 8;

// Bounds-checked reads over [0, end) of one packet: every read names its
// offset and fails instead of reading past the end.
class Cursor {
 public:
  Cursor(const std::uint8_t* data, std::size_t end) : data_(data), end_(end) {}
  std::size_t end() const { return end_; }
  void shrink_to(std::size_t end) { end_ = end; }
  bool has(std::size_t offset, std::size_t n) const { return offset <= end_ && n <= end_ - offset; }
  std::uint8_t u8(std::size_t offset) const { return data_[offset]; }  // after has()
  std::uint16_t u16(std::size_t offset) const {
    return static_cast<std::uint16_t>((std::uint16_t{data_[offset]} << 8) | data_[offset + 1]);
  }
  const std::uint8_t* at(std::size_t offset) const { return data_ + offset; }

 private:
  const std::uint8_t* data_;
  std::size_t end_;
};

bool is_ipv6_extension(std::uint8_t nh) {
  return nh == kIpv6HopByHop || nh == kIpv6Routing || nh == kIpv6Fragment || nh == kIpv6DestOpts;
}

// Port selectors of the next layer header at `offset`. `may_be_short`: the
// packet is an initial fragment, whose next layer header may legitimately be
// cut by fragmentation; then missing ports are OPAQUE instead of an error.
KeyError read_ports(const Cursor& c, std::size_t offset, std::uint8_t protocol, std::uint8_t icmp_protocol,
                    bool may_be_short, KeyWriter& w) {
  std::size_t need = 0;
  if (iana::ip_protocol::has_ports(protocol)) {
    need = 4;
  } else if (protocol == icmp_protocol) {
    need = 2;  // type, code
  } else if (protocol == kMobilityHeader && icmp_protocol == kIcmpV6) {
    need = 3;  // payload proto, header len, MH type (RFC 6275 §6.1.1)
  } else {
    w.ports(std::nullopt, std::nullopt);
    return KeyError::ok;
  }
  if (!c.has(offset, need)) {
    if (!may_be_short) return KeyError::truncated;
    w.ports(std::nullopt, std::nullopt);
    return KeyError::ok;
  }
  if (need == 4) {
    w.ports(c.u16(offset), c.u16(offset + 2));
  } else if (need == 2) {
    w.ports(c.u16(offset), std::nullopt);  // type << 8 | code
  } else {
    w.ports(static_cast<std::uint16_t>(c.u8(offset + 2) << 8), std::nullopt);
  }
  return KeyError::ok;
}

KeyError parse_ipv4(Cursor c, KeyWriter& w) {
  if (!c.has(0, kIpv4MinHeader)) return KeyError::truncated;
  const std::size_t ihl = std::size_t{c.u8(0) & 0x0fu} * 4;
  if (ihl < kIpv4MinHeader) return KeyError::bad_header_length;
  const std::size_t total_length = c.u16(2);
  if (total_length < ihl) return KeyError::bad_header_length;
  if (total_length > c.end()) return KeyError::truncated;  // also covers options past the buffer
  c.shrink_to(total_length);

  const std::uint16_t fragment = c.u16(6);
  const bool more_fragments = (fragment & 0x2000u) != 0;
  const std::uint16_t fragment_offset = fragment & 0x1fffu;
  const std::uint8_t protocol = c.u8(9);

  w.start(IpVersion::v4);
  w.protocol(protocol);
  w.src(c.at(12));
  w.dst(c.at(16));
  if (fragment_offset != 0) {  // non-initial fragment: no next layer header here
    w.ports(std::nullopt, std::nullopt);
    return KeyError::ok;
  }
  return read_ports(c, ihl, protocol, kIcmp, more_fragments, w);
}

KeyError parse_ipv6(Cursor c, KeyWriter& w) {
  if (!c.has(0, kIpv6Header)) return KeyError::truncated;
  // A zero Payload Length with a Jumbo Payload option (RFC 2675) cannot
  // cross the links a gateway forwards on; it reads as an empty payload here.
  const std::size_t end = kIpv6Header + c.u16(4);
  if (end > c.end()) return KeyError::truncated;
  c.shrink_to(end);

  w.start(IpVersion::v6);
  w.src(c.at(8));
  w.dst(c.at(24));

  std::uint8_t nh = c.u8(6);
  std::size_t offset = kIpv6Header;
  bool initial_fragment = false;
  for (unsigned headers = 0; is_ipv6_extension(nh); ++headers) {
    if (headers == kMaxExtensionHeaders) return KeyError::too_many_extension_headers;
    if (nh == kIpv6HopByHop && offset != kIpv6Header) return KeyError::bad_extension_order;
    if (nh == kIpv6Fragment) {
      if (!c.has(offset, kIpv6FragmentHeader)) return KeyError::truncated;
      const std::uint8_t next = c.u8(offset);
      const std::uint16_t offset_flags = c.u16(offset + 2);
      if ((offset_flags >> 3) != 0) {
        // Non-initial fragment: what follows is payload bytes. The Fragment
        // header names the first header of the fragmentable part, which is
        // the next layer protocol unless it is another extension header.
        w.protocol(is_ipv6_extension(next) ? kProtocolOpaque : next);
        w.ports(std::nullopt, std::nullopt);
        return KeyError::ok;
      }
      // Offset 0 with M set is an initial fragment; with M clear it is an
      // atomic fragment (RFC 6946), a whole packet.
      initial_fragment = (offset_flags & 1u) != 0;
      nh = next;
      offset += kIpv6FragmentHeader;
      continue;
    }
    // Hop-by-Hop, Routing, Destination Options: Next Header, Hdr Ext Len in
    // 8-octet units not counting the first 8 (RFC 8200 §4.3, §4.4, §4.6).
    if (!c.has(offset, 2)) return KeyError::truncated;
    const std::size_t length = (std::size_t{c.u8(offset + 1)} + 1) * 8;
    if (!c.has(offset, length)) return KeyError::truncated;
    nh = c.u8(offset);
    offset += length;
  }
  w.protocol(nh);
  return read_ports(c, offset, nh, kIcmpV6, initial_fragment, w);
}

}  // namespace

KeyError make_key(const std::uint8_t* packet, std::uint32_t length, PacketKey& key) {
  if (length == 0) return KeyError::truncated;
  KeyWriter w(key);
  const Cursor c(packet, length);
  switch (packet[0] >> 4) {
    case 4: return parse_ipv4(c, w);
    case 6: return parse_ipv6(c, w);
    default: return KeyError::bad_version;
  }
}

}  // namespace corridor::dataplane::tables
