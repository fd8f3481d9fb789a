// The IKEv1 manager's core: the SA table, the checked state change,
// sending (clear and encrypted), receiving and dispatch, timers.
#include "control/ikev1/manager.h"

#include <openssl/rand.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <algorithm>

#include "common/log/log.h"
#include "control/ike/addresses.h"
#include "control/ike/identity.h"

namespace corridor::control::ikev1 {

using codec::Payload;
using v1::ExchangeType;
using v1::NotifyType;
using v1::PayloadType;

namespace {

bool is_zero(const Cookie& c) {
  for (auto b : c) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace

Manager::Manager(const config::Config& config, ike::Transport& transport, ike::ChildSaSink& sink,
                 ManagerOptions options)
    // Not owned: the aliasing constructor with no owner.
    : Manager(std::shared_ptr<const config::Config>(std::shared_ptr<const config::Config>(), &config), transport, sink,
              std::move(options)) {}

Manager::Manager(std::shared_ptr<const config::Config> config, ike::Transport& transport, ike::ChildSaSink& sink,
                 ManagerOptions options)
    : config_(std::move(config)), transport_(transport), sink_(sink), options_(std::move(options)) {
  next_channel_id_ = options_.first_channel_id;
  next_sa_id_ = options_.first_sa_id;
  spis_ = options_.spis ? options_.spis : std::make_shared<ike::SpiRegistry>();
  if (!options_.random) {
    options_.random = [](std::span<std::uint8_t> out) {
      if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
        log::error("ike", "RAND_bytes failed: no randomness for cookies and nonces");
        std::abort();
      }
    };
  }
}

Manager::~Manager() = default;

Bytes Manager::random_bytes(std::size_t n) {
  Bytes out(n);
  options_.random(out);
  return out;
}

void Manager::drop(std::string_view reason, std::string_view detail) {
  ++stats_.drops[std::string(reason)];
  log::debug("ike", "IKEv1 dropped (" + std::string(reason) + "): " + std::string(detail));
}

// --- The SA table ---------------------------------------------------------

IsakmpSa& Manager::create_sa(const config::ConnectionConfig* connection, Role role, TimePoint now) {
  auto sa = std::make_unique<IsakmpSa>();
  sa->id = ++next_sa_id_;
  sa->serial = sa->id - options_.first_sa_id;
  sa->connection = connection;
  sa->role = role;
  sa->created_at = now;
  sa->last_received = now;
  Cookie cookie{};
  do {
    options_.random(cookie);
  } while (is_zero(cookie) || by_our_cookie_.count(cookie) != 0);
  (role == Role::initiator ? sa->cookie_i : sa->cookie_r) = cookie;
  by_our_cookie_[cookie] = sa->id;
  auto& ref = *sa;
  sas_[sa->id] = std::move(sa);
  return ref;
}

void Manager::remove_sa(std::uint64_t id) {
  const auto it = sas_.find(id);
  if (it == sas_.end()) return;
  IsakmpSa& sa = *it->second;
  reassembly_bytes_ -= sa.reassembly.bytes();
  discard(sa);
  // Up once, down once; a re-established SA lives on in its successor.
  if (sa.established_at && !sa.superseded) emit(ike::SaEvent::Kind::ike_down, sa);
  by_our_cookie_.erase(sa.our_cookie());
  // By the key it was filed under: the peer may have floated to 4500 since.
  if (!sa.initiator()) by_peer_cookie_.erase({sa.cookie_i, sa.first_seen_from});
  sas_.erase(it);
}

void Manager::emit(ike::SaEvent::Kind kind, const IsakmpSa& sa, const IpsecSa* ipsec, std::uint64_t old_id,
                   std::uint32_t old_spi_in) {
  if (options_.on_event) options_.on_event(ike::make_sa_event(kind, sa, ipsec, old_id, old_spi_in));
}

IsakmpSa* Manager::find_sa(const codec::Header& h, const net::SocketAddress& remote) {
  // Ours is the responder cookie when we answered Main Mode 1, else the initiator cookie.
  for (const Cookie* ours : {&h.cookie_r, &h.cookie_i}) {
    if (is_zero(*ours)) continue;
    const auto it = by_our_cookie_.find(*ours);
    if (it == by_our_cookie_.end()) continue;
    IsakmpSa& sa = *sas_.at(it->second);
    const bool we_are_responder = ours == &h.cookie_r;
    if (we_are_responder != !sa.initiator()) continue;
    const Cookie& theirs = we_are_responder ? h.cookie_i : h.cookie_r;
    const Cookie& known = we_are_responder ? sa.cookie_i : sa.cookie_r;
    // The initiator learns the responder cookie from Main Mode 2.
    if (!is_zero(known) && theirs != known) continue;
    (void)remote;
    return &sa;
  }
  return nullptr;
}

bool Manager::transition(IsakmpSa& sa, State to) {
  if (!transition_allowed(sa.role, sa.state, to)) {
    log::error("ike", sa.name() + " refused state change " + std::string(to_string(sa.state)) + " -> " +
                          std::string(to_string(to)) + " (not in the " +
                          (sa.initiator() ? "initiator's" : "responder's") + " table)");
    return false;
  }
  log::info("ike", sa.name() + " " + std::string(to_string(sa.state)) + " -> " + std::string(to_string(to)));
  sa.state = to;
  return true;
}

void Manager::fail(IsakmpSa& sa, std::string_view why) {
  log::warning("ike", sa.name() + " Phase 1 with " + endpoint_text(sa.remote) + " failed in " +
                          std::string(to_string(sa.state)) + ": " + std::string(why));
  ++stats_.phase1_failed;
  // Main Mode's responder believes the ISAKMP SA is up once it has sent
  // message 6; when that message does not satisfy us (its certificate
  // revoked, an unexpected identity), Informationals under the new keys
  // tell it: AUTHENTICATION-FAILED, and a Delete of the ISAKMP SA in a
  // message of its own (strongSwan stops reading a message at an error
  // notification). No Delete when this Main Mode re-establishes an ISAKMP
  // SA: strongSwan has then moved the IPsec SAs over to the new one, and
  // would take them down with it.
  if (sa.initiator() && sa.state == State::mm_auth_sent && sa.keys && sa.cipher) {
    const auto now = Clock::now();
    codec::Notification n;
    n.type = v1::NotifyType::authentication_failed;
    n.spi = sa.cookie_pair();
    send_informational(sa, {Payload{PayloadType::notification, std::move(n)}}, now);
    if (sa.replaces == 0) {
      codec::Delete d;
      d.protocol = v1::ProtocolId::isakmp;
      d.spi_size = 16;
      d.spis.push_back(sa.cookie_pair());
      send_informational(sa, {Payload{PayloadType::delete_, std::move(d)}}, now);
    }
  }
  transition(sa, State::deleted);
  remove_sa(sa.id);
}

// --- Sending ----------------------------------------------------------------

void Manager::send_datagram(IsakmpSa& sa, const Bytes& datagram) {
  const auto policy = sa.connection->fragmentation;
  if (policy == config::Fragmentation::force || (policy == config::Fragmentation::yes && sa.peer_fragmentation)) {
    const bool port_4500 = sa.remote.port == options_.nat_t_port || sa.local.port == options_.nat_t_port;
    const auto pieces = fragment_datagram(datagram, max_datagram(!sa.remote.address.is_v4(), port_4500, options_.fragment_size),
                                          sa.aggressive ? ExchangeType::aggressive : ExchangeType::identity_protection);
    if (!pieces.empty()) {
      log::debug("ike", sa.name() + " sending a " + std::to_string(datagram.size()) + "-byte message in " +
                            std::to_string(pieces.size()) + " fragments");
      for (const auto& piece : pieces) transport_.send(sa.local, sa.remote, piece);
      stats_.fragments_sent += pieces.size();
      ++stats_.sent;
      return;
    }
  }
  transport_.send(sa.local, sa.remote, datagram);
  ++stats_.sent;
}

void Manager::fragment_received(const codec::ParsedHeader& header, const net::SocketAddress& local,
                                const net::SocketAddress& remote, std::span<const std::uint8_t> datagram,
                                TimePoint now) {
  const std::string from = endpoint_text(remote);
  IsakmpSa* sa = find_sa(header.header, remote);
  // A fragmented first message (no SA yet) is not joined: strongSwan sends
  // Main Mode 1 and Aggressive Mode 1 whole unless they exceed 1280 bytes.
  if (!sa) return drop("fragment_without_sa", "IKEv1 fragment for no SA of ours, from " + from);
  // Only the peer's address may add pieces (its port may float to 4500).
  if (remote.address != sa->remote.address)
    return drop("fragment_rejected", sa->name() + " fragment from " + from + ", not from the peer");
  std::string why;
  const auto fragment = parse_fragment(datagram, &why);
  if (!fragment) return drop("fragment_malformed", sa->name() + " " + why);
  ++stats_.fragments_received;
  const std::size_t held = sa->reassembly.bytes();
  if (reassembly_bytes_ + fragment->data.size() > kMaxReassemblyBudget) {
    reassembly_bytes_ -= held;
    sa->reassembly.take();  // drops this SA's pieces too: the peer resends the whole message
    return drop("fragment_budget", sa->name() + " unfinished fragments of all SAs exceed " +
                                       std::to_string(kMaxReassemblyBudget) + " bytes");
  }
  const auto result = sa->reassembly.add(*fragment, &why);
  reassembly_bytes_ = reassembly_bytes_ - held + sa->reassembly.bytes();
  switch (result) {
    case Reassembly::Result::incomplete: return;
    case Reassembly::Result::rejected: return drop("fragment_rejected", sa->name() + " " + why);
    case Reassembly::Result::complete: break;
  }
  reassembly_bytes_ -= sa->reassembly.bytes();
  const auto whole = sa->reassembly.take();
  const auto inner = codec::parse_header(whole);
  if (!inner.ok() || inner->header.cookie_i != header.header.cookie_i ||
      inner->header.cookie_r != header.header.cookie_r ||
      inner->first_payload == static_cast<PayloadType>(kFragmentPayload))
    return drop("fragment_rejected", sa->name() + " the fragments do not join into a message of this SA");
  ++stats_.messages_reassembled;
  log::debug("ike", sa->name() + " reassembled a " + std::to_string(whole.size()) + "-byte message from its fragments");
  --stats_.received;  // counted once, as the message it is
  receive(local, remote, whole, now);
}

bool Manager::send_clear(IsakmpSa& sa, std::vector<Payload> payloads, bool request, TimePoint now) {
  codec::Message m;
  m.header.cookie_i = sa.cookie_i;
  m.header.cookie_r = sa.cookie_r;
  m.header.exchange = sa.aggressive ? ExchangeType::aggressive : ExchangeType::identity_protection;
  m.payloads = std::move(payloads);
  auto bytes = codec::serialise_message(m);
  if (!bytes.ok()) {
    log::error("ike", sa.name() + " cannot serialise a message: " + bytes.error().message);
    return false;
  }
  sa.last_sent = LastSent{std::move(*bytes), now, request ? now + options_.retransmit_timeout : TimePoint::max(), 0};
  send_datagram(sa, sa.last_sent.datagram);
  return true;
}

bool Manager::send_encrypted(IsakmpSa& sa, ExchangeType exchange, std::uint32_t message_id,
                             corridor::ikev1::IvChain& chain, LastSent& last, const std::vector<Payload>& payloads,
                             bool request, TimePoint now) {
  auto plain = codec::serialise_payloads(payloads);
  if (!plain.ok() || !sa.cipher) {
    log::error("ike", sa.name() + " cannot build an encrypted message" +
                          (plain.ok() ? std::string(": no keys") : ": " + plain.error().message));
    return false;
  }
  auto ct = sa.cipher->encrypt(chain.iv(), *plain);
  if (!ct.ok()) {
    log::error("ike", sa.name() + " encryption failed: " + ct.error().message);
    return false;
  }
  codec::Header h;
  h.cookie_i = sa.cookie_i;
  h.cookie_r = sa.cookie_r;
  h.exchange = exchange;
  h.flags = v1::kFlagEncryption;
  h.message_id = message_id;
  const auto header = codec::serialise_header(h, payloads.front().type,
                                              static_cast<std::uint32_t>(codec::kHeaderSize + ct->size()));
  Bytes datagram(header.begin(), header.end());
  datagram.insert(datagram.end(), ct->begin(), ct->end());
  chain.advance(*ct);
  last = LastSent{std::move(datagram), now, request ? now + options_.retransmit_timeout : TimePoint::max(), 0};
  send_datagram(sa, last.datagram);
  return true;
}

void Manager::send_clear_notify(const codec::Header& about, const net::SocketAddress& local,
                                const net::SocketAddress& remote, NotifyType type) {
  codec::Message m;
  m.header.cookie_i = about.cookie_i;
  m.header.cookie_r = about.cookie_r;
  m.header.exchange = ExchangeType::informational;
  codec::Notification n;
  n.protocol = v1::ProtocolId::isakmp;
  n.type = type;
  n.spi.assign(about.cookie_i.begin(), about.cookie_i.end());
  n.spi.insert(n.spi.end(), about.cookie_r.begin(), about.cookie_r.end());
  m.payloads.push_back(Payload{PayloadType::notification, std::move(n)});
  auto bytes = codec::serialise_message(m);
  if (!bytes.ok()) return;
  ++stats_.notifies_sent[std::string(v1::notify_type_name(type))];
  transport_.send(local, remote, *bytes);
  ++stats_.sent;
}

// --- Receiving ----------------------------------------------------------------

std::optional<Manager::Opened> Manager::open(IsakmpSa& sa, const codec::ParsedHeader& header,
                                             std::span<const std::uint8_t> datagram,
                                             const corridor::ikev1::IvChain& chain) {
  if (!sa.cipher) {
    drop("no_keys", sa.name() + " encrypted message before keys exist");
    return std::nullopt;
  }
  const auto body = datagram.subspan(codec::kHeaderSize);
  auto plain = sa.cipher->decrypt(chain.iv(), body);
  if (!plain.ok()) {
    drop("undecryptable", sa.name() + " " + plain.error().message);
    return std::nullopt;
  }
  Opened out;
  out.plaintext = std::move(*plain);
  auto spans = codec::walk_payloads(header.first_payload, out.plaintext, true);
  auto payloads = codec::parse_payloads(header.first_payload, out.plaintext, true);
  if (!spans.ok() || !payloads.ok()) {
    // A wrong key (a PSK mismatch) decrypts to garbage that fails here.
    drop("malformed_encrypted", sa.name() + " " + (payloads.ok() ? spans.error().message : payloads.error().message) +
                                    " (after decryption: a pre-shared key mismatch looks like this)");
    return std::nullopt;
  }
  out.spans = std::move(*spans);
  out.payloads = std::move(*payloads);
  return out;
}

std::span<const std::uint8_t> Manager::after_hash(const Opened& message) {
  if (message.spans.empty()) return {};
  const auto& first = message.spans.front();
  const auto& last = message.spans.back();
  const auto from = first.offset + first.length;
  return std::span<const std::uint8_t>(message.plaintext).subspan(from, last.offset + last.length - from);
}

std::optional<corridor::ikev1::IvChain> Manager::phase2_chain(const IsakmpSa& sa, std::uint32_t message_id) {
  auto iv = corridor::ikev1::phase2_iv(sa.suite->keys().prf, sa.iv.iv(), message_id, sa.cipher->block_size());
  if (!iv.ok()) return std::nullopt;
  return corridor::ikev1::IvChain(std::move(*iv));
}

std::uint32_t Manager::random_message_id(const IsakmpSa& sa) {
  std::uint32_t id = 0;
  while (id == 0 || sa.quick_modes.count(id) != 0) {
    std::array<std::uint8_t, 4> b{};
    options_.random(b);
    id = std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
  }
  return id;
}

bool Manager::answered_before(IsakmpSa& sa, std::span<const std::uint8_t> datagram) {
  if (sa.last_received_datagram.size() != datagram.size() ||
      !std::equal(datagram.begin(), datagram.end(), sa.last_received_datagram.begin()))
    return false;
  // Our answer to it is the last message we sent, if we answered.
  if (!sa.last_sent.datagram.empty() && sa.last_sent.next_retransmit == TimePoint::max()) {
    ++stats_.duplicates;
    log::debug("ike", sa.name() + " repeated message, sending our answer again");
    send_datagram(sa, sa.last_sent.datagram);
  } else {
    drop("duplicate", sa.name() + " repeated message");
  }
  return true;
}

void Manager::receive(const net::SocketAddress& local, const net::SocketAddress& remote,
                      std::span<const std::uint8_t> datagram, TimePoint now) {
  ++stats_.received;
  const std::string from = endpoint_text(remote);
  auto header = codec::parse_header(datagram);
  if (!header.ok()) return drop("malformed", header.error().message + " (from " + from + ")");
  if (header->first_payload == static_cast<PayloadType>(kFragmentPayload))
    return fragment_received(*header, local, remote, datagram, now);
  const auto& h = header->header;
  if (h.exchange == ExchangeType::informational && !h.encrypted()) {
    // Unprotected notifications (before keys exist) are only logged: they
    // are not authenticated, so they must not change any state.
    auto m = codec::parse_message(datagram);
    if (m.ok()) {
      for (const auto& p : m->payloads) {
        if (const auto* n = std::get_if<codec::Notification>(&p.body)) {
          const std::string name(v1::notify_type_name(n->type));
          ++stats_.notifies_received[name];
          log::warning("ike", "IKEv1 notification " + name + " from " + from + " (unauthenticated)");
        }
      }
    }
    return;
  }
  if (h.exchange == ExchangeType::quick_mode || h.exchange == ExchangeType::informational) {
    IsakmpSa* sa = find_sa(h, remote);
    if (!sa) return drop("unknown_cookies", std::string(v1::exchange_type_name(h.exchange)) + " for no SA of ours, from " + from);
    if (!phase1_established(sa->state) || !h.encrypted())
      return drop("unexpected", sa->name() + " " + std::string(v1::exchange_type_name(h.exchange)) +
                                    (h.encrypted() ? " before Phase 1 is done" : " not encrypted"));
    if (h.exchange == ExchangeType::informational) return informational(*sa, *header, datagram, now);
    return quick_mode_message(*sa, *header, datagram, now);
  }
  if (h.exchange != ExchangeType::identity_protection && h.exchange != ExchangeType::aggressive)
    return drop("unsupported_exchange", std::string(v1::exchange_type_name(h.exchange)) + " from " + from);
  const bool aggressive = h.exchange == ExchangeType::aggressive;
  if (is_zero(h.cookie_r)) {
    // Main Mode message 1 (or a repeat of one we answered).
    const auto known = by_peer_cookie_.find({h.cookie_i, from});
    if (known != by_peer_cookie_.end() && sas_.count(known->second) != 0) {
      IsakmpSa& sa = *sas_.at(known->second);
      if (!answered_before(sa, datagram)) drop("unexpected", sa.name() + " a second, different Main Mode 1");
      return;
    }
    if (h.encrypted()) return drop("malformed", "encrypted Main Mode 1 from " + from);
    auto payloads = codec::parse_payloads(header->first_payload, datagram.subspan(codec::kHeaderSize), false);
    if (!payloads.ok()) {
      send_clear_notify(h, local, remote, codec::notify_for(payloads.error()));
      return drop("malformed", payloads.error().message + " (from " + from + ")");
    }
    if (aggressive)
      return aggressive_request_1(*header, *payloads, datagram.subspan(codec::kHeaderSize), local, remote, now);
    return main_mode_request_1(*header, *payloads, datagram.subspan(codec::kHeaderSize), local, remote, now);
  }
  IsakmpSa* sa = find_sa(h, remote);
  if (!sa) return drop("unknown_cookies", "Main Mode message for no SA of ours, from " + from);
  if (answered_before(*sa, datagram)) return;
  sa->last_received = now;

  if (aggressive != sa->aggressive)
    return drop("unexpected", sa->name() + " " + std::string(v1::exchange_type_name(h.exchange)) +
                                  " message for an SA of the other mode");
  const State s = sa->state;
  if (aggressive) {
    if (s == State::am_resp_sent && !sa->initiator()) return aggressive_request_3(*sa, *header, datagram, local, remote, now);
    if (s == State::am_init_sent && sa->initiator() && !h.encrypted()) {
      auto payloads = codec::parse_payloads(header->first_payload, datagram.subspan(codec::kHeaderSize), false);
      if (!payloads.ok()) return drop("malformed", sa->name() + " " + payloads.error().message);
      sa->last_received_datagram.assign(datagram.begin(), datagram.end());
      return aggressive_response_2(*sa, *header, datagram.subspan(codec::kHeaderSize), *payloads, now);
    }
    return drop("unexpected", sa->name() + " Aggressive Mode message in " + std::string(to_string(s)));
  }
  if (h.encrypted()) {
    if (s == State::mm_ke_sent && !sa->initiator()) return main_mode_request_5(*sa, *header, datagram, local, remote, now);
    if (s == State::mm_auth_sent && sa->initiator()) return main_mode_response_6(*sa, *header, datagram, now);
    return drop("unexpected", sa->name() + " encrypted Main Mode message in " + std::string(to_string(s)));
  }
  auto payloads = codec::parse_payloads(header->first_payload, datagram.subspan(codec::kHeaderSize), false);
  if (!payloads.ok()) return drop("malformed", sa->name() + " " + payloads.error().message);
  sa->last_received_datagram.assign(datagram.begin(), datagram.end());
  if (s == State::mm_sa_sent && sa->initiator()) return main_mode_response_2(*sa, *header, *payloads, now);
  if (s == State::mm_sa_sent && !sa->initiator()) return main_mode_request_3(*sa, *payloads, now);
  if (s == State::mm_ke_sent && sa->initiator()) return main_mode_response_4(*sa, *payloads, now);
  drop("unexpected", sa->name() + " clear Main Mode message in " + std::string(to_string(s)));
}

// --- Operator actions and timers --------------------------------------------------

bool Manager::child_active(std::string_view connection, std::string_view child) const {
  const auto same = [&](const config::ChildConfig* c) { return c && c->name == child; };
  for (const auto& [id, owned] : sas_) {
    const IsakmpSa& sa = *owned;
    if (!sa.connection || sa.connection->name != connection || sa.state == State::deleted) continue;
    // A retiring pair is on its way out (its successor, if any, counts); a
    // finished Quick Mode stays in the map only to answer retransmissions.
    if (std::any_of(sa.ipsec_sas.begin(), sa.ipsec_sas.end(),
                    [&](const IpsecSa& s) { return same(s.child) && !s.retire_at; }) ||
        std::any_of(sa.quick_modes.begin(), sa.quick_modes.end(),
                    [&](const auto& qm) { return same(qm.second.child) && qm.second.state != State::qm_done; }) ||
        std::any_of(sa.pending_children.begin(), sa.pending_children.end(), same))
      return true;
  }
  return false;
}

bool Manager::initiate(std::string_view connection, std::string_view child, TimePoint now, std::string* why) {
  auto refuse = [&](std::string text) {
    log::warning("ike", "cannot initiate " + std::string(connection) + ": " + text);
    if (why) *why = std::move(text);
    return false;
  };
  const auto* conn = config_->find_connection(connection);
  if (stopping_) return refuse("shutting down");
  if (!conn) return refuse("no such connection");
  if (conn->version != 1) return refuse("not an IKEv1 connection (version 1)");
  if (std::string reason; !phase1_method(*conn, &reason)) return refuse(reason);
  const config::ChildConfig* child_config = nullptr;
  for (const auto& c : conn->children) {
    if (child.empty() || c.name == child) {
      child_config = &c;
      break;
    }
  }
  if (!child_config) return refuse(child.empty() ? "it has no children" : "no child '" + std::string(child) + "'");
  // A connection keeps one ISAKMP SA: Quick Modes run over its newest
  // established one (an older one may linger while it is re-established),
  // or wait for the one we are negotiating.
  IsakmpSa* established = nullptr;
  IsakmpSa* negotiating = nullptr;
  for (auto& [id, existing] : sas_) {
    if (existing->connection != conn || existing->state == State::deleted) continue;
    if (phase1_established(existing->state) && !existing->superseded) established = existing.get();
    else if (!phase1_established(existing->state) && existing->initiator() && existing->replaces == 0 && !negotiating)
      negotiating = existing.get();
  }
  if (established) return start_quick_mode(*established, *child_config, now);
  if (negotiating) {
    negotiating->pending_children.push_back(child_config);
    return true;
  }
  std::string no_endpoints;
  const auto endpoints = ike::initiator_endpoints(*conn, transport_, &no_endpoints);
  if (!endpoints) return refuse(no_endpoints);
  IsakmpSa& sa = create_sa(conn, Role::initiator, now);
  sa.local = endpoints->local;
  sa.remote = endpoints->remote;
  sa.pending_children.push_back(child_config);
  if (conn->aggressive) {
    sa.state = State::am_idle;
    if (!start_aggressive_mode(sa, now)) {
      remove_sa(sa.id);
      return refuse("Aggressive Mode could not start (see the log)");
    }
    return true;
  }
  if (!start_main_mode(sa, now)) {
    remove_sa(sa.id);
    return refuse("Main Mode could not start (see the log)");
  }
  return true;
}

void Manager::start(TimePoint now) {
  for (const auto& conn : config_->connections) {
    if (conn.version != 1) continue;
    for (const auto& child : conn.children)
      if (child.start_action == config::Action::start) initiate(conn.name, child.name, now);
  }
}

std::size_t Manager::reconfigure(std::shared_ptr<const config::Config> next, const std::vector<std::string>& unchanged,
                                 TimePoint now) {
  const auto kept = [&](const std::string& name) {
    return std::find(unchanged.begin(), unchanged.end(), name) != unchanged.end();
  };
  std::size_t deleted = 0;
  std::vector<std::uint64_t> ids;
  for (const auto& [id, sa] : sas_) ids.push_back(id);
  for (auto id : ids) {
    IsakmpSa& sa = *sas_.at(id);
    const auto* conn = sa.connection ? next->find_connection(sa.connection->name) : nullptr;
    if (conn && kept(conn->name)) {
      // The same connection in the new config: point everything at its copy.
      auto child_named = [&](const config::ChildConfig* old) -> const config::ChildConfig* {
        if (!old) return nullptr;
        for (const auto& c : conn->children)
          if (c.name == old->name) return &c;
        return nullptr;
      };
      sa.connection = conn;
      for (auto& c : sa.pending_children) c = child_named(c);
      sa.pending_children.erase(std::remove(sa.pending_children.begin(), sa.pending_children.end(), nullptr),
                                sa.pending_children.end());
      for (auto& [mid, qm] : sa.quick_modes) qm.child = child_named(qm.child);
      for (auto& ipsec : sa.ipsec_sas) ipsec.child = child_named(ipsec.child);
      continue;
    }
    delete_sa(sa, now, conn ? "its connection changed" : "its connection was removed");
    ++deleted;
  }
  const auto previous = config_;
  config_ = std::move(next);
  credentials_.clear();  // keyed by the old config's connections; files are read again
  for (const auto& conn : config_->connections) {
    if (conn.version != 1 || kept(conn.name)) continue;
    for (const auto& child : conn.children) {
      if (child.start_action != config::Action::start) continue;
      log::info("ike", std::string(previous->find_connection(conn.name) ? "changed" : "new") + " IKEv1 connection " +
                           conn.name + ": starting " + child.name + " (start_action start)");
      initiate(conn.name, child.name, now);
    }
  }
  return deleted;
}

void Manager::tick(TimePoint now) {
  std::vector<std::uint64_t> expired;
  std::vector<std::uint64_t> ended;  // established SAs at the end of their lifetime
  std::vector<std::uint64_t> dead;   // DPD found no peer
  for (auto& [id, sa_ptr] : sas_) {
    IsakmpSa& sa = *sa_ptr;
    tick_quick_modes(sa, now);
    tick_ipsec_sas(sa, now);
    tick_lifetime(sa, now, ended);
    if (tick_dpd(sa, now)) dead.push_back(id);
    if (sa.nat_local && phase1_established(sa.state) && !sa.superseded && now >= sa.next_keepalive) {
      transport_.send_nat_keepalive(sa.local, sa.remote);
      ++stats_.nat_keepalives;
      sa.next_keepalive = now + options_.keepalive_interval;
    }
    if (!phase1_established(sa.state) && now - sa.created_at >= options_.phase1_timeout) {
      expired.push_back(id);
      continue;
    }
    auto& last = sa.last_sent;
    if (last.next_retransmit > now) continue;
    if (last.retransmits >= options_.retransmit_tries) {
      expired.push_back(id);
      continue;
    }
    ++last.retransmits;
    ++stats_.retransmitted;
    log::info("ike", sa.name() + " retransmit " + std::to_string(last.retransmits) + " of the message sent in " +
                         std::string(to_string(sa.state)));
    send_datagram(sa, last.datagram);
    const auto backoff = std::chrono::duration<double, std::milli>(options_.retransmit_timeout) *
                         std::pow(options_.retransmit_base, static_cast<double>(last.retransmits));
    last.next_retransmit = now + std::chrono::duration_cast<Clock::duration>(backoff);
  }
  for (auto id : expired) {
    const auto it = sas_.find(id);
    if (it == sas_.end()) continue;
    fail(*it->second, it->second->last_sent.retransmits >= options_.retransmit_tries
                          ? "no answer after " + std::to_string(options_.retransmit_tries) + " retransmissions"
                          : "not established within " + std::to_string(options_.phase1_timeout.count()) + " s");
  }
  for (auto id : dead) {
    const auto it = sas_.find(id);
    if (it != sas_.end()) peer_dead(*it->second, now);
  }
  for (auto id : ended) {
    const auto it = sas_.find(id);
    if (it == sas_.end()) continue;
    ++stats_.phase1_expired;
    delete_sa(*it->second, now, it->second->superseded ? "its lifetime ended; a newer ISAKMP SA holds its IPsec SAs"
                                                       : "its lifetime ended without re-establishment");
  }
}

IsakmpSaView Manager::view(const IsakmpSa& sa) const {
  IsakmpSaView v;
  v.id = sa.id;
  v.name = sa.name();
  v.connection = sa.connection ? sa.connection->name : "";
  v.state = std::string(to_string(sa.state));
  v.initiator = sa.initiator();
  v.local = sa.local;
  v.remote = sa.remote;
  v.cookie_i = hex(sa.cookie_i);
  v.cookie_r = hex(sa.cookie_r);
  if (sa.suite) v.proposal = sa.suite->to_string();
  v.local_id = sa.local_id;
  v.remote_id = sa.remote_id;
  v.nat_local = sa.nat_local;
  v.nat_remote = sa.nat_remote;
  v.created_at = sa.created_at;
  v.established_at = sa.established_at;
  v.last_received = sa.last_received;
  v.reestablish_at = sa.replacement != 0 ? TimePoint::max() : sa.reestablish_at;
  v.expire_at = sa.expire_at;
  v.superseded = sa.superseded;
  if (sa.connection) v.dpd_delay = sa.connection->dpd_delay;
  if (sa.dpd_last_sent != TimePoint{}) v.dpd_last_sent = sa.dpd_last_sent;
  v.dpd_last_acked = sa.dpd_last_acked;
  for (const auto& ipsec : sa.ipsec_sas) {
    IpsecSaView c;
    c.name = ipsec.name;
    c.state = ipsec.retire_at || ipsec.redundant ? "REKEYED" : "QM_DONE";
    c.protocol = ipsec.suite.protocol == v1::ProtocolId::ah ? "AH" : "ESP";
    c.mode = ipsec.suite.tunnel() ? "TUNNEL" : "TRANSPORT";
    c.spi_in = ipsec.spi_in;
    c.spi_out = ipsec.spi_out;
    c.sa_id_in = ipsec.sa_id_in;
    c.sa_id_out = ipsec.sa_id_out;
    c.proposal = ipsec.suite.to_string();
    if (ipsec.suite.group != iana::KeId::none)
      c.pfs_group = std::string(iana::transform_name(iana::TransformType::key_exchange,
                                                     static_cast<std::uint16_t>(ipsec.suite.group)));
    c.esn = ipsec.suite.esn;
    c.encap = ipsec.encap;
    c.local_ts = {ipsec.local_ts.to_string()};
    c.remote_ts = {ipsec.remote_ts.to_string()};
    c.installed_at = ipsec.installed_at;
    c.rekey_at = ipsec.rekey_started || ipsec.retire_at ? TimePoint::max() : ipsec.rekey_at;
    c.expire_at = ipsec.retire_at ? *ipsec.retire_at : ipsec.expire_at;
    v.children.push_back(std::move(c));
  }
  for (const auto& [mid, qm] : sa.quick_modes) {
    if (qm.state == State::qm_done) continue;
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", mid);
    v.quick_modes.push_back(std::string(to_string(qm.state)) + " " + buf);
  }
  return v;
}

std::vector<IsakmpSaView> Manager::list() const {
  std::vector<IsakmpSaView> out;
  for (const auto& [id, sa] : sas_) out.push_back(view(*sa));
  return out;
}

std::vector<IsakmpSaView> Manager::list(std::uint64_t after_id, std::size_t limit, std::string_view connection,
                                        std::string_view state, bool* more) const {
  std::vector<IsakmpSaView> out;
  *more = false;
  for (auto it = sas_.upper_bound(after_id); it != sas_.end(); ++it) {
    const IsakmpSa& sa = *it->second;
    if (!connection.empty() && (!sa.connection || sa.connection->name != connection)) continue;
    if (!state.empty() && to_string(sa.state) != state) continue;
    if (out.size() == limit) {
      *more = true;
      break;
    }
    out.push_back(view(sa));
  }
  return out;
}

std::optional<IsakmpSaView> Manager::find(std::uint64_t id) const {
  const auto it = sas_.find(id);
  if (it == sas_.end()) return std::nullopt;
  return view(*it->second);
}

bool Manager::terminate(std::uint64_t id, TimePoint now, std::string* why) {
  const auto it = sas_.find(id);
  if (it == sas_.end()) {
    if (why) *why = "no ISAKMP SA " + std::to_string(id);
    return false;
  }
  delete_sa(*it->second, now, "terminated by the operator");
  return true;
}

void Manager::visit_channel_ids(const std::function<void(std::uint64_t, const std::string&)>& visit) const {
  for (const auto& [id, sa] : sas_) {
    if (!sa->connection) continue;
    for (const auto& ipsec : sa->ipsec_sas) {
      visit(ipsec.sa_id_in, sa->connection->name);
      visit(ipsec.sa_id_out, sa->connection->name);
    }
  }
}

}  // namespace corridor::control::ikev1
