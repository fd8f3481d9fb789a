// IKE SA rekey (RFC 7296 §1.3.2, §2.18) by CREATE_CHILD_SA, as initiator
// and responder, and the simultaneous rekey of one IKE SA by both ends
// (§2.8.2).
//
//   HDR, SK {SA, Ni, KEi}  -->  <--  HDR, SK {SA, Nr, KEr}
//
// The new IKE SA takes over the Child SAs, and the end that rekeyed deletes
// the old one. When both ends rekey at once, each answers the other's
// request, and for a moment there are three IKE SAs: the old one and two
// new ones. The new one made with the lowest of the four nonces is
// redundant and is deleted by the end whose request made it; the other
// takes the Child SAs, and the end whose request made it deletes the old
// one. Both ends compare the same nonces, so they agree without a word.
// An end that finished its own rekey before the peer's request came
// answers that request TEMPORARY_FAILURE, since the old IKE SA is on its
// way out. The peer then learns from that answer, or from the Delete of
// the old IKE SA, that only our new IKE SA exists, and forgets its own
// rekey.
#include "common/log/log.h"
#include "control/ikev2/manager.h"
#include "control/ikev2/payload_access.h"

namespace corridor::control::ikev2 {

using codec::Payload;
using iana::NotifyType;
using iana::PayloadType;

namespace {

using payload::first_error;

std::optional<Spi> ike_spi(const Bytes& b) {
  if (b.size() != 8) return std::nullopt;
  Spi s;
  std::copy(b.begin(), b.end(), s.begin());
  if (is_zero(s)) return std::nullopt;
  return s;
}

}  // namespace

bool Manager::start_rekey_ike(IkeSa& sa, TimePoint now) {
  const auto& conn = *sa.connection;
  PendingCreate pc;
  pc.kind = PendingCreate::Kind::rekey_ike;
  pc.new_spi = unused_spi();
  pc.sent_sa = nego::to_sa_payload(conn.proposals, iana::ProtocolId::ike, pc.new_spi, nego::SelectFor::create_child);
  pc.nonce = random_bytes(options_.nonce_size);
  const auto group = nego::first_key_exchange(conn.proposals);
  if (!group) return false;
  auto dh = codec::DiffieHellman::generate(*group);
  if (!dh.ok()) {
    log::warning("ike", sa.name() + " IKE_SA rekey: " + dh.error().message);
    return false;
  }
  pc.key_exchange.emplace(std::move(*dh));
  std::vector<Payload> payloads;
  payloads.push_back(Payload{PayloadType::security_association, pc.sent_sa});
  payloads.push_back(Payload{PayloadType::nonce, codec::Nonce{pc.nonce}});
  payloads.push_back(Payload{PayloadType::key_exchange, codec::KeyExchange{static_cast<std::uint16_t>(*group),
                                                                           pc.key_exchange->public_value()}});
  log::info("ike", sa.name() + " rekeying IKE_SA");
  sa.pending_create = std::move(pc);
  if (!send_request(sa, iana::ExchangeType::create_child_sa, std::move(payloads), now)) {
    sa.pending_create.reset();
    return false;
  }
  return true;
}

IkeSa& Manager::create_rekeyed(const IkeSa& old, bool initiator, const Spi& our_spi, const Spi& peer_spi,
                               TimePoint now) {
  IkeSa& n = create_sa(old.connection, initiator, now, our_spi);
  (initiator ? n.spi_r : n.spi_i) = peer_spi;
  n.local = old.local;
  n.remote = old.remote;
  n.nat_local = old.nat_local;
  n.nat_remote = old.nat_remote;
  n.peer_fragmentation = old.peer_fragmentation;
  n.local_id = old.local_id;
  n.remote_id = old.remote_id;
  n.established_at = now;
  n.reauth_at = old.reauth_at;  // a rekey renews keys, not the authentication
  n.reauth_expire_at = old.reauth_expire_at;
  n.next_keepalive = now + options_.keepalive_interval;
  index_peer_identity(n);
  return n;
}

void Manager::hand_over(IkeSa& old, IkeSa& n) {
  ++stats_.ike_sas_rekeyed;
  n.rekey_collision = false;
  n.children = std::move(old.children);
  old.children.clear();
  // A reauthentication under way goes on with the rekeyed SA in old's place.
  n.reauth_of = old.reauth_of;
  n.reauthenticated_by = old.reauthenticated_by;
  for (const auto other : {old.reauth_of, old.reauthenticated_by}) {
    const auto it = sas_.find(other);
    if (it == sas_.end()) continue;
    if (it->second->reauth_of == old.id) it->second->reauth_of = n.id;
    if (it->second->reauthenticated_by == old.id) it->second->reauthenticated_by = n.id;
  }
  old.reauth_of = old.reauthenticated_by = 0;
  old.superseded = true;
  emit(SaEvent::Kind::ike_rekey, n, nullptr, old.id);
}

// --- Responder ---------------------------------------------------------------

void Manager::respond_rekey_ike(IkeSa& sa, const codec::Header& header, const codec::SecurityAssociation& offered,
                                const Bytes& nonce_i, const codec::KeyExchange* ke, TimePoint now) {
  const auto refuse = [&](NotifyType type, Bytes data, const std::string& why) {
    refuse_create_child(sa, header, type, std::move(data), why);
  };
  // §2.8.2: our own rekey of it is out. Answered as usual, once; which new
  // IKE SA stays is settled when our response arrives.
  const bool collision = sa.pending_create && sa.pending_create->kind == PendingCreate::Kind::rekey_ike;
  if (collision && sa.pending_create->ike_collision)
    return refuse(NotifyType::temporary_failure, {}, "this IKE SA was rekeyed by the peer already");
  // A reauthentication replaces it (or it is the replacement, still
  // asking for Child SAs), or our Delete is queued: a rekey would only
  // lose track of that.
  if (sa.reauth_of || sa.reauthenticated_by || sa.has_task(Task::Kind::delete_ike))
    return refuse(NotifyType::temporary_failure, {}, "this IKE SA is being reauthenticated or deleted");
  const auto ke_group = ke ? std::optional<iana::KeId>(static_cast<iana::KeId>(ke->group)) : std::nullopt;
  auto selected = nego::select_proposal(offered, sa.connection->proposals, iana::ProtocolId::ike,
                                        nego::SelectFor::create_child, ke_group);
  if (!selected.ok()) return refuse(NotifyType::no_proposal_chosen, {}, selected.error().message);
  if (const auto want = nego::group_for_retry(*selected, ke_group))
    return refuse(NotifyType::invalid_ke_payload, payload::group_bytes(*want),
                  "KE payload of another group, asking for " + payload::group_name(*want));
  if (!ke || !selected->key_exchange) return refuse(NotifyType::invalid_syntax, {}, "IKE SA rekey without KE");
  const auto peer_spi = ike_spi(selected->proposal.spi);
  if (!peer_spi) return refuse(NotifyType::invalid_syntax, {}, "IKE SA rekey without an 8-byte SPI");
  auto dh = codec::DiffieHellman::generate(*selected->key_exchange);
  if (!dh.ok()) return refuse(NotifyType::no_proposal_chosen, {}, dh.error().message);
  auto g_ir = dh->shared_secret(ke->data);
  if (!g_ir.ok()) return refuse(NotifyType::invalid_syntax, {}, g_ir.error().message);
  const Bytes nonce_r = random_bytes(options_.nonce_size);
  const Spi our_spi = unused_spi();
  auto keys = codec::derive_rekeyed_ike_sa_keys(*sa.proposal->prf, sa.keys.sk_d, selected->ike_suite(),
                                                {g_ir->data(), g_ir->size()}, nonce_i, nonce_r, *peer_spi, our_spi);
  if (!keys.ok()) return refuse(NotifyType::no_proposal_chosen, {}, keys.error().message);
  auto suite = selected->ike_suite();
  auto i_side = codec::SkCrypto::create(suite, keys->sk_ei, keys->sk_ai);
  auto r_side = codec::SkCrypto::create(suite, keys->sk_er, keys->sk_ar);
  if (!i_side.ok() || !r_side.ok())
    return refuse(NotifyType::no_proposal_chosen, {}, "cannot protect messages with " + selected->to_string());

  std::vector<Payload> response;
  response.push_back(
      Payload{PayloadType::security_association, codec::SecurityAssociation{{selected->for_response(our_spi)}}});
  response.push_back(Payload{PayloadType::nonce, codec::Nonce{nonce_r}});
  response.push_back(Payload{PayloadType::key_exchange, codec::KeyExchange{ke->group, dh->public_value()}});
  if (!send_response(sa, header, std::move(response))) return;

  IkeSa& n = create_rekeyed(sa, false, our_spi, *peer_spi, now);
  n.proposal = std::move(*selected);
  n.nonce_i = nonce_i;
  n.nonce_r = nonce_r;
  n.keys = std::move(*keys);
  n.protect_out.emplace(std::move(*r_side));
  n.protect_in.emplace(std::move(*i_side));
  n.set_state(IkeSaState::established);
  schedule_rekey(n, now);
  if (collision) {
    // The old IKE SA keeps its Child SAs (and our request) until settled.
    n.rekey_collision = true;
    sa.pending_create->ike_collision = PendingCreate::IkeCollision{n.id, std::min(nonce_i, nonce_r)};
    log::info("ike", "IKE_SA " + sa.name() + " is rekeyed by the peer while our rekey of it is out (a collision, "
                     "RFC 7296 §2.8.2): " + n.name() + " (SPIs " + to_hex(n.spi_i) + "_i " + to_hex(n.spi_r) +
                         "_r) waits until our response arrives");
    return;
  }
  hand_over(sa, n);
  sa.set_state(IkeSaState::rekeyed);
  log::info("ike", "IKE_SA " + sa.name() + " rekeyed by the peer: now " + n.name() + " (SPIs " + to_hex(n.spi_i) +
                       "_i " + to_hex(n.spi_r) + "_r, " + n.proposal->to_string() + "), " +
                       std::to_string(n.children.size()) + " CHILD_SAs moved");
}

// --- Initiator: the response -------------------------------------------------

void Manager::process_rekey_ike_response(IkeSa& sa, PendingCreate pc, const std::vector<Payload>& payloads,
                                         TimePoint now) {
  auto give_up = [&](const std::string& why) {
    log::warning("ike", sa.name() + " IKE_SA rekey failed: " + why);
    if (pc.ike_collision) {
      if (!sa.superseded) forget_own_rekey(sa, pc.ike_collision->peer_successor, now);
      if (sa.deleted_by_peer) remove_deleted_by_peer(sa);
      return;
    }
    // Jittered: two ends that collided and were both refused would
    // otherwise collide again, in step.
    sa.rekey_at = now + kRetryAfterTemporaryFailure + jitter(kRetryAfterTemporaryFailure);
  };
  if (const auto* error = first_error(payloads))
    return give_up("peer answered " + std::string(iana::notify_type_name(error->type)));
  const auto* sa_payload = payload::find<codec::SecurityAssociation>(payloads, PayloadType::security_association);
  const auto* nonce = payload::find<codec::Nonce>(payloads, PayloadType::nonce);
  const auto* ke = payload::find<codec::KeyExchange>(payloads, PayloadType::key_exchange);
  if (!sa_payload || !nonce) return give_up("response without SA or Nr");
  auto selected = nego::accept_response(pc.sent_sa, *sa_payload, iana::ProtocolId::ike);
  if (!selected.ok()) return give_up(selected.error().message);
  const auto peer_spi = ike_spi(selected->proposal.spi);
  if (!peer_spi || !ke || !selected->key_exchange || ke->group != static_cast<std::uint16_t>(pc.key_exchange->group()))
    return give_up("response SPI or KE payload does not fit the request");
  auto g_ir = pc.key_exchange->shared_secret(ke->data);
  if (!g_ir.ok()) return give_up(g_ir.error().message);
  auto keys = codec::derive_rekeyed_ike_sa_keys(*sa.proposal->prf, sa.keys.sk_d, selected->ike_suite(),
                                                {g_ir->data(), g_ir->size()}, pc.nonce, nonce->data, pc.new_spi,
                                                *peer_spi);
  if (!keys.ok()) return give_up(keys.error().message);
  const auto suite = selected->ike_suite();
  auto i_side = codec::SkCrypto::create(suite, keys->sk_ei, keys->sk_ai);
  auto r_side = codec::SkCrypto::create(suite, keys->sk_er, keys->sk_ar);
  if (!i_side.ok() || !r_side.ok()) return give_up("cannot protect messages with " + selected->to_string());
  IkeSa& n = create_rekeyed(sa, true, pc.new_spi, *peer_spi, now);
  n.proposal = std::move(*selected);
  n.nonce_i = pc.nonce;
  n.nonce_r = nonce->data;
  n.keys = std::move(*keys);
  n.protect_out.emplace(std::move(*i_side));
  n.protect_in.emplace(std::move(*r_side));
  n.set_state(IkeSaState::established);
  schedule_rekey(n, now);
  if (pc.ike_collision && sa.superseded) {
    // The peer's new IKE SA took over already (its Delete of the old one
    // overtook this response): ours is the redundant one.
    log::info("ike", "IKE_SA " + sa.name() + " was rekeyed by both ends at once (RFC 7296 §2.8.2), and the peer's "
                     "IKE_SA took over before our response came: ours, " + n.name() + ", goes");
    n.superseded = true;
    retire_rekeyed(n, now);
    if (sa.deleted_by_peer) remove_deleted_by_peer(sa);
    return;
  }
  if (pc.ike_collision) return settle_ike_rekey_collision(sa, n, *pc.ike_collision, std::min(pc.nonce, nonce->data), now);
  hand_over(sa, n);
  log::info("ike", "IKE_SA " + sa.name() + " rekeyed: now " + n.name() + " (SPIs " + to_hex(n.spi_i) + "_i " +
                       to_hex(n.spi_r) + "_r, " + n.proposal->to_string() + ")");
  retire_rekeyed(sa, now);
}

// The old IKE SA goes (§2.18): its Delete is the last it sends.
void Manager::retire_rekeyed(IkeSa& old, TimePoint now) {
  old.set_state(IkeSaState::rekeyed);
  old.tasks.clear();
  old.tasks.push_back(Task{Task::Kind::delete_ike, 0});
  run_tasks(old, now);
}

// Both ends rekeyed `old` at once (§2.8.2): `ours` was made by our request,
// the collision's SA by the peer's. "Lowest" is octet by octet, a nonce that
// ends first being the lower, as std::vector compares, the same rule as
// for Child SAs (settle_rekey_collision).
void Manager::settle_ike_rekey_collision(IkeSa& old, IkeSa& ours, const PendingCreate::IkeCollision& collision,
                                         const Bytes& our_lowest_nonce, TimePoint now) {
  ++stats_.ike_rekey_collisions;
  IkeSa* theirs = nullptr;
  if (const auto it = sas_.find(collision.peer_successor);
      it != sas_.end() && it->second->state() == IkeSaState::established)
    theirs = it->second.get();
  // With the peer's new SA gone already (the peer lost and deleted it
  // before our response came), ours is the one whatever the nonces say.
  const bool ours_redundant = theirs && our_lowest_nonce < collision.peer_lowest_nonce;
  log::info("ike", "IKE_SA " + old.name() + " was rekeyed by both ends at once (RFC 7296 §2.8.2): " +
                       (ours_redundant ? "the peer's " + theirs->name() + " stays; ours, " + ours.name() +
                                             ", made with the lowest nonce, goes"
                                       : "our " + ours.name() + " stays" +
                                             (theirs ? "; the peer deletes its " + theirs->name() +
                                                           ", made with the lowest nonce"
                                                     : " (the peer's is gone already)")));
  if (ours_redundant) {
    hand_over(old, *theirs);
    // The peer deletes the old IKE SA; we delete ours, which never carried
    // anything (no "down" when it goes).
    old.set_state(IkeSaState::rekeyed);
    ours.superseded = true;
    retire_rekeyed(ours, now);
    return;
  }
  hand_over(old, ours);
  if (theirs) {
    // Never used: it waits for the peer's Delete.
    theirs->superseded = true;
    theirs->set_state(IkeSaState::rekeyed);
  }
  retire_rekeyed(old, now);
}

// Our rekey of `old` collided with the peer's, and the peer, having
// finished its own first, refused ours (TEMPORARY_FAILURE) or deleted the
// old IKE SA: the peer's new IKE SA is the only one (§2.8.2).
void Manager::forget_own_rekey(IkeSa& old, std::uint64_t peer_successor, TimePoint now) {
  const auto it = sas_.find(peer_successor);
  if (it == sas_.end() || it->second->state() != IkeSaState::established) {
    old.rekey_at = now + kRetryAfterTemporaryFailure + jitter(kRetryAfterTemporaryFailure);
    return;
  }
  ++stats_.ike_rekey_collisions;
  IkeSa& theirs = *it->second;
  log::info("ike", "IKE_SA " + old.name() + " was rekeyed by both ends at once, and the peer's " + theirs.name() +
                       " took over (RFC 7296 §2.8.2): the Child SAs move to it");
  hand_over(old, theirs);
  if (old.state() == IkeSaState::established) old.set_state(IkeSaState::rekeyed);
}

void Manager::remove_deleted_by_peer(IkeSa& old) {
  log::info("ike", "IKE_SA " + old.name() + " deleted (by the peer, before our rekey request was answered)");
  old.set_state(IkeSaState::dead);
  remove_sa(old.id);
}

}  // namespace corridor::control::ikev2
