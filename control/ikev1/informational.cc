// Informational exchanges protected by the ISAKMP SA (RFC 2409 §5.7):
//
//   [ HASH(1), N | D ]    HASH(1) = prf(SKEYID_a, M-ID | N/D)
//
// each with its own IV chain, like a Quick Mode. What arrives: Delete of
// the ISAKMP SA or of IPsec SAs (by the SPI the peer receives on, which is
// our outbound SPI), DPD's R-U-THERE (answered with R-U-THERE-ACK and the
// same sequence number, RFC 3706 §5) and notifications, which are logged
// and counted. One-way: nothing is retransmitted.
#include <openssl/crypto.h>

#include <algorithm>
#include <cstdio>

#include "common/log/log.h"
#include "control/ikev1/manager.h"

namespace corridor::control::ikev1 {

using codec::Payload;
using v1::ExchangeType;
using v1::NotifyType;
using v1::PayloadType;

namespace {
// How many of the peer's Informational Message IDs are remembered: far
// more than a DPD interval or a rekey brings in the time a replay is worth
// trying, and a linear search of this many is nothing.
constexpr std::size_t kInformationalReplayWindow = 64;

// Whether the peer's Delete of this pair closes its child (close_action):
// a renewed, redundant or retiring pair's Delete ends a rekey instead.
bool closes_child(const IpsecSa& ipsec) {
  return ipsec.child && !ipsec.renewed && !ipsec.redundant && !ipsec.retire_at;
}
}  // namespace

bool Manager::send_informational(IsakmpSa& sa, std::vector<Payload> payloads, TimePoint now) {
  if (!sa.keys || !sa.cipher) return false;
  const std::uint32_t mid = random_message_id(sa);
  auto chain = phase2_chain(sa, mid);
  if (!chain) return false;
  auto rest = codec::serialise_payloads(payloads);
  if (!rest.ok()) return false;
  auto hash = corridor::ikev1::hash_1(sa.suite->keys().prf, sa.keys->skeyid_a, mid, *rest);
  if (!hash.ok()) return false;
  std::vector<Payload> all{Payload{PayloadType::hash, codec::Hash{std::move(*hash)}}};
  for (auto& p : payloads) {
    if (const auto* n = std::get_if<codec::Notification>(&p.body); n && v1::notify_is_error(n->type))
      ++stats_.notifies_sent[std::string(v1::notify_type_name(n->type))];
    all.push_back(std::move(p));
  }
  LastSent once;
  return send_encrypted(sa, ExchangeType::informational, mid, *chain, once, all, false, now);
}

void Manager::informational(IsakmpSa& sa, const codec::ParsedHeader& header, std::span<const std::uint8_t> datagram,
                            TimePoint now) {
  const auto mid = header.header.message_id;
  auto chain = phase2_chain(sa, mid);
  if (!chain) return;
  auto message = open(sa, header, datagram, *chain);
  if (!message) return;
  if (message->payloads.empty() || message->payloads.front().type != PayloadType::hash)
    return drop("malformed", sa.name() + " protected message without a HASH payload first");
  const auto* hash = message->payloads.empty() ? nullptr : std::get_if<codec::Hash>(&message->payloads.front().body);
  auto want = corridor::ikev1::hash_1(sa.suite->keys().prf, sa.keys->skeyid_a, mid, after_hash(*message));
  if (!hash || !want.ok() || want->size() != hash->data.size() ||
      CRYPTO_memcmp(want->data(), hash->data.data(), want->size()) != 0)
    return drop("hash_mismatch", sa.name() + " Informational with a missing or wrong HASH(1)");
  auto& seen = sa.recent_informational_ids;
  if (std::find(seen.begin(), seen.end(), mid) != seen.end())
    return drop("replayed", sa.name() + " Informational " + "0x" + hex32(mid) + " seen before (a replay)");
  if (seen.size() >= kInformationalReplayWindow) seen.erase(seen.begin());
  seen.push_back(mid);
  sa.last_received = now;

  bool delete_isakmp = false;
  const std::string connection_name = sa.connection ? sa.connection->name : std::string();
  std::vector<const config::ChildConfig*> closed;  // IPsec SAs the peer closed (close_action)
  for (const auto& p : message->payloads) {
    if (const auto* n = std::get_if<codec::Notification>(&p.body)) {
      const std::string name(v1::notify_type_name(n->type));
      if (n->type == NotifyType::r_u_there || n->type == NotifyType::r_u_there_ack) {
        dpd_notify(sa, *n, now);
        continue;
      }
      if (v1::notify_is_error(n->type)) {
        ++stats_.notifies_received[name];
        log::warning("ike", sa.name() + " the peer notifies " + name);
      } else {
        log::info("ike", sa.name() + " the peer notifies " + name);
      }
      continue;
    }
    const auto* d = std::get_if<codec::Delete>(&p.body);
    if (!d) continue;
    if (d->protocol == v1::ProtocolId::isakmp) {
      for (const auto& spi : d->spis) {
        if (spi.size() == 16 && std::equal(sa.cookie_i.begin(), sa.cookie_i.end(), spi.begin()) &&
            std::equal(sa.cookie_r.begin(), sa.cookie_r.end(), spi.begin() + 8))
          delete_isakmp = true;
      }
      continue;
    }
    for (const auto& spi_b : d->spis) {
      if (spi_b.size() != 4) continue;
      const auto spi = spi_value(spi_b);
      const auto it = std::find_if(sa.ipsec_sas.begin(), sa.ipsec_sas.end(),
                                   [&](const IpsecSa& s) { return s.spi_out == spi; });
      if (it == sa.ipsec_sas.end()) {
        drop("unknown_spi", sa.name() + " Delete for IPsec SA " + hex32(spi) + " we do not have");
        continue;
      }
      log::info("ike", sa.name() + " the peer deleted IPsec SA " + it->name + " (SPIs " + hex32(it->spi_in) + "_i " +
                           hex32(it->spi_out) + "_o)");
      if (closes_child(*it)) closed.push_back(it->child);
      uninstall(sa, *it);
      sa.ipsec_sas.erase(it);
    }
  }
  if (delete_isakmp) {
    // IPsec SAs outlive their ISAKMP SA where a newer one with the peer
    // can hold them (the peer re-established Phase 1 and adopted them too).
    IsakmpSa* next = sa.ipsec_sas.empty() ? nullptr : successor(sa);
    if (next) {
      log::info("ike", next->name() + " takes over " + std::to_string(sa.ipsec_sas.size()) + " IPsec SA(s) of " +
                           sa.name());
      for (auto& ipsec : sa.ipsec_sas) {
        ipsec.rekey_started = false;
        next->ipsec_sas.push_back(std::move(ipsec));
      }
      sa.ipsec_sas.clear();
    }
    for (const auto& ipsec : sa.ipsec_sas)
      if (closes_child(ipsec)) closed.push_back(ipsec.child);
    log::info("ike", sa.name() + " the peer deleted the ISAKMP SA" +
                         (sa.ipsec_sas.empty() ? std::string() : " and with it " + std::to_string(sa.ipsec_sas.size()) +
                                                                     " IPsec SA(s)"));
    transition(sa, State::deleted);
    remove_sa(sa.id);
  }
  // close_action (strongSwan's): `start` negotiates what the peer closed
  // again, over this ISAKMP SA if it is up or a new one; `trap` installs
  // its trap policies; `none` leaves it.
  for (const auto* child : closed) {
    if (child->close_action != config::Action::start || stopping_) {
      log::info("ike", "IPsec SA " + child->name + " of " + connection_name + " closed by the peer (close_action " +
                           std::string(config::to_string(child->close_action)) + ")");
      if (child->close_action == config::Action::trap && options_.on_trap)
        if (const auto* conn = config_->find_connection(connection_name))
          options_.on_trap(*conn, *child, ike::TrapOrigin::close_action);
      continue;
    }
    ++stats_.children_restarted_on_close;
    log::info("ike", "IPsec SA " + child->name + " of " + connection_name +
                         " closed by the peer: negotiating it again (close_action start)");
    initiate(connection_name, child->name, now);
  }
}

void Manager::send_delete_ipsec(IsakmpSa& sa, v1::ProtocolId protocol, const std::vector<std::uint32_t>& spis_in,
                                TimePoint now) {
  codec::Delete d;
  d.protocol = protocol;
  d.spi_size = 4;
  for (auto spi : spis_in) d.spis.push_back(spi_bytes(spi));
  send_informational(sa, {Payload{PayloadType::delete_, std::move(d)}}, now);
}

void Manager::uninstall(const IsakmpSa& sa, IpsecSa& ipsec) {
  for (const auto& p : ipsec.outbound_policies) sink_.remove_policy(p.policy_id);
  for (auto id : ipsec.inbound_policy_ids) sink_.remove_policy(id);
  ipsec.outbound_policies.clear();
  ipsec.inbound_policy_ids.clear();
  sink_.remove_sa(ipsec.sa_id_in);
  sink_.remove_sa(ipsec.sa_id_out);
  spis_->release(ipsec.spi_in);
  ++stats_.ipsec_sas_deleted;
  if (!ipsec.renewed) emit(ike::SaEvent::Kind::child_down, sa, &ipsec);
}

void Manager::discard(IsakmpSa& sa) {
  for (auto& ipsec : sa.ipsec_sas) uninstall(sa, ipsec);
  sa.ipsec_sas.clear();
  for (auto& [mid, qm] : sa.quick_modes) abandon(qm);
  sa.quick_modes.clear();
}

void Manager::delete_sa(IsakmpSa& sa, TimePoint now, std::string_view why) {
  if (phase1_established(sa.state)) {
    // The IPsec SAs first (by our inbound SPIs), then the ISAKMP SA, as strongSwan does.
    std::vector<std::uint32_t> esp, ah;
    for (const auto& ipsec : sa.ipsec_sas) (ipsec.suite.protocol == v1::ProtocolId::ah ? ah : esp).push_back(ipsec.spi_in);
    if (!esp.empty()) send_delete_ipsec(sa, v1::ProtocolId::esp, esp, now);
    if (!ah.empty()) send_delete_ipsec(sa, v1::ProtocolId::ah, ah, now);
    return delete_isakmp_only(sa, now, why);
  }
  log::info("ike", sa.name() + " deleted (" + std::string(why) + ")");
  transition(sa, State::deleted);
  remove_sa(sa.id);
}

namespace {

// Phase 1 waits for the peer's last message, which the peer sends as it
// becomes established itself.
bool awaiting_last_message(const IsakmpSa& sa) {
  return sa.initiator() ? sa.state == State::mm_auth_sent : sa.state == State::am_resp_sent;
}

}  // namespace

void Manager::shutdown(TimePoint now) {
  stopping_ = true;
  std::vector<std::uint64_t> ids;
  for (const auto& [id, sa] : sas_) ids.push_back(id);
  for (auto id : ids) {
    IsakmpSa& sa = *sas_.at(id);
    if (awaiting_last_message(sa)) {
      log::info("ike", sa.name() + " waits for the peer's last Phase 1 message before its Delete (shutdown)");
      continue;
    }
    delete_sa(sa, now, "shutdown");
  }
}

bool Manager::drained() const {
  return std::none_of(sas_.begin(), sas_.end(), [](const auto& entry) { return awaiting_last_message(*entry.second); });
}

void Manager::finish_shutdown(TimePoint now) {
  stopping_ = true;
  std::vector<std::uint64_t> ids;
  for (const auto& [id, sa] : sas_) ids.push_back(id);
  for (auto id : ids) delete_sa(*sas_.at(id), now, "shutdown");
}

}  // namespace corridor::control::ikev1
