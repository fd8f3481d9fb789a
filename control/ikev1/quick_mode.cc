// Phase 2, Quick Mode (RFC 2409 §5.5), both roles, over an established
// ISAKMP SA:
//
//   1  I -> R  [ HASH(1), SA, Ni [, KE] [, IDci, IDcr] ]   QM_IDLE -> QM_INIT_SENT
//   2  R -> I  [ HASH(2), SA, Nr [, KE] [, IDci, IDcr] ]
//   3  I -> R  [ HASH(3) ]                                 ... -> QM_DONE
//
// Each exchange has its own IV chain from hash(last Phase 1 block | M-ID).
// KEYMAT for each SA takes the SPI its receiver chose. The initiator
// installs the pair, and sends on it, when message 2 checks out. The
// responder pushes both SAs to the dataplane before it sends message 2, so
// its inbound SA is ready for the initiator's first packets, but steers its
// own traffic into the new pair (outbound policies) only when message 3
// checks out; a Quick Mode that fails before that takes the two SAs back.
// The commit bit is not used (it is ignored when received, which RFC 2408
// §3.1 allows as long as nothing is sent before the pair is installed).
#include <openssl/crypto.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_set>

#include "common/log/log.h"
#include "control/ike/child_records.h"
#include "control/ikev1/manager.h"
#include "control/ikev1/proxy_id.h"

namespace corridor::control::ikev1 {

using codec::Payload;
using v1::ExchangeType;
using v1::PayloadType;

namespace {

// The nonce order of the collision rule: shorter first, then byte by byte.
// Any total order works as long as both ends use it on the same four
// nonces; this one is strongSwan's (memcmp-style with the length).
bool nonce_less(const Bytes& x, const Bytes& y) {
  if (x.size() != y.size()) return x.size() < y.size();
  return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end());
}

std::string mid_text(std::uint32_t mid) { return "0x" + hex32(mid); }

std::string lifetime_text(std::uint32_t seconds, std::uint64_t kilobytes) {
  std::string out = seconds ? std::to_string(seconds) + " s" : "";
  if (kilobytes) out += (out.empty() ? "" : ", ") + std::to_string(kilobytes) + " KB";
  return out.empty() ? "without limit" : out;
}

// RFC 3947 §5.2: in transport mode through a NAT both Quick Mode messages
// carry the original addresses, the initiator's first (NAT-OAi), then the
// responder's (NAT-OAr), each as this end knows it. The receiver needs them
// to correct TCP/UDP checksums after decapsulation (RFC 3948 §3.1.2).
codec::Payload nat_oa(const net::IpAddress& a) {
  const auto bytes = a.bytes();
  const std::size_t n = a.is_v4() ? 4 : 16;
  return codec::Payload{v1::PayloadType::nat_oa,
                        codec::NatOriginalAddress{a.is_v4() ? v1::IdType::ipv4_addr : v1::IdType::ipv6_addr,
                                                  codec::Bytes(bytes.begin(), bytes.begin() + n)}};
}

bool transport_through_nat(const IsakmpSa& sa, const config::ChildConfig& child) {
  return child.mode == config::ChildMode::transport && (sa.nat_detected() || sa.connection->encap);
}

// The peer's NAT-OA payloads, for the log: "initiator 10.0.0.5, responder 192.0.2.1".
std::string peer_nat_oa(const std::vector<codec::Payload>& payloads) {
  std::vector<std::string> seen;
  for (const auto& p : payloads) {
    const auto* oa = std::get_if<codec::NatOriginalAddress>(&p.body);
    if (!oa) continue;
    if (oa->address.size() != 4 && oa->address.size() != 16) continue;  // the codec refuses these already
    seen.push_back(net::IpAddress::from_bytes(oa->address.size() == 4 ? net::Family::ipv4 : net::Family::ipv6,
                                              oa->address.data())
                       .to_string());
  }
  if (seen.empty()) return "";
  return "initiator " + seen[0] + (seen.size() > 1 ? ", responder " + seen[1] : "");
}

// Our side's and the peer's selectors of a child: the first of each
// (IKEv1 negotiates one pair per Quick Mode), "dynamic" as the IKE address.
net::TrafficSelector first_selector(const std::vector<net::TrafficSelector>& configured, const net::IpAddress& ike) {
  if (configured.empty() || configured.front().dynamic) return host_selector(ike);
  return configured.front();
}

bool selectors_cover(const std::vector<net::TrafficSelector>& configured, const net::IpAddress& ike,
                     const net::TrafficSelector& proposed) {
  if (configured.empty()) return covers(host_selector(ike), proposed);
  for (const auto& c : configured) {
    if (covers(c.dynamic ? host_selector(ike) : c, proposed)) return true;
  }
  return false;
}

}  // namespace

std::uint32_t Manager::random_spi() { return spis_->reserve(options_.random); }

bool Manager::step(IsakmpSa& sa, QuickMode& qm, State to) {
  if (!transition_allowed(qm.role, qm.state, to)) {
    log::error("ike", sa.name() + " Quick Mode " + mid_text(qm.message_id) + " refused state change " +
                          std::string(to_string(qm.state)) + " -> " + std::string(to_string(to)));
    return false;
  }
  log::info("ike", sa.name() + " Quick Mode " + mid_text(qm.message_id) + " " + std::string(to_string(qm.state)) +
                       " -> " + std::string(to_string(to)));
  qm.state = to;
  return true;
}

