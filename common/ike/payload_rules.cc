#include "common/ike/payload_rules.h"

#include <array>
#include <string>

#include "common/ike/message.h"

namespace corridor::ike {

using iana::ExchangeType;
using P = iana::PayloadType;

namespace {

constexpr std::uint8_t kAny = kAnyNumber;

// RFC 7296 §1.2: HDR, SAi1, KEi, Ni (N(COOKIE) first on a retry; status
// notifications such as NAT_DETECTION_* and V anywhere).
constexpr PayloadRule kInitRequest[] = {
    {P::security_association, 1, 1}, {P::key_exchange, 1, 1}, {P::nonce, 1, 1},
    {P::notify, 0, kAny},             {P::vendor_id, 0, kAny},
};
// HDR, SAr1, KEr, Nr, [CERTREQ].
constexpr PayloadRule kInitResponse[] = {
    {P::security_association, 1, 1}, {P::key_exchange, 1, 1}, {P::nonce, 1, 1},
    {P::certificate_request, 0, kAny}, {P::notify, 0, kAny},   {P::vendor_id, 0, kAny},
};
// INVALID_KE_PAYLOAD, COOKIE, NO_PROPOSAL_CHOSEN... (§1.2, §2.6, §2.7).
constexpr PayloadRule kNotifyOnly[] = {
    {P::notify, 1, kAny},
    {P::vendor_id, 0, kAny},
};

// §1.2: SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr}; AUTH is
// absent when the initiator wants EAP (§2.16); SA/TSi/TSr absent for a
// childless IKE SA (RFC 6023); CP for remote access (§2.19).
constexpr PayloadRule kAuthRequest[] = {
    {P::identification_initiator, 1, 1}, {P::certificate, 0, kAny},  {P::certificate_request, 0, kAny},
    {P::identification_responder, 0, 1}, {P::authentication, 0, 1},  {P::configuration, 0, 1},
    {P::security_association, 0, 1},     {P::traffic_selector_initiator, 0, 1},
    {P::traffic_selector_responder, 0, 1}, {P::notify, 0, kAny},     {P::vendor_id, 0, kAny},
};
// §2.16: later EAP rounds carry EAP, the last request AUTH alone.
constexpr PayloadRule kAuthRequestEap[] = {
    {P::extensible_authentication, 1, 1},
    {P::notify, 0, kAny},
    {P::vendor_id, 0, kAny},
};
constexpr PayloadRule kAuthRequestFinal[] = {
    {P::authentication, 1, 1},
    {P::notify, 0, kAny},
    {P::vendor_id, 0, kAny},
};
// SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}; with EAP the first response is
// SK {IDr, [CERT,] AUTH, EAP}.
constexpr PayloadRule kAuthResponse[] = {
    {P::identification_responder, 1, 1}, {P::certificate, 0, kAny},
    {P::authentication, 1, 1},           {P::extensible_authentication, 0, 1},
    {P::configuration, 0, 1},            {P::security_association, 0, 1},
    {P::traffic_selector_initiator, 0, 1}, {P::traffic_selector_responder, 0, 1},
    {P::notify, 0, kAny},                {P::vendor_id, 0, kAny},
};
constexpr PayloadRule kAuthResponseEap[] = {
    {P::extensible_authentication, 1, 1},
    {P::notify, 0, kAny},
    {P::vendor_id, 0, kAny},
};
// §2.16: the last response after EAP: SK {AUTH, SAr2, TSi, TSr}.
constexpr PayloadRule kAuthResponseFinal[] = {
    {P::authentication, 1, 1},           {P::configuration, 0, 1},
    {P::security_association, 0, 1},     {P::traffic_selector_initiator, 0, 1},
    {P::traffic_selector_responder, 0, 1}, {P::notify, 0, kAny},
    {P::vendor_id, 0, kAny},
};

// §1.3.1 / §1.3.2: SK {[N(REKEY_SA)], SA, Ni, [KEi], [TSi, TSr]}; an IKE SA
// rekey carries KE and no TS.
constexpr PayloadRule kCreateChild[] = {
    {P::security_association, 1, 1},       {P::nonce, 1, 1},
    {P::key_exchange, 0, 1},               {P::traffic_selector_initiator, 0, 1},
    {P::traffic_selector_responder, 0, 1}, {P::notify, 0, kAny},
    {P::vendor_id, 0, kAny},
};

// §1.4: SK {[N,] [D,] [CP,] ...}; an empty SK is a liveness check.
constexpr PayloadRule kInformational[] = {
    {P::notify, 0, kAny},
    {P::delete_, 0, kAny},
    {P::configuration, 0, 1},
    {P::vendor_id, 0, kAny},
};

constexpr P kChildTriple[] = {P::security_association, P::traffic_selector_initiator,
                              P::traffic_selector_responder};
constexpr P kTsPair[] = {P::traffic_selector_initiator, P::traffic_selector_responder};

const MessageShape kInitRequestShapes[] = {{"IKE_SA_INIT request", kInitRequest, {}}};
const MessageShape kInitResponseShapes[] = {
    {"IKE_SA_INIT response", kInitResponse, {}},
    {"IKE_SA_INIT response (notification only)", kNotifyOnly, {}},
};
const MessageShape kAuthRequestShapes[] = {
    {"IKE_AUTH request", kAuthRequest, kChildTriple},
    {"IKE_AUTH request (EAP)", kAuthRequestEap, {}},
    {"IKE_AUTH request (AUTH after EAP)", kAuthRequestFinal, {}},
};
const MessageShape kAuthResponseShapes[] = {
    {"IKE_AUTH response", kAuthResponse, kChildTriple},
    {"IKE_AUTH response (EAP)", kAuthResponseEap, {}},
    {"IKE_AUTH response (AUTH after EAP)", kAuthResponseFinal, kChildTriple},
    {"IKE_AUTH response (notification only)", kNotifyOnly, {}},
};
const MessageShape kCreateChildRequestShapes[] = {{"CREATE_CHILD_SA request", kCreateChild, kTsPair}};
const MessageShape kCreateChildResponseShapes[] = {
    {"CREATE_CHILD_SA response", kCreateChild, kTsPair},
    {"CREATE_CHILD_SA response (notification only)", kNotifyOnly, {}},
};
const MessageShape kInformationalRequestShapes[] = {{"INFORMATIONAL request", kInformational, {}}};
const MessageShape kInformationalResponseShapes[] = {{"INFORMATIONAL response", kInformational, {}}};

std::string name_of(P type) { return std::string(iana::payload_type_name(type)); }

std::optional<Violation> check_shape(const MessageShape& shape, std::span<const P> types) {
  std::array<std::uint16_t, 256> count{};
  for (P t : types) {
    if (!codec_knows(t)) continue;  // RFC 7296 §2.5: skip what we do not understand
    const PayloadRule* rule = nullptr;
    for (const PayloadRule& r : shape.rules) {
      if (r.type == t) rule = &r;
    }
    if (rule == nullptr) {
      return Violation{ViolationKind::not_allowed, t, std::string(shape.name) + ": " + name_of(t) + " not allowed"};
    }
    const auto n = ++count[static_cast<std::uint8_t>(t)];
    if (rule->max != kAny && n > rule->max) {
      return Violation{ViolationKind::too_many, t,
                       std::string(shape.name) + ": more than " + std::to_string(rule->max) + " " + name_of(t)};
    }
  }
  for (const PayloadRule& r : shape.rules) {
    if (count[static_cast<std::uint8_t>(r.type)] < r.min) {
      return Violation{ViolationKind::missing, r.type, std::string(shape.name) + ": " + name_of(r.type) + " missing"};
    }
  }
  bool any = false;
  for (P t : shape.together) any = any || count[static_cast<std::uint8_t>(t)] > 0;
  if (any) {
    for (P t : shape.together) {
      if (count[static_cast<std::uint8_t>(t)] == 0) {
        return Violation{ViolationKind::not_together, t,
                         std::string(shape.name) + ": " + name_of(t) + " missing while its companions are present"};
      }
    }
  }
  return std::nullopt;
}

Violation no_rules(ExchangeType exchange) {
  return Violation{ViolationKind::unknown_exchange, P::no_next_payload,
                   "no payload rules for exchange type " + std::to_string(static_cast<unsigned>(exchange)) + " (" +
                       std::string(iana::exchange_type_name(exchange)) + ")"};
}

}  // namespace

std::string_view to_string(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::unknown_exchange: return "unknown_exchange";
    case ViolationKind::missing: return "missing";
    case ViolationKind::too_many: return "too_many";
    case ViolationKind::not_allowed: return "not_allowed";
    case ViolationKind::not_together: return "not_together";
    case ViolationKind::not_encrypted: return "not_encrypted";
    case ViolationKind::sk_not_last: return "sk_not_last";
  }
  return "unknown";
}

