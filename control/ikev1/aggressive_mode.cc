// Phase 1 in Aggressive Mode (RFC 2409 §5.4), both roles:
//
//   1  I -> R  SA, KE, Ni, [CERTREQ...], IDii, VIDs                  AM_IDLE -> AM_INIT_SENT
//   2  R -> I  SA, KE, Nr, [CERTREQ...], IDir, HASH_R | CERT..., SIG_R, VIDs, NAT-D, NAT-D
//   3  I -> R  [ HASH_I | CERT..., SIG_I, NAT-D, NAT-D ]   to port 4500 if a NAT was found  ... -> AM_DONE
//
// Three messages instead of six, but the identities travel in the clear;
// with a pre-shared key, message 2 carries a hash keyed with the PSK that
// anyone who sees it can attack offline: the config accepts that only with allow_aggressive_psk
// (common/config), and the responder only for connections that set
// `aggressive`. KE is in message 1, so the offer carries one group: the
// first configured suite's. Message 3 is sent encrypted (as strongSwan and
// Cisco do) and accepted either way.
#include <algorithm>

#include "common/log/log.h"
#include "control/ike/addresses.h"
#include "control/ike/identity.h"
#include "control/ikev1/manager.h"
#include "control/ikev1/nat_t.h"
#include "control/ikev1/phase1_payloads.h"

namespace corridor::control::ikev1 {

using codec::Payload;
using v1::NotifyType;
using v1::PayloadType;

namespace {

template <typename T>
const T* first_of(const std::vector<Payload>& payloads, PayloadType type, std::size_t* index = nullptr) {
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    if (payloads[i].type == type) {
      if (index) *index = i;
      return std::get_if<T>(&payloads[i].body);
    }
  }
  return nullptr;
}

}  // namespace

bool Manager::start_aggressive_mode(IsakmpSa& sa, TimePoint now) {
  const auto& conn = *sa.connection;
  std::string why;
  const auto method = phase1_method(conn, &why);
  if (!method) {
    log::error("ike", sa.name() + " " + why);
    return false;
  }
  auto suites = phase1_suites(conn.proposals, *method, phase1_lifetime(conn));
  if (!suites.ok()) {
    log::error("ike", sa.name() + " " + suites.error().message);
    return false;
  }
  if (*method == v1::Phase1Auth::pre_shared_key && !psk_for(sa)) {
    log::error("ike", sa.name() + " no pre-shared key for " + local_identity(sa).value + " and the peer");
    return false;
  }
  // One KE payload, so one group: the first suite's.
  const auto group = suites->front().group;
  suites->erase(std::remove_if(suites->begin(), suites->end(), [&](const Phase1Suite& s) { return s.group != group; }),
                suites->end());
  sa.aggressive = true;
  sa.offered = std::move(*suites);
  sa.suite = sa.offered.front();  // for the group and, until message 2, the NAT-D hash
  Payload sa_payload{PayloadType::sa, phase1_offer(sa.offered)};
  auto body = codec::serialise_body(sa_payload);
  if (!body.ok()) return false;
  sa.sai_b = std::move(*body);
  auto ke = key_exchange_payloads(sa, false);
  auto id = own_identification(sa);
  if (!ke || !id) return false;
  std::vector<Payload> payloads{std::move(sa_payload)};
  for (auto& p : *ke) payloads.push_back(std::move(p));
  payloads.push_back(std::move(*id));  // IDii (its proof goes in message 3)
  for (auto& v : vendor_ids(true, announces_fragmentation(conn))) payloads.push_back(std::move(v));
  log::info("ike", sa.name() + " initiating Aggressive Mode to " + endpoint_text(sa.remote) + " as '" + sa.local_id +
                       "' offering " + std::to_string(sa.offered.size()) + " transform(s), first " +
                       sa.offered.front().to_string());
  if (!transition(sa, State::am_init_sent)) return false;
  return send_clear(sa, std::move(payloads), true, now);
}

