// Keeps the dataplane's SAs and policies equal to what the control plane
// wants (what IKE negotiated), across restarts of either process.
//
// The daemon tells SaSync what it wants (set_sa / remove_sa / set_policy /
// remove_policy) and calls poll() from its event loop; SaSync turns changes
// into commands, pushes them (keeping whatever does not fit in the ring
// queued, in order, and retrying: nothing is dropped), reads events, sends
// heartbeats and follows the restart protocol of docs/sa-channel.md:
//
//  - Control (re)starts: send INVENTORY_REQUEST, collect INVENTORY_SA /
//    INVENTORY_POLICY until INVENTORY_END. The dataplane keeps forwarding
//    meanwhile. Once the daemon calls desired_set_complete() (config loaded,
//    persisted SAs restored), reconcile make-before-break: add missing SAs,
//    update changed SAs, add/replace policies, then delete policies and
//    finally SAs that control no longer knows.
//  - Dataplane restarts (its generation grows, seen in the segment header or
//    in a HEARTBEAT_ACK): drop the queue, send FLUSH, then the full desired
//    set (SAs, then policies) -- except the outbound SAs a dead dataplane
//    may have used. Those are withheld: sent again, they would count their
//    sequence numbers from 1 once more under the same keys, which the
//    peer's anti-replay window drops and which, worse, repeats AES-GCM and
//    ChaCha20-Poly1305 IVs (the dataplane derives them from the sequence
//    number; RFC 4106 §3.1, RFC 7634 §2: never twice under one key). Their
//    outbound policies go to the dataplane as discard meanwhile (dropped and
//    counted, never in the clear), and the daemon rekeys their Child SAs
//    (withheld_sas()); the new SAs and the re-pointed policies replace them.
//
// Changes made before reconciliation only update the desired set; the
// reconcile diff carries them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "common/channel/control_endpoint.h"
#include "common/channel/records.h"

namespace corridor::control {

// SA channel ids (sa_id, policy_id) are unique for the dataplane's life,
// across restarts of corridor-control, which keeps no ids: a successor
// that reused one would find its predecessor's SA there at reconcile,
// under the same id but another SPI. So the ids a control plane hands out
// start at channel_id_base() of its control generation:
//   bit 63      the dataplane's static SAs and policies (config)
//   bits 62-49  the control generation, modulo 2^14
//   bit 48      IKEv1 (ikev1::ManagerOptions::first_channel_id)
//   bit 47      trap policies (control/ike/traps.h), IKE version apart
//   bits 46-0   counted up by each IKE manager and by the traps
inline constexpr unsigned kChannelIdGenerationShift = 49;
inline constexpr std::uint64_t kChannelIdGenerationMask = (std::uint64_t{1} << 14) - 1;
std::uint64_t channel_id_base(std::uint64_t control_generation);
inline constexpr std::uint64_t kTrapChannelIdBit = std::uint64_t{1} << 47;

struct SaSyncOptions {
  std::chrono::milliseconds heartbeat_interval{1000};
  std::size_t event_budget = 256;  // events handled per poll()
};

struct SaSyncCallbacks {
  std::function<void(const channel::LifetimeExpired&, bool hard)> on_lifetime;
  std::function<void(const channel::SeqOverflow&)> on_seq_overflow;
  std::function<void(const channel::SaCounters&)> on_counters;
  std::function<void(const channel::ReplayIcvSummary&)> on_replay_icv_summary;
  // The dataplane's per-port and per-worker counters, each interval.
  std::function<void(const channel::PortStats&)> on_port_stats;
  std::function<void(const channel::WorkerStats&)> on_worker_stats;
  // A packet hit a trap policy (start_action trap): negotiate its SA.
  std::function<void(const channel::Acquire&)> on_acquire;
  // The dataplane refused a command pushed since the latest FLUSH.
  std::function<void(const channel::CommandResult&)> on_command_refused;
  // A new dataplane generation was seen; the full set is being resent.
  std::function<void(std::uint64_t generation)> on_dataplane_restart;
  // The first HEARTBEAT_ACK of a dataplane generation: it forwards now
  // (its ports and exception path are up), so IKE through it can go out.
  std::function<void(std::uint64_t generation)> on_dataplane_ready;
};

enum class SyncPhase : std::uint8_t {
  awaiting_inventory,    // INVENTORY_REQUEST sent, INVENTORY_END not yet seen
  awaiting_desired_set,  // installed set known, desired_set_complete() not yet called
  in_sync,               // changes are pushed as they are made
};
std::string_view to_string(SyncPhase phase);

struct SaSyncStats {
  std::uint64_t commands_pushed = 0;
  std::uint64_t push_incomplete = 0;  // polls that left commands queued (ring full)
  std::uint64_t dataplane_restarts = 0;
  std::uint64_t reconciles = 0;
  std::uint64_t reconcile_sa_adds = 0;
  std::uint64_t reconcile_sa_updates = 0;
  std::uint64_t reconcile_sa_deletes = 0;
  std::uint64_t reconcile_policy_sets = 0;
  std::uint64_t reconcile_policy_deletes = 0;
  std::uint64_t events = 0;
  std::uint64_t invalid_events = 0;
  std::uint64_t refused_commands = 0;
  std::uint64_t stale_results = 0;     // refusals of commands older than the latest FLUSH
  std::uint64_t stale_inventory = 0;   // inventory answers to a request we no longer wait for
  std::uint64_t heartbeats_sent = 0;
  std::uint64_t heartbeat_acks = 0;
  std::uint64_t withheld_sas = 0;      // outbound SAs not resent after a dataplane restart
};

struct SyncPollResult {
  std::size_t events = 0;
  std::size_t pushed = 0;
  std::size_t still_queued = 0;
  channel::PushStatus push_status = channel::PushStatus::ok;
  bool dataplane_restarted = false;
};

class SaSync {
 public:
  // Queues the INVENTORY_REQUEST of a (re)started control plane.
  explicit SaSync(channel::ControlEndpoint& endpoint, SaSyncCallbacks callbacks = {},
                  const SaSyncOptions& options = {});

