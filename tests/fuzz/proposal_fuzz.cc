// Fuzz target: the proposal-string parser on arbitrary bytes, for every
// ProposalKind, with and without allow_weak. It must never crash, and:
//  - it either returns proposals and no error, or errors and no proposal;
//  - every error says something and points inside the string (or at 0);
//  - every proposal satisfies the structural rules of its kind;
//  - to_string() of every proposal parses back to exactly that proposal;
//  - allow_weak only ever accepts more: a string accepted without it is
//    accepted with it, with the same proposals.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/config/proposal.h"

namespace {

using corridor::config::parse_proposal;
using corridor::config::Proposal;
using corridor::config::ProposalKind;
using corridor::config::ProposalOptions;
using corridor::config::ProposalParseResult;

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "proposal_fuzz: %s for input '%.*s'\n", what,
               static_cast<int>(input.size()), input.data());
  std::abort();
}

void check_structure(const Proposal& p, ProposalKind kind, std::string_view input) {
  if (p.kind != kind) fail("proposal of the wrong kind", input);
  const bool aead = p.aead();
  if (aead && !p.integrity.empty()) fail("AEAD proposal with integrity", input);
  switch (kind) {
    case ProposalKind::ike:
      if (p.encryption.empty() || p.prf.empty() || p.key_exchange.empty()) {
        fail("IKE proposal without ENCR, PRF or KE", input);
      }
      if (!aead && p.integrity.empty()) fail("classic IKE proposal without INTEG", input);
      if (!p.esn.empty()) fail("IKE proposal with ESN", input);
      break;
    case ProposalKind::esp:
      if (p.encryption.empty() || p.esn.empty()) fail("ESP proposal without ENCR or ESN", input);
      if (!aead && p.integrity.empty()) fail("classic ESP proposal without INTEG", input);
      if (!p.prf.empty()) fail("ESP proposal with PRF", input);
      break;
    case ProposalKind::ah:
      if (!p.encryption.empty() || !p.prf.empty()) fail("AH proposal with ENCR or PRF", input);
      if (p.integrity.empty() || p.esn.empty()) fail("AH proposal without INTEG or ESN", input);
      break;
  }
}

ProposalParseResult check(std::string_view input, ProposalKind kind, bool allow_weak) {
  ProposalOptions options;
  options.allow_weak = allow_weak;
  ProposalParseResult result = parse_proposal(input, kind, options);
  if (result.ok() == result.proposals.empty()) fail("ok() disagrees with proposals", input);
  for (const auto& error : result.errors) {
    if (error.message.empty()) fail("empty error message", input);
    if (error.column > input.size()) fail("error column past the end", input);
  }
  for (const Proposal& p : result.proposals) {
    check_structure(p, kind, input);
    const std::string printed = p.to_string();
    const ProposalParseResult again = parse_proposal(printed, kind, options);
    if (!again.ok() || again.proposals.size() != 1 || !(again.proposals[0] == p)) {
      fail(("to_string() '" + printed + "' does not parse back").c_str(), input);
    }
  }
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (ProposalKind kind : {ProposalKind::ike, ProposalKind::esp, ProposalKind::ah}) {
    const ProposalParseResult strict = check(input, kind, false);
    const ProposalParseResult weak = check(input, kind, true);
    if (strict.ok() && !(weak.ok() && weak.proposals == strict.proposals)) {
      fail("allow_weak refused what was accepted without it", input);
    }
  }
  return 0;
}
