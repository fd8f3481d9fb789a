// The IKEv2 SA manager: owns every IKE SA, routes each received datagram
// to its SA and exchange, runs retransmissions and timeouts, and hands
// established Child SAs to the dataplane through a ChildSaSink.
//
// It does no I/O of its own. The daemon gives it datagrams (receive) and
// time (tick), and it sends through a Transport, so the same code runs
// behind real UDP sockets and, in tests, between two managers joined in
// memory. One handler file per exchange: ike_sa_init.cc, ike_auth.cc,
// informational.cc; dispatch, timers and the SA table are in manager.cc.
//
// Drops are counted under a name (ManagerStats::drops) and logged; nothing
// a peer sends makes the manager throw or stop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/channel/records.h"
#include "common/config/model.h"
#include "common/ike/message.h"
#include "control/ike/spi_registry.h"
#include "control/ike/transport.h"
#include "control/ikev2/cookie.h"
#include "control/ikev2/fragmentation.h"
#include "control/ikev2/ike_sa.h"
#include "control/ike/pubkey_auth.h"
#include "control/ike/sa_event.h"
#include "control/ike/credentials.h"
#include "control/ike/traps.h"

namespace corridor::control::ikev2 {

// The ports both IKE versions share (control/ike/transport.h).
using Transport = ike::Transport;
using ChildSaSink = ike::ChildSaSink;
// Certificates and signatures (control/ike/pubkey_auth.h).
using ike::LocalCredential;
using ike::SignOptions;
using ike::TrustStore;
using ike::VerifyOptions;
using ike::parse_signature_hash_algorithms;
using ike::signature_hash_algorithms_notify_data;
using ike::verify_peer;

// SA set changes for the API's event stream (control/ike/sa_event.h).
using SaEvent = ike::SaEvent;
using ike::to_string;

struct ManagerOptions {
  // Retransmission (RFC 7296 §2.1), strongSwan's defaults: 4 s, x1.8, 5 resends.
  std::chrono::milliseconds retransmit_timeout{4000};
  double retransmit_base = 1.8;
  unsigned retransmit_tries = 5;
  // A responder's half-open SA that sees no IKE_AUTH in this time is dropped.
  std::chrono::seconds half_open_timeout{30};
  // NAT keepalives (RFC 3948 §2.3) when we are behind a NAT.
  std::chrono::seconds keepalive_interval{20};
  // When the dataplane last saw a packet on an inbound SA (by SA channel
  // id), if it has reported one: ESP from the peer is a sign of life as
  // good as an IKE message (RFC 7296 §2.4), so no liveness check is sent
  // while it flows. Unset: only IKE messages count.
  std::function<std::optional<TimePoint>(std::uint64_t channel_sa_id)> last_inbound_packet;
  std::uint16_t nat_t_port = 4500;
  // Randomness for SPIs and nonces; RAND_bytes unless a test injects its own.
  std::function<void(std::span<std::uint8_t>)> random;
  // Inbound Child SA SPIs shared with the IKEv1 manager (one dataplane);
  // none: our own.
  std::shared_ptr<corridor::control::ike::SpiRegistry> spis;
  std::uint32_t nonce_size = 32;
  // A Child SA pair replaced by a rekey or a reauthentication leaves its
  // inbound SA (and the inbound policies that check what it delivers) in
  // the dataplane this long after the pair is deleted, its SPI still
  // reserved: the peer's packets sent on the old SA just before it switched,
  // or queued behind its Delete, are still decrypted, not counted as
  // no_sa. strongSwan's delete_rekeyed_delay; IKEv1's retire_delay. 0: at once.
  std::chrono::seconds retire_delay{5};
  // SA channel ids of Child SAs and policies count up from here. The daemon
  // puts its control generation in the high bits (channel_id_base()), so a
  // restarted corridor-control never reuses an id its predecessor left in
  // the dataplane.
  std::uint64_t first_channel_id = 0;
  // Half-open responder SAs (RFC 7296 §2.6), strongSwan's defaults: past
  // cookie_threshold overall or cookie_threshold_ip from one address an
  // IKE_SA_INIT must carry a valid COOKIE; past block_threshold_ip from one
  // address requests are dropped. The cookie secret changes every
  // cookie_secret_lifetime.
  std::size_t cookie_threshold = 30;
  std::size_t cookie_threshold_ip = 3;
  std::size_t block_threshold_ip = 5;
  std::chrono::seconds cookie_secret_lifetime{120};
  // Called for every SaEvent, synchronously; must not call back into the
  // manager.
  std::function<void(const SaEvent&)> on_event;
  // A child closed by a dead peer (dpd_action trap) or by the peer's
  // Delete (close_action trap) is to be trapped (control/ike/traps.h).
  // Unset: such a child stays closed, as with clear / none (logged).
  std::function<void(const config::ConnectionConfig&, const config::ChildConfig&, ike::TrapOrigin)> on_trap;
};

// Counters an operator (and the REST API) reads. Drops are keyed by a
// stable name, e.g. "unknown_spi", "integrity_failed".
struct ManagerStats {
  std::uint64_t received = 0;
  std::uint64_t sent = 0;
  std::uint64_t retransmitted = 0;
  std::uint64_t duplicate_requests = 0;  // answered from the response cache
  std::uint64_t cookies_sent = 0;        // IKE_SA_INIT answered with N(COOKIE) only
  std::uint64_t fragments_received = 0;  // RFC 7383 fragments accepted
  std::uint64_t messages_reassembled = 0;
  std::uint64_t ike_sas_established = 0;
  std::uint64_t ike_sas_failed = 0;
  std::uint64_t child_sas_installed = 0;
  std::uint64_t liveness_checks_sent = 0;
  std::uint64_t child_sas_rekeyed = 0;
  std::uint64_t child_rekey_collisions = 0;  // both ends rekeyed one Child SA at once (§2.8.1)
  std::uint64_t ike_sas_rekeyed = 0;
  std::uint64_t ike_rekey_collisions = 0;    // both ends rekeyed one IKE SA at once (§2.8.2)
  std::uint64_t ike_sas_reauth_started = 0;  // reauthentications begun (reauth_time or the operator)
  std::uint64_t ike_sas_reauthenticated = 0; // ... that replaced their IKE SA
  std::uint64_t ike_sas_reauth_failed = 0;   // ... whose new IKE SA failed (the old one stays, tries again)
  std::uint64_t child_sas_expired = 0;   // reached life_time (or life_bytes/packets) without a rekey
  std::uint64_t dead_peers = 0;          // IKE SAs closed because the peer stopped answering
  std::uint64_t children_restarted_on_close = 0;  // Child SAs the peer closed, negotiated again (close_action start)
  std::map<std::string, std::uint64_t> drops;
  std::map<std::string, std::uint64_t> notifies_sent;      // error notifications by name
  std::map<std::string, std::uint64_t> notifies_received;  // error notifications by name
};

// What the SA list shows of one IKE SA (swanctl --list-sas, the REST API).
struct ChildSaView {
  std::string name;
  std::string state;
  std::string protocol;  // "ESP" / "AH"
  std::string mode;      // "TUNNEL" / "TRANSPORT"
  bool udp_encap = false;
  std::uint32_t spi_in = 0;
  std::uint32_t spi_out = 0;
  std::uint64_t sa_id_in = 0;  // SA channel ids, to join the dataplane's counters
  std::uint64_t sa_id_out = 0;
  std::string proposal;  // "ESP:AES_GCM_16_256/NO_EXT_SEQ"
  std::string pfs_group;  // the KE of the CREATE_CHILD_SA that made it ("ECP_384"); empty: none (IKE_AUTH's)
  bool esn = false;
  std::vector<std::string> local_ts;
  std::vector<std::string> remote_ts;
  TimePoint installed_at{};
  TimePoint rekey_at = TimePoint::max();  // max: none scheduled
  TimePoint expire_at = TimePoint::max();
};

// What a metrics scrape or the traffic ledger needs of an IKE SA, filled
// without building a view: the strings are the SA's own, valid during the
// visit only, and `channel_sa_ids` is one vector reused from SA to SA, so a
// walk over every SA allocates (almost) nothing.
struct IkeSaBrief {
  std::uint64_t id = 0;
  std::string_view connection;
  std::string_view state;
  std::optional<TimePoint> established_at;
  std::size_t children = 0;
  std::vector<std::uint64_t> channel_sa_ids;  // inbound and outbound of each Child SA
};

struct IkeSaView {
  std::uint64_t id = 0;
  std::string name;  // "conn[3]", as the log names it
  std::string connection;
  std::string state;
  bool initiator = false;
  net::SocketAddress local_endpoint;
  net::SocketAddress remote_endpoint;
  std::string local;   // "192.0.2.1[4500]"
  std::string remote;
  std::string local_id;
  std::string remote_id;
  std::string spi_i;
  std::string spi_r;
  std::string proposal;  // "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384"
  bool nat_local = false;
  bool nat_remote = false;
  TimePoint created_at{};
  std::optional<TimePoint> established_at;
  TimePoint rekey_at = TimePoint::max();  // max: none scheduled
  TimePoint reauth_at = TimePoint::max();  // max: none scheduled
  TimePoint expire_at = TimePoint::max();
  std::chrono::seconds dpd_delay{0};  // the connection's; 0: no liveness checks
  TimePoint last_received{};           // the last IKE message from the peer
  std::optional<TimePoint> liveness_sent;
  std::optional<TimePoint> liveness_acknowledged;
  std::vector<ChildSaView> children;
};

class Manager {
 public:
  // The daemon's form: the config is shared with the daemon, and every IKE
  // SA keeps the config its connection came from alive (IkeSa::config_hold),
  // so reconfigure() can replace it while SAs of the old one wind down.
  Manager(std::shared_ptr<const config::Config> config, Transport& transport, ChildSaSink& sink,
          ManagerOptions options = {});
  // Tests' form: `config` must outlive the manager and is never replaced.
  Manager(const config::Config& config, Transport& transport, ChildSaSink& sink, ManagerOptions options = {});
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // A datagram received on one of our IKE ports, without the non-ESP marker.
  void receive(const net::SocketAddress& local, const net::SocketAddress& remote,
               std::span<const std::uint8_t> datagram, TimePoint now);

