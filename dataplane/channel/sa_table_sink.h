// The seam between the SA channel consumer and the packet engine's tables.
//
// SaInventory (sa_inventory.h) decides WHAT changes: it validates each
// command, checks it against what is installed and reports errors back to
// control. An SaTableSink carries the change out: the DPDK SAD/SPD (which
// expands keys once per SA and publishes new tables to the workers after an
// rte_rcu_qsbr grace period) implements it, and tests implement it in a few
// lines. Calls come from the dataplane's channel thread only, never from a
// worker, one at a time.
#pragma once

#include <cstdint>

#include "common/channel/records.h"

namespace corridor::dataplane {

class SaTableSink {
 public:
  SaTableSink() = default;
  SaTableSink(const SaTableSink&) = delete;
  SaTableSink& operator=(const SaTableSink&) = delete;
  virtual ~SaTableSink() = default;

  // Installs a new SA (its sa_id is not installed). `sa` holds key material:
  // copy or expand what the engine needs; the caller wipes `sa` afterwards.
  // Return ResultCode::ok, rejected (e.g. unsupported algorithm) or
  // table_full.
  virtual channel::ResultCode install_sa(const channel::SaRecord& sa) = 0;
  // Replaces the installed SA with the same sa_id (rekeyed lifetimes, a new
  // worker hint, new NAT-T ports after a NAT mapping change...).
  virtual channel::ResultCode update_sa(const channel::SaRecord& sa) = 0;
  // Removes an installed SA; the engine wipes its expanded keys.
  virtual void remove_sa(std::uint64_t sa_id) = 0;
  // Installs a policy, or replaces the one with the same policy_id. For
  // `protect` the SA it names is installed.
  virtual channel::ResultCode install_policy(const channel::PolicyRecord& policy) = 0;
  virtual void remove_policy(std::uint64_t policy_id) = 0;
  // Removes every SA and policy.
  virtual void flush() = 0;

  // The commands of one channel poll come between begin_batch() and
  // end_batch(): a sink may publish their combined effect once, at
  // end_batch(), instead of after every call (the SPD compiles all
  // policies at once, so per call a thousand Child SAs would cost a million
  // rule compilations). Results still come per call; what a call accepts
  // must then not fail at end_batch() but for want of memory.
  virtual void begin_batch() {}
  virtual void end_batch() {}
};

}  // namespace corridor::dataplane
