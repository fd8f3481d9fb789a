#include "control/ikev1/proposal.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/ike/key_exchange.h"
#include "control/ike/proposal_select.h"

namespace corridor::control::ikev1 {

using iana::EncrId;
using iana::IntegId;
using iana::KeId;
using iana::PrfId;
using iana::TransformType;

namespace {

constexpr std::uint16_t attr(v1::Phase1Attribute a) { return static_cast<std::uint16_t>(a); }
constexpr std::uint16_t attr(v1::IpsecAttribute a) { return static_cast<std::uint16_t>(a); }

std::optional<v1::Phase1Hash> hash_for_integrity(std::uint16_t integ) {
  switch (static_cast<IntegId>(integ)) {
    case IntegId::hmac_sha1_96: return v1::Phase1Hash::sha1;
    case IntegId::hmac_sha2_256_128: return v1::Phase1Hash::sha2_256;
    case IntegId::hmac_sha2_384_192: return v1::Phase1Hash::sha2_384;
    case IntegId::hmac_sha2_512_256: return v1::Phase1Hash::sha2_512;
    default: return std::nullopt;
  }
}

std::optional<v1::Phase1Hash> hash_for_prf(std::uint16_t prf) {
  switch (static_cast<PrfId>(prf)) {
    case PrfId::hmac_sha1: return v1::Phase1Hash::sha1;
    case PrfId::hmac_sha2_256: return v1::Phase1Hash::sha2_256;
    case PrfId::hmac_sha2_384: return v1::Phase1Hash::sha2_384;
    case PrfId::hmac_sha2_512: return v1::Phase1Hash::sha2_512;
    default: return std::nullopt;
  }
}

IntegId integrity_of(v1::Phase1Hash hash) {
  switch (hash) {
    case v1::Phase1Hash::sha1: return IntegId::hmac_sha1_96;
    case v1::Phase1Hash::sha2_384: return IntegId::hmac_sha2_384_192;
    case v1::Phase1Hash::sha2_512: return IntegId::hmac_sha2_512_256;
    default: return IntegId::hmac_sha2_256_128;
  }
}

std::optional<v1::IpsecAuth> ipsec_auth_for(std::uint16_t integ) {
  switch (static_cast<IntegId>(integ)) {
    case IntegId::hmac_sha1_96: return v1::IpsecAuth::hmac_sha;
    case IntegId::hmac_sha2_256_128: return v1::IpsecAuth::hmac_sha2_256;
    case IntegId::hmac_sha2_384_192: return v1::IpsecAuth::hmac_sha2_384;
    case IntegId::hmac_sha2_512_256: return v1::IpsecAuth::hmac_sha2_512;
    default: return std::nullopt;
  }
}

std::optional<IntegId> integrity_of(v1::IpsecAuth auth) {
  switch (auth) {
    case v1::IpsecAuth::hmac_sha: return IntegId::hmac_sha1_96;
    case v1::IpsecAuth::hmac_sha2_256: return IntegId::hmac_sha2_256_128;
    case v1::IpsecAuth::hmac_sha2_384: return IntegId::hmac_sha2_384_192;
    case v1::IpsecAuth::hmac_sha2_512: return IntegId::hmac_sha2_512_256;
    default: return std::nullopt;
  }
}

// AH transform IDs for an integrity algorithm (RFC 2407 §4.4.3, RFC 4868).
std::optional<v1::AhTransform> ah_transform_for(v1::IpsecAuth auth) {
  switch (auth) {
    case v1::IpsecAuth::hmac_sha: return v1::AhTransform::sha;
    case v1::IpsecAuth::hmac_sha2_256: return v1::AhTransform::sha2_256;
    case v1::IpsecAuth::hmac_sha2_384: return v1::AhTransform::sha2_384;
    case v1::IpsecAuth::hmac_sha2_512: return v1::AhTransform::sha2_512;
    default: return std::nullopt;
  }
}

// ESP transform IDs Corridor's dataplane implements, as IKEv2 ENCR IDs
// (equal numbers except NULL_AUTH_AES_GMAC, which IKEv1 does not get here).
bool esp_transform_supported(std::uint16_t encr) {
  switch (static_cast<EncrId>(encr)) {
    case EncrId::aes_cbc:
    case EncrId::aes_ctr:
    case EncrId::aes_gcm_8:
    case EncrId::aes_gcm_12:
    case EncrId::aes_gcm_16:
    case EncrId::null:
    case EncrId::triple_des:
      return true;
    default:
      return false;
  }
}

bool group_usable(std::uint16_t group) {
  return group != 0 && corridor::ike::key_exchange_supported(static_cast<KeId>(group));
}

std::string describe_ike(const corridor::ike::Proposal& p) { return control::ike::describe(p); }

template <typename Suite>
std::string list(std::span<const Suite> suites) {
  std::string out;
  for (const auto& s : suites) out += (out.empty() ? "" : ", ") + s.to_string();
  return out.empty() ? "nothing" : out;
}

// "the transform's attributes": every attribute read once, and any class
// this code does not know refused (RFC 2409 §5: unsupported attribute ->
// the transform is not acceptable).
// Life Type and Life Duration (life_a, life_b) may repeat in pairs
// (seconds and kilobytes).
template <typename F>
bool each_attribute(const codec::Transform& t, std::uint16_t life_a, std::uint16_t life_b, F&& f, std::string* why) {
  for (std::size_t i = 0; i < t.attributes.size(); ++i) {
    const auto type = t.attributes[i].type;
    for (std::size_t j = 0; j < i && type != life_a && type != life_b; ++j) {
      if (t.attributes[j].type == t.attributes[i].type) {
        *why = "attribute " + std::to_string(t.attributes[i].type) + " given twice";
        return false;
      }
    }
    if (!f(t.attributes[i], why)) return false;
  }
  return true;
}


// The shorter of two lifetimes (seconds or kilobytes), 0 standing for "none given".
template <typename T>
T shorter_life(T a, T b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

// What a peer offered, transform by transform, read into suites.
template <typename Suite>
struct Offer {
  struct Candidate {
    const codec::Proposal* proposal;
    const codec::Transform* transform;
    Suite suite;
  };
  std::vector<Candidate> candidates;
  std::vector<Suite> received;  // for the error message
  std::string ignored;          // "; transform 3 ignored: ..."

  // `read(proposal, transform)` gives the suite or why it is unusable.
  template <typename Read>
  void add(const codec::Proposal& p, Read&& read) {
    for (const auto& t : p.transforms) {
      auto s = read(p, t);
      if (!s) {
        ignored += "; transform " + std::to_string(t.number) + " ignored: " + s.error().message;
        continue;
      }
      received.push_back(*s);
      candidates.push_back({&p, &t, *s});
    }
  }
  // The first configured suite that was offered (strongSwan's
  // prefer_configured_proposals), with the configured one in `*want`.
  const Candidate* first_configured(std::span<const Suite> configured, const Suite** want) const {
    for (const auto& w : configured) {
      for (const auto& c : candidates) {
        if (c.suite.same_algorithms(w)) {
          *want = &w;
          return &c;
        }
      }
    }
    return nullptr;
  }
  // The responder's SA payload: the offered proposal with the chosen
  // transform exactly as it came (RFC 2409 §5).
  static codec::SecurityAssociation echo(const Candidate& c) {
    codec::Proposal reply;
    reply.number = c.proposal->number;
    reply.protocol = c.proposal->protocol;
    reply.spi = c.proposal->spi;
    reply.transforms.push_back(*c.transform);
    codec::SecurityAssociation sa;
    sa.proposals.push_back(std::move(reply));
    return sa;
  }
};
}  // namespace

codec::Bytes spi_bytes(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}

std::uint32_t spi_value(std::span<const std::uint8_t> bytes) {
  std::uint32_t v = 0;
  for (auto b : bytes) v = (v << 8) | b;
  return v;
}

// --- Phase 1 ---

corridor::ikev1::Phase1Suite Phase1Suite::keys() const {
  auto prf = corridor::ikev1::prf_for_hash(hash);
  return {encryption, key_bits, prf ? *prf : PrfId::hmac_sha2_256};
}

std::string Phase1Suite::to_string() const {
  corridor::ike::Proposal p;
  p.protocol = iana::ProtocolId::ike;
  corridor::ike::Transform encr{TransformType::encryption,
                                static_cast<std::uint16_t>(encryption == v1::Phase1Encryption::aes_cbc
                                                               ? EncrId::aes_cbc
                                                               : encryption == v1::Phase1Encryption::triple_des_cbc
                                                                     ? EncrId::triple_des
                                                                     : static_cast<EncrId>(0)),
                                {}};
  if (key_bits != 0) encr.attributes.push_back({iana::kAttributeKeyLength, true, key_bits, {}});
  p.transforms.push_back(encr);
  p.transforms.push_back({TransformType::integrity, static_cast<std::uint16_t>(integrity_of(hash)), {}});
  p.transforms.push_back({TransformType::prf, static_cast<std::uint16_t>(keys().prf), {}});
  p.transforms.push_back({TransformType::key_exchange, static_cast<std::uint16_t>(group), {}});
  return describe_ike(p);
}

bool Phase1Suite::same_algorithms(const Phase1Suite& o) const {
  return encryption == o.encryption && key_bits == o.key_bits && hash == o.hash && auth == o.auth && group == o.group;
}

std::optional<v1::Phase1Auth> phase1_auth_for(config::AuthMethod method) {
  switch (method) {
    case config::AuthMethod::psk: return v1::Phase1Auth::pre_shared_key;
    case config::AuthMethod::pubkey:
    case config::AuthMethod::rsa: return v1::Phase1Auth::rsa_signatures;
    default: return std::nullopt;
  }
}

ProposalExpected<std::vector<Phase1Suite>> phase1_suites(std::span<const config::Proposal> proposals,
                                                         v1::Phase1Auth auth, std::uint32_t life_seconds) {
  std::vector<Phase1Suite> out;
  for (const auto& p : proposals) {
    if (p.kind != config::ProposalKind::ike) continue;
    std::vector<v1::Phase1Hash> hashes;
    for (const auto& t : p.integrity) {
      if (auto h = hash_for_integrity(t.id)) hashes.push_back(*h);
    }
    if (p.integrity.empty()) {
      for (const auto& t : p.prf) {
        if (auto h = hash_for_prf(t.id)) hashes.push_back(*h);
      }
    }
    for (const auto& e : p.encryption) {
      Phase1Suite s;
      if (e.id == static_cast<std::uint16_t>(EncrId::aes_cbc)) {
        s.encryption = v1::Phase1Encryption::aes_cbc;
        s.key_bits = e.key_bits;
      } else if (e.id == static_cast<std::uint16_t>(EncrId::triple_des)) {
        s.encryption = v1::Phase1Encryption::triple_des_cbc;
      } else {
        continue;  // AEAD and others: no IKEv1 Phase 1 number
      }
      for (auto h : hashes) {
        for (const auto& g : p.key_exchange) {
          if (!group_usable(g.id)) continue;
          s.hash = h;
          s.auth = auth;
          s.group = static_cast<KeId>(g.id);
          s.life_seconds = life_seconds;
          out.push_back(s);
        }
      }
    }
  }
  if (out.empty()) {
    std::string configured;
    for (const auto& p : proposals) configured += (configured.empty() ? "" : ", ") + p.to_string();
    return ProposalError{"no IKEv1 Phase 1 suite in " + configured +
                         " (IKEv1 needs AES-CBC or 3DES, a SHA1/SHA2 hash and a MODP or ECP group)"};
  }
  if (out.size() > 255) out.resize(255);  // Transform # is one byte
  return out;
}

codec::SecurityAssociation phase1_offer(std::span<const Phase1Suite> suites) {
  codec::Proposal p;
  p.number = 1;
  p.protocol = v1::ProtocolId::isakmp;
  std::uint8_t n = 1;
  for (const auto& s : suites) {
    codec::Transform t;
    t.number = n++;
    t.id = v1::kTransformKeyIke;
    t.attributes.push_back(codec::make_attribute(attr(v1::Phase1Attribute::encryption_algorithm),
                                                 static_cast<std::uint16_t>(s.encryption)));
    if (s.key_bits != 0) t.attributes.push_back(codec::make_attribute(attr(v1::Phase1Attribute::key_length), s.key_bits));
    t.attributes.push_back(
        codec::make_attribute(attr(v1::Phase1Attribute::hash_algorithm), static_cast<std::uint16_t>(s.hash)));
    t.attributes.push_back(
        codec::make_attribute(attr(v1::Phase1Attribute::authentication_method), static_cast<std::uint16_t>(s.auth)));
    t.attributes.push_back(
        codec::make_attribute(attr(v1::Phase1Attribute::group_description), static_cast<std::uint16_t>(s.group)));
    if (s.life_seconds != 0) {
      t.attributes.push_back(codec::make_attribute(attr(v1::Phase1Attribute::life_type),
                                                   static_cast<std::uint16_t>(v1::LifeType::seconds)));
      // strongSwan always sends Life Duration in the 4-byte variable form.
      codec::Attribute life;
      life.type = attr(v1::Phase1Attribute::life_duration);
      life.tv = false;
      for (int shift = 24; shift >= 0; shift -= 8) life.data.push_back(static_cast<std::uint8_t>(s.life_seconds >> shift));
      t.attributes.push_back(std::move(life));
    }
    p.transforms.push_back(std::move(t));
  }
  codec::SecurityAssociation sa;
  sa.proposals.push_back(std::move(p));
  return sa;
}

ProposalExpected<Phase1Suite> read_phase1_transform(const codec::Transform& transform) {
  if (transform.id != v1::kTransformKeyIke) {
    return ProposalError{"transform ID " + std::to_string(transform.id) + " is not KEY_IKE"};
  }
  Phase1Suite s;
  bool have_encr = false, have_hash = false, have_auth = false, have_group = false;
  std::optional<v1::LifeType> life_type;
  std::string why;
  const bool ok = each_attribute(
      transform, attr(v1::Phase1Attribute::life_type), attr(v1::Phase1Attribute::life_duration),
      [&](const codec::Attribute& a, std::string* w) {
        const auto value = a.integer();
        if (!value) {
          *w = "attribute " + std::to_string(a.type) + " has no usable value";
          return false;
        }
        switch (static_cast<v1::Phase1Attribute>(a.type)) {
          case v1::Phase1Attribute::encryption_algorithm:
            s.encryption = static_cast<v1::Phase1Encryption>(*value);
            have_encr = true;
            return true;
          case v1::Phase1Attribute::key_length:
            s.key_bits = static_cast<std::uint16_t>(*value);
            return true;
          case v1::Phase1Attribute::hash_algorithm:
            s.hash = static_cast<v1::Phase1Hash>(*value);
            have_hash = true;
            return true;
          case v1::Phase1Attribute::authentication_method:
            s.auth = static_cast<v1::Phase1Auth>(*value);
            have_auth = true;
            return true;
          case v1::Phase1Attribute::group_description:
            s.group = static_cast<KeId>(*value);
            have_group = true;
            return true;
          case v1::Phase1Attribute::life_type:
            life_type = static_cast<v1::LifeType>(*value);
            return true;
          case v1::Phase1Attribute::life_duration:
            // Kilobyte lifetimes of an ISAKMP SA are not enforced (strongSwan does not either).
            if (life_type == v1::LifeType::seconds) s.life_seconds = static_cast<std::uint32_t>(std::min<std::uint64_t>(*value, 0xffffffffu));
            return true;
          default:
            *w = "attribute class " + std::to_string(a.type) + " is not supported";
            return false;
        }
      },
      &why);
  if (!ok) return ProposalError{why};
  if (!have_encr || !have_hash || !have_auth || !have_group) {
    return ProposalError{"a Phase 1 transform needs Encryption Algorithm, Hash Algorithm, Authentication Method and "
                         "Group Description"};
  }
  if (auto size = corridor::ikev1::phase1_key_size(s.keys()); !size) return ProposalError{size.error().message};
  if (auto prf = corridor::ikev1::prf_for_hash(s.hash); !prf) return ProposalError{prf.error().message};
  if (!group_usable(static_cast<std::uint16_t>(s.group))) {
    return ProposalError{"group " + std::to_string(static_cast<int>(s.group)) + " is not implemented"};
  }
  return s;
}

ProposalExpected<Phase1Selection> select_phase1(const codec::SecurityAssociation& offered,
                                                std::span<const Phase1Suite> configured) {
  Offer<Phase1Suite> offer;
  for (const auto& p : offered.proposals) {
    if (p.protocol != v1::ProtocolId::isakmp) continue;
    offer.add(p, [](const codec::Proposal&, const codec::Transform& t) { return read_phase1_transform(t); });
  }
  const Phase1Suite* want = nullptr;
  const auto* chosen = offer.first_configured(configured, &want);
  if (!chosen) {
    // The proposal strings leave the Authentication Method out (as
    // strongSwan's do): say so when that is what differs.
    std::string methods;
    if (!configured.empty() && !offer.received.empty() &&
        std::none_of(offer.received.begin(), offer.received.end(),
                     [&](const Phase1Suite& r) { return r.auth == configured.front().auth; })) {
      methods = " (authentication method: received " + std::string(v1::phase1_auth_name(offer.received.front().auth)) +
                ", configured " + std::string(v1::phase1_auth_name(configured.front().auth)) + ")";
    }
    return ProposalError{"no acceptable Phase 1 proposal: received " + list<Phase1Suite>(offer.received) +
                         ", configured " + list<Phase1Suite>(configured) + methods + offer.ignored};
  }
  return Phase1Selection{chosen->suite, Offer<Phase1Suite>::echo(*chosen)};
}

ProposalExpected<Phase1Suite> accept_phase1_reply(const codec::SecurityAssociation& reply,
                                                  std::span<const Phase1Suite> offered) {
  if (reply.proposals.size() != 1 || reply.proposals[0].transforms.size() != 1 ||
      reply.proposals[0].protocol != v1::ProtocolId::isakmp) {
    return ProposalError{"the responder's SA payload must hold one ISAKMP proposal with one transform"};
  }
  auto s = read_phase1_transform(reply.proposals[0].transforms[0]);
  if (!s) return ProposalError{"the responder chose an unusable transform: " + s.error().message};
  for (const auto& o : offered) {
    if (o.same_algorithms(*s)) {
      Phase1Suite agreed = *s;
      agreed.life_seconds = shorter_life(agreed.life_seconds, o.life_seconds);
      return agreed;
    }
  }
  return ProposalError{"the responder chose " + s->to_string() + ", which was not offered (" +
                       list<Phase1Suite>(offered) + ")"};
}

// --- Quick Mode ---

corridor::ike::ChildSuite Phase2Suite::child_suite() const {
  corridor::ike::ChildSuite c;
  if (protocol == v1::ProtocolId::esp) {
    c.encryption = transform_id == static_cast<std::uint8_t>(v1::EspTransform::null_auth_aes_gmac)
                       ? static_cast<std::uint16_t>(EncrId::null_auth_aes_gmac)
                       : transform_id;
    c.key_bits = key_bits;
  }
  if (auth) {
    if (auto integ = integrity_of(*auth)) c.integrity = static_cast<std::uint16_t>(*integ);
  }
  return c;
}

ProposalExpected<std::size_t> Phase2Suite::keymat_size() const {
  const auto c = child_suite();
  std::size_t n = 0;
  if (protocol == v1::ProtocolId::esp) {
    auto e = corridor::ike::encryption_key_size(c.encryption, c.key_bits);
    if (!e) return ProposalError{e.error().message};
    n += *e;
  }
  if (c.integrity != 0) {
    auto i = corridor::ike::integrity_key_size(c.integrity);
    if (!i) return ProposalError{i.error().message};
    n += *i;
  }
  return n;
}

std::string Phase2Suite::to_string() const {
  corridor::ike::Proposal p;
  p.protocol = protocol == v1::ProtocolId::ah ? iana::ProtocolId::ah : iana::ProtocolId::esp;
  const auto c = child_suite();
  if (protocol == v1::ProtocolId::esp) {
    corridor::ike::Transform encr{TransformType::encryption, c.encryption, {}};
    if (key_bits != 0) encr.attributes.push_back({iana::kAttributeKeyLength, true, key_bits, {}});
    p.transforms.push_back(encr);
  }
  if (c.integrity != 0) p.transforms.push_back({TransformType::integrity, c.integrity, {}});
  if (group != KeId::none) p.transforms.push_back({TransformType::key_exchange, static_cast<std::uint16_t>(group), {}});
  p.transforms.push_back({TransformType::esn, static_cast<std::uint16_t>(esn ? 1 : 0), {}});
  return describe_ike(p);
}

bool Phase2Suite::tunnel() const {
  return mode == v1::EncapsulationMode::tunnel || mode == v1::EncapsulationMode::udp_tunnel ||
         mode == v1::EncapsulationMode::udp_tunnel_draft;
}

bool Phase2Suite::udp_encapsulated() const {
  return mode == v1::EncapsulationMode::udp_tunnel || mode == v1::EncapsulationMode::udp_transport ||
         mode == v1::EncapsulationMode::udp_tunnel_draft || mode == v1::EncapsulationMode::udp_transport_draft;
}

bool Phase2Suite::same_algorithms(const Phase2Suite& o) const {
  return protocol == o.protocol && transform_id == o.transform_id && key_bits == o.key_bits && auth == o.auth &&
         group == o.group && tunnel() == o.tunnel() && udp_encapsulated() == o.udp_encapsulated() && esn == o.esn;
}

v1::EncapsulationMode encapsulation_for(config::ChildMode mode, bool udp) {
  if (mode == config::ChildMode::tunnel) return udp ? v1::EncapsulationMode::udp_tunnel : v1::EncapsulationMode::tunnel;
  return udp ? v1::EncapsulationMode::udp_transport : v1::EncapsulationMode::transport;
}

ProposalExpected<std::vector<Phase2Suite>> phase2_suites(const config::ChildConfig& child, bool udp) {
  const bool ah = child.esp_proposals.empty();
  const auto& proposals = ah ? child.ah_proposals : child.esp_proposals;
  // One PFS group for the whole offer (one KE payload in Quick Mode).
  KeId pfs = KeId::none;
  if (!proposals.empty() && !proposals.front().key_exchange.empty()) {
    pfs = static_cast<KeId>(proposals.front().key_exchange.front().id);
  }
  const std::uint32_t life = static_cast<std::uint32_t>(child.life_time.count());
  std::vector<Phase2Suite> out;
  for (const auto& p : proposals) {
    // Groups of this proposal: it must allow the offer's PFS group (NONE
    // stands for "no PFS" as in "modpnone").
    bool group_ok = p.key_exchange.empty() ? pfs == KeId::none : false;
    for (const auto& g : p.key_exchange) {
      if (static_cast<KeId>(g.id) == pfs) group_ok = true;
    }
    if (!group_ok) continue;
    if (pfs != KeId::none && !group_usable(static_cast<std::uint16_t>(pfs))) continue;
    std::vector<bool> esns;
    for (const auto& e : p.esn) esns.push_back(e.id == 1);
    if (esns.empty()) esns.push_back(false);
    std::vector<std::optional<v1::IpsecAuth>> auths;
    for (const auto& i : p.integrity) {
      if (auto a = ipsec_auth_for(i.id)) auths.push_back(*a);
    }
    if (p.aead()) auths = {std::nullopt};
    Phase2Suite base;
    base.group = pfs;
    base.mode = encapsulation_for(child.mode, udp);
    base.life_seconds = life;
    base.life_kilobytes = child.life_bytes / 1024;
    if (ah) {
      base.protocol = v1::ProtocolId::ah;
      for (const auto& a : auths) {
        if (!a) continue;
        auto id = ah_transform_for(*a);
        if (!id) continue;
        for (bool esn : esns) {
          Phase2Suite s = base;
          s.transform_id = static_cast<std::uint8_t>(*id);
          s.auth = a;
          s.esn = esn;
          out.push_back(s);
        }
      }
      continue;
    }
    for (const auto& e : p.encryption) {
      if (!esp_transform_supported(e.id)) continue;
      for (const auto& a : auths) {
        for (bool esn : esns) {
          Phase2Suite s = base;
          s.transform_id = static_cast<std::uint8_t>(e.id);
          s.key_bits = e.key_bits;
          s.auth = a;
          s.esn = esn;
          out.push_back(s);
        }
      }
    }
  }
  if (out.empty()) {
    return ProposalError{"no IKEv1 Quick Mode suite in the child's proposals (IKEv1 carries one PFS group: the "
                         "first proposal's first group)"};
  }
  if (out.size() > 255) out.resize(255);
  return out;
}

codec::SecurityAssociation phase2_offer(std::span<const Phase2Suite> suites, std::uint32_t spi) {
  codec::Proposal p;
  p.number = 1;
  p.protocol = suites.empty() ? v1::ProtocolId::esp : suites.front().protocol;
  p.spi = spi_bytes(spi);
  std::uint8_t n = 1;
  for (const auto& s : suites) {
    codec::Transform t;
    t.number = n++;
    t.id = s.transform_id;
    if (s.life_seconds != 0) {
      t.attributes.push_back(
          codec::make_attribute(attr(v1::IpsecAttribute::life_type), static_cast<std::uint16_t>(v1::LifeType::seconds)));
      t.attributes.push_back(codec::make_attribute(attr(v1::IpsecAttribute::life_duration), s.life_seconds));
    }
    if (s.life_kilobytes != 0) {
      t.attributes.push_back(codec::make_attribute(attr(v1::IpsecAttribute::life_type),
                                                   static_cast<std::uint16_t>(v1::LifeType::kilobytes)));
      t.attributes.push_back(codec::make_attribute(attr(v1::IpsecAttribute::life_duration), s.life_kilobytes));
    }
    if (s.group != KeId::none) {
      t.attributes.push_back(
          codec::make_attribute(attr(v1::IpsecAttribute::group_description), static_cast<std::uint16_t>(s.group)));
    }
    t.attributes.push_back(
        codec::make_attribute(attr(v1::IpsecAttribute::encapsulation_mode), static_cast<std::uint16_t>(s.mode)));
    if (s.auth) {
      t.attributes.push_back(
          codec::make_attribute(attr(v1::IpsecAttribute::authentication_algorithm), static_cast<std::uint16_t>(*s.auth)));
    }
    if (s.key_bits != 0) t.attributes.push_back(codec::make_attribute(attr(v1::IpsecAttribute::key_length), s.key_bits));
    if (s.esn) t.attributes.push_back(codec::make_attribute(attr(v1::IpsecAttribute::extended_sequence_number), 1));
    p.transforms.push_back(std::move(t));
  }
  codec::SecurityAssociation sa;
  sa.proposals.push_back(std::move(p));
  return sa;
}

ProposalExpected<Phase2Suite> read_phase2_transform(v1::ProtocolId protocol, const codec::Transform& transform) {
  Phase2Suite s;
  s.protocol = protocol;
  s.transform_id = transform.id;
  bool have_mode = false;
  // Life Type/Duration come in pairs and may repeat (seconds and
  // kilobytes), each Duration after its Type; any other class only once.
  std::optional<v1::LifeType> life_type;
  std::vector<std::uint16_t> seen;
  for (const auto& a : transform.attributes) {
    const auto value = a.integer();
    if (!value) return ProposalError{"attribute " + std::to_string(a.type) + " has no usable value"};
    const auto cls = static_cast<v1::IpsecAttribute>(a.type);
    if (cls != v1::IpsecAttribute::life_type && cls != v1::IpsecAttribute::life_duration) {
      for (auto t : seen) {
        if (t == a.type) return ProposalError{"attribute " + std::to_string(a.type) + " given twice"};
      }
      seen.push_back(a.type);
    }
    switch (cls) {
      case v1::IpsecAttribute::life_type:
        life_type = static_cast<v1::LifeType>(*value);
        break;
      case v1::IpsecAttribute::life_duration:
        if (life_type == v1::LifeType::seconds) {
          s.life_seconds = static_cast<std::uint32_t>(std::min<std::uint64_t>(*value, 0xffffffffu));
        } else if (life_type == v1::LifeType::kilobytes) {
          s.life_kilobytes = *value;
        } else {
          return ProposalError{"Life Duration without a Life Type before it"};
        }
        break;
      case v1::IpsecAttribute::group_description: s.group = static_cast<KeId>(*value); break;
      case v1::IpsecAttribute::encapsulation_mode:
        s.mode = static_cast<v1::EncapsulationMode>(*value);
        have_mode = true;
        break;
      case v1::IpsecAttribute::authentication_algorithm: s.auth = static_cast<v1::IpsecAuth>(*value); break;
      case v1::IpsecAttribute::key_length: s.key_bits = static_cast<std::uint16_t>(*value); break;
      case v1::IpsecAttribute::extended_sequence_number: s.esn = *value == 1; break;
      default: return ProposalError{"attribute class " + std::to_string(a.type) + " is not supported"};
    }
  }
  if (!have_mode) s.mode = v1::EncapsulationMode::tunnel;  // RFC 2407 §4.5: unspecified -> tunnel (strongSwan too)
  if (protocol == v1::ProtocolId::esp) {
    if (!esp_transform_supported(s.transform_id) ||
        s.transform_id == static_cast<std::uint8_t>(v1::EspTransform::null_auth_aes_gmac)) {
      return ProposalError{"ESP transform " + std::to_string(s.transform_id) + " is not implemented"};
    }
    const bool aead = iana::encryption_is_aead(s.transform_id);
    if (aead && s.auth) return ProposalError{"an AEAD cipher with an Authentication Algorithm"};
    if (!aead && !s.auth) return ProposalError{"ESP without an Authentication Algorithm"};
  } else if (protocol == v1::ProtocolId::ah) {
    if (!s.auth || ah_transform_for(*s.auth) != static_cast<v1::AhTransform>(s.transform_id)) {
      return ProposalError{"AH transform " + std::to_string(s.transform_id) +
                           " without its matching Authentication Algorithm"};
    }
  } else {
    return ProposalError{"protocol " + std::string(v1::protocol_name(protocol)) + " is not negotiated here"};
  }
  if (s.auth && !integrity_of(*s.auth)) {
    return ProposalError{"Authentication Algorithm " + std::to_string(static_cast<int>(*s.auth)) + " is not implemented"};
  }
  if (s.group != KeId::none && !group_usable(static_cast<std::uint16_t>(s.group))) {
    return ProposalError{"PFS group " + std::to_string(static_cast<int>(s.group)) + " is not implemented"};
  }
  if (auto n = s.keymat_size(); !n) return ProposalError{n.error().message};
  return s;
}

codec::SecurityAssociation Phase2Selection::with_spi(std::uint32_t our_spi) const {
  codec::SecurityAssociation sa = reply;
  sa.proposals.at(0).spi = spi_bytes(our_spi);
  return sa;
}

namespace {

}  // namespace

namespace {

// A lifetime in seconds the peer imposes (shorter than ours) below this is
// refused: every pair would be renewed at once, again and again.
constexpr std::uint32_t kMinPeerLifeSeconds = 10;

std::optional<ProposalError> too_short(std::uint32_t peers, std::uint32_t ours) {
  if (peers == 0 || peers >= kMinPeerLifeSeconds || (ours != 0 && ours <= peers)) return std::nullopt;
  return ProposalError{"the peer's IPsec SA lifetime of " + std::to_string(peers) + " s is below the " +
                       std::to_string(kMinPeerLifeSeconds) + " s Corridor accepts"};
}

}  // namespace

ProposalExpected<Phase2Selection> select_phase2(const codec::SecurityAssociation& offered,
                                                std::span<const Phase2Suite> configured) {
  Offer<Phase2Suite> offer;
  for (std::size_t i = 0; i < offered.proposals.size(); ++i) {
    const auto& p = offered.proposals[i];
    const bool bundle = (i > 0 && offered.proposals[i - 1].number == p.number) ||
                        (i + 1 < offered.proposals.size() && offered.proposals[i + 1].number == p.number);
    if (bundle) {
      offer.ignored += "; proposal " + std::to_string(p.number) + " ignored: SA bundles are not supported";
      continue;
    }
    if (p.protocol != v1::ProtocolId::esp && p.protocol != v1::ProtocolId::ah) continue;
    offer.add(p, [](const codec::Proposal& pp, const codec::Transform& t) { return read_phase2_transform(pp.protocol, t); });
  }
  const Phase2Suite* want = nullptr;
  const auto* chosen = offer.first_configured(configured, &want);
  if (!chosen) {
    return ProposalError{"no acceptable Quick Mode proposal: received " + list<Phase2Suite>(offer.received) +
                         ", configured " + list<Phase2Suite>(configured) + offer.ignored};
  }
  if (auto e = too_short(chosen->suite.life_seconds, want->life_seconds)) return *e;
  Phase2Selection out;
  out.suite = chosen->suite;
  out.offered_life_seconds = chosen->suite.life_seconds;
  out.offered_life_kilobytes = chosen->suite.life_kilobytes;
  out.suite.life_seconds = shorter_life(out.suite.life_seconds, want->life_seconds);
  out.suite.life_kilobytes = shorter_life(out.suite.life_kilobytes, want->life_kilobytes);
  out.peer_spi = spi_value(chosen->proposal->spi);
  out.reply = Offer<Phase2Suite>::echo(*chosen);
  return out;
}

ProposalExpected<Phase2Accepted> accept_phase2_reply(const codec::SecurityAssociation& reply,
                                                     std::span<const Phase2Suite> offered) {
  if (reply.proposals.size() != 1 || reply.proposals[0].transforms.size() != 1) {
    return ProposalError{"the responder's SA payload must hold one proposal with one transform"};
  }
  const auto& p = reply.proposals[0];
  auto s = read_phase2_transform(p.protocol, p.transforms[0]);
  if (!s) return ProposalError{"the responder chose an unusable transform: " + s.error().message};
  for (const auto& o : offered) {
    if (!o.same_algorithms(*s)) continue;
    if (auto e = too_short(s->life_seconds, o.life_seconds)) return *e;
    Phase2Accepted out{*s, spi_value(p.spi)};
    out.suite.life_seconds = shorter_life(out.suite.life_seconds, o.life_seconds);
    out.suite.life_kilobytes = shorter_life(out.suite.life_kilobytes, o.life_kilobytes);
    return out;
  }
  return ProposalError{"the responder chose " + s->to_string() + ", which was not offered (" +
                       list<Phase2Suite>(offered) + ")"};
}

// --- RESPONDER-LIFETIME (RFC 2407 §4.6.3.1) ---

std::optional<codec::Notification> responder_lifetime(const Phase2Selection& selection, std::uint32_t our_spi) {
  const auto& agreed = selection.suite;
  const bool seconds = agreed.life_seconds != 0 && agreed.life_seconds != selection.offered_life_seconds;
  const bool kilobytes = agreed.life_kilobytes != 0 && agreed.life_kilobytes != selection.offered_life_kilobytes;
  if (!seconds && !kilobytes) return std::nullopt;
  std::vector<codec::Attribute> attributes;
  auto add = [&](v1::LifeType type, std::uint64_t duration) {
    attributes.push_back(codec::make_attribute(attr(v1::IpsecAttribute::life_type), static_cast<std::uint16_t>(type)));
    attributes.push_back(codec::make_attribute(attr(v1::IpsecAttribute::life_duration), duration));
  };
  if (seconds) add(v1::LifeType::seconds, agreed.life_seconds);
  if (kilobytes) add(v1::LifeType::kilobytes, agreed.life_kilobytes);
  auto data = codec::serialise_attributes(attributes);
  if (!data.ok()) return std::nullopt;
  codec::Notification n;
  n.protocol = agreed.protocol;
  n.type = v1::NotifyType::responder_lifetime;
  n.spi = spi_bytes(our_spi);
  n.data = std::move(*data);
  return n;
}

ProposalExpected<Phase2Suite> apply_responder_lifetime(const codec::Notification& n, Phase2Suite suite) {
  auto attributes = codec::parse_attributes(n.data);
  if (!attributes.ok()) return ProposalError{"RESPONDER-LIFETIME: " + attributes.error().message};
  std::optional<v1::LifeType> type;
  for (const auto& a : *attributes) {
    const auto value = a.integer();
    if (!value) return ProposalError{"RESPONDER-LIFETIME: attribute " + std::to_string(a.type) + " has no value"};
    if (a.type == attr(v1::IpsecAttribute::life_type)) {
      type = static_cast<v1::LifeType>(*value);
    } else if (a.type == attr(v1::IpsecAttribute::life_duration)) {
      if (type == v1::LifeType::seconds) {
        const auto peers = static_cast<std::uint32_t>(std::min<std::uint64_t>(*value, 0xffffffffu));
        if (auto e = too_short(peers, suite.life_seconds)) return ProposalError{"RESPONDER-LIFETIME: " + e->message};
        suite.life_seconds = shorter_life(suite.life_seconds, peers);
      } else if (type == v1::LifeType::kilobytes) {
        suite.life_kilobytes = shorter_life(suite.life_kilobytes, *value);
      } else {
        return ProposalError{"RESPONDER-LIFETIME: a Life Duration without a known Life Type"};
      }
      type.reset();
    }
    // Other attributes (none are defined for this notification) are ignored.
  }
  return suite;
}

}  // namespace corridor::control::ikev1