  // Starts an IKE SA for `connection` carrying its child `child` (empty:
  // the first child). False, with the reason logged and in `why`, if the
  // names are unknown or the connection has no single remote address.
  // `trigger`: the packet of a trap's acquire, put first in TSi/TSr (§2.9).
  bool initiate(std::string_view connection, std::string_view child, TimePoint now, std::string* why = nullptr,
                const std::optional<ike::TriggerPacket>& trigger = std::nullopt);
  // Initiates every child whose start_action is `start`.
  void start(TimePoint now);
  // Whether a Child SA of `child` (of `connection`) is up, being
  // negotiated, or queued to be: an acquire for it then starts nothing.
  bool child_active(std::string_view connection, std::string_view child) const;
  // The dataplane reached a Child SA's volume limit (rekey_bytes /
  // rekey_packets: soft, life_bytes / life_packets: hard) on the SA with
  // this SA channel id: a soft limit rekeys the Child SA, a hard one
  // deletes it. False if no Child SA has that id.
  bool lifetime_reached(std::uint64_t channel_sa_id, bool hard, TimePoint now);
  // Rekeys the Child SA with this SA channel id (either direction's) for
  // `reason` (logged), unless it is being rekeyed or replaced already.
  // False if no Child SA has that id.
  bool renew_child_sa(std::uint64_t channel_sa_id, std::string_view reason, TimePoint now);
  // The same for many ids in one walk over the SAs (a restarted dataplane's
  // withheld SAs, thousands of them); returns the ids no Child SA has.
  std::vector<std::uint64_t> renew_child_sas(const std::vector<std::uint64_t>& channel_sa_ids, std::string_view reason,
                                             TimePoint now);
  // Retransmissions, half-open timeouts, keepalives.
  void tick(TimePoint now);