void Manager::aggressive_request_1(const codec::ParsedHeader& header, const std::vector<Payload>& payloads,
                                   std::span<const std::uint8_t> body, const net::SocketAddress& local,
                                   const net::SocketAddress& remote, TimePoint now) {
  const std::string from = endpoint_text(remote);
  std::size_t id_index = 0;
  const auto* offer = first_of<codec::SecurityAssociation>(payloads, PayloadType::sa);
  const auto* id = first_of<codec::Identification>(payloads, PayloadType::id, &id_index);
  auto spans = codec::walk_payloads(header.first_payload, body, false);
  if (!offer || !id || !spans.ok() || payloads.front().type != PayloadType::sa ||
      !first_of<codec::KeyExchange>(payloads, PayloadType::key_exchange) ||
      !first_of<codec::Nonce>(payloads, PayloadType::nonce)) {
    send_clear_notify(header.header, local, remote, NotifyType::payload_malformed);
    return drop("malformed", "Aggressive Mode 1 from " + from + " without SA, KE, nonce or ID");
  }
  std::string why;
  const auto peer = identity_of(*id, &why);
  if (!peer) {
    send_clear_notify(header.header, local, remote, NotifyType::invalid_id_information);
    return drop("bad_identity", "Aggressive Mode 1 from " + from + ": " + why);
  }
  std::vector<std::string> mismatches;
  auto choice = choose_connection(*offer, local, remote, &*peer, &mismatches);
  const config::ConnectionConfig* chosen = choice ? choice->connection : nullptr;
  if (!chosen) {
    if (mismatches.empty())
      log::warning("ike", "Aggressive Mode from " + from + " as '" + peer->value +
                              "': no IKEv1 connection with aggressive for these addresses, answering NO-PROPOSAL-CHOSEN");
    for (const auto& m : mismatches)
      log::warning("ike", "Aggressive Mode from " + from + " NO-PROPOSAL-CHOSEN for connection " + m);
    send_clear_notify(header.header, local, remote, NotifyType::no_proposal_chosen);
    ++stats_.phase1_failed;
    return drop("no_proposal_chosen", "Aggressive Mode 1 from " + from);
  }

  IsakmpSa& sa = create_sa(chosen, Role::responder, now);
  sa.state = State::am_idle;
  sa.aggressive = true;
  sa.cookie_i = header.header.cookie_i;
  sa.local = local;
  sa.remote = remote;
  sa.first_seen_from = from;
  by_peer_cookie_[{sa.cookie_i, from}] = sa.id;
  const auto sai = (*spans)[0].body(body);
  sa.sai_b.assign(sai.begin(), sai.end());
  const auto idii = (*spans)[id_index].body(body);
  sa.peer_id_b.assign(idii.begin(), idii.end());
  sa.remote_id = peer->value;
  sa.peer_identity = *peer;
  sa.suite = choice->selection.suite;
  sa.offered = {choice->selection.suite};
  sa.peer_nat_t = has_vendor_id(payloads, rfc3947_vendor_id());
  sa.peer_dpd = has_vendor_id(payloads, dpd_vendor_id());
  sa.peer_fragmentation = has_fragmentation_vendor_id(payloads);
  sa.last_received_datagram.assign(body.begin() - static_cast<std::ptrdiff_t>(codec::kHeaderSize), body.end());
  if (sa.suite->auth == v1::Phase1Auth::pre_shared_key)
    log::warning("ike", sa.name() + " Aggressive Mode from " + from + " as '" + peer->value + "' for connection " +
                            chosen->name + " (allow_aggressive_psk: the PSK hash it sends can be attacked offline)");
  else
    log::info("ike", sa.name() + " Aggressive Mode from " + from + " as '" + peer->value + "' for connection " +
                         chosen->name + ", selected " + sa.suite->to_string());
  if (!transition(sa, State::am_init_rcvd)) return;
  auto ke = key_exchange_payloads(sa, sa.peer_nat_t);
  if (!ke) return fail(sa, "no key exchange payloads");
  if (!take_key_exchange(sa, payloads)) return;
  auto own = identity_payloads(sa);
  if (!own) return fail(sa, "cannot build our identity and HASH_R");
  std::vector<Payload> reply{Payload{PayloadType::sa, std::move(choice->selection.reply)}};
  std::vector<Payload> natd;
  for (auto& p : *ke) (p.type == PayloadType::nat_d ? natd : reply).push_back(std::move(p));
  for (auto& p : *own) reply.push_back(std::move(p));  // IDir, HASH_R or CERTs and SIG_R
  for (auto& v : vendor_ids(sa.peer_nat_t, announces_fragmentation(*sa.connection))) reply.push_back(std::move(v));
  for (auto& p : natd) reply.push_back(std::move(p));
  if (!transition(sa, State::am_resp_sent)) return;
  // Resent until message 3 arrives: the initiator cannot know whether its
  // message 3 got through, but answers a repeated message 2 with it.
  send_clear(sa, std::move(reply), true, now);
}

