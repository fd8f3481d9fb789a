// IKEv1 proposals (RFC 2409 §5, RFC 2407 §4.5) from swanctl-style proposal
// strings, with strongSwan's behaviour.
//
// IKEv1 has no per-type transform lists: each Transform payload is one
// whole suite, so a configured proposal "aes256-aes128-sha256-modp3072-
// modp2048" expands into every combination (encryption x hash x group),
// in config order, the way strongSwan writes its IKEv1 SA payloads:
//
//   Phase 1 (ISAKMP, KEY_IKE): Encryption Algorithm, Key Length, Hash
//     Algorithm (from the integrity algorithm, or the PRF when none is
//     configured), Authentication Method, Group Description, Life Type
//     seconds + Life Duration.
//   Quick Mode (ESP or AH): transform ID, Key Length, Authentication
//     Algorithm, Group Description (PFS), Encapsulation Mode, Extended
//     Sequence Number, Life Type/Duration in seconds (and kilobytes).
//
// A responder picks the first configured suite that the peer offered
// (strongSwan's prefer_configured_proposals), and returns the peer's
// transform exactly as it came (RFC 2409 §5: the responder "MUST NOT"
// change the attributes). An initiator accepts a reply only if its one
// transform is one it offered. Life attributes are not matched: each side
// keeps the shorter lifetime. Everything here is pure: no I/O, no logging.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/channel/result.h"
#include "common/config/model.h"
#include "common/config/proposal.h"
#include "common/iana/ikev1.h"
#include "common/ike/keys.h"
#include "common/ikev1/keys.h"
#include "common/ikev1/message.h"

namespace corridor::control::ikev1 {

namespace v1 = iana::ikev1;
namespace codec = corridor::ikev1;

// An ESP/AH SPI on the wire (4 bytes, network order) and back.
codec::Bytes spi_bytes(std::uint32_t spi);
std::uint32_t spi_value(std::span<const std::uint8_t> bytes);

struct ProposalError {
  std::string message;
};
template <typename T>
using ProposalExpected = channel::Expected<T, ProposalError>;

// One Phase 1 suite.
struct Phase1Suite {
  v1::Phase1Encryption encryption = v1::Phase1Encryption::aes_cbc;
  std::uint16_t key_bits = 0;  // AES: 128/192/256; 3DES: 0
  v1::Phase1Hash hash = v1::Phase1Hash::sha2_256;
  v1::Phase1Auth auth = v1::Phase1Auth::pre_shared_key;
  iana::KeId group = iana::KeId::modp2048;
  std::uint32_t life_seconds = 0;  // 0: none given

  // For ikev1/keys.h (the HMAC PRF of the hash).
  corridor::ikev1::Phase1Suite keys() const;
  // strongSwan's spelling: "IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072".
  std::string to_string() const;
  bool same_algorithms(const Phase1Suite& other) const;
};

// The Phase 1 Authentication Method for a connection's auth setting:
// psk -> PRE_SHARED_KEY, pubkey/rsa -> RSA_SIGNATURES; ECDSA needs the key
// (ECDSA_SHA256_P256 etc.), not known from the config alone: nullopt.
std::optional<v1::Phase1Auth> phase1_auth_for(config::AuthMethod method);

// Every Phase 1 suite the configured IKE proposals stand for, in order.
// Suites IKEv1 or Corridor cannot use (AEAD ciphers, MD5, unimplemented
// groups) are left out; an error if none is left.
ProposalExpected<std::vector<Phase1Suite>> phase1_suites(std::span<const config::Proposal> proposals,
                                                         v1::Phase1Auth auth, std::uint32_t life_seconds);

// The SA payload of Main Mode message 1 / Aggressive Mode message 1: one
// ISAKMP proposal, transforms numbered 1..n.
codec::SecurityAssociation phase1_offer(std::span<const Phase1Suite> suites);

// A Phase 1 transform read back into a suite; an error names the attribute
// that is missing, unknown or unsupported.
ProposalExpected<Phase1Suite> read_phase1_transform(const codec::Transform& transform);

struct Phase1Selection {
  Phase1Suite suite;
  // The SA payload the responder answers with: the offered proposal's
  // number with the chosen transform exactly as received.
  codec::SecurityAssociation reply;
};

// Responder: choose from the peer's offer (the configured order decides).
// The error lists what was received and configured, in strongSwan's words.
ProposalExpected<Phase1Selection> select_phase1(const codec::SecurityAssociation& offered,
                                                std::span<const Phase1Suite> configured);

// Initiator: the responder's SA payload must carry one proposal with one
// transform equal (life aside) to one we offered.
ProposalExpected<Phase1Suite> accept_phase1_reply(const codec::SecurityAssociation& reply,
                                                  std::span<const Phase1Suite> offered);

// --- Quick Mode ---

struct Phase2Suite {
  v1::ProtocolId protocol = v1::ProtocolId::esp;
  std::uint8_t transform_id = 0;  // ESP: encryption (v1::EspTransform); AH: v1::AhTransform
  std::uint16_t key_bits = 0;     // Key Length attribute; 0: none
  std::optional<v1::IpsecAuth> auth;  // none with AEAD
  iana::KeId group = iana::KeId::none;  // PFS; none: no KE in Quick Mode
  v1::EncapsulationMode mode = v1::EncapsulationMode::tunnel;
  bool esn = false;
  std::uint32_t life_seconds = 0;
  std::uint64_t life_kilobytes = 0;

