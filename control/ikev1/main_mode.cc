// Phase 1 in Main Mode (RFC 2409 §5), both roles:
//
//   1  I -> R  SA, VID(RFC 3947), VID(DPD)                 MM_IDLE -> MM_SA_SENT
//   2  R -> I  SA (the chosen transform), VIDs
//   3  I -> R  KE, Ni, [CERTREQ...], NAT-D(R), NAT-D(I)
//   4  R -> I  KE, Nr, [CERTREQ...], NAT-D(I), NAT-D(R)
//   5  I -> R  [ IDii, HASH_I | CERT..., SIG_I ]   encrypted; to port 4500 if a NAT was found
//   6  R -> I  [ IDir, HASH_R | CERT..., SIG_R ]   encrypted      ... -> MM_DONE
//
// Pre-shared keys prove the identity with HASH, certificates with SIG
// (authentication.cc).
//
// Each received message moves the SA through its "_RCVD" state, and the
// answer through the next "_SENT" one (state.h), so the log shows every
// line of the operator's table.
#include <algorithm>

#include "common/ike/message.h"
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
const T* first_of(const std::vector<Payload>& payloads, PayloadType type) {
  for (const auto& p : payloads) {
    if (p.type == type) return std::get_if<T>(&p.body);
  }
  return nullptr;
}

}  // namespace

// --- Message 1 ------------------------------------------------------------------

bool Manager::start_main_mode(IsakmpSa& sa, TimePoint now) {
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
  sa.offered = std::move(*suites);
  Payload sa_payload{PayloadType::sa, phase1_offer(sa.offered)};
  auto body = codec::serialise_body(sa_payload);
  if (!body.ok()) return false;
  sa.sai_b = std::move(*body);
  std::vector<Payload> payloads{std::move(sa_payload)};
  for (auto& v : vendor_ids(true, announces_fragmentation(conn))) payloads.push_back(std::move(v));
  log::info("ike", sa.name() + " initiating Main Mode to " + endpoint_text(sa.remote) + " offering " +
                       std::to_string(sa.offered.size()) + " transform(s), first " + sa.offered.front().to_string());
  if (!transition(sa, State::mm_sa_sent)) return false;
  return send_clear(sa, std::move(payloads), true, now);
}

