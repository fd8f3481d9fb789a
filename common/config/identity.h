// IKE identities written the way strongSwan reads them (swanctl.conf `id`):
//
//   %any                       any identity
//   192.0.2.1, 2001:db8::1     ID_IPV4_ADDR / ID_IPV6_ADDR
//   gw.example.com, @gw        ID_FQDN ("@" forces FQDN, no address parsing)
//   vpn@example.com, @@vpn     ID_RFC822_ADDR
//   C=CH, O=Corp, CN=gw        ID_DER_ASN1_DN (anything with '=')
//   @#0a1b2c, keyid:0a1b2c     ID_KEY_ID (hex)
//   fqdn:, email:, ipv4:, ipv6:, asn1dn:, keyid: prefixes force the type.
//
// Type numbers are RFC 7296 §3.5 (same values as RFC 2407 §4.6.2.1 for IKEv1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corridor::config {

enum class IdType : std::uint8_t {
  any = 0,  // not on the wire: matches every identity
  ipv4_addr = 1,
  fqdn = 2,
  rfc822_addr = 3,
  ipv6_addr = 5,
  der_asn1_dn = 9,
  key_id = 11,
};

std::string_view to_string(IdType type);

struct Identity {
  IdType type = IdType::any;
  std::string value;  // canonical text: address, name, DN as written, key id in lowercase hex

  // nullopt and `error` set if the text cannot be an identity of the forced type.
  static std::optional<Identity> parse(std::string_view text, std::string* error = nullptr);
  std::string to_string() const;

  friend bool operator==(const Identity&, const Identity&) = default;
};

}  // namespace corridor::config
