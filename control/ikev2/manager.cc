// The SA table, datagram dispatch, sending and timers of the IKEv2 manager.
// The exchanges themselves are in ike_sa_init.cc, ike_auth.cc,
// informational.cc; Child SA installation in child_sa.cc.
#include "control/ikev2/manager.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cmath>

#include "common/ike/payload_rules.h"
#include "common/log/log.h"
#include "control/ike/addresses.h"

namespace corridor::control::ikev2 {

using codec::Payload;
using iana::ExchangeType;
using iana::PayloadType;

namespace {

// How long a rekey responder waits for the old Child SA's Delete before it
// moves the outbound traffic to the new SA anyway.
constexpr auto kTakeoverTimeout = std::chrono::seconds(10);
// How long a REKEYED IKE SA waits for the peer's Delete (the old SA of a
// rekey the peer made, or a redundant one of a simultaneous rekey, §2.8.2)
// before it goes without one: its Child SAs moved on already, and a peer
// that lost the message, or never made the SA, would leave it forever.
constexpr auto kRekeyedTimeout = std::chrono::seconds(30);

std::vector<PayloadType> types_of(const std::vector<Payload>& payloads) {
  std::vector<PayloadType> out;
  out.reserve(payloads.size());
  for (const auto& p : payloads) out.push_back(p.type);
  return out;
}

}  // namespace

namespace {

// The secrets of the cookie jar, drawn through the options' randomness.
std::array<std::uint8_t, 32> fresh_secret(const std::function<void(std::span<std::uint8_t>)>& random) {
  std::array<std::uint8_t, 32> s{};
  random(s);
  return s;
}

}  // namespace

Manager::Manager(const config::Config& config, Transport& transport, ChildSaSink& sink, ManagerOptions options)
    // Not owned: the aliasing constructor with no owner.
    : Manager(std::shared_ptr<const config::Config>(std::shared_ptr<const config::Config>(), &config), transport, sink,
              std::move(options)) {}

Manager::Manager(std::shared_ptr<const config::Config> config, Transport& transport, ChildSaSink& sink,
                 ManagerOptions options)
    : config_(std::move(config)),
      transport_(transport),
      sink_(sink),
      options_(std::move(options)),
      cookies_(std::array<std::uint8_t, 32>{}) {
  child_spis_ = options_.spis ? options_.spis : std::make_shared<corridor::control::ike::SpiRegistry>();
  next_channel_id_ = options_.first_channel_id;
  if (!options_.random) {
    options_.random = [](std::span<std::uint8_t> out) {
      if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
        // OpenSSL's DRBG does not fail once seeded; if it ever does, an SPI
        // or nonce of zeros would be a silent disaster, so stop here.
        log::error("ike", "RAND_bytes failed: no randomness for SPIs and nonces");
        std::abort();
      }
    };
  }
  cookies_ = CookieJar(fresh_secret(options_.random));
}

void Manager::count_half_open(IkeSa& sa, bool on) {
  if (sa.half_open_counted == on) return;
  sa.half_open_counted = on;
  if (on) {
    ++half_open_;
    ++half_open_by_ip_[sa.remote.address];
    return;
  }
  --half_open_;
  const auto it = half_open_by_ip_.find(sa.remote.address);
  if (it != half_open_by_ip_.end() && --it->second == 0) half_open_by_ip_.erase(it);
}

Manager::~Manager() = default;

// --- The SA table ----------------------------------------------------------

Spi Manager::unused_spi() {
  Spi spi;
  do {
    spi = random_spi();
  } while (is_zero(spi) || by_local_spi_.count(spi));
  return spi;
}

IkeSa& Manager::create_sa(const config::ConnectionConfig* connection, bool initiator, TimePoint now,
                          std::optional<Spi> reserved) {
  auto sa = std::make_unique<IkeSa>();
  sa->id = ++next_sa_id_;
  sa->connection = connection;
  sa->config_hold = config_;
  sa->initiator = initiator;
  sa->created_at = now;
  sa->last_received = now;
  const Spi spi = reserved ? *reserved : unused_spi();
  (initiator ? sa->spi_i : sa->spi_r) = spi;
  by_local_spi_[spi] = sa->id;
  auto& ref = *sa;
  sas_[sa->id] = std::move(sa);
  return ref;
}

IkeSa* Manager::find_by_local_spi(const Spi& spi) {
  const auto it = by_local_spi_.find(spi);
  if (it == by_local_spi_.end()) return nullptr;
  const auto sa = sas_.find(it->second);
  return sa == sas_.end() ? nullptr : sa->second.get();
}

