// The dataplane's consumer of the SA channel protocol (docs/sa-channel.md).
//
// Runs on the dataplane's main lcore, off the fast path: each poll() takes
// a burst of commands off the command ring and applies them through an
// SaTableSink, answers HEARTBEAT and INVENTORY_REQUEST, and pushes queued
// events without ever blocking. It keeps its own view of what is installed
// (without key material) so that it can refuse inconsistent commands with a
// COMMAND_RESULT and answer an inventory request after a control-plane
// restart, while the engine keeps forwarding on those SAs.
//
// Apply rules (each refusal is a COMMAND_RESULT with the code):
//   ADD_SA         id installed              -> sa_exists
//   UPDATE_SA      id not installed          -> sa_unknown
//   DELETE_SA      id not installed          -> sa_unknown
//   ADD_POLICY     protect, SA not installed -> sa_unknown (add or replace otherwise)
//   DELETE_POLICY  id not installed          -> policy_unknown
//   FLUSH          removes everything
//   invalid record -> the validator's code and field; counted, slot wiped
// A refusal by the sink (rejected, table_full) is reported the same way.
// Success is not acknowledged per record: the consumer's last sequence in
// the segment header tells control how far the dataplane has got.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

#include "common/channel/dataplane_endpoint.h"
#include "common/channel/records.h"
#include "dataplane/channel/event_outbox.h"
#include "dataplane/channel/sa_table_sink.h"

namespace corridor::dataplane {

struct SaInventoryOptions {
  std::size_t outbox_limit = 1U << 20;  // see EventOutbox
};

struct SaInventoryStats {
  std::uint64_t applied = 0;              // commands carried out
  std::uint64_t refused = 0;              // valid commands refused (COMMAND_RESULT sent)
  std::uint64_t invalid = 0;              // malformed records (COMMAND_RESULT sent)
  std::uint64_t gaps = 0;                 // records that followed missing sequence numbers
  std::uint64_t flushes = 0;
  std::uint64_t inventory_requests = 0;
  std::uint64_t heartbeats = 0;
  std::uint64_t control_restarts_seen = 0;  // control generation changes
};

class SaInventory {
 public:
  SaInventory(channel::DataplaneEndpoint& endpoint, SaTableSink& sink,
              const SaInventoryOptions& options = {});

  // One turn: refresh our heartbeat, apply up to `budget` commands, push
  // queued events (non-blocking). Returns the number of records taken.
  std::size_t poll(std::size_t budget = 256);

  // Events from the packet engine; queued and sent by poll().
  void report_soft_lifetime(const channel::LifetimeExpired& event);
  void report_hard_lifetime(const channel::LifetimeExpired& event);
  void report_seq_overflow(const channel::SeqOverflow& event);
  bool report_counters(const channel::SaCounters& counters);  // false: dropped (outbox full)
  void report_replay_icv_summary(const channel::ReplayIcvSummary& summary);
  // A trap policy caught a packet (rate-limited by the forwarder); never
  // dropped here, like the lifetime events: it starts a negotiation.
  void report_acquire(const channel::Acquire& acquire);
  // Port and worker counters, each interval. Not queued (false) while the
  // outbox holds kStatsBacklog events or more: control is not reading, and
  // the next interval's numbers supersede these.
  static constexpr std::size_t kStatsBacklog = 256;
  bool report_stats(const channel::PortStats& stats);
  bool report_stats(const channel::WorkerStats& stats);

  const std::map<std::uint64_t, channel::SaSummary>& sas() const { return sas_; }
  const std::map<std::uint64_t, channel::PolicyRecord>& policies() const { return policies_; }
  std::size_t queued_events() const { return outbox_.size(); }
  std::uint64_t dropped_counters() const { return outbox_.dropped_counters(); }
  const SaInventoryStats& stats() const { return stats_; }

 private:
  void apply(const channel::Received<channel::Command>& received);
  channel::ResultCode apply_command(const channel::Command& command);
  void answer_inventory(std::uint64_t request_id);
  void refuse(std::uint64_t sequence, std::uint16_t raw_type, std::uint64_t object_id,
              channel::ResultCode code, channel::Field field);
  template <typename T>
  void queue(const T& event);

  channel::DataplaneEndpoint& endpoint_;
  SaTableSink& sink_;
  EventOutbox outbox_;
  std::map<std::uint64_t, channel::SaSummary> sas_;
  std::map<std::uint64_t, channel::PolicyRecord> policies_;
  std::uint64_t control_generation_seen_ = 0;
  bool corruption_logged_ = false;
  SaInventoryStats stats_;
};

}  // namespace corridor::dataplane