void Manager::main_mode_request_1(const codec::ParsedHeader& header, const std::vector<Payload>& payloads,
                                  std::span<const std::uint8_t> body, const net::SocketAddress& local,
                                  const net::SocketAddress& remote, TimePoint now) {
  const std::string from = endpoint_text(remote);
  const auto* offer = first_of<codec::SecurityAssociation>(payloads, PayloadType::sa);
  auto spans = codec::walk_payloads(header.first_payload, body, false);
  if (!offer || !spans.ok() || payloads.front().type != PayloadType::sa) {
    send_clear_notify(header.header, local, remote, NotifyType::payload_malformed);
    return drop("malformed", "Main Mode 1 from " + from + " does not start with an SA payload");
  }
  std::vector<std::string> mismatches;
  auto choice = choose_connection(*offer, local, remote, nullptr, &mismatches);
  const config::ConnectionConfig* chosen = choice ? choice->connection : nullptr;
  if (!chosen) {
    if (mismatches.empty())
      log::warning("ike", "Main Mode from " + from + " to " + endpoint_text(local) +
                              ": no IKEv1 connection for these addresses, answering NO-PROPOSAL-CHOSEN");
    for (const auto& m : mismatches) log::warning("ike", "Main Mode from " + from + " NO-PROPOSAL-CHOSEN for connection " + m);
    send_clear_notify(header.header, local, remote, NotifyType::no_proposal_chosen);
    ++stats_.phase1_failed;
    return drop("no_proposal_chosen", "Main Mode 1 from " + from);
  }

  IsakmpSa& sa = create_sa(chosen, Role::responder, now);
  sa.cookie_i = header.header.cookie_i;
  sa.local = local;
  sa.remote = remote;
  sa.first_seen_from = from;
  by_peer_cookie_[{sa.cookie_i, from}] = sa.id;
  const auto& sa_span = (*spans)[0];
  const auto sai = sa_span.body(body);
  sa.sai_b.assign(sai.begin(), sai.end());
  sa.suite = choice->selection.suite;
  sa.offered = {choice->selection.suite};
  sa.peer_nat_t = has_vendor_id(payloads, rfc3947_vendor_id());
  sa.peer_dpd = has_vendor_id(payloads, dpd_vendor_id());
  sa.peer_fragmentation = has_fragmentation_vendor_id(payloads);
  sa.last_received_datagram.assign(body.begin() - static_cast<std::ptrdiff_t>(codec::kHeaderSize), body.end());
  if (sa.suite->auth == v1::Phase1Auth::pre_shared_key && !psk_for(sa)) {
    fail(sa, "no pre-shared key for connection " + chosen->name);
    return;
  }
  log::info("ike", sa.name() + " Main Mode from " + from + " for connection " + chosen->name + ", selected " +
                       sa.suite->to_string() + " with " + std::string(v1::phase1_auth_name(sa.suite->auth)) +
                       (sa.peer_nat_t ? ", peer does NAT-T (RFC 3947)" : ""));
  if (!transition(sa, State::mm_sa_rcvd)) return;
  std::vector<Payload> reply{Payload{PayloadType::sa, std::move(choice->selection.reply)}};
  for (auto& v : vendor_ids(sa.peer_nat_t, announces_fragmentation(*sa.connection))) reply.push_back(std::move(v));
  if (!transition(sa, State::mm_sa_sent)) return;
  send_clear(sa, std::move(reply), false, now);
}

std::optional<Manager::Phase1Choice> Manager::choose_connection(const codec::SecurityAssociation& offer,
                                                               const net::SocketAddress& local,
                                                               const net::SocketAddress& remote,
                                                               const config::Identity* peer,
                                                               std::vector<std::string>* mismatches) const {
  for (const auto& conn : config_->connections) {
    if (conn.version == 2 || (peer && !conn.aggressive)) continue;
    if (!ike::address_matches(conn.local_addrs, local.address) || !ike::address_matches(conn.remote_addrs, remote.address))
      continue;
    std::string why;
    const auto method = phase1_method(conn, &why);
    if (!method) {
      mismatches->push_back(conn.name + ": " + why);
      continue;
    }
    if (peer && conn.remote.id && !ike::matches(*conn.remote.id, *peer)) {
      mismatches->push_back(conn.name + ": peer identity '" + peer->value + "' is not '" + conn.remote.id->value + "'");
      continue;
    }
    auto suites = phase1_suites(conn.proposals, *method, phase1_lifetime(conn));
    if (!suites.ok()) {
      mismatches->push_back(conn.name + ": " + suites.error().message);
      continue;
    }
    auto result = select_phase1(offer, *suites);
    if (result.ok()) return Phase1Choice{&conn, std::move(*result)};
    mismatches->push_back(conn.name + ": " + result.error().message);
  }
  return std::nullopt;
}

// --- Message 2 ------------------------------------------------------------------

void Manager::main_mode_response_2(IsakmpSa& sa, const codec::ParsedHeader& header,
                                   const std::vector<Payload>& payloads, TimePoint now) {
  const auto* reply = first_of<codec::SecurityAssociation>(payloads, PayloadType::sa);
  if (!reply) return fail(sa, "Main Mode 2 without an SA payload");
  auto agreed = accept_phase1_reply(*reply, sa.offered);
  if (!agreed.ok()) return fail(sa, agreed.error().message);
  sa.cookie_r = header.header.cookie_r;
  sa.suite = *agreed;
  sa.peer_nat_t = has_vendor_id(payloads, rfc3947_vendor_id());
  sa.peer_dpd = has_vendor_id(payloads, dpd_vendor_id());
  sa.peer_fragmentation = has_fragmentation_vendor_id(payloads);
  if (!transition(sa, State::mm_sa_rcvd)) return;
  log::info("ike", sa.name() + " responder selected " + sa.suite->to_string() + " with " +
                       std::string(v1::phase1_auth_name(sa.suite->auth)));
  auto ke = key_exchange_payloads(sa, sa.peer_nat_t);
  if (!ke) return fail(sa, "no key exchange payloads");
  if (!transition(sa, State::mm_ke_sent)) return;
  send_clear(sa, std::move(*ke), true, now);
}

