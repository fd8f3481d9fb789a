// Manually keyed SAs (the config's dataplane.static_sas) as the dataplane
// installs them: the key layout each algorithm needs, the SA channel record
// and the selectors of the policies that steer traffic into the SA.
//
// The key layouts are the RFCs' KEYMAT, stated here from the IANA transform
// IDs so the config layer does not depend on the packet engine; a unit test
// (tests/unit/config/static_sa_test.cc) holds them against the engine's own
// table (dataplane/crypto/algorithm.h) for every algorithm both know.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/channel/records.h"
#include "common/config/model.h"

namespace corridor::config {

// The keying material of an ESP encryption transform: the cipher key, then
// (for counter-based modes) the salt or nonce the RFC takes from the end of
// KEYMAT.
struct EncryptionKeyLength {
  std::size_t cipher_bytes = 0;
  std::size_t salt_bytes = 0;
  std::string_view source;  // where the layout is defined, e.g. "RFC 4106 §8.1"

  std::size_t total() const { return cipher_bytes + salt_bytes; }
};

// nullopt for a transform Corridor has no manual key layout for.
std::optional<EncryptionKeyLength> encryption_key_length(const Transform& encryption);
std::optional<std::size_t> integrity_key_length(const Transform& integrity);

// The ADD_SA record for a static SA that load_config() accepted. `sa_id` is
// chosen by the caller (non-zero, unique among all SAs it installs). The
// outer addresses are the packet's: an outbound SA sends local -> remote, an
// inbound SA receives remote -> local. Static SAs have no lifetime (0 is
// unlimited) and take the SA channel's defaults for DF, DSCP and ECN.
// nullopt with `why` set if the result would not pass channel::validate()
// (only possible for a StaticSaConfig built by hand, not by the loader).
std::optional<channel::SaRecord> to_sa_record(const StaticSaConfig& sa, std::uint64_t sa_id,
                                              std::string* why = nullptr);

// One policy's inner-packet selector: source and destination prefixes of
// one address family, in the direction the SA carries packets.
struct SelectorPair {
  net::Prefix src;
  net::Prefix dst;
  friend bool operator==(const SelectorPair&, const SelectorPair&) = default;
};

// Every (local_ts, remote_ts) combination of one family, oriented by the
// SA's direction: out carries local_ts -> remote_ts, in carries remote_ts ->
// local_ts. In local_ts-major order, as written. An IPv4 selector never pairs
// with an IPv6 one (an SPD entry has one family, RFC 4301 §4.4.1.1).
std::vector<SelectorPair> packet_selectors(const StaticSaConfig& sa);

}  // namespace corridor::config
