// IKE_SA_INIT (RFC 7296 §1.2): negotiate the IKE SA's algorithms, exchange
// key-exchange values and nonces, detect NATs (§2.23), and derive SKEYSEED.
//
//   Initiator                         Responder
//   HDR, SAi1, KEi, Ni,
//     N(NAT_DETECTION_*_IP)   -->
//                             <--     HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*_IP)
//
// The responder may answer with only N(COOKIE) (§2.6) or
// N(INVALID_KE_PAYLOAD) (§1.2): the initiator then sends the request again
// with the cookie or in the group asked for, still as message ID 0.
#include <algorithm>

#include "common/log/log.h"
#include "control/ike/addresses.h"
#include "control/ikev2/manager.h"
#include "control/ikev2/payload_access.h"
#include "control/ikev2/nat_detection.h"

namespace corridor::control::ikev2 {

using codec::Payload;
using iana::NotifyType;
using iana::PayloadType;

namespace {

using ike::address_matches;
using payload::find_notify;
using payload::first_error;
using payload::notify;

// COOKIE and INVALID_KE_PAYLOAD restarts before the initiator gives up.
constexpr unsigned kMaxInitRetries = 3;

// Our NAT_DETECTION_SOURCE_IP: the real hash, or with `encap` one that can
// never match, so the peer believes there is a NAT and encapsulates
// (strongSwan does the same for its `encap = yes`).
Bytes source_hash(const IkeSa& sa, const Spi& spi_r, const Bytes& random) {
  if (sa.connection && sa.connection->encap) return random;
  return nat_detection_hash(sa.spi_i, spi_r, sa.local);
}

// Compares the peer's NAT_DETECTION hashes with what we see (§2.23).
// Returns false if the message carries none (the peer does no NAT-T).
bool detect_nat(IkeSa& sa, const std::vector<Payload>& payloads, const Spi& spi_r) {
  bool any = false, source_match = false, dest_match = false;
  const auto source = nat_detection_hash(sa.spi_i, spi_r, sa.remote);
  const auto dest = nat_detection_hash(sa.spi_i, spi_r, sa.local);
  for (const auto& p : payloads) {
    const auto* n = std::get_if<codec::Notify>(&p.body);
    if (!n) continue;
    if (n->type == NotifyType::nat_detection_source_ip) {
      any = true;
      source_match |= n->data == source;
    } else if (n->type == NotifyType::nat_detection_destination_ip) {
      any = true;
      dest_match |= n->data == dest;
    }
  }
  if (!any) return false;
  sa.nat_remote = !source_match;
  sa.nat_local = !dest_match;
  return true;
}

}  // namespace

bool Manager::derive_keys(IkeSa& sa, std::span<const std::uint8_t> peer_public) {
  auto g_ir = sa.key_exchange->shared_secret(peer_public);
  if (!g_ir.ok()) {
    log::warning("ike", sa.name() + " key exchange failed: " + g_ir.error().message);
    return false;
  }
  const auto suite = sa.proposal->ike_suite();
  auto keys = codec::derive_ike_sa_keys(suite, sa.nonce_i, sa.nonce_r, {g_ir->data(), g_ir->size()}, sa.spi_i, sa.spi_r);
  if (!keys.ok()) {
    log::warning("ike", sa.name() + " key derivation failed: " + keys.error().message);
    return false;
  }
  sa.keys = std::move(*keys);
  auto initiator_side = codec::SkCrypto::create(suite, sa.keys.sk_ei, sa.keys.sk_ai);
  auto responder_side = codec::SkCrypto::create(suite, sa.keys.sk_er, sa.keys.sk_ar);
  if (!initiator_side.ok() || !responder_side.ok()) {
    log::warning("ike", sa.name() + " cannot protect messages: " +
                            (initiator_side.ok() ? responder_side.error().message : initiator_side.error().message));
    return false;
  }
  sa.protect_out.emplace(std::move(sa.initiator ? *initiator_side : *responder_side));
  sa.protect_in.emplace(std::move(sa.initiator ? *responder_side : *initiator_side));
  sa.key_exchange.reset();  // the private value is not needed again
  return true;
}

bool Manager::start_ike_sa_init(IkeSa& sa, TimePoint now) {
  const auto& conn = *sa.connection;
  if (!sa.key_exchange) {
    const auto group = nego::first_key_exchange(conn.proposals);
    if (!group) {
      fail(sa, "its IKE proposals name no key exchange method");
      return false;
    }
    auto ke = codec::DiffieHellman::generate(*group);
    if (!ke.ok()) {
      fail(sa, ke.error().message);
      return false;
    }
    sa.key_exchange.emplace(std::move(*ke));
  }
  if (sa.nonce_i.empty()) sa.nonce_i = random_bytes(options_.nonce_size);

  std::vector<Payload> payloads;
  if (!sa.cookie.empty()) payloads.push_back(notify(NotifyType::cookie, sa.cookie));  // §2.6: first
  if (sa.sent_sa.proposals.empty()) sa.sent_sa = nego::to_sa_payload(conn.proposals, iana::ProtocolId::ike, {});
  payloads.push_back(Payload{PayloadType::security_association, sa.sent_sa});
  payloads.push_back(Payload{PayloadType::key_exchange,
                             codec::KeyExchange{static_cast<std::uint16_t>(sa.key_exchange->group()),
                                                sa.key_exchange->public_value()}});
  payloads.push_back(Payload{PayloadType::nonce, codec::Nonce{sa.nonce_i}});
  const Spi zero{};
  payloads.push_back(notify(NotifyType::nat_detection_source_ip, source_hash(sa, zero, random_bytes(20))));
  payloads.push_back(notify(NotifyType::nat_detection_destination_ip, nat_detection_hash(sa.spi_i, zero, sa.remote)));
  // RFC 7427 §4: the hashes we verify signatures with, always announced
  // (as strongSwan does), so a peer using certificates signs with one.
  payloads.push_back(notify(NotifyType::signature_hash_algorithms, signature_hash_algorithms_notify_data()));
  if (announce_fragmentation(conn.fragmentation)) payloads.push_back(notify(NotifyType::ikev2_fragmentation_supported));

  sa.next_request_id = 0;
  if (!send_request(sa, iana::ExchangeType::ike_sa_init, std::move(payloads), now)) {
    fail(sa, "could not build the IKE_SA_INIT request");
    return false;
  }
  sa.init_request = sa.outstanding->datagrams.front();
  sa.set_state(IkeSaState::ike_sa_init_sent);
  return true;
}

void Manager::respond_ike_sa_init(const codec::Message& request, std::span<const std::uint8_t> datagram,
                                  const net::SocketAddress& local, const net::SocketAddress& remote, TimePoint now) {
  const auto& h = request.header;
  const std::string from = endpoint_text(remote);
  if (stopping_) return drop("shutting_down", "IKE_SA_INIT from " + from + " while shutting down");
  const auto* offered = payload::find<codec::SecurityAssociation>(request.payloads, PayloadType::security_association);
  const auto* ke = payload::find<codec::KeyExchange>(request.payloads, PayloadType::key_exchange);
  const auto* nonce = payload::find<codec::Nonce>(request.payloads, PayloadType::nonce);
  if (!offered || !ke || !nonce) return drop("payload_rules", "IKE_SA_INIT request without SA, KE or Ni from " + from);

  // Half-open SA limits and cookies (§2.6), before any costly work.
  const auto from_ip = half_open_by_ip_.find(remote.address);
  const std::size_t ip_half_open = from_ip == half_open_by_ip_.end() ? 0 : from_ip->second;
  if (ip_half_open >= options_.block_threshold_ip)
    return drop("half_open_limit", "IKE_SA_INIT from " + from + ": " + std::to_string(ip_half_open) +
                                       " half-open IKE SAs from this address already");
  if (half_open_ >= options_.cookie_threshold || ip_half_open >= options_.cookie_threshold_ip) {
    const auto* cookie = find_notify(request.payloads, NotifyType::cookie);
    if (!cookie || !cookies_.valid(cookie->data, nonce->data, remote.address, h.spi_i)) {
      if (cookie) ++stats_.drops["invalid_cookie"];
      ++stats_.cookies_sent;
      send_unprotected_notify(h, local, remote, NotifyType::cookie, cookies_.make(nonce->data, remote.address, h.spi_i));
      return;
    }
  }

  // The first connection (in config order) whose addresses fit and whose
  // IKE proposals accept one of the peer's.
  const config::ConnectionConfig* chosen = nullptr;
  std::optional<nego::Selected> selected;
  std::vector<std::string> mismatches;
  for (const auto& conn : config_->connections) {
    if (conn.version == 1) continue;
    if (!address_matches(conn.local_addrs, local.address) || !address_matches(conn.remote_addrs, remote.address)) continue;
    // Preferring the group of the peer's KE payload, when the chosen
    // proposal allows it, saves an INVALID_KE_PAYLOAD round trip.
    auto result = nego::select_proposal(*offered, conn.proposals, iana::ProtocolId::ike, nego::SelectFor::ike_sa_init,
                                        static_cast<iana::KeId>(ke->group));
    if (result.ok()) {
      chosen = &conn;
      selected = std::move(*result);
      break;
    }
    mismatches.push_back(conn.name + ": " + result.error().message);
  }
  if (!chosen) {
    if (mismatches.empty()) {
      log::warning("ike", "IKE_SA_INIT from " + from + " to " + endpoint_text(local) +
                              ": no connection configured for these addresses, answering NO_PROPOSAL_CHOSEN");
    } else {
      for (const auto& m : mismatches)
        log::warning("ike", "IKE_SA_INIT from " + from + " NO_PROPOSAL_CHOSEN for connection " + m);
    }
    send_unprotected_notify(h, local, remote, NotifyType::no_proposal_chosen, {});
    ++stats_.ike_sas_failed;
    return drop("no_proposal_chosen", "IKE_SA_INIT from " + from);
  }
  const auto group = selected->key_exchange.value_or(iana::KeId::none);
  if (nego::group_for_retry(*selected, static_cast<iana::KeId>(ke->group))) {
    // §1.2: tell the initiator which group we want; it retries with it.
    log::info("ike", "IKE_SA_INIT from " + from + " has KE of group " +
                         std::string(iana::transform_name(iana::TransformType::key_exchange, ke->group)) + ", asking for " +
                         std::string(iana::transform_name(iana::TransformType::key_exchange, static_cast<std::uint16_t>(group))) +
                         " with INVALID_KE_PAYLOAD");
    send_unprotected_notify(h, local, remote, NotifyType::invalid_ke_payload,
                            {static_cast<std::uint8_t>(static_cast<std::uint16_t>(group) >> 8),
                             static_cast<std::uint8_t>(static_cast<std::uint16_t>(group))});
    return;
  }

  IkeSa& sa = create_sa(chosen, false, now);
  sa.spi_i = h.spi_i;
  sa.local = local;
  sa.remote = remote;
  sa.proposal = std::move(selected);
  sa.nonce_i = nonce->data;
  sa.nonce_r = random_bytes(options_.nonce_size);
  sa.peer_fragmentation = find_notify(request.payloads, NotifyType::ikev2_fragmentation_supported) != nullptr;
  const auto* peer_hashes = find_notify(request.payloads, NotifyType::signature_hash_algorithms);
  if (peer_hashes) sa.peer_signature_hashes = parse_signature_hash_algorithms(peer_hashes->data);
  by_initiator_spi_[{sa.spi_i, from}] = sa.id;
  sa.set_state(IkeSaState::ike_sa_init_done);
  count_half_open(sa, true);

  auto our_ke = codec::DiffieHellman::generate(group);
  if (!our_ke.ok()) {
    send_unprotected_notify(h, local, remote, NotifyType::no_proposal_chosen, {});
    return fail(sa, our_ke.error().message);
  }
  sa.key_exchange.emplace(std::move(*our_ke));
  const Bytes our_public = sa.key_exchange->public_value();
  // NAT detection uses SPIr zero on the request's hashes (§2.23).
  const bool peer_does_nat_t = detect_nat(sa, request.payloads, Spi{});
  if (!derive_keys(sa, ke->data)) {
    // RFC 6989 §2: a bad public value is a malformed message.
    send_unprotected_notify(h, local, remote, NotifyType::invalid_syntax, {});
    return fail(sa, "invalid KE payload from " + from);
  }

  std::vector<Payload> payloads;
  payloads.push_back(Payload{PayloadType::security_association, codec::SecurityAssociation{{sa.proposal->proposal}}});
  payloads.push_back(Payload{PayloadType::key_exchange, codec::KeyExchange{static_cast<std::uint16_t>(group), our_public}});
  payloads.push_back(Payload{PayloadType::nonce, codec::Nonce{sa.nonce_r}});
  if (peer_does_nat_t) {
    payloads.push_back(notify(NotifyType::nat_detection_source_ip, source_hash(sa, sa.spi_r, random_bytes(20))));
    payloads.push_back(notify(NotifyType::nat_detection_destination_ip, nat_detection_hash(sa.spi_i, sa.spi_r, sa.remote)));
  }
  if (peer_hashes)
    payloads.push_back(notify(NotifyType::signature_hash_algorithms, signature_hash_algorithms_notify_data()));
  // RFC 7383 §2.3: only in answer to the initiator's own announcement.
  if (sa.peer_fragmentation && announce_fragmentation(chosen->fragmentation))
    payloads.push_back(notify(NotifyType::ikev2_fragmentation_supported));
  if (chosen->remote.auth != config::AuthMethod::psk) {
    // CERTREQ (§3.7): which CAs we trust, so the initiator sends the right chain.
    if (const auto& trust = credentials(*chosen).trust)
      payloads.push_back(Payload{PayloadType::certificate_request,
                                 codec::CertificateRequest{iana::CertEncoding::x509_signature, trust->certreq_authorities()}});
  }
  if (chosen->encap) sa.nat_local = true;  // forced encapsulation: behave as if behind a NAT
  sa.init_request.assign(datagram.begin(), datagram.end());
  if (!send_response(sa, h, std::move(payloads))) return fail(sa, "could not build the IKE_SA_INIT response");
  sa.init_response = sa.last_response->datagrams.front();
  log::info("ike", sa.name() + " IKE_SA_INIT from " + from + " answered with " + sa.proposal->to_string() +
                       (sa.nat_detected() ? std::string(", NAT detected (") + (sa.nat_local ? "local" : "") +
                                                (sa.nat_local && sa.nat_remote ? ", " : "") +
                                                (sa.nat_remote ? "remote" : "") + ")"
                                          : ""));
}

void Manager::process_ike_sa_init_response(IkeSa& sa, const codec::Message& response,
                                           std::span<const std::uint8_t> datagram, const net::SocketAddress& local,
                                           TimePoint now) {
  const auto& conn = *sa.connection;
  const auto& payloads = response.payloads;
  if (const auto* cookie = find_notify(payloads, NotifyType::cookie)) {
    if (++sa.init_retries > kMaxInitRetries) return fail(sa, "the responder keeps asking for a COOKIE");
    log::info("ike", sa.name() + " responder asks for a COOKIE, sending IKE_SA_INIT again with it");
    sa.cookie = cookie->data;
    sa.outstanding.reset();
    start_ike_sa_init(sa, now);
    return;
  }
  if (const auto* invalid_ke = find_notify(payloads, NotifyType::invalid_ke_payload)) {
    if (invalid_ke->data.size() != 2) return fail(sa, "INVALID_KE_PAYLOAD without a group");
    const auto group = static_cast<iana::KeId>(invalid_ke->data[0] << 8 | invalid_ke->data[1]);
    const auto name = std::string(iana::transform_name(iana::TransformType::key_exchange, static_cast<std::uint16_t>(group)));
    if (!nego::proposal_allows_group(sa.sent_sa, group)) return fail(sa, "responder wants key exchange " + name + ", which our proposals do not offer");
    if (++sa.init_retries > kMaxInitRetries || (sa.key_exchange && sa.key_exchange->group() == group))
      return fail(sa, "responder refused our key exchange again with INVALID_KE_PAYLOAD");
    auto ke = codec::DiffieHellman::generate(group);
    if (!ke.ok()) return fail(sa, ke.error().message);
    log::info("ike", sa.name() + " responder asks for key exchange " + name + " (INVALID_KE_PAYLOAD), retrying");
    sa.key_exchange.emplace(std::move(*ke));
    sa.sent_sa = nego::promote_group(std::move(sa.sent_sa), group);
    sa.outstanding.reset();
    start_ike_sa_init(sa, now);
    return;
  }
  if (const auto* error = first_error(payloads)) {
    ++stats_.notifies_received[std::string(iana::notify_type_name(error->type))];
    return fail(sa, "responder answered " + std::string(iana::notify_type_name(error->type)));
  }
  const auto& h = response.header;
  if (is_zero(h.spi_r)) return fail(sa, "IKE_SA_INIT response without a responder SPI");
  const auto* sa_payload = payload::find<codec::SecurityAssociation>(payloads, PayloadType::security_association);
  const auto* ke = payload::find<codec::KeyExchange>(payloads, PayloadType::key_exchange);
  const auto* nonce = payload::find<codec::Nonce>(payloads, PayloadType::nonce);
  if (!sa_payload || !ke || !nonce) return fail(sa, "IKE_SA_INIT response without SA, KE or Nr");
  auto selected = nego::accept_response(sa.sent_sa, *sa_payload, iana::ProtocolId::ike);
  if (!selected.ok()) return fail(sa, "responder's proposal is not one we offered: " + selected.error().message);
  if (!selected->key_exchange || *selected->key_exchange != sa.key_exchange->group() ||
      ke->group != static_cast<std::uint16_t>(*selected->key_exchange))
    return fail(sa, "responder's KE payload does not match the chosen key exchange");

  sa.outstanding.reset();
  sa.spi_r = h.spi_r;
  sa.proposal = std::move(*selected);
  sa.nonce_r = nonce->data;
  sa.peer_fragmentation = find_notify(payloads, NotifyType::ikev2_fragmentation_supported) != nullptr;
  if (const auto* hashes = find_notify(payloads, NotifyType::signature_hash_algorithms))
    sa.peer_signature_hashes = parse_signature_hash_algorithms(hashes->data);
  detect_nat(sa, payloads, sa.spi_r);
  if (conn.encap) sa.nat_local = true;
  if (!derive_keys(sa, ke->data)) return fail(sa, "invalid KE payload from the responder");
  sa.init_response.assign(datagram.begin(), datagram.end());
  sa.local = local;
  // §2.23: with a NAT in the path (or encapsulation forced) IKE moves to
  // port 4500 from IKE_AUTH on, so that ESP can follow in UDP.
  if (sa.nat_detected() && sa.remote.port == 500) {
    sa.local.port = options_.nat_t_port;
    sa.remote.port = options_.nat_t_port;
  }
  log::info("ike", sa.name() + " IKE_SA_INIT done with " + sa.proposal->to_string() +
                       (sa.nat_detected() ? ", NAT-T: switching to " + endpoint_text(sa.remote) : ""));
  start_ike_auth(sa, now);
}

}  // namespace corridor::control::ikev2
