// IKEv2 authentication data (RFC 7296 §2.15) for pre-shared keys.
//
//   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> )
//   InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
//   ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR
//   MACedIDForI = prf(SK_pi, RestOfInitIDPayload)   (and SK_pr for R)
//
// RestOfIDPayload is the ID payload after its generic header: ID Type, three
// reserved bytes, the identification data. The AUTH a peer sent is compared
// in constant time.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/ike/keys.h"
#include "common/ike/message.h"

namespace corridor::control::ikev2 {

// ID Type | RESERVED | Identification Data, as the ID payload carries it.
std::vector<std::uint8_t> rest_of_id_payload(const corridor::ike::Identification& id);

// The octets a side signs or MACs: its IKE_SA_INIT message as sent, the
// other side's nonce, prf(SK_p, RestOfIDPayload) with its own SK_p.
corridor::ike::KeyExpected<std::vector<std::uint8_t>> signed_octets(iana::PrfId prf,
                                                                      std::span<const std::uint8_t> real_message,
                                                                      std::span<const std::uint8_t> peer_nonce,
                                                                      const config::SecretBytes& sk_p,
                                                                      const corridor::ike::Identification& id);

// The AUTH payload data for a pre-shared key over `octets`.
corridor::ike::KeyExpected<config::SecretBytes> psk_auth(iana::PrfId prf, const config::SecretBytes& psk,
                                                         std::span<const std::uint8_t> octets);

// Constant-time equality of a received AUTH with the expected one.
bool auth_equal(std::span<const std::uint8_t> received, const config::SecretBytes& expected);

}  // namespace corridor::control::ikev2
