// Proposal selection as strongSwan 5.9 does it (libstrongswan
// crypto/proposal/proposal.c: select_algo, select_algos, proposal_select;
// proposal_printf_hook for the spelling), on Corridor's wire and config
// types.
#include "control/ike/proposal_select.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <utility>

namespace corridor::control::ike {
namespace {

namespace wire = corridor::ike;
using iana::ProtocolId;
using iana::TransformType;

constexpr std::size_t kMaxProposals = 255;  // the Proposal Num field is one octet
constexpr std::uint16_t kNone = 0;          // INTEG NONE, KE NONE, NO_ESN
constexpr std::uint16_t kEsn = static_cast<std::uint16_t>(iana::EsnId::esn);

constexpr std::uint8_t type_value(TransformType type) { return static_cast<std::uint8_t>(type); }

// --- strongSwan spelling ----------------------------------------------------

std::string number_name(std::uint16_t id) { return "(" + std::to_string(id) + ")"; }

// The IANA name without its prefix, or strongSwan's "(n)" for an ID the
// registry does not name.
std::string registry_name(TransformType type, std::uint16_t id, std::string_view prefix) {
  const std::string_view name = iana::transform_name(type, id);
  if (name.starts_with("UNKNOWN_") || name == "PRIVATE_USE") return number_name(id);
  if (!prefix.empty() && name.starts_with(prefix)) return std::string(name.substr(prefix.size()));
  return std::string(name);
}

// strongSwan's encryption_algorithm_names where they differ from the
// registry's words.
std::string encryption_name(std::uint16_t id) {
  switch (static_cast<iana::EncrId>(id)) {
    case iana::EncrId::des: return "DES_CBC";
    case iana::EncrId::triple_des: return "3DES_CBC";
    case iana::EncrId::rc5: return "RC5_CBC";
    case iana::EncrId::idea: return "IDEA_CBC";
    case iana::EncrId::cast: return "CAST_CBC";
    case iana::EncrId::blowfish: return "BLOWFISH_CBC";
    case iana::EncrId::null_auth_aes_gmac: return "NULL_AES_GMAC";
    default: return registry_name(TransformType::encryption, id, "ENCR_");
  }
}

// diffie_hellman_group_names of strongSwan 5.9.
std::string key_exchange_name(std::uint16_t id) {
  switch (static_cast<iana::KeId>(id)) {
    case iana::KeId::none: return "MODP_NONE";
    case iana::KeId::curve25519: return "CURVE_25519";
    case iana::KeId::curve448: return "CURVE_448";
    default: return registry_name(TransformType::key_exchange, id, "");
  }
}

std::string transform_id_name(std::uint8_t type, std::uint16_t id) {
  switch (static_cast<TransformType>(type)) {
    case TransformType::encryption: return encryption_name(id);
    case TransformType::prf: return registry_name(TransformType::prf, id, "");
    case TransformType::integrity:
      return id == kNone ? std::string("NONE") : registry_name(TransformType::integrity, id, "AUTH_");
    case TransformType::key_exchange: return key_exchange_name(id);
    case TransformType::esn:
      if (id == kNone) return "NO_EXT_SEQ";
      if (id == kEsn) return "EXT_SEQ";
      return number_name(id);
  }
  // RFC 9370 additional key exchanges, as strongSwan 6 prints them.
  if (type >= 6 && type <= 12) return "KE" + std::to_string(type - 5) + "_" + key_exchange_name(id);
  return "UNKNOWN_" + std::to_string(type) + "_" + std::to_string(id);
}

std::string transform_text(const wire::Transform& transform) {
  std::string text = transform_id_name(type_value(transform.type), transform.id);
  if (const auto bits = transform.key_length(); bits && *bits != 0) text += "_" + std::to_string(*bits);
  return text;
}

// strongSwan prints integrity before the PRF (proposal.c type_for_sort).
int print_rank(std::uint8_t type) {
  switch (static_cast<TransformType>(type)) {
    case TransformType::encryption: return 1;
    case TransformType::integrity: return 2;
    case TransformType::prf: return 3;
    case TransformType::key_exchange: return 4;
    case TransformType::esn: return 5;
  }
  return 10 + type;
}

std::string protocol_name(ProtocolId protocol) {
  switch (protocol) {
    case ProtocolId::none: return "PROTO_NONE";
    case ProtocolId::ike: return "IKE";
    case ProtocolId::ah: return "AH";
    case ProtocolId::esp: return "ESP";
  }
  return number_name(static_cast<std::uint16_t>(protocol));
}

std::string type_text(std::uint8_t type) {
  return std::to_string(type) + " (" + std::string(iana::transform_type_name(static_cast<TransformType>(type))) +
         ")";
}

// --- protocol rules ------------------------------------------------------------

bool kind_for(ProtocolId protocol, config::ProposalKind* kind) {
  switch (protocol) {
    case ProtocolId::ike: *kind = config::ProposalKind::ike; return true;
    case ProtocolId::esp: *kind = config::ProposalKind::esp; return true;
    case ProtocolId::ah: *kind = config::ProposalKind::ah; return true;
    case ProtocolId::none: break;
  }
  return false;
}

// RFC 7296 §3.3.3: which transform types each protocol negotiates.
bool type_negotiated_by(std::uint8_t type, ProtocolId protocol) {
  switch (static_cast<TransformType>(type)) {
    case TransformType::encryption: return protocol != ProtocolId::ah;
    case TransformType::prf: return protocol == ProtocolId::ike;
    case TransformType::integrity: return true;
    case TransformType::key_exchange: return true;
    case TransformType::esn: return protocol != ProtocolId::ike;
  }
  return false;
}

bool known_type(std::uint8_t type) { return type >= 1 && type <= 5; }

// The SPI size a proposal must have in this context, as RFC 7296 §3.3.1
// sets it.
std::size_t expected_spi_size(ProtocolId protocol, SelectFor context) {
  if (protocol != ProtocolId::ike) return 4;
  return context == SelectFor::ike_sa_init ? 0 : 8;
}

// The Key Length of a transform whose attributes are all understood (at
// most one Key Length in TV form, nothing else); nullopt otherwise
// (RFC 7296 §3.3.6: such a transform is rejected).
std::optional<std::uint16_t> usable_key_bits(const wire::Transform& transform) {
  std::optional<std::uint16_t> bits;
  for (const auto& attribute : transform.attributes) {
    if (attribute.type != iana::kAttributeKeyLength || !attribute.tv || bits) return std::nullopt;
    bits = attribute.value;
  }
  return bits.value_or(0);
}

wire::Transform make_transform(TransformType type, std::uint16_t id, std::uint16_t key_bits) {
  wire::Transform transform;
  transform.type = type;
  transform.id = id;
  if (key_bits != 0) {
    transform.attributes.push_back(
        wire::TransformAttribute{iana::kAttributeKeyLength, true, key_bits, {}});
  }
  return transform;
}

// --- matching ----------------------------------------------------------------------

struct Candidate {
  std::uint16_t id = 0;
  std::uint16_t key_bits = 0;
};

// An offered proposal sorted by type: which types it has, and its usable
// transforms per type in offer order.
struct Offer {
  std::array<bool, 6> has{};
  std::array<std::vector<Candidate>, 6> usable;

