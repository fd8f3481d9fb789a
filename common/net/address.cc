#include "common/net/address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace corridor::net {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; 45 chars is the longest IPv6 text form.
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (text.find(':') != std::string_view::npos) {
    if (inet_pton(AF_INET6, buf, a.bytes_.data()) != 1) return std::nullopt;
    a.family_ = Family::ipv6;
  } else {
    if (inet_pton(AF_INET, buf, a.bytes_.data()) != 1) return std::nullopt;
    a.family_ = Family::ipv4;
  }
  return a;
}

IpAddress IpAddress::v4(std::uint32_t host_order) {
  IpAddress a;
  a.bytes_[0] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes_[1] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes_[2] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes_[3] = static_cast<std::uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::from_bytes(Family family, const std::uint8_t* bytes) {
  IpAddress a;
  a.family_ = family;
  std::memcpy(a.bytes_.data(), bytes, a.byte_length());
  return a;
}

IpAddress IpAddress::any(Family family) {
  IpAddress a;
  a.family_ = family;
  return a;
}

bool IpAddress::is_unspecified() const {
  for (std::size_t i = 0; i < byte_length(); ++i)
    if (bytes_[i] != 0) return false;
  return true;
}

bool IpAddress::is_loopback() const {
  if (is_v4()) return bytes_[0] == 127;
  for (std::size_t i = 0; i < 15; ++i)
    if (bytes_[i] != 0) return false;
  return bytes_[15] == 1;
}

IpAddress IpAddress::masked(unsigned length) const {
  IpAddress a = *this;
  for (unsigned bit = length; bit < bit_length(); ++bit)
    a.bytes_[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  return a;
}

IpAddress IpAddress::last_in(unsigned length) const {
  IpAddress a = *this;
  for (unsigned bit = length; bit < bit_length(); ++bit)
    a.bytes_[bit / 8] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
  return a;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

std::strong_ordering operator<=>(const IpAddress& a, const IpAddress& b) {
  if (a.family_ != b.family_) return a.family_ <=> b.family_;
  return std::memcmp(a.bytes_.data(), b.bytes_.data(), a.byte_length()) <=> 0;
}

namespace {

bool parse_uint(std::string_view s, unsigned max, unsigned& out) {
  if (s.empty() || s.size() > 5) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size() && out <= max;
}

}  // namespace

std::optional<Prefix> Prefix::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Prefix> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  const auto slash = text.find('/');
  const auto addr_text = text.substr(0, slash);
  const auto address = IpAddress::parse(addr_text);
  if (!address) return fail("not an IP address: " + std::string(addr_text));
  Prefix p{*address, static_cast<std::uint8_t>(address->bit_length())};
  if (slash != std::string_view::npos) {
    unsigned length = 0;
    if (!parse_uint(text.substr(slash + 1), address->bit_length(), length))
      return fail("prefix length must be 0.." + std::to_string(address->bit_length()) + ": " +
                  std::string(text));
    p.length = static_cast<std::uint8_t>(length);
  }
  return p;
}

bool Prefix::contains(const IpAddress& a) const {
  return a.family() == address.family() && a.masked(length) == address.masked(length);
}

std::string Prefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<SocketAddress> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail("expected [IPv6]:port");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected address:port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return fail("write IPv6 as [address]:port");
  }
  const auto address = IpAddress::parse(host);
  if (!address) return fail("not an IP address: " + std::string(host));
  unsigned p = 0;
  if (!parse_uint(port, 65535, p) || p == 0) return fail("port must be 1..65535");
  return SocketAddress{*address, static_cast<std::uint16_t>(p)};
}

std::string SocketAddress::to_string() const {
  if (address.is_v4()) return address.to_string() + ":" + std::to_string(port);
  return "[" + address.to_string() + "]:" + std::to_string(port);
}

}  // namespace corridor::net
