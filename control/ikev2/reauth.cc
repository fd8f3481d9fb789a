// IKE SA reauthentication (strongSwan's reauth_time; RFC 7296 §2.8.3):
// a rekey renews the keys, but only a new IKE_SA_INIT and IKE_AUTH make
// the peer prove its identity again (a certificate revoked or expired
// since, a PSK changed). Make-before-break, as strongSwan's
// make_before_break does it:
//
//   1. a new IKE SA to the same peer, asking for each Child SA of the old
//      one again: the first in IKE_AUTH, the others by CREATE_CHILD_SA;
//   2. each new Child SA takes over the outbound policies of its
//      predecessor on the old IKE SA at once (the peer installed it before
//      it answered), so traffic moves without a gap;
//   3. with every Child SA asked for, the old IKE SA is deleted, taking
//      the old Child SAs with it.
//
// Whoever has reauth_time configured reauthenticates, initiator or not.
// The new IKE_AUTH never carries INITIAL_CONTACT, so the peer keeps the old
// SAs until our Delete. If the new IKE SA fails, even after it took some
// traffic over, the old one gets its policies back, stays, and tries again
// later; reauth_time + over_time closes it if it never succeeds.
#include <algorithm>
#include <utility>

#include "common/log/log.h"
#include "control/ike/addresses.h"
#include "control/ikev2/manager.h"

