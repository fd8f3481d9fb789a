// One ISAKMP SA (IKEv1 Phase 1): its cookies, where its negotiation stands
// (state.h), what was agreed, and the keys and IV chain that protect its
// messages once Main Mode message 4 is processed.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/channel/records.h"
#include "common/config/model.h"
#include "common/ike/key_exchange.h"
#include "common/ikev1/cipher.h"
#include "common/ikev1/keys.h"
#include "common/net/address.h"
#include "common/net/traffic_selector.h"
#include "control/ikev1/fragmentation.h"
#include "control/ikev1/proposal.h"
#include "control/ikev1/state.h"

namespace corridor::control::ikev1 {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Cookie = std::array<std::uint8_t, 8>;
using Bytes = std::vector<std::uint8_t>;

// The last message we sent in an exchange, resent on timeout (our request)
// or when the peer repeats the message it answered (our reply).
struct LastSent {
  Bytes datagram;
  TimePoint sent_at{};
  TimePoint next_retransmit = TimePoint::max();  // max: we wait for nothing (a reply)
  unsigned retransmits = 0;
};

// One Quick Mode exchange (RFC 2409 §5.5), by Message ID: its own IV
// chain, nonces, optional PFS exchange, proxy identities and SPIs.
struct QuickMode {
  std::uint32_t message_id = 0;
  Role role = Role::initiator;  // of this exchange, not of Phase 1
  State state = State::qm_idle;
  const config::ChildConfig* child = nullptr;
  corridor::ikev1::IvChain iv;
  Bytes ni_b, nr_b;
  std::optional<corridor::ike::DiffieHellman> dh;
  config::SecretBytes g_qm;  // PFS: the Quick Mode's g^xy; empty without
  std::uint32_t spi_in = 0;   // ours
  std::uint32_t spi_out = 0;  // the peer's
  std::vector<Phase2Suite> offered;
  std::optional<Phase2Suite> suite;
  std::uint32_t rekeys_spi_in = 0;  // initiator: the IPsec SA this Quick Mode renews (0: a new one)
  // SA channel ids of the pair's SA records once pushed: by the responder
  // before it sends message 2, so that its inbound SA is there when the
  // initiator, installed on message 2, starts sending. No policy steers
  // traffic into them before message 3. 0: not pushed.
  std::uint64_t sa_id_in = 0;
  std::uint64_t sa_id_out = 0;
  net::TrafficSelector local_ts;   // our side's proxy identity
  net::TrafficSelector remote_ts;  // the peer's
  bool ids_sent = true;            // false: the initiator sent no IDs (the IKE addresses)
  LastSent last_sent;
  Bytes last_received_datagram;
  TimePoint started_at{};
  // Manager::install_seq_ when the exchange began: a pair installed after
  // that cannot be what this Quick Mode renews (both ends renewed at once).
  std::uint64_t begun_seq = 0;
  // Responder: install_seq_ when our message 2 left, the moment the peer
  // could first know of the pair; its IpsecSa is stamped with this, not
  // with the later installation, so both ends order the pairs alike.
  std::uint64_t known_seq = 0;
};

// An installed IPsec SA pair (QM_DONE), as pushed to the dataplane.
struct IpsecSa {
  std::string name;  // the child config's name
  const config::ChildConfig* child = nullptr;
  std::uint32_t spi_in = 0;
  std::uint32_t spi_out = 0;
  std::uint64_t sa_id_in = 0;  // SA channel ids
  std::uint64_t sa_id_out = 0;
  // Outbound policies steer traffic into sa_id_out; a newer pair with the
  // same selectors takes them over (same ids), so traffic moves in one step.
  std::vector<channel::PolicyRecord> outbound_policies;
  std::vector<std::uint64_t> inbound_policy_ids;
  Phase2Suite suite;
  bool encap = false;
  net::TrafficSelector local_ts;
  net::TrafficSelector remote_ts;
  TimePoint installed_at{};
  TimePoint rekey_at = TimePoint::max();   // the child's rekey_time less jitter; max: never
  TimePoint expire_at = TimePoint::max();  // life_time (or the peer's shorter lifetime)
  bool rekey_started = false;
  bool renewed = false;  // replaced by a newer pair (published as child-rekey): its end is no child-down
  // Replaced by a newer pair: deleted (with a Delete to the peer) at this time.
  std::optional<TimePoint> retire_at;
  // For renewal collisions (quick_mode.cc, install_ipsec_sa):
  std::uint64_t installed_seq = 0;  // Manager::install_seq_ when the peer could first know of it
  bool initiated = false;           // we sent its Quick Mode 1
  Bytes lowest_nonce;               // the lower of its Quick Mode's Ni and Nr
  // Lost a collision: carries no outbound traffic and is not renewed; its
  // initiator deletes it (retire_at), the other end waits for that Delete.
  bool redundant = false;
};

struct IsakmpSa {
  std::uint64_t id = 0;      // in the API (apart from IKEv2's)
  std::uint64_t serial = 0;  // 1, 2, ...: how the log names it, "conn[7]"
  const config::ConnectionConfig* connection = nullptr;
  Role role = Role::initiator;
  State state = State::mm_idle;  // am_idle for Aggressive Mode
  bool aggressive = false;
  Cookie cookie_i{};
  Cookie cookie_r{};
  net::SocketAddress local;
  net::SocketAddress remote;
  TimePoint created_at{};
  std::optional<TimePoint> established_at;
  TimePoint last_received{};
  // Message IDs of the peer's recent Informational exchanges. Nothing in
  // an Informational stops a replay (RFC 3706 §6 relies on sequence
  // numbers for DPD): a repeated ID is refused, so a captured R-U-THERE or
  // ACK cannot keep a dead peer looking alive.
  std::vector<std::uint32_t> recent_informational_ids;