  // IKEv2 transform IDs for keys.h and the SA channel: ENCR (AES-GCM-16 =
  // 20, ...) and INTEG (AUTH_HMAC_SHA2_256_128 = 12, ...).
  corridor::ike::ChildSuite child_suite() const;
  // Encryption key then integrity key, in bytes (KEYMAT length per SA).
  ProposalExpected<std::size_t> keymat_size() const;
  // strongSwan's spelling: "ESP:AES_CBC_256/HMAC_SHA2_256_128/MODP_2048/NO_EXT_SEQ".
  std::string to_string() const;
  bool tunnel() const;
  bool udp_encapsulated() const;
  bool same_algorithms(const Phase2Suite& other) const;
};

// The Encapsulation Mode for a child's mode with or without NAT-T
// (RFC 3947 §5: UDP-Encapsulated-Tunnel/-Transport when a NAT is between).
v1::EncapsulationMode encapsulation_for(config::ChildMode mode, bool udp);

// Every suite a child's ESP or AH proposals stand for. IKEv1 carries one
// KE payload in Quick Mode, so one PFS group: the first group of the
// first proposal (none: no PFS); combinations with another group are left
// out. An error if none is left.
ProposalExpected<std::vector<Phase2Suite>> phase2_suites(const config::ChildConfig& child, bool udp);

// The SA payload of Quick Mode message 1 (and of the responder's message
// 2): one proposal of the suites' protocol with `spi` (ours, inbound).
codec::SecurityAssociation phase2_offer(std::span<const Phase2Suite> suites, std::uint32_t spi);

ProposalExpected<Phase2Suite> read_phase2_transform(v1::ProtocolId protocol, const codec::Transform& transform);

struct Phase2Selection {
  Phase2Suite suite;  // lifetimes: the shorter of the offer's and ours
  std::uint32_t offered_life_seconds = 0;  // the offer's, 0: none
  std::uint64_t offered_life_kilobytes = 0;
  std::uint32_t peer_spi = 0;  // the SPI in the offered proposal: our outbound SPI
  codec::SecurityAssociation reply;  // with our SPI put in by the caller (with_spi)
  // The reply with `our_spi` as the proposal's SPI.
  codec::SecurityAssociation with_spi(std::uint32_t our_spi) const;
};

// Responder: choose from the peer's Quick Mode offer. Bundles (several
// proposals with one number, e.g. AH+ESP) are refused.
ProposalExpected<Phase2Selection> select_phase2(const codec::SecurityAssociation& offered,
                                                std::span<const Phase2Suite> configured);

// Initiator: the reply's one transform must be one we offered; returns the
// suite and the responder's SPI (our outbound SPI).
struct Phase2Accepted {
  Phase2Suite suite;
  std::uint32_t peer_spi = 0;
};
ProposalExpected<Phase2Accepted> accept_phase2_reply(const codec::SecurityAssociation& reply,
                                                     std::span<const Phase2Suite> offered);

// RFC 2407 §4.6.3.1. Responder: the RESPONDER-LIFETIME notification for
// Quick Mode message 2 when our lifetime (seconds or kilobytes) is shorter
// than the offer's or the offer gave none; nullopt when the offer's stands.
// Its SPI is ours (the one in our SA payload).
std::optional<codec::Notification> responder_lifetime(const Phase2Selection& selection, std::uint32_t our_spi);
// Initiator: `suite` with the lifetimes of a received RESPONDER-LIFETIME
// applied (only ever shortened); an error names what is malformed.
ProposalExpected<Phase2Suite> apply_responder_lifetime(const codec::Notification& n, Phase2Suite suite);

}  // namespace corridor::control::ikev1
