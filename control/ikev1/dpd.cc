// Dead Peer Detection for IKEv1 (RFC 3706), both halves:
//
//   answering   R-U-THERE -> R-U-THERE-ACK with the same sequence number
//               (§5), in a protected Informational exchange;
//   probing     when nothing authenticated came from the peer for the
//               connection's dpd_delay (and, when the dataplane reports it,
//               no ESP arrived on its IPsec SAs either: traffic proves the
//               peer alive, §5.3 "worry metric"), a R-U-THERE with the next
//               sequence number, repeated every dpd_delay while unanswered;
//   declaring   dead when nothing came back for dpd_timeout (default 150 s,
//               strongSwan's): the ISAKMP SA and its IPsec SAs go without a
//               message (the peer is not there to read it) and each child
//               follows its dpd_action.
//
// Probes go only to peers that sent the DPD vendor ID (§4): others would
// answer nothing, or an error. Sequence numbers start random and count up
// (§7); an ACK must carry the number of the probe outstanding.
#include <algorithm>

#include "common/log/log.h"
#include "control/ikev1/manager.h"

namespace corridor::control::ikev1 {

using codec::Payload;
using v1::NotifyType;
using v1::PayloadType;

namespace {

constexpr std::chrono::seconds kDefaultDpdTimeout{150};

Bytes sequence_bytes(std::uint32_t seq) {
  return {static_cast<std::uint8_t>(seq >> 24), static_cast<std::uint8_t>(seq >> 16),
          static_cast<std::uint8_t>(seq >> 8), static_cast<std::uint8_t>(seq)};
}

std::optional<std::uint32_t> sequence_of(const codec::Notification& n) {
  if (n.data.size() != 4) return std::nullopt;
  return std::uint32_t{n.data[0]} << 24 | std::uint32_t{n.data[1]} << 16 | std::uint32_t{n.data[2]} << 8 | n.data[3];
}

}  // namespace

std::chrono::seconds dpd_timeout(const config::ConnectionConfig& conn) {
  return conn.dpd_timeout.count() > 0 ? conn.dpd_timeout : kDefaultDpdTimeout;
}

void Manager::dpd_notify(IsakmpSa& sa, const codec::Notification& n, TimePoint now) {
  const auto seq = sequence_of(n);
  const bool cookies_match = n.spi == sa.cookie_pair();
  if (!seq || !cookies_match) {
    return drop("malformed", sa.name() + " " + std::string(v1::notify_type_name(n.type)) +
                                 (seq ? " for other cookies" : " without a 4-byte sequence number"));
  }
  if (n.type == NotifyType::r_u_there) {
    codec::Notification ack = n;
    ack.type = NotifyType::r_u_there_ack;
    ++stats_.dpd_answered;
    send_informational(sa, {Payload{PayloadType::notification, std::move(ack)}}, now);
    log::debug("ike", sa.name() + " R-U-THERE " + std::to_string(*seq) + " answered");
    return;
  }
  // R-U-THERE-ACK: whatever it says, it came authenticated (informational()
  // checked HASH(1) and set last_received); only the number is ours to check.
  if (!sa.dpd_outstanding || *seq != sa.dpd_seq) {
    return drop("dpd_unexpected_ack", sa.name() + " R-U-THERE-ACK " + std::to_string(*seq) +
                                          (sa.dpd_outstanding ? " (expected " + std::to_string(sa.dpd_seq) + ")"
                                                              : " with no R-U-THERE outstanding"));
  }
  ++stats_.dpd_acks;
  sa.dpd_outstanding = false;
  sa.dpd_last_acked = now;
  log::debug("ike", sa.name() + " R-U-THERE-ACK " + std::to_string(*seq));
}

bool Manager::ipsec_traffic_since(const IsakmpSa& sa, TimePoint since) const {
  if (!options_.last_inbound_packet) return false;
  return std::any_of(sa.ipsec_sas.begin(), sa.ipsec_sas.end(), [&](const IpsecSa& ipsec) {
    const auto last = options_.last_inbound_packet(ipsec.sa_id_in);
    return last && *last > since;
  });
}

bool Manager::tick_dpd(IsakmpSa& sa, TimePoint now) {
  if (!phase1_established(sa.state) || !sa.connection || sa.superseded) return false;
  const auto delay = sa.connection->dpd_delay;
  if (delay.count() <= 0 || !sa.peer_dpd) return false;
  // Anything authenticated (or ESP) since the probe went out answers it.
  if (sa.dpd_outstanding && (sa.last_received >= sa.dpd_first_sent || ipsec_traffic_since(sa, sa.dpd_first_sent)))
    sa.dpd_outstanding = false;
  if (sa.dpd_outstanding && now - sa.dpd_first_sent >= dpd_timeout(*sa.connection)) return true;
  if (now - sa.last_received < delay || ipsec_traffic_since(sa, now - delay)) return false;
  if (sa.dpd_outstanding && now - sa.dpd_last_sent < delay) return false;

  if (!sa.dpd_outstanding) {
    sa.dpd_outstanding = true;
    sa.dpd_first_sent = now;
  }
  sa.dpd_last_sent = now;
  ++sa.dpd_seq;
  ++stats_.dpd_sent;
  codec::Notification probe;
  probe.protocol = v1::ProtocolId::isakmp;
  probe.type = NotifyType::r_u_there;
  probe.spi = sa.cookie_pair();
  probe.data = sequence_bytes(sa.dpd_seq);
  log::debug("ike", sa.name() + " nothing from " + endpoint_text(sa.remote) + " for " +
                        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - sa.last_received).count()) +
                        " s: R-U-THERE " + std::to_string(sa.dpd_seq));
  send_informational(sa, {Payload{PayloadType::notification, std::move(probe)}}, now);
  return false;
}

void Manager::peer_dead(IsakmpSa& sa, TimePoint now) {
  const auto* conn = sa.connection;
  ++stats_.dpd_dead_peers;
  log::warning("ike", sa.name() + " DPD: no answer from " + endpoint_text(sa.remote) + " for " +
                          std::to_string(dpd_timeout(*conn).count()) + " s, the peer is dead: closing the ISAKMP SA");
  // dpd_action per child, as for IKEv2: restart negotiates it again, trap
  // installs its trap policies, clear leaves it closed.
  std::vector<std::string> restart;
  for (const auto& ipsec : sa.ipsec_sas) {
    if (!ipsec.child || ipsec.retire_at) continue;
    if (ipsec.child->dpd_action == config::Action::restart) {
      if (std::find(restart.begin(), restart.end(), ipsec.child->name) == restart.end())
        restart.push_back(ipsec.child->name);
    } else {
      log::info("ike", sa.name() + " IPsec SA " + ipsec.name + " closed (dpd_action " +
                           std::string(config::to_string(ipsec.child->dpd_action)) + ")");
      if (ipsec.child->dpd_action == config::Action::trap && options_.on_trap)
        options_.on_trap(*conn, *ipsec.child, ike::TrapOrigin::dpd_action);
    }
  }
  const std::string connection = conn->name;
  transition(sa, State::deleted);
  remove_sa(sa.id);
  for (const auto& child : restart) {
    log::info("ike", "restarting " + child + " of " + connection + " (dpd_action restart)");
    initiate(connection, child, now);
  }
}

}  // namespace corridor::control::ikev1
