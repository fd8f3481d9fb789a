// dataplane.static_sas: manually keyed SAs (RFC 4301 §4.5), checked so that
// every accepted entry becomes a valid SA channel record (static_sa.h).
#include <algorithm>
#include <cctype>
#include <cstdio>

#include "common/config/loader_internal.h"
#include "common/config/proposal_keywords.h"
#include "common/config/static_sa.h"

namespace corridor::config::detail {
namespace {

// The largest window the packet engine keeps, as for children.
constexpr std::int64_t kMaxReplayWindow = channel::kMaxReplayWindow;

std::string spi_text(std::uint32_t spi) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", spi);
  return text;
}

bool all_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return std::string(s.substr(first, s.find_last_not_of(" \t") - first + 1));
}

// The keyword the operator would write for a transform ("aes128gcm16").
std::string algorithm_word(const Transform& t) {
  if (const auto* k = canonical_keyword(t)) return std::string(k->keyword);
  return std::string(iana::transform_name(t.type, t.id));
}

std::string family_name(net::Family f) { return f == net::Family::ipv4 ? "IPv4" : "IPv6"; }

// A JSON number, or a string in hex ("0x1000") or decimal.
std::optional<std::uint32_t> read_spi(ObjectReader& r, const Context& ctx) {
  const auto* v = r.get("spi");
  const auto where = r.pointer_of("spi");
  if (!v) {
    if (r.valid()) ctx.diag.error(r.pointer(), "static SA needs \"spi\", e.g. \"0x1000\"");
    return std::nullopt;
  }
  std::optional<std::uint64_t> n;
  if (v->is_number_unsigned()) {
    n = v->get<std::uint64_t>();
  } else if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    const bool hex = s.starts_with("0x") || s.starts_with("0X");
    const auto digits = std::string_view(s).substr(hex ? 2 : 0);
    const bool digits_ok = hex ? all_hex(digits) : std::all_of(digits.begin(), digits.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
    if (!digits.empty() && digits.size() <= (hex ? 8U : 10U) && digits_ok)
      n = std::stoull(std::string(digits), nullptr, hex ? 16 : 10);
  }
  if (!n) {
    ctx.diag.error(where, "must be an SPI: a number or a hex string such as \"0x1000\" (got " + v->dump() + ")");
    return std::nullopt;
  }
  if (*n > 0xffffffffULL) {
    ctx.diag.error(where, "an SPI has 32 bits: " + std::to_string(*n) + " is too large");
    return std::nullopt;
  }
  if (*n < 256) {
    ctx.diag.error(where, "SPI " + std::to_string(*n) + " is reserved (0 for local use, 1-255 by IANA, RFC 4303 "
                          "§2.1): use 256 (0x100) or above");
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(*n);
}

std::optional<net::IpAddress> read_endpoint(ObjectReader& r, const char* key, const Context& ctx) {
  const auto text = r.string(key);
  if (!text) {
    if (r.valid() && !r.get(key))
      ctx.diag.error(r.pointer(), std::string("static SA needs \"") + key + "\": " +
                                      (std::string_view(key) == "local" ? "this gateway's" : "the peer's") +
                                      " IP address");
    return std::nullopt;
  }
  const auto a = net::IpAddress::parse(*text);
  if (!a) ctx.diag.error(r.pointer_of(key), "not an IP address: " + *text);
  else if (!is_unicast(*a)) ctx.diag.error(r.pointer_of(key), "an SA endpoint is a unicast address: " + *text);
  else return a;
  return std::nullopt;
}

// One proposal in strongSwan's syntax that names exactly the SA's
// algorithms: nothing to choose from, nothing to negotiate.
std::optional<Proposal> read_sa_proposal(ObjectReader& r, SaProtocol protocol, bool allow_weak, const Context& ctx) {
  const auto text = r.string("proposal");
  const auto where = r.pointer_of("proposal");
  if (!text) {
    if (r.valid() && !r.get("proposal"))
      ctx.diag.error(r.pointer(), "static SA needs \"proposal\": its algorithms in strongSwan's syntax, e.g. "
                                  "\"aes128gcm16\" or \"aes256-sha256\"");
    return std::nullopt;
  }
  auto lowered = trim(*text);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lowered == "default") {
    ctx.diag.error(where, "'default' stands for a list of proposals to negotiate; a static SA needs its one set of "
                          "algorithms, e.g. \"aes128gcm16\"");
    return std::nullopt;
  }
  bool ok = true;
  // Nothing negotiates ESN for a static SA: "esn" says it.
  std::size_t start = 0;
  while (start <= text->size()) {
    auto end = text->find('-', start);
    if (end == std::string::npos) end = text->size();
    const auto word = trim(std::string_view(*text).substr(start, end - start));
    if (const auto* k = find_proposal_keyword(word); k && k->type == iana::TransformType::esn) {
      ctx.diag.error(where, "'" + word + "': a static SA takes extended sequence numbers from \"esn\": true or "
                            "false, not from its proposal");
      ok = false;
    }
    start = end + 1;
  }
  ProposalOptions options;
  options.allow_weak = allow_weak;
  auto parsed = parse_proposal(*text, protocol == SaProtocol::esp ? ProposalKind::esp : ProposalKind::ah, options);
  for (const auto& e : parsed.errors) ctx.diag.error(where, "'" + *text + "': " + e.message);
  if (!ok || !parsed.ok() || parsed.proposals.size() != 1) return std::nullopt;

  Proposal p = std::move(parsed.proposals.front());
  auto names = [](const std::vector<Transform>& list) {
    std::string out;
    for (const auto& t : list) out += (out.empty() ? "" : ", ") + algorithm_word(t);
    return out;
  };
  if (p.encryption.size() > 1) {
    ctx.diag.error(where, "a static SA uses one encryption algorithm; the proposal lists " +
                              std::to_string(p.encryption.size()) + " (" + names(p.encryption) + ")");
    ok = false;
  }
  if (p.integrity.size() > 1) {
    ctx.diag.error(where, "a static SA uses one integrity algorithm; the proposal lists " +
                              std::to_string(p.integrity.size()) + " (" + names(p.integrity) + ")");
    ok = false;
  }
  if (!p.key_exchange.empty()) {
    ctx.diag.error(where, "'" + algorithm_word(p.key_exchange.front()) + "' is a key exchange method, which only IKE "
                          "performs: a static SA's keys are given, remove it");
    ok = false;
  }
  if (!ok) return std::nullopt;
  p.esn.clear();  // StaticSaConfig::esn says it
  return p;
}