void Manager::quick_mode_failed(IsakmpSa& sa, std::uint32_t message_id, std::string_view why, TimePoint now) {
  const auto it = sa.quick_modes.find(message_id);
  std::string child = "?";
  if (it != sa.quick_modes.end()) {
    QuickMode& qm = it->second;
    if (qm.child) child = qm.child->name;
    // A failed renewal may be tried again: by time at the next tick, by
    // volume or by the operator.
    if (qm.rekeys_spi_in) {
      for (auto& ipsec : sa.ipsec_sas)
        if (ipsec.spi_in == qm.rekeys_spi_in) ipsec.rekey_started = false;
    }
    // The initiator installed the pair when our message 2 arrived and may
    // be sending on it: tell it the pair is gone rather than leave it
    // sending into nothing.
    const bool peer_may_use = qm.role == Role::responder && qm.state == State::qm_resp_sent && qm.suite &&
                              phase1_established(sa.state);
    const auto spi = qm.spi_in;
    const auto protocol = qm.suite ? qm.suite->protocol : v1::ProtocolId::esp;
    abandon(qm);
    sa.quick_modes.erase(it);
    if (peer_may_use) send_delete_ipsec(sa, protocol, {spi}, now);
  }
  ++stats_.quick_modes_failed;
  log::warning("ike", sa.name() + " Quick Mode " + mid_text(message_id) + " for " + child + " failed: " + std::string(why));
}

bool Manager::send_quick_mode(IsakmpSa& sa, QuickMode& qm, std::vector<Payload> rest, bool request, TimePoint now) {
  const auto prf = sa.suite->keys().prf;
  corridor::ike::KeyExpected<Bytes> hash = Bytes{};
  if (qm.state == State::qm_resp_rcvd) {  // message 3: HASH(3) alone
    hash = corridor::ikev1::hash_3(prf, sa.keys->skeyid_a, qm.message_id, qm.ni_b, qm.nr_b);
  } else {
    auto rest_b = codec::serialise_payloads(rest);
    if (!rest_b.ok()) return false;
    hash = qm.role == Role::initiator
               ? corridor::ikev1::hash_1(prf, sa.keys->skeyid_a, qm.message_id, *rest_b)
               : corridor::ikev1::hash_2(prf, sa.keys->skeyid_a, qm.message_id, qm.ni_b, *rest_b);
  }
  if (!hash.ok()) return false;
  std::vector<Payload> payloads{Payload{PayloadType::hash, codec::Hash{std::move(*hash)}}};
  for (auto& p : rest) payloads.push_back(std::move(p));
  return send_encrypted(sa, ExchangeType::quick_mode, qm.message_id, qm.iv, qm.last_sent, payloads, request, now);
}

// --- Message 1 ----------------------------------------------------------------------

bool Manager::start_quick_mode(IsakmpSa& sa, const config::ChildConfig& child, TimePoint now,
                               std::uint32_t rekeys_spi_in) {
  auto suites = phase2_suites(child, sa.nat_detected() || sa.connection->encap);
  if (!suites.ok()) {
    log::error("ike", sa.name() + " child " + child.name + ": " + suites.error().message);
    return false;
  }
  const std::uint32_t mid = random_message_id(sa);
  auto chain = phase2_chain(sa, mid);
  if (!chain) return false;
  QuickMode qm;
  qm.message_id = mid;
  qm.role = Role::initiator;
  qm.child = &child;
  qm.rekeys_spi_in = rekeys_spi_in;
  qm.iv = std::move(*chain);
  qm.offered = std::move(*suites);
  qm.spi_in = random_spi();
  qm.ni_b = random_bytes(options_.nonce_size);
  qm.local_ts = first_selector(child.local_ts, sa.local.address);
  qm.remote_ts = first_selector(child.remote_ts, sa.remote.address);
  qm.started_at = now;
  qm.begun_seq = install_seq_;
  std::vector<Payload> rest{Payload{PayloadType::sa, phase2_offer(qm.offered, qm.spi_in)},
                            Payload{PayloadType::nonce, codec::Nonce{qm.ni_b}}};
  const auto group = qm.offered.front().group;
  if (group != iana::KeId::none) {
    auto dh = corridor::ike::DiffieHellman::generate(group);
    if (!dh.ok()) {
      log::error("ike", sa.name() + " PFS: " + dh.error().message);
      spis_->release(qm.spi_in);
      return false;
    }
    rest.push_back(Payload{PayloadType::key_exchange, codec::KeyExchange{dh->public_value()}});
    qm.dh = std::move(*dh);
  }
  rest.push_back(Payload{PayloadType::id, to_proxy_id(qm.local_ts)});
  rest.push_back(Payload{PayloadType::id, to_proxy_id(qm.remote_ts)});
  if (transport_through_nat(sa, child)) {
    rest.push_back(nat_oa(sa.local.address));
    rest.push_back(nat_oa(sa.remote.address));
  }
  log::info("ike", sa.name() + " Quick Mode " + mid_text(mid) + (rekeys_spi_in ? " renewing " + hex32(rekeys_spi_in) + "_i" : "") +
                       " for " + child.name + ": " + qm.local_ts.to_string() +
                       " === " + qm.remote_ts.to_string() + ", offering " + qm.offered.front().to_string() +
                       (qm.offered.size() > 1 ? " and " + std::to_string(qm.offered.size() - 1) + " more" : ""));
  auto& stored = sa.quick_modes[mid] = std::move(qm);
  if (!step(sa, stored, State::qm_init_sent) || !send_quick_mode(sa, stored, std::move(rest), true, now)) {
    quick_mode_failed(sa, mid, "could not send message 1", now);
    return false;
  }
  return true;
}