  // Desired state. Invalid records are refused with the validator's error
  // (and change nothing); a protect policy must name a desired SA.
  channel::RecordError set_sa(const channel::SaRecord& sa);  // add or update
  bool remove_sa(std::uint64_t sa_id);                       // false: unknown
  channel::RecordError set_policy(const channel::PolicyRecord& policy);
  bool remove_policy(std::uint64_t policy_id);
  // The desired set is now complete (config loaded, persisted state
  // restored): reconciliation may delete what is not in it.
  void desired_set_complete();

  // One turn of the loop: heartbeat, restart detection, events, then push
  // queued commands, waiting for ring room at most until `push_deadline`.
  SyncPollResult poll(channel::Deadline push_deadline);

  SyncPhase phase() const { return phase_; }
  std::size_t queued_commands() const { return queue_.size(); }
  std::uint64_t dataplane_generation() const { return dataplane_generation_; }
  bool dataplane_alive(std::chrono::nanoseconds timeout) const;
  const std::map<std::uint64_t, channel::SaRecord>& desired_sas() const { return desired_sas_; }
  const std::map<std::uint64_t, channel::PolicyRecord>& desired_policies() const {
    return desired_policies_;
  }
  const SaSyncStats& stats() const { return stats_; }
  // Outbound SAs desired but withheld from the current dataplane because a
  // predecessor may have used their sequence numbers: their Child SAs need
  // a rekey. An SA leaves the set when it is removed.
  const std::set<std::uint64_t>& withheld_sas() const { return withheld_; }

 private:
  // A queued command; ADD/UPDATE_SA slots hold keys, so it wipes itself.
  struct Pending {
    channel::RecordSlot slot;
    Pending() = default;
    Pending(const Pending&) = default;
    Pending& operator=(const Pending&) = default;
    ~Pending() { channel::secure_zero(slot.bytes.data(), slot.bytes.size()); }
  };

  template <typename T>
  void enqueue(const T& command);
  void enqueue_sa(channel::RecordType type, const channel::SaRecord& sa);
  void request_inventory();
  void handle_dataplane_restart(std::uint64_t generation);
  void handle_event(const channel::Received<channel::Event>& received);
  void maybe_reconcile();
  void reconcile();
  // After a FLUSH: every desired SA and policy, less the outbound SAs sent
  // to an earlier dataplane (withheld_).
  void queue_full_set();
  // The policy as the dataplane may hold it: a protect policy whose SA is
  // withheld becomes discard.
  channel::PolicyRecord effective(const channel::PolicyRecord& policy) const;
  void maybe_heartbeat();
  channel::PushOutcome push_queue(channel::Deadline deadline);
  // The only writer of phase_: checks the transition and logs it.
  void set_phase(SyncPhase to);

  channel::ControlEndpoint& endpoint_;
  SaSyncCallbacks callbacks_;
  SaSyncOptions options_;
  SyncPhase phase_ = SyncPhase::awaiting_inventory;
  bool desired_complete_ = false;
  std::map<std::uint64_t, channel::SaRecord> desired_sas_;
  std::map<std::uint64_t, channel::PolicyRecord> desired_policies_;
  std::map<std::uint64_t, channel::SaSummary> installed_sas_;  // from the inventory
  std::map<std::uint64_t, channel::PolicyRecord> installed_policies_;
  std::set<std::uint64_t> withheld_;
  // Desired outbound SAs ever queued for a dataplane (which may have sent
  // on them): withheld from any later one.
  std::set<std::uint64_t> sent_outbound_;
  std::deque<Pending> queue_;
  std::uint64_t dataplane_generation_ = 0;
  std::uint64_t ready_generation_ = 0;      // the latest generation that answered a heartbeat
  std::uint64_t inventory_request_id_ = 0;  // awaited answer, 0: none
  std::uint64_t inventory_counter_ = 0;
  std::uint64_t stale_before_ = 0;          // refusals of older commands are stale
  std::uint64_t heartbeat_id_ = 0;
  std::uint64_t heartbeat_sequence_ = 0;    // of the latest pushed HEARTBEAT
  bool heartbeat_queued_ = false;
  bool corruption_logged_ = false;
  channel::Deadline last_heartbeat_{};
  SaSyncStats stats_;
};

}  // namespace corridor::control