std::span<const MessageShape> shapes_for(ExchangeType exchange, bool is_request) {
  switch (exchange) {
    case ExchangeType::ike_sa_init: return is_request ? std::span<const MessageShape>(kInitRequestShapes) : std::span<const MessageShape>(kInitResponseShapes);
    case ExchangeType::ike_auth: return is_request ? std::span<const MessageShape>(kAuthRequestShapes) : std::span<const MessageShape>(kAuthResponseShapes);
    case ExchangeType::create_child_sa: return is_request ? std::span<const MessageShape>(kCreateChildRequestShapes) : std::span<const MessageShape>(kCreateChildResponseShapes);
    case ExchangeType::informational: return is_request ? std::span<const MessageShape>(kInformationalRequestShapes) : std::span<const MessageShape>(kInformationalResponseShapes);
    default: return {};
  }
}

std::optional<Violation> check_payloads(ExchangeType exchange, bool is_request, std::span<const P> types) {
  if (exchange == ExchangeType::ike_sa_init) return check_inner_payloads(exchange, is_request, types);
  if (shapes_for(exchange, is_request).empty()) return no_rules(exchange);
  const std::string what = std::string(iana::exchange_type_name(exchange)) + (is_request ? " request" : " response");
  std::size_t encrypted = 0;
  for (std::size_t i = 0; i < types.size(); ++i) {
    const P t = types[i];
    if (!codec_knows(t)) continue;
    if (t == P::encrypted_and_authenticated || t == P::encrypted_fragment) {
      if (i + 1 != types.size()) {
        return Violation{ViolationKind::sk_not_last, t, what + ": " + name_of(t) + " is not the last payload"};
      }
      ++encrypted;
      continue;
    }
    return Violation{ViolationKind::not_encrypted, t, what + ": " + name_of(t) + " outside the SK payload"};
  }
  if (encrypted == 0) {
    return Violation{ViolationKind::not_encrypted, P::encrypted_and_authenticated, what + ": SK missing"};
  }
  return std::nullopt;
}

std::optional<Violation> check_inner_payloads(ExchangeType exchange, bool is_request, std::span<const P> types) {
  const auto shapes = shapes_for(exchange, is_request);
  if (shapes.empty()) return no_rules(exchange);
  std::optional<Violation> first;
  for (const MessageShape& shape : shapes) {
    auto v = check_shape(shape, types);
    if (!v) return std::nullopt;
    if (!first) first = std::move(v);
  }
  return first;
}

}  // namespace corridor::ike
