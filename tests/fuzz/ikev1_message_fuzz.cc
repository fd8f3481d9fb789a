// Fuzz target: the ISAKMP (IKEv1) parser (common/ikev1/message.h) on
// arbitrary datagrams. It must never crash or read out of bounds, and:
//  - every error says something, points inside the input and maps to a
//    notification;
//  - a clear message that parses serialises to bytes of the same size that
//    parse back to the same Message, and serialising again is stable;
//  - with the E flag the body is taken as decrypted content (with padding
//    allowed, as after CBC decryption): the chain obeys the same round trip
//    and each payload span lies inside the body.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "common/ikev1/message.h"

namespace {

using namespace corridor::ikev1;  // NOLINT: fuzz target brevity
using corridor::iana::ikev1::PayloadType;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "ikev1_message_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

void check_error(const Error& e, std::size_t size) {
  if (e.message.empty()) fail("empty error message", std::string(to_string(e.code)));
  if (e.offset > size) fail("error offset past the end", e.message);
  (void)notify_for(e);
}

void check_decrypted(PayloadType first, std::span<const std::uint8_t> body, std::size_t size) {
  auto spans = walk_payloads(first, body, true);
  auto payloads = parse_payloads(first, body, true);
  if (!payloads.ok()) {
    check_error(payloads.error(), size);
    return;
  }
  if (!spans.ok()) fail("walk fails where parse succeeds", spans.error().message);
  for (const auto& s : *spans) {
    if (s.offset + s.length > body.size()) fail("payload span past the body", "");
  }
  auto bytes = serialise_payloads(*payloads);
  if (!bytes.ok()) fail("parsed chain does not serialise", bytes.error().message);
  const auto again_first = payloads->empty() ? PayloadType::none : payloads->front().type;
  auto again = parse_payloads(again_first, *bytes, false);
  if (!again.ok()) fail("serialised chain does not parse", again.error().message);
  if (*again != *payloads) fail("chain changed in a round trip", "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  auto header = parse_header(input);
  if (!header.ok()) {
    check_error(header.error(), size);
    return 0;
  }
  if (header->header.encrypted()) {
    check_decrypted(header->first_payload, input.subspan(kHeaderSize), size);
    return 0;
  }
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
  return 0;
}
