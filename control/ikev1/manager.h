// The IKEv1 SA manager: owns every ISAKMP SA, routes each received ISAKMP
// datagram to its SA and mode handler, retransmits, times out half-open
// negotiations, and answers what it cannot accept with the notification
// RFC 2408 names.
//
// Like the IKEv2 manager it does no I/O of its own: datagrams come in
// through receive(), time through tick(), and leave through the shared
// Transport (control/ike/transport.h), so two managers can be joined in
// memory in tests. One file per mode: main_mode.cc (Phase 1, Main Mode);
// dispatch, sending, timers and the SA table are in manager.cc.
//
// What is here today: Main Mode (main_mode.cc) and Aggressive Mode
// (aggressive_mode.cc) with pre-shared keys or certificates
// (authentication.cc), both roles, NAT-T
// (RFC 3947) detection and the float to port 4500, retransmission; Quick
// Mode (quick_mode.cc) with PFS, both roles, installing the IPsec SA pair;
// protected Informational exchanges (informational.cc): Delete, DPD
// answers; IPsec SA renewal and expiry; Dead Peer Detection (dpd.cc);
// ISAKMP SA re-establishment and INITIAL-CONTACT (reestablish.cc).
//
// Every state change goes through transition(), which checks it against
// the tables of state.h and logs it as "MM_SA_SENT -> MM_SA_RCVD".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/model.h"
#include "common/ikev1/message.h"
#include "control/ike/pubkey_auth.h"
#include "control/ike/sa_event.h"
#include "control/ike/credentials.h"
#include "control/ike/traps.h"
#include "control/ike/spi_registry.h"
#include "control/ike/transport.h"
#include "control/ikev1/isakmp_sa.h"

