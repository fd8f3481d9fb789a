// One IKEv2 SA as the control plane holds it (RFC 7296 §1-§2): who we are
// in it, where it stands, its keys, its message-ID windows and its Child
// SAs.
//
// Nothing but IkeSa::set_state() writes the state: it checks the
// transition against the table in ike_sa.cc and logs "from -> to" with the
// SA's name and SPIs, so an operator can follow a negotiation in the log.
// Timers and other SAs refer to an IkeSa by its id, never by pointer; the
// Manager owns every IkeSa.
#pragma once

#include <array>
#include <chrono>
#include <deque>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/channel/records.h"
#include "common/config/identity.h"
#include "common/config/model.h"
#include "common/ike/key_exchange.h"
#include "common/ike/keys.h"
#include "common/ike/message.h"
#include "common/ike/sk_crypto.h"
#include "common/net/address.h"
#include "common/net/traffic_selector.h"
#include "control/ikev2/fragmentation.h"
#include "control/ike/proposal_select.h"
#include "control/ike/ts_narrow.h"

namespace corridor::control::ikev2 {

// corridor::ike is the wire codec and key derivation shared with IKEv1;
// corridor::control::ike the negotiation helpers. Inside corridor::control
// a bare `ike::` would name the latter, so both get a name of their own.
namespace codec = corridor::ike;
namespace nego = corridor::control::ike;

using Bytes = std::vector<std::uint8_t>;
using Spi = std::array<std::uint8_t, 8>;
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

enum class IkeSaState : std::uint8_t {
  created,           // initiator: nothing sent yet
  ike_sa_init_sent,  // initiator: IKE_SA_INIT request out, waiting for the response
  ike_sa_init_done,  // responder: IKE_SA_INIT answered, waiting for IKE_AUTH (half-open)
  ike_auth_sent,     // initiator: IKE_AUTH request out, waiting for the response
  established,       // both sides authenticated
  rekeyed,           // replaced by a new IKE SA (§2.18), its Child SAs moved there; waiting for the Delete
  deleting,          // our Delete for the IKE SA is out, waiting for the response
  dead,              // gone; the Manager removes it
};
std::string_view to_string(IkeSaState state);  // "CREATED", "ESTABLISHED", ... as strongSwan prints them

enum class ChildSaState : std::uint8_t {
  installed,
  rekeying,  // our CREATE_CHILD_SA rekeying it is out
  rekeyed,   // replaced by a new Child SA; waiting for its Delete exchange
  deleting,  // our Delete for it is out
};
std::string_view to_string(ChildSaState state);

// A Child SA (an inbound/outbound ESP or AH SA pair) of this IKE SA.
struct ChildSa {
  std::string name;  // the child config's name
  const config::ChildConfig* config = nullptr;
  ChildSaState state = ChildSaState::installed;
  iana::ProtocolId protocol = iana::ProtocolId::esp;
  config::ChildMode mode = config::ChildMode::tunnel;
  bool udp_encap = false;
  std::uint32_t spi_in = 0;   // ours: the peer sends with it
  std::uint32_t spi_out = 0;  // the peer's: we send with it
  // As pushed: outbound ones steer traffic into record_out, inbound ones
  // are the RFC 4301 §5.2 check of what record_in delivers. A rekey takes
  // over the outbound policies with equal selectors (same ids, re-pointed
  // to the new SA), so traffic moves in one step (make-before-break).
  std::vector<channel::PolicyRecord> outbound_policies;
  std::vector<channel::PolicyRecord> inbound_policies;
  bool outbound_pending = false;        // outbound_policies not pushed yet (Takeover::on_delete)
  std::uint32_t predecessor_spi_in = 0;  // the Child SA this one rekeyed
  // Reauthentication: the Child SA of the old IKE SA whose outbound
  // policies this one took over; they go back to it if this one goes
  // before the reauthentication is done.
  std::uint32_t reauth_predecessor_spi_in = 0;
  bool superseded = false;               // a rekey replaced it: its removal is no "down" event
  // The records as pushed (keys included, wiped with the ChildSa), kept to
  // push them again when the peer's address or port changes. Their sa_id
  // is the pair's SA channel ids, which the dataplane's counters carry.
  channel::SaRecord record_in;
  channel::SaRecord record_out;
  nego::Selected proposal;
  std::vector<net::TrafficSelector> local_ts;
  std::vector<net::TrafficSelector> remote_ts;
  TimePoint installed_at{};
  TimePoint rekey_at = TimePoint::max();   // rekey_time less a random part of rand_time
  TimePoint expire_at = TimePoint::max();  // life_time: deleted if not rekeyed by then
};

// A request of ours that waits for its response (RFC 7296 §2.1): resent as
// it was until the response comes or the retransmissions run out.
struct OutstandingRequest {
  std::uint32_t message_id = 0;
  iana::ExchangeType exchange{};
  std::vector<Bytes> datagrams;  // one, or the fragments of one message
  unsigned retransmits = 0;
  TimePoint next_send{};
  bool liveness = false;  // an empty INFORMATIONAL: its response acknowledges a liveness check
};

// The response to the peer's latest request, kept to answer a retransmitted
// request with the same bytes (§2.1: a responder must not process it twice).
struct CachedResponse {
  std::uint32_t message_id = 0;
  std::vector<Bytes> datagrams;
};

// What the initiator proposed for a Child SA (in IKE_AUTH or
// CREATE_CHILD_SA), to check the response against.
struct PendingChild {
  const config::ChildConfig* config = nullptr;
  std::uint32_t spi_in = 0;
  codec::SecurityAssociation sa;
  std::vector<net::TrafficSelector> tsi;
  std::vector<net::TrafficSelector> tsr;
  std::uint32_t rekeys_spi_in = 0;  // CREATE_CHILD_SA rekeying the Child SA with this inbound SPI; 0: new
  // A trap's acquire started it: the packet's selectors go first (§2.9).
  std::optional<corridor::control::ike::TriggerPacket> trigger;
  // RFC 7296 §2.8.1: the peer rekeyed the same Child SA while this rekey
  // was out. Its exchange made the pair with inbound SPI
  // `peer_successor_spi_in`; `peer_lowest_nonce` is the lower of that
  // exchange's two nonces. Kept here, not on the old Child SA, which the
  // peer may delete before our response arrives.
  struct Collision {
    std::uint32_t peer_successor_spi_in = 0;
    Bytes peer_lowest_nonce;
  };
  std::optional<Collision> collision;
};

// Our CREATE_CHILD_SA request that waits for its response (RFC 7296 §1.3):
// a Child SA (new or rekey) or a rekey of the IKE SA itself.
struct PendingCreate {
  enum class Kind : std::uint8_t { child, rekey_ike } kind = Kind::child;
  PendingChild child;                              // kind child
  Spi new_spi{};                                   // kind rekey_ike: our SPI of the new IKE SA
  codec::SecurityAssociation sent_sa;              // kind rekey_ike
  Bytes nonce;                                     // our Ni
  std::optional<codec::DiffieHellman> key_exchange;  // PFS / the new IKE SA's
  // kind rekey_ike: the peer rekeyed this IKE SA too while our request was
  // out (RFC 7296 §2.8.2). Its exchange made the IKE SA `peer_successor`;
  // `peer_lowest_nonce` is the lower of that exchange's two nonces.
  struct IkeCollision {
    std::uint64_t peer_successor = 0;
    Bytes peer_lowest_nonce;
  };
  std::optional<IkeCollision> ike_collision;
};

// Work for an established IKE SA that waits its turn: the message-ID
// window is 1, so one request of ours at a time (RFC 7296 §2.3).
struct Task {
  enum class Kind : std::uint8_t { rekey_child, rekey_ike, delete_child, delete_ike, create_child };
  Task() = default;
  Task(Kind k, std::uint32_t spi, const config::ChildConfig* c = nullptr) : kind(k), spi_in(spi), child(c) {}
  Kind kind = Kind::rekey_child;
  std::uint32_t spi_in = 0;  // the Child SA, for rekey_child and delete_child
  const config::ChildConfig* child = nullptr;  // create_child: a further Child SA of the connection (§1.3.1)
  std::optional<corridor::control::ike::TriggerPacket> trigger;  // create_child: the acquire's packet (§2.9)
};

struct IkeSa {
  std::uint64_t id = 0;
  const config::ConnectionConfig* connection = nullptr;  // points into config_hold
  // The config `connection` (and the children's configs) belong to: the
  // Manager's current one, or an older one a reconfigure replaced while
  // this SA was being deleted; it lives as long as an SA points into it.
  std::shared_ptr<const config::Config> config_hold;
  bool initiator = false;  // the original initiator (RFC 7296 §2.2: the I flag)
  Spi spi_i{};
  Spi spi_r{};
  net::SocketAddress local;
  net::SocketAddress remote;