void Manager::remove_sa(std::uint64_t id) {
  const auto it = sas_.find(id);
  if (it == sas_.end()) return;
  IkeSa& sa = *it->second;
  count_half_open(sa, false);
  uninstall_children(sa);
  if (sa.pending_child) release_child_spi(sa.pending_child->spi_in);
  if (sa.pending_create && sa.pending_create->kind == PendingCreate::Kind::child)
    release_child_spi(sa.pending_create->child.spi_in);
  by_local_spi_.erase(sa.local_spi());
  if (sa.remote_id) {
    const auto [first, last] = by_peer_identity_.equal_range({sa.connection, sa.remote_id->to_string()});
    for (auto i = first; i != last; ++i) {
      if (i->second != sa.id) continue;
      by_peer_identity_.erase(i);
      break;
    }
  }
  if (!sa.initiator) by_initiator_spi_.erase({sa.spi_i, endpoint_text(sa.remote)});
  // Up once, down once; a rekeyed IKE SA lives on in its successor.
  if (sa.established_at != TimePoint{} && !sa.superseded) emit(SaEvent::Kind::ike_down, sa);
  sas_.erase(it);
}

void Manager::emit(SaEvent::Kind kind, const IkeSa& sa, const ChildSa* child, std::uint64_t old_ike_id,
                   std::uint32_t old_spi_in) {
  if (options_.on_event) options_.on_event(ike::make_sa_event(kind, sa, child, old_ike_id, old_spi_in));
}

void Manager::index_peer_identity(const IkeSa& sa) {
  if (sa.remote_id) by_peer_identity_.emplace(std::make_pair(sa.connection, sa.remote_id->to_string()), sa.id);
}

std::vector<std::uint64_t> Manager::established_with_same_peer(const IkeSa& sa, const config::ConnectionConfig* conn,
                                                               const config::Identity& peer) const {
  std::vector<std::uint64_t> ids;
  const auto [first, last] = by_peer_identity_.equal_range({conn, peer.to_string()});
  for (auto it = first; it != last; ++it) {
    const auto other = sas_.find(it->second);
    if (it->second != sa.id && other != sas_.end() && other->second->state() == IkeSaState::established)
      ids.push_back(it->second);
  }
  return ids;
}

bool Manager::has_contact(const IkeSa& sa) const {
  auto up = [&](std::uint64_t id) {
    if (id == sa.id) return false;
    const auto it = sas_.find(id);
    return it != sas_.end() &&
           (it->second->state() == IkeSaState::established || it->second->state() == IkeSaState::rekeyed);
  };
  if (sa.connection && sa.connection->remote.id) {
    const auto [first, last] = by_peer_identity_.equal_range({sa.connection, sa.connection->remote.id->to_string()});
    for (auto i = first; i != last; ++i)
      if (up(i->second)) return true;
    return false;
  }
  for (const auto& [id, other] : sas_)
    if (other->connection == sa.connection && other->remote.address == sa.remote.address && up(id)) return true;
  return false;
}

void Manager::drop(std::string_view reason, std::string_view detail) {
  ++stats_.drops[std::string(reason)];
  log::info("ike", "dropped (" + std::string(reason) + "): " + std::string(detail));
}

Spi Manager::random_spi() {
  Spi spi;
  options_.random(spi);
  return spi;
}

std::uint32_t Manager::random_child_spi() { return child_spis_->reserve(options_.random); }

void Manager::release_child_spi(std::uint32_t spi) { child_spis_->release(spi); }

Bytes Manager::random_bytes(std::size_t n) {
  Bytes out(n);
  options_.random(out);
  return out;
}

void Manager::fail(IkeSa& sa, std::string_view why) {
  log::warning("ike", sa.name() + " " + std::string(to_string(sa.state())) + " failed: " + std::string(why));
  if (sa.state() != IkeSaState::established && sa.state() != IkeSaState::deleting) ++stats_.ike_sas_failed;
  sa.set_state(IkeSaState::dead);
  remove_sa(sa.id);
}

// --- Sending ---------------------------------------------------------------

void Manager::send_datagrams(IkeSa& sa, const std::vector<Bytes>& datagrams) {
  sink_.flush();
  for (const auto& d : datagrams) {
    transport_.send(sa.local, sa.remote, d);
    ++stats_.sent;
  }
}

