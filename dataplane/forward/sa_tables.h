// The packet engine's installed state, as the workers read it: the SAs in
// numbered slots, the SAD (inbound: (protocol, SPI) -> slot) and the SPD
// (outbound policies compiled by rte_acl; inbound bypass/discard policies
// for clear traffic arriving on the unprotected side).
//
// SaTables is the SaTableSink the SA channel consumer (and the static SAs
// of the config) drive. It runs on the main lcore; the workers only read,
// without locks: a change is published by swapping a pointer or linking a
// hash entry, and whatever it replaces is released after a grace period
// (grace_period.h).
//
// A protect policy names an SA by sa_id. The SPD is compiled with the SA's
// current slot; while its SA is not installed (deleted first, or added
// later) the policy compiles as discard, so its traffic never leaves in the
// clear and a stale slot number is never followed.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dataplane/channel/sa_table_sink.h"
#include "dataplane/crypto/backend.h"
#include "dataplane/forward/grace_period.h"
#include "dataplane/ipsec/sa.h"
#include "dataplane/tables/sad.h"
#include "dataplane/tables/spd.h"

namespace corridor::dataplane::forward {

class SaTables final : public SaTableSink {
 public:
  // `backend` expands keys when SAs are installed (its sessions are used
  // by every worker's backend of the same kind). `capacity` bounds the
  // SAs (and the SAD). `name` prefixes DPDK object names.
  SaTables(crypto::Backend& backend, GracePeriod& grace, std::uint32_t capacity, const std::string& name);
  ~SaTables() override;

  // SaTableSink (main lcore).
  channel::ResultCode install_sa(const channel::SaRecord& sa) override;
  channel::ResultCode update_sa(const channel::SaRecord& sa) override;
  void remove_sa(std::uint64_t sa_id) override;
  channel::ResultCode install_policy(const channel::PolicyRecord& policy) override;
  void remove_policy(std::uint64_t policy_id) override;
  void flush() override;
  // Between these the SPD is compiled once, at the end, not after every
  // change. publish_batch() ends a batch as end_batch() does and returns
  // false when that compilation failed (rte_acl out of memory; last_error()
  // says so): the SPD in force stays, and every change since is compiled
  // at the next end of a batch.
  void begin_batch() override { batching_ = true; }
  void end_batch() override { publish_batch(); }
  bool publish_batch();
  std::uint64_t spd_builds() const { return spd_builds_; }

  // Manually keyed SAs and their policies (the config's static_sas):
  // installed like the channel's, but kept by flush(), which the control
  // plane sends when it (re)starts and knows nothing of them.
  channel::ResultCode install_static_sa(const channel::SaRecord& sa);
  channel::ResultCode install_static_policy(const channel::PolicyRecord& policy);

  // Why the last install/update/policy call was refused (for the log).
  const std::string& last_error() const { return last_error_; }

  // Workers.
  ipsec::Sa* sa_at(std::uint32_t index) const { return slots_[index].load(std::memory_order_acquire); }
  const tables::Sad& sad() const { return sad_; }
  const tables::SpdTable* outbound_spd() const { return outbound_spd_.load(std::memory_order_acquire); }
  const tables::SpdTable* inbound_spd() const { return inbound_spd_.load(std::memory_order_acquire); }

  // Main lcore: the installed SAs (events, counters, telemetry).
  template <typename F>
  void for_each_sa(F&& f) const {
    for (const auto& [id, entry] : sas_) f(id, *entry.sa);
  }
  const ipsec::Sa* find(std::uint64_t sa_id) const;
  std::size_t sa_count() const { return sas_.size(); }
  std::size_t policy_count() const { return policies_.size(); }

 private:
  struct Installed {
    std::uint32_t slot = 0;
    std::unique_ptr<ipsec::Sa> sa;
  };

  channel::ResultCode refuse(channel::ResultCode code, std::string why);
  std::optional<std::uint32_t> take_slot();
  // Unpublishes an SA; its slot, SAD entry and keys go after a grace period.
  void retire(Installed entry);
  // Recompiles both SPDs from policies_; false (tables unchanged, error in
  // last_error_) when rte_acl refuses.
  bool rebuild_spd();
  // The SPD must change: rebuilt now, or at the end of the batch.
  void spd_changed();
  // The selectors of the inbound protect policies naming `sa_id`, set on the SA.
  void refresh_selectors(std::uint64_t sa_id);

  crypto::Backend& backend_;
  GracePeriod& grace_;
  std::string name_;
  tables::Sad sad_;
  std::vector<std::atomic<ipsec::Sa*>> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::unordered_map<std::uint64_t, Installed> sas_;
  std::map<std::uint64_t, channel::PolicyRecord> policies_;
  bool batching_ = false;
  bool spd_dirty_ = false;
  std::uint64_t spd_builds_ = 0;
  std::unordered_set<std::uint64_t> static_sas_, static_policies_;
  std::atomic<const tables::SpdTable*> outbound_spd_{nullptr};
  std::atomic<const tables::SpdTable*> inbound_spd_{nullptr};
  std::string last_error_;
};

}  // namespace corridor::dataplane::forward