  // IKE_SA_INIT.
  codec::SecurityAssociation sent_sa;  // initiator: the SA payload we offer (reordered after INVALID_KE_PAYLOAD)
  std::optional<nego::Selected> proposal;
  std::optional<codec::DiffieHellman> key_exchange;  // ours, freed once the keys are derived
  Bytes nonce_i;
  Bytes nonce_r;
  Bytes cookie;                // from the responder's COOKIE, echoed in the retried request
  Bytes init_request;          // RealMessage1 of §2.15: the IKE_SA_INIT request as sent
  Bytes init_response;         // RealMessage2
  unsigned init_retries = 0;   // COOKIE and INVALID_KE_PAYLOAD restarts
  bool nat_local = false;      // we are behind a NAT (our NAT_DETECTION_DESTINATION_IP hash differs)
  bool nat_remote = false;     // the peer is (its source hash differs, or it forces encapsulation)
  bool peer_fragmentation = false;  // IKEV2_FRAGMENTATION_SUPPORTED received
  std::vector<std::uint16_t> peer_signature_hashes;  // its N(SIGNATURE_HASH_ALGORITHMS) (RFC 7427 §4)

  // Keys: SK_d for Child SA KEYMAT, SK_pi/SK_pr for AUTH; one SkCrypto per direction.
  codec::IkeSaKeys keys;
  std::optional<codec::SkCrypto> protect_out;  // SK_ei/SK_ai (initiator) or SK_er/SK_ar (responder)
  std::optional<codec::SkCrypto> protect_in;