  // reconfigure.cc: a new config, applied live (PUT /config). Connections
  // named in `unchanged` keep their IKE and Child SAs, which move over to
  // `next`'s copy of the connection without a message to the peer. The
  // SAs of every other connection (changed or removed) are terminated:
  // a Delete when established, dropped while being set up. Then the
  // children of added and changed connections whose start_action is
  // `start` are initiated. The caller has validated `next`.
  struct ReconfigureResult {
    std::size_t kept = 0;        // IKE SAs moved to the new config
    std::size_t terminated = 0;  // IKE SAs closed because their connection changed or went away
    std::size_t initiated = 0;   // children started (start_action start)
  };
  ReconfigureResult reconfigure(std::shared_ptr<const config::Config> next,
                                const std::vector<std::string>& unchanged, TimePoint now);
  const config::Config& config() const { return *config_; }
  // Certificate files changed (POST or DELETE /certificates, /authorities):
  // each connection loads its certificates, key and CAs again at its next
  // authentication. SAs already up are not touched.
  void reload_credentials() { credentials_.clear(); }
  // Begins an orderly stop (SIGTERM): no new IKE SAs are made or
  // accepted, SAs still in IKE_SA_INIT go at once, and every IKE SA gets
  // its Delete as soon as the request it has out, if any, is answered.
  // Sending the Delete past that request would break the window of 1
  // (§2.3); worse, when the request is an IKE SA rekey the peer would keep
  // the new IKE SA we never saw made. An SA whose IKE_AUTH is out is left
  // to finish, since its answer makes the peer's SA; it is deleted once
  // established. tick() goes on driving all this until drained().
  void shutdown(TimePoint now);
  bool stopping() const { return stopping_; }
  bool drained() const { return sas_.empty(); }
  // Ends the stop: the SAs left, whose peers did not answer within the
  // caller's grace period, are removed without another word.
  void abandon_all();