// Hex digits, optionally after "0x". The value is a key: no message quotes it.
std::optional<SecretBytes> decode_key(const nlohmann::ordered_json& value, const std::string& pointer,
                                      const Context& ctx) {
  if (!value.is_string()) {
    ctx.diag.error(pointer, "must be a hex string, not " + json_type_name(value));
    return std::nullopt;
  }
  std::string_view hex = value.get_ref<const std::string&>();
  if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
  if (hex.empty() || hex.size() % 2 != 0 || !all_hex(hex)) {
    ctx.diag.error(pointer, "must be an even number of hex digits, optionally after 0x (the value is not shown: it "
                            "is a key)");
    return std::nullopt;
  }
  const auto nibble = [](char c) {
    return static_cast<std::uint8_t>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10);
  };
  std::vector<std::uint8_t> bytes(hex.size() / 2);
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  SecretBytes out(std::move(bytes));
  if (std::all_of(out.data(), out.data() + out.size(), [](std::uint8_t b) { return b == 0; }))
    ctx.diag.warning(pointer, "is all zero bytes: a placeholder? Use random keys, e.g. from `openssl rand -hex " +
                                  std::to_string(out.size()) + "`");
  return out;
}

// A key as written: absent, malformed (and reported) or its bytes.
struct KeyInput {
  std::optional<SecretBytes> bytes;
  bool malformed = false;
};

KeyInput read_key(ObjectReader& r, const char* key, const Context& ctx) {
  const auto* v = r.get(key);
  if (!v) return {};
  KeyInput in;
  in.bytes = decode_key(*v, r.pointer_of(key), ctx);
  in.malformed = !in.bytes;
  return in;
}