std::optional<std::vector<Bytes>> Manager::protect(IkeSa& sa, const codec::Header& header,
                                                   const std::vector<Payload>& payloads) {
  if (!sa.protect_out) return std::nullopt;
  auto plaintext = codec::serialise_payloads(payloads);
  if (!plaintext.ok()) {
    log::error("ike", sa.name() + " could not encode a message: " + plaintext.error().message);
    return std::nullopt;
  }
  const auto first_inner = payloads.empty() ? PayloadType::no_next_payload : payloads.front().type;
  const std::size_t sealed_size = sa.protect_out->sealed_size(plaintext->size());
  // RFC 7383: a message too big for one datagram goes in SKF fragments
  // when both sides announced support and the connection allows sending them.
  const std::size_t limit = fragment_datagram_limit(sa.local.address.family(), sa.local.port == options_.nat_t_port);
  if (codec::kHeaderSize + codec::kGenericPayloadHeaderSize + sealed_size > limit && sa.connection &&
      fragmentation_wanted(sa.connection->fragmentation, sa.peer_fragmentation)) {
    std::string why;
    auto fragments = fragment_message(header, first_inner, *plaintext, *sa.protect_out, limit, &why);
    if (!fragments) {
      log::error("ike", sa.name() + " could not fragment a message: " + why);
      return std::nullopt;
    }
    log::debug("ike", sa.name() + " " + std::string(iana::exchange_type_name(header.exchange)) + " sent in " +
                          std::to_string(fragments->size()) + " fragments (RFC 7383)");
    return std::move(*fragments);
  }
  codec::Message message{header, {}};
  codec::Encrypted sk;
  sk.first_inner = first_inner;
  sk.data.assign(sealed_size, 0);
  message.payloads.push_back(Payload{PayloadType::encrypted_and_authenticated, std::move(sk)});
  auto bytes = codec::serialise_message(message);
  if (!bytes.ok()) {
    log::error("ike", sa.name() + " could not encode a message: " + bytes.error().message);
    return std::nullopt;
  }
  // Everything before the IV is the associated data (RFC 7296 §3.14, RFC 5282 §5.1).
  const std::size_t aad_size = bytes->size() - sealed_size;
  auto sealed = sa.protect_out->seal(std::span(bytes->data(), aad_size), *plaintext);
  if (!sealed.ok() || sealed->size() != sealed_size) {
    log::error("ike", sa.name() + " could not encrypt a message" + (sealed.ok() ? "" : ": " + sealed.error().message));
    return std::nullopt;
  }
  std::copy(sealed->begin(), sealed->end(), bytes->begin() + static_cast<std::ptrdiff_t>(aad_size));
  return std::vector<Bytes>{std::move(*bytes)};
}

bool Manager::send_request(IkeSa& sa, ExchangeType exchange, std::vector<Payload> payloads, TimePoint now) {
  codec::Header h;
  h.spi_i = sa.spi_i;
  h.spi_r = sa.spi_r;
  h.exchange = exchange;
  h.initiator = sa.initiator;
  h.message_id = sa.next_request_id;
  std::optional<std::vector<Bytes>> datagrams;
  if (exchange == ExchangeType::ike_sa_init) {
    auto b = codec::serialise_message(codec::Message{h, std::move(payloads)});
    if (b.ok()) datagrams = std::vector<Bytes>{std::move(*b)};
    else log::error("ike", sa.name() + " could not encode IKE_SA_INIT: " + b.error().message);
  } else {
    datagrams = protect(sa, h, payloads);
  }
  if (!datagrams) return false;
  sa.outstanding = OutstandingRequest{h.message_id, exchange, std::move(*datagrams), 0,
                                      now + options_.retransmit_timeout, false};
  // IKE_SA_INIT keeps ID 0 through COOKIE and INVALID_KE_PAYLOAD restarts.
  sa.next_request_id = h.message_id + 1;
  send_datagrams(sa, sa.outstanding->datagrams);
  return true;
}

bool Manager::send_response(IkeSa& sa, const codec::Header& request, std::vector<Payload> payloads) {
  codec::Header h = request;
  h.spi_i = sa.spi_i;
  h.spi_r = sa.spi_r;
  h.response = true;
  h.initiator = sa.initiator;
  h.version = false;
  std::optional<std::vector<Bytes>> datagrams;
  if (request.exchange == ExchangeType::ike_sa_init) {
    auto b = codec::serialise_message(codec::Message{h, std::move(payloads)});
    if (b.ok()) datagrams = std::vector<Bytes>{std::move(*b)};
  } else {
    datagrams = protect(sa, h, payloads);
  }
  if (!datagrams) return false;
  sa.last_response = CachedResponse{request.message_id, std::move(*datagrams)};
  sa.expected_request_id = request.message_id + 1;
  send_datagrams(sa, sa.last_response->datagrams);
  return true;
}

void Manager::send_unprotected_notify(const codec::Header& request, const net::SocketAddress& local,
                                      const net::SocketAddress& remote, iana::NotifyType type, Bytes data) {
  codec::Header h = request;
  h.response = true;
  h.initiator = false;
  h.version = false;
  codec::Notify n;
  n.type = type;
  n.data = std::move(data);
  auto bytes = codec::serialise_message(codec::Message{h, {Payload{PayloadType::notify, std::move(n)}}});
  if (!bytes.ok()) return;
  ++stats_.notifies_sent[std::string(iana::notify_type_name(type))];
  transport_.send(local, remote, *bytes);
  ++stats_.sent;
}

// --- Receiving ---------------------------------------------------------------