  // operator.cc: what an operator sees and does (the REST API).
  std::vector<IkeSaView> list() const;
  // One page of the list in id order: the SAs after `after_id` that pass
  // the filter (empty fields match all; state as to_string() spells it),
  // at most `limit`; `more` says whether any passing SA is left after.
  struct ListFilter {
    std::string_view connection;
    std::string_view state;
  };
  std::vector<IkeSaView> list(std::uint64_t after_id, std::size_t limit, const ListFilter& filter, bool* more) const;
  std::optional<IkeSaView> find(std::uint64_t id) const;
  // Every IKE SA in id order, briefly (see IkeSaBrief).
  void visit_briefs(const std::function<void(const IkeSaBrief&)>& visit) const;
  // Each returns false with the reason in `why` (no such SA, or not in a
  // state where it applies) and otherwise queues the exchange behind any
  // request already out; the result shows in the SA list and the log.
  // Terminates an IKE SA: a Delete to the peer when it is established,
  // dropped at once while it is still being set up.
  bool terminate(std::uint64_t id, TimePoint now, std::string* why = nullptr);
  bool rekey(std::uint64_t id, TimePoint now, std::string* why = nullptr);
  // Reauthenticates the IKE SA now (as reauth_time would): swanctl
  // --rekey --reauth.
  bool reauthenticate(std::uint64_t id, TimePoint now, std::string* why = nullptr);
  bool rekey_child(std::uint64_t id, std::uint32_t spi_in, TimePoint now, std::string* why = nullptr);
  bool delete_child(std::uint64_t id, std::uint32_t spi_in, TimePoint now, std::string* why = nullptr);
  // Deletes every installed Child SA of `connection`'s child `child`;
  // returns how many.
  std::size_t terminate_children(std::string_view connection, std::string_view child, TimePoint now);
  const ManagerStats& stats() const { return stats_; }
  std::size_t ike_sa_count() const { return sas_.size(); }
  std::size_t half_open_count() const { return half_open_; }
  std::size_t reserved_child_spis() const { return child_spis_->size(); }
  // Inbound SAs of replaced Child SAs kept for retire_delay (see there).
  std::size_t retired_inbound_sas() const { return retired_inbound_.size(); }

