// Which payloads each IKEv2 message may and must carry (RFC 7296 §1.2-1.5,
// §2.16 for EAP, RFC 7383 for SKF, RFC 6023 for childless IKE_AUTH), kept as
// data and checked before any exchange handler runs.
//
// Every exchange but IKE_SA_INIT is protected: its outer payload list must
// be one SK or SKF payload, last (check_payloads), and the decrypted inner
// list is checked separately (check_inner_payloads). A message is accepted
// if it fits one of the shapes listed for it (for example an IKE_SA_INIT
// response is either "SA KE Nr [CERTREQ] [N+]" or only notifications such
// as INVALID_KE_PAYLOAD or COOKIE); a rejection reports its violation of
// the first shape. Payload types the codec does not know (UnknownPayload,
// non-critical by construction) are ignored, as RFC 7296 §2.5 says.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/iana/ikev2_message.h"

namespace corridor::ike {

inline constexpr std::uint8_t kAnyNumber = 255;

struct PayloadRule {
  iana::PayloadType type;
  std::uint8_t min;  // required count
  std::uint8_t max;  // kAnyNumber: no limit
};

struct MessageShape {
  std::string_view name;  // e.g. "IKE_SA_INIT response (notification only)"
  std::span<const PayloadRule> rules;
  // Payloads that come all together or not at all (SA, TSi, TSr of a Child SA).
  std::span<const iana::PayloadType> together;
};

enum class ViolationKind : std::uint8_t {
  unknown_exchange,  // no rules for this exchange type
  missing,           // a required payload is absent
  too_many,          // more of a payload than allowed
  not_allowed,       // a payload this message may not carry
  not_together,      // one of SA/TSi/TSr without the others
  not_encrypted,     // protected exchange whose outer list is not a single SK/SKF
  sk_not_last,       // SK/SKF followed by another payload
};

std::string_view to_string(ViolationKind kind);

struct Violation {
  ViolationKind kind = ViolationKind::missing;
  iana::PayloadType payload = iana::PayloadType::no_next_payload;
  std::string message;  // e.g. "IKE_SA_INIT request: KE missing"
};

// The shapes of one message, nullopt-equivalent (empty span) if none.
std::span<const MessageShape> shapes_for(iana::ExchangeType exchange, bool is_request);

// The outer payload list of a received message. IKE_SA_INIT: checked
// against its shapes. Protected exchanges: exactly one SK or SKF, last.
// nullopt when the list is acceptable, else the first violation.
std::optional<Violation> check_payloads(iana::ExchangeType exchange, bool is_request,
                                        std::span<const iana::PayloadType> types);

// The decrypted inner payload list of a protected exchange.
std::optional<Violation> check_inner_payloads(iana::ExchangeType exchange, bool is_request,
                                              std::span<const iana::PayloadType> types);

}  // namespace corridor::ike