void Manager::receive(const net::SocketAddress& local, const net::SocketAddress& remote,
                      std::span<const std::uint8_t> datagram, TimePoint now) {
  ++stats_.received;
  const std::string from = endpoint_text(remote);
  const auto header = codec::parse_header(datagram);
  if (!header.ok()) return drop("truncated", "datagram of " + std::to_string(datagram.size()) + " bytes from " + from);
  const auto& h = header->header;
  if (h.major_version != 2) {
    // IKEv1 (major 1) goes to control/ikev1's manager: the daemon routes by
    // version before this, so one arriving here is counted and dropped.
    return drop(h.major_version == 1 ? "ikev1" : "invalid_major_version",
                "IKE major version " + std::to_string(h.major_version) + " from " + from);
  }
  const bool request = !h.response;
  const bool init_request = request && h.exchange == ExchangeType::ike_sa_init;
  auto message = codec::parse_message(datagram);
  if (!message.ok()) {
    // Only an IKE_SA_INIT request can be answered in the clear (§2.21.1);
    // anything else malformed is dropped without a word.
    if (init_request && is_zero(h.spi_r))
      send_unprotected_notify(h, local, remote, codec::notify_for(message.error()), {});
    return drop("malformed", message.error().message + " (from " + from + ")");
  }
  if (const auto violation = codec::check_payloads(h.exchange, request, types_of(message->payloads))) {
    if (init_request && is_zero(h.spi_r)) send_unprotected_notify(h, local, remote, iana::NotifyType::invalid_syntax, {});
    return drop("payload_rules", violation->message + " (from " + from + ")");
  }

  if (h.exchange == ExchangeType::ike_sa_init) {
    if (request) {
      if (!h.initiator || !is_zero(h.spi_r) || h.message_id != 0)
        return drop("bad_ike_sa_init", "IKE_SA_INIT request with flags, SPIr or message ID wrong, from " + from);
      const auto known = by_initiator_spi_.find({h.spi_i, from});
      if (known != by_initiator_spi_.end()) {
        IkeSa& sa = *sas_.at(known->second);
        if (sa.last_response && sa.last_response->message_id == 0) {
          ++stats_.duplicate_requests;
          send_datagrams(sa, sa.last_response->datagrams);
        }
        return;
      }
      return respond_ike_sa_init(*message, datagram, local, remote, now);
    }
    IkeSa* sa = find_by_local_spi(h.spi_i);
    if (!sa || !sa->initiator || sa->state() != IkeSaState::ike_sa_init_sent || h.message_id != 0)
      return drop("unexpected_response", "IKE_SA_INIT response for no IKE_SA_INIT of ours, from " + from);
    return process_ike_sa_init_response(*sa, *message, datagram, local, now);
  }

  // The I flag says the sender is the original initiator: then our SPI is SPIr.
  const Spi& ours = h.initiator ? h.spi_r : h.spi_i;
  IkeSa* sa = find_by_local_spi(ours);
  if (!sa || sa->initiator == h.initiator || sa->remote_spi() != (h.initiator ? h.spi_i : h.spi_r))
    return drop("unknown_spi", std::string(iana::exchange_type_name(h.exchange)) + " for unknown IKE SA " +
                                   to_hex(h.spi_i) + "_i " + to_hex(h.spi_r) + "_r from " + from);
  dispatch_protected(*sa, *message, datagram, local, remote, now);
}