// --- Messages 3 and 4: key exchange ---------------------------------------------------

std::optional<std::vector<Payload>> Manager::key_exchange_payloads(IsakmpSa& sa, bool with_nat_d) {
  auto dh = corridor::ike::DiffieHellman::generate(sa.suite->group);
  if (!dh.ok()) {
    log::error("ike", sa.name() + " " + dh.error().message);
    return std::nullopt;
  }
  sa.dh = std::move(*dh);
  Bytes nonce = random_bytes(options_.nonce_size);
  (sa.initiator() ? sa.g_xi : sa.g_xr) = sa.dh->public_value();
  (sa.initiator() ? sa.ni_b : sa.nr_b) = nonce;
  std::vector<Payload> out{Payload{PayloadType::key_exchange, codec::KeyExchange{sa.dh->public_value()}},
                           Payload{PayloadType::nonce, codec::Nonce{std::move(nonce)}}};
  for (auto& p : certificate_requests(sa)) out.push_back(std::move(p));
  if (with_nat_d) {
    auto natd = nat_d_payloads(sa);
    if (!natd) return std::nullopt;
    for (auto& p : *natd) out.push_back(std::move(p));
  }
  return out;
}

std::optional<std::vector<Payload>> Manager::nat_d_payloads(IsakmpSa& sa) {
  // RFC 3947 §3.2: the peer's address as we send to it, then ours. With
  // `encap` ours is a hash that cannot match, so the peer sees a NAT and
  // both ends encapsulate (strongSwan's encap = yes does the same).
  const auto prf = sa.suite->keys().prf;
  auto theirs = nat_d_hash(prf, sa.cookie_i, sa.cookie_r, sa.remote);
  auto ours = nat_d_hash(prf, sa.cookie_i, sa.cookie_r, sa.local);
  if (!theirs.ok() || !ours.ok()) return std::nullopt;
  if (sa.connection->encap) *ours = random_bytes(ours->size());
  return std::vector<Payload>{Payload{PayloadType::nat_d, codec::NatDiscovery{std::move(*theirs)}},
                              Payload{PayloadType::nat_d, codec::NatDiscovery{std::move(*ours)}}};
}

void Manager::detect_nat(IsakmpSa& sa, const std::vector<Payload>& payloads) {
  // The first hash is our address as the peer sent to it; the others are
  // the peer's addresses, one of which must be where the packet came from.
  std::vector<const codec::NatDiscovery*> natd;
  for (const auto& p : payloads) {
    if (p.type == PayloadType::nat_d || p.type == PayloadType::nat_d_draft)
      natd.push_back(std::get_if<codec::NatDiscovery>(&p.body));
  }
  if (sa.peer_nat_t && natd.size() >= 2) {
    const auto prf = sa.suite->keys().prf;
    auto ours = nat_d_hash(prf, sa.cookie_i, sa.cookie_r, sa.local);
    auto theirs = nat_d_hash(prf, sa.cookie_i, sa.cookie_r, sa.remote);
    sa.nat_local = !ours.ok() || natd[0]->hash != *ours;
    sa.nat_remote = true;
    for (std::size_t i = 1; i < natd.size(); ++i) {
      if (theirs.ok() && natd[i]->hash == *theirs) sa.nat_remote = false;
    }
    if (sa.nat_detected())
      log::info("ike", sa.name() + std::string(sa.nat_local ? " we are behind a NAT" : "") +
                           (sa.nat_remote ? " the peer is behind a NAT" : ""));
  }
  if (sa.connection->encap) sa.nat_local = true;
}