namespace corridor::control::ikev1 {

struct ManagerOptions {
  // Retransmission of our requests, strongSwan's defaults: 4 s, x1.8, 5 resends.
  std::chrono::milliseconds retransmit_timeout{4000};
  double retransmit_base = 1.8;
  unsigned retransmit_tries = 5;
  // A negotiation that has not reached MM_DONE in this time is dropped.
  std::chrono::seconds phase1_timeout{30};
  std::uint16_t nat_t_port = 4500;
  // NAT keepalives (RFC 3948 §4) from an established ISAKMP SA when we are
  // behind a NAT, so the mapping stays open while no IKE message flows.
  std::chrono::seconds keepalive_interval{20};
  // Randomness for cookies and nonces; RAND_bytes unless a test injects its own.
  std::function<void(std::span<std::uint8_t>)> random;
  // Inbound SPIs shared with the IKEv2 manager (one dataplane); none: our own.
  std::shared_ptr<ike::SpiRegistry> spis;
  std::uint32_t nonce_size = 32;
  // The IP datagram size a fragment is kept within (strongSwan's
  // charon.fragment_size); larger messages go in fragments when the
  // connection's `fragmentation` and the peer allow (fragmentation.h).
  std::size_t fragment_size = 1280;
  // SA channel ids of IPsec SAs and policies start here, far from the
  // IKEv2 manager's (which count from its first_channel_id), so both can
  // share one channel; the daemon adds its control generation
  // (control/daemon/sa_sync.h, channel_id_base()).
  std::uint64_t first_channel_id = std::uint64_t{1} << 48;
  // ISAKMP SA ids start above this, apart from the IKEv2 manager's, so one
  // API can list and address both.
  std::uint64_t first_sa_id = std::uint64_t{1} << 40;
  // A finished Quick Mode is kept this long to answer a repeated message 2.
  std::chrono::seconds quick_mode_linger{30};
  // An IPsec SA replaced by a rekey stays this long, so packets already on
  // their way on it still arrive (strongSwan's delete_rekeyed_delay).
  std::chrono::seconds retire_delay{5};
  // A failed re-establishment of an ISAKMP SA is tried again after this
  // (while its lifetime lasts).
  std::chrono::seconds reestablish_retry{30};
  // When the last ESP/AH packet arrived on an inbound IPsec SA (its SA
  // channel id), from the dataplane's counters; nullopt: never or unknown.
  // Unset: DPD goes by IKE messages alone.
  std::function<std::optional<TimePoint>(std::uint64_t channel_sa_id)> last_inbound_packet;
  // Called for every SA event (ISAKMP SA up/down/re-established as
  // ike-*, IPsec SAs as child-*), synchronously; must not call back into
  // the manager.
  std::function<void(const ike::SaEvent&)> on_event;
  // An IPsec SA closed by a dead peer (dpd_action trap) or by the peer's
  // Delete (close_action trap) is to be trapped, as for IKEv2.
  std::function<void(const config::ConnectionConfig&, const config::ChildConfig&, ike::TrapOrigin)> on_trap;
};

struct ManagerStats {
  std::uint64_t received = 0;
  std::uint64_t sent = 0;
  std::uint64_t retransmitted = 0;
  std::uint64_t duplicates = 0;  // a repeated message answered with our last one
  std::uint64_t phase1_established = 0;
  std::uint64_t phase1_failed = 0;
  std::uint64_t quick_modes_failed = 0;
  std::uint64_t ipsec_sas_installed = 0;
  std::uint64_t ipsec_sas_deleted = 0;
  std::uint64_t ipsec_sas_rekeyed = 0;  // Quick Modes that renewed an IPsec SA before it expired
  std::uint64_t ipsec_sas_expired = 0;  // reached their lifetime without being renewed
  std::uint64_t ipsec_rekey_collisions = 0;  // both ends renewed one IPsec SA at once; one new pair went
  std::uint64_t phase1_reestablished = 0;  // ISAKMP SAs renewed by a new Main/Aggressive Mode of ours
  std::uint64_t phase1_expired = 0;        // ISAKMP SAs that reached their lifetime
  std::uint64_t initial_contact_replaced = 0;  // ISAKMP SAs dropped for a peer's INITIAL-CONTACT
  std::uint64_t dpd_sent = 0;       // R-U-THERE probes of ours
  std::uint64_t dpd_acks = 0;       // R-U-THERE-ACKs to them
  std::uint64_t dpd_answered = 0;   // the peer's R-U-THEREs we acknowledged
  std::uint64_t dpd_dead_peers = 0;  // ISAKMP SAs closed by DPD
  std::uint64_t children_restarted_on_close = 0;  // IPsec SAs the peer deleted, negotiated again (close_action start)
  std::uint64_t nat_keepalives = 0;  // RFC 3948 keepalives sent from behind a NAT
  std::uint64_t fragments_sent = 0;      // IKEv1 fragments of our messages (fragmentation.h)
  std::uint64_t fragments_received = 0;  // the peer's fragments accepted
  std::uint64_t messages_reassembled = 0;
  std::map<std::string, std::uint64_t> drops;
  std::map<std::string, std::uint64_t> notifies_sent;
  std::map<std::string, std::uint64_t> notifies_received;
};

struct IpsecSaView {
  std::string name;
  std::string state;     // "QM_DONE" (installed), "REKEYED" (renewed, about to go)
  std::string protocol;  // "ESP" / "AH"
  std::string mode;      // "TUNNEL" / "TRANSPORT"
  std::uint32_t spi_in = 0;
  std::uint32_t spi_out = 0;
  std::uint64_t sa_id_in = 0;  // SA channel ids, to join the dataplane's counters
  std::uint64_t sa_id_out = 0;
  std::string proposal;   // "ESP:AES_CBC_128/HMAC_SHA2_256_128/MODP_2048/NO_EXT_SEQ"
  std::string pfs_group;  // "MODP_2048"; empty: no PFS
  bool esn = false;
  bool encap = false;
  std::vector<std::string> local_ts;
  std::vector<std::string> remote_ts;
  TimePoint installed_at{};
  TimePoint rekey_at = TimePoint::max();  // max: none scheduled
  TimePoint expire_at = TimePoint::max();
};

// What the SA list shows of one ISAKMP SA, in the IKE SA list's words
// where they mean the same (the cookies are the IKE SPIs).
struct IsakmpSaView {
  std::uint64_t id = 0;
  std::string name;  // "conn[3]"
  std::string connection;
  std::string state;  // "MM_DONE", "MM_KE_SENT", ...
  bool initiator = false;
  net::SocketAddress local;
  net::SocketAddress remote;
  std::string cookie_i;  // hex
  std::string cookie_r;
  std::string proposal;  // "IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"
  std::string local_id;
  std::string remote_id;
  bool nat_local = false;
  bool nat_remote = false;
  TimePoint created_at{};
  std::optional<TimePoint> established_at;
  TimePoint last_received{};
  TimePoint reestablish_at = TimePoint::max();  // max: none scheduled
  TimePoint expire_at = TimePoint::max();
  bool superseded = false;  // a newer ISAKMP SA with the peer holds the IPsec SAs
  std::chrono::seconds dpd_delay{0};  // the connection's; 0: no probes
  std::optional<TimePoint> dpd_last_sent;
  std::optional<TimePoint> dpd_last_acked;
  std::vector<IpsecSaView> children;
  std::vector<std::string> quick_modes;  // "QM_INIT_SENT 0x1a2b3c4d" of exchanges under way
};

class Manager {
 public:
  // The daemon's form: the config is shared with the daemon and replaced by
  // reconfigure().
  Manager(std::shared_ptr<const config::Config> config, ike::Transport& transport, ike::ChildSaSink& sink,
          ManagerOptions options = {});
  // Tests' form: `config` must outlive the manager.
  Manager(const config::Config& config, ike::Transport& transport, ike::ChildSaSink& sink, ManagerOptions options = {});
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // An ISAKMP datagram (major version 1) received on one of our IKE ports,
  // without the non-ESP marker.
  void receive(const net::SocketAddress& local, const net::SocketAddress& remote,
               std::span<const std::uint8_t> datagram, TimePoint now);
  // Starts Quick Mode for `child` of a version 1 connection (empty: its
  // first child), over its established ISAKMP SA or after a new Main Mode.
  // False, with the reason logged and in `why`, if it cannot.
  bool initiate(std::string_view connection, std::string_view child, TimePoint now, std::string* why = nullptr);
  // Whether an IPsec SA of `child` (of `connection`) is up, or a Quick
  // Mode for it is under way or waiting for Phase 1: an acquire for it
  // then starts nothing.
  bool child_active(std::string_view connection, std::string_view child) const;
  // Initiates every child of a version 1 connection whose start_action is `start`.
  void start(TimePoint now);
  // Retransmissions and timeouts.
  void tick(TimePoint now);
  // A new config (PUT /config): SAs of connections named in `unchanged`
  // move over to `next`'s copy of their connection; those of changed or
  // removed connections are deleted (a Delete to the peer when
  // established); children of added and changed IKEv1 connections with
  // start_action start are initiated. Returns how many SAs were deleted.
  std::size_t reconfigure(std::shared_ptr<const config::Config> next, const std::vector<std::string>& unchanged,
                          TimePoint now);
  // Deletes every ISAKMP SA: established ones tell the peer (Delete of the
  // IPsec SAs, then of the ISAKMP SA); all leave the dataplane. One the
  // peer may already hold as established, because its last message is
  // the peer's to send (Main Mode 6 to our 5, Aggressive Mode 3 to our 2),
  // stays until that message comes, then is deleted with a Delete too: an
  // Informational needs the IV that message sets (RFC 2409 Appendix B),
  // and removed silently it would be left standing at the peer.
  // Nothing is initiated any more; drained() says when no SA waits.
  void shutdown(TimePoint now);
  bool drained() const;
  // The end of the wait: removes every SA left, without telling the peer
  // about those not established.
  void finish_shutdown(TimePoint now);

