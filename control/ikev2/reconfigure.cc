// A new config applied while SAs run (PUT /config, rollback).
//
// The rule, from the operator's side: what did not change is not touched,
// what changed is renegotiated under the new settings, what is gone is
// closed. A connection "did not change" when its whole definition is equal
// (the caller compares the written config); for those, every pointer into
// the old config (the IKE SA's connection, each Child SA's and pending
// negotiation's child config, the peer-identity index) moves to the new
// config's copy, which is equal, so nothing on the wire or in the
// dataplane sees it. Other SAs keep the old config alive through
// IkeSa::config_hold until their Delete exchange ends.
#include <algorithm>

#include "common/log/log.h"
#include "control/ikev2/manager.h"

namespace corridor::control::ikev2 {

namespace {

const config::ChildConfig* find_child(const config::ConnectionConfig& conn, std::string_view name) {
  for (const auto& c : conn.children)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace

Manager::ReconfigureResult Manager::reconfigure(std::shared_ptr<const config::Config> next,
                                                const std::vector<std::string>& unchanged, TimePoint now) {
  ReconfigureResult result;
  const config::Config& target = *next;  // `next` itself moves into config_ below
  auto is_unchanged = [&](std::string_view name) {
    return std::find(unchanged.begin(), unchanged.end(), name) != unchanged.end() && target.find_connection(name);
  };

  // Credentials are loaded per connection on first use; drop them all, so
  // the new config's certificates and keys are read afresh. Only SAs of the
  // running config authenticate (the others are terminated below), so no
  // entry for an old connection is made again.
  credentials_.clear();

  std::vector<std::uint64_t> to_terminate;
  for (auto& [id, sa] : sas_) {
    if (!sa->connection) continue;
    if (sa->config_hold != config_) continue;  // already winding down under an older config
    if (!is_unchanged(sa->connection->name)) {
      to_terminate.push_back(id);
      continue;
    }
    const auto* conn = target.find_connection(sa->connection->name);
    // The peer-identity index is keyed by the connection's address.
    if (sa->remote_id) {
      const auto [first, last] = by_peer_identity_.equal_range({sa->connection, sa->remote_id->to_string()});
      for (auto i = first; i != last; ++i)
        if (i->second == id) {
          by_peer_identity_.erase(i);
          break;
        }
    }
    sa->connection = conn;
    for (auto& child : sa->children) child.config = find_child(*conn, child.name);
    if (sa->pending_child && sa->pending_child->config)
      sa->pending_child->config = find_child(*conn, sa->pending_child->config->name);
    if (sa->pending_create && sa->pending_create->child.config)
      sa->pending_create->child.config = find_child(*conn, sa->pending_create->child.config->name);
    for (auto& task : sa->tasks)
      if (task.child) task.child = find_child(*conn, task.child->name);
    sa->config_hold = next;
    index_peer_identity(*sa);
    ++result.kept;
  }

  // The old config stays alive in the SAs still pointing into it.
  const auto previous = config_;
  config_ = std::move(next);

  for (const auto id : to_terminate) {
    const auto it = sas_.find(id);
    if (it == sas_.end()) continue;  // removed with an earlier one (none today; cheap to be sure)
    const std::string name = it->second->name();
    const bool gone = !config_->find_connection(it->second->connection->name);
    std::string why;
    if (terminate(id, now, &why)) {
      log::info("ike", name + ": connection " + (gone ? "removed" : "changed") + " by a new config, closing the IKE SA");
      ++result.terminated;
    } else {
      // Rekeyed or already deleting: it goes away on its own.
      log::debug("ike", name + ": left to finish (" + why + ")");
    }
  }

  for (const auto& conn : config_->connections) {
    if (is_unchanged(conn.name) || conn.version == 1) continue;  // IKEv1: the IKEv1 manager's
    const bool changed = previous->find_connection(conn.name) != nullptr;
    for (const auto& child : conn.children) {
      if (child.start_action != config::Action::start) continue;
      log::info("ike", std::string(changed ? "changed" : "new") + " connection " + conn.name + ": starting CHILD_SA " +
                           child.name + " (start_action start)");
      if (initiate(conn.name, child.name, now)) ++result.initiated;
    }
  }
  log::info("ike", "new config applied: " + std::to_string(result.kept) + " IKE SAs kept, " +
                       std::to_string(result.terminated) + " closed, " + std::to_string(result.initiated) +
                       " children initiated");
  return result;
}

}  // namespace corridor::control::ikev2