  bool offers(TransformType type, std::uint16_t id) const {
    const auto& list = usable[type_value(type)];
    return std::any_of(list.begin(), list.end(), [id](const Candidate& c) { return c.id == id; });
  }
};

// Why an offered proposal cannot be considered at all, or nothing.
std::optional<std::string> check_offered(const wire::Proposal& proposal, ProtocolId protocol,
                                         SelectFor context) {
  const std::size_t spi_size = expected_spi_size(protocol, context);
  if (proposal.spi.size() != spi_size) {
    return "SPI of " + std::to_string(proposal.spi.size()) + " bytes, " +
           std::to_string(spi_size) + " expected here (RFC 7296 §3.3.1)";
  }
  for (const auto& transform : proposal.transforms) {
    const std::uint8_t type = type_value(transform.type);
    if (!known_type(type)) {
      return "transform type " + type_text(type) + " not supported (RFC 7296 §3.3.6)";
    }
    if (!type_negotiated_by(type, protocol)) {
      return "transform type " + type_text(type) + " is not negotiated by " + protocol_name(protocol) +
             " (RFC 7296 §3.3.3)";
    }
  }
  return std::nullopt;
}

Offer sort_offer(const wire::Proposal& proposal) {
  Offer offer;
  for (const auto& transform : proposal.transforms) {
    const std::uint8_t type = type_value(transform.type);
    if (!known_type(type)) continue;
    offer.has[type] = true;
    if (const auto bits = usable_key_bits(transform)) {
      offer.usable[type].push_back(Candidate{transform.id, *bits});
    }
  }
  return offer;
}

// strongSwan's select_algo: the first configured transform (configured
// order) the offer has with the same ID and Key Length. `prefer` (an ID,
// or -1 for none) wins when both sides have it.
std::optional<Candidate> pick(const std::vector<config::Transform>& configured,
                              const std::vector<Candidate>& offered, int prefer = -1, bool skip_none = false) {
  auto in_offer = [&offered](std::uint16_t id, std::uint16_t bits) {
    return std::any_of(offered.begin(), offered.end(),
                       [&](const Candidate& c) { return c.id == id && c.key_bits == bits; });
  };
  if (prefer >= 0) {
    for (const auto& c : configured) {
      if (c.id == prefer && in_offer(c.id, c.key_bits)) return Candidate{c.id, c.key_bits};
    }
  }
  for (const auto& c : configured) {
    if (skip_none && c.id == kNone) continue;
    if (in_offer(c.id, c.key_bits)) return Candidate{c.id, c.key_bits};
  }
  return std::nullopt;
}

std::vector<config::Transform> esn_or_default(const config::Proposal& proposal) {
  if (!proposal.esn.empty()) return proposal.esn;
  return {config::Transform{TransformType::esn, kNone, 0}};
}

std::optional<Selected> match(const config::Proposal& configured, const wire::Proposal& proposal,
                              const Offer& offer, ProtocolId protocol, SelectFor context,
                              std::optional<iana::KeId> prefer_ke) {
  Selected selected;
  std::vector<wire::Transform> chosen;
  auto add = [&chosen](TransformType type, const Candidate& c) {
    chosen.push_back(make_transform(type, c.id, c.key_bits));
  };
  const auto& usable = offer.usable;

  bool aead = false;
  if (protocol != ProtocolId::ah) {
    const auto encryption = pick(configured.encryption, usable[type_value(TransformType::encryption)]);
    if (!encryption) return std::nullopt;
    add(TransformType::encryption, *encryption);
    selected.encryption = encryption->id;
    selected.key_bits = encryption->key_bits;
    aead = iana::encryption_is_aead(encryption->id);
  }

  if (protocol == ProtocolId::ike) {
    const auto prf = pick(configured.prf, usable[type_value(TransformType::prf)]);
    if (!prf) return std::nullopt;
    add(TransformType::prf, *prf);
    selected.prf = static_cast<iana::PrfId>(prf->id);
  }

  if (aead) {
    // A combined-mode cipher needs no integrity algorithm (RFC 7296 §3.3);
    // strongSwan skips the type. An offered NONE is echoed so the answer
    // has one transform of each offered type.
    if (offer.offers(TransformType::integrity, kNone)) add(TransformType::integrity, Candidate{});
  } else {
    const auto integrity = pick(configured.integrity, usable[type_value(TransformType::integrity)]);
    if (!integrity) return std::nullopt;
    add(TransformType::integrity, *integrity);
    selected.integrity = integrity->id;
  }

  const auto& offered_ke = usable[type_value(TransformType::key_exchange)];
  const int prefer = prefer_ke ? static_cast<int>(*prefer_ke) : -1;
  if (protocol == ProtocolId::ike) {
    const auto group = pick(configured.key_exchange, offered_ke, prefer, /*skip_none=*/true);
    if (!group) return std::nullopt;
    add(TransformType::key_exchange, *group);
    selected.key_exchange = static_cast<iana::KeId>(group->id);
  } else if (context != SelectFor::ike_auth_child) {
    const auto& ke = configured.key_exchange;
    const bool config_has_ke = !ke.empty();
    const bool config_allows_none =
        std::any_of(ke.begin(), ke.end(), [](const config::Transform& t) { return t.id == kNone; });
    if (!offer.has[type_value(TransformType::key_exchange)]) {
      // The peer offers no PFS: fine unless we require it.
      if (config_has_ke && !config_allows_none) return std::nullopt;
    } else if (!config_has_ke) {
      // We do not do PFS: only if the peer makes it optional.
      if (!offer.offers(TransformType::key_exchange, kNone)) return std::nullopt;
      add(TransformType::key_exchange, Candidate{});
    } else {
      const auto group = pick(ke, offered_ke, prefer);
      if (!group) return std::nullopt;
      add(TransformType::key_exchange, *group);
      if (group->id != kNone) selected.key_exchange = static_cast<iana::KeId>(group->id);
    }
  }
  // In IKE_AUTH the Child SA's KE transforms are ignored (RFC 7296 §1.2).

  if (protocol != ProtocolId::ike) {
    if (!offer.has[type_value(TransformType::esn)]) return std::nullopt;
    const auto esn = pick(esn_or_default(configured), usable[type_value(TransformType::esn)]);
    if (!esn) return std::nullopt;
    add(TransformType::esn, *esn);
    selected.esn = esn->id == kEsn;
  }

  selected.proposal.number = proposal.number;
  selected.proposal.protocol = proposal.protocol;
  selected.proposal.spi = proposal.spi;
  selected.proposal.transforms = std::move(chosen);
  return selected;
}

// The views of a Selected from its proposal (accept_response()).
void fill_views(Selected* selected) {
  for (const auto& transform : selected->proposal.transforms) {
    switch (transform.type) {
      case TransformType::encryption:
        selected->encryption = transform.id;
        selected->key_bits = transform.key_length().value_or(0);
        break;
      case TransformType::prf: selected->prf = static_cast<iana::PrfId>(transform.id); break;
      case TransformType::integrity: selected->integrity = transform.id; break;
      case TransformType::key_exchange:
        if (transform.id != kNone) selected->key_exchange = static_cast<iana::KeId>(transform.id);
        break;
      case TransformType::esn: selected->esn = transform.id == kEsn; break;
    }
  }
}

}  // namespace

// --- SA payload from config ------------------------------------------------------------

wire::SecurityAssociation to_sa_payload(std::span<const config::Proposal> proposals, ProtocolId protocol,
                                        std::span<const std::uint8_t> spi, SelectFor context) {
  wire::SecurityAssociation sa;
  config::ProposalKind kind{};
  if (!kind_for(protocol, &kind)) return sa;
  for (const auto& proposal : proposals) {
    if (proposal.kind != kind) continue;
    if (sa.proposals.size() == kMaxProposals) break;
    wire::Proposal out;
    out.number = static_cast<std::uint8_t>(sa.proposals.size() + 1);
    out.protocol = protocol;
    out.spi.assign(spi.begin(), spi.end());
    auto add_all = [&out](const std::vector<config::Transform>& list, bool skip_none) {
      for (const auto& t : list) {
        if (skip_none && t.id == kNone) continue;
        out.transforms.push_back(make_transform(t.type, t.id, t.key_bits));
      }
    };
    if (protocol != ProtocolId::ah) add_all(proposal.encryption, false);
    if (protocol == ProtocolId::ike) add_all(proposal.prf, false);
    add_all(proposal.integrity, false);
    if (protocol == ProtocolId::ike) {
      add_all(proposal.key_exchange, /*skip_none=*/true);  // IKE_SA_INIT always has a KE
    } else if (context != SelectFor::ike_auth_child) {
      add_all(proposal.key_exchange, false);
    }
    if (protocol != ProtocolId::ike) add_all(esn_or_default(proposal), false);
    sa.proposals.push_back(std::move(out));
  }
  return sa;
}

// --- Selected ----------------------------------------------------------------------------

wire::Proposal Selected::for_response(std::span<const std::uint8_t> own_spi) const {
  wire::Proposal out = proposal;
  out.spi.assign(own_spi.begin(), own_spi.end());
  return out;
}

wire::IkeSuite Selected::ike_suite() const {
  wire::IkeSuite suite;
  suite.encryption = encryption;
  suite.key_bits = key_bits;
  suite.integrity = integrity;
  suite.prf = prf.value_or(iana::PrfId::hmac_sha2_256);
  return suite;
}

wire::ChildSuite Selected::child_suite() const {
  wire::ChildSuite suite;
  suite.encryption = encryption;
  suite.key_bits = key_bits;
  suite.integrity = integrity;
  return suite;
}

std::string Selected::to_string() const { return describe(proposal); }

// --- describe ----------------------------------------------------------------------------

std::string describe(const wire::Proposal& proposal) {
  std::vector<const wire::Transform*> order;
  order.reserve(proposal.transforms.size());
  for (const auto& transform : proposal.transforms) order.push_back(&transform);
  std::stable_sort(order.begin(), order.end(), [](const wire::Transform* a, const wire::Transform* b) {
    return print_rank(type_value(a->type)) < print_rank(type_value(b->type));
  });
  std::string text = protocol_name(proposal.protocol) + ":";
  bool first = true;
  for (const auto* transform : order) {
    if (!first) text += '/';
    first = false;
    text += transform_text(*transform);
  }
  return text;
}

std::string describe(const wire::SecurityAssociation& sa) {
  std::string text;
  for (const auto& proposal : sa.proposals) {
    if (!text.empty()) text += ", ";
    text += describe(proposal);
  }
  return text;
}

// --- responder ---------------------------------------------------------------------------

SelectExpected<Selected> select_proposal(const wire::SecurityAssociation& offered,
                                         std::span<const config::Proposal> configured, ProtocolId protocol,
                                         SelectFor context, std::optional<iana::KeId> prefer_ke) {
  config::ProposalKind kind{};
  if (!kind_for(protocol, &kind)) {
    return SelectError{"no acceptable proposal: protocol " + protocol_name(protocol) +
                       " cannot be negotiated"};
  }
  if ((context == SelectFor::ike_sa_init && protocol != ProtocolId::ike) ||
      (context == SelectFor::ike_auth_child && protocol == ProtocolId::ike)) {
    return SelectError{"no acceptable proposal: " + protocol_name(protocol) +
                       " proposals cannot be negotiated in " +
                       (context == SelectFor::ike_sa_init ? "IKE_SA_INIT" : "IKE_AUTH")};
  }

  // Sort every offered proposal once; remember why some cannot be used.
  std::vector<std::optional<Offer>> offers;
  std::string ignored;
  offers.reserve(offered.proposals.size());
  for (const auto& proposal : offered.proposals) {
    if (proposal.protocol != protocol) {
      offers.emplace_back();  // another protocol: the list below shows it
      continue;
    }
    if (auto why = check_offered(proposal, protocol, context)) {
      ignored += "; received proposal " + std::to_string(proposal.number) + " ignored: " + *why;
      offers.emplace_back();
      continue;
    }
    offers.emplace_back(sort_offer(proposal));
  }

  bool any_configured = false;
  for (const auto& config_proposal : configured) {
    if (config_proposal.kind != kind) continue;
    any_configured = true;
    for (std::size_t i = 0; i < offered.proposals.size(); ++i) {
      if (!offers[i]) continue;
      if (auto selected = match(config_proposal, offered.proposals[i], *offers[i], protocol, context, prefer_ke)) {
        return std::move(*selected);
      }
    }
  }

  std::string message = "no acceptable proposal: received ";
  message += offered.proposals.empty() ? std::string("no proposals") : describe(offered);
  if (any_configured) {
    message += ", configured " + describe(to_sa_payload(configured, protocol, {}, context));
  } else {
    message += ", but no " + protocol_name(protocol) + " proposals are configured";
  }
  message += ignored;
  return SelectError{std::move(message)};
}

// --- initiator ---------------------------------------------------------------------------

SelectExpected<Selected> accept_response(const wire::SecurityAssociation& sent,
                                         const wire::SecurityAssociation& response, ProtocolId protocol) {
  auto fail = [&](const std::string& what) {
    return SelectError{"unacceptable proposal in response: " + what + "; received " +
                       (response.proposals.empty() ? std::string("no proposals") : describe(response)) +
                       ", sent " + describe(sent)};
  };
  if (response.proposals.size() != 1) {
    return fail(std::to_string(response.proposals.size()) +
                " proposals, a response carries exactly one (RFC 7296 §2.7)");
  }
  const wire::Proposal& answer = response.proposals.front();
  if (answer.protocol != protocol) {
    return fail("protocol " + protocol_name(answer.protocol) + ", " + protocol_name(protocol) + " expected");
  }
  const auto ours = std::find_if(sent.proposals.begin(), sent.proposals.end(), [&](const wire::Proposal& p) {
    return p.number == answer.number && p.protocol == answer.protocol;
  });
  if (ours == sent.proposals.end()) {
    return fail("proposal number " + std::to_string(answer.number) + " was never sent");
  }
  const std::size_t spi_size = protocol == ProtocolId::ike ? ours->spi.size() : 4;
  if (answer.spi.size() != spi_size) {
    return fail("SPI of " + std::to_string(answer.spi.size()) + " bytes, " + std::to_string(spi_size) +
                " expected");
  }

  const Offer offer = sort_offer(*ours);
  std::array<int, 256> count{};
  bool aead = false;
  for (const auto& transform : answer.transforms) {
    if (transform.type == TransformType::encryption && iana::encryption_is_aead(transform.id)) aead = true;
  }
  for (const auto& transform : answer.transforms) {
    const std::uint8_t type = type_value(transform.type);
    if (++count[type] > 1) {
      return fail("more than one transform of type " + type_text(type) + " (RFC 7296 §2.7: exactly one)");
    }
    const auto bits = usable_key_bits(transform);
    if (!bits) return fail("transform " + transform_text(transform) + " carries an unknown attribute");
    // An AEAD answer may carry INTEG NONE (RFC 7296 §3.3), offered or not.
    if (aead && transform.type == TransformType::integrity && transform.id == kNone) continue;
    if (!known_type(type) || !offer.has[type]) {
      return fail("transform type " + type_text(type) + " was not offered in proposal " +
                  std::to_string(answer.number));
    }
    const auto& usable = offer.usable[type];
    const bool offered_it = std::any_of(usable.begin(), usable.end(), [&](const Candidate& c) {
      return c.id == transform.id && c.key_bits == *bits;
    });
    if (!offered_it) {
      return fail(transform_text(transform) + " was not offered in proposal " + std::to_string(answer.number));
    }
  }
  for (std::uint8_t type = 1; type <= 5; ++type) {
    if (!offer.has[type] || count[type] != 0) continue;
    if (type == type_value(TransformType::integrity) && aead) continue;
    if (type == type_value(TransformType::key_exchange) && offer.offers(TransformType::key_exchange, kNone)) {
      continue;  // no PFS, which we offered as acceptable
    }
    return fail("no transform of type " + type_text(type) + ", which was offered");
  }

  Selected selected;
  selected.proposal = answer;
  fill_views(&selected);
  return selected;
}

// --- key exchange groups -------------------------------------------------------------------

std::optional<iana::KeId> first_key_exchange(std::span<const config::Proposal> proposals) {
  for (const auto& proposal : proposals) {
    if (proposal.key_exchange.empty()) continue;
    const std::uint16_t id = proposal.key_exchange.front().id;
    if (id == kNone) return std::nullopt;
    return static_cast<iana::KeId>(id);
  }
  return std::nullopt;
}

bool proposal_allows_group(const wire::SecurityAssociation& sa, iana::KeId group) {
  const auto id = static_cast<std::uint16_t>(group);
  return std::any_of(sa.proposals.begin(), sa.proposals.end(), [id](const wire::Proposal& p) {
    return std::any_of(p.transforms.begin(), p.transforms.end(), [id](const wire::Transform& t) {
      return t.type == TransformType::key_exchange && t.id == id;
    });
  });
}

wire::SecurityAssociation promote_group(wire::SecurityAssociation sa, iana::KeId group) {
  const auto id = static_cast<std::uint16_t>(group);
  auto is_group = [id](const wire::Transform& t) { return t.type == TransformType::key_exchange && t.id == id; };
  std::vector<wire::Proposal> with;
  std::vector<wire::Proposal> without;
  for (auto& proposal : sa.proposals) {
    auto& transforms = proposal.transforms;
    const auto it = std::find_if(transforms.begin(), transforms.end(), is_group);
    if (it == transforms.end()) {
      without.push_back(std::move(proposal));
      continue;
    }
    // Put the group where the first KE transform was, the other KE
    // transforms after it in their order.
    const auto first_ke = std::find_if(transforms.begin(), transforms.end(), [](const wire::Transform& t) {
      return t.type == TransformType::key_exchange;
    });
    std::rotate(first_ke, it, std::next(it));
    with.push_back(std::move(proposal));
  }
  sa.proposals = std::move(with);
  for (auto& proposal : without) sa.proposals.push_back(std::move(proposal));
  for (std::size_t i = 0; i < sa.proposals.size(); ++i) {
    sa.proposals[i].number = static_cast<std::uint8_t>(i + 1);
  }
  return sa;
}

std::optional<iana::KeId> group_for_retry(const Selected& selected, std::optional<iana::KeId> ke_payload_group) {
  if (!selected.key_exchange) return std::nullopt;
  if (ke_payload_group == selected.key_exchange) return std::nullopt;
  return selected.key_exchange;
}

}  // namespace corridor::control::ike
