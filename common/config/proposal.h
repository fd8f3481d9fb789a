// Proposal strings in strongSwan's syntax, e.g. "aes256gcm16-prfsha384-ecp384"
// or "aes128-sha256-modp3072", parsed keyword by keyword into IANA transforms
// (RFC 7296 §3.3.2 and the IANA "IKEv2 Parameters" registry).
//
// The keywords are strongSwan's, byte for byte, so that an operator can paste
// the proposals of an existing swanctl.conf. A keyword strongSwan knows but
// Corridor does not implement is reported as unsupported (not unknown), and a
// weak algorithm (DES, 3DES, MD5, MODP-768/1024) is refused unless the config
// sets allow_weak (RFC 8247).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/iana/ikev2.h"

namespace corridor::config {

// Which SA a proposal is for; it decides which transforms are required.
enum class ProposalKind : std::uint8_t { ike, esp, ah };

std::string_view to_string(ProposalKind kind);

struct Transform {
  iana::TransformType type{};
  std::uint16_t id = 0;        // IANA transform ID within its type
  std::uint16_t key_bits = 0;  // Key Length attribute; 0 when the transform has none

  friend bool operator==(const Transform&, const Transform&) = default;
};

// One proposal: for each transform type the acceptable transforms, in the
// order the operator wrote them (preference order).
struct Proposal {
  ProposalKind kind = ProposalKind::ike;
  std::vector<Transform> encryption;    // ENCR
  std::vector<Transform> prf;           // PRF (IKE only)
  std::vector<Transform> integrity;     // INTEG
  std::vector<Transform> key_exchange;  // KE (DH group); for ESP/AH this is PFS
  std::vector<Transform> esn;           // ESN (ESP/AH only)

  // True if the encryption transforms are AEAD (GCM, CCM, ChaCha20-Poly1305).
  bool aead() const;
  // Canonical strongSwan spelling, e.g. "aes256gcm16-prfsha384-ecp384".
  std::string to_string() const;

  friend bool operator==(const Proposal&, const Proposal&) = default;
};

struct ProposalError {
  std::size_t column = 0;  // 1-based character position in the string (0: whole string)
  std::string message;     // e.g. "unknown algorithm keyword 'aes257' at column 1"
};

struct ProposalOptions {
  bool allow_weak = false;  // accept DES, 3DES, MD5, MODP-768/1024
};

struct ProposalParseResult {
  std::vector<Proposal> proposals;    // one on success ("default": several)
  std::vector<ProposalError> errors;  // empty on success; every problem, not just the first
  bool ok() const { return errors.empty(); }
};

// Parses one proposal string. "default" yields Corridor's default proposals
// for the kind (which may be several proposals). Mixed AEAD and classic
// encryption in one string is refused, as strongSwan 5.9 refuses it. For IKE
// without a PRF keyword the PRFs are derived from the integrity algorithms
// (as strongSwan does; an AEAD proposal then drops those algorithms); an
// AEAD IKE proposal with neither is an error.
ProposalParseResult parse_proposal(std::string_view text, ProposalKind kind,
                                   const ProposalOptions& options = {});

// The proposals "default" stands for.
std::vector<Proposal> default_proposals(ProposalKind kind);

}  // namespace corridor::config
