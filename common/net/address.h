// IP addresses and prefixes for configuration and control-plane use.
//
// Plain value types, parsed from text with inet_pton semantics (no hostname
// resolution here: that would make config validation depend on DNS).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corridor::net {

enum class Family : std::uint8_t { ipv4 = 4, ipv6 = 6 };

class IpAddress {
 public:
  IpAddress() = default;  // 0.0.0.0

  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress v4(std::uint32_t host_order);
  static IpAddress from_bytes(Family family, const std::uint8_t* bytes);
  static IpAddress any(Family family);  // 0.0.0.0 or ::

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::ipv4; }
  unsigned bit_length() const { return is_v4() ? 32 : 128; }
  // Network-order bytes: 4 significant bytes for IPv4, 16 for IPv6.
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  std::size_t byte_length() const { return is_v4() ? 4 : 16; }

  bool is_unspecified() const;
  bool is_loopback() const;
  // Address with all bits after the first `length` cleared.
  IpAddress masked(unsigned length) const;
  // Address with all bits after the first `length` set (last of a prefix).
  IpAddress last_in(unsigned length) const;

  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  // Orders IPv4 before IPv6, then numerically.
  friend std::strong_ordering operator<=>(const IpAddress& a, const IpAddress& b);

 private:
  Family family_ = Family::ipv4;
  std::array<std::uint8_t, 16> bytes_{};
};

// A CIDR prefix such as 10.1.0.0/16 or 2001:db8::/32. A bare address is a
// host prefix (/32 or /128).
struct Prefix {
  IpAddress address;
  std::uint8_t length = 0;

  // On failure returns std::nullopt and, if `error` is given, why.
  static std::optional<Prefix> parse(std::string_view text, std::string* error = nullptr);

  bool host_bits_clear() const { return address.masked(length) == address; }
  bool contains(const IpAddress& a) const;
  Prefix network() const { return {address.masked(length), length}; }
  std::string to_string() const;

  friend bool operator==(const Prefix&, const Prefix&) = default;
};

// host:port as used by listen addresses: "127.0.0.1:8443", "[::1]:8443".
struct SocketAddress {
  IpAddress address;
  std::uint16_t port = 0;

  static std::optional<SocketAddress> parse(std::string_view text, std::string* error = nullptr);
  std::string to_string() const;
};

}  // namespace corridor::net