std::string byte_count(std::size_t n) {
  return std::to_string(n) + " bytes (" + std::to_string(2 * n) + " hex digits)";
}

std::string describe(const EncryptionKeyLength& length, const Transform& t) {
  std::string out = byte_count(length.total()) + " for " + algorithm_word(t);
  if (length.salt_bytes == 0) return out + " (" + std::string(length.source) + ")";
  const char* salt = t.id == static_cast<std::uint16_t>(iana::EncrId::aes_ctr) ? "nonce" : "salt";
  return out + ": the " + std::to_string(length.cipher_bytes) + "-byte key followed by the " +
         std::to_string(length.salt_bytes) + "-byte " + salt + " (" + std::string(length.source) + ")";
}

// The keys against what the proposal's algorithms take (RFC KEYMAT sizes).
bool check_keys(StaticSaConfig& sa, KeyInput key_input, KeyInput integ_input, ObjectReader& r, const Context& ctx) {
  // A malformed key has its error already; it is neither missing nor of a wrong length.
  if (key_input.malformed || integ_input.malformed) return false;
  auto& key = key_input.bytes;
  auto& integ_key = integ_input.bytes;
  bool ok = true;
  auto error = [&](const std::string& pointer, std::string message) {
    ctx.diag.error(pointer, std::move(message));
    ok = false;
  };
  const Proposal& p = sa.proposal;
  if (sa.protocol == SaProtocol::ah) {
    if (key) error(r.pointer_of("key"), "AH does not encrypt: give its key as \"integ_key\"");
  } else {
    const Transform& encryption = p.encryption.front();
    const auto length = encryption_key_length(encryption);
    if (!length) {
      error(r.pointer_of("proposal"), "Corridor has no manual key layout for " + algorithm_word(encryption));
    } else if (length->total() == 0) {
      if (key) error(r.pointer_of("key"), algorithm_word(encryption) + " encryption takes no key: remove \"key\"");
    } else if (!key) {
      error(r.pointer(), "static SA needs \"key\": " + describe(*length, encryption));
    } else if (key->size() != length->total()) {
      error(r.pointer_of("key"), "must be " + describe(*length, encryption) + "; got " + std::to_string(key->size()) +
                                     " bytes");
    } else {
      sa.key = std::move(*key);
    }
  }
  if (p.integrity.empty()) {
    if (integ_key)
      error(r.pointer_of("integ_key"), algorithm_word(p.encryption.front()) +
                                           " authenticates with its own key: remove \"integ_key\"");
    return ok;
  }
  const Transform& integrity = p.integrity.front();
  const auto length = integrity_key_length(integrity);
  if (!length) {
    error(r.pointer_of("proposal"), "Corridor has no manual key layout for " + algorithm_word(integrity));
  } else if (!integ_key) {
    error(r.pointer(), "static SA needs \"integ_key\": " + byte_count(*length) + " for " + algorithm_word(integrity));
  } else if (integ_key->size() != *length) {
    error(r.pointer_of("integ_key"), "must be " + byte_count(*length) + " for " + algorithm_word(integrity) +
                                         "; got " + std::to_string(integ_key->size()) + " bytes");
  } else {
    sa.integ_key = std::move(*integ_key);
  }
  return ok;
}

struct PrefixItem {
  net::Prefix prefix;
  std::string pointer;
};