void Manager::dispatch_protected(IkeSa& sa, const codec::Message& message, std::span<const std::uint8_t> datagram,
                                 const net::SocketAddress& local, const net::SocketAddress& remote, TimePoint now) {
  const auto& h = message.header;
  const bool request = !h.response;
  const std::string what = std::string(iana::exchange_type_name(h.exchange)) + (request ? " request" : " response") +
                           " " + std::to_string(h.message_id);
  if (!sa.protect_in) return drop("no_keys", sa.name() + " " + what + " before keys exist");
  const auto& last = message.payloads.back();
  const auto* skf = std::get_if<codec::EncryptedFragment>(&last.body);
  if (request) {
    // A retransmission of the request we answered last: same answer (§2.1),
    // once per retransmission, so for a fragmented one on its fragment 1
    // only (RFC 7383 §2.6.1).
    if (sa.last_response && h.message_id == sa.last_response->message_id && h.message_id + 1 == sa.expected_request_id) {
      if (skf && skf->number != 1)
        return drop("fragment_of_retransmission", sa.name() + " " + what + " fragment " + std::to_string(skf->number) +
                                                      ": the request was answered already");
      ++stats_.duplicate_requests;
      log::debug("ike", sa.name() + " retransmitted " + what + ", answering from cache");
      send_datagrams(sa, sa.last_response->datagrams);
      return;
    }
    if (h.message_id != sa.expected_request_id)
      return drop("message_id_outside_window", sa.name() + " " + what + ", expected " + std::to_string(sa.expected_request_id));
  } else if (!sa.outstanding || h.message_id != sa.outstanding->message_id) {
    return drop("unexpected_response", sa.name() + " " + what + " answers no request of ours");
  }

  std::vector<std::uint8_t> plaintext;
  PayloadType first_inner = PayloadType::no_next_payload;
  std::size_t aad_size = codec::kHeaderSize;
  if (skf) {
    if (!sa.connection || !announce_fragmentation(sa.connection->fragmentation))
      return drop("fragment_unsupported", sa.name() + " " + what + " arrived in RFC 7383 fragments, which we did not announce");
    std::string why;
    switch (sa.reassembly.add(h, *skf, datagram, *sa.protect_in, &why)) {
      case Reassembly::Status::rejected:
        return drop(to_string(sa.reassembly.last_reject()),
                    sa.name() + " " + what + " fragment " + std::to_string(skf->number) + "/" +
                        std::to_string(skf->total) + ": " + why);
      case Reassembly::Status::incomplete:
        ++stats_.fragments_received;
        return;
      case Reassembly::Status::complete: {
        ++stats_.fragments_received;
        auto whole = sa.reassembly.take();
        if (!whole) return;
        first_inner = whole->first_inner;
        plaintext = std::move(whole->plaintext);
        ++stats_.messages_reassembled;
        break;
      }
    }
  } else {
    const auto& sk = std::get<codec::Encrypted>(last.body);
    aad_size = datagram.size() - sk.data.size();
    auto opened = sa.protect_in->open(datagram.first(aad_size), sk.data);
    // §2.21.2: a message that fails its integrity check is dropped silently.
    if (!opened.ok()) return drop("integrity_failed", sa.name() + " " + what + ": " + opened.error().message);
    plaintext = std::move(*opened);
    first_inner = sk.first_inner;
    sa.reassembly.unfragmented(h);
  }
  auto inner = codec::parse_payloads(first_inner, plaintext, aad_size);
  std::optional<std::string> invalid;
  if (!inner.ok()) invalid = inner.error().message;
  else if (const auto v = codec::check_inner_payloads(h.exchange, request, types_of(*inner))) invalid = v->message;
  if (invalid) {
    if (request) {
      codec::Notify n;
      n.type = iana::NotifyType::invalid_syntax;
      ++stats_.notifies_sent["INVALID_SYNTAX"];
      send_response(sa, h, {Payload{PayloadType::notify, std::move(n)}});
    }
    drop("invalid_syntax", sa.name() + " " + what + ": " + *invalid);
    // A malformed authenticated IKE_AUTH leaves nothing to continue with.
    if (h.exchange == ExchangeType::ike_auth) fail(sa, "malformed IKE_AUTH");
    return;
  }
  sa.last_received = now;
  update_endpoints(sa, local, remote);
  if (!request && sa.outstanding && sa.outstanding->liveness) sa.liveness_acknowledged = now;
  if (!request) sa.outstanding.reset();

  switch (h.exchange) {
    case ExchangeType::ike_auth:
      if (request && !sa.initiator && sa.state() == IkeSaState::ike_sa_init_done) return respond_ike_auth(sa, h, *inner, now);
      if (!request && sa.initiator && sa.state() == IkeSaState::ike_auth_sent) return process_ike_auth_response(sa, *inner, now);
      return drop("unexpected_exchange", sa.name() + " " + what + " in state " + std::string(to_string(sa.state())));
    case ExchangeType::informational:
      if (sa.state() != IkeSaState::established && sa.state() != IkeSaState::deleting &&
          sa.state() != IkeSaState::rekeyed)
        return drop("unexpected_exchange", sa.name() + " " + what + " in state " + std::string(to_string(sa.state())));
      if (request) return respond_informational(sa, h, *inner, now);
      return process_informational_response(sa, *inner);
    case ExchangeType::create_child_sa:
      // A request on an IKE SA being deleted is answered TEMPORARY_FAILURE
      // (§2.8.2: the peer's rekey of an IKE SA we rekeyed and are closing).
      if (sa.state() != IkeSaState::established && sa.state() != IkeSaState::rekeyed &&
          !(request && sa.state() == IkeSaState::deleting))
        return drop("unexpected_exchange", sa.name() + " " + what + " in state " + std::string(to_string(sa.state())));
      if (request) return respond_create_child_sa(sa, h, *inner, now);
      return process_create_child_sa_response(sa, *inner, now);
    default:
      return drop("unexpected_exchange", sa.name() + " " + what);
  }
}

void Manager::update_endpoints(IkeSa& sa, const net::SocketAddress& local, const net::SocketAddress& remote) {
  // §2.23: behind a NAT, the peer's address and port are those of its
  // latest authenticated message; without a NAT they stay as negotiated.
  if (!sa.nat_detected()) return;
  const bool moved = sa.remote.address != remote.address || sa.remote.port != remote.port;
  sa.local = local;
  if (!moved) return;
  log::info("ike", sa.name() + " peer moved from " + endpoint_text(sa.remote) + " to " + endpoint_text(remote));
  const bool counted = sa.half_open_counted;  // the per-address count follows the peer
  count_half_open(sa, false);
  sa.remote = remote;
  count_half_open(sa, counted);
  repush_children(sa);
}