bool Manager::take_key_exchange(IsakmpSa& sa, const std::vector<Payload>& payloads) {
  const auto* ke = first_of<codec::KeyExchange>(payloads, PayloadType::key_exchange);
  const auto* nonce = first_of<codec::Nonce>(payloads, PayloadType::nonce);
  if (!ke || !nonce) {
    fail(sa, "key exchange message without KE or nonce");
    return false;
  }
  auto g_xy = sa.dh->shared_secret(ke->data);
  if (!g_xy.ok()) {
    fail(sa, "peer's KE: " + g_xy.error().message);
    return false;
  }
  (sa.initiator() ? sa.g_xr : sa.g_xi) = ke->data;
  (sa.initiator() ? sa.nr_b : sa.ni_b) = nonce->data;

  detect_nat(sa, payloads);
  auto skeyid = this->skeyid(sa, {g_xy->data(), g_xy->size()});
  if (!skeyid) return false;
  auto keys = corridor::ikev1::derive_phase1_keys(sa.suite->keys(), std::move(*skeyid),
                                                  {g_xy->data(), g_xy->size()}, sa.cookie_i, sa.cookie_r, sa.g_xi,
                                                  sa.g_xr);
  if (!keys.ok()) {
    fail(sa, keys.error().message);
    return false;
  }
  auto cipher = corridor::ikev1::Phase1Cipher::create(sa.suite->keys(), keys->encryption_key);
  if (!cipher.ok()) {
    fail(sa, cipher.error().message);
    return false;
  }
  sa.iv = corridor::ikev1::IvChain(keys->iv);
  sa.keys = std::move(*keys);
  sa.cipher = std::move(*cipher);
  sa.dh.reset();  // the private value is no longer needed
  return true;
}

void Manager::main_mode_request_3(IsakmpSa& sa, const std::vector<Payload>& payloads, TimePoint now) {
  if (!transition(sa, State::mm_ke_rcvd)) return;
  auto ke = key_exchange_payloads(sa, sa.peer_nat_t);
  if (!ke) return fail(sa, "no key exchange payloads");
  if (!take_key_exchange(sa, payloads)) return;
  if (!transition(sa, State::mm_ke_sent)) return;
  send_clear(sa, std::move(*ke), false, now);
}

void Manager::main_mode_response_4(IsakmpSa& sa, const std::vector<Payload>& payloads, TimePoint now) {
  if (!transition(sa, State::mm_ke_rcvd)) return;
  if (!take_key_exchange(sa, payloads)) return;
  // RFC 3947 §4: the initiator moves to port 4500 once a NAT is found.
  if (sa.peer_nat_t && sa.nat_detected()) {
    sa.local.port = options_.nat_t_port;
    sa.remote.port = options_.nat_t_port;
    log::info("ike", sa.name() + " NAT-T: switching to " + endpoint_text(sa.local) + " -> " + endpoint_text(sa.remote));
  }
  auto id = identity_payloads(sa);
  if (!id) return fail(sa, "cannot build our identity and HASH_I");
  if (!has_contact(sa)) id->push_back(initial_contact(sa));
  if (!transition(sa, State::mm_auth_sent)) return;
  send_encrypted(sa, v1::ExchangeType::identity_protection, 0, sa.iv, sa.last_sent, *id, true, now);
}

// --- Messages 5 and 6: identities and their proof (authentication.cc) ----------------------