  std::vector<IsakmpSaView> list() const;
  // One page in id order: the SAs after `after_id` of `connection` (empty:
  // all) in `state` (empty: all), at most `limit`; `more` says whether any
  // is left after.
  std::vector<IsakmpSaView> list(std::uint64_t after_id, std::size_t limit, std::string_view connection,
                                 std::string_view state, bool* more) const;
  std::optional<IsakmpSaView> find(std::uint64_t id) const;
  // Deletes an ISAKMP SA and its IPsec SAs (a Delete to the peer when
  // established); false with the reason if there is no such SA.
  bool terminate(std::uint64_t id, TimePoint now, std::string* why = nullptr);
  // Operator commands (operator.cc), false with the reason when refused.
  // rekey: IKEv1 cannot rekey an ISAKMP SA, so a new Main/Aggressive Mode
  // starts now and takes the IPsec SAs over (reestablish.cc).
  bool rekey(std::uint64_t id, TimePoint now, std::string* why = nullptr);
  // A new Quick Mode renewing the IPsec SA with inbound SPI `spi_in` now.
  bool rekey_ipsec(std::uint64_t id, std::uint32_t spi_in, TimePoint now, std::string* why = nullptr);
  // Deletes that IPsec SA, with a Delete to the peer.
  bool delete_ipsec(std::uint64_t id, std::uint32_t spi_in, TimePoint now, std::string* why = nullptr);
  // Deletes every IPsec SA of child `child` of `connection` (POST
  // /connections/{name}/children/{child}/terminate), with a Delete to the
  // peer; pairs being retired after a renewal go their own way. Returns
  // how many.
  std::size_t terminate_children(std::string_view connection, std::string_view child, TimePoint now);
  // The dataplane's volume lifetime event for one of our SA records
  // (rekey_bytes/rekey_packets soft, life_* hard): soft renews the IPsec
  // SA by Quick Mode, hard deletes it. False if the id is not ours.
  bool lifetime_reached(std::uint64_t channel_sa_id, bool hard, TimePoint now);
  // Renews the IPsec SA with this SA channel id (either direction's) by a
  // new Quick Mode for `reason` (logged), unless one is under way or it was
  // renewed already. False if no IPsec SA has that id.
  bool renew_ipsec_sa(std::uint64_t channel_sa_id, std::string_view reason, TimePoint now);
  // The same for many ids in one walk over the SAs (a restarted dataplane's
  // withheld SAs); returns the ids no IPsec SA has.
  std::vector<std::uint64_t> renew_ipsec_sas(const std::vector<std::uint64_t>& channel_sa_ids, std::string_view reason,
                                             TimePoint now);
  // The connection of each installed IPsec SA's channel ids (traffic ledger).
  void visit_channel_ids(const std::function<void(std::uint64_t sa_id, const std::string& connection)>& visit) const;
  const ManagerStats& stats() const { return stats_; }
  std::size_t sa_count() const { return sas_.size(); }

