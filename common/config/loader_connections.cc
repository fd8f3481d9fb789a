// connections.<name> and connections.<name>.children.<name>: swanctl.conf's
// vocabulary and defaults (strongSwan 5.9 swanctl.conf(5)).
#include <algorithm>
#include <cctype>
#include <tuple>

#include "common/config/loader_internal.h"

namespace corridor::config::detail {
namespace {

bool valid_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  bool has_alpha = false;
  for (char c : s) {
    if (std::isalpha(static_cast<unsigned char>(c))) has_alpha = true;
    else if (!std::isdigit(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return has_alpha && s.front() != '.' && s.front() != '-';
}

std::vector<AddressSpec> read_addresses(ObjectReader& r, const char* key, const Context& ctx) {
  std::vector<AddressSpec> out;
  const auto items = r.string_list(key);
  if (!items) return {AddressSpec{}};  // %any
  if (items->empty()) ctx.diag.error(r.pointer_of(key), "must list at least one address (or %any)");
  for (const auto& item : *items) {
    AddressSpec spec;
    spec.text = item.value;
    const std::string_view t = item.value;
    if (t == "%any") {
      spec.kind = AddressSpec::Kind::any;
    } else if (t == "%any4") {
      spec.kind = AddressSpec::Kind::any4;
    } else if (t == "%any6") {
      spec.kind = AddressSpec::Kind::any6;
    } else if (const auto dash = t.find('-'); dash != std::string_view::npos && !valid_hostname(t)) {
      const auto from = net::IpAddress::parse(t.substr(0, dash));
      const auto to = net::IpAddress::parse(t.substr(dash + 1));
      if (!from || !to || from->family() != to->family() || *to < *from) {
        ctx.diag.error(item.pointer, "not an address range: " + item.value);
        continue;
      }
      spec.kind = AddressSpec::Kind::range;
      spec.prefix = {*from, static_cast<std::uint8_t>(from->bit_length())};
      spec.range_end = *to;
    } else if (const auto address = net::IpAddress::parse(t)) {
      spec.kind = AddressSpec::Kind::address;
      spec.prefix = {*address, static_cast<std::uint8_t>(address->bit_length())};
    } else if (t.find('/') != std::string_view::npos) {
      std::string why;
      const auto prefix = net::Prefix::parse(t, &why);
      if (!prefix) {
        ctx.diag.error(item.pointer, "not a CIDR: " + item.value + " (" + why + ")");
        continue;
      }
      spec.kind = AddressSpec::Kind::prefix;
      spec.prefix = prefix->network();
    } else if (valid_hostname(t)) {
      spec.kind = AddressSpec::Kind::hostname;
    } else {
      ctx.diag.error(item.pointer, "not an address, CIDR, range, host name or %any: " + item.value);
      continue;
    }
    out.push_back(std::move(spec));
  }
  return out;
}

std::vector<Proposal> read_proposals(ObjectReader& r, const char* key, ProposalKind kind, bool allow_weak,
                                     const Context& ctx) {
  const auto items = r.string_list(key);
  if (!items) return r.get(key) ? std::vector<Proposal>{} : default_proposals(kind);
  if (items->empty()) ctx.diag.error(r.pointer_of(key), "must list at least one proposal (or \"default\")");
  std::vector<Proposal> out;
  ProposalOptions options;
  options.allow_weak = allow_weak;
  for (const auto& item : *items) {
    auto parsed = parse_proposal(item.value, kind, options);
    for (const auto& e : parsed.errors) ctx.diag.error(item.pointer, "'" + item.value + "': " + e.message);
    for (auto& p : parsed.proposals) out.push_back(std::move(p));
  }
  return out;
}

std::vector<net::TrafficSelector> read_selectors(ObjectReader& r, const char* key, const Context& ctx) {
  const auto items = r.string_list(key);
  if (!items) {
    net::TrafficSelector dynamic;
    dynamic.dynamic = true;
    return {dynamic};
  }
  if (items->empty()) ctx.diag.error(r.pointer_of(key), "must list at least one traffic selector (or dynamic)");
  std::vector<net::TrafficSelector> out;
  for (const auto& item : *items) {
    std::string why;
    if (auto ts = net::TrafficSelector::parse(item.value, &why)) out.push_back(*ts);
    else ctx.diag.error(item.pointer, why);
  }
  return out;
}

std::optional<AuthMethod> read_auth(ObjectReader& r) {
  const auto text = r.string("auth");
  if (!text) return std::nullopt;
  if (*text == "psk") return AuthMethod::psk;
  if (*text == "pubkey") return AuthMethod::pubkey;
  if (*text == "rsa") return AuthMethod::rsa;
  if (*text == "rsa/pss") return AuthMethod::rsa_pss;
  if (*text == "ecdsa") return AuthMethod::ecdsa;
  if (text->starts_with("eap") || text->starts_with("xauth"))
    r.diagnostics().error(r.pointer_of("auth"), "'" + *text + "' authentication is not supported by Corridor "
                                                "(use psk, pubkey, rsa, rsa/pss or ecdsa)");
  else
    r.diagnostics().error(r.pointer_of("auth"), "must be one of psk, pubkey, rsa, rsa/pss, ecdsa (got '" + *text + "')");
  return std::nullopt;
}

std::optional<Identity> read_identity(ObjectReader& r) {
  const auto text = r.string("id");
  if (!text) return std::nullopt;
  std::string why;
  auto id = Identity::parse(*text, &why);
  if (!id) r.diagnostics().error(r.pointer_of("id"), why);
  return id;
}

LocalAuth read_local(const nlohmann::ordered_json& value, const std::string& pointer, const Context& ctx) {
  LocalAuth out;
  ObjectReader r(value, pointer, ctx.diag);
  if (const auto auth = read_auth(r)) out.auth = *auth;
  out.id = read_identity(r);
  if (const auto certs = r.string_list("certs"))
    for (const auto& c : *certs) out.certs.push_back(ctx.resolve_file(c.pointer, c.value));
  r.finish({"pubkeys", "eap_id", "aaa_id", "xauth_id", "round", "cert"});
  return out;
}

RemoteAuth read_remote(const nlohmann::ordered_json& value, const std::string& pointer, const Context& ctx) {
  RemoteAuth out;
  ObjectReader r(value, pointer, ctx.diag);
  if (const auto auth = read_auth(r)) out.auth = *auth;
  out.id = read_identity(r);
  if (const auto cas = r.string_list("cacerts"))
    for (const auto& c : *cas) out.cacerts.push_back(ctx.resolve_file(c.pointer, c.value));
  // CRLs: swanctl loads them from x509crl/; here the connection names its
  // files as it names its CAs. Nothing is fetched (no CDP or OCSP access).
  if (const auto crls = r.string_list("crls"))
    for (const auto& c : *crls) out.crls.push_back(ctx.resolve_file(c.pointer, c.value));
  if (const auto rev = r.choice<Revocation>(
          "revocation", {{"strict", Revocation::strict}, {"ifuri", Revocation::ifuri}, {"relaxed", Revocation::relaxed}}))
    out.revocation = *rev;
  if (out.revocation == Revocation::strict && out.crls.empty() && r.get("revocation"))
    ctx.diag.error(r.pointer_of("revocation"),
                   "revocation strict refuses every certificate without a CRL of its issuer, and remote.crls "
                   "names none: add the CAs' CRLs, or use relaxed");
  r.finish({"pubkeys", "eap_id", "groups", "cert_policy", "ca_id", "certs", "round"});
  return out;
}

ChildConfig read_child(const std::string& name, const nlohmann::ordered_json& value, const std::string& pointer,
                       bool allow_weak, const Context& ctx) {
  ChildConfig c;
  c.name = name;
  ObjectReader r(value, pointer, ctx.diag);
  if (const auto mode = r.choice<ChildMode>("mode", {{"tunnel", ChildMode::tunnel}, {"transport", ChildMode::transport}}))
    c.mode = *mode;
  c.local_ts = read_selectors(r, "local_ts", ctx);
  c.remote_ts = read_selectors(r, "remote_ts", ctx);

  const bool has_ah = r.get("ah_proposals") != nullptr;
  const bool has_esp = r.get("esp_proposals") != nullptr;
  if (has_ah && has_esp)
    ctx.diag.error(r.pointer_of("ah_proposals"), "a child SA uses either esp_proposals or ah_proposals, not both");
  if (has_ah) c.ah_proposals = read_proposals(r, "ah_proposals", ProposalKind::ah, allow_weak, ctx);
  else c.esp_proposals = read_proposals(r, "esp_proposals", ProposalKind::esp, allow_weak, ctx);

  // strongSwan's defaults: life = rekey * 1.1, rand = life - rekey.
  const auto rekey_time = r.duration("rekey_time");
  const auto life_time = r.duration("life_time");
  const auto rand_time = r.duration("rand_time");
  c.rekey_time = rekey_time.value_or(Seconds(3600));
  // strongSwan's 110% of rekey_time, at least a second more: a short test
  // rekey_time (6s) must not give a life_time equal to it. With rekeying
  // off (rekey_time 0) there is no default life_time either: the Child SA
  // lives until deleted, as in strongSwan (110% of 0).
  c.life_time = life_time.value_or(c.rekey_time.count() > 0 ? c.rekey_time + std::max(c.rekey_time / 10, Seconds(1))
                                                             : Seconds(0));
  c.rand_time = rand_time.value_or(c.life_time > c.rekey_time ? c.life_time - c.rekey_time : Seconds(0));
  if (c.rekey_time.count() > 0 && c.life_time <= c.rekey_time)
    ctx.diag.error(r.pointer_of(life_time ? "life_time" : "rekey_time"),
                   "life_time (" + std::to_string(c.life_time.count()) + "s) must be longer than rekey_time (" +
                       std::to_string(c.rekey_time.count()) + "s)");
  else if (c.rekey_time.count() > 0 && c.rand_time > c.life_time - c.rekey_time)
    ctx.diag.error(r.pointer_of("rand_time"), "rand_time must not exceed life_time - rekey_time");

  c.rekey_bytes = r.count("rekey_bytes").value_or(0);
  c.life_bytes = r.count("life_bytes").value_or(c.rekey_bytes + c.rekey_bytes / 10);
  c.rekey_packets = r.count("rekey_packets").value_or(0);
  c.life_packets = r.count("life_packets").value_or(c.rekey_packets + c.rekey_packets / 10);
  if (c.rekey_bytes && c.life_bytes <= c.rekey_bytes)
    ctx.diag.error(r.pointer_of("life_bytes"), "life_bytes must be larger than rekey_bytes");
  if (c.rekey_packets && c.life_packets <= c.rekey_packets)
    ctx.diag.error(r.pointer_of("life_packets"), "life_packets must be larger than rekey_packets");

  // The dataplane's RFC 6479 bitmap supports windows up to 16384 packets.
  if (const auto w = r.integer("replay_window", 0, 16384)) c.replay_window = static_cast<std::uint32_t>(*w);
  if (const auto a = r.choice<Action>("start_action", {{"none", Action::none}, {"trap", Action::trap}, {"start", Action::start}}))
    c.start_action = *a;
  if (const auto a = r.choice<Action>("dpd_action", {{"clear", Action::clear}, {"trap", Action::trap}, {"restart", Action::restart}}))
    c.dpd_action = *a;
  if (const auto a = r.choice<Action>("close_action", {{"none", Action::none}, {"trap", Action::trap}, {"start", Action::start}}))
    c.close_action = *a;
  r.finish({"updown", "hostaccess", "policies", "policies_fwd_out", "set_mark_in", "set_mark_out", "mark_in",
            "mark_out", "if_id_in", "if_id_out", "ipcomp", "inactivity", "reqid", "priority", "interface",
            "hw_offload", "copy_df", "copy_ecn", "copy_dscp", "sha256_96", "label", "label_mode"});
  return c;
}

ConnectionConfig read_connection(const std::string& name, const nlohmann::ordered_json& value, const std::string& pointer,
                                 const Context& ctx) {
  ConnectionConfig c;
  c.name = name;
  ObjectReader r(value, pointer, ctx.diag);
  if (const auto v = r.integer("version", 0, 2)) c.version = static_cast<unsigned>(*v);
  c.local_addrs = read_addresses(r, "local_addrs", ctx);
  c.remote_addrs = read_addresses(r, "remote_addrs", ctx);
  if (const auto p = r.integer("local_port", 1, 65535)) c.local_port = static_cast<std::uint16_t>(*p);
  if (const auto p = r.integer("remote_port", 1, 65535)) c.remote_port = static_cast<std::uint16_t>(*p);
  c.allow_weak = r.boolean("allow_weak").value_or(false);
  c.proposals = read_proposals(r, "proposals", ProposalKind::ike, c.allow_weak, ctx);
  if (const auto* v = r.get("local")) c.local = read_local(*v, r.pointer_of("local"), ctx);
  if (const auto* v = r.get("remote")) c.remote = read_remote(*v, r.pointer_of("remote"), ctx);
  c.aggressive = r.boolean("aggressive").value_or(false);
  c.allow_aggressive_psk = r.boolean("allow_aggressive_psk").value_or(false);
  c.encap = r.boolean("encap").value_or(false);
  if (const auto f = r.choice<Fragmentation>("fragmentation", {{"yes", Fragmentation::yes}, {"no", Fragmentation::no},
                                                               {"accept", Fragmentation::accept}, {"force", Fragmentation::force}}))
    c.fragmentation = *f;
  c.dpd_delay = r.duration("dpd_delay").value_or(Seconds(0));
  c.dpd_timeout = r.duration("dpd_timeout").value_or(Seconds(0));
  c.rekey_time = r.duration("rekey_time").value_or(Seconds(14400));
  c.reauth_time = r.duration("reauth_time").value_or(Seconds(0));
  // IKEv2: a new IKE SA from scratch takes the Child SAs over (make-before-
  // break); IKEv1 renews its ISAKMP SA by a new Phase 1, which is that already.
  // swanctl: over_time defaults to 10% of the longer of rekey/reauth time,
  // rand_time to over_time.
  c.over_time = r.duration("over_time").value_or(std::max(c.rekey_time, c.reauth_time) / 10);
  c.rand_time = r.duration("rand_time").value_or(c.over_time);

  // Version-specific keys: a wrong combination is a misunderstanding worth stopping.
  if (c.aggressive && c.version != 1)
    ctx.diag.error(r.pointer_of("aggressive"), "Aggressive Mode exists only in IKEv1: set \"version\": 1");
  const bool psk = c.local.auth == AuthMethod::psk || c.remote.auth == AuthMethod::psk;
  // IKEv1 negotiates one Authentication Method for both ends (RFC 2409 §5).
  if (c.version == 1 && (c.local.auth == AuthMethod::psk) != (c.remote.auth == AuthMethod::psk))
    ctx.diag.error(r.pointer_of("remote"),
                   "IKEv1 authenticates both ends by one Phase 1 method: local.auth and remote.auth must both be "
                   "psk or both certificates");
  for (const auto& [end, method] : {std::pair{"local", c.local.auth}, std::pair{"remote", c.remote.auth}}) {
    if (c.version == 1 && method == AuthMethod::rsa_pss)
      ctx.diag.error(r.pointer_of(end), "IKEv1 has no RSASSA-PSS signatures: use auth pubkey or rsa");
  }
  if (c.aggressive && psk && !c.allow_aggressive_psk)
    ctx.diag.error(r.pointer_of("aggressive"),
                   "Aggressive Mode with a pre-shared key sends a hash of the PSK that an eavesdropper can "
                   "attack offline; set \"allow_aggressive_psk\": true to accept that risk, or use Main Mode");

  if (const auto* children = r.get("children")) {
    ObjectReader cr(*children, r.pointer_of("children"), ctx.diag);
    for (const auto& key : cr.keys_where([](const std::string&) { return true; })) {
      const auto child_pointer = cr.pointer_of(key);
      if (!valid_name(key)) {
        ctx.diag.error(child_pointer, "child name must be 1-64 letters, digits, '-', '_' or '.'");
        continue;
      }
      c.children.push_back(read_child(key, (*children)[key], child_pointer, c.allow_weak, ctx));
    }
  }
  r.finish({"mobike", "keyingtries", "unique", "pools", "send_certreq", "send_cert", "ppk_id", "ppk_required",
            "childless", "if_id_in", "if_id_out", "mediation", "mediated_by", "mediation_peer", "pull", "dscp",
            "vips", "ocsp", "local_addrs6", "reauth"});

  // Something must say whom to talk to before we can start.
  const bool can_initiate = c.remote_addrs.size() >= 1 && c.remote_addrs.front().is_single_host();
  for (std::size_t i = 0; i < c.children.size(); ++i) {
    const ChildConfig& child = c.children[i];
    const std::string child_pointer = json_pointer_append(r.pointer_of("children"), child.name);
    if (child.start_action == Action::start && !can_initiate)
      ctx.diag.error(child_pointer + "/start_action",
                     "start_action start needs remote_addrs to begin with a single address or host name, "
                     "not " + (c.remote_addrs.empty() ? std::string("nothing") : c.remote_addrs.front().text));
    // A trap (control/ike/traps.h) is a policy installed before any
    // negotiation, which then initiates: it needs a peer to initiate to,
    // and selectors that are known without one.
    for (const auto& [key, action] : {std::pair{"start_action", child.start_action},
                                      std::pair{"dpd_action", child.dpd_action},
                                      std::pair{"close_action", child.close_action}}) {
      if (action != Action::trap) continue;
      if (!can_initiate)
        ctx.diag.error(child_pointer + "/" + key,
                       std::string(key) + " trap initiates when traffic comes: it needs remote_addrs to begin "
                       "with a single address or host name");
      for (const auto& [side, ts, addrs] : {std::tuple{"local", &child.local_ts, &c.local_addrs},
                                            std::tuple{"remote", &child.remote_ts, &c.remote_addrs}})
        if (has_dynamic_selector(*ts) && !single_literal_address(*addrs))
          ctx.diag.error(child_pointer + "/" + key,
                         std::string(key) + " trap installs its policy before any negotiation, so a dynamic " + side +
                             "_ts needs " + side + "_addrs to be a single IP address (or give " + side +
                             "_ts as subnets)");
      break;  // one set of errors per child is enough
    }
  }
  return c;
}

}  // namespace

std::vector<ConnectionConfig> read_connections(const nlohmann::ordered_json& value, const std::string& pointer,
                                               const Context& ctx) {
  std::vector<ConnectionConfig> out;
  ObjectReader r(value, pointer, ctx.diag);
  for (const auto& key : r.keys_where([](const std::string&) { return true; })) {
    const auto p = r.pointer_of(key);
    if (!valid_name(key)) {
      ctx.diag.error(p, "connection name must be 1-64 letters, digits, '-', '_' or '.'");
      continue;
    }
    out.push_back(read_connection(key, value[key], p, ctx));
  }
  return out;
}

}  // namespace corridor::config::detail
