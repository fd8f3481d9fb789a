// The ISAKMP SA's life after MM_DONE / AM_DONE: its lifetime, its
// replacement, and INITIAL-CONTACT.
//
// IKEv1 has no rekeying of the ISAKMP SA. Before its lifetime ends a new
// one is negotiated with a fresh Main (or Aggressive) Mode, the IPsec SAs
// move over to it, and the old one is deleted (a Delete of the ISAKMP SA
// only: RFC 2409 §5's IPsec SAs do not depend on the ISAKMP SA that made
// them). This is what strongSwan does ("reauthentication" in its IKEv1),
// from either role, and it adopts our IPsec SAs the same way when we do it;
// so do we when the peer does it: a new ISAKMP SA with the same peer takes
// the IPsec SAs of the older ones, which are then left for the peer to
// delete (or their lifetime to end) and neither probe nor re-establish.
//
// When re-establishment is due (soft):
//   reauth_time, or rekey_time when that is 0 (both mean "renew" in IKEv1),
//   less a random part of rand_time, so two peers seldom start together;
//   no later than nine tenths of the negotiated lifetime, which the peer may
//   have made shorter than ours. 0 and 0: never.
// When the SA ends (hard): the negotiated lifetime (our offer is the soft
//   time plus over_time, phase1_payloads.cc).
//
// INITIAL-CONTACT (RFC 2407 §4.6.3.3): the initiator sends it in Main Mode
// 5 / Aggressive Mode 3 when it has no other ISAKMP SA with that peer, so a
// responder that still holds SAs from before our restart drops them. We
// honour it the same way: older ISAKMP SAs of that connection and peer
// identity go, with their IPsec SAs, without a message (the peer has
// forgotten them). Only in an encrypted message, where it is protected.
#include <algorithm>

#include "common/log/log.h"
#include "control/ikev1/manager.h"

