// Checks across sections, run once every section read cleanly.
#include <map>

#include "common/config/loader_internal.h"

namespace corridor::config::detail {
namespace {

bool secret_matches(const Secret& s, const ConnectionConfig& c) {
  if (s.type != SecretType::ike) return false;
  if (s.ids.empty()) return true;  // a secret without ids is for everyone
  for (const auto& id : s.ids) {
    if (id.type == IdType::any) return true;
    if (c.local.id && id == *c.local.id) return true;
    if (c.remote.id && id == *c.remote.id) return true;
    // Without configured ids, PSK peers identify by their IKE addresses.
    if (!c.local.id || !c.remote.id) {
      for (const auto& a : c.local_addrs)
        if (a.kind == AddressSpec::Kind::address && id.value == a.prefix.address.to_string()) return true;
      for (const auto& a : c.remote_addrs)
        if (a.kind == AddressSpec::Kind::address && id.value == a.prefix.address.to_string()) return true;
    }
  }
  return false;
}

}  // namespace

void cross_check(const Config& config, const Context& ctx) {
  const bool has_key_secret = std::any_of(config.secrets.begin(), config.secrets.end(),
                                          [](const Secret& s) { return s.type != SecretType::ike; });
  std::map<std::string, std::string> child_owner;
  for (const auto& c : config.connections) {
    const auto cp = json_pointer_append("/connections", c.name);
    const bool uses_psk = c.local.auth == AuthMethod::psk || c.remote.auth == AuthMethod::psk;
    if (uses_psk && std::none_of(config.secrets.begin(), config.secrets.end(),
                                 [&](const Secret& s) { return secret_matches(s, c); }))
      ctx.diag.warning(cp, "uses a pre-shared key but no secrets.ike-* entry matches its identities; "
                           "the negotiation will fail until one is added");
    if (c.local.auth != AuthMethod::psk) {
      if (c.local.certs.empty())
        ctx.diag.error(cp + "/local/certs", "local auth " + std::string(to_string(c.local.auth)) +
                                                " needs a certificate: list its PEM file in local.certs");
      else if (!has_key_secret)
        ctx.diag.warning(cp + "/local", "no private-*, rsa-* or ecdsa-* secret names a private key file for "
                                        "the local certificate");
    }
    if (c.remote.auth != AuthMethod::psk && c.remote.cacerts.empty())
      ctx.diag.error(cp + "/remote/cacerts", "remote auth " + std::string(to_string(c.remote.auth)) +
                                                 " needs the CA certificates that may sign the peer's certificate "
                                                 "(Corridor trusts only the CAs a connection names)");
    if (c.remote.auth == AuthMethod::psk && !c.remote.crls.empty())
      ctx.diag.warning(cp + "/remote/crls", "remote auth psk: the peer presents no certificate, so its CRLs are not used");
    for (const auto& child : c.children) {
      const auto [it, inserted] = child_owner.emplace(child.name, c.name);
      if (!inserted)
        ctx.diag.warning(cp + "/children/" + child.name,
                         "child name also used in connection '" + it->second +
                             "'; corridorctl initiate --child picks the first");
    }
  }
}

}  // namespace corridor::config::detail