// --- Timers --------------------------------------------------------------------

bool Manager::esp_seen_since(const IkeSa& sa, TimePoint since) const {
  if (!options_.last_inbound_packet) return false;
  for (const auto& c : sa.children) {
    const auto last = options_.last_inbound_packet(c.record_in.sa_id);
    if (last && *last > since) return true;
  }
  return false;
}

void Manager::tick(TimePoint now) {
  if (now - cookies_rotated_at_ >= options_.cookie_secret_lifetime) {
    cookies_.rotate(fresh_secret(options_.random));
    cookies_rotated_at_ = now;
  }
  remove_retired_inbound(now, false);
  std::vector<std::uint64_t> expired;
  for (auto& [id, owned] : sas_) {
    IkeSa& sa = *owned;
    if (sa.state() == IkeSaState::ike_sa_init_done && now - sa.created_at >= options_.half_open_timeout) {
      expired.push_back(id);
      continue;
    }
    if (sa.state() == IkeSaState::rekeyed && !sa.outstanding && sa.tasks.empty()) {
      if (sa.rekeyed_since == TimePoint{}) sa.rekeyed_since = now;
      if (now - sa.rekeyed_since >= kRekeyedTimeout) {
        expired.push_back(id);
        continue;
      }
    }
    if (sa.outstanding && now >= sa.outstanding->next_send) {
      auto& out = *sa.outstanding;
      // Deleted by the peer, it waited one retransmission timeout for the
      // response its Delete overtook (ike_rekey.cc); the peer has no SA to
      // answer a retransmission.
      if (out.retransmits >= options_.retransmit_tries || sa.deleted_by_peer) {
        expired.push_back(id);
        continue;
      }
      ++out.retransmits;
      ++stats_.retransmitted;
      log::info("ike", sa.name() + " retransmit " + std::to_string(out.retransmits) + " of request " +
                           std::to_string(out.message_id) + " (" + std::string(iana::exchange_type_name(out.exchange)) + ")");
      const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
          options_.retransmit_timeout * std::pow(options_.retransmit_base, out.retransmits));
      out.next_send = now + timeout;
      send_datagrams(sa, out.datagrams);
    }
    // Liveness check (RFC 7296 §2.4, strongSwan's dpd_delay): an empty
    // INFORMATIONAL request when nothing came from the peer for dpd_delay.
    // Its retransmissions running out is what declares the peer dead.
    const auto dpd_delay = sa.connection ? sa.connection->dpd_delay : config::Seconds{0};
    if (sa.state() == IkeSaState::established && !sa.outstanding && !stopping_ && dpd_delay.count() > 0 &&
        now - sa.last_received >= dpd_delay && !esp_seen_since(sa, now - dpd_delay)) {
      log::debug("ike", sa.name() + " nothing from the peer for " + std::to_string(dpd_delay.count()) +
                            " s, sending a liveness check");
      ++stats_.liveness_checks_sent;
      if (send_request(sa, ExchangeType::informational, {}, now)) {
        sa.outstanding->liveness = true;
        sa.liveness_sent = now;
      }
    }
    if (sa.state() == IkeSaState::established) {
      if (now >= sa.expire_at) {
        expired.push_back(id);
        continue;
      }
      if (now >= sa.reauth_at && !stopping_) {
        sa.reauth_at = TimePoint::max();
        start_reauth(sa, now);
      }
      // No rekey while a reauthentication replaces the SA anyway.
      if (now >= sa.rekey_at && !sa.reauthenticated_by) {
        sa.rekey_at = TimePoint::max();
        sa.tasks.push_back(Task{Task::Kind::rekey_ike, 0});
      }
      for (auto& c : sa.children) {
        // A rekey responder whose peer never deletes the old pair still
        // moves its traffic to the new one, a little later.
        if (c.outbound_pending && now - c.installed_at >= kTakeoverTimeout) switch_outbound(sa, c);
        if (now >= c.expire_at) {
          // life_time reached without a rekey: the Child SA must not live on.
          c.expire_at = TimePoint::max();
          ++stats_.child_sas_expired;
          log::warning("ike", sa.name() + " CHILD_SA " + c.name + " reached its life_time without a rekey, deleting it");
          sa.tasks.push_front(Task{Task::Kind::delete_child, c.spi_in});
          // While a reauthentication replaces the IKE SA its Child SAs wait
          // (reauth_predecessor() takes over installed ones only).
        } else if (c.state == ChildSaState::installed && now >= c.rekey_at && !sa.reauthenticated_by) {
          c.rekey_at = TimePoint::max();
          sa.tasks.push_back(Task{Task::Kind::rekey_child, c.spi_in});
        }
      }
    }
    run_tasks(sa, now);
    if (sa.reauth_of || sa.reauthenticated_by) advance_reauth(sa, now);
    if (sa.nat_local && sa.state() == IkeSaState::established && now >= sa.next_keepalive) {
      transport_.send_nat_keepalive(sa.local, sa.remote);
      sa.next_keepalive = now + options_.keepalive_interval;
    }
  }
  for (const auto id : expired) {
    const auto it = sas_.find(id);
    if (it == sas_.end()) continue;
    IkeSa& sa = *it->second;
    if (sa.deleted_by_peer) {
      remove_deleted_by_peer(sa);
    } else if (sa.state() == IkeSaState::rekeyed && !sa.outstanding) {
      log::info("ike", "IKE_SA " + sa.name() + " was replaced by a rekey and the peer never deleted it: removing it");
      sa.set_state(IkeSaState::dead);
      remove_sa(id);
    } else if (sa.state() == IkeSaState::ike_sa_init_done) {
      drop("half_open_timeout", sa.name() + " no IKE_AUTH from " + endpoint_text(sa.remote) + " within " +
                                    std::to_string(options_.half_open_timeout.count()) + " s");
      sa.set_state(IkeSaState::dead);
      remove_sa(id);
    } else if (sa.state() == IkeSaState::established && now >= sa.expire_at) {
      log::warning("ike", sa.name() + (now >= sa.reauth_expire_at ? " reached reauth_time + over_time without a reauthentication"
                                                                   : " reached rekey_time + over_time without a rekey") +
                              ", closing it");
      send_delete_ike_sa(sa, now);
      sa.set_state(IkeSaState::dead);
      remove_sa(id);
    } else if (sa.state() == IkeSaState::established) {
      peer_dead(sa, now);
    } else {
      fail(sa, "no response from " + endpoint_text(sa.remote) + " after " + std::to_string(options_.retransmit_tries) +
                   " retransmissions, giving up");
    }
  }
}

