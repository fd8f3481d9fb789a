#include "common/config/identity.h"

#include <array>
#include <cctype>

#include "common/net/address.h"

namespace corridor::config {
namespace {

bool is_hex(std::string_view s) {
  if (s.empty() || s.size() % 2 != 0) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A DN is a comma- or slash-separated list of attribute=value pairs; check
// the shape here, the DER encoding is the certificate code's job.
bool looks_like_dn(std::string_view s, std::string* error) {
  std::size_t start = 0;
  const char sep = s.find(',') != std::string_view::npos || s.front() != '/' ? ',' : '/';
  if (sep == '/') start = 1;
  while (start <= s.size()) {
    auto end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    auto rdn = s.substr(start, end - start);
    while (!rdn.empty() && rdn.front() == ' ') rdn.remove_prefix(1);
    const auto eq = rdn.find('=');
    if (eq == 0 || eq == std::string_view::npos) {
      if (error) *error = "distinguished name part '" + std::string(rdn) + "' is not attribute=value";
      return false;
    }
    start = end + 1;
  }
  return true;
}

}  // namespace

std::string_view to_string(IdType type) {
  switch (type) {
    case IdType::any: return "ANY";
    case IdType::ipv4_addr: return "ID_IPV4_ADDR";
    case IdType::fqdn: return "ID_FQDN";
    case IdType::rfc822_addr: return "ID_RFC822_ADDR";
    case IdType::ipv6_addr: return "ID_IPV6_ADDR";
    case IdType::der_asn1_dn: return "ID_DER_ASN1_DN";
    case IdType::key_id: return "ID_KEY_ID";
  }
  return "ID_UNKNOWN";
}

std::optional<Identity> Identity::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Identity> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (text.empty()) return fail("identity is empty");
  if (text == "%any" || text == "%any6") return Identity{IdType::any, "%any"};

  struct Prefix { std::string_view tag; IdType type; };
  static constexpr std::array kPrefixes{
      Prefix{"ipv4:", IdType::ipv4_addr}, Prefix{"ipv6:", IdType::ipv6_addr},
      Prefix{"fqdn:", IdType::fqdn},      Prefix{"email:", IdType::rfc822_addr},
      Prefix{"rfc822:", IdType::rfc822_addr}, Prefix{"userfqdn:", IdType::rfc822_addr},
      Prefix{"asn1dn:", IdType::der_asn1_dn}, Prefix{"keyid:", IdType::key_id},
  };
  for (const auto& p : kPrefixes) {
    if (!text.starts_with(p.tag)) continue;
    const auto rest = text.substr(p.tag.size());
    if (rest.empty()) return fail("identity '" + std::string(text) + "' has nothing after the type prefix");
    switch (p.type) {
      case IdType::ipv4_addr:
      case IdType::ipv6_addr: {
        const auto a = net::IpAddress::parse(rest);
        if (!a || (a->is_v4() != (p.type == IdType::ipv4_addr)))
          return fail("'" + std::string(rest) + "' is not an " + (p.type == IdType::ipv4_addr ? "IPv4" : "IPv6") + " address");
        return Identity{p.type, a->to_string()};
      }
      case IdType::key_id:
        if (!is_hex(rest)) return fail("key id must be an even number of hex digits: " + std::string(rest));
        return Identity{IdType::key_id, lower(rest)};
      case IdType::der_asn1_dn:
        if (!looks_like_dn(rest, error)) return std::nullopt;
        return Identity{IdType::der_asn1_dn, std::string(rest)};
      default:
        return Identity{p.type, std::string(rest)};
    }
  }
  if (text.starts_with("@#")) {
    const auto hex = text.substr(2);
    if (!is_hex(hex)) return fail("key id must be an even number of hex digits: " + std::string(hex));
    return Identity{IdType::key_id, lower(hex)};
  }
  if (text.starts_with("@@")) {
    if (text.size() == 2) return fail("identity '@@' is empty");
    return Identity{IdType::rfc822_addr, std::string(text.substr(2))};
  }
  if (text.starts_with('@')) {
    if (text.size() == 1) return fail("identity '@' is empty");
    return Identity{IdType::fqdn, std::string(text.substr(1))};
  }
  if (const auto a = net::IpAddress::parse(text))
    return Identity{a->is_v4() ? IdType::ipv4_addr : IdType::ipv6_addr, a->to_string()};
  if (text.find('=') != std::string_view::npos) {
    if (!looks_like_dn(text, error)) return std::nullopt;
    return Identity{IdType::der_asn1_dn, std::string(text)};
  }
  if (text.find('@') != std::string_view::npos) return Identity{IdType::rfc822_addr, std::string(text)};
  return Identity{IdType::fqdn, std::string(text)};
}

std::string Identity::to_string() const {
  switch (type) {
    case IdType::any: return "%any";
    case IdType::key_id: return "@#" + value;
    default: return value;
  }
}

}  // namespace corridor::config
