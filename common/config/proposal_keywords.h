// strongSwan's proposal keywords (src/libstrongswan/crypto/proposal/
// proposal_keywords_static.txt), each mapped to its transform and marked
// with what Corridor implements for which kind of SA.
//
// The table keeps every keyword strongSwan knows, including the ones
// Corridor does not implement, so that a pasted swanctl.conf proposal gets
// "Corridor does not implement X" rather than "unknown keyword".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/config/proposal.h"
#include "common/iana/ikev2.h"

namespace corridor::config {

struct ProposalKeyword {
  // Which kinds of SA Corridor implements the algorithm for.
  static constexpr std::uint8_t kIke = 1U << 0;
  static constexpr std::uint8_t kEsp = 1U << 1;
  static constexpr std::uint8_t kAh = 1U << 2;
  // Refused unless allow_weak is set (RFC 8247 for IKE and key exchange,
  // RFC 8221 for ESP/AH algorithms).
  static constexpr std::uint8_t kWeak = 1U << 3;
  // The spelling to_string() prints for this transform; exactly one keyword
  // per (type, id, key_bits) has it.
  static constexpr std::uint8_t kCanonical = 1U << 4;

  std::string_view keyword;  // exact, lowercase: strongSwan matches case-sensitively
  iana::TransformType type;
  std::uint16_t id;        // IANA transform ID; 0 for a strongSwan-private algorithm
  std::uint16_t key_bits;  // Key Length attribute, 0 when the transform has none
  std::uint8_t flags;
  // Set only for algorithms strongSwan numbers in its private-use range
  // (not in the IANA registry), e.g. "ENCR_SERPENT_CBC". Never supported.
  std::string_view private_name;

  bool supported_for(ProposalKind kind) const;
  bool weak() const { return (flags & kWeak) != 0; }
  bool canonical() const { return (flags & kCanonical) != 0; }
  bool in_iana_registry() const { return private_name.empty(); }
  Transform transform() const { return Transform{type, id, key_bits}; }
  // For messages: "ENCR_CAMELLIA_CBC-128", "MODP_1024", "AUTH_HMAC_SHA2_256_96".
  std::string algorithm_name() const;
};

// The whole table, in strongSwan's order.
std::span<const ProposalKeyword> proposal_keywords();

// Exact (case-sensitive) lookup; nullptr when strongSwan has no such keyword.
const ProposalKeyword* find_proposal_keyword(std::string_view keyword);

// The keyword to_string() prints for a transform; nullptr when no strongSwan
// keyword stands for it (e.g. ENCR_AES_GCM_16 with a 64-bit key).
const ProposalKeyword* canonical_keyword(const Transform& transform);

}  // namespace corridor::config