void Manager::quick_mode_message(IsakmpSa& sa, const codec::ParsedHeader& header,
                                 std::span<const std::uint8_t> datagram, TimePoint now) {
  const auto mid = header.header.message_id;
  if (mid == 0) return drop("malformed", sa.name() + " Quick Mode with Message ID 0");
  const auto it = sa.quick_modes.find(mid);
  if (it == sa.quick_modes.end()) return quick_mode_request_1(sa, header, datagram, now);
  QuickMode& qm = it->second;
  // A repeat of the message we answered: the same answer again (also while
  // we retransmit message 2 ourselves: the initiator evidently lost it).
  if (qm.last_received_datagram.size() == datagram.size() &&
      std::equal(datagram.begin(), datagram.end(), qm.last_received_datagram.begin())) {
    const bool answer = qm.last_sent.next_retransmit == TimePoint::max() || qm.state == State::qm_resp_sent;
    if (answer && !qm.last_sent.datagram.empty()) {
      ++stats_.duplicates;
      send_datagram(sa, qm.last_sent.datagram);
    } else {
      drop("duplicate", sa.name() + " repeated Quick Mode message " + mid_text(mid));
    }
    return;
  }
  const bool expect_2 = qm.role == Role::initiator && qm.state == State::qm_init_sent;
  const bool expect_3 = qm.role == Role::responder && qm.state == State::qm_resp_sent;
  if (!expect_2 && !expect_3)
    return drop("unexpected", sa.name() + " Quick Mode " + mid_text(mid) + " message in " + std::string(to_string(qm.state)));
  auto message = open(sa, header, datagram, qm.iv);
  if (!message) return;
  if (message->payloads.empty() || message->payloads.front().type != PayloadType::hash)
    return drop("malformed", sa.name() + " Quick Mode " + mid_text(mid) + " does not start with HASH");
  qm.last_received_datagram.assign(datagram.begin(), datagram.end());
  // The chain moves past an authentic message only (checked by the handler).
  if (expect_2) return quick_mode_response_2(sa, qm, *message, now);
  quick_mode_request_3(sa, qm, *message, now);
}

