#include "control/daemon/traffic_ledger.h"

namespace corridor::control {

namespace {

// Counters only grow while an SA lives; a smaller value means the
// dataplane restarted and the SA was installed again from zero.
std::uint64_t delta(std::uint64_t now, std::uint64_t before) { return now >= before ? now - before : now; }

void add(TrafficTotals& to, const TrafficTotals& from) {
  to.bytes_in += from.bytes_in;
  to.bytes_out += from.bytes_out;
  to.packets_in += from.packets_in;
  to.packets_out += from.packets_out;
}

}  // namespace

void TrafficLedger::record(const channel::SaCounters& s) {
  auto [it, fresh] = latest_.try_emplace(s.sa_id);
  const channel::SaCounters before = fresh ? channel::SaCounters{} : it->second;
  it->second = s;
  auto& p = pending_[s.sa_id].traffic;
  if (s.direction == channel::Direction::inbound) {
    p.bytes_in += delta(s.bytes, before.bytes);
    p.packets_in += delta(s.packets, before.packets);
  } else {
    p.bytes_out += delta(s.bytes, before.bytes);
    p.packets_out += delta(s.packets, before.packets);
  }
  drops_.replay += delta(s.replay_drops, before.replay_drops);
  drops_.icv += delta(s.icv_failures, before.icv_failures);
  drops_.malformed += delta(s.malformed_drops, before.malformed_drops);
}

void TrafficLedger::settle(const std::function<std::optional<std::string>(std::uint64_t)>& owner) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto alive = owner(it->first);
    if (alive) it->second.owner = std::move(*alive);
    add(by_connection_[it->second.owner], it->second.traffic);
    it->second.traffic = {};
    if (alive) {
      ++it;
    } else {
      latest_.erase(it->first);
      it = pending_.erase(it);
    }
  }
}

}  // namespace corridor::control