// A list of CIDR prefixes (a bare address is a host prefix). nullopt when
// absent or broken.
std::optional<std::vector<PrefixItem>> read_prefixes(ObjectReader& r, const char* key, const Context& ctx) {
  const auto items = r.string_list(key);
  if (!items) return std::nullopt;
  if (items->empty()) {
    ctx.diag.error(r.pointer_of(key), "must list at least one prefix, e.g. 10.1.0.0/16");
    return std::nullopt;
  }
  std::vector<PrefixItem> out;
  bool ok = true;
  for (const auto& item : *items) {
    std::string why;
    const auto p = net::Prefix::parse(item.value, &why);
    if (!p) {
      ctx.diag.error(item.pointer, "not a CIDR: " + item.value + " (" + why + ")");
      ok = false;
    } else if (!p->host_bits_clear()) {
      ctx.diag.error(item.pointer, "host bits set in " + item.value + ", did you mean " + p->network().to_string() + "?");
      ok = false;
    } else if (std::any_of(out.begin(), out.end(), [&](const PrefixItem& seen) { return seen.prefix == *p; })) {
      ctx.diag.error(item.pointer, p->to_string() + " is listed twice");
      ok = false;
    } else {
      out.push_back({*p, item.pointer});
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::vector<net::Prefix> prefixes_of(const std::vector<PrefixItem>& items) {
  std::vector<net::Prefix> out;
  for (const auto& i : items) out.push_back(i.prefix);
  return out;
}

net::Prefix host_prefix(const net::IpAddress& a) { return {a, static_cast<std::uint8_t>(a.bit_length())}; }

// local_ts / remote_ts: required in tunnel mode, where they are the
// subnets behind each gateway; in transport mode the packets are the
// endpoints' own, so the selectors default to them and must contain them.
bool read_selectors(StaticSaConfig& sa, bool endpoints_ok, ObjectReader& r, const Context& ctx) {
  const auto local = read_prefixes(r, "local_ts", ctx);
  const auto remote = read_prefixes(r, "remote_ts", ctx);
  if ((r.get("local_ts") && !local) || (r.get("remote_ts") && !remote) || !r.valid()) return false;
  bool ok = true;
  if (sa.mode == ChildMode::tunnel) {
    for (const char* key : {"local_ts", "remote_ts"})
      if (!r.get(key)) {
        ctx.diag.error(r.pointer(), std::string("tunnel mode needs \"") + key + "\": the subnets " +
                                        (std::string_view(key) == "local_ts" ? "behind this gateway" : "behind the peer") +
                                        " whose traffic the SA carries, e.g. [\"10.1.0.0/16\"]");
        ok = false;
      }
    if (!ok) return false;
    sa.local_ts = prefixes_of(*local);
    sa.remote_ts = prefixes_of(*remote);
    for (const auto family : {net::Family::ipv4, net::Family::ipv6}) {
      const auto has = [&](const std::vector<net::Prefix>& list) {
        return std::any_of(list.begin(), list.end(), [&](const net::Prefix& p) { return p.address.family() == family; });
      };
      if (has(sa.local_ts) != has(sa.remote_ts)) {
        ctx.diag.error(r.pointer_of(has(sa.local_ts) ? "remote_ts" : "local_ts"),
                       family_name(family) + " prefixes appear in " + (has(sa.local_ts) ? "local_ts" : "remote_ts") +
                           " only: a packet needs a source and a destination of its own family");
        ok = false;
      }
    }
    return ok;
  }
  if (!endpoints_ok) return false;
  auto transport = [&](const std::optional<std::vector<PrefixItem>>& given, const net::IpAddress& endpoint,
                       const char* side, std::vector<net::Prefix>& out) {
    if (!given) {
      out = {host_prefix(endpoint)};
      return;
    }
    for (const auto& item : *given)
      if (!item.prefix.contains(endpoint)) {
        ctx.diag.error(item.pointer, std::string("transport mode carries only packets of the SA's endpoints: this "
                                                 "selector does not contain ") + side + " " + endpoint.to_string());
        ok = false;
      }
    out = prefixes_of(*given);
  };
  transport(local, sa.local, "local", sa.local_ts);
  transport(remote, sa.remote, "remote", sa.remote_ts);
  return ok;
}

// One entry; nullopt when it has errors (and they were reported).
std::optional<StaticSaConfig> read_static_sa(const nlohmann::ordered_json& value, const std::string& pointer,
                                             const Context& ctx) {
  StaticSaConfig sa;
  ObjectReader r(value, pointer, ctx.diag);
  bool ok = r.valid();
  auto need = [&](auto&& v) {
    ok = ok && v.has_value();
    return v.has_value();
  };

  if (const auto spi = read_spi(r, ctx); need(spi)) sa.spi = *spi;
  const auto direction = r.choice<SaDirection>("direction", {{"in", SaDirection::in}, {"out", SaDirection::out}});
  if (need(direction)) sa.direction = *direction;
  else if (r.valid() && !r.get("direction")) ctx.diag.error(r.pointer(), "static SA needs \"direction\": in or out");
  if (r.get("protocol")) {
    const auto protocol = r.choice<SaProtocol>("protocol", {{"esp", SaProtocol::esp}, {"ah", SaProtocol::ah}});
    if (need(protocol)) sa.protocol = *protocol;
  }
  if (r.get("mode")) {
    const auto mode = r.choice<ChildMode>("mode", {{"tunnel", ChildMode::tunnel}, {"transport", ChildMode::transport}});
    if (need(mode)) sa.mode = *mode;
  }

  const auto local = read_endpoint(r, "local", ctx);
  const auto remote = read_endpoint(r, "remote", ctx);
  bool endpoints_ok = local && remote;
  if (local && remote && local->family() != remote->family()) {
    ctx.diag.error(r.pointer_of("remote"), "remote is " + family_name(remote->family()) + " but local is " +
                                               family_name(local->family()) + ": an SA's outer header has one family");
    endpoints_ok = false;
  } else if (local && remote && *local == *remote) {
    ctx.diag.error(r.pointer_of("remote"), "remote is the same address as local");
    endpoints_ok = false;
  }
  if (endpoints_ok) {
    sa.local = *local;
    sa.remote = *remote;
  }
  ok = ok && endpoints_ok;

  sa.allow_weak = r.boolean("allow_weak").value_or(false);
  const auto proposal = read_sa_proposal(r, sa.protocol, sa.allow_weak, ctx);
  auto key = read_key(r, "key", ctx);
  auto integ_key = read_key(r, "integ_key", ctx);
  ok = ok && !key.malformed && !integ_key.malformed;
  if (need(proposal)) {
    sa.proposal = *proposal;
    ok = check_keys(sa, std::move(key), std::move(integ_key), r, ctx) && ok;
  }

  if (const auto* encap = r.get("encap")) {
    ObjectReader er(*encap, r.pointer_of("encap"), ctx.diag);
    UdpEncapConfig ports;
    if (const auto p = er.integer("sport", 1, 65535)) ports.sport = static_cast<std::uint16_t>(*p);
    else ok = ok && !er.get("sport");
    if (const auto p = er.integer("dport", 1, 65535)) ports.dport = static_cast<std::uint16_t>(*p);
    else ok = ok && !er.get("dport");
    er.finish();
    ok = ok && er.valid();
    if (sa.protocol == SaProtocol::ah) {
      // RFC 3948 encapsulates ESP only: AH authenticates the addresses a NAT rewrites.
      ctx.diag.error(r.pointer_of("encap"), "AH cannot be UDP-encapsulated: it authenticates the IP addresses a NAT "
                                            "rewrites (RFC 3948 covers ESP only)");
      ok = false;
    }
    sa.encap = ports;
  }
  if (const auto esn = r.boolean("esn")) sa.esn = *esn;
  else ok = ok && !r.get("esn");
  if (r.get("replay_window")) {
    if (const auto w = r.integer("replay_window", 0, kMaxReplayWindow)) sa.replay_window = static_cast<std::uint32_t>(*w);
    else ok = false;
    if (sa.direction == SaDirection::out && direction) {
      ctx.diag.error(r.pointer_of("replay_window"), "replay_window applies to inbound SAs: the receiver checks for "
                                                    "replays (RFC 4303 §3.4.3)");
      ok = false;
    }
  }
  ok = read_selectors(sa, endpoints_ok, r, ctx) && ok;
  r.finish();
  // The section's cross-checks look only at entries that read cleanly.
  if (!ok) return std::nullopt;
  return sa;
}

// Counter-based modes build each nonce from the salt and the explicit IV,
// which the engine takes from the sequence number (RFC 4106 §3.1 allows it),
// and every SA counts from 1: two SAs under one key repeat nonces, and an IV
// must never repeat under one key (RFC 3686 §2.1, RFC 4106 §3.1, RFC 7634
// §2). A repeated GCM nonce gives away the authentication key.
bool nonce_based(const Proposal& p) {
  if (p.encryption.empty()) return false;
  switch (static_cast<iana::EncrId>(p.encryption.front().id)) {
    case iana::EncrId::aes_ctr:
    case iana::EncrId::aes_gcm_8:
    case iana::EncrId::aes_gcm_12:
    case iana::EncrId::aes_gcm_16:
    case iana::EncrId::null_auth_aes_gmac:
    case iana::EncrId::chacha20_poly1305: return true;
    default: return false;
  }
}

// Checks between entries: what makes two SAs ambiguous or unsafe together.
void cross_check_sas(const std::vector<StaticSaConfig>& sas, const std::vector<std::string>& where,
                     const DataplaneConfig& dataplane, const Context& ctx) {
  for (std::size_t i = 0; i < sas.size(); ++i) {
    const auto& a = sas[i];
    const std::string protocol = a.protocol == SaProtocol::esp ? "ESP" : "AH";
    for (std::size_t j = 0; j < i; ++j) {
      const auto& b = sas[j];
      if (a.direction == b.direction && a.protocol == b.protocol && a.spi == b.spi) {
        // RFC 4301 §4.1: the receiver finds an SA by protocol and SPI alone.
        if (a.direction == SaDirection::in)
          ctx.diag.error(where[i] + "/spi", "inbound " + protocol + " SPI " + spi_text(a.spi) + " is also " + where[j] +
                                                "'s: an arriving packet is matched to its SA by protocol and SPI");
        else if (a.remote == b.remote)
          ctx.diag.error(where[i] + "/spi", "outbound " + protocol + " SPI " + spi_text(a.spi) + " to " +
                                                a.remote.to_string() + " is also " + where[j] + "'s");
      }
      if (a.direction == SaDirection::out && b.direction == SaDirection::out) {
        const auto mine = packet_selectors(a);
        const auto theirs = packet_selectors(b);
        for (const auto& s : mine)
          if (std::find(theirs.begin(), theirs.end(), s) != theirs.end()) {
            ctx.diag.error(where[i] + "/local_ts", "traffic " + s.src.to_string() + " -> " + s.dst.to_string() +
                                                       " is also carried by " + where[j] +
                                                       ": outbound packets would match two SAs");
            break;
          }
      }
      if (nonce_based(a.proposal) && !a.key.empty() && a.key.equals(b.key))
        ctx.diag.error(where[i] + "/key", "the same key as " + where[j] + ": " +
                                              algorithm_word(a.proposal.encryption.front()) +
                                              " builds its nonces from the key's salt and the sequence number, which "
                                              "every SA counts from 1, so two SAs under one key repeat nonces: give "
                                              "each SA its own key");
    }
    if (!dataplane.ports.empty()) {
      const bool ours = std::any_of(dataplane.ports.begin(), dataplane.ports.end(), [&](const PortConfig& port) {
        return std::any_of(port.addresses.begin(), port.addresses.end(),
                           [&](const net::Prefix& p) { return p.address == a.local; });
      });
      if (!ours)
        ctx.diag.warning(where[i] + "/local", a.local.to_string() + " is not the address of any port: the gateway "
                                              "answers ARP/ND only for its ports' addresses");
    }
  }
}

}  // namespace

std::vector<StaticSaConfig> read_static_sas(const nlohmann::ordered_json& value, const std::string& pointer,
                                            const DataplaneConfig& dataplane, const Context& ctx) {
  std::vector<StaticSaConfig> out;
  if (!value.is_array()) {
    ctx.diag.error(pointer, "must be an array of static SAs {spi, direction, local, remote, proposal, key, ...}, "
                            "not " + json_type_name(value));
    return out;
  }
  std::vector<std::string> where;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto p = json_pointer_append(pointer, std::to_string(i));
    if (auto sa = read_static_sa(value[i], p, ctx)) {
      out.push_back(std::move(*sa));
      where.push_back(p);
    }
  }
  cross_check_sas(out, where, dataplane, ctx);
  return out;
}

}  // namespace corridor::config::detail
