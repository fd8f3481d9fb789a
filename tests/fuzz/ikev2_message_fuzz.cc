// Fuzz target: the IKEv2 message parser (common/ike/message.h) on
// arbitrary datagrams. It must never crash or read out of bounds, and:
//  - every error says something and points inside the input;
//  - anything that parses serialises, and the bytes parse back to the same
//    Message; serialising that again gives the same bytes;
//  - the payload rules answer for every exchange without crashing;
//  - the opaque content of an SK/SKF payload, taken as a decrypted inner
//    chain, obeys the same round-trip rule (the seeds carry plaintext
//    chains there so the inner parser is reached).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "common/ike/message.h"
#include "common/ike/payload_rules.h"

namespace {

using namespace corridor::ike;  // NOLINT: fuzz target brevity
using corridor::iana::ExchangeType;
using corridor::iana::PayloadType;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "ikev2_message_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

void check_error(const Error& e, std::size_t size) {
  if (e.message.empty()) fail("empty error message", std::string(to_string(e.code)));
  if (e.offset > size) fail("error offset past the end", e.message);
}

void check_inner(PayloadType first, const Bytes& plaintext) {
  auto inner = parse_payloads(first, plaintext, kHeaderSize + kGenericPayloadHeaderSize);
  if (!inner.ok()) {
    check_error(inner.error(), kHeaderSize + kGenericPayloadHeaderSize + plaintext.size());
    return;
  }
  auto bytes = serialise_payloads(*inner);
  if (!bytes.ok()) fail("parsed inner chain does not serialise", bytes.error().message);
  const PayloadType again_first = inner->empty() ? PayloadType::no_next_payload : inner->front().type;
  auto again = parse_payloads(again_first, *bytes);
  if (!again.ok()) fail("serialised inner chain does not parse", again.error().message);
  if (*again != *inner) fail("inner chain changed in a round trip", "");
  std::vector<PayloadType> types;
  for (const Payload& p : *inner) types.push_back(p.type);
  for (auto ex : {ExchangeType::ike_auth, ExchangeType::create_child_sa, ExchangeType::informational}) {
    (void)check_inner_payloads(ex, true, types);
    (void)check_inner_payloads(ex, false, types);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  auto m = parse_message(input);
  if (!m.ok()) {
    check_error(m.error(), size);
    return 0;
  }
  auto bytes = serialise_message(*m);
  if (!bytes.ok()) fail("parsed message does not serialise", bytes.error().message);
  if (bytes->size() != size) fail("serialised size differs from the parsed datagram", "");
  auto again = parse_message(*bytes);
  if (!again.ok()) fail("serialised message does not parse", again.error().message);
  if (*again != *m) fail("message changed in a round trip", "");
  auto twice = serialise_message(*again);
  if (!twice.ok() || *twice != *bytes) fail("serialising is not stable", "");

  std::vector<PayloadType> types;
  for (const Payload& p : m->payloads) {
    types.push_back(p.type);
    if (const auto* sk = std::get_if<Encrypted>(&p.body)) check_inner(sk->first_inner, sk->data);
    if (const auto* skf = std::get_if<EncryptedFragment>(&p.body)) check_inner(skf->first_inner, skf->data);
  }
  (void)check_payloads(m->header.exchange, !m->header.response, types);
  return 0;
}
