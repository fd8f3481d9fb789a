#include "control/ike/identity.h"

#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "common/net/address.h"

namespace corridor::control::ike {
namespace {

using IdType = config::IdType;
using WireId = iana::IdType;
using Bytes = std::vector<std::uint8_t>;

struct NameFree {
  void operator()(X509_NAME* n) const { X509_NAME_free(n); }
};
using NamePtr = std::unique_ptr<X509_NAME, NameFree>;

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

// "C=CH, O=Corp, CN=gw" (or "/C=CH/O=Corp/CN=gw") into an X509_NAME, RDNs
// in the order written, as strongSwan encodes them. A backslash escapes the
// next character (a comma inside a value).
NamePtr parse_dn(std::string_view text, std::string* why) {
  NamePtr name(X509_NAME_new());
  if (!name) return nullptr;
  const char sep = (!text.empty() && text.front() == '/') ? '/' : ',';
  if (sep == '/') text.remove_prefix(1);
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      parts.back() += text[++i];
    } else if (text[i] == sep) {
      parts.emplace_back();
    } else {
      parts.back() += text[i];
    }
  }
  for (const auto& raw : parts) {
    const auto eq = raw.find('=');
    if (eq == std::string::npos) {
      if (why) *why = "distinguished name part '" + trim(raw) + "' is not attribute=value";
      return nullptr;
    }
    std::string attr = trim(raw.substr(0, eq));
    const std::string value = trim(raw.substr(eq + 1));
    // strongSwan spells emailAddress "E"; OpenSSL knows "emailAddress".
    if (attr == "E" || attr == "Email") attr = "emailAddress";
    if (X509_NAME_add_entry_by_txt(name.get(), attr.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      if (why) *why = "distinguished name attribute '" + attr + "' is unknown";
      return nullptr;
    }
  }
  return name;
}

std::optional<Bytes> dn_der(std::string_view text, std::string* why) {
  const auto name = parse_dn(text, why);
  if (!name) return std::nullopt;
  unsigned char* der = nullptr;
  const int len = i2d_X509_NAME(name.get(), &der);
  if (len <= 0) {
    if (why) *why = "distinguished name could not be DER-encoded";
    return std::nullopt;
  }
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

// strongSwan's one-line spelling: "C=CH, O=Corp, CN=gw".
std::optional<std::string> dn_text(const Bytes& der) {
  const unsigned char* p = der.data();
  NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(der.size())));
  if (!name || p != der.data() + der.size()) return std::nullopt;
  std::string out;
  const int n = X509_NAME_entry_count(name.get());
  for (int i = 0; i < n; ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name.get(), i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    const char* sn = nid == NID_pkcs9_emailAddress ? "E" : OBJ_nid2sn(nid);
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (len < 0) return std::nullopt;
    if (!out.empty()) out += ", ";
    out += sn ? sn : "UNKNOWN";
    out += '=';
    out.append(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Bytes hex_bytes(std::string_view hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

std::string to_hex(const Bytes& b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (auto v : b) {
    out += kDigits[v >> 4];
    out += kDigits[v & 15];
  }
  return out;
}

}  // namespace

std::optional<corridor::ike::Identification> to_wire(const config::Identity& id, std::string* why) {
  corridor::ike::Identification out;
  switch (id.type) {
    case IdType::any:
      if (why) *why = "%any is not an identity that can be sent";
      return std::nullopt;
    case IdType::ipv4_addr:
    case IdType::ipv6_addr: {
      const auto addr = net::IpAddress::parse(id.value);
      if (!addr) {
        if (why) *why = "'" + id.value + "' is not an IP address";
        return std::nullopt;
      }
      out.id_type = addr->is_v4() ? WireId::id_ipv4_addr : WireId::id_ipv6_addr;
      out.data.assign(addr->bytes().begin(), addr->bytes().begin() + static_cast<std::ptrdiff_t>(addr->byte_length()));
      return out;
    }
    case IdType::fqdn:
      out.id_type = WireId::id_fqdn;
      out.data.assign(id.value.begin(), id.value.end());
      return out;
    case IdType::rfc822_addr:
      out.id_type = WireId::id_rfc822_addr;
      out.data.assign(id.value.begin(), id.value.end());
      return out;
    case IdType::key_id:
      out.id_type = WireId::id_key_id;
      out.data = hex_bytes(id.value);
      return out;
    case IdType::der_asn1_dn: {
      auto der = dn_der(id.value, why);
      if (!der) return std::nullopt;
      out.id_type = WireId::id_der_asn1_dn;
      out.data = std::move(*der);
      return out;
    }
  }
  if (why) *why = "unknown identity type";
  return std::nullopt;
}

std::optional<config::Identity> from_wire(const corridor::ike::Identification& id, std::string* why) {
  auto fail = [&](std::string text) -> std::optional<config::Identity> {
    if (why) *why = std::move(text);
    return std::nullopt;
  };
  const std::string text(id.data.begin(), id.data.end());
  switch (id.id_type) {
    case WireId::id_ipv4_addr:
    case WireId::id_ipv6_addr: {
      const bool v4 = id.id_type == WireId::id_ipv4_addr;
      if (id.data.size() != (v4 ? 4u : 16u)) return fail("address identity of the wrong length");
      const auto addr = net::IpAddress::from_bytes(v4 ? net::Family::ipv4 : net::Family::ipv6, id.data.data());
      return config::Identity{v4 ? IdType::ipv4_addr : IdType::ipv6_addr, addr.to_string()};
    }
    case WireId::id_fqdn:
      if (text.empty()) return fail("empty ID_FQDN");
      return config::Identity{IdType::fqdn, text};
    case WireId::id_rfc822_addr:
      if (text.empty()) return fail("empty ID_RFC822_ADDR");
      return config::Identity{IdType::rfc822_addr, text};
    case WireId::id_key_id:
      if (id.data.empty()) return fail("empty ID_KEY_ID");
      return config::Identity{IdType::key_id, to_hex(id.data)};
    case WireId::id_der_asn1_dn: {
      const auto dn = dn_text(id.data);
      if (!dn) return fail("ID_DER_ASN1_DN is not a DER-encoded Name");
      return config::Identity{IdType::der_asn1_dn, *dn};
    }
    default:
      return fail("ID type " + std::to_string(static_cast<int>(id.id_type)) + " is not supported");
  }
}

bool matches(const config::Identity& pattern, const config::Identity& actual) {
  if (pattern.type == IdType::any) return true;
  if (pattern.type != actual.type) return false;
  switch (pattern.type) {
    case IdType::fqdn:
    case IdType::rfc822_addr: return lower(pattern.value) == lower(actual.value);
    case IdType::ipv4_addr:
    case IdType::ipv6_addr: return net::IpAddress::parse(pattern.value) == net::IpAddress::parse(actual.value);
    case IdType::der_asn1_dn: {
      const auto a = dn_der(pattern.value, nullptr);
      const auto b = dn_der(actual.value, nullptr);
      return a && b && *a == *b;
    }
    default: return pattern.value == actual.value;
  }
}

const config::Secret* find_psk(const config::Config& config, const config::Identity& local,
                               const config::Identity& remote) {
  const config::Secret* best = nullptr;
  int best_score = -1;
  for (const auto& s : config.secrets) {
    if (s.type != config::SecretType::ike) continue;
    int score = 0;
    if (!s.ids.empty()) {
      const bool has_local = std::any_of(s.ids.begin(), s.ids.end(), [&](const auto& i) {
        return i.type != IdType::any && matches(i, local);
      });
      const bool has_remote = std::any_of(s.ids.begin(), s.ids.end(), [&](const auto& i) {
        return i.type != IdType::any && matches(i, remote);
      });
      const bool has_any = std::any_of(s.ids.begin(), s.ids.end(), [](const auto& i) { return i.type == IdType::any; });
      if (!has_local && !has_remote && !has_any) continue;
      score = (has_remote ? 2 : 0) + (has_local ? 1 : 0);
      if (has_local && has_remote) score = 4;
    }
    if (score > best_score) {
      best = &s;
      best_score = score;
    }
  }
  return best;
}

}  // namespace corridor::control::ike
