// The payload rules of RFC 7296 §1.2-1.5: what each message may carry.
// Payload type numbers are the RFC's literals (§3.2).
#include <gtest/gtest.h>

#include <vector>

#include "common/ike/message.h"
#include "common/ike/payload_rules.h"
#include "tests/unit/ike/ike_test_support.h"

namespace {

using corridor::iana::ExchangeType;
using corridor::iana::PayloadType;
using corridor::ike::check_inner_payloads;
using corridor::ike::check_payloads;
using corridor::ike::ViolationKind;

constexpr auto SA = static_cast<PayloadType>(33), KE = static_cast<PayloadType>(34),
               IDi = static_cast<PayloadType>(35), IDr = static_cast<PayloadType>(36),
               CERT = static_cast<PayloadType>(37), CERTREQ = static_cast<PayloadType>(38),
               AUTH = static_cast<PayloadType>(39), NONCE = static_cast<PayloadType>(40),
               N = static_cast<PayloadType>(41), D = static_cast<PayloadType>(42), V = static_cast<PayloadType>(43),
               TSi = static_cast<PayloadType>(44), TSr = static_cast<PayloadType>(45),
               SK = static_cast<PayloadType>(46), CP = static_cast<PayloadType>(47),
               EAP = static_cast<PayloadType>(48), SKF = static_cast<PayloadType>(53),
               UNKNOWN = static_cast<PayloadType>(200);

constexpr auto kInit = ExchangeType::ike_sa_init;
constexpr auto kAuth = ExchangeType::ike_auth;
constexpr auto kChild = ExchangeType::create_child_sa;
constexpr auto kInfo = ExchangeType::informational;

using Types = std::vector<PayloadType>;

std::optional<corridor::ike::Violation> outer(ExchangeType e, bool request, const Types& types) {
  return check_payloads(e, request, types);
}
std::optional<corridor::ike::Violation> inner(ExchangeType e, bool request, const Types& types) {
  return check_inner_payloads(e, request, types);
}

void expect_ok(std::optional<corridor::ike::Violation> v) {
  EXPECT_FALSE(v.has_value()) << (v ? v->message : "");
}

void expect_violation(std::optional<corridor::ike::Violation> v, ViolationKind kind, PayloadType payload) {
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->kind, kind) << v->message;
  EXPECT_EQ(v->payload, payload) << v->message;
  EXPECT_FALSE(v->message.empty());
}

TEST(PayloadRules, StrongSwanInitRequestFromTheWire) {
  auto m = corridor::ike::parse_message(corridor::ike::test::from_hex(corridor::ike::test::strongswan_init_request_hex()));
  ASSERT_TRUE(m.ok());
  Types types;
  for (const auto& p : m->payloads) types.push_back(p.type);
  expect_ok(outer(kInit, true, types));
  // The same list is not a valid IKE_AUTH message (not encrypted).
  expect_violation(outer(kAuth, true, types), ViolationKind::not_encrypted, SA);
}

TEST(PayloadRules, IkeSaInit) {
  expect_ok(outer(kInit, true, {N, SA, KE, NONCE, N, N, V}));  // COOKIE retry
  expect_violation(outer(kInit, true, {SA, NONCE}), ViolationKind::missing, KE);
  expect_violation(outer(kInit, true, {SA, KE, NONCE, NONCE}), ViolationKind::too_many, NONCE);
  expect_violation(outer(kInit, true, {SA, KE, NONCE, SK}), ViolationKind::not_allowed, SK);
  expect_violation(outer(kInit, true, {SA, KE, NONCE, CERTREQ}), ViolationKind::not_allowed, CERTREQ);
  expect_ok(outer(kInit, false, {SA, KE, NONCE, CERTREQ, N, N, V}));
  // INVALID_KE_PAYLOAD / COOKIE / NO_PROPOSAL_CHOSEN responses.
  expect_ok(outer(kInit, false, {N}));
  expect_violation(outer(kInit, false, {}), ViolationKind::missing, SA);
  expect_violation(outer(kInit, false, {SA, NONCE, N}), ViolationKind::missing, KE);
  // Unknown (non-critical) payloads are skipped.
  expect_ok(outer(kInit, true, {SA, UNKNOWN, KE, NONCE}));
}