 private:
  struct Received;  // one parsed datagram on its way through dispatch

  // manager.cc: the SA table, dispatch, sending, timers.
  // A new IKE SA with a fresh SPI of ours (or `spi`, reserved earlier).
  IkeSa& create_sa(const config::ConnectionConfig* connection, bool initiator, TimePoint now,
                   std::optional<Spi> spi = std::nullopt);
  Spi unused_spi();
  IkeSa* find_by_local_spi(const Spi& spi);
  // Whether `sa` has a Child SA of child config `child` (not being
  // deleted), or one being created or queued.
  static bool carries_child(const IkeSa& sa, std::string_view child);
  void remove_sa(std::uint64_t id);
  // IKE SAs by connection and peer identity, for INITIAL_CONTACT (§2.4)
  // without a walk over every SA.
  void index_peer_identity(const IkeSa& sa);
  // operator.cc: the IKE SA `id` if it is established; nullptr with the
  // reason in `why` otherwise.
  IkeSa* established_sa(std::uint64_t id, std::string* why);
  // Another IKE SA of `sa`'s connection is up with the same peer: by the
  // configured peer identity through the index, else by address.
  bool has_contact(const IkeSa& sa) const;
  // The other established IKE SAs of `conn` authenticated as `peer`: stale
  // ones for INITIAL_CONTACT, a peer's reauthentication for a Delete.
  std::vector<std::uint64_t> established_with_same_peer(const IkeSa& sa, const config::ConnectionConfig* conn,
                                                        const config::Identity& peer) const;
  void drop(std::string_view reason, std::string_view detail);
  void emit(SaEvent::Kind kind, const IkeSa& sa, const ChildSa* child = nullptr, std::uint64_t old_ike_id = 0,
            std::uint32_t old_spi_in = 0);
  Spi random_spi();
  // An inbound Child SA SPI no other Child SA (installed or being
  // negotiated) has; it stays reserved until released.
  std::uint32_t random_child_spi();
  void release_child_spi(std::uint32_t spi);
  Bytes random_bytes(std::size_t n);
  void send_datagrams(IkeSa& sa, const std::vector<Bytes>& datagrams);
  // Sends a new request of ours and keeps it for retransmission.
  bool send_request(IkeSa& sa, iana::ExchangeType exchange, std::vector<codec::Payload> payloads, TimePoint now);
  bool send_response(IkeSa& sa, const codec::Header& request, std::vector<codec::Payload> payloads);
  // Protects `payloads` in an SK payload under the SA's outbound keys.
  // One datagram, or its RFC 7383 fragments when it is too big and
  // fragmentation was agreed.
  std::optional<std::vector<Bytes>> protect(IkeSa& sa, const codec::Header& header,
                                            const std::vector<codec::Payload>& payloads);
  void fail(IkeSa& sa, std::string_view why);
  // An established SA whose request went unanswered: apply dpd_action.
  void peer_dead(IkeSa& sa, TimePoint now);
  void dispatch_protected(IkeSa& sa, const codec::Message& message, std::span<const std::uint8_t> datagram,
                          const net::SocketAddress& local, const net::SocketAddress& remote, TimePoint now);
  void update_endpoints(IkeSa& sa, const net::SocketAddress& local, const net::SocketAddress& remote);

  // ike_sa_init.cc.
  bool start_ike_sa_init(IkeSa& sa, TimePoint now);
  void respond_ike_sa_init(const codec::Message& request, std::span<const std::uint8_t> datagram,
                           const net::SocketAddress& local, const net::SocketAddress& remote, TimePoint now);
  void process_ike_sa_init_response(IkeSa& sa, const codec::Message& response, std::span<const std::uint8_t> datagram,
                                    const net::SocketAddress& local, TimePoint now);
  bool derive_keys(IkeSa& sa, std::span<const std::uint8_t> peer_public);
  void send_unprotected_notify(const codec::Header& request, const net::SocketAddress& local,
                               const net::SocketAddress& remote, iana::NotifyType type, Bytes data);

