#include "control/daemon/sa_sync.h"

#include <cassert>
#include <cstdio>
#include <string>
#include <utility>
#include <variant>

#include "common/channel/record_codec.h"
#include "common/log/log.h"

namespace corridor::control {

using namespace corridor::channel;

std::string_view to_string(SyncPhase phase) {
  switch (phase) {
    case SyncPhase::awaiting_inventory: return "awaiting_inventory";
    case SyncPhase::awaiting_desired_set: return "awaiting_desired_set";
    case SyncPhase::in_sync: return "in_sync";
  }
  return "unknown";
}

namespace {

std::string n(std::uint64_t v) { return std::to_string(v); }

std::string hex_spi(std::uint32_t spi) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", spi);
  return text;
}

// What UPDATE_SA may not change (docs/sa-channel.md): the dataplane finds
// the SA by these and carries its sequence numbers over.
bool same_identity(const SaSummary& a, const SaSummary& b) {
  return a.spi == b.spi && a.protocol == b.protocol && a.direction == b.direction && a.ip_version == b.ip_version &&
         a.outer_dst == b.outer_dst;
}

}  // namespace

std::uint64_t channel_id_base(std::uint64_t control_generation) {
  return (control_generation & kChannelIdGenerationMask) << kChannelIdGenerationShift;
}

SaSync::SaSync(ControlEndpoint& endpoint, SaSyncCallbacks callbacks, const SaSyncOptions& options)
    : endpoint_(endpoint), callbacks_(std::move(callbacks)), options_(options),
      dataplane_generation_(endpoint.dataplane().generation),
      // Refusals already in the event ring answer our predecessor's commands.
      stale_before_(endpoint.next_command_sequence()) {
  request_inventory();
  log::info("chan", "control generation " + n(endpoint.generation()) +
                        " attached; asking the dataplane (generation " + n(dataplane_generation_) +
                        ") for its inventory, request " + n(inventory_request_id_));
}

void SaSync::set_phase(SyncPhase to) {
  if (to == phase_) return;
  // in_sync is final: a dataplane restart resends from in_sync to in_sync.
  [[maybe_unused]] const bool allowed =
      (phase_ == SyncPhase::awaiting_inventory) ||
      (phase_ == SyncPhase::awaiting_desired_set && to == SyncPhase::in_sync);
  assert(allowed);
  log::info("chan", "sa sync " + std::string(to_string(phase_)) + " -> " + std::string(to_string(to)));
  phase_ = to;
}

template <typename T>
void SaSync::enqueue(const T& command) {
  Pending& p = queue_.emplace_back();
  encode(command, p.slot);
}

void SaSync::enqueue_sa(RecordType type, const SaRecord& sa) {
  if (sa.direction == Direction::outbound) sent_outbound_.insert(sa.sa_id);
  Pending& p = queue_.emplace_back();
  encode_sa(type, sa, p.slot);
}

void SaSync::request_inventory() {
  // Unique across control generations, so that answers to a predecessor's
  // request still sitting in the event ring are recognised as stale.
  inventory_request_id_ = (endpoint_.generation() << 24) | (++inventory_counter_ & 0xffffff);
  installed_sas_.clear();
  installed_policies_.clear();
  enqueue(InventoryRequest{inventory_request_id_});
}

RecordError SaSync::set_sa(const SaRecord& sa) {
  if (RecordError e = validate(sa); e.code != ResultCode::ok) return e;
  const auto [it, added] = desired_sas_.insert_or_assign(sa.sa_id, sa);
  if (phase_ == SyncPhase::in_sync && !withheld_.contains(sa.sa_id))
    enqueue_sa(added ? RecordType::add_sa : RecordType::update_sa, sa);
  return {};
}

bool SaSync::remove_sa(std::uint64_t sa_id) {
  if (desired_sas_.erase(sa_id) == 0) return false;
  sent_outbound_.erase(sa_id);
  // A withheld SA never reached this dataplane: nothing to delete there.
  const bool withheld = withheld_.erase(sa_id) != 0;
  if (phase_ == SyncPhase::in_sync && !withheld) enqueue(DeleteSa{sa_id});
  return true;
}

PolicyRecord SaSync::effective(const PolicyRecord& policy) const {
  if (policy.action != PolicyAction::protect || !withheld_.contains(policy.sa_id)) return policy;
  PolicyRecord p = policy;
  p.action = PolicyAction::discard;
  p.sa_id = 0;
  return p;
}