void Manager::quick_mode_request_1(IsakmpSa& sa, const codec::ParsedHeader& header,
                                   std::span<const std::uint8_t> datagram, TimePoint now) {
  const auto mid = header.header.message_id;
  auto chain = phase2_chain(sa, mid);
  if (!chain) return;
  auto message = open(sa, header, datagram, *chain);
  if (!message) return;
  if (message->payloads.empty() || message->payloads.front().type != PayloadType::hash)
    return drop("malformed", sa.name() + " protected message without a HASH payload first");
  const auto prf = sa.suite->keys().prf;
  const auto* hash = message->payloads.empty() ? nullptr : std::get_if<codec::Hash>(&message->payloads.front().body);
  auto want = corridor::ikev1::hash_1(prf, sa.keys->skeyid_a, mid, after_hash(*message));
  if (!hash || !want.ok() || want->size() != hash->data.size() ||
      CRYPTO_memcmp(want->data(), hash->data.data(), want->size()) != 0)
    return drop("hash_mismatch", sa.name() + " Quick Mode " + mid_text(mid) + " message 1 with a wrong HASH(1)");
  chain->advance(datagram.subspan(codec::kHeaderSize));

  QuickMode qm;
  qm.message_id = mid;
  qm.role = Role::responder;
  qm.iv = std::move(*chain);
  qm.started_at = now;
  qm.begun_seq = install_seq_;
  qm.last_received_datagram.assign(datagram.begin(), datagram.end());
  const codec::SecurityAssociation* offer = nullptr;
  const codec::KeyExchange* ke = nullptr;
  std::vector<const codec::Identification*> ids;
  for (std::size_t i = 0; i < message->payloads.size(); ++i) {
    const auto& p = message->payloads[i];
    if (p.type == PayloadType::sa && !offer) offer = std::get_if<codec::SecurityAssociation>(&p.body);
    if (p.type == PayloadType::nonce && qm.ni_b.empty()) qm.ni_b = std::get<codec::Nonce>(p.body).data;
    if (p.type == PayloadType::key_exchange && !ke) ke = std::get_if<codec::KeyExchange>(&p.body);
    if (p.type == PayloadType::id) ids.push_back(std::get_if<codec::Identification>(&p.body));
  }
  auto refuse = [&](v1::NotifyType type, const std::string& why) {
    ++stats_.quick_modes_failed;
    log::warning("ike", sa.name() + " Quick Mode " + mid_text(mid) + " from the peer refused (" +
                            std::string(v1::notify_type_name(type)) + "): " + why);
    codec::Notification n;
    n.protocol = v1::ProtocolId::isakmp;
    n.type = type;
    send_informational(sa, {Payload{PayloadType::notification, std::move(n)}}, now);
  };
  if (!offer || qm.ni_b.empty()) return refuse(v1::NotifyType::payload_malformed, "no SA or nonce");
  if (ids.size() != 0 && ids.size() != 2) return refuse(v1::NotifyType::invalid_id_information, "one ID payload");
  // The initiator's IDci is the peer's side, IDcr ours.
  if (ids.empty()) {
    qm.ids_sent = false;
    qm.remote_ts = host_selector(sa.remote.address);
    qm.local_ts = host_selector(sa.local.address);
  } else {
    std::string why;
    auto ci = from_proxy_id(*ids[0], &why);
    auto cr = ci ? from_proxy_id(*ids[1], &why) : std::nullopt;
    if (!ci || !cr) return refuse(v1::NotifyType::invalid_id_information, why);
    qm.remote_ts = *ci;
    qm.local_ts = *cr;
  }
  // The first child of the connection whose selectors hold the proposed
  // ones and whose proposals accept the offer.
  std::optional<Phase2Selection> selection;
  std::vector<std::string> why_not;
  for (const auto& child : sa.connection->children) {
    if (!selectors_cover(child.local_ts, sa.local.address, qm.local_ts) ||
        !selectors_cover(child.remote_ts, sa.remote.address, qm.remote_ts)) {
      why_not.push_back(child.name + ": selectors " + qm.local_ts.to_string() + " === " + qm.remote_ts.to_string() +
                        " not within the child's");
      continue;
    }
    auto suites = phase2_suites(child, sa.nat_detected() || sa.connection->encap);
    if (!suites.ok()) {
      why_not.push_back(child.name + ": " + suites.error().message);
      continue;
    }
    auto chosen = select_phase2(*offer, *suites);
    if (!chosen.ok()) {
      why_not.push_back(child.name + ": " + chosen.error().message);
      continue;
    }
    qm.child = &child;
    selection = std::move(*chosen);
    break;
  }
  if (!selection) {
    std::string all;
    for (const auto& w : why_not) all += (all.empty() ? "" : "; ") + w;
    const bool ts = !why_not.empty() && std::all_of(why_not.begin(), why_not.end(), [](const std::string& w) {
      return w.find("selectors") != std::string::npos;
    });
    return refuse(ts ? v1::NotifyType::invalid_id_information : v1::NotifyType::no_proposal_chosen,
                  all.empty() ? "the connection has no children" : all);
  }
  qm.suite = selection->suite;
  qm.spi_out = selection->peer_spi;
  if (qm.suite->group != iana::KeId::none) {
    if (!ke) return refuse(v1::NotifyType::invalid_key_information, "PFS agreed but no KE payload");
    auto dh = corridor::ike::DiffieHellman::generate(qm.suite->group);
    if (!dh.ok()) return refuse(v1::NotifyType::invalid_key_information, dh.error().message);
    auto g = dh->shared_secret(ke->data);
    if (!g.ok()) return refuse(v1::NotifyType::invalid_key_information, g.error().message);
    qm.g_qm = std::move(*g);
    qm.dh = std::move(*dh);
  }
  qm.spi_in = random_spi();
  qm.nr_b = random_bytes(options_.nonce_size);
  std::vector<Payload> rest{Payload{PayloadType::sa, selection->with_spi(qm.spi_in)},
                            Payload{PayloadType::nonce, codec::Nonce{qm.nr_b}}};
  if (qm.dh) rest.push_back(Payload{PayloadType::key_exchange, codec::KeyExchange{qm.dh->public_value()}});
  if (qm.ids_sent) {
    for (const auto* id : ids) rest.push_back(Payload{PayloadType::id, *id});
  }
  if (transport_through_nat(sa, *qm.child)) {
    rest.push_back(nat_oa(sa.remote.address));
    rest.push_back(nat_oa(sa.local.address));
    const auto theirs = peer_nat_oa(message->payloads);
    log::info("ike", sa.name() + " Quick Mode " + mid_text(mid) + ": transport mode through a NAT, the peer's NAT-OA " +
                         (theirs.empty() ? std::string("missing") : theirs));
  }
  if (auto n = responder_lifetime(*selection, qm.spi_in)) {
    // Our lifetime is shorter than the offer's (RFC 2407 §4.6.3.1): say so,
    // or the initiator would renew too late.
    log::info("ike", sa.name() + " Quick Mode " + mid_text(mid) + ": our lifetime is shorter, sending RESPONDER-LIFETIME " +
                         lifetime_text(qm.suite->life_seconds, qm.suite->life_kilobytes));
    rest.push_back(Payload{PayloadType::notification, std::move(*n)});
  }
  log::info("ike", sa.name() + " Quick Mode " + mid_text(mid) + " from the peer for " + qm.child->name + ": " +
                       qm.local_ts.to_string() + " === " + qm.remote_ts.to_string() + ", selected " +
                       qm.suite->to_string());
  auto& stored = sa.quick_modes[mid] = std::move(qm);
  if (!step(sa, stored, State::qm_init_rcvd)) return quick_mode_failed(sa, mid, "could not answer", now);
  // The inbound SA must be in the dataplane before the initiator can use it.
  if (!push_ipsec_keys(sa, stored)) {
    return quick_mode_failed(sa, mid, "the IPsec SAs could not be installed", now);
  }
  sink_.flush();
  stored.known_seq = ++install_seq_;
  // Message 2 is retransmitted until message 3 arrives: message 3 is never
  // repeated on its own (nothing answers it), so a lost one is recovered by
  // the initiator answering our repeated 2 with its 3 again. Without that
  // the initiator, installed on 2, would send into SAs we never finish.
  if (!step(sa, stored, State::qm_resp_sent) || !send_quick_mode(sa, stored, std::move(rest), true, now)) {
    quick_mode_failed(sa, mid, "could not answer", now);
    return;
  }
}

// --- Message 2 ----------------------------------------------------------------------

