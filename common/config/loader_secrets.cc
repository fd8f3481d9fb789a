// secrets.<type>-<suffix>, as swanctl.conf(5) "secrets" section.
#include "common/config/loader_internal.h"

namespace corridor::config::detail {

std::vector<Secret> read_secrets(const nlohmann::ordered_json& value, const std::string& pointer, const Context& ctx) {
  std::vector<Secret> out;
  ObjectReader r(value, pointer, ctx.diag);
  struct Kind {
    std::string_view prefix;
    SecretType type;
  };
  static constexpr Kind kKinds[] = {{"ike", SecretType::ike},
                                    {"private", SecretType::private_key},
                                    {"rsa", SecretType::rsa},
                                    {"ecdsa", SecretType::ecdsa}};
  static constexpr std::string_view kUnsupported[] = {"eap", "xauth", "ntlm", "ppk", "pkcs8", "pkcs12", "token"};

  for (const auto& key : r.keys_where([](const std::string&) { return true; })) {
    const auto p = r.pointer_of(key);
    const auto dash = key.find('-');
    const std::string_view type = std::string_view(key).substr(0, dash);
    const Kind* kind = nullptr;
    for (const auto& k : kKinds)
      if (k.prefix == type) kind = &k;
    if (!kind) {
      bool known = false;
      for (auto u : kUnsupported) known |= (u == type);
      ctx.diag.error(p, known ? "secret type '" + std::string(type) + "' is not supported by Corridor"
                              : "secret names start with ike-, private-, rsa- or ecdsa- (got '" + key + "')");
      continue;
    }
    Secret s;
    s.name = key;
    s.type = kind->type;
    ObjectReader sr(value[key], p, ctx.diag);
    if (kind->type == SecretType::ike) {
      // swanctl accepts id, id1, id2, ...; a list under "id" says the same.
      for (const auto& id_key : sr.keys_where([](const std::string& k) { return k.starts_with("id"); })) {
        const auto items = sr.string_list(id_key);
        if (!items) continue;
        for (const auto& item : *items) {
          std::string why;
          if (auto id = Identity::parse(item.value, &why)) s.ids.push_back(*id);
          else ctx.diag.error(item.pointer, why);
        }
      }
      const auto secret = sr.string("secret");
      if (!secret) {
        if (sr.valid()) ctx.diag.error(p, "ike secret needs \"secret\"");
      } else {
        std::string why;
        if (auto bytes = decode_secret(*secret, &why)) {
          s.secret = std::move(*bytes);
          if (s.secret.empty()) ctx.diag.error(sr.pointer_of("secret"), "pre-shared key is empty");
          else if (s.secret.size() < 16)
            ctx.diag.warning(sr.pointer_of("secret"),
                             "pre-shared key is shorter than 16 bytes: easy to guess offline from a captured exchange");
        } else {
          ctx.diag.error(sr.pointer_of("secret"), why);
        }
      }
    } else {
      if (const auto file = sr.string("file")) s.file = ctx.resolve_file(sr.pointer_of("file"), *file);
      else if (sr.valid()) ctx.diag.error(p, "private key secret needs \"file\"");
      if (const auto secret = sr.string("secret")) {
        std::string why;
        if (auto bytes = decode_secret(*secret, &why)) s.secret = std::move(*bytes);
        else ctx.diag.error(sr.pointer_of("secret"), why);
      }
    }
    sr.finish();
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace corridor::config::detail