void Manager::peer_dead(IkeSa& sa, TimePoint now) {
  const auto* conn = sa.connection;
  const auto hold = sa.config_hold;  // conn outlives the SA's removal below
  log::warning("ike", sa.name() + " peer " + endpoint_text(sa.remote) + " is not responding (" +
                          std::to_string(options_.retransmit_tries) + " retransmissions): closing the IKE SA");
  ++stats_.dead_peers;
  // dpd_action per Child SA: restart initiates it again, trap installs
  // its trap policies (the next packet for it starts a negotiation),
  // clear leaves it closed.
  std::vector<std::string> restart;
  for (const auto& child : sa.children) {
    for (const auto& cc : conn->children) {
      if (cc.name != child.name) continue;
      if (cc.dpd_action == config::Action::restart) {
        restart.push_back(cc.name);
        continue;
      }
      log::info("ike", sa.name() + " CHILD_SA " + cc.name + " closed (dpd_action " +
                           std::string(config::to_string(cc.dpd_action)) + ")");
      if (cc.dpd_action == config::Action::trap && options_.on_trap)
        options_.on_trap(*conn, cc, ike::TrapOrigin::dpd_action);
    }
  }
  sa.set_state(IkeSaState::dead);
  remove_sa(sa.id);
  for (const auto& child : restart) {
    log::info("ike", "restarting CHILD_SA " + child + " of " + conn->name + " (dpd_action restart)");
    initiate(conn->name, child, now);
  }
}

// --- Operator actions ------------------------------------------------------------

bool Manager::initiate(std::string_view connection, std::string_view child, TimePoint now, std::string* why,
                       const std::optional<ike::TriggerPacket>& trigger) {
  auto refuse = [&](std::string text) {
    log::warning("ike", "cannot initiate " + std::string(connection) + ": " + text);
    if (why) *why = std::move(text);
    return false;
  };
  const auto* conn = config_->find_connection(connection);
  if (stopping_) return refuse("shutting down");
  if (!conn) return refuse("no such connection");
  if (conn->version == 1) return refuse("an IKEv1 connection (version 1): the IKEv1 manager initiates it");
  std::string no_endpoints;
  const auto endpoints = ike::initiator_endpoints(*conn, transport_, &no_endpoints);
  if (!endpoints) return refuse(no_endpoints);
  const config::ChildConfig* child_config = nullptr;
  for (const auto& c : conn->children)
    if (child.empty() || c.name == child) {
      child_config = &c;
      break;
    }
  if (!child_config) return refuse(child.empty() ? "it has no children" : "no child '" + std::string(child) + "'");
  const net::SocketAddress& remote = endpoints->remote;

  // A connection with several children keeps them on one IKE SA, as
  // strongSwan does: a child asked for while the connection's IKE SA is up
  // (or being set up by us) is created over it with CREATE_CHILD_SA.
  // Single-child connections skip the search, so starting thousands of
  // them stays linear.
  if (conn->children.size() > 1)
    if (IkeSa* existing = reusable_sa(*conn)) {
      if (carries_child(*existing, child_config->name)) {
        log::info("ike", "CHILD_SA " + child_config->name + " of " + conn->name + " is up or being set up on " +
                             existing->name() + " already");
        return true;
      }
      log::info("ike", "initiating CHILD_SA " + child_config->name + " over " + existing->name() +
                           (existing->state() == IkeSaState::established ? "" : " once it is established"));
      existing->tasks.push_back(Task{Task::Kind::create_child, 0, child_config});
      existing->tasks.back().trigger = trigger;
      run_tasks(*existing, now);
      return true;
    }

  IkeSa& sa = create_sa(conn, true, now);
  sa.local = endpoints->local;
  sa.remote = remote;
  sa.pending_child = PendingChild{};
  sa.pending_child->config = child_config;
  sa.pending_child->trigger = trigger;
  log::info("ike", "initiating IKE_SA " + sa.name() + " to " + endpoint_text(remote) + " for CHILD_SA " + child_config->name);
  return start_ike_sa_init(sa, now);
}