void Manager::quick_mode_response_2(IsakmpSa& sa, QuickMode& qm, const Opened& message, TimePoint now) {
  const auto prf = sa.suite->keys().prf;
  const auto mid = qm.message_id;
  const auto& hash = std::get<codec::Hash>(message.payloads.front().body);
  const codec::SecurityAssociation* reply = nullptr;
  const codec::KeyExchange* ke = nullptr;
  for (const auto& p : message.payloads) {
    if (p.type == PayloadType::sa && !reply) reply = std::get_if<codec::SecurityAssociation>(&p.body);
    if (p.type == PayloadType::nonce && qm.nr_b.empty()) qm.nr_b = std::get<codec::Nonce>(p.body).data;
    if (p.type == PayloadType::key_exchange && !ke) ke = std::get_if<codec::KeyExchange>(&p.body);
  }
  auto want = corridor::ikev1::hash_2(prf, sa.keys->skeyid_a, mid, qm.ni_b, after_hash(message));
  if (!want.ok() || want->size() != hash.data.size() ||
      CRYPTO_memcmp(want->data(), hash.data.data(), want->size()) != 0) {
    qm.nr_b.clear();
    qm.last_received_datagram.clear();
    return drop("hash_mismatch", sa.name() + " Quick Mode " + mid_text(mid) + " message 2 with a wrong HASH(2)");
  }
  const auto datagram_ct = std::span<const std::uint8_t>(qm.last_received_datagram).subspan(codec::kHeaderSize);
  qm.iv.advance(datagram_ct);
  if (!reply || qm.nr_b.empty()) return quick_mode_failed(sa, mid, "message 2 without SA or nonce", now);
  auto accepted = accept_phase2_reply(*reply, qm.offered);
  if (!accepted.ok()) return quick_mode_failed(sa, mid, accepted.error().message, now);
  for (const auto& p : message.payloads) {
    const auto* n = std::get_if<codec::Notification>(&p.body);
    if (!n || n->type != v1::NotifyType::responder_lifetime) continue;
    auto shorter = apply_responder_lifetime(*n, accepted->suite);
    if (!shorter.ok()) return quick_mode_failed(sa, mid, shorter.error().message, now);
    accepted->suite = *shorter;
    log::info("ike", sa.name() + " Quick Mode " + mid_text(mid) + ": RESPONDER-LIFETIME, the IPsec SA lives " +
                         lifetime_text(accepted->suite.life_seconds, accepted->suite.life_kilobytes));
  }
  qm.suite = accepted->suite;
  qm.spi_out = accepted->peer_spi;
  if (transport_through_nat(sa, *qm.child)) {
    const auto theirs = peer_nat_oa(message.payloads);
    log::info("ike", sa.name() + " Quick Mode " + mid_text(mid) + ": transport mode through a NAT, the peer's NAT-OA " +
                         (theirs.empty() ? std::string("missing") : theirs));
  }
  if (qm.dh) {
    if (!ke) return quick_mode_failed(sa, mid, "PFS offered but message 2 has no KE payload", now);
    auto g = qm.dh->shared_secret(ke->data);
    if (!g.ok()) return quick_mode_failed(sa, mid, g.error().message, now);
    qm.g_qm = std::move(*g);
  }
  if (!step(sa, qm, State::qm_resp_rcvd)) return;
  if (!install_ipsec_sa(sa, qm, now)) return quick_mode_failed(sa, mid, "the IPsec SAs could not be installed", now);
  if (!send_quick_mode(sa, qm, {}, false, now)) return;
  step(sa, qm, State::qm_done);
}

// --- Message 3 ----------------------------------------------------------------------

void Manager::quick_mode_request_3(IsakmpSa& sa, QuickMode& qm, const Opened& message, TimePoint now) {
  const auto prf = sa.suite->keys().prf;
  const auto& hash = std::get<codec::Hash>(message.payloads.front().body);
  auto want = corridor::ikev1::hash_3(prf, sa.keys->skeyid_a, qm.message_id, qm.ni_b, qm.nr_b);
  if (!want.ok() || want->size() != hash.data.size() ||
      CRYPTO_memcmp(want->data(), hash.data.data(), want->size()) != 0) {
    qm.last_received_datagram.clear();
    return drop("hash_mismatch", sa.name() + " Quick Mode " + mid_text(qm.message_id) + " message 3 with a wrong HASH(3)");
  }
  if (!install_ipsec_sa(sa, qm, now))
    return quick_mode_failed(sa, qm.message_id, "the IPsec SAs could not be installed", now);
  step(sa, qm, State::qm_done);
}

// --- Installing ---------------------------------------------------------------------

