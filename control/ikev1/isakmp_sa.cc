#include "control/ikev1/isakmp_sa.h"

#include <cstdio>

namespace corridor::control::ikev1 {

std::string IsakmpSa::name() const {
  return (connection ? connection->name : std::string("?")) + "[" + std::to_string(serial) + "]";
}

Bytes IsakmpSa::cookie_pair() const {
  Bytes out(cookie_i.begin(), cookie_i.end());
  out.insert(out.end(), cookie_r.begin(), cookie_r.end());
  return out;
}

std::string endpoint_text(const net::SocketAddress& a) {
  return a.address.to_string() + "[" + std::to_string(a.port) + "]";
}

std::string hex32(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0f];
  }
  return out;
}

}  // namespace corridor::control::ikev1
