// INFORMATIONAL (RFC 7296 §1.4): deletes, liveness checks, notifications.
//
//   HDR, SK {[N,] [D,] [CP,] ...}  -->
//                                  <--  HDR, SK {[N,] [D,] [CP], ...}
//
// Deleting a Child SA pair (§1.4.1): the request names the SPIs its sender
// receives on; the response names ours for the same pairs. Deleting the IKE
// SA takes its Child SAs with it; the response is empty. An empty request
// is a liveness check and gets an empty response.
#include <algorithm>
#include <cstdio>

#include "common/log/log.h"
#include "control/ikev2/manager.h"

namespace corridor::control::ikev2 {

using codec::Payload;
using iana::PayloadType;

void Manager::respond_informational(IkeSa& sa, const codec::Header& header, const std::vector<Payload>& payloads,
                                    TimePoint now) {
  bool delete_ike = false;
  bool refused = false;  // the peer did not accept our authentication (§2.21.2)
  std::vector<const config::ChildConfig*> closed;  // Child SAs the peer closed (close_action)
  std::vector<Payload> response;
  codec::Delete esp_answer{iana::ProtocolId::esp, {}};
  codec::Delete ah_answer{iana::ProtocolId::ah, {}};
  for (const auto& p : payloads) {
    if (const auto* n = std::get_if<codec::Notify>(&p.body)) {
      const bool error = static_cast<std::uint16_t>(n->type) < 16384;
      if (error) ++stats_.notifies_received[std::string(iana::notify_type_name(n->type))];
      log::info("ike", sa.name() + " received " + std::string(iana::notify_type_name(n->type)) + " notification");
      if (n->type == iana::NotifyType::authentication_failed) refused = true;
      continue;
    }
    const auto* d = std::get_if<codec::Delete>(&p.body);
    if (!d) continue;
    if (d->protocol == iana::ProtocolId::ike) {
      delete_ike = true;
      continue;
    }
    auto& answer = d->protocol == iana::ProtocolId::ah ? ah_answer : esp_answer;
    for (const auto spi : d->spis) {
      bool found = false;
      for (auto& c : sa.children) {
        if (c.spi_out != spi || c.protocol != d->protocol) continue;
        log::info("ike", sa.name() + " peer deletes CHILD_SA " + c.name + " (SPI " + hex32(spi) + ")");
        answer.spis.push_back(c.spi_in);
        if (!c.superseded && c.config) closed.push_back(c.config);
        retire_child(sa, c.spi_in);
        found = true;
        break;
      }
      // §1.4.1: an SPI we do not know (a simultaneous delete) is ignored.
      if (!found) log::debug("ike", sa.name() + " Delete for unknown SPI " + hex32(spi) + " ignored");
    }
  }
  if (refused) {
    // RFC 7296 §2.21.2: the initiator could not verify our AUTH (our
    // certificate revoked or expired, a wrong identity, another PSK) and
    // says so in an INFORMATIONAL of its own: the IKE SA we believed up is
    // gone on its side, so it goes here too, with its Child SAs. Not a
    // close (close_action): negotiating again would be refused again.
    log::warning("ike", "IKE_SA " + sa.name() + " refused by the peer (AUTHENTICATION_FAILED): removing it");
    send_response(sa, header, {});
    sa.set_state(IkeSaState::dead);
    remove_sa(sa.id);
    return;
  }
  if (delete_ike) {
    // Our rekey of it collided with the peer's, and the peer, not having
    // seen ours, finished its own: the Child SAs go to its new IKE SA.
    // Kept until our request is answered: a response that the Delete
    // overtook may still make an IKE SA the peer expects us to delete.
    if (sa.pending_create && sa.pending_create->ike_collision && !sa.superseded) {
      forget_own_rekey(sa, sa.pending_create->ike_collision->peer_successor, now);
      if (sa.outstanding) {
        send_response(sa, header, {});
        sa.deleted_by_peer = true;
        return;
      }
    }
    // Another IKE SA with the same peer on the same connection, up: the
    // peer reauthenticated (make-before-break) and deletes the old one.
    if (sa.remote_id) sa.reauthenticated = !established_with_same_peer(sa, sa.connection, *sa.remote_id).empty();
    log::info("ike", "IKE_SA " + sa.name() + " deleted by the peer" +
                         (sa.reauthenticated ? " (reauthenticated: another IKE_SA carries on)" : ""));
    if (!sa.reauthenticated)
      for (const auto& c : sa.children)
        if (!c.superseded && c.config) closed.push_back(c.config);
    const auto* conn = sa.connection;
    const auto hold = sa.config_hold;  // conn outlives the SA's removal below
    send_response(sa, header, {});
    sa.set_state(IkeSaState::dead);
    remove_sa(sa.id);
    apply_close_action(nullptr, conn, closed, now);
    return;
  }
  if (!esp_answer.spis.empty()) response.push_back(Payload{PayloadType::delete_, std::move(esp_answer)});
  if (!ah_answer.spis.empty()) response.push_back(Payload{PayloadType::delete_, std::move(ah_answer)});
  send_response(sa, header, std::move(response));
  apply_close_action(&sa, sa.connection, closed, now);
}

// close_action (strongSwan's): what to do when the peer closes a Child SA
// with a Delete, its own or its IKE SA's. `start` negotiates it again, over
// `over` (the IKE SA it was on, still up) or a new IKE SA; `trap` installs
// its trap policies, so that its next packet negotiates it; `none` leaves
// it closed. Only an explicit close counts: a rekey's or a
// reauthentication's Delete does not, and neither does a dead peer
// (dpd_action) or our own stop.
void Manager::apply_close_action(IkeSa* over, const config::ConnectionConfig* conn,
                                 const std::vector<const config::ChildConfig*>& closed, TimePoint now) {
  if (!conn || stopping_) return;
  for (const auto* child : closed) {
    if (child->close_action != config::Action::start) {
      log::info("ike", "CHILD_SA " + child->name + " of " + conn->name + " closed by the peer (close_action " +
                           std::string(config::to_string(child->close_action)) + ")");
      if (child->close_action == config::Action::trap && options_.on_trap)
        options_.on_trap(*conn, *child, ike::TrapOrigin::close_action);
      continue;
    }
    ++stats_.children_restarted_on_close;
    log::info("ike", "CHILD_SA " + child->name + " of " + conn->name +
                         " closed by the peer: negotiating it again (close_action start)");
    if (over && over->state() == IkeSaState::established) {
      over->tasks.push_back(Task{Task::Kind::create_child, 0, child});
      run_tasks(*over, now);
    } else {
      initiate(conn->name, child->name, now);
    }
  }
}

void Manager::process_informational_response(IkeSa& sa, const std::vector<Payload>& payloads) {
  (void)payloads;
  // Our Delete of a Child SA is answered (with the peer's SPIs, or empty if
  // it had already deleted them, §1.4.1): the pair goes either way.
  std::vector<std::uint32_t> done;
  for (const auto& c : sa.children)
    if (c.state == ChildSaState::deleting) done.push_back(c.spi_in);
  for (const auto spi : done) retire_child(sa, spi);
  if (sa.state() == IkeSaState::deleting) {
    log::info("ike", "IKE_SA " + sa.name() + " deleted");
    sa.set_state(IkeSaState::dead);
    remove_sa(sa.id);
  }
}

void Manager::send_delete_ike_sa(IkeSa& sa, TimePoint now) {
  codec::Delete d;
  d.protocol = iana::ProtocolId::ike;
  log::info("ike", "deleting IKE_SA " + sa.name());
  if (send_request(sa, iana::ExchangeType::informational, {Payload{PayloadType::delete_, std::move(d)}}, now))
    sa.set_state(IkeSaState::deleting);
}

}  // namespace corridor::control::ikev2