TEST(PayloadRules, ProtectedExchangesAreOneSkLast) {
  for (auto exchange : {kAuth, kChild, kInfo}) {
    for (bool request : {true, false}) {
      expect_ok(outer(exchange, request, {SK}));
      expect_ok(outer(exchange, request, {SKF}));
      expect_ok(outer(exchange, request, {UNKNOWN, SK}));
      expect_violation(outer(exchange, request, {}), ViolationKind::not_encrypted, SK);
      expect_violation(outer(exchange, request, {N}), ViolationKind::not_encrypted, N);
      expect_violation(outer(exchange, request, {V, SK}), ViolationKind::not_encrypted, V);
      expect_violation(outer(exchange, request, {SK, N}), ViolationKind::sk_not_last, SK);
    }
  }
}

TEST(PayloadRules, IkeAuth) {
  // strongSwan 5.9.8's request (PEERS.md).
  expect_ok(inner(kAuth, true, {IDi, N, IDr, AUTH, SA, TSi, TSr, N, N, N, N, N}));
  expect_ok(inner(kAuth, true, {IDi, CERT, CERT, CERTREQ, AUTH, SA, TSi, TSr}));
  expect_ok(inner(kAuth, true, {IDi, AUTH}));           // childless (RFC 6023)
  expect_ok(inner(kAuth, true, {IDi, SA, TSi, TSr}));   // EAP requested (§2.16)
  expect_ok(inner(kAuth, true, {EAP}));
  expect_ok(inner(kAuth, true, {AUTH}));
  expect_violation(inner(kAuth, true, {IDi, AUTH, SA, TSi}), ViolationKind::not_together, TSr);
  expect_violation(inner(kAuth, true, {IDi, IDi, AUTH}), ViolationKind::too_many, IDi);
  expect_violation(inner(kAuth, true, {IDi, AUTH, KE}), ViolationKind::not_allowed, KE);
  expect_violation(inner(kAuth, true, {IDi, AUTH, SK}), ViolationKind::not_allowed, SK);
  expect_violation(inner(kAuth, true, {IDr, AUTH}), ViolationKind::missing, IDi);

  expect_ok(inner(kAuth, false, {IDr, AUTH, SA, TSi, TSr, N}));
  expect_ok(inner(kAuth, false, {IDr, CERT, AUTH, EAP}));
  expect_ok(inner(kAuth, false, {EAP}));
  expect_ok(inner(kAuth, false, {AUTH, SA, TSi, TSr}));
  expect_ok(inner(kAuth, false, {IDr, AUTH, N}));  // TS_UNACCEPTABLE for the child
  expect_ok(inner(kAuth, false, {N}));            // AUTHENTICATION_FAILED
  expect_violation(inner(kAuth, false, {IDr, SA, TSi, TSr}), ViolationKind::missing, AUTH);
  expect_violation(inner(kAuth, false, {IDr, AUTH, SA}), ViolationKind::not_together, TSi);
}

TEST(PayloadRules, CreateChildSa) {
  expect_ok(inner(kChild, true, {N, SA, NONCE, KE, TSi, TSr}));  // rekey with PFS
  expect_ok(inner(kChild, true, {SA, NONCE, KE}));              // IKE SA rekey
  expect_ok(inner(kChild, true, {SA, NONCE, TSi, TSr}));
  expect_violation(inner(kChild, true, {SA, NONCE, TSi}), ViolationKind::not_together, TSr);
  expect_violation(inner(kChild, true, {NONCE, TSi, TSr}), ViolationKind::missing, SA);
  expect_violation(inner(kChild, true, {SA, NONCE, AUTH}), ViolationKind::not_allowed, AUTH);
  expect_ok(inner(kChild, false, {SA, NONCE, TSi, TSr}));
  expect_ok(inner(kChild, false, {N}));  // NO_ADDITIONAL_SAS, INVALID_KE_PAYLOAD
  expect_violation(inner(kChild, false, {SA, TSi, TSr}), ViolationKind::missing, NONCE);
}

TEST(PayloadRules, Informational) {
  expect_ok(inner(kInfo, true, {}));  // liveness check
  expect_ok(inner(kInfo, true, {D, D, N}));
  expect_ok(inner(kInfo, false, {D, CP}));
  expect_violation(inner(kInfo, true, {CP, CP}), ViolationKind::too_many, CP);
  expect_violation(inner(kInfo, false, {SA}), ViolationKind::not_allowed, SA);
}

TEST(PayloadRules, UnknownExchange) {
  expect_violation(outer(static_cast<ExchangeType>(99), true, {SK}), ViolationKind::unknown_exchange,
                   PayloadType::no_next_payload);
  expect_violation(inner(static_cast<ExchangeType>(99), false, {}), ViolationKind::unknown_exchange,
                   PayloadType::no_next_payload);
}

}  // namespace