 private:
  // manager.cc: the SA table, sending, receiving, timers.
  IsakmpSa& create_sa(const config::ConnectionConfig* connection, Role role, TimePoint now);
  IsakmpSaView view(const IsakmpSa& sa) const;
  void remove_sa(std::uint64_t id);
  void emit(ike::SaEvent::Kind kind, const IsakmpSa& sa, const IpsecSa* ipsec = nullptr, std::uint64_t old_id = 0,
            std::uint32_t old_spi_in = 0);
  IsakmpSa* find_sa(const codec::Header& header, const net::SocketAddress& remote);
  // Moves the SA to `to` if the state tables allow it, logging the step;
  // otherwise logs the refusal and returns false.
  bool transition(IsakmpSa& sa, State to);
  void fail(IsakmpSa& sa, std::string_view why);
  void drop(std::string_view reason, std::string_view detail);
  Bytes random_bytes(std::size_t n);
  // A clear message of the SA's Phase 1 exchange; with `request` it is
  // retransmitted until answered.
  bool send_clear(IsakmpSa& sa, std::vector<codec::Payload> payloads, bool request, TimePoint now);
  // A message encrypted with the Phase 1 key on `chain` (the Phase 1 chain,
  // or a Quick Mode's / Informational's own); kept in `last` for resending.
  bool send_encrypted(IsakmpSa& sa, v1::ExchangeType exchange, std::uint32_t message_id,
                      corridor::ikev1::IvChain& chain, LastSent& last, const std::vector<codec::Payload>& payloads,
                      bool request, TimePoint now);
  // Whole, or in fragments when too large and fragmentation is on for the SA.
  void send_datagram(IsakmpSa& sa, const Bytes& datagram);
  // A fragment message: kept until its message is whole, which is then
  // handled as received.
  void fragment_received(const codec::ParsedHeader& header, const net::SocketAddress& local,
                         const net::SocketAddress& remote, std::span<const std::uint8_t> datagram, TimePoint now);
  // An unencrypted Informational with one notification (before keys exist).
  void send_clear_notify(const codec::Header& about, const net::SocketAddress& local,
                         const net::SocketAddress& remote, iana::ikev1::NotifyType type);
  // Decrypts a Phase 1 message on the SA's chain without advancing it;
  // nullopt (logged, counted) if it does not decrypt and parse.
  struct Opened {
    Bytes plaintext;
    std::vector<codec::Payload> payloads;
    std::vector<codec::PayloadSpan> spans;
  };
  std::optional<Opened> open(IsakmpSa& sa, const codec::ParsedHeader& header, std::span<const std::uint8_t> datagram,
                             const corridor::ikev1::IvChain& chain);
  // Everything after the first payload (a HASH) up to the end of the last
  // payload: what HASH(1)/HASH(2) and the Informational HASH cover.
  static std::span<const std::uint8_t> after_hash(const Opened& message);
  // The IV of a new Quick Mode or Informational exchange.
  std::optional<corridor::ikev1::IvChain> phase2_chain(const IsakmpSa& sa, std::uint32_t message_id);
  std::uint32_t random_message_id(const IsakmpSa& sa);
  // The peer sent the message we answered last again: answer again.
  bool answered_before(IsakmpSa& sa, std::span<const std::uint8_t> datagram);