  // authenticate.cc: AUTH by PSK or certificate, both roles.
  using Credentials = ike::Credentials;
  const Credentials& credentials(const config::ConnectionConfig& conn);
  // Ours: the configured id, else the certificate subject (certificates)
  // or the IKE address (PSK), as swanctl does.
  config::Identity local_identity(const config::ConnectionConfig& conn, const net::SocketAddress& local);
  struct OwnAuth {
    config::Identity id;
    codec::Identification id_payload;
    codec::Authentication auth;
    std::vector<codec::Certificate> certs;  // empty with a PSK
  };
  std::optional<OwnAuth> authenticate_self(IkeSa& sa, const config::ConnectionConfig& conn,
                                           const config::Identity& peer_id, std::string* why);
  bool verify_peer_auth(IkeSa& sa, const config::ConnectionConfig& conn, const codec::Identification& id_payload,
                        const config::Identity& peer_id, const codec::Authentication& auth,
                        const std::vector<codec::Payload>& payloads, std::string* why);

  // ike_auth.cc.
  bool start_ike_auth(IkeSa& sa, TimePoint now);
  void respond_ike_auth(IkeSa& sa, const codec::Header& header, const std::vector<codec::Payload>& payloads,
                        TimePoint now);
  void process_ike_auth_response(IkeSa& sa, const std::vector<codec::Payload>& payloads, TimePoint now);

  // child_sa.cc: Child SAs into and out of the dataplane.
  struct ChildKeying {
    bool we_initiated = false;  // the exchange's initiator's keys come first in KEYMAT (§2.17)
    std::span<const std::uint8_t> nonce_i;  // the exchange's nonces
    std::span<const std::uint8_t> nonce_r;
    std::span<const std::uint8_t> g_ir;     // PFS (CREATE_CHILD_SA with KE); empty without
  };
  // When a rekeyed Child SA's successor takes the outbound traffic: at
  // once (the rekey initiator, whose peer already holds the new inbound
  // SA), or when the old pair is deleted (the rekey responder: the
  // initiator installs its new inbound SA only when our response arrives,
  // RFC 7296 §2.8), so no packet reaches it before it can decrypt it.
  // now: a rekey initiator's; on_delete: a rekey responder's, when the old
  // pair's Delete arrives; reauth: at once, like now, but the new Child SA
  // is of another IKE SA, so it comes up and the old one goes down.
  enum class Takeover : std::uint8_t { now, on_delete, reauth };
  // Installs a Child SA; with `replacing`, it takes over that Child SA's
  // outbound policies of equal selectors (a rekey, or a reauthentication).
  bool install_child(IkeSa& sa, const config::ChildConfig& child, const nego::Selected& proposal,
                     std::uint32_t spi_in, std::uint32_t spi_out, std::vector<net::TrafficSelector> local_ts,
                     std::vector<net::TrafficSelector> remote_ts, const ChildKeying& keying, TimePoint now,
                     ChildSa* replacing = nullptr, Takeover takeover = Takeover::now);
  void switch_outbound(IkeSa& sa, ChildSa& successor);
  bool start_create_child(IkeSa& sa, const config::ChildConfig& child, const std::optional<ike::TriggerPacket>& trigger,
                          TimePoint now);
  bool send_create_child(IkeSa& sa, const config::ChildConfig& child, std::uint32_t rekeys_spi_in,
                         const std::vector<net::TrafficSelector>& local_ts,
                         const std::vector<net::TrafficSelector>& remote_ts, TimePoint now);
  // The connection's IKE SA that a further child can use: established, or
  // being set up by us; nullptr if none.
  IkeSa* reusable_sa(const config::ConnectionConfig& conn);
  // A packet arrived on one of the SA's inbound Child SAs after `since`
  // (ManagerOptions::last_inbound_packet).
  bool esp_seen_since(const IkeSa& sa, TimePoint since) const;
  // §2.8.1: both ends rekeyed the Child SA `old_spi_in` at once and our
  // exchange made `ours_spi_in`; one of the two new pairs goes.
  void settle_rekey_collision(IkeSa& sa, std::uint32_t old_spi_in, const PendingChild::Collision& collision,
                              std::uint32_t ours_spi_in, const Bytes& our_lowest_nonce);
  // Removes a Child SA from the dataplane and the IKE SA, moving the
  // outbound traffic to its successor first if it was rekeyed.
  void retire_child(IkeSa& sa, std::uint32_t spi_in);
  // informational.cc: each child config's close_action for Child SAs the
  // peer closed by a Delete.
  void apply_close_action(IkeSa* over, const config::ConnectionConfig* conn,
                          const std::vector<const config::ChildConfig*>& closed, TimePoint now);
  void uninstall_child(IkeSa& sa, ChildSa& child);
  // child_sa.cc: the inbound half of a replaced Child SA, left in the
  // dataplane for options_.retire_delay (ManagerOptions::retire_delay).
  struct RetiredInbound {
    std::uint64_t sa_id = 0;  // SA channel id of its record_in
    std::vector<std::uint64_t> policy_ids;
    std::uint32_t spi_in = 0;
    std::string label;                    // "<IKE SA> CHILD_SA <name>", for the log
    std::optional<TimePoint> remove_at;  // set by the first tick() after it retired
  };
  // Removes the retired inbound SAs whose time has come (all of them with
  // `all`: shutdown), and dates the ones retired since the last tick.
  void remove_retired_inbound(TimePoint now, bool all);
  // The peer's address or port changed (NAT, RFC 7296 §2.23): the Child
  // SAs' outer addresses and UDP ports follow.
  void repush_children(IkeSa& sa);
  void uninstall_children(IkeSa& sa);
  ChildSa* find_child_by_spi_in(IkeSa& sa, std::uint32_t spi_in);
  ChildSa* find_child_by_spi_out(IkeSa& sa, std::uint32_t spi_out);
  // Rekey and expiry times from the configs, with strongSwan's jitter.
  void schedule_rekey(IkeSa& sa, TimePoint now);
  // reauth_at and reauth_expire_at from reauth_time, for an IKE SA that
  // has just authenticated (IKE_AUTH); before schedule_rekey().
  void schedule_reauth(IkeSa& sa, TimePoint now);
  void schedule_rekey(ChildSa& child, TimePoint now);
  TimePoint::duration jitter(config::Seconds rand_time);