void Manager::aggressive_response_2(IsakmpSa& sa, const codec::ParsedHeader& header, std::span<const std::uint8_t> body,
                                    const std::vector<Payload>& payloads, TimePoint now) {
  const auto* reply = first_of<codec::SecurityAssociation>(payloads, PayloadType::sa);
  if (!reply) return fail(sa, "Aggressive Mode 2 without an SA payload");
  auto agreed = accept_phase1_reply(*reply, sa.offered);
  if (!agreed.ok()) return fail(sa, agreed.error().message);
  sa.cookie_r = header.header.cookie_r;
  sa.suite = *agreed;
  sa.peer_nat_t = has_vendor_id(payloads, rfc3947_vendor_id());
  sa.peer_dpd = has_vendor_id(payloads, dpd_vendor_id());
  sa.peer_fragmentation = has_fragmentation_vendor_id(payloads);
  if (!transition(sa, State::am_resp_rcvd)) return;
  if (!take_key_exchange(sa, payloads)) return;
  // IDir and HASH_R are in the clear here: the same check as Main Mode 6.
  Opened clear;
  clear.plaintext.assign(body.begin(), body.end());
  clear.payloads = payloads;
  auto spans = codec::walk_payloads(header.first_payload, body, false);
  if (!spans.ok()) return fail(sa, spans.error().message);
  clear.spans = std::move(*spans);
  if (!verify_identity(sa, clear)) return;
  if (sa.peer_nat_t && sa.nat_detected()) {
    sa.local.port = options_.nat_t_port;
    sa.remote.port = options_.nat_t_port;
    log::info("ike", sa.name() + " NAT-T: switching to " + endpoint_text(sa.local) + " -> " + endpoint_text(sa.remote));
  }
  auto id = own_identification(sa);
  auto proof = id ? proof_payloads(sa, *id) : std::nullopt;
  if (!proof) return fail(sa, "cannot build HASH_I or SIG_I");
  std::vector<Payload> message3 = std::move(*proof);  // IDii went in message 1
  if (sa.peer_nat_t) {
    auto natd = nat_d_payloads(sa);
    if (!natd) return fail(sa, "cannot build the NAT-D payloads");
    for (auto& p : *natd) message3.push_back(std::move(p));
  }
  if (!has_contact(sa)) message3.push_back(initial_contact(sa));
  if (!transition(sa, State::am_done)) return;
  send_encrypted(sa, v1::ExchangeType::aggressive, 0, sa.iv, sa.last_sent, message3, false, now);
  established(sa, now);
}

void Manager::aggressive_request_3(IsakmpSa& sa, const codec::ParsedHeader& header,
                                   std::span<const std::uint8_t> datagram, const net::SocketAddress& local,
                                   const net::SocketAddress& remote, TimePoint now) {
  std::vector<Payload> payloads;
  if (header.header.encrypted()) {
    auto message = open(sa, header, datagram, sa.iv);
    if (!message) {
      send_clear_notify(header.header, local, remote, NotifyType::authentication_failed);
      return fail(sa, "Aggressive Mode 3 does not decrypt to valid payloads");
    }
    payloads = std::move(message->payloads);
  } else {
    auto clear = codec::parse_payloads(header.first_payload, datagram.subspan(codec::kHeaderSize), false);
    if (!clear.ok()) return drop("malformed", sa.name() + " " + clear.error().message);
    payloads = std::move(*clear);
  }
  if (!sa.peer_identity) return fail(sa, "no identity kept from Aggressive Mode 1");
  if (!verify_proof(sa, payloads, sa.peer_id_b, *sa.peer_identity)) {  // the SA is gone now
    send_clear_notify(header.header, local, remote, NotifyType::authentication_failed);
    return;
  }
  if (header.header.encrypted()) sa.iv.advance(datagram.subspan(codec::kHeaderSize));
  sa.last_received_datagram.assign(datagram.begin(), datagram.end());
  detect_nat(sa, payloads);
  sa.local = local;  // authenticated: follow a NAT-T float
  sa.remote = remote;
  // In the clear, nothing protects the notification: only an encrypted one counts.
  if (header.header.encrypted()) honour_initial_contact(sa, payloads);
  sa.last_sent.next_retransmit = TimePoint::max();
  if (!transition(sa, State::am_done)) return;
  established(sa, now);
}

}  // namespace corridor::control::ikev1
