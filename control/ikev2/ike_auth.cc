// IKE_AUTH (RFC 7296 §1.2, §2.15): prove the identities and set up the
// first Child SA.
//
//   Initiator                         Responder
//   HDR, SK {IDi, [N(INITIAL_CONTACT)], [IDr], AUTH,
//            SAi2, TSi, TSr, [N(USE_TRANSPORT_MODE)]}  -->
//                             <--     HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
//
// A Child SA that cannot be agreed (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE)
// does not fail the IKE SA (§1.2): the responder answers IDr and AUTH with
// the error notification in place of SAr2/TSi/TSr.
//
// Authentication here is by pre-shared key; certificates are refused with
// a log line that says so.
#include "common/log/log.h"
#include "control/ike/ts_narrow.h"
#include "control/ikev2/auth.h"
#include "control/ike/identity.h"
#include "control/ikev2/manager.h"
#include "control/ikev2/payload_access.h"

namespace corridor::control::ikev2 {

using ike::to_wire;
using ike::from_wire;
using ike::matches;

using codec::Payload;
using iana::NotifyType;
using iana::PayloadType;

namespace {

using payload::find_notify;
using payload::first_error;
using payload::notify;
using payload::spi_bytes;
using payload::spi_value;

config::Identity remote_pattern(const config::ConnectionConfig& conn) {
  return conn.remote.id.value_or(config::Identity{config::IdType::any, "%any"});
}

std::vector<config::Proposal> child_proposals(const config::ChildConfig& child) {
  return child.ah_proposals.empty() ? child.esp_proposals : child.ah_proposals;
}

iana::ProtocolId child_protocol(const config::ChildConfig& child) {
  return child.ah_proposals.empty() ? iana::ProtocolId::esp : iana::ProtocolId::ah;
}

}  // namespace

bool Manager::start_ike_auth(IkeSa& sa, TimePoint now) {
  const auto& conn = *sa.connection;
  std::string why;
  auto own = authenticate_self(sa, conn, remote_pattern(conn), &why);
  if (!own) {
    fail(sa, "cannot authenticate ourselves: " + why);
    return false;
  }
  sa.local_id = own->id;

  // HDR, SK {IDi, [CERT+,] [N(INITIAL_CONTACT),] [CERTREQ,] [IDr,] AUTH, ...} (§1.2)
  std::vector<Payload> payloads;
  payloads.push_back(Payload{PayloadType::identification_initiator, own->id_payload});
  for (auto& c : own->certs) payloads.push_back(Payload{PayloadType::certificate, std::move(c)});
  // Only for the first IKE SA with this peer (§2.4): with another one up,
  // INITIAL_CONTACT would make the peer delete that one.
  // Nor on a reauthentication: has_contact() looks the old IKE SA up by
  // the configured peer ID, which may be %any.
  if (!sa.reauth_of && !has_contact(sa)) payloads.push_back(notify(NotifyType::initial_contact));
  if (conn.remote.auth != config::AuthMethod::psk) {
    if (const auto& trust = credentials(conn).trust)
      payloads.push_back(Payload{PayloadType::certificate_request,
                                 codec::CertificateRequest{iana::CertEncoding::x509_signature, trust->certreq_authorities()}});
  }
  if (conn.remote.id && conn.remote.id->type != config::IdType::any) {
    if (const auto idr = to_wire(*conn.remote.id)) payloads.push_back(Payload{PayloadType::identification_responder, *idr});
  }
  payloads.push_back(Payload{PayloadType::authentication, std::move(own->auth)});
  if (sa.pending_child && sa.pending_child->config) {
    auto& pending = *sa.pending_child;
    const auto& child = *pending.config;
    pending.spi_in = random_child_spi();
    pending.sa = nego::to_sa_payload(child_proposals(child), child_protocol(child), spi_bytes(pending.spi_in),
                                     nego::SelectFor::ike_auth_child);
    const auto tsi = nego::initiator_selectors(child.local_ts, sa.local.address,
                                               pending.trigger ? std::optional(pending.trigger->tsi) : std::nullopt);
    const auto tsr = nego::initiator_selectors(child.remote_ts, sa.remote.address,
                                               pending.trigger ? std::optional(pending.trigger->tsr) : std::nullopt);
    pending.tsi = nego::from_wire(tsi);
    pending.tsr = nego::from_wire(tsr);
    payloads.push_back(Payload{PayloadType::security_association, pending.sa});
    payloads.push_back(Payload{PayloadType::traffic_selector_initiator, tsi});
    payloads.push_back(Payload{PayloadType::traffic_selector_responder, tsr});
    if (child.mode == config::ChildMode::transport) payloads.push_back(notify(NotifyType::use_transport_mode));
  }
  if (!send_request(sa, iana::ExchangeType::ike_auth, std::move(payloads), now)) {
    fail(sa, "could not build the IKE_AUTH request");
    return false;
  }
  sa.set_state(IkeSaState::ike_auth_sent);
  return true;
}

void Manager::respond_ike_auth(IkeSa& sa, const codec::Header& header, const std::vector<Payload>& payloads,
                               TimePoint now) {
  auto refuse = [&](std::string why) {
    ++stats_.notifies_sent["AUTHENTICATION_FAILED"];
    send_response(sa, header, {notify(NotifyType::authentication_failed)});
    fail(sa, "AUTHENTICATION_FAILED: " + why);
  };
  const auto* idi = payload::find<codec::Identification>(payloads, PayloadType::identification_initiator);
  const auto* auth = payload::find<codec::Authentication>(payloads, PayloadType::authentication);
  if (!idi || !auth) return refuse("IKE_AUTH request without IDi or AUTH (EAP is not supported)");
  std::string why;
  const auto peer_id = from_wire(*idi, &why);
  if (!peer_id) return refuse("peer identity: " + why);

  // The connection is now chosen by the peer's identity as well (strongSwan
  // does the same): the first one whose addresses, IKE proposals and
  // remote id all fit. IKE_SA_INIT's choice is kept when it fits.
  const config::ConnectionConfig* conn = nullptr;
  auto fits = [&](const config::ConnectionConfig& c) {
    if (c.version == 1 || !matches(remote_pattern(c), *peer_id)) return false;
    if (&c == sa.connection) return true;
    const codec::SecurityAssociation agreed{{sa.proposal->proposal}};
    return nego::select_proposal(agreed, c.proposals, iana::ProtocolId::ike, nego::SelectFor::ike_sa_init).ok() &&
           c.local_port == sa.connection->local_port;
  };
  if (fits(*sa.connection)) conn = sa.connection;
  for (const auto& c : config_->connections)
    if (!conn && fits(c)) conn = &c;
  if (!conn) return refuse("no connection accepts peer identity " + peer_id->to_string());
  if (conn != sa.connection) sa.config_hold = config_;  // the loop's pick is from the running config
  sa.connection = conn;
  if (!verify_peer_auth(sa, *conn, *idi, *peer_id, *auth, payloads, &why)) return refuse(why);
  auto own = authenticate_self(sa, *conn, *peer_id, &why);
  if (!own) return refuse("cannot authenticate ourselves: " + why);
  const auto local_id = own->id;

  sa.local_id = local_id;
  sa.remote_id = *peer_id;
  std::vector<Payload> response;
  response.push_back(Payload{PayloadType::identification_responder, own->id_payload});
  for (auto& c : own->certs) response.push_back(Payload{PayloadType::certificate, std::move(c)});
  response.push_back(Payload{PayloadType::authentication, std::move(own->auth)});

  // INITIAL_CONTACT (§2.4): the peer has no other SAs with us, so older IKE
  // SAs from the same identity are stale; drop them with their Child SAs.
  if (find_notify(payloads, NotifyType::initial_contact)) {
    for (const auto id : established_with_same_peer(sa, conn, *peer_id)) {
      log::info("ike", sas_.at(id)->name() + " replaced: the peer sent INITIAL_CONTACT from a new IKE SA");
      sas_.at(id)->set_state(IkeSaState::dead);
      remove_sa(id);
    }
  }

  // The Child SA, if the request carries one (RFC 6023 childless otherwise).
  const auto* child_sa = payload::find<codec::SecurityAssociation>(payloads, PayloadType::security_association);
  const auto* tsi = payload::find<codec::TrafficSelectors>(payloads, PayloadType::traffic_selector_initiator);
  const auto* tsr = payload::find<codec::TrafficSelectors>(payloads, PayloadType::traffic_selector_responder);
  std::optional<NotifyType> child_error;
  if (child_sa && tsi && tsr) {
    const auto proposed_i = nego::from_wire(*tsi);
    const auto proposed_r = nego::from_wire(*tsr);
    const bool wants_transport = find_notify(payloads, NotifyType::use_transport_mode) != nullptr;
    const config::ChildConfig* child = nullptr;
    std::vector<net::TrafficSelector> narrowed_i, narrowed_r;
    for (const auto& c : conn->children) {
      const auto remote_ts = nego::from_wire(nego::to_wire(c.remote_ts, sa.remote.address));
      const auto local_ts = nego::from_wire(nego::to_wire(c.local_ts, sa.local.address));
      auto ni = nego::narrow(proposed_i, remote_ts);
      auto nr = nego::narrow(proposed_r, local_ts);
      if (ni.empty() || nr.empty()) continue;
      child = &c;
      narrowed_i = std::move(ni);
      narrowed_r = std::move(nr);
      break;
    }
    if (!child) {
      child_error = NotifyType::ts_unacceptable;
      std::string offered;
      for (const auto& t : proposed_i) offered += t.to_string() + " ";
      offered += "=== ";
      for (const auto& t : proposed_r) offered += t.to_string() + " ";
      log::warning("ike", sa.name() + " TS_UNACCEPTABLE: no child of " + conn->name + " fits " + offered);
    } else if (child->mode == config::ChildMode::transport && !wants_transport) {
      child_error = NotifyType::no_proposal_chosen;
      log::warning("ike", sa.name() + " CHILD_SA " + child->name + " is transport mode but the peer asked for tunnel mode");
    } else {
      auto selected = nego::select_proposal(*child_sa, child_proposals(*child), child_protocol(*child),
                                            nego::SelectFor::ike_auth_child);
      if (!selected.ok()) {
        child_error = NotifyType::no_proposal_chosen;
        log::warning("ike", sa.name() + " CHILD_SA " + child->name + " NO_PROPOSAL_CHOSEN: " + selected.error().message);
      } else {
        const auto spi_out = spi_value(selected->proposal.spi);
        const auto spi_in = random_child_spi();
        if (!spi_out) {
          child_error = NotifyType::no_proposal_chosen;
          release_child_spi(spi_in);
        } else if (!install_child(sa, *child, *selected, spi_in, *spi_out, narrowed_r, narrowed_i,
                                  ChildKeying{false, sa.nonce_i, sa.nonce_r, {}}, now)) {
          child_error = NotifyType::temporary_failure;  // the dataplane refused it; the log says why
          release_child_spi(spi_in);
        } else {
          response.push_back(Payload{PayloadType::security_association,
                                     codec::SecurityAssociation{{selected->for_response(spi_bytes(spi_in))}}});
          response.push_back(Payload{PayloadType::traffic_selector_initiator, nego::to_wire(narrowed_i, sa.remote.address)});
          response.push_back(Payload{PayloadType::traffic_selector_responder, nego::to_wire(narrowed_r, sa.local.address)});
          if (child->mode == config::ChildMode::transport) response.push_back(notify(NotifyType::use_transport_mode));
        }
      }
    }
    if (child_error) {
      ++stats_.notifies_sent[std::string(iana::notify_type_name(*child_error))];
      response.push_back(notify(*child_error));
    }
  }

  sa.set_state(IkeSaState::established);
  count_half_open(sa, false);
  index_peer_identity(sa);
  sa.established_at = now;
  sa.next_keepalive = now + options_.keepalive_interval;
  schedule_reauth(sa, now);
  schedule_rekey(sa, now);
  ++stats_.ike_sas_established;
  emit(SaEvent::Kind::ike_up, sa);
  for (const auto& c : sa.children) emit(SaEvent::Kind::child_up, sa, &c);  // installed before the IKE SA was up
  log::info("ike", "IKE_SA " + sa.name() + " established between " + local_id.to_string() + "..." + peer_id->to_string() +
                       " (responder, " + sa.proposal->to_string() + ")");
  send_response(sa, header, std::move(response));
}

void Manager::process_ike_auth_response(IkeSa& sa, const std::vector<Payload>& payloads, TimePoint now) {
  const auto& conn = *sa.connection;
  const auto* idr = payload::find<codec::Identification>(payloads, PayloadType::identification_responder);
  const auto* auth = payload::find<codec::Authentication>(payloads, PayloadType::authentication);
  if (!idr || !auth) {
    const auto* error = first_error(payloads);
    if (error) ++stats_.notifies_received[std::string(iana::notify_type_name(error->type))];
    return fail(sa, "responder answered " + (error ? std::string(iana::notify_type_name(error->type)) : "without IDr or AUTH"));
  }
  // RFC 7296 §2.21.2: the responder believes the IKE SA is up; an
  // INFORMATIONAL of our own tells it that we do not (sent once, not
  // retransmitted: the SA goes now).
  const auto refuse = [&](const std::string& reason) {
    codec::Notify n;
    n.type = NotifyType::authentication_failed;
    ++stats_.notifies_sent["AUTHENTICATION_FAILED"];
    send_request(sa, iana::ExchangeType::informational, {Payload{PayloadType::notify, std::move(n)}}, now);
    fail(sa, reason);
  };
  std::string why;
  const auto peer_id = from_wire(*idr, &why);
  if (!peer_id) return refuse("responder identity: " + why);
  if (!matches(remote_pattern(conn), *peer_id))
    return refuse("responder identifies as " + peer_id->to_string() + ", connection expects " +
                  remote_pattern(conn).to_string());
  if (!verify_peer_auth(sa, conn, *idr, *peer_id, *auth, payloads, &why))
    return refuse("AUTHENTICATION_FAILED: the responder's AUTH does not verify: " + why);

  sa.remote_id = *peer_id;
  sa.set_state(IkeSaState::established);
  index_peer_identity(sa);
  sa.established_at = now;
  sa.next_keepalive = now + options_.keepalive_interval;
  schedule_reauth(sa, now);
  schedule_rekey(sa, now);
  ++stats_.ike_sas_established;
  emit(SaEvent::Kind::ike_up, sa);
  for (const auto& c : sa.children) emit(SaEvent::Kind::child_up, sa, &c);  // installed before the IKE SA was up
  log::info("ike", "IKE_SA " + sa.name() + " established between " + sa.local_id->to_string() + "..." +
                       peer_id->to_string() + " (initiator, " + sa.proposal->to_string() + ")");

  if (!sa.pending_child || !sa.pending_child->config) return;
  const PendingChild pending = std::move(*sa.pending_child);
  sa.pending_child.reset();
  const auto& child = *pending.config;
  const auto* child_sa = payload::find<codec::SecurityAssociation>(payloads, PayloadType::security_association);
  const auto* tsi = payload::find<codec::TrafficSelectors>(payloads, PayloadType::traffic_selector_initiator);
  const auto* tsr = payload::find<codec::TrafficSelectors>(payloads, PayloadType::traffic_selector_responder);
  if (!child_sa || !tsi || !tsr) {
    release_child_spi(pending.spi_in);
    const auto* error = first_error(payloads);
    if (error) ++stats_.notifies_received[std::string(iana::notify_type_name(error->type))];
    log::warning("ike", sa.name() + " CHILD_SA " + child.name + " failed: responder answered " +
                            (error ? std::string(iana::notify_type_name(error->type)) : "without a Child SA"));
    return;
  }
  auto selected = nego::accept_response(pending.sa, *child_sa, child_protocol(child));
  const auto local_ts = nego::from_wire(*tsi);
  const auto remote_ts = nego::from_wire(*tsr);
  std::string ts_why;
  std::string problem;
  if (!selected.ok()) problem = "responder's proposal is not one we offered: " + selected.error().message;
  else if (!nego::is_subset(local_ts, pending.tsi, &ts_why) || !nego::is_subset(remote_ts, pending.tsr, &ts_why))
    problem = "responder widened the traffic selectors: " + ts_why;
  else if ((child.mode == config::ChildMode::transport) != (find_notify(payloads, NotifyType::use_transport_mode) != nullptr))
    problem = "responder did not agree to " + std::string(config::to_string(child.mode)) + " mode";
  const auto spi_out = selected.ok() ? spi_value(selected->proposal.spi) : std::nullopt;
  if (problem.empty() && !spi_out) problem = "responder's Child SA SPI is not 4 bytes";
  if (!problem.empty()) {
    // The IKE SA stands; tell the peer to drop its half of the Child SA.
    log::warning("ike", sa.name() + " CHILD_SA " + child.name + " refused: " + problem);
    release_child_spi(pending.spi_in);
    if (selected.ok()) {
      // §3.11: a Delete names the SPI the sender expects inbound packets on.
      codec::Delete d;
      d.protocol = child_protocol(child);
      d.spis.push_back(pending.spi_in);
      send_request(sa, iana::ExchangeType::informational, {Payload{PayloadType::delete_, std::move(d)}}, now);
    }
    return;
  }
  if (!install_child(sa, child, *selected, pending.spi_in, *spi_out, local_ts, remote_ts,
                     ChildKeying{true, sa.nonce_i, sa.nonce_r, {}}, now, reauth_predecessor(sa, child), Takeover::reauth))
    release_child_spi(pending.spi_in);
}

}  // namespace corridor::control::ikev2
