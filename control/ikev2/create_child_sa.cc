// CREATE_CHILD_SA (RFC 7296 §1.3): a new Child SA, a Child SA rekey
// (§1.3.3, §2.8) and an IKE SA rekey (§1.3.2, §2.18), as initiator and
// responder.
//
//   Child SA:  HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], TSi, TSr}  -->
//                                 <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
//   IKE SA:    HDR, SK {SA, Ni, KEi}  -->  <--  HDR, SK {SA, Nr, KEr}
//
// Make-before-break: the rekeying side installs the new Child SA (whose
// outbound policies take over the old ones' in one step) before it deletes
// the old one, and the old inbound SA keeps accepting until its Delete
// exchange is done. A rekeyed IKE SA hands its Child SAs to the new one and
// is deleted by the side that rekeyed it.
//
// Our own requests wait in IkeSa::tasks (the window is 1, §2.3); run_tasks()
// starts the next when none is outstanding.
#include <cstdio>
#include <unordered_set>

#include "common/log/log.h"
#include "control/ike/ts_narrow.h"
#include "control/ikev2/manager.h"
#include "control/ikev2/payload_access.h"

namespace corridor::control::ikev2 {

using codec::Payload;
using iana::NotifyType;
using iana::PayloadType;

namespace {

using payload::find_notify;
using payload::first_error;
using payload::notify;
using payload::spi_bytes;
using payload::spi_value;

std::vector<config::Proposal> child_proposals(const config::ChildConfig& child) {
  return child.ah_proposals.empty() ? child.esp_proposals : child.ah_proposals;
}

iana::ProtocolId child_protocol(const config::ChildConfig& child) {
  return child.ah_proposals.empty() ? iana::ProtocolId::esp : iana::ProtocolId::ah;
}

}  // namespace

// --- Our requests ------------------------------------------------------------

void Manager::run_tasks(IkeSa& sa, TimePoint now) {
  // Stopping (shutdown()): the IKE SA's Delete is the one request left;
  // rekeys and Child SA deletes queued before would only be undone by it.
  if (stopping_ && sa.state() == IkeSaState::established &&
      (sa.tasks.size() != 1 || sa.tasks.front().kind != Task::Kind::delete_ike))
    sa.tasks.assign(1, Task{Task::Kind::delete_ike, 0});
  while (!sa.outstanding && !sa.tasks.empty() &&
         (sa.state() == IkeSaState::established || sa.state() == IkeSaState::rekeyed)) {
    const Task task = sa.tasks.front();
    sa.tasks.pop_front();
    const bool live = sa.state() == IkeSaState::established;
    switch (task.kind) {
      case Task::Kind::rekey_child:
        if (live && start_rekey_child(sa, task.spi_in, now)) return;
        break;
      case Task::Kind::rekey_ike:
        if (live && start_rekey_ike(sa, now)) return;
        break;
      case Task::Kind::delete_child:
        if (ChildSa* c = find_child_by_spi_in(sa, task.spi_in)) {
          send_delete_child(sa, *c, now);
          return;
        }
        break;
      case Task::Kind::delete_ike:
        send_delete_ike_sa(sa, now);
        return;
      case Task::Kind::create_child:
        if (live && task.child && start_create_child(sa, *task.child, task.trigger, now)) return;
        break;
    }
  }
}

bool Manager::start_rekey_child(IkeSa& sa, std::uint32_t spi_in, TimePoint now) {
  ChildSa* old = find_child_by_spi_in(sa, spi_in);
  if (!old || old->state != ChildSaState::installed || !old->config) return false;
  log::info("ike", sa.name() + " rekeying CHILD_SA " + old->name + " (SPIs " + hex32(old->spi_in) + "_i " +
                       hex32(old->spi_out) + "_o)");
  old->state = ChildSaState::rekeying;
  // The rekeyed SA keeps the selectors agreed for the old one.
  if (send_create_child(sa, *old->config, spi_in, old->local_ts, old->remote_ts, now)) return true;
  if (ChildSa* again = find_child_by_spi_in(sa, spi_in)) again->state = ChildSaState::installed;
  return false;
}

// A further Child SA of the connection over this IKE SA (§1.3.1), with the
// child's configured selectors (after the acquire's packet, §2.9).
bool Manager::start_create_child(IkeSa& sa, const config::ChildConfig& cc,
                                 const std::optional<ike::TriggerPacket>& trigger, TimePoint now) {
  log::info("ike", sa.name() + " creating CHILD_SA " + cc.name + " over the established IKE_SA (CREATE_CHILD_SA)");
  const auto first = [&](bool initiator_side) -> std::optional<net::TrafficSelector> {
    if (!trigger) return std::nullopt;
    return initiator_side ? trigger->tsi : trigger->tsr;
  };
  return send_create_child(sa, cc, 0, nego::from_wire(nego::initiator_selectors(cc.local_ts, sa.local.address, first(true))),
                           nego::from_wire(nego::initiator_selectors(cc.remote_ts, sa.remote.address, first(false))),
                           now);
}

// The CREATE_CHILD_SA request for a Child SA, new or (rekeys_spi_in) a
// rekey:  [N(REKEY_SA)], SA, Ni, [KEi], TSi, TSr, [N(USE_TRANSPORT_MODE)].
bool Manager::send_create_child(IkeSa& sa, const config::ChildConfig& cc, std::uint32_t rekeys_spi_in,
                                const std::vector<net::TrafficSelector>& local_ts,
                                const std::vector<net::TrafficSelector>& remote_ts, TimePoint now) {
  PendingCreate pc;
  pc.kind = PendingCreate::Kind::child;
  pc.child.config = &cc;
  pc.child.spi_in = random_child_spi();
  pc.child.rekeys_spi_in = rekeys_spi_in;
  pc.child.sa = nego::to_sa_payload(child_proposals(cc), child_protocol(cc), spi_bytes(pc.child.spi_in),
                                    nego::SelectFor::create_child);
  pc.nonce = random_bytes(options_.nonce_size);
  // PFS: a fresh key exchange when the ESP/AH proposals name a group.
  if (const auto group = nego::first_key_exchange(child_proposals(cc))) {
    auto dh = codec::DiffieHellman::generate(*group);
    if (!dh.ok()) {
      log::warning("ike", sa.name() + " CHILD_SA " + cc.name + ": " + dh.error().message);
      release_child_spi(pc.child.spi_in);
      return false;
    }
    pc.key_exchange.emplace(std::move(*dh));
  }
  const auto tsi = nego::to_wire(local_ts, sa.local.address);
  const auto tsr = nego::to_wire(remote_ts, sa.remote.address);
  pc.child.tsi = local_ts;
  pc.child.tsr = remote_ts;

  std::vector<Payload> payloads;
  if (rekeys_spi_in) {
    codec::Notify rekey;
    rekey.protocol = child_protocol(cc);
    rekey.type = NotifyType::rekey_sa;
    rekey.spi = spi_bytes(rekeys_spi_in);  // §1.3.3: the SPI the sender receives the old SA's packets on
    payloads.push_back(Payload{PayloadType::notify, std::move(rekey)});
  }
  payloads.push_back(Payload{PayloadType::security_association, pc.child.sa});
  payloads.push_back(Payload{PayloadType::nonce, codec::Nonce{pc.nonce}});
  if (pc.key_exchange)
    payloads.push_back(Payload{PayloadType::key_exchange,
                               codec::KeyExchange{static_cast<std::uint16_t>(pc.key_exchange->group()),
                                                  pc.key_exchange->public_value()}});
  payloads.push_back(Payload{PayloadType::traffic_selector_initiator, tsi});
  payloads.push_back(Payload{PayloadType::traffic_selector_responder, tsr});
  if (cc.mode == config::ChildMode::transport) payloads.push_back(notify(NotifyType::use_transport_mode));
  sa.pending_create = std::move(pc);
  if (!send_request(sa, iana::ExchangeType::create_child_sa, std::move(payloads), now)) {
    release_child_spi(sa.pending_create->child.spi_in);
    sa.pending_create.reset();
    return false;
  }
  return true;
}

void Manager::send_delete_child(IkeSa& sa, ChildSa& child, TimePoint now) {
  codec::Delete d;
  d.protocol = child.protocol;
  d.spis.push_back(child.spi_in);  // §3.11: the SPI we receive on
  log::info("ike", sa.name() + " deleting CHILD_SA " + child.name + " (SPIs " + hex32(child.spi_in) + "_i " +
                       hex32(child.spi_out) + "_o)");
  child.state = ChildSaState::deleting;
  send_request(sa, iana::ExchangeType::informational, {Payload{PayloadType::delete_, std::move(d)}}, now);
}

bool Manager::lifetime_reached(std::uint64_t channel_sa_id, bool hard, TimePoint now) {
  if (!hard) return renew_child_sa(channel_sa_id, "reached its soft volume limit", now);
  for (auto& [id, owned] : sas_) {
    IkeSa& sa = *owned;
    for (auto& c : sa.children) {
      if (c.record_in.sa_id != channel_sa_id && c.record_out.sa_id != channel_sa_id) continue;
      ++stats_.child_sas_expired;
      log::warning("ike", sa.name() + " CHILD_SA " + c.name + " reached its hard volume limit, deleting it");
      if (c.state != ChildSaState::deleting) sa.tasks.push_front(Task{Task::Kind::delete_child, c.spi_in});
      run_tasks(sa, now);
      return true;
    }
  }
  return false;
}

bool Manager::renew_child_sa(std::uint64_t channel_sa_id, std::string_view reason, TimePoint now) {
  return renew_child_sas({channel_sa_id}, reason, now).empty();
}

std::vector<std::uint64_t> Manager::renew_child_sas(const std::vector<std::uint64_t>& channel_sa_ids,
                                                    std::string_view reason, TimePoint now) {
  std::unordered_set<std::uint64_t> wanted(channel_sa_ids.begin(), channel_sa_ids.end());
  std::unordered_set<std::uint64_t> found;
  for (auto& [id, owned] : sas_) {
    IkeSa& sa = *owned;
    bool queued = false;
    for (auto& c : sa.children) {
      const bool in = wanted.count(c.record_in.sa_id) != 0;
      const bool out = wanted.count(c.record_out.sa_id) != 0;
      if (!in && !out) continue;
      if (in) found.insert(c.record_in.sa_id);
      if (out) found.insert(c.record_out.sa_id);
      if (c.state != ChildSaState::installed || sa.has_task(Task::Kind::rekey_child, c.spi_in)) continue;
      // A rekey responder's new pair whose predecessor's Delete has not
      // come yet takes the outbound policies first, so that its own
      // successor takes them from it (and the predecessor's Delete leaves
      // them alone).
      if (c.outbound_pending) switch_outbound(sa, c);
      log::info("ike", sa.name() + " CHILD_SA " + c.name + " " + std::string(reason) + ", rekeying it");
      c.rekey_at = TimePoint::max();
      sa.tasks.push_back(Task{Task::Kind::rekey_child, c.spi_in});
      queued = true;
    }
    if (queued) run_tasks(sa, now);  // after the walk over its children: it may change them
  }
  std::vector<std::uint64_t> unknown;
  for (const auto id : channel_sa_ids)
    if (!found.count(id)) unknown.push_back(id);
  return unknown;
}

// --- Responder ---------------------------------------------------------------

void Manager::refuse_create_child(IkeSa& sa, const codec::Header& header, NotifyType type, Bytes data,
                                  const std::string& why) {
  ++stats_.notifies_sent[std::string(iana::notify_type_name(type))];
  log::warning("ike", sa.name() + " CREATE_CHILD_SA refused with " + std::string(iana::notify_type_name(type)) + ": " +
                          why);
  send_response(sa, header, {payload::notify(type, std::move(data))});
}

void Manager::respond_create_child_sa(IkeSa& sa, const codec::Header& header, const std::vector<Payload>& payloads,
                                      TimePoint now) {
  auto answer_error = [&](NotifyType type, Bytes data, const std::string& why) {
    refuse_create_child(sa, header, type, std::move(data), why);
  };
  if (sa.state() != IkeSaState::established)
    return answer_error(NotifyType::temporary_failure, {}, "the IKE SA is " + std::string(to_string(sa.state())));
  const auto* offered = payload::find<codec::SecurityAssociation>(payloads, PayloadType::security_association);
  const auto* nonce = payload::find<codec::Nonce>(payloads, PayloadType::nonce);
  const auto* ke = payload::find<codec::KeyExchange>(payloads, PayloadType::key_exchange);
  if (!offered || !nonce || offered->proposals.empty())
    return answer_error(NotifyType::invalid_syntax, {}, "no SA or Ni payload");
  if (offered->proposals.front().protocol == iana::ProtocolId::ike)
    return respond_rekey_ike(sa, header, *offered, nonce->data, ke, now);
  const auto ke_group = ke ? std::optional<iana::KeId>(static_cast<iana::KeId>(ke->group)) : std::nullopt;
  const Bytes nonce_r = random_bytes(options_.nonce_size);

  // --- Child SA, new or rekeyed (§1.3.1, §1.3.3) ---
  const auto* tsi = payload::find<codec::TrafficSelectors>(payloads, PayloadType::traffic_selector_initiator);
  const auto* tsr = payload::find<codec::TrafficSelectors>(payloads, PayloadType::traffic_selector_responder);
  if (!tsi || !tsr) return answer_error(NotifyType::invalid_syntax, {}, "Child SA without TSi/TSr");
  const ChildSa* old = nullptr;
  std::uint32_t old_spi_in = 0;
  if (const auto* rekey = find_notify(payloads, NotifyType::rekey_sa)) {
    const auto spi = spi_value(rekey->spi);
    old = spi ? find_child_by_spi_out(sa, *spi) : nullptr;
    if (!old) return answer_error(NotifyType::child_sa_not_found, {}, "REKEY_SA for an unknown Child SA");
    // §2.25.1: a Child SA we are closing (its Delete is out, or our own
    // rekey replaced it and its Delete follows) is not rekeyed again.
    if (old->state == ChildSaState::deleting || old->state == ChildSaState::rekeyed)
      return answer_error(NotifyType::temporary_failure, {},
                          "CHILD_SA " + old->name + " " + hex32(old->spi_in) + "_i is " +
                              std::string(to_string(old->state)) + " already");
    old_spi_in = old->spi_in;
  }
  const auto proposed_i = nego::from_wire(*tsi);
  const auto proposed_r = nego::from_wire(*tsr);
  const config::ChildConfig* child = old ? old->config : nullptr;
  std::vector<net::TrafficSelector> narrowed_i, narrowed_r;
  for (const auto& c : sa.connection->children) {
    if (child && &c != child) continue;
    auto ni = nego::narrow(proposed_i, nego::from_wire(nego::to_wire(c.remote_ts, sa.remote.address)));
    auto nr = nego::narrow(proposed_r, nego::from_wire(nego::to_wire(c.local_ts, sa.local.address)));
    if (ni.empty() || nr.empty()) continue;
    child = &c;
    narrowed_i = std::move(ni);
    narrowed_r = std::move(nr);
    break;
  }
  if (!child || narrowed_i.empty())
    return answer_error(NotifyType::ts_unacceptable, {}, "no child of " + sa.connection->name + " fits the selectors");
  auto selected = nego::select_proposal(*offered, child_proposals(*child), child_protocol(*child),
                                        nego::SelectFor::create_child, ke_group);
  if (!selected.ok()) return answer_error(NotifyType::no_proposal_chosen, {}, selected.error().message);
  if (const auto want = nego::group_for_retry(*selected, ke_group))
    return answer_error(NotifyType::invalid_ke_payload, payload::group_bytes(*want), "PFS group " + payload::group_name(*want) + " wanted");
  const auto spi_out = spi_value(selected->proposal.spi);
  if (!spi_out) return answer_error(NotifyType::invalid_syntax, {}, "Child SA proposal without a 4-byte SPI");
  std::optional<codec::DiffieHellman> dh;
  std::optional<config::SecretBytes> g_ir;
  if (selected->key_exchange) {
    auto ours = codec::DiffieHellman::generate(*selected->key_exchange);
    if (!ours.ok()) return answer_error(NotifyType::no_proposal_chosen, {}, ours.error().message);
    auto shared = ours->shared_secret(ke->data);
    if (!shared.ok()) return answer_error(NotifyType::invalid_syntax, {}, shared.error().message);
    dh.emplace(std::move(*ours));
    g_ir = std::move(*shared);
  }
  const auto spi_in = random_child_spi();
  const ChildKeying keying{false, nonce->data, nonce_r,
                           g_ir ? std::span<const std::uint8_t>(g_ir->data(), g_ir->size()) : std::span<const std::uint8_t>{}};
  ChildSa* replacing = old_spi_in ? find_child_by_spi_in(sa, old_spi_in) : nullptr;
  if (!install_child(sa, *child, *selected, spi_in, *spi_out, narrowed_r, narrowed_i, keying, now, replacing,
                     Takeover::on_delete)) {
    release_child_spi(spi_in);
    return answer_error(NotifyType::temporary_failure, {}, "the Child SA could not be installed");
  }
  if (old_spi_in) {
    // The peer deletes the old pair next (§2.8); until then it still
    // receives. If our own rekey of it is out, both ends rekeyed at once
    // (§2.8.1): what the peer's exchange made is noted, and our response
    // settles which new pair stays.
    if (ChildSa* o = find_child_by_spi_in(sa, old_spi_in)) {
      const bool ours_out = sa.pending_create && sa.pending_create->kind == PendingCreate::Kind::child &&
                            sa.pending_create->child.rekeys_spi_in == old_spi_in;
      if (ours_out) {
        sa.pending_create->child.collision = PendingChild::Collision{spi_in, std::min(nonce->data, nonce_r)};
        log::info("ike", sa.name() + " CHILD_SA " + o->name + " is rekeyed by the peer while our rekey of it is out "
                                     "(a collision, RFC 7296 §2.8.1): settled when our response arrives");
      }
      o->state = ChildSaState::rekeyed;
    }
    ++stats_.child_sas_rekeyed;
  }
  std::vector<Payload> response;
  response.push_back(Payload{PayloadType::security_association,
                             codec::SecurityAssociation{{selected->for_response(spi_bytes(spi_in))}}});
  response.push_back(Payload{PayloadType::nonce, codec::Nonce{nonce_r}});
  if (dh)
    response.push_back(Payload{PayloadType::key_exchange,
                               codec::KeyExchange{static_cast<std::uint16_t>(dh->group()), dh->public_value()}});
  response.push_back(Payload{PayloadType::traffic_selector_initiator, nego::to_wire(narrowed_i, sa.remote.address)});
  response.push_back(Payload{PayloadType::traffic_selector_responder, nego::to_wire(narrowed_r, sa.local.address)});
  if (child->mode == config::ChildMode::transport) response.push_back(notify(NotifyType::use_transport_mode));
  send_response(sa, header, std::move(response));
}

// --- Initiator: the response -------------------------------------------------

void Manager::process_create_child_sa_response(IkeSa& sa, const std::vector<Payload>& payloads, TimePoint now) {
  if (!sa.pending_create) return drop("unexpected_response", sa.name() + " CREATE_CHILD_SA response to nothing");
  PendingCreate pc = std::move(*sa.pending_create);
  sa.pending_create.reset();
  if (pc.kind == PendingCreate::Kind::rekey_ike) {
    if (const auto* error = first_error(payloads))
      ++stats_.notifies_received[std::string(iana::notify_type_name(error->type))];
    return process_rekey_ike_response(sa, std::move(pc), payloads, now);
  }
  ChildSa* old = find_child_by_spi_in(sa, pc.child.rekeys_spi_in);
  const std::string what = "CHILD_SA " + pc.child.config->name + (old ? " rekey" : "");
  auto give_up = [&](const std::string& why) {
    log::warning("ike", sa.name() + " " + what + " failed: " + why);
    release_child_spi(pc.child.spi_in);
    // Rekeyed by the peer meanwhile (a collision), it waits for the
    // peer's Delete; otherwise it stays until its life_time, or a later
    // try, jittered: two ends that collided and were both refused would
    // otherwise collide again, in step.
    if (old && old->state == ChildSaState::rekeying) {
      old->state = ChildSaState::installed;
      old->rekey_at = now + kRetryAfterTemporaryFailure + jitter(kRetryAfterTemporaryFailure);
    }
  };
  if (const auto* error = first_error(payloads)) {
    ++stats_.notifies_received[std::string(iana::notify_type_name(error->type))];
    if (error->type == NotifyType::child_sa_not_found && old) {
      log::warning("ike", sa.name() + " peer no longer knows CHILD_SA " + old->name + ": removing it");
      return retire_child(sa, old->spi_in);
    }
    return give_up("peer answered " + std::string(iana::notify_type_name(error->type)));
  }
  const auto* sa_payload = payload::find<codec::SecurityAssociation>(payloads, PayloadType::security_association);
  const auto* nonce = payload::find<codec::Nonce>(payloads, PayloadType::nonce);
  const auto* ke = payload::find<codec::KeyExchange>(payloads, PayloadType::key_exchange);
  if (!sa_payload || !nonce) return give_up("response without SA or Nr");

  const auto& cc = *pc.child.config;
  auto selected = nego::accept_response(pc.child.sa, *sa_payload, child_protocol(cc));
  if (!selected.ok()) return give_up(selected.error().message);
  const auto spi_out = spi_value(selected->proposal.spi);
  const auto* tsi = payload::find<codec::TrafficSelectors>(payloads, PayloadType::traffic_selector_initiator);
  const auto* tsr = payload::find<codec::TrafficSelectors>(payloads, PayloadType::traffic_selector_responder);
  if (!spi_out || !tsi || !tsr) return give_up("response without a 4-byte SPI or traffic selectors");
  const auto local_ts = nego::from_wire(*tsi);
  const auto remote_ts = nego::from_wire(*tsr);
  std::string ts_why;
  if (!nego::is_subset(local_ts, pc.child.tsi, &ts_why) || !nego::is_subset(remote_ts, pc.child.tsr, &ts_why))
    return give_up("responder widened the traffic selectors: " + ts_why);
  std::optional<config::SecretBytes> g_ir;
  if (pc.key_exchange) {
    if (!ke || ke->group != static_cast<std::uint16_t>(pc.key_exchange->group()))
      return give_up("PFS response without our group's KE payload");
    auto shared = pc.key_exchange->shared_secret(ke->data);
    if (!shared.ok()) return give_up(shared.error().message);
    g_ir = std::move(*shared);
  }
  const ChildKeying keying{true, pc.nonce, nonce->data,
                           g_ir ? std::span<const std::uint8_t>(g_ir->data(), g_ir->size()) : std::span<const std::uint8_t>{}};
  ChildSa* predecessor = old ? old : reauth_predecessor(sa, cc);
  if (!install_child(sa, cc, *selected, pc.child.spi_in, *spi_out, local_ts, remote_ts, keying, now, predecessor,
                     old ? Takeover::now : Takeover::reauth))
    return give_up("the new Child SA could not be installed");
  if (pc.child.rekeys_spi_in) {
    ++stats_.child_sas_rekeyed;
    if (pc.child.collision) {
      settle_rekey_collision(sa, pc.child.rekeys_spi_in, *pc.child.collision, pc.child.spi_in,
                             std::min(pc.nonce, nonce->data));
    } else if (ChildSa* o = find_child_by_spi_in(sa, pc.child.rekeys_spi_in)) {
      // Make-before-break: the new pair carries the traffic; now the old goes.
      o->state = ChildSaState::rekeyed;
      sa.tasks.push_front(Task{Task::Kind::delete_child, o->spi_in});
    }
  }
  run_tasks(sa, now);
}

// Both ends rekeyed the Child SA `old_spi_in` at once, so there are two new
// pairs: ours (made by our exchange) and the peer's. RFC 7296 §2.8.1: the
// pair made with the lowest of the four nonces is redundant and is deleted
// by the end whose exchange made it; the end whose exchange made the
// surviving pair deletes the old one. Both ends compare the same four
// nonces, so they agree without a word; "lowest" is octet by octet, a
// nonce that ends first being the lower, which is how std::vector compares.
// The peer may have acted on it before our response came: deleted its
// redundant pair, or (having won) the old pair.
void Manager::settle_rekey_collision(IkeSa& sa, std::uint32_t old_spi_in, const PendingChild::Collision& collision,
                                     std::uint32_t ours_spi_in, const Bytes& our_lowest_nonce) {
  ++stats_.child_rekey_collisions;
  ChildSa* ours = find_child_by_spi_in(sa, ours_spi_in);
  ChildSa* theirs = find_child_by_spi_in(sa, collision.peer_successor_spi_in);
  ChildSa* old = find_child_by_spi_in(sa, old_spi_in);
  if (!ours) return;
  const bool ours_redundant = our_lowest_nonce < collision.peer_lowest_nonce;
  const std::string name = ours->name;
  log::info("ike", sa.name() + " CHILD_SA " + name + " was rekeyed by both ends at once (RFC 7296 §2.8.1): " +
                       (ours_redundant ? "the peer's pair stays; ours, " + hex32(ours->spi_in) + "_i " +
                                             hex32(ours->spi_out) + "_o, made with the lowest nonce, goes"
                                       : "our pair " + hex32(ours->spi_in) + "_i " + hex32(ours->spi_out) +
                                             "_o stays; the peer deletes its own, made with the lowest nonce") +
                       (theirs ? "" : " (the peer's pair is gone already)") + (old ? "" : " (the old pair too)"));
  if (ours_redundant) {
    ours->superseded = true;  // no "down": the tunnel carries on in the peer's pair
    ours->state = ChildSaState::rekeyed;
    ours->rekey_at = TimePoint::max();
    if (theirs) {
      // The peer's pair carries our traffic from now on: it takes the
      // outbound policy ids ours holds (if the old pair is gone, it has
      // them already and ours holds its own). The peer deletes the old pair.
      if (theirs->outbound_pending) {
        theirs->predecessor_spi_in = ours->spi_in;
        switch_outbound(sa, *theirs);
      }
    }
    sa.tasks.push_front(Task{Task::Kind::delete_child, ours_spi_in});
    return;
  }
  if (theirs) {
    // Ours carries the traffic already. The peer's pair never takes it
    // over: its outbound policies (the ids ours holds) are dropped unsent.
    theirs->superseded = true;
    theirs->state = ChildSaState::rekeyed;
    theirs->rekey_at = TimePoint::max();
    if (theirs->outbound_pending) {
      theirs->outbound_pending = false;
      theirs->outbound_policies.clear();
    }
  }
  if (old) sa.tasks.push_front(Task{Task::Kind::delete_child, old_spi_in});
}

}  // namespace corridor::control::ikev2
