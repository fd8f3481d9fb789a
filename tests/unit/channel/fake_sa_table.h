// An SaTableSink that records what it is told, for the channel tests, and
// a pump that runs control and dataplane turns until both are idle.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/channel/records.h"
#include "control/daemon/sa_sync.h"
#include "dataplane/channel/sa_inventory.h"
#include "dataplane/channel/sa_table_sink.h"

namespace corridor::channel::testing {

class FakeSaTable final : public dataplane::SaTableSink {
 public:
  ResultCode install_sa(const SaRecord& sa) override {
    log.push_back("install_sa " + std::to_string(sa.sa_id));
    if (sa.sa_id == reject_sa_id) return ResultCode::rejected;
    if (sas.size() >= capacity) return ResultCode::table_full;
    sas[sa.sa_id] = sa;
    return ResultCode::ok;
  }
  // As the dataplane's SaTables: an update keeps the SA's identity.
  ResultCode update_sa(const SaRecord& sa) override {
    log.push_back("update_sa " + std::to_string(sa.sa_id));
    const auto it = sas.find(sa.sa_id);
    if (it == sas.end()) return ResultCode::sa_unknown;
    const SaRecord& was = it->second;
    if (was.spi != sa.spi || was.protocol != sa.protocol || was.direction != sa.direction ||
        was.ip_version != sa.ip_version || was.outer_dst != sa.outer_dst) {
      return ResultCode::rejected;
    }
    it->second = sa;
    return ResultCode::ok;
  }
  void remove_sa(std::uint64_t sa_id) override {
    log.push_back("remove_sa " + std::to_string(sa_id));
    sas.erase(sa_id);
  }
  ResultCode install_policy(const PolicyRecord& policy) override {
    log.push_back("install_policy " + std::to_string(policy.policy_id));
    policies[policy.policy_id] = policy;
    return ResultCode::ok;
  }
  void remove_policy(std::uint64_t policy_id) override {
    log.push_back("remove_policy " + std::to_string(policy_id));
    policies.erase(policy_id);
  }
  void flush() override {
    log.push_back("flush");
    ++flushes;
    sas.clear();
    policies.clear();
  }

  std::map<std::uint64_t, SaRecord> sas;
  std::map<std::uint64_t, PolicyRecord> policies;
  std::vector<std::string> log;
  int flushes = 0;
  std::uint64_t reject_sa_id = 0;
  std::size_t capacity = 1'000'000;
};

// Runs turns of both sides until neither has anything left to do.
inline void pump(control::SaSync& sync, dataplane::SaInventory& inventory, int max_turns = 1000) {
  for (int turn = 0; turn < max_turns; ++turn) {
    const control::SyncPollResult c = sync.poll(SteadyClock::now());
    const std::size_t d = inventory.poll();
    if (c.events == 0 && c.pushed == 0 && c.still_queued == 0 && d == 0 &&
        inventory.queued_events() == 0) {
      return;
    }
  }
}

}  // namespace corridor::channel::testing