  // create_child_sa.cc.
  void run_tasks(IkeSa& sa, TimePoint now);
  bool start_rekey_child(IkeSa& sa, std::uint32_t spi_in, TimePoint now);
  void respond_create_child_sa(IkeSa& sa, const codec::Header& header, const std::vector<codec::Payload>& payloads,
                               TimePoint now);
  void process_create_child_sa_response(IkeSa& sa, const std::vector<codec::Payload>& payloads, TimePoint now);
  // A CREATE_CHILD_SA request refused with `type` (and its data).
  void refuse_create_child(IkeSa& sa, const codec::Header& header, iana::NotifyType type, Bytes data,
                           const std::string& why);
  // Back-off before retrying a rekey the peer refused (TEMPORARY_FAILURE, §2.25).
  static constexpr auto kRetryAfterTemporaryFailure = std::chrono::seconds(10);

  // ike_rekey.cc: IKE SA rekey (§1.3.2, §2.18), simultaneous ones (§2.8.2).
  bool start_rekey_ike(IkeSa& sa, TimePoint now);
  void respond_rekey_ike(IkeSa& sa, const codec::Header& header, const codec::SecurityAssociation& offered,
                         const Bytes& nonce_i, const codec::KeyExchange* ke, TimePoint now);
  void process_rekey_ike_response(IkeSa& sa, PendingCreate pc, const std::vector<codec::Payload>& payloads,
                                  TimePoint now);
  // A new IKE SA rekeying `old`: same peer and identities, new SPIs (keys
  // are the caller's). hand_over() then makes it old's successor: the
  // Child SAs and any reauthentication under way move to it.
  IkeSa& create_rekeyed(const IkeSa& old, bool initiator, const Spi& our_spi, const Spi& peer_spi, TimePoint now);
  void hand_over(IkeSa& old, IkeSa& n);
  // `old` is replaced: REKEYED, and its Delete is the last request it sends.
  void retire_rekeyed(IkeSa& old, TimePoint now);
  void settle_ike_rekey_collision(IkeSa& old, IkeSa& ours, const PendingCreate::IkeCollision& collision,
                                  const Bytes& our_lowest_nonce, TimePoint now);
  // The peer, having finished its own rekey of `old` first, refused ours
  // or deleted `old`: its new IKE SA `peer_successor` carries on (§2.8.2).
  void forget_own_rekey(IkeSa& old, std::uint64_t peer_successor, TimePoint now);
  void remove_deleted_by_peer(IkeSa& old);

