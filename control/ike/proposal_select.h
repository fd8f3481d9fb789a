// IKEv2 proposal handling (RFC 7296 §2.7, §3.3) with strongSwan's
// behaviour, for the exchange handlers of control/ikev2/:
//
//   to_sa_payload     config proposals -> the SA payload an initiator sends
//   select_proposal   responder: pick one proposal and one transform per
//                     type from the peer's SA payload
//   accept_response   initiator: check the responder's answer against what
//                     was sent
//   describe          proposals in strongSwan's log spelling
//
// Selection is strongSwan's default (charon.prefer_configured_proposals =
// yes): for each configured proposal in order, the first offered proposal
// that matches wins, and within a transform type the configured order
// decides. Everything here is pure: no I/O, no state, no logging.
//
// Names in messages are strongSwan's (proposal_printf_hook): the protocol,
// a colon, then the transforms separated by '/', encryption first, then
// integrity, PRF, key exchange, ESN, each Key Length appended with '_':
//
//   IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072
//   IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384
//   ESP:AES_CBC_128/HMAC_SHA2_256_128/NO_EXT_SEQ
//
// An ID strongSwan has no name for prints as "(n)", as strongSwan does; an
// IANA-registered ID strongSwan 5.9 does not know (e.g. ENCR_AES_GCM_16_IIV)
// prints with its registry name without the type prefix. Integrity NONE
// prints "NONE". RFC 9370 additional key exchanges print "KE1_ECP_256";
// other unknown transform types "UNKNOWN_<type>_<id>".
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/channel/result.h"
#include "common/config/proposal.h"
#include "common/iana/ikev2.h"
#include "common/iana/ikev2_message.h"
#include "common/ike/keys.h"
#include "common/ike/message.h"

namespace corridor::control::ike {

// Which exchange a proposal is negotiated in; it decides the SPI size and
// what happens to key exchange transforms.
//
//   ike_sa_init     IKE proposals, empty SPI, KE required.
//   ike_auth_child  ESP/AH proposals of the first Child SA. IKE_AUTH carries
//                   no KE payload, so KE transforms are left out of the SA
//                   payload (RFC 7296 §1.2: "SHOULD omit the whole transform
//                   substructure") and ignored in an offer, as strongSwan
//                   does (PROPOSAL_SKIP_KE): a config with PFS groups still
//                   matches, and the result has no key exchange.
//   create_child    CREATE_CHILD_SA: ESP/AH (new or rekeyed Child SA; KE is
//                   PFS and optional only through NONE) or IKE (IKE SA
//                   rekey, 8-byte SPI, KE required).
enum class SelectFor : std::uint8_t { ike_sa_init, ike_auth_child, create_child };

// Config proposals -> the SA payload we send as initiator. Proposals are
// numbered 1..n in config order; only those of `protocol`'s kind are used
// (at most 255). Each carries every configured transform in config order
// (types in the order ENCR, PRF, INTEG, KE, ESN), a Key Length attribute
// (type 14, TV) on every transform configured with one (AES, Camellia),
// and `spi` (empty for IKE_SA_INIT, 8 bytes for an IKE rekey, 4 bytes for
// ESP/AH; the caller's own SPI). ESP/AH proposals without ESN transforms get
// NO_ESN (strongSwan's default). KE transforms of ESP/AH proposals are
// included (PFS) unless `context` is ike_auth_child.
corridor::ike::SecurityAssociation to_sa_payload(std::span<const config::Proposal> proposals,
                                                 iana::ProtocolId protocol,
                                                 std::span<const std::uint8_t> spi,
                                                 SelectFor context = SelectFor::create_child);

// What was agreed: exactly one transform per type present.
struct Selected {
  // The accepted proposal as the responder returns it: the offered
  // proposal's number and protocol, one transform per type (ENCR, PRF,
  // INTEG, KE, ESN order, Key Length attribute where negotiated) and the SPI
  // of the proposal it came from. From select_proposal() that is the
  // initiator's SPI (for ESP/AH: the SPI the peer wants to receive on, i.e.
  // our outbound SPI; for an IKE rekey the new initiator SPI); from
  // accept_response() the responder's SPI. A responder sends
  // for_response(own_spi), not `proposal` itself: RFC 7296 §3.3.1 puts the
  // sender's SPI in the proposal.
  corridor::ike::Proposal proposal;