bool Manager::push_ipsec_keys(IsakmpSa& sa, QuickMode& qm) {
  const auto& suite = *qm.suite;
  const auto prf = sa.suite->keys().prf;
  auto size = suite.keymat_size();
  if (!size.ok()) return false;
  // QM initiator's and responder's nonces in that order for both SAs; the
  // SPI is the one the SA's receiver chose.
  const std::span<const std::uint8_t> g(qm.g_qm.data(), qm.g_qm.size());
  auto in = corridor::ikev1::keymat(prf, sa.keys->skeyid_d, g, suite.protocol, spi_bytes(qm.spi_in), qm.ni_b, qm.nr_b, *size);
  auto out = corridor::ikev1::keymat(prf, sa.keys->skeyid_d, g, suite.protocol, spi_bytes(qm.spi_out), qm.ni_b, qm.nr_b, *size);
  if (!in.ok() || !out.ok()) return false;
  const auto cs = suite.child_suite();
  const std::size_t enc = *size - (cs.integrity ? *corridor::ike::integrity_key_size(cs.integrity) : 0);
  const std::span<const std::uint8_t> in_v(in->data(), in->size()), out_v(out->data(), out->size());

  ike::ChildSaParams params;
  params.child = qm.child;
  params.ah = suite.protocol == v1::ProtocolId::ah;
  params.encap = suite.udp_encapsulated() || sa.connection->encap;
  params.local = sa.local;
  params.remote = sa.remote;
  params.encryption = cs.encryption;
  params.key_bits = cs.key_bits;
  params.integrity = cs.integrity;
  params.esn = suite.esn;
  // A peer's absurd kilobyte count must not wrap into a tiny limit.
  params.life_bytes = suite.life_kilobytes > UINT64_MAX / 1024 ? 0 : suite.life_kilobytes * 1024;
  params.spi_in = qm.spi_in;
  params.spi_out = qm.spi_out;
  params.sa_id_out = ++next_channel_id_;
  params.sa_id_in = ++next_channel_id_;
  std::string why;
  auto records = ike::child_sa_records(
      params, {in_v.first(enc), in_v.subspan(enc), out_v.first(enc), out_v.subspan(enc)}, &why);
  if (!records) {
    log::warning("ike", sa.name() + " IPsec SA " + qm.child->name + ": " + why);
    return false;
  }
  if (!sink_.set_sa(records->first) || !sink_.set_sa(records->second)) {
    sink_.remove_sa(params.sa_id_in);
    sink_.remove_sa(params.sa_id_out);
    log::warning("ike", sa.name() + " IPsec SA " + qm.child->name + " refused by the SA channel");
    return false;
  }
  qm.sa_id_in = params.sa_id_in;
  qm.sa_id_out = params.sa_id_out;
  return true;
}

void Manager::abandon(QuickMode& qm) {
  if (qm.state == State::qm_done) return;  // its SPI and SAs belong to an IpsecSa now
  spis_->release(qm.spi_in);
  if (qm.sa_id_in != 0) {
    sink_.remove_sa(qm.sa_id_in);
    sink_.remove_sa(qm.sa_id_out);
    sink_.flush();
    qm.sa_id_in = qm.sa_id_out = 0;
  }
}