  // authentication.cc: pre-shared keys or certificates, both modes.
  using Credentials = ike::Credentials;
  // Loaded on first use, kept until reconfigure() (the trust anchors
  // again when a CRL file changes).
  const Credentials& credentials(const config::ConnectionConfig& conn) const;
  // The Authentication Method a connection uses: PRE_SHARED_KEY, or the
  // signature method of its certificate's key; nullopt and `why` if the
  // config or the credentials do not allow one.
  std::optional<v1::Phase1Auth> phase1_method(const config::ConnectionConfig& conn, std::string* why) const;
  // The PSK for the SA's connection (and identities), or nullptr.
  const config::Secret* psk_for(const IsakmpSa& sa) const;
  // Ours: the configured id, else the certificate subject (certificates)
  // or the IKE address (PSK), as swanctl does.
  config::Identity local_identity(const IsakmpSa& sa) const;
  // CERTREQ payloads, one per trusted CA, when signatures authenticate.
  std::vector<codec::Payload> certificate_requests(const IsakmpSa& sa) const;
  // SKEYID for the agreed method (fails the SA when it cannot).
  std::optional<config::SecretBytes> skeyid(IsakmpSa& sa, std::span<const std::uint8_t> g_xy);
  // Our ID payload (and sa.local_id).
  std::optional<codec::Payload> own_identification(IsakmpSa& sa);
  // What proves that ID: HASH_I/HASH_R, or our CERTs and SIG.
  std::optional<std::vector<codec::Payload>> proof_payloads(IsakmpSa& sa, const codec::Payload& id_payload);
  // Both: our ID and its proof for Main Mode 5/6 and Aggressive Mode 2.
  std::optional<std::vector<codec::Payload>> identity_payloads(IsakmpSa& sa);
  // Checks the peer's ID (against remote.id) and its proof in Main Mode
  // 5/6 and Aggressive Mode 2; fails the SA with the reason otherwise.
  bool verify_identity(IsakmpSa& sa, const Opened& message);
  // The peer's HASH or CERTs and SIG for the ID payload body `id_b`.
  bool verify_proof(IsakmpSa& sa, const std::vector<codec::Payload>& payloads, std::span<const std::uint8_t> id_b,
                    const config::Identity& peer);

  // main_mode.cc.
  // The responder's connection for a Phase 1 offer: the first IKEv1 one
  // (in config order) whose addresses fit, whose credentials load, whose
  // suites (with its Authentication Method) accept one of the offered
  // transforms and, in Aggressive
  // Mode (`peer`: the identity of message 1), which sets `aggressive` and
  // whose remote.id accepts `peer`. nullopt with each connection's reason
  // in `mismatches`.
  struct Phase1Choice {
    const config::ConnectionConfig* connection = nullptr;
    Phase1Selection selection;
  };
  std::optional<Phase1Choice> choose_connection(const codec::SecurityAssociation& offer, const net::SocketAddress& local,
                                                const net::SocketAddress& remote, const config::Identity* peer,
                                                std::vector<std::string>* mismatches) const;
  bool start_main_mode(IsakmpSa& sa, TimePoint now);
  void main_mode_request_1(const codec::ParsedHeader& header, const std::vector<codec::Payload>& payloads,
                           std::span<const std::uint8_t> body, const net::SocketAddress& local,
                           const net::SocketAddress& remote, TimePoint now);
  void main_mode_response_2(IsakmpSa& sa, const codec::ParsedHeader& header,
                            const std::vector<codec::Payload>& payloads, TimePoint now);
  void main_mode_request_3(IsakmpSa& sa, const std::vector<codec::Payload>& payloads, TimePoint now);
  void main_mode_response_4(IsakmpSa& sa, const std::vector<codec::Payload>& payloads, TimePoint now);
  void main_mode_request_5(IsakmpSa& sa, const codec::ParsedHeader& header, std::span<const std::uint8_t> datagram,
                           const net::SocketAddress& local, const net::SocketAddress& remote, TimePoint now);
  void main_mode_response_6(IsakmpSa& sa, const codec::ParsedHeader& header, std::span<const std::uint8_t> datagram,
                            TimePoint now);
  // KE and nonce of ours (Main Mode 3/4, Aggressive Mode 1/2), CERTREQs
  // when signatures authenticate, and the NAT-D payloads when `with_nat_d`.
  std::optional<std::vector<codec::Payload>> key_exchange_payloads(IsakmpSa& sa, bool with_nat_d);
  std::optional<std::vector<codec::Payload>> nat_d_payloads(IsakmpSa& sa);
  // RFC 3947 §3.2: compares the peer's NAT-D hashes with what we see.
  void detect_nat(IsakmpSa& sa, const std::vector<codec::Payload>& payloads);
  // Reads the peer's KE, nonce and NAT-D; derives SKEYID and the keys.
  bool take_key_exchange(IsakmpSa& sa, const std::vector<codec::Payload>& payloads);
  void established(IsakmpSa& sa, TimePoint now);