RecordError SaSync::set_policy(const PolicyRecord& policy) {
  if (RecordError e = validate(policy); e.code != ResultCode::ok) return e;
  if (policy.action == PolicyAction::protect && !desired_sas_.contains(policy.sa_id)) {
    return {ResultCode::sa_unknown, Field::policy_sa_id};
  }
  desired_policies_.insert_or_assign(policy.policy_id, policy);
  if (phase_ == SyncPhase::in_sync) enqueue(effective(policy));  // ADD_POLICY adds or replaces
  return {};
}

bool SaSync::remove_policy(std::uint64_t policy_id) {
  if (desired_policies_.erase(policy_id) == 0) return false;
  if (phase_ == SyncPhase::in_sync) enqueue(DeletePolicy{policy_id});
  return true;
}

void SaSync::desired_set_complete() {
  desired_complete_ = true;
  maybe_reconcile();
}

bool SaSync::dataplane_alive(std::chrono::nanoseconds timeout) const {
  return endpoint_.dataplane().alive(monotonic_ns(), timeout);
}

void SaSync::handle_dataplane_restart(std::uint64_t generation) {
  dataplane_generation_ = generation;
  ++stats_.dataplane_restarts;
  // Everything pushed so far was meant for the old dataplane: refusals of
  // it (the new one may apply some of it before our FLUSH) are stale.
  stale_before_ = endpoint_.next_command_sequence();
  // Whatever is queued was meant for the old dataplane; the full set below
  // supersedes it, including an INVENTORY_REQUEST still waiting.
  queue_.clear();
  heartbeat_queued_ = false;
  heartbeat_sequence_ = 0;
  inventory_request_id_ = 0;
  installed_sas_.clear();
  installed_policies_.clear();
  // FLUSH removes whatever the new dataplane applied from records that were
  // already in the ring for its predecessor.
  enqueue(Flush{endpoint_.generation()});
  log::info("chan", "dataplane generation " + n(generation) +
                        " seen: flushing it and pushing the full desired set (" +
                        n(desired_sas_.size()) + " SAs, " + n(desired_policies_.size()) +
                        " policies" + (desired_complete_ ? ")" : ", once complete)"));
  if (desired_complete_) {
    queue_full_set();
    set_phase(SyncPhase::in_sync);
  } else {
    set_phase(SyncPhase::awaiting_desired_set);  // installed set: empty after FLUSH
  }
  if (callbacks_.on_dataplane_restart) callbacks_.on_dataplane_restart(generation);
}

void SaSync::queue_full_set() {
  withheld_.clear();
  for (const auto& [id, sa] : desired_sas_) {
    if (sent_outbound_.contains(id)) {
      withheld_.insert(id);
      continue;
    }
    enqueue_sa(RecordType::add_sa, sa);
  }
  for (const auto& [id, policy] : desired_policies_) enqueue(effective(policy));
  if (withheld_.empty()) return;
  stats_.withheld_sas += withheld_.size();
  log::warning("chan", n(withheld_.size()) +
                           " outbound SAs withheld from the new dataplane: its predecessor may have used their "
                           "sequence numbers (and so their IVs); their traffic is discarded until their Child SAs "
                           "are rekeyed");
}

void SaSync::maybe_reconcile() {
  if (phase_ == SyncPhase::awaiting_desired_set && desired_complete_) reconcile();
}