bool Manager::install_ipsec_sa(IsakmpSa& sa, QuickMode& qm, TimePoint now) {
  if (qm.sa_id_in == 0 && !push_ipsec_keys(sa, qm)) return false;
  const auto& suite = *qm.suite;
  IpsecSa ipsec;
  ipsec.name = qm.child->name;
  ipsec.child = qm.child;
  ipsec.spi_in = qm.spi_in;
  ipsec.spi_out = qm.spi_out;
  ipsec.suite = suite;
  ipsec.encap = suite.udp_encapsulated() || sa.connection->encap;
  ipsec.local_ts = qm.local_ts;
  ipsec.remote_ts = qm.remote_ts;
  ipsec.installed_at = now;
  ipsec.sa_id_in = qm.sa_id_in;
  ipsec.sa_id_out = qm.sa_id_out;
  ipsec.installed_seq = qm.known_seq ? qm.known_seq : ++install_seq_;
  ipsec.initiated = qm.role == Role::initiator;
  ipsec.lowest_nonce = std::min(qm.ni_b, qm.nr_b, nonce_less);
  // The pair this one renews: ours by SPI when we rekeyed, else an
  // installed pair of the same child and selectors (the peer rekeyed).
  IpsecSa* predecessor = nullptr;
  for (auto& old : sa.ipsec_sas) {
    if (old.retire_at || old.redundant || old.name != ipsec.name || !(old.local_ts == ipsec.local_ts) ||
        !(old.remote_ts == ipsec.remote_ts))
      continue;
    if (!predecessor || old.spi_in == qm.rekeys_spi_in) predecessor = &old;
  }
  // A pair the peer knew of only after this Quick Mode began (installed by
  // us as initiator, or answered with message 2 as responder) is not what
  // it renews:
  // both ends renewed the same pair at once, and each now holds both new
  // pairs. Both ends must keep the same one. As RFC 7296 §2.8.1 settles
  // it for IKEv2: the pair with the lowest of the four nonces is redundant,
  // carries no traffic and is deleted by whoever initiated it.
  IpsecSa* redundant = nullptr;
  if (predecessor && predecessor->installed_seq > qm.begun_seq) {
    ++stats_.ipsec_rekey_collisions;
    const bool this_one = nonce_less(ipsec.lowest_nonce, predecessor->lowest_nonce);
    redundant = this_one ? &ipsec : predecessor;
    log::info("ike", sa.name() + " IPsec SA " + ipsec.name + ": both ends renewed it at once; keeping " +
                         hex32(this_one ? predecessor->spi_in : ipsec.spi_in) + "_i, " +
                         hex32(redundant->spi_in) + "_i (lowest nonce) goes" +
                         (redundant->initiated ? ", deleted by us" : ", the peer deletes it"));
    if (this_one) predecessor = nullptr;  // the kept pair keeps the traffic
  }
  auto same_selectors = [](const channel::PolicyRecord& a, const channel::PolicyRecord& b) {
    return a.src == b.src && a.dst == b.dst && a.ip_protocol == b.ip_protocol && a.src_ports == b.src_ports &&
           a.dst_ports == b.dst_ports;
  };
  for (auto& pair : ike::child_policies({qm.local_ts}, {qm.remote_ts}, ipsec.sa_id_in, ipsec.sa_id_out)) {
    pair.in.policy_id = ++next_channel_id_;
    if (sink_.set_policy(pair.in)) ipsec.inbound_policy_ids.push_back(pair.in.policy_id);
    if (redundant == &ipsec) continue;  // receives what the peer still sends on it, sends nothing
    // Make-before-break: the predecessor's outbound policy of the same
    // selectors (same id) now points at the new SA.
    if (predecessor) {
      auto& old = predecessor->outbound_policies;
      const auto it = std::find_if(old.begin(), old.end(), [&](const auto& p) { return same_selectors(p, pair.out); });
      if (it != old.end()) {
        pair.out.policy_id = it->policy_id;
        old.erase(it);
      }
    }
    if (pair.out.policy_id == 0) pair.out.policy_id = ++next_channel_id_;
    if (sink_.set_policy(pair.out)) ipsec.outbound_policies.push_back(pair.out);
  }
  // Lifetimes: the agreed one (the shorter of ours and the peer's) or the
  // child's; the rekey comes before it by the child's rekey_time, less a
  // random part of rand_time (at most half) so that both ends rarely
  // rekey at once.
  const auto& cc = *qm.child;
  const std::chrono::seconds life(suite.life_seconds ? suite.life_seconds : cc.life_time.count());
  if (life.count() > 0) ipsec.expire_at = now + life;
  if (cc.rekey_time.count() > 0) {
    const auto spread = std::chrono::duration_cast<std::chrono::milliseconds>(std::min(cc.rand_time, cc.rekey_time / 2));
    std::array<std::uint8_t, 4> r{};
    options_.random(r);
    const auto draw = (std::uint32_t{r[0]} << 24 | std::uint32_t{r[1]} << 16 | std::uint32_t{r[2]} << 8 | r[3]) %
                      (static_cast<std::uint64_t>(spread.count()) + 1);
    ipsec.rekey_at = std::min(now + cc.rekey_time - std::chrono::milliseconds(draw), ipsec.expire_at);
    // A lifetime (the peer's, by its offer or RESPONDER-LIFETIME) shorter
    // than rekey_time: renew at nine tenths of it, not as it ends.
    if (life.count() > 0 && life <= cc.rekey_time) ipsec.rekey_at = now + life * 9 / 10;
  }
  std::uint32_t renews_spi_in = 0;  // the pair this one renews, for the child-rekey event
  if (redundant) {
    redundant->redundant = true;
    redundant->rekey_at = TimePoint::max();
    if (redundant->initiated) redundant->retire_at = now + options_.retire_delay;
  } else if (predecessor) {
    predecessor->retire_at = now + options_.retire_delay;
    predecessor->renewed = true;
    renews_spi_in = predecessor->spi_in;
    ++stats_.ipsec_sas_rekeyed;
    log::info("ike", sa.name() + " IPsec SA " + predecessor->name + " " + hex32(predecessor->spi_in) + "_i renewed by " +
                         hex32(ipsec.spi_in) + "_i; the old pair goes in " +
                         std::to_string(options_.retire_delay.count()) + " s");
  }
  sink_.flush();
  ++stats_.ipsec_sas_installed;
  log::info("ike", "IPsec SA " + ipsec.name + " of " + sa.name() + " established with SPIs " + hex32(ipsec.spi_in) +
                       "_i " + hex32(ipsec.spi_out) + "_o and TS " + ipsec.local_ts.to_string() + " === " +
                       ipsec.remote_ts.to_string() + " (" + suite.to_string() +
                       (ipsec.encap ? ", UDP-encapsulated" : "") + ", QM_DONE)");
  sa.ipsec_sas.push_back(std::move(ipsec));
  if (renews_spi_in) emit(ike::SaEvent::Kind::child_rekey, sa, &sa.ipsec_sas.back(), 0, renews_spi_in);
  else emit(ike::SaEvent::Kind::child_up, sa, &sa.ipsec_sas.back());
  return true;
}

void Manager::tick_quick_modes(IsakmpSa& sa, TimePoint now) {
  std::vector<std::uint32_t> failed, finished;
  for (auto& [mid, qm] : sa.quick_modes) {
    if (qm.state == State::qm_done) {
      if (now - qm.started_at >= options_.quick_mode_linger) finished.push_back(mid);
      continue;
    }
    if (now - qm.started_at >= options_.phase1_timeout) {
      failed.push_back(mid);
      continue;
    }
    auto& last = qm.last_sent;
    if (last.next_retransmit > now) continue;
    if (last.retransmits >= options_.retransmit_tries) {
      failed.push_back(mid);
      continue;
    }
    ++last.retransmits;
    ++stats_.retransmitted;
    send_datagram(sa, last.datagram);
    const auto backoff = std::chrono::duration<double, std::milli>(options_.retransmit_timeout) *
                         std::pow(options_.retransmit_base, static_cast<double>(last.retransmits));
    last.next_retransmit = now + std::chrono::duration_cast<Clock::duration>(backoff);
  }
  for (auto mid : finished) sa.quick_modes.erase(mid);
  for (auto mid : failed) quick_mode_failed(sa, mid, "no answer in time", now);
}