  // Phase 1 negotiation.
  std::vector<Phase1Suite> offered;     // initiator: our transforms; responder: the chosen one
  std::optional<Phase1Suite> suite;     // agreed
  Bytes sai_b;                          // the initiator's SA payload body, as sent
  Bytes peer_id_b;                      // Aggressive Mode responder: IDii_b, for HASH_I in message 3
  std::optional<config::Identity> peer_identity;  // Aggressive Mode responder: IDii, for its certificate
  std::string first_seen_from;          // responder: the address message 1 came from (its index key)
  std::optional<corridor::ike::DiffieHellman> dh;
  Bytes g_xi, g_xr;                     // KE data
  Bytes ni_b, nr_b;                     // nonce data
  std::optional<corridor::ikev1::Phase1Keys> keys;
  std::optional<corridor::ikev1::Phase1Cipher> cipher;
  corridor::ikev1::IvChain iv;          // the Phase 1 chain; after MM_DONE the base of Phase 2 IVs

  // RFC 3947 / RFC 3706 support the peer announced, and what NAT-D found.
  bool peer_nat_t = false;
  bool peer_dpd = false;
  bool peer_fragmentation = false;  // VID "FRAGMENTATION" (fragmentation.h)
  Reassembly reassembly;            // the peer's fragments of one message
  bool nat_local = false;   // we are behind a NAT
  bool nat_remote = false;  // the peer is
  bool nat_detected() const { return nat_local || nat_remote; }
  TimePoint next_keepalive = TimePoint::max();  // behind a NAT once established: the next RFC 3948 keepalive

  std::string local_id;   // as logged and listed ("@gw.example.net", "192.0.2.1")
  std::string remote_id;

  // Lifetime (reestablish.cc). IKEv1 cannot rekey an
  // ISAKMP SA: a new one is negotiated (Main or Aggressive Mode again) at
  // reestablish_at, takes over the IPsec SAs, and this one is deleted.
  // expire_at is the negotiated lifetime: the SA is deleted then at the latest.
  TimePoint reestablish_at = TimePoint::max();
  TimePoint expire_at = TimePoint::max();
  std::uint64_t replaces = 0;     // the new SA: the id of the one it re-establishes
  std::uint64_t replacement = 0;  // the old SA: the id of its replacement while that negotiates
  // A newer ISAKMP SA with the same peer took the IPsec SAs: this one
  // neither probes nor re-establishes, and waits for its Delete or lifetime.
  bool superseded = false;

  // Dead Peer Detection (RFC 3706), our side (dpd.cc): R-U-THERE sequence
  // numbers start at a random value and count up; a probe is outstanding
  // from dpd_first_sent until anything authenticated comes back.
  std::uint32_t dpd_seq = 0;
  bool dpd_outstanding = false;
  TimePoint dpd_first_sent{};
  TimePoint dpd_last_sent{};
  std::optional<TimePoint> dpd_last_acked;

  LastSent last_sent;
  Bytes last_received_datagram;  // the peer's last message, to recognise a retransmission

  // Phase 2.
  std::vector<const config::ChildConfig*> pending_children;  // Quick Modes to start at MM_DONE
  std::map<std::uint32_t, QuickMode> quick_modes;
  std::vector<IpsecSa> ipsec_sas;

  // "conn[7]", as the log names it.
  std::string name() const;
  bool initiator() const { return role == Role::initiator; }
  const Cookie& our_cookie() const { return initiator() ? cookie_i : cookie_r; }
  // CKY-I | CKY-R: the SPI of Delete and notifications about the ISAKMP SA.
  Bytes cookie_pair() const;
};

// How logs and views write IKEv1 things: "192.0.2.1[500]", "c1a2b3c4"
// (SPIs as strongSwan logs them), "0102...0f" (cookies).
std::string endpoint_text(const net::SocketAddress& a);
std::string hex32(std::uint32_t v);
std::string hex(std::span<const std::uint8_t> bytes);

}  // namespace corridor::control::ikev1