  // aggressive_mode.cc.
  bool start_aggressive_mode(IsakmpSa& sa, TimePoint now);
  void aggressive_request_1(const codec::ParsedHeader& header, const std::vector<codec::Payload>& payloads,
                            std::span<const std::uint8_t> body, const net::SocketAddress& local,
                            const net::SocketAddress& remote, TimePoint now);
  void aggressive_response_2(IsakmpSa& sa, const codec::ParsedHeader& header, std::span<const std::uint8_t> body,
                             const std::vector<codec::Payload>& payloads, TimePoint now);
  void aggressive_request_3(IsakmpSa& sa, const codec::ParsedHeader& header, std::span<const std::uint8_t> datagram,
                            const net::SocketAddress& local, const net::SocketAddress& remote, TimePoint now);

  // quick_mode.cc.
  // With `rekeys_spi_in`, the Quick Mode renews that IPsec SA.
  bool start_quick_mode(IsakmpSa& sa, const config::ChildConfig& child, TimePoint now, std::uint32_t rekeys_spi_in = 0);
  // A new Quick Mode for `ipsec` (renew_ipsec_sa, a soft volume limit).
  void renew(IsakmpSa& sa, IpsecSa& ipsec, std::string_view reason, TimePoint now);
  void quick_mode_message(IsakmpSa& sa, const codec::ParsedHeader& header, std::span<const std::uint8_t> datagram,
                          TimePoint now);
  void quick_mode_request_1(IsakmpSa& sa, const codec::ParsedHeader& header, std::span<const std::uint8_t> datagram,
                            TimePoint now);
  void quick_mode_response_2(IsakmpSa& sa, QuickMode& qm, const Opened& message, TimePoint now);
  void quick_mode_request_3(IsakmpSa& sa, QuickMode& qm, const Opened& message, TimePoint now);
  // HASH(n) followed by `rest` (whose bytes the hash covers), encrypted on qm's chain.
  bool send_quick_mode(IsakmpSa& sa, QuickMode& qm, std::vector<codec::Payload> rest, bool request, TimePoint now);
  // The Quick Mode's two SA records to the dataplane (KEYMAT, no policy).
  bool push_ipsec_keys(IsakmpSa& sa, QuickMode& qm);
  // The pair in full: SA records if not pushed yet, policies (taking over a
  // predecessor's outbound ones), lifetimes; the IpsecSa joins sa.ipsec_sas.
  bool install_ipsec_sa(IsakmpSa& sa, QuickMode& qm, TimePoint now);
  // A Quick Mode that ends before QM_DONE: its SPI and any pushed SA records go.
  void abandon(QuickMode& qm);
  void quick_mode_failed(IsakmpSa& sa, std::uint32_t message_id, std::string_view why, TimePoint now);
  std::uint32_t random_spi();
  bool step(IsakmpSa& sa, QuickMode& qm, State to);
  // Retransmits our Quick Mode messages, gives up on unanswered ones,
  // forgets finished ones after quick_mode_linger.
  void tick_quick_modes(IsakmpSa& sa, TimePoint now);

  // dpd.cc.
  // R-U-THERE answered, R-U-THERE-ACK matched to our probe.
  void dpd_notify(IsakmpSa& sa, const codec::Notification& n, TimePoint now);
  // Sends a probe when due; true when the peer is to be declared dead.
  bool tick_dpd(IsakmpSa& sa, TimePoint now);
  bool ipsec_traffic_since(const IsakmpSa& sa, TimePoint since) const;
  // Closes the SA without a message and applies each child's dpd_action.
  void peer_dead(IsakmpSa& sa, TimePoint now);

