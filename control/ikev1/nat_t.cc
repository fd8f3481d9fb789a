#include "control/ikev1/nat_t.h"

#include "common/ikev1/keys.h"

namespace corridor::control::ikev1 {

std::span<const std::uint8_t> rfc3947_vendor_id() {
  static constexpr std::array<std::uint8_t, 16> kId{0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45,
                                                    0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f};
  return kId;
}

std::span<const std::uint8_t> dpd_vendor_id() {
  static constexpr std::array<std::uint8_t, 16> kId{0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
                                                    0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00};
  return kId;
}

corridor::ike::KeyExpected<std::vector<std::uint8_t>> nat_d_hash(iana::PrfId prf, std::span<const std::uint8_t> cky_i,
                                                                 std::span<const std::uint8_t> cky_r,
                                                                 const net::SocketAddress& address) {
  const auto& ip = address.address.bytes();  // the first byte_length() bytes are the address
  const std::span<const std::uint8_t> ip_view(ip.data(), address.address.byte_length());
  const std::array<std::uint8_t, 2> port{static_cast<std::uint8_t>(address.port >> 8),
                                         static_cast<std::uint8_t>(address.port)};
  return corridor::ikev1::digest(prf, {cky_i, cky_r, ip_view, port});
}

}  // namespace corridor::control::ikev1