namespace corridor::control::ikev1 {

using codec::Payload;
using v1::NotifyType;
using v1::PayloadType;

void Manager::schedule_lifetime(IsakmpSa& sa, TimePoint now) {
  const auto& conn = *sa.connection;
  const std::chrono::seconds life(sa.suite && sa.suite->life_seconds ? sa.suite->life_seconds : 0);
  if (life.count() > 0) sa.expire_at = now + life;
  auto soft = conn.reauth_time.count() > 0 ? conn.reauth_time : conn.rekey_time;
  if (soft.count() <= 0) return;
  if (life.count() > 0 && soft >= life * 9 / 10) soft = life * 9 / 10;
  // The random part: at most rand_time, at most half of what is left.
  const auto span = std::min<std::int64_t>(conn.rand_time.count(), soft.count() / 2);
  std::int64_t jitter = 0;
  if (span > 0) {
    std::array<std::uint8_t, 4> b{};
    options_.random(b);
    const std::uint32_t r = std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
    jitter = static_cast<std::int64_t>(r % static_cast<std::uint64_t>(span + 1));
  }
  sa.reestablish_at = now + soft - std::chrono::seconds(jitter);
}

bool Manager::reestablish(IsakmpSa& old, TimePoint now) {
  old.reestablish_at = TimePoint::max();
  const auto* conn = old.connection;
  if (old.ipsec_sas.empty()) {
    // Nothing to carry over: the SA is left to its lifetime, as strongSwan
    // does ("no CHILD_SA to recreate"); a new Quick Mode starts a new one.
    log::info("ike", old.name() + " has no IPsec SA to carry over: not re-established, it ends at its lifetime");
    return false;
  }
  IsakmpSa& sa = create_sa(conn, Role::initiator, now);
  // To where the peer is now, NAT-T port included: its NAT mapping is the one we know works.
  sa.local = old.local;
  sa.remote = old.remote;
  sa.replaces = old.id;
  old.replacement = sa.id;
  log::info("ike", old.name() + " re-establishing the ISAKMP SA as " + sa.name() + " before its lifetime ends");
  ++stats_.phase1_reestablished;
  const bool started = conn->aggressive ? (sa.state = State::am_idle, start_aggressive_mode(sa, now))
                                        : start_main_mode(sa, now);
  if (!started) {
    log::warning("ike", old.name() + " re-establishment could not start (see above); it ends at its lifetime");
    old.replacement = 0;
    remove_sa(sa.id);
    return false;
  }
  return true;
}

bool Manager::same_peer(const IsakmpSa& a, const IsakmpSa& b) {
  return a.connection == b.connection && a.remote.address == b.remote.address && a.remote_id == b.remote_id;
}

std::uint64_t Manager::adopt_ipsec_sas(IsakmpSa& sa, TimePoint now) {
  std::vector<std::uint64_t> replaced;
  std::uint64_t took_over = 0;
  for (auto& [id, other_ptr] : sas_) {
    IsakmpSa& other = *other_ptr;
    if (id == sa.id || !phase1_established(other.state) || other.superseded || !same_peer(sa, other)) continue;
    other.superseded = true;
    other.reestablish_at = TimePoint::max();
    if (!took_over) took_over = id;
    // Its Quick Modes under way would install into an SA that no longer
    // holds the IPsec SAs: they end here, and the new SA renews what is due.
    std::vector<std::uint32_t> running;
    for (const auto& [mid, qm] : other.quick_modes)
      if (qm.state != State::qm_done) running.push_back(mid);
    for (const auto mid : running) quick_mode_failed(other, mid, "its ISAKMP SA was superseded by " + sa.name(), now);
    if (!other.ipsec_sas.empty())
      log::info("ike", sa.name() + " takes over " + std::to_string(other.ipsec_sas.size()) + " IPsec SA(s) of " +
                           other.name());
    for (auto& ipsec : other.ipsec_sas) {
      // A renewal under way belongs to the old SA's Quick Mode, which will
      // not finish here: the new SA renews it (at once if it is due).
      ipsec.rekey_started = false;
      sa.ipsec_sas.push_back(std::move(ipsec));
    }
    other.ipsec_sas.clear();
    if (id == sa.replaces) replaced.push_back(id);
  }
  for (auto id : replaced) {
    IsakmpSa& old = *sas_.at(id);
    delete_isakmp_only(old, now, "re-established as " + sa.name());
  }
  return took_over;
}

void Manager::delete_isakmp_only(IsakmpSa& sa, TimePoint now, std::string_view why) {
  codec::Delete isakmp;
  isakmp.protocol = v1::ProtocolId::isakmp;
  isakmp.spi_size = 16;
  isakmp.spis.push_back(sa.cookie_pair());
  send_informational(sa, {Payload{PayloadType::delete_, std::move(isakmp)}}, now);
  log::info("ike", sa.name() + " deleted (" + std::string(why) + ")");
  transition(sa, State::deleted);
  remove_sa(sa.id);
}

IsakmpSa* Manager::successor(const IsakmpSa& sa) {
  IsakmpSa* newest = nullptr;
  for (auto& [id, other] : sas_) {
    if (id != sa.id && phase1_established(other->state) && !other->superseded && same_peer(sa, *other))
      newest = other.get();  // ids grow: the last one is the newest
  }
  return newest;
}

bool Manager::has_contact(const IsakmpSa& sa) const {
  return std::any_of(sas_.begin(), sas_.end(), [&](const auto& entry) {
    const IsakmpSa& other = *entry.second;
    return other.id != sa.id && other.connection == sa.connection && other.remote.address == sa.remote.address &&
           phase1_established(other.state);
  });
}

codec::Payload Manager::initial_contact(const IsakmpSa& sa) {
  codec::Notification n;
  n.protocol = v1::ProtocolId::isakmp;
  n.type = NotifyType::initial_contact;
  n.spi = sa.cookie_pair();
  return Payload{PayloadType::notification, std::move(n)};
}

void Manager::honour_initial_contact(IsakmpSa& sa, const std::vector<Payload>& payloads) {
  const bool sent = std::any_of(payloads.begin(), payloads.end(), [](const Payload& p) {
    const auto* n = std::get_if<codec::Notification>(&p.body);
    return n && n->type == NotifyType::initial_contact;
  });
  if (!sent) return;
  std::vector<std::uint64_t> stale;
  for (const auto& [id, other] : sas_) {
    if (id != sa.id && other->connection == sa.connection && other->remote_id == sa.remote_id &&
        phase1_established(other->state))
      stale.push_back(id);
  }
  if (stale.empty()) {
    log::debug("ike", sa.name() + " INITIAL-CONTACT from '" + sa.remote_id + "': no older SAs to drop");
    return;
  }
  for (auto id : stale) {
    IsakmpSa& old = *sas_.at(id);
    log::info("ike", old.name() + " replaced: '" + sa.remote_id + "' sent INITIAL-CONTACT from " + sa.name() +
                         ", dropping it with its " + std::to_string(old.ipsec_sas.size()) + " IPsec SA(s)");
    ++stats_.initial_contact_replaced;
    transition(old, State::deleted);
    remove_sa(id);
  }
}

void Manager::tick_lifetime(IsakmpSa& sa, TimePoint now, std::vector<std::uint64_t>& ended) {
  if (!phase1_established(sa.state)) return;
  if (now >= sa.expire_at) {
    ended.push_back(sa.id);
    return;
  }
  if (sa.replacement != 0 && sas_.count(sa.replacement) == 0) {
    // The replacement failed (logged where it did): try again a little
    // later, while the lifetime allows.
    sa.replacement = 0;
    sa.reestablish_at = now + options_.reestablish_retry;
    log::info("ike", sa.name() + " re-establishment failed; trying again in " +
                         std::to_string(options_.reestablish_retry.count()) + " s");
  }
  if (now >= sa.reestablish_at && sa.replacement == 0 && !sa.superseded) reestablish(sa, now);
}

}  // namespace corridor::control::ikev1