  // reestablish.cc.
  // At MM_DONE/AM_DONE: when to re-establish and when the SA ends.
  void schedule_lifetime(IsakmpSa& sa, TimePoint now);
  // Starts a new Main/Aggressive Mode that will take over `old`'s IPsec SAs.
  bool reestablish(IsakmpSa& old, TimePoint now);
  // At MM_DONE/AM_DONE: the IPsec SAs of older ISAKMP SAs with the same
  // peer move to `sa`; the one it re-establishes is deleted. Returns the
  // id of the SA it took over from (0: none).
  std::uint64_t adopt_ipsec_sas(IsakmpSa& sa, TimePoint now);
  // Same connection, peer address and peer identity.
  static bool same_peer(const IsakmpSa& a, const IsakmpSa& b);
  // The newest other established ISAKMP SA with the same peer, or nullptr.
  IsakmpSa* successor(const IsakmpSa& sa);
  // A Delete of the ISAKMP SA alone (its IPsec SAs live on elsewhere).
  void delete_isakmp_only(IsakmpSa& sa, TimePoint now, std::string_view why);
  // Whether another established ISAKMP SA with this peer exists (no
  // INITIAL-CONTACT then).
  bool has_contact(const IsakmpSa& sa) const;
  static codec::Payload initial_contact(const IsakmpSa& sa);
  // The peer sent INITIAL-CONTACT in an authenticated message: older SAs go.
  void honour_initial_contact(IsakmpSa& sa, const std::vector<codec::Payload>& payloads);
  void tick_lifetime(IsakmpSa& sa, TimePoint now, std::vector<std::uint64_t>& ended);

  // informational.cc.
  void informational(IsakmpSa& sa, const codec::ParsedHeader& header, std::span<const std::uint8_t> datagram,
                     TimePoint now);
  // An Informational exchange protected with HASH(1) (RFC 2409 §5.7).
  bool send_informational(IsakmpSa& sa, std::vector<codec::Payload> payloads, TimePoint now);
  // Out of the dataplane, with a child-down event unless it was renewed.
  void uninstall(const IsakmpSa& sa, IpsecSa& ipsec);
  // Uninstalls these IPsec SAs (by inbound SPI) and tells the peer.
  void delete_ipsec_sas(IsakmpSa& sa, const std::vector<std::uint32_t>& spis_in, TimePoint now);
  // Lifetimes of the installed IPsec SAs: rekey, expiry, retirement.
  void tick_ipsec_sas(IsakmpSa& sa, TimePoint now);
  // Sends a Delete for these inbound SPIs of ours (one Informational).
  void send_delete_ipsec(IsakmpSa& sa, v1::ProtocolId protocol, const std::vector<std::uint32_t>& spis_in, TimePoint now);
  // Removes the SA and its IPsec SAs from the dataplane (no message).
  void discard(IsakmpSa& sa);
  // Deletes an SA: tells the peer when established, then removes it.
  void delete_sa(IsakmpSa& sa, TimePoint now, std::string_view why);

  std::shared_ptr<const config::Config> config_;
  ike::Transport& transport_;
  ike::ChildSaSink& sink_;
  ManagerOptions options_;
  std::map<std::uint64_t, std::unique_ptr<IsakmpSa>> sas_;
  std::map<Cookie, std::uint64_t> by_our_cookie_;
  // Responder SAs by the initiator's cookie and address, for a repeated message 1.
  std::map<std::pair<Cookie, std::string>, std::uint64_t> by_peer_cookie_;
  std::uint64_t next_sa_id_ = 0;
  std::uint64_t next_channel_id_ = 0;  // set from options.first_channel_id
  std::uint64_t install_seq_ = 0;      // counts IPsec SA installations (renewal collisions)
  std::shared_ptr<ike::SpiRegistry> spis_;  // inbound SPIs in use or reserved
  std::size_t reassembly_bytes_ = 0;         // held in all SAs' unfinished fragments (kMaxReassemblyBudget)
  mutable std::map<const config::ConnectionConfig*, Credentials> credentials_;
  ManagerStats stats_;
  bool stopping_ = false;  // shutdown() began: nothing is initiated any more
};

}  // namespace corridor::control::ikev1