  // Convenience views of `proposal`.
  std::uint16_t encryption = 0;  // ENCR transform ID; 0 for AH
  std::uint16_t key_bits = 0;    // its Key Length attribute; 0 if none
  std::uint16_t integrity = 0;   // INTEG transform ID; 0 (NONE) with AEAD
  std::optional<iana::PrfId> prf;          // IKE only
  std::optional<iana::KeId> key_exchange;  // nullopt: no KE transform, or KE NONE
  bool esn = false;                        // ESP/AH: ESN transform 1 chosen

  // `proposal` with `own_spi` in place of the peer's SPI: what the
  // responder puts in its SA payload.
  corridor::ike::Proposal for_response(std::span<const std::uint8_t> own_spi) const;
  // For keys.h. ike_suite() is meaningful for IKE only (prf defaults to
  // HMAC-SHA2-256 when absent); child_suite() for ESP/AH.
  corridor::ike::IkeSuite ike_suite() const;
  corridor::ike::ChildSuite child_suite() const;
  // strongSwan's spelling, e.g. "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384".
  std::string to_string() const;
};

// Why no proposal could be chosen (the responder answers
// NO_PROPOSAL_CHOSEN) or why a response is unacceptable (the initiator
// deletes the half-open SA). One line, for the log.
struct SelectError {
  std::string message;
};

template <typename T>
using SelectExpected = channel::Expected<T, SelectError>;

// Responder: choose from `offered` (the peer's SA payload) using
// `configured`.
//
// For each configured proposal of `protocol`'s kind in config order, the
// first offered proposal that matches is taken. An offered proposal
// matches when it has the same protocol and, for every transform type,
// the offer has a transform the config allows (same ID and same Key
// Length, so aes128 never matches aes256); within a type the configured
// order picks. Details, as strongSwan does them:
//   - AEAD encryption chosen: integrity transforms in the offer are ignored
//     (an offered INTEG NONE is echoed, otherwise none is returned).
//   - IKE: an offered KE NONE is ignored; a KE group is required.
//   - ESP/AH in create_child: an offer without KE matches a config without
//     PFS or whose KE list includes NONE ("modpnone"); a config without PFS
//     matches an offer only if the offer includes KE NONE.
//   - ESP/AH in ike_auth_child: KE transforms are ignored on both sides.
//   - ESN: a config without ESN transforms counts as NO_ESN; an ESP/AH
//     offer without an ESN transform matches nothing (RFC 7296 §3.3.3 makes
//     ESN mandatory).
// An offered transform carrying an attribute other than one Key Length is
// skipped (RFC 7296 §3.3.6: the responder "MUST reject the transform"). An
// offered proposal is unacceptable as a whole (§3.3.6) when it holds a
// transform type that is unknown (anything but 1-5, including RFC 9370's
// additional key exchanges 6-12, which Corridor does not implement) or not
// negotiated by its protocol (§3.3.3: PRF only in IKE, ESN only in ESP/AH,
// ENCR not in AH), or when its SPI size does not fit `context` (IKE_SA_INIT
// 0, IKE rekey 8, ESP/AH 4); the other proposals are still considered.
//
// `prefer_ke`: the group of the request's KE payload, or nullopt. When set
// and both the matching configured and offered proposals allow that group,
// it is chosen instead of the configured-first group, which saves the
// INVALID_KE_PAYLOAD round trip. strongSwan does not do this; pass nullopt
// for strongSwan's exact choice (then use group_for_retry()). It never
// changes which proposal is chosen, only the group within it.
//
// On failure the message names both sides in strongSwan's spelling, e.g.
// "no acceptable proposal: received IKE:AES_CBC_256/HMAC_SHA2_256_128/
// PRF_HMAC_SHA2_256/MODP_3072, configured IKE:AES_GCM_16_256/
// PRF_HMAC_SHA2_384/ECP_384", followed by why proposals were ignored, if
// any ("; received proposal 2 ignored: transform type 6 (ADDKE1) not
// supported").
SelectExpected<Selected> select_proposal(const corridor::ike::SecurityAssociation& offered,
                                         std::span<const config::Proposal> configured,
                                         iana::ProtocolId protocol, SelectFor context,
                                         std::optional<iana::KeId> prefer_ke = std::nullopt);

// Initiator: checks the responder's SA payload against the one we sent.
// It must hold exactly one proposal, of `protocol`, numbered as one we
// sent; each transform type in it exactly once, each transform one we
// offered in that proposal (same ID, same Key Length, no other attribute);
// every type we offered present, except: INTEG may be absent (or NONE)
// with an AEAD cipher, and KE may be absent when what we offered included
// NONE (or when we offered no KE); no type we did not offer. SPI: ESP/AH
// 4 bytes; IKE the same size we sent (0 in IKE_SA_INIT, 8 for a rekey).
// The error names what is wrong and both sides in strongSwan's spelling.
SelectExpected<Selected> accept_response(const corridor::ike::SecurityAssociation& sent,
                                         const corridor::ike::SecurityAssociation& response,
                                         iana::ProtocolId protocol);

// The proposals of an SA payload in strongSwan's log spelling, separated
// by ", " ("IKE:AES_CBC_128/.../MODP_2048, IKE:AES_GCM_16_128/...").
std::string describe(const corridor::ike::SecurityAssociation& sa);
// One proposal, the same way.
std::string describe(const corridor::ike::Proposal& proposal);

// --- Key exchange groups (RFC 7296 §1.2, §1.3, §3.10.1 INVALID_KE_PAYLOAD) ---
//
// Initiator: the group of the KE payload to send is first_key_exchange()
// of the configured proposals. If the responder answers INVALID_KE_PAYLOAD
// with group G, the initiator retries with G only if
// proposal_allows_group(sent, G); it then resends
// promote_group(sent, G), so that the proposals favour G.
//
// Responder: after select_proposal(), group_for_retry(selected, group of
// the KE payload) says whether to answer INVALID_KE_PAYLOAD instead of
// completing the exchange, and with which group.

// The key exchange method of the first proposal that has KE transforms:
// its first KE transform (strongSwan's ike_cfg/child_cfg get_algorithm).
// nullopt when no proposal has one, or when that transform is NONE (a
// CREATE_CHILD_SA initiator then sends no KE payload).
std::optional<iana::KeId> first_key_exchange(std::span<const config::Proposal> proposals);

// True if any proposal of the SA payload has a KE transform with this ID.
bool proposal_allows_group(const corridor::ike::SecurityAssociation& sa, iana::KeId group);

// The SA payload to resend after INVALID_KE_PAYLOAD(group): in every
// proposal that has `group` it moves to the front of the KE transforms;
// proposals without it move behind those with it (strongSwan's
// promote_transform); proposals are renumbered 1..n.
corridor::ike::SecurityAssociation promote_group(corridor::ike::SecurityAssociation sa,
                                                 iana::KeId group);

// Responder: the group to request with INVALID_KE_PAYLOAD, or nullopt to
// go on. `ke_payload_group` is the group of the request's KE payload
// (nullopt: the request had none). Returns the selected group when one was
// selected and the KE payload is missing or of another group. When no
// group was selected (KE NONE or no KE) it returns nullopt even if a KE
// payload came: the Child SA then has no PFS and the KE payload is not
// used.
std::optional<iana::KeId> group_for_retry(const Selected& selected,
                                          std::optional<iana::KeId> ke_payload_group);

}  // namespace corridor::control::ike
