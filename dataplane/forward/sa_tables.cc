#include "dataplane/forward/sa_tables.h"

#include <stdexcept>

namespace corridor::dataplane::forward {

using channel::Direction;
using channel::PolicyAction;
using channel::ResultCode;

SaTables::SaTables(crypto::Backend& backend, GracePeriod& grace, std::uint32_t capacity, const std::string& name)
    : backend_(backend), grace_(grace), name_(name), sad_(name + "_sad", capacity), slots_(capacity) {
  free_slots_.reserve(capacity);
  for (std::uint32_t i = capacity; i > 0; --i) free_slots_.push_back(i - 1);  // slot 0 first
}

SaTables::~SaTables() {
  static_sas_.clear();
  static_policies_.clear();
  flush();
  grace_.drain();
}

ResultCode SaTables::refuse(ResultCode code, std::string why) {
  last_error_ = std::move(why);
  return code;
}

std::optional<std::uint32_t> SaTables::take_slot() {
  if (free_slots_.empty()) return std::nullopt;
  const std::uint32_t slot = free_slots_.back();
  free_slots_.pop_back();
  return slot;
}

const ipsec::Sa* SaTables::find(std::uint64_t sa_id) const {
  const auto it = sas_.find(sa_id);
  return it == sas_.end() ? nullptr : it->second.sa.get();
}

ResultCode SaTables::install_sa(const channel::SaRecord& record) {
  if (sas_.contains(record.sa_id)) return refuse(ResultCode::sa_exists, "SA " + std::to_string(record.sa_id) + " is installed");
  std::string why;
  auto sa = ipsec::Sa::create(record, backend_, &why);
  if (!sa) return refuse(ResultCode::rejected, why);
  const auto slot = take_slot();
  if (!slot) return refuse(ResultCode::table_full, "all " + std::to_string(slots_.size()) + " SA slots are in use");
  if (record.direction == Direction::inbound) {
    switch (sad_.add(record.protocol, record.spi, record.ip_version, record.outer_dst, *slot)) {
      case tables::AddResult::ok: break;
      case tables::AddResult::exists:
        free_slots_.push_back(*slot);
        return refuse(ResultCode::rejected, "another inbound SA has this protocol and SPI");
      case tables::AddResult::full:
        free_slots_.push_back(*slot);
        return refuse(ResultCode::table_full, "the SAD is full (removed entries wait for a grace period)");
    }
  }
  slots_[*slot].store(sa.get(), std::memory_order_release);
  sas_.emplace(record.sa_id, Installed{*slot, std::move(sa)});
  if (record.direction == Direction::inbound) refresh_selectors(record.sa_id);
  // Policies that name this SA were compiled as discard until now.
  for (const auto& [id, p] : policies_) {
    if (p.action == PolicyAction::protect && p.sa_id == record.sa_id && p.direction == Direction::outbound) {
      spd_changed();
      break;
    }
  }
  return ResultCode::ok;
}

ResultCode SaTables::update_sa(const channel::SaRecord& record) {
  const auto it = sas_.find(record.sa_id);
  if (it == sas_.end()) return refuse(ResultCode::sa_unknown, "SA " + std::to_string(record.sa_id) + " is not installed");
  const ipsec::Sa& old = *it->second.sa;
  const auto& was = old.summary();
  if (was.spi != record.spi || was.protocol != record.protocol || was.direction != record.direction ||
      was.ip_version != record.ip_version || was.outer_dst != record.outer_dst) {
    return refuse(ResultCode::rejected,
                  "an update keeps the SPI, protocol, direction and destination; install a new SA instead");
  }
  std::string why;
  auto sa = ipsec::Sa::create(record, backend_, &why);
  if (!sa) return refuse(ResultCode::rejected, why);
  // Single lcore: the main lcore also forwards, so nothing runs on `old`
  // during this call. (With workers the update goes to the SA's owner.)
  sa->continue_from(old);
  Installed& entry = it->second;
  slots_[entry.slot].store(sa.get(), std::memory_order_release);
  auto previous = std::make_shared<std::unique_ptr<ipsec::Sa>>(std::move(entry.sa));
  entry.sa = std::move(sa);
  if (record.direction == Direction::inbound) refresh_selectors(record.sa_id);
  grace_.defer([previous] { previous->reset(); });
  return ResultCode::ok;
}

void SaTables::retire(Installed entry) {
  const auto& summary = entry.sa->summary();
  slots_[entry.slot].store(nullptr, std::memory_order_release);
  auto retired = std::make_shared<tables::Sad::Retired>();
  if (summary.direction == Direction::inbound) {
    sad_.remove(summary.protocol, summary.spi);
    *retired = sad_.take_retired();
  }
  auto sa = std::make_shared<std::unique_ptr<ipsec::Sa>>(std::move(entry.sa));
  const std::uint32_t slot = entry.slot;
  grace_.defer([this, sa, retired, slot] {
    sa->reset();  // the session wipes its expanded keys
    if (!retired->empty()) sad_.reclaim(std::move(*retired));
    free_slots_.push_back(slot);
  });
}

void SaTables::remove_sa(std::uint64_t sa_id) {
  const auto it = sas_.find(sa_id);
  if (it == sas_.end()) return;
  Installed entry = std::move(it->second);
  sas_.erase(it);
  retire(std::move(entry));
  for (const auto& [id, p] : policies_) {
    if (p.action == PolicyAction::protect && p.sa_id == sa_id && p.direction == Direction::outbound) {
      spd_changed();  // its policies become discard
      break;
    }
  }
}

ResultCode SaTables::install_policy(const channel::PolicyRecord& policy) {
  if (policy.action == PolicyAction::protect) {
    const ipsec::Sa* sa = find(policy.sa_id);
    if (sa == nullptr) return refuse(ResultCode::sa_unknown, "the policy protects with an SA that is not installed");
    if (sa->summary().direction != policy.direction) {
      return refuse(ResultCode::rejected, "the policy's direction differs from its SA's");
    }
  }
  // Everything the SPD compilation checks of one rule, checked now: in a
  // batch the compilation comes later, when this call has been answered.
  if (auto why = tables::check(tables::Selector{policy.src, policy.dst, policy.ip_protocol, policy.src_ports,
                                                policy.dst_ports});
      !why.empty())
    return refuse(ResultCode::rejected, "policy " + std::to_string(policy.policy_id) + ": " + why);
  if (policy.action != PolicyAction::protect && policy.action != PolicyAction::bypass &&
      policy.action != PolicyAction::discard && policy.action != PolicyAction::trap)
    return refuse(ResultCode::rejected, "policy " + std::to_string(policy.policy_id) + ": unknown action");
  if (policy.action == PolicyAction::trap && policy.direction != Direction::outbound)
    return refuse(ResultCode::rejected, "policy " + std::to_string(policy.policy_id) + ": a trap is outbound only");
  std::optional<channel::PolicyRecord> previous;
  if (const auto it = policies_.find(policy.policy_id); it != policies_.end()) previous = it->second;
  policies_[policy.policy_id] = policy;
  const bool inbound_protect = policy.direction == Direction::inbound && policy.action == PolicyAction::protect;
  const bool was_inbound_protect =
      previous && previous->direction == Direction::inbound && previous->action == PolicyAction::protect;
  if (!inbound_protect || was_inbound_protect) {
    if (batching_) {
      spd_dirty_ = true;
    } else if (!rebuild_spd()) {
      if (previous) policies_[policy.policy_id] = *previous;
      else policies_.erase(policy.policy_id);
      return ResultCode::rejected;
    }
  }
  if (inbound_protect) refresh_selectors(policy.sa_id);
  if (was_inbound_protect && previous->sa_id != policy.sa_id) refresh_selectors(previous->sa_id);
  return ResultCode::ok;
}

void SaTables::remove_policy(std::uint64_t policy_id) {
  const auto it = policies_.find(policy_id);
  if (it == policies_.end()) return;
  const channel::PolicyRecord removed = it->second;
  policies_.erase(it);
  if (removed.direction == Direction::inbound && removed.action == PolicyAction::protect) {
    refresh_selectors(removed.sa_id);
  } else {
    spd_changed();  // a smaller rule set cannot fail to build but for memory; then the old one stays
  }
}

ResultCode SaTables::install_static_sa(const channel::SaRecord& sa) {
  const ResultCode rc = install_sa(sa);
  if (rc == ResultCode::ok) static_sas_.insert(sa.sa_id);
  return rc;
}

ResultCode SaTables::install_static_policy(const channel::PolicyRecord& policy) {
  const ResultCode rc = install_policy(policy);
  if (rc == ResultCode::ok) static_policies_.insert(policy.policy_id);
  return rc;
}

void SaTables::flush() {
  std::erase_if(policies_, [&](const auto& p) { return !static_policies_.contains(p.first); });
  spd_changed();
  for (auto it = sas_.begin(); it != sas_.end();) {
    if (static_sas_.contains(it->first)) {
      ++it;
      continue;
    }
    Installed entry = std::move(it->second);
    it = sas_.erase(it);
    retire(std::move(entry));
  }
}

void SaTables::spd_changed() {
  if (batching_) spd_dirty_ = true;
  else rebuild_spd();
}

bool SaTables::publish_batch() {
  batching_ = false;
  // On failure it stays dirty: the next batch (or change) tries again.
  return !spd_dirty_ || rebuild_spd();
}

bool SaTables::rebuild_spd() {
  ++spd_builds_;
  std::vector<tables::SpdRule> outbound, inbound;
  for (const auto& [id, p] : policies_) {
    if (p.direction == Direction::outbound) {
      const auto it = p.action == PolicyAction::protect ? sas_.find(p.sa_id) : sas_.end();
      tables::SpdRule rule = tables::rule_from(p, it != sas_.end() ? it->second.slot : 0);
      if (p.action == PolicyAction::protect && it == sas_.end()) rule.action = PolicyAction::discard;
      outbound.push_back(rule);
    } else if (p.action != PolicyAction::protect) {
      inbound.push_back(tables::rule_from(p, 0));  // clear traffic on the unprotected side
    }
  }
  std::string error;
  std::unique_ptr<tables::SpdTable> out_table, in_table;
  if (!outbound.empty() && !(out_table = tables::SpdTable::build(outbound, error))) {
    last_error_ = "outbound SPD: " + error;
    return false;
  }
  if (!inbound.empty() && !(in_table = tables::SpdTable::build(inbound, error))) {
    last_error_ = "inbound SPD: " + error;
    return false;
  }
  std::shared_ptr<const tables::SpdTable> old_out(outbound_spd_.exchange(out_table.release(), std::memory_order_acq_rel));
  std::shared_ptr<const tables::SpdTable> old_in(inbound_spd_.exchange(in_table.release(), std::memory_order_acq_rel));
  if (old_out || old_in) grace_.defer([old_out, old_in] {});  // freed with the lambda, after the grace period
  spd_dirty_ = false;
  return true;
}

void SaTables::refresh_selectors(std::uint64_t sa_id) {
  const auto it = sas_.find(sa_id);
  if (it == sas_.end()) return;
  tables::SelectorSet set;
  for (const auto& [id, p] : policies_) {
    if (p.direction == Direction::inbound && p.action == PolicyAction::protect && p.sa_id == sa_id) {
      set.add(tables::Selector{p.src, p.dst, p.ip_protocol, p.src_ports, p.dst_ports});
    }
  }
  auto previous = std::shared_ptr<tables::SelectorSet>(it->second.sa->set_selectors(std::move(set)));
  if (previous) grace_.defer([previous] {});
}

}  // namespace corridor::dataplane::forward