namespace corridor::control::ikev2 {

namespace {

// A failed reauthentication is tried again after this long.
constexpr auto kReauthRetry = std::chrono::seconds(30);

}  // namespace

bool Manager::start_reauth(IkeSa& old, TimePoint now, std::string* why) {
  const auto refuse = [&](std::string text) {
    log::warning("ike", "cannot reauthenticate IKE_SA " + old.name() + ": " + text);
    if (why) *why = std::move(text);
    return false;
  };
  if (stopping_) return refuse("shutting down");
  if (old.reauthenticated_by) return refuse("it is being reauthenticated already");
  if (!old.connection) return refuse("it has no connection");
  if (old.has_task(Task::Kind::delete_ike)) return refuse("it is being deleted");
  // A config change that touched the connection closes the SA instead
  // (reconfigure()); the new IKE SA must live by the running config.
  if (old.config_hold != config_) return refuse("its connection was changed or removed by a new config");
  const auto& conn = *old.connection;

  // The Child SAs to ask for again, once each (a rekey in progress leaves
  // two of the same child for a moment), in the order they came up.
  std::vector<const config::ChildConfig*> children;
  for (const auto& c : old.children) {
    if (!c.config || c.superseded || c.state == ChildSaState::deleting || c.state == ChildSaState::rekeyed) continue;
    if (std::find(children.begin(), children.end(), c.config) == children.end()) children.push_back(c.config);
  }

  // To the configured peer when it has a definite address (as a first
  // initiation goes), else back where the old IKE SA talks to: a peer
  // behind a NAT is reached through the mapping it holds open.
  net::SocketAddress local = old.local;
  net::SocketAddress remote = old.remote;
  std::string no_endpoints;
  if (const auto endpoints = ike::initiator_endpoints(conn, transport_, &no_endpoints)) {
    local = endpoints->local;
    remote = endpoints->remote;
  }

  IkeSa& n = create_sa(&conn, true, now);
  n.local = local;
  n.remote = remote;
  n.reauth_of = old.id;
  old.reauthenticated_by = n.id;
  if (!children.empty()) {
    n.pending_child = PendingChild{};
    n.pending_child->config = children.front();
    for (auto it = children.begin() + 1; it != children.end(); ++it)
      n.tasks.push_back(Task{Task::Kind::create_child, 0, *it});
  }
  ++stats_.ike_sas_reauth_started;
  log::info("ike", "reauthenticating IKE_SA " + old.name() + ": new IKE_SA " + n.name() + " to " +
                       endpoint_text(remote) + " for " + std::to_string(children.size()) + " CHILD_SA(s)");
  // start_ike_sa_init() removes n if it cannot even send; the old SA
  // notices in advance_reauth() and tries again later.
  return start_ike_sa_init(n, now) || refuse("the new IKE SA could not start");
}

ChildSa* Manager::reauth_predecessor(IkeSa& sa, const config::ChildConfig& child) {
  if (!sa.reauth_of) return nullptr;
  const auto it = sas_.find(sa.reauth_of);
  if (it == sas_.end()) return nullptr;
  // By name: a live config change re-points the SAs at new objects.
  for (auto& c : it->second->children)
    if (c.config && c.config->name == child.name && c.state == ChildSaState::installed && !c.outbound_pending &&
        !c.outbound_policies.empty())
      return &c;
  return nullptr;
}

void Manager::advance_reauth(IkeSa& sa, TimePoint now) {
  if (sa.reauthenticated_by && !sas_.contains(sa.reauthenticated_by)) {
    // The new IKE SA failed (logged as it did) and handed its policies
    // back: keep this one and, when reauth_time asks for it, try again.
    sa.reauthenticated_by = 0;
    if (stopping_) return;
    ++stats_.ike_sas_reauth_failed;
    if (!sa.connection || sa.connection->reauth_time.count() <= 0) {
      log::warning("ike", "reauthentication of IKE_SA " + sa.name() + " failed: keeping it");
      return;
    }
    sa.reauth_at = std::min(now + kReauthRetry + jitter(kReauthRetry), sa.expire_at);
    log::warning("ike", "reauthentication of IKE_SA " + sa.name() + " failed: keeping it, trying again in about " +
                            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(sa.reauth_at - now).count()) +
                            " s");
    return;
  }
  if (!sa.reauth_of) return;
  // Done when established with every Child SA asked for and answered.
  if (sa.state() != IkeSaState::established || sa.outstanding || sa.pending_create || !sa.tasks.empty()) return;
  const auto it = sas_.find(sa.reauth_of);
  sa.reauth_of = 0;
  for (auto& c : sa.children) c.reauth_predecessor_spi_in = 0;  // the takeover is final
  if (it == sas_.end()) return;  // gone meanwhile (deleted by the peer, expired)
  IkeSa& old = *it->second;
  old.reauthenticated_by = 0;
  ++stats_.ike_sas_reauthenticated;
  log::info("ike", "IKE_SA " + old.name() + " reauthenticated: now " + sa.name() + " with " +
                       std::to_string(sa.children.size()) + " CHILD_SA(s); deleting the old IKE_SA");
  // A Child SA the new IKE SA could not get (the peer refused it, say)
  // goes with the old IKE SA, as it would with a new config.
  for (const auto& c : old.children)
    if (c.state == ChildSaState::installed && !c.outbound_policies.empty())
      log::warning("ike", sa.name() + " CHILD_SA " + c.name + " was not renewed by the reauthentication; it goes with " +
                              old.name());
  old.reauthenticated = true;  // its Child SAs' inbound halves linger (retire_delay)
  if (old.state() != IkeSaState::established) return;  // its Delete is under way already
  old.tasks.assign(1, Task{Task::Kind::delete_ike, 0});
  run_tasks(old, now);
}

void Manager::hand_back_policies(IkeSa& sa, ChildSa& child) {
  const auto spi = std::exchange(child.reauth_predecessor_spi_in, 0);
  const auto it = sas_.find(sa.reauth_of);
  if (it == sas_.end() || child.outbound_policies.empty()) return;
  ChildSa* predecessor = find_child_by_spi_in(*it->second, spi);
  if (!predecessor) return;
  for (auto p : child.outbound_policies) {
    p.sa_id = predecessor->record_out.sa_id;
    if (sink_.set_policy(p)) predecessor->outbound_policies.push_back(p);  // same id: re-pointed in one step
  }
  log::info("ike", sa.name() + " CHILD_SA " + child.name + " goes before the reauthentication is done: " +
                       it->second->name() + " CHILD_SA " + predecessor->name + " " + hex32(predecessor->spi_out) +
                       "_o carries the outbound traffic again");
  child.outbound_policies.clear();  // not removed by uninstall_child()
}

}  // namespace corridor::control::ikev2