bool Manager::carries_child(const IkeSa& sa, std::string_view child) {
  // By name: a live config change re-points the SAs at new objects.
  const auto same = [&](const config::ChildConfig* c) { return c && c->name == child; };
  return std::any_of(sa.children.begin(), sa.children.end(),
                     [&](const ChildSa& c) { return same(c.config) && c.state != ChildSaState::deleting; }) ||
         (sa.pending_child && same(sa.pending_child->config)) ||
         (sa.pending_create && sa.pending_create->kind == PendingCreate::Kind::child &&
          same(sa.pending_create->child.config)) ||
         std::any_of(sa.tasks.begin(), sa.tasks.end(),
                     [&](const Task& t) { return t.kind == Task::Kind::create_child && same(t.child); });
}

bool Manager::child_active(std::string_view connection, std::string_view child) const {
  for (const auto& [id, owned] : sas_) {
    const IkeSa& sa = *owned;
    if (!sa.connection || sa.connection->name != connection) continue;
    const auto state = sa.state();
    // A rekeyed IKE SA's children moved to its successor; a deleting or
    // dead one carries nothing on.
    if (state == IkeSaState::rekeyed || state == IkeSaState::deleting || state == IkeSaState::dead) continue;
    if (carries_child(sa, child)) return true;
  }
  return false;
}

IkeSa* Manager::reusable_sa(const config::ConnectionConfig& conn) {
  for (auto& [id, owned] : sas_) {
    IkeSa& sa = *owned;
    if (!sa.connection || sa.connection->name != conn.name || sa.rekey_collision) continue;
    const auto state = sa.state();
    if (state == IkeSaState::established ||
        (sa.initiator && (state == IkeSaState::created || state == IkeSaState::ike_sa_init_sent ||
                          state == IkeSaState::ike_auth_sent)))
      return &sa;
  }
  return nullptr;
}

void Manager::start(TimePoint now) {
  for (const auto& conn : config_->connections)
    if (conn.version != 1)  // IKEv1 connections are the IKEv1 manager's
      for (const auto& child : conn.children)
      if (child.start_action == config::Action::start) initiate(conn.name, child.name, now);
}

void Manager::shutdown(TimePoint now) {
  if (stopping_) return;
  stopping_ = true;
  log::info("ike", "shutting down: deleting " + std::to_string(sas_.size()) + " IKE SA(s)");
  remove_retired_inbound(now, true);
  std::vector<std::uint64_t> unborn;
  for (auto& [id, owned] : sas_) {
    IkeSa& sa = *owned;
    switch (sa.state()) {
      case IkeSaState::created:
      case IkeSaState::ike_sa_init_sent:
      case IkeSaState::ike_sa_init_done:
        // Nobody authenticated yet: nothing to tell the peer, whose
        // half-open SA times out on its own.
        unborn.push_back(id);
        break;
      case IkeSaState::established:
        run_tasks(sa, now);  // the Delete, now or once the request out is answered
        break;
      case IkeSaState::ike_auth_sent:  // deleted once established (run_tasks)
      case IkeSaState::rekeyed:        // its Delete is queued, or the peer's is coming
      case IkeSaState::deleting:
      case IkeSaState::dead:
        break;
    }
  }
  for (const auto id : unborn) {
    IkeSa& sa = *sas_.at(id);
    log::info("ike", "abandoning IKE_SA " + sa.name() + " in state " + std::string(to_string(sa.state())));
    sa.set_state(IkeSaState::dead);
    remove_sa(id);
  }
}

void Manager::abandon_all() {
  remove_retired_inbound(TimePoint{}, true);
  if (sas_.empty()) return;
  log::warning("ike", std::to_string(sas_.size()) + " IKE SA(s) still waiting for their peers at shutdown: removed without their Delete answered");
  std::vector<std::uint64_t> ids;
  for (const auto& [id, sa] : sas_) ids.push_back(id);
  for (const auto id : ids) remove_sa(id);
}

}  // namespace corridor::control::ikev2