  // reauth.cc: reauthentication (reauth_time, or the operator's).
  // A new IKE SA to the peer, with each Child SA of `old` asked for again
  // (the first in IKE_AUTH, the rest by CREATE_CHILD_SA).
  bool start_reauth(IkeSa& old, TimePoint now, std::string* why = nullptr);
  // The Child SA of the IKE SA being reauthenticated that `child`, new on
  // `sa`, takes over from; nullptr when `sa` reauthenticates nothing.
  ChildSa* reauth_predecessor(IkeSa& sa, const config::ChildConfig& child);
  // `child` of the reauthenticating `sa` goes before the reauthentication
  // is done (the new IKE SA failed, or the peer deleted it): the outbound
  // policies it took over point at its predecessor again, same ids.
  void hand_back_policies(IkeSa& sa, ChildSa& child);
  // Each tick: a reauthenticating IKE SA done with its Child SAs deletes
  // its predecessor; a predecessor whose successor failed tries again later.
  void advance_reauth(IkeSa& sa, TimePoint now);
  void send_delete_child(IkeSa& sa, ChildSa& child, TimePoint now);

  // informational.cc.
  void respond_informational(IkeSa& sa, const codec::Header& header, const std::vector<codec::Payload>& payloads,
                             TimePoint now);
  void process_informational_response(IkeSa& sa, const std::vector<codec::Payload>& payloads);
  void send_delete_ike_sa(IkeSa& sa, TimePoint now);

  // The running config; IKE SAs of connections a reconfigure() changed
  // or removed may still point into an older one, which they keep alive.
  std::shared_ptr<const config::Config> config_;
  Transport& transport_;
  ChildSaSink& sink_;
  ManagerOptions options_;
  std::map<std::uint64_t, std::unique_ptr<IkeSa>> sas_;
  std::map<Spi, std::uint64_t> by_local_spi_;
  std::multimap<std::pair<const config::ConnectionConfig*, std::string>, std::uint64_t> by_peer_identity_;
  // Responder SAs by the initiator's SPI and address, to answer a
  // retransmitted IKE_SA_INIT request from the cache (RFC 7296 §2.1).
  std::map<std::pair<Spi, std::string>, std::uint64_t> by_initiator_spi_;
  // Responder SAs between IKE_SA_INIT and IKE_AUTH, overall and per peer address.
  std::size_t half_open_ = 0;
  bool stopping_ = false;  // shutdown() began
  std::map<net::IpAddress, std::size_t> half_open_by_ip_;
  void count_half_open(IkeSa& sa, bool on);
  CookieJar cookies_;
  std::map<const config::ConnectionConfig*, Credentials> credentials_;
  std::shared_ptr<corridor::control::ike::SpiRegistry> child_spis_;  // inbound Child SA SPIs in use or reserved
  TimePoint cookies_rotated_at_{};
  std::uint64_t next_sa_id_ = 0;       // IKE SA ids
  std::uint64_t next_channel_id_ = 0;  // SA channel ids for Child SAs and policies
  std::vector<RetiredInbound> retired_inbound_;
  ManagerStats stats_;
};

}  // namespace corridor::control::ikev2