void Manager::tick_ipsec_sas(IsakmpSa& sa, TimePoint now) {
  std::vector<std::uint32_t> gone;
  std::vector<const config::ChildConfig*> renew;
  std::vector<std::uint32_t> renew_spi;
  for (auto& ipsec : sa.ipsec_sas) {
    if (ipsec.retire_at && now >= *ipsec.retire_at) {
      gone.push_back(ipsec.spi_in);
    } else if (now >= ipsec.expire_at) {
      ++stats_.ipsec_sas_expired;
      log::warning("ike", sa.name() + " IPsec SA " + ipsec.name + " " + hex32(ipsec.spi_in) +
                              "_i reached its lifetime without being renewed");
      gone.push_back(ipsec.spi_in);
    } else if (now >= ipsec.rekey_at && !ipsec.rekey_started && !ipsec.retire_at && ipsec.child &&
               phase1_established(sa.state)) {
      ipsec.rekey_started = true;
      renew.push_back(ipsec.child);
      renew_spi.push_back(ipsec.spi_in);
    }
  }
  for (std::size_t i = 0; i < renew.size(); ++i) {
    if (start_quick_mode(sa, *renew[i], now, renew_spi[i])) continue;
    for (auto& ipsec : sa.ipsec_sas)  // tried again at the next tick
      if (ipsec.spi_in == renew_spi[i]) ipsec.rekey_started = false;
  }
  delete_ipsec_sas(sa, gone, now);
}

bool Manager::lifetime_reached(std::uint64_t channel_sa_id, bool hard, TimePoint now) {
  for (auto& [id, owned] : sas_) {
    IsakmpSa& sa = *owned;
    for (auto& ipsec : sa.ipsec_sas) {
      if (ipsec.sa_id_in != channel_sa_id && ipsec.sa_id_out != channel_sa_id) continue;
      if (hard) {
        // The dataplane has stopped the SA: it goes, and the peer is told.
        ++stats_.ipsec_sas_expired;
        log::warning("ike", sa.name() + " IPsec SA " + ipsec.name + " " + hex32(ipsec.spi_in) +
                                "_i reached its hard volume limit (life_bytes/life_packets), deleting it");
        delete_ipsec_sas(sa, {ipsec.spi_in}, now);
      } else {
        renew(sa, ipsec, "reached its soft volume limit (rekey_bytes/rekey_packets)", now);
      }
      return true;
    }
  }
  return false;
}

bool Manager::renew_ipsec_sa(std::uint64_t channel_sa_id, std::string_view reason, TimePoint now) {
  return renew_ipsec_sas({channel_sa_id}, reason, now).empty();
}

std::vector<std::uint64_t> Manager::renew_ipsec_sas(const std::vector<std::uint64_t>& channel_sa_ids,
                                                    std::string_view reason, TimePoint now) {
  std::unordered_set<std::uint64_t> wanted(channel_sa_ids.begin(), channel_sa_ids.end());
  std::unordered_set<std::uint64_t> found;
  // Collected first: a Quick Mode started for one may change the list.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> due;  // ISAKMP SA id, inbound SPI
  for (auto& [id, owned] : sas_) {
    for (const auto& ipsec : owned->ipsec_sas) {
      const bool in = wanted.count(ipsec.sa_id_in) != 0;
      const bool out = wanted.count(ipsec.sa_id_out) != 0;
      if (!in && !out) continue;
      if (in) found.insert(ipsec.sa_id_in);
      if (out) found.insert(ipsec.sa_id_out);
      due.emplace_back(id, ipsec.spi_in);
    }
  }
  for (const auto& [sa_id, spi_in] : due) {
    const auto it = sas_.find(sa_id);
    if (it == sas_.end()) continue;
    for (auto& ipsec : it->second->ipsec_sas) {
      if (ipsec.spi_in != spi_in) continue;
      renew(*it->second, ipsec, reason, now);
      break;
    }
  }
  std::vector<std::uint64_t> unknown;
  for (const auto id : channel_sa_ids)
    if (!found.count(id)) unknown.push_back(id);
  return unknown;
}

void Manager::renew(IsakmpSa& sa, IpsecSa& ipsec, std::string_view reason, TimePoint now) {
  if (ipsec.rekey_started || ipsec.retire_at || ipsec.redundant || !ipsec.child || !phase1_established(sa.state))
    return;
  log::info("ike", sa.name() + " IPsec SA " + ipsec.name + " " + hex32(ipsec.spi_in) + "_i " + std::string(reason) +
                       ", renewing it");
  ipsec.rekey_started = true;
  const auto spi = ipsec.spi_in;
  if (!start_quick_mode(sa, *ipsec.child, now, spi)) {
    for (auto& again : sa.ipsec_sas)
      if (again.spi_in == spi) again.rekey_started = false;
  }
}

void Manager::delete_ipsec_sas(IsakmpSa& sa, const std::vector<std::uint32_t>& gone, TimePoint now) {
  if (gone.empty()) return;
  std::vector<std::uint32_t> esp, ah;
  for (auto spi : gone) {
    const auto it = std::find_if(sa.ipsec_sas.begin(), sa.ipsec_sas.end(),
                                 [&](const IpsecSa& s) { return s.spi_in == spi; });
    if (it == sa.ipsec_sas.end()) continue;
    (it->suite.protocol == v1::ProtocolId::ah ? ah : esp).push_back(spi);
    log::info("ike", sa.name() + " deleting IPsec SA " + it->name + " (SPIs " + hex32(it->spi_in) + "_i " +
                         hex32(it->spi_out) + "_o)");
    uninstall(sa, *it);
    sa.ipsec_sas.erase(it);
  }
  if (phase1_established(sa.state)) {
    if (!esp.empty()) send_delete_ipsec(sa, v1::ProtocolId::esp, esp, now);
    if (!ah.empty()) send_delete_ipsec(sa, v1::ProtocolId::ah, ah, now);
  }
}

}  // namespace corridor::control::ikev1
