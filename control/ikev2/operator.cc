// What an operator sees of the IKE SAs and does to them, through the REST
// API (control/api): the SA list, terminate, rekey and reauthenticate, as
// swanctl's --list-sas, --terminate and --rekey [--reauth] do for strongSwan.
//
// Every command goes through the SA's task queue, so it waits behind a
// request of ours that is already out (the message-ID window is 1, RFC
// 7296 §2.3) instead of racing it.
#include <utility>

#include "common/log/log.h"
#include "control/ikev2/manager.h"

namespace corridor::control::ikev2 {

namespace {

bool refuse(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return false;
}

ChildSaView view_of(const ChildSa& c) {
  ChildSaView v;
  v.name = c.name;
  v.state = std::string(to_string(c.state));
  v.protocol = c.protocol == iana::ProtocolId::ah ? "AH" : "ESP";
  v.mode = c.mode == config::ChildMode::transport ? "TRANSPORT" : "TUNNEL";
  v.udp_encap = c.udp_encap;
  v.spi_in = c.spi_in;
  v.spi_out = c.spi_out;
  v.sa_id_in = c.record_in.sa_id;
  v.sa_id_out = c.record_out.sa_id;
  v.proposal = c.proposal.to_string();
  v.esn = c.proposal.esn;
  if (c.proposal.key_exchange)
    v.pfs_group = std::string(iana::transform_name(iana::TransformType::key_exchange, static_cast<std::uint16_t>(*c.proposal.key_exchange)));
  for (const auto& ts : c.local_ts) v.local_ts.push_back(ts.to_string());
  for (const auto& ts : c.remote_ts) v.remote_ts.push_back(ts.to_string());
  v.installed_at = c.installed_at;
  v.rekey_at = c.rekey_at;
  v.expire_at = c.expire_at;
  return v;
}

IkeSaView view_of(const IkeSa& sa) {
  IkeSaView v;
  v.id = sa.id;
  v.name = sa.name();
  v.connection = sa.connection ? sa.connection->name : "";
  v.state = std::string(to_string(sa.state()));
  v.initiator = sa.initiator;
  v.local_endpoint = sa.local;
  v.remote_endpoint = sa.remote;
  v.local = endpoint_text(sa.local);
  v.remote = endpoint_text(sa.remote);
  if (sa.local_id) v.local_id = sa.local_id->to_string();
  if (sa.remote_id) v.remote_id = sa.remote_id->to_string();
  v.spi_i = to_hex(sa.spi_i);
  v.spi_r = to_hex(sa.spi_r);
  if (sa.proposal) v.proposal = sa.proposal->to_string();
  v.nat_local = sa.nat_local;
  v.nat_remote = sa.nat_remote;
  v.created_at = sa.created_at;
  if (sa.established_at != TimePoint{}) v.established_at = sa.established_at;
  v.rekey_at = sa.rekey_at;
  v.reauth_at = sa.reauth_at;
  v.expire_at = sa.expire_at;
  if (sa.connection) v.dpd_delay = sa.connection->dpd_delay;
  v.last_received = sa.last_received;
  if (sa.liveness_sent != TimePoint{}) v.liveness_sent = sa.liveness_sent;
  if (sa.liveness_acknowledged != TimePoint{}) v.liveness_acknowledged = sa.liveness_acknowledged;
  for (const auto& c : sa.children) v.children.push_back(view_of(c));
  return v;
}

}  // namespace

std::vector<IkeSaView> Manager::list() const {
  std::vector<IkeSaView> out;
  out.reserve(sas_.size());
  for (const auto& [id, sa] : sas_) out.push_back(view_of(*sa));
  return out;
}

std::vector<IkeSaView> Manager::list(std::uint64_t after_id, std::size_t limit, const ListFilter& filter,
                                     bool* more) const {
  std::vector<IkeSaView> out;
  if (more) *more = false;
  for (auto it = sas_.upper_bound(after_id); it != sas_.end(); ++it) {
    const IkeSa& sa = *it->second;
    if (!filter.connection.empty() && (!sa.connection || sa.connection->name != filter.connection)) continue;
    if (!filter.state.empty() && to_string(sa.state()) != filter.state) continue;
    if (out.size() == limit) {
      if (more) *more = true;
      break;
    }
    out.push_back(view_of(sa));
  }
  return out;
}

void Manager::visit_briefs(const std::function<void(const IkeSaBrief&)>& visit) const {
  IkeSaBrief b;
  for (const auto& [id, owned] : sas_) {
    const IkeSa& sa = *owned;
    b.id = sa.id;
    b.connection = sa.connection ? std::string_view(sa.connection->name) : std::string_view();
    b.state = to_string(sa.state());
    b.established_at = sa.established_at != TimePoint{} ? std::optional<TimePoint>(sa.established_at) : std::nullopt;
    b.children = sa.children.size();
    b.channel_sa_ids.clear();
    for (const auto& c : sa.children) {
      b.channel_sa_ids.push_back(c.record_in.sa_id);
      b.channel_sa_ids.push_back(c.record_out.sa_id);
    }
    visit(b);
  }
}

std::optional<IkeSaView> Manager::find(std::uint64_t id) const {
  const auto it = sas_.find(id);
  if (it == sas_.end()) return std::nullopt;
  return view_of(*it->second);
}

bool Manager::terminate(std::uint64_t id, TimePoint now, std::string* why) {
  const auto it = sas_.find(id);
  if (it == sas_.end()) return refuse(why, "no IKE SA " + std::to_string(id));
  IkeSa& sa = *it->second;
  switch (sa.state()) {
    case IkeSaState::established:
      if (sa.has_task(Task::Kind::delete_ike, 0)) return refuse(why, sa.name() + " is already being deleted");
      log::info("ike", "operator: terminating IKE_SA " + sa.name());
      // Ahead of queued rekeys: they would only be undone by the Delete.
      sa.tasks.push_front(Task{Task::Kind::delete_ike, 0});
      run_tasks(sa, now);
      // A reauthentication under way would bring the tunnel back.
      if (const auto successor = std::exchange(sa.reauthenticated_by, 0)) terminate(successor, now);
      return true;
    case IkeSaState::created:
    case IkeSaState::ike_sa_init_sent:
    case IkeSaState::ike_sa_init_done:
    case IkeSaState::ike_auth_sent:
      // No keys agreed (or not authenticated): nothing to tell the peer,
      // whose half-open SA times out on its own.
      log::info("ike", "operator: abandoning IKE_SA " + sa.name() + " in state " + std::string(to_string(sa.state())));
      ++stats_.ike_sas_failed;
      remove_sa(id);
      return true;
    case IkeSaState::rekeyed:
    case IkeSaState::deleting:
    case IkeSaState::dead:
      break;
  }
  return refuse(why, sa.name() + " is already " + std::string(to_string(sa.state())));
}

bool Manager::reauthenticate(std::uint64_t id, TimePoint now, std::string* why) {
  IkeSa* found = established_sa(id, why);
  if (!found) return false;
  if (found->reauth_of) return refuse(why, found->name() + " is itself still reauthenticating " + std::to_string(found->reauth_of));
  log::info("ike", "operator: reauthenticating IKE_SA " + found->name());
  return start_reauth(*found, now, why);
}

IkeSa* Manager::established_sa(std::uint64_t id, std::string* why) {
  const auto it = sas_.find(id);
  if (it == sas_.end()) {
    refuse(why, "no IKE SA " + std::to_string(id));
    return nullptr;
  }
  IkeSa& sa = *it->second;
  if (sa.state() != IkeSaState::established) {
    refuse(why, sa.name() + " is " + std::string(to_string(sa.state())) + ", not ESTABLISHED");
    return nullptr;
  }
  return &sa;
}

bool Manager::rekey(std::uint64_t id, TimePoint now, std::string* why) {
  IkeSa* found = established_sa(id, why);
  if (!found) return false;
  IkeSa& sa = *found;
  if (sa.pending_create && sa.pending_create->kind == PendingCreate::Kind::rekey_ike)
    return refuse(why, sa.name() + " is being rekeyed already");
  if (!sa.has_task(Task::Kind::rekey_ike, 0)) {
    log::info("ike", "operator: rekeying IKE_SA " + sa.name());
    sa.tasks.push_back(Task{Task::Kind::rekey_ike, 0});
  }
  run_tasks(sa, now);
  return true;
}

bool Manager::rekey_child(std::uint64_t id, std::uint32_t spi_in, TimePoint now, std::string* why) {
  IkeSa* found = established_sa(id, why);
  if (!found) return false;
  IkeSa& sa = *found;
  const ChildSa* c = find_child_by_spi_in(sa, spi_in);
  if (!c) return refuse(why, sa.name() + " has no Child SA with inbound SPI " + hex32(spi_in));
  if (c->state != ChildSaState::installed)
    return refuse(why, "CHILD_SA " + c->name + " " + hex32(spi_in) + " is " + std::string(to_string(c->state)));
  if (!sa.has_task(Task::Kind::rekey_child, spi_in)) {
    log::info("ike", "operator: rekeying CHILD_SA " + c->name + " " + hex32(spi_in) + " of " + sa.name());
    sa.tasks.push_back(Task{Task::Kind::rekey_child, spi_in});
  }
  run_tasks(sa, now);
  return true;
}

bool Manager::delete_child(std::uint64_t id, std::uint32_t spi_in, TimePoint now, std::string* why) {
  IkeSa* found = established_sa(id, why);
  if (!found) return false;
  IkeSa& sa = *found;
  const ChildSa* c = find_child_by_spi_in(sa, spi_in);
  if (!c) return refuse(why, sa.name() + " has no Child SA with inbound SPI " + hex32(spi_in));
  if (c->state == ChildSaState::deleting || sa.has_task(Task::Kind::delete_child, spi_in))
    return refuse(why, "CHILD_SA " + c->name + " " + hex32(spi_in) + " is already being deleted");
  log::info("ike", "operator: deleting CHILD_SA " + c->name + " " + hex32(spi_in) + " of " + sa.name());
  sa.tasks.push_front(Task{Task::Kind::delete_child, spi_in});
  run_tasks(sa, now);
  return true;
}

std::size_t Manager::terminate_children(std::string_view connection, std::string_view child, TimePoint now) {
  std::size_t count = 0;
  for (auto& [id, owned] : sas_) {
    IkeSa& sa = *owned;
    if (!sa.connection || sa.connection->name != connection || sa.state() != IkeSaState::established) continue;
    for (const auto& c : sa.children) {
      if (c.name != child || c.state != ChildSaState::installed) continue;
      if (sa.has_task(Task::Kind::delete_child, c.spi_in)) continue;
      log::info("ike", "operator: deleting CHILD_SA " + c.name + " " + hex32(c.spi_in) + " of " + sa.name());
      sa.tasks.push_front(Task{Task::Kind::delete_child, c.spi_in});
      ++count;
    }
    run_tasks(sa, now);
  }
  return count;
}

}  // namespace corridor::control::ikev2