// Make-before-break: traffic keeps an SA and a policy at every step.
void SaSync::reconcile() {
  ++stats_.reconciles;
  const std::uint64_t adds = stats_.reconcile_sa_adds;
  const std::uint64_t updates = stats_.reconcile_sa_updates;
  const std::uint64_t deletes = stats_.reconcile_sa_deletes;
  const std::uint64_t policy_sets = stats_.reconcile_policy_sets;
  const std::uint64_t policy_deletes = stats_.reconcile_policy_deletes;
  for (const auto& [id, sa] : desired_sas_) {
    const auto it = installed_sas_.find(id);
    if (it == installed_sas_.end()) {
      // Sent to an earlier dataplane and not in this one: withheld, as
      // after a FLUSH (queue_full_set()). Not reached while IKE restores
      // nothing across a control restart, but kept true for when it does.
      if (sent_outbound_.contains(id)) {
        withheld_.insert(id);
        continue;
      }
      enqueue_sa(RecordType::add_sa, sa);
      ++stats_.reconcile_sa_adds;
    } else if (const SaSummary want = summarize(sa); it->second == want) {
      // Keys are never reported back, so an SA whose summary matches is
      // taken to be the same SA.
    } else if (same_identity(it->second, want)) {
      // The same SA with other parameters (lifetimes, DF, ...): the
      // dataplane swaps it in place and keeps its sequence numbers.
      enqueue_sa(RecordType::update_sa, sa);
      ++stats_.reconcile_sa_updates;
    } else {
      // Another SA under our id, which the dataplane would not update
      // (docs/sa-channel.md, UPDATE_SA). Ids carry the control generation
      // (channel_id_base()), so only an id space that wrapped gets here;
      // replace it, the one step of this reconcile that breaks first.
      log::warning("chan", "the dataplane holds another SA under id " + n(id) + " (SPI " + hex_spi(it->second.spi) +
                               ", ours " + hex_spi(want.spi) + "); replacing it");
      enqueue(DeleteSa{id});
      enqueue_sa(RecordType::add_sa, sa);
      ++stats_.reconcile_sa_deletes;
      ++stats_.reconcile_sa_adds;
    }
  }
  for (const auto& [id, desired] : desired_policies_) {
    const PolicyRecord policy = effective(desired);
    const auto it = installed_policies_.find(id);
    if (it == installed_policies_.end() || it->second != policy) {
      enqueue(policy);
      ++stats_.reconcile_policy_sets;
    }
  }
  for (const auto& [id, policy] : installed_policies_) {
    if (!desired_policies_.contains(id)) {
      enqueue(DeletePolicy{id});
      ++stats_.reconcile_policy_deletes;
    }
  }
  for (const auto& [id, summary] : installed_sas_) {
    if (!desired_sas_.contains(id)) {
      enqueue(DeleteSa{id});
      ++stats_.reconcile_sa_deletes;
    }
  }
  log::info("chan", "reconciled with the dataplane's inventory of " + n(installed_sas_.size()) +
                        " SAs and " + n(installed_policies_.size()) + " policies: " +
                        n(stats_.reconcile_sa_adds - adds) + " SAs added, " +
                        n(stats_.reconcile_sa_updates - updates) + " updated, " +
                        n(stats_.reconcile_sa_deletes - deletes) + " deleted; " +
                        n(stats_.reconcile_policy_sets - policy_sets) + " policies set, " +
                        n(stats_.reconcile_policy_deletes - policy_deletes) + " deleted");
  installed_sas_.clear();
  installed_policies_.clear();
  set_phase(SyncPhase::in_sync);
}

void SaSync::handle_event(const Received<Event>& r) {
  ++stats_.events;
  if (!r.record.ok()) {
    ++stats_.invalid_events;
    log::warning("chan", "dropped an invalid event (sequence " + n(r.sequence) + ", type " +
                             n(r.raw_type) + "): " + std::string(to_string(r.record.error().code)) +
                             ", field " + std::string(to_string(r.record.error().field)));
    return;
  }
  const Event& ev = r.record.value();
  const bool awaited_inventory = [&] {
    std::uint64_t id = 0;
    if (const auto* s = std::get_if<InventorySa>(&ev.body)) id = s->request_id;
    if (const auto* p = std::get_if<InventoryPolicy>(&ev.body)) id = p->request_id;
    if (const auto* e = std::get_if<InventoryEnd>(&ev.body)) id = e->request_id;
    return id != 0 && id == inventory_request_id_ && phase_ == SyncPhase::awaiting_inventory;
  }();
  switch (ev.type) {
    case RecordType::sa_soft_lifetime:
    case RecordType::sa_hard_lifetime:
      if (callbacks_.on_lifetime) {
        callbacks_.on_lifetime(std::get<LifetimeExpired>(ev.body),
                               ev.type == RecordType::sa_hard_lifetime);
      }
      break;
    case RecordType::seq_overflow:
      if (callbacks_.on_seq_overflow) callbacks_.on_seq_overflow(std::get<SeqOverflow>(ev.body));
      break;
    case RecordType::counters:
      if (callbacks_.on_counters) callbacks_.on_counters(std::get<SaCounters>(ev.body));
      break;
    case RecordType::replay_icv_summary:
      if (callbacks_.on_replay_icv_summary) {
        callbacks_.on_replay_icv_summary(std::get<ReplayIcvSummary>(ev.body));
      }
      break;
    case RecordType::port_stats:
      if (callbacks_.on_port_stats) callbacks_.on_port_stats(std::get<PortStats>(ev.body));
      break;
    case RecordType::worker_stats:
      if (callbacks_.on_worker_stats) callbacks_.on_worker_stats(std::get<WorkerStats>(ev.body));
      break;
    case RecordType::acquire:
      if (callbacks_.on_acquire) callbacks_.on_acquire(std::get<Acquire>(ev.body));
      break;
    case RecordType::heartbeat_ack: {
      ++stats_.heartbeat_acks;
      const auto& ack = std::get<HeartbeatAck>(ev.body);
      if (ack.dataplane_generation > dataplane_generation_) {
        handle_dataplane_restart(ack.dataplane_generation);
      }
      // The first answer of a generation: its main loop runs, so its ports
      // and exception path are up.
      if (ack.dataplane_generation == dataplane_generation_ && ready_generation_ != dataplane_generation_) {
        ready_generation_ = dataplane_generation_;
        if (callbacks_.on_dataplane_ready) callbacks_.on_dataplane_ready(ready_generation_);
      }
      break;
    }
    case RecordType::inventory_sa:
      if (!awaited_inventory) {
        ++stats_.stale_inventory;
        break;
      }
      installed_sas_[std::get<InventorySa>(ev.body).sa.sa_id] = std::get<InventorySa>(ev.body).sa;
      break;
    case RecordType::inventory_policy:
      if (!awaited_inventory) {
        ++stats_.stale_inventory;
        break;
      }
      installed_policies_[std::get<InventoryPolicy>(ev.body).policy.policy_id] =
          std::get<InventoryPolicy>(ev.body).policy;
      break;
    case RecordType::inventory_end:
      if (!awaited_inventory) {
        ++stats_.stale_inventory;
        break;
      }
      inventory_request_id_ = 0;
      set_phase(SyncPhase::awaiting_desired_set);
      maybe_reconcile();
      break;
    case RecordType::command_result: {
      const auto& result = std::get<CommandResult>(ev.body);
      if (result.command_sequence < stale_before_) {
        ++stats_.stale_results;
        break;
      }
      ++stats_.refused_commands;
      log::warning("chan", "dataplane refused " +
                               std::string(is_known(result.command_type)
                                               ? to_string(static_cast<RecordType>(result.command_type))
                                               : "a record") +
                               " (sequence " + n(result.command_sequence) + ", id " +
                               n(result.object_id) + "): " + std::string(to_string(result.code)) +
                               (result.field != Field::none
                                    ? ", field " + std::string(to_string(result.field))
                                    : std::string()));
      if (callbacks_.on_command_refused) callbacks_.on_command_refused(result);
      break;
    }
    default: ++stats_.invalid_events; break;  // decode_event yields event types only
  }
}