void Manager::main_mode_request_5(IsakmpSa& sa, const codec::ParsedHeader& header,
                                  std::span<const std::uint8_t> datagram, const net::SocketAddress& local,
                                  const net::SocketAddress& remote, TimePoint now) {
  auto message = open(sa, header, datagram, sa.iv);
  if (!message) {
    // A wrong PSK gives a wrong key: the message decrypts to garbage.
    send_clear_notify(header.header, local, remote, NotifyType::authentication_failed);
    return fail(sa, "Main Mode 5 does not decrypt to valid payloads (a pre-shared key mismatch?)");
  }
  const auto cookie_i = sa.cookie_i;
  const auto cookie_r = sa.cookie_r;
  if (!verify_identity(sa, *message)) {
    codec::Header about;
    about.cookie_i = cookie_i;
    about.cookie_r = cookie_r;
    send_clear_notify(about, local, remote, NotifyType::authentication_failed);
    return;
  }
  sa.iv.advance(datagram.subspan(codec::kHeaderSize));
  sa.last_received_datagram.assign(datagram.begin(), datagram.end());
  // Authenticated: now the peer's address and port may change (NAT-T float).
  sa.local = local;
  sa.remote = remote;
  honour_initial_contact(sa, message->payloads);
  if (!transition(sa, State::mm_auth_rcvd)) return;
  auto id = identity_payloads(sa);
  if (!id) return fail(sa, "cannot build our identity and HASH_R");
  if (!transition(sa, State::mm_done)) return;
  send_encrypted(sa, v1::ExchangeType::identity_protection, 0, sa.iv, sa.last_sent, *id, false, now);
  established(sa, now);
}

void Manager::main_mode_response_6(IsakmpSa& sa, const codec::ParsedHeader& header,
                                   std::span<const std::uint8_t> datagram, TimePoint now) {
  auto message = open(sa, header, datagram, sa.iv);
  if (!message) return fail(sa, "Main Mode 6 does not decrypt to valid payloads (a pre-shared key mismatch?)");
  // Phase 1's last IV before the check: a refusal is told to the responder
  // in an Informational, whose IV follows from it (RFC 2409 Appendix B).
  sa.iv.advance(datagram.subspan(codec::kHeaderSize));
  if (!verify_identity(sa, *message)) return;
  sa.last_received_datagram.assign(datagram.begin(), datagram.end());
  sa.last_sent.next_retransmit = TimePoint::max();
  if (!transition(sa, State::mm_done)) return;
  established(sa, now);
}

void Manager::established(IsakmpSa& sa, TimePoint now) {
  sa.established_at = now;
  ++stats_.phase1_established;
  if (sa.nat_local) sa.next_keepalive = now + options_.keepalive_interval;
  log::info("ike", sa.name() + " ISAKMP SA established between " + endpoint_text(sa.local) + " '" + sa.local_id +
                       "' and " + endpoint_text(sa.remote) + " '" + sa.remote_id + "' (" +
                       (sa.state == State::am_done ? "Aggressive Mode, " : "Main Mode, ") +
                       sa.suite->to_string() + (sa.nat_detected() ? ", NAT-T" : "") + ")");
  schedule_lifetime(sa, now);
  {
    std::array<std::uint8_t, 4> b{};
    options_.random(b);
    // RFC 3706 §7: a random start, kept in the lower half so it never wraps.
    sa.dpd_seq = (std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3]) >> 1;
  }
  // Published as ike-rekey when it takes over from an older SA with the
  // peer (a re-establishment by either side), else as ike-up.
  if (const auto old = adopt_ipsec_sas(sa, now)) emit(ike::SaEvent::Kind::ike_rekey, sa, nullptr, old);
  else emit(ike::SaEvent::Kind::ike_up, sa);
  // Completed while we shut down (shutdown() waited for it, or the peer
  // began it meanwhile): now it can be deleted with notice.
  if (stopping_) return delete_sa(sa, now, "shutdown");
  const auto pending = std::move(sa.pending_children);
  sa.pending_children.clear();
  for (const auto* child : pending) start_quick_mode(sa, *child, now);
}

}  // namespace corridor::control::ikev1
