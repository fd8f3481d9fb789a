#include "dataplane/channel/sa_inventory.h"

#include <string>
#include <variant>

#include "common/channel/record_codec.h"
#include "common/log/log.h"

namespace corridor::dataplane {

using namespace corridor::channel;

namespace {

std::string n(std::uint64_t v) { return std::to_string(v); }

std::string type_name(std::uint16_t raw) {
  return is_known(raw) ? std::string(to_string(static_cast<RecordType>(raw))) : "type " + n(raw);
}

}  // namespace

SaInventory::SaInventory(DataplaneEndpoint& endpoint, SaTableSink& sink,
                         const SaInventoryOptions& options)
    : endpoint_(endpoint), sink_(sink), outbox_(options.outbox_limit),
      control_generation_seen_(endpoint.control().generation) {}

std::size_t SaInventory::poll(std::size_t budget) {
  endpoint_.heartbeat();
  const std::uint64_t control_generation = endpoint_.control().generation;
  if (control_generation != control_generation_seen_) {
    // Control restarted: keep everything; the new control reconciles
    // through INVENTORY_REQUEST.
    ++stats_.control_restarts_seen;
    control_generation_seen_ = control_generation;
    log::info("chan", "control generation " + n(control_generation) + " attached; keeping " +
                          n(sas_.size()) + " SAs and " + n(policies_.size()) + " policies");
  }
  // One batch per poll: the tables publish the commands' combined effect
  // once, before their results go back to control below.
  sink_.begin_batch();
  const std::size_t taken =
      endpoint_.poll_commands(budget, [&](const Received<Command>& r) { apply(r); });
  sink_.end_batch();
  // Never wait here: the channel loop must keep applying commands even when
  // control is not reading events.
  const PushOutcome out = outbox_.flush(endpoint_, SteadyClock::time_point::min());
  if ((out.status == PushStatus::ring_corrupt || endpoint_.command_ring_corrupt()) &&
      !corruption_logged_) {
    corruption_logged_ = true;
    log::error("chan", "the rings of shared memory " + endpoint_.segment().name() +
                           " hold impossible indices: the segment is corrupt; stop both corridor "
                           "processes and remove " + shm_path(endpoint_.segment().name()));
  }
  return taken;
}

template <typename T>
void SaInventory::queue(const T& event) {
  RecordSlot slot;
  encode(event, slot);
  outbox_.add(slot);
}

void SaInventory::refuse(std::uint64_t sequence, std::uint16_t raw_type, std::uint64_t object_id,
                         ResultCode code, Field field) {
  queue(CommandResult{sequence, object_id, raw_type, code, field});
}

void SaInventory::apply(const Received<Command>& r) {
  if (r.after_gap) {
    ++stats_.gaps;
    log::warning("chan", "command sequence numbers missing before " + n(r.sequence) +
                             " (control stopped in the middle of a push?)");
  }
  if (!r.record.ok()) {
    ++stats_.invalid;
    log::warning("chan", "dropped an invalid " + type_name(r.raw_type) + " (sequence " +
                             n(r.sequence) + "): " + std::string(to_string(r.record.error().code)) +
                             ", field " + std::string(to_string(r.record.error().field)));
    refuse(r.sequence, r.raw_type, r.object_id, r.record.error().code, r.record.error().field);
    return;
  }
  const ResultCode code = apply_command(r.record.value());
  if (code == ResultCode::ok) {
    ++stats_.applied;
  } else {
    ++stats_.refused;
    log::warning("chan", "refused " + type_name(r.raw_type) + " (sequence " + n(r.sequence) +
                             ", id " + n(r.object_id) + "): " + std::string(to_string(code)));
    refuse(r.sequence, r.raw_type, r.object_id, code, Field::none);
  }
}

ResultCode SaInventory::apply_command(const Command& c) {
  switch (c.type) {
    case RecordType::add_sa: {
      const auto& sa = std::get<SaRecord>(c.body);
      if (sas_.contains(sa.sa_id)) return ResultCode::sa_exists;
      const ResultCode code = sink_.install_sa(sa);
      if (code == ResultCode::ok) sas_[sa.sa_id] = summarize(sa);
      return code;
    }
    case RecordType::update_sa: {
      const auto& sa = std::get<SaRecord>(c.body);
      const auto it = sas_.find(sa.sa_id);
      if (it == sas_.end()) return ResultCode::sa_unknown;
      const ResultCode code = sink_.update_sa(sa);
      if (code == ResultCode::ok) it->second = summarize(sa);
      return code;
    }
    case RecordType::delete_sa: {
      const std::uint64_t id = std::get<DeleteSa>(c.body).sa_id;
      if (sas_.erase(id) == 0) return ResultCode::sa_unknown;
      // A policy still naming this SA discards until control repoints it
      // (RFC 4301 §4.4.1: no SA for a protect policy means no traffic).
      sink_.remove_sa(id);
      return ResultCode::ok;
    }
    case RecordType::add_policy: {
      const auto& p = std::get<PolicyRecord>(c.body);
      if (p.action == PolicyAction::protect && !sas_.contains(p.sa_id)) return ResultCode::sa_unknown;
      const ResultCode code = sink_.install_policy(p);
      if (code == ResultCode::ok) policies_[p.policy_id] = p;
      return code;
    }
    case RecordType::delete_policy: {
      const std::uint64_t id = std::get<DeletePolicy>(c.body).policy_id;
      if (policies_.erase(id) == 0) return ResultCode::policy_unknown;
      sink_.remove_policy(id);
      return ResultCode::ok;
    }
    case RecordType::flush:
      ++stats_.flushes;
      log::info("chan", "flush from control generation " +
                            n(std::get<Flush>(c.body).control_generation) + ": removing " +
                            n(sas_.size()) + " SAs and " + n(policies_.size()) + " policies");
      sink_.flush();
      sas_.clear();
      policies_.clear();
      return ResultCode::ok;
    case RecordType::heartbeat: {
      ++stats_.heartbeats;
      const auto& hb = std::get<Heartbeat>(c.body);
      queue(HeartbeatAck{endpoint_.generation(), hb.heartbeat_id, hb.control_generation,
                         static_cast<std::uint32_t>(sas_.size()),
                         static_cast<std::uint32_t>(policies_.size())});
      return ResultCode::ok;
    }
    case RecordType::inventory_request:
      ++stats_.inventory_requests;
      answer_inventory(std::get<InventoryRequest>(c.body).request_id);
      return ResultCode::ok;
    default:
      return ResultCode::wrong_ring;  // decode_command only yields command types
  }
}

void SaInventory::answer_inventory(std::uint64_t request_id) {
  for (const auto& [id, summary] : sas_) queue(InventorySa{request_id, summary});
  for (const auto& [id, policy] : policies_) queue(InventoryPolicy{request_id, policy});
  queue(InventoryEnd{request_id, endpoint_.generation(), static_cast<std::uint32_t>(sas_.size()),
                     static_cast<std::uint32_t>(policies_.size())});
}

void SaInventory::report_soft_lifetime(const LifetimeExpired& event) {
  RecordSlot slot;
  encode_lifetime(RecordType::sa_soft_lifetime, event, slot);
  outbox_.add(slot);
}

void SaInventory::report_hard_lifetime(const LifetimeExpired& event) {
  RecordSlot slot;
  encode_lifetime(RecordType::sa_hard_lifetime, event, slot);
  outbox_.add(slot);
}

void SaInventory::report_seq_overflow(const SeqOverflow& event) { queue(event); }

bool SaInventory::report_counters(const SaCounters& counters) {
  return outbox_.add_counters(counters);
}

void SaInventory::report_replay_icv_summary(const ReplayIcvSummary& summary) { queue(summary); }

void SaInventory::report_acquire(const Acquire& acquire) { queue(acquire); }

bool SaInventory::report_stats(const PortStats& stats) {
  if (outbox_.size() >= kStatsBacklog) return false;
  queue(stats);
  return true;
}

bool SaInventory::report_stats(const WorkerStats& stats) {
  if (outbox_.size() >= kStatsBacklog) return false;
  queue(stats);
  return true;
}

}  // namespace corridor::dataplane