  // Identities, once authenticated.
  std::optional<config::Identity> local_id;
  std::optional<config::Identity> remote_id;

  // Message IDs (§2.1, window size 1): ours and the peer's counters.
  std::uint32_t next_request_id = 0;      // the ID our next request carries
  std::uint32_t expected_request_id = 0;  // the ID the peer's next request must carry
  std::optional<OutstandingRequest> outstanding;
  std::optional<CachedResponse> last_response;

  Reassembly reassembly;  // RFC 7383 fragments of the peer's messages
  std::optional<PendingChild> pending_child;  // IKE_AUTH's
  std::optional<PendingCreate> pending_create;
  std::deque<Task> tasks;
  std::vector<ChildSa> children;
  TimePoint rekey_at = TimePoint::max();   // IKE SA rekey_time less a random part of rand_time
  TimePoint expire_at = TimePoint::max();  // rekey_time + over_time: closed if not rekeyed by then
  // Reauthentication (reauth_time): a new IKE SA from scratch, with fresh
  // authentication, that takes the Child SAs over before this one is
  // deleted (make-before-break). An IKE SA rekey keeps both times: it
  // renews keys, not the peer's proof of identity.
  TimePoint reauth_at = TimePoint::max();         // reauth_time less a random part of rand_time
  TimePoint reauth_expire_at = TimePoint::max();  // reauth_time + over_time: closed if not reauthenticated by then
  std::uint64_t reauth_of = 0;           // this IKE SA reauthenticates that one
  std::uint64_t reauthenticated_by = 0;  // that IKE SA is reauthenticating this one

  bool half_open_counted = false;  // in Manager's half-open counts
  bool superseded = false;         // an IKE SA rekey replaced it (§2.18): its removal is no "down" event
  // Made by the peer's rekey while ours of the same IKE SA was out
  // (§2.8.2), not yet settled: it holds no Child SA and takes no work.
  bool rekey_collision = false;
  // The peer deleted it while our colliding rekey request on it was out:
  // it stays (REKEYED) only until that request is answered or given up.
  bool deleted_by_peer = false;
  // When the tick first saw it REKEYED with nothing of ours left to send:
  // from then on only the peer's Delete is awaited (kRekeyedTimeout).
  TimePoint rekeyed_since{};
  // A reauthentication replaced it (ours, or the peer's: another IKE SA of
  // the same connection and peer identity carries the traffic on). Its
  // Child SAs' inbound halves outlive it by retire_delay.
  bool reauthenticated = false;
  TimePoint created_at{};
  TimePoint established_at{};
  TimePoint last_received{};
  // Liveness checks (dpd_delay): the last one sent and the last answered;
  // {} for none. What `swanctl --list-sas` lacks and operators ask for.
  TimePoint liveness_sent{};
  TimePoint liveness_acknowledged{};
  TimePoint next_keepalive{};

  // A task of this kind (for this Child SA) is queued already.
  bool has_task(Task::Kind kind, std::uint32_t spi_in = 0) const {
    for (const auto& t : tasks)
      if (t.kind == kind && t.spi_in == spi_in) return true;
    return false;
  }

  IkeSaState state() const { return state_; }
  // The only writer of the state: refuses (and logs) a transition the
  // table does not allow, logs "name[id] A -> B" otherwise.
  bool set_state(IkeSaState to);

  bool nat_detected() const { return nat_local || nat_remote; }
  // Our SPI and the peer's, in the SA's own terms.
  const Spi& local_spi() const { return initiator ? spi_i : spi_r; }
  const Spi& remote_spi() const { return initiator ? spi_r : spi_i; }
  // "conn[3]", as log lines name the SA.
  std::string name() const;

 private:
  IkeSaState state_ = IkeSaState::created;
};

// "0123456789abcdef" for an SPI, as strongSwan prints them.
std::string to_hex(const Spi& spi);
bool is_zero(const Spi& spi);
// "c1a2b3c4": a Child SA SPI as strongSwan logs it.
std::string hex32(std::uint32_t spi);
// "192.0.2.1[4500]", as strongSwan prints an IKE endpoint.
std::string endpoint_text(const net::SocketAddress& a);

}  // namespace corridor::control::ikev2