void SaSync::maybe_heartbeat() {
  const auto now = SteadyClock::now();
  if (heartbeat_queued_ || now - last_heartbeat_ < options_.heartbeat_interval) return;
  // At most one unconsumed HEARTBEAT in the ring: a stopped dataplane must
  // not find its ring filled with them.
  if (heartbeat_sequence_ != 0 && endpoint_.commands_consumed_through() < heartbeat_sequence_) {
    return;
  }
  last_heartbeat_ = now;
  heartbeat_queued_ = true;
  ++stats_.heartbeats_sent;
  enqueue(Heartbeat{endpoint_.generation(), ++heartbeat_id_, monotonic_ns()});
}

PushOutcome SaSync::push_queue(Deadline deadline) {
  if (queue_.empty()) return {};
  const PushOutcome out = endpoint_.push_commands_with(
      queue_.size(), [&](std::size_t i, RecordSlot& slot) { slot = queue_[i].slot; }, deadline);
  for (std::size_t i = 0; i < out.pushed; ++i) {
    const auto type = static_cast<RecordType>(read_header(queue_[i].slot).type);
    if (type == RecordType::flush) stale_before_ = out.first_sequence + i;
    if (type == RecordType::heartbeat) {
      heartbeat_sequence_ = out.first_sequence + i;
      heartbeat_queued_ = false;
    }
  }
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(out.pushed));
  stats_.commands_pushed += out.pushed;
  if (!queue_.empty()) ++stats_.push_incomplete;
  return out;
}

SyncPollResult SaSync::poll(Deadline push_deadline) {
  SyncPollResult result;
  endpoint_.heartbeat();
  const std::uint64_t restarts_before = stats_.dataplane_restarts;
  const std::uint64_t generation = endpoint_.dataplane().generation;
  if (generation > dataplane_generation_) handle_dataplane_restart(generation);
  result.events = endpoint_.poll_events(
      options_.event_budget, [&](const Received<Event>& r) { handle_event(r); });
  maybe_heartbeat();
  const PushOutcome out = push_queue(push_deadline);
  result.pushed = out.pushed;
  result.push_status = out.status;
  result.still_queued = queue_.size();
  result.dataplane_restarted = stats_.dataplane_restarts != restarts_before;
  if ((out.status == PushStatus::ring_corrupt || endpoint_.event_ring_corrupt()) &&
      !corruption_logged_) {
    corruption_logged_ = true;
    log::error("chan", "the rings of shared memory " + endpoint_.segment().name() +
                           " hold impossible indices: the segment is corrupt; stop both corridor "
                           "processes and remove " + shm_path(endpoint_.segment().name()));
  }
  return result;
}

}  // namespace corridor::control
