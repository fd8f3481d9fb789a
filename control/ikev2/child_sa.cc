// Child SAs into and out of the dataplane: KEYMAT (RFC 7296 §2.17), the
// inbound and outbound SA records and the policies for the agreed traffic
// selectors, pushed through the ChildSaSink (the SA channel in the daemon).
#include <algorithm>
#include <cstdio>

#include "common/ike/keys.h"
#include "common/log/log.h"
#include "control/ike/child_records.h"
#include "control/ike/ts_narrow.h"
#include "control/ikev2/manager.h"

namespace corridor::control::ikev2 {

bool Manager::install_child(IkeSa& sa, const config::ChildConfig& child, const nego::Selected& proposal,
                            std::uint32_t spi_in, std::uint32_t spi_out, std::vector<net::TrafficSelector> local_ts,
                            std::vector<net::TrafficSelector> remote_ts, const ChildKeying& keying, TimePoint now,
                            ChildSa* replacing, Takeover takeover) {
  auto keymat = codec::derive_child_sa_keys(*sa.proposal->prf, sa.keys.sk_d, proposal.child_suite(), keying.g_ir,
                                            keying.nonce_i, keying.nonce_r);
  if (!keymat.ok()) {
    log::warning("ike", sa.name() + " CHILD_SA " + child.name + " key derivation failed: " + keymat.error().message);
    return false;
  }
  // KEYMAT is taken for the exchange initiator's direction first (§2.17).
  const bool first = keying.we_initiated;
  const auto& enc_out = first ? keymat->encryption_i : keymat->encryption_r;
  const auto& int_out = first ? keymat->integrity_i : keymat->integrity_r;
  const auto& enc_in = first ? keymat->encryption_r : keymat->encryption_i;
  const auto& int_in = first ? keymat->integrity_r : keymat->integrity_i;

  const bool ah = !child.ah_proposals.empty();
  const bool encap = !ah && (sa.nat_detected() || sa.connection->encap);
  ChildSa c;
  c.name = child.name;
  c.config = &child;
  c.protocol = ah ? iana::ProtocolId::ah : iana::ProtocolId::esp;
  c.mode = child.mode;
  c.udp_encap = encap;
  c.spi_in = spi_in;
  c.spi_out = spi_out;
  c.proposal = proposal;
  c.local_ts = std::move(local_ts);
  c.remote_ts = std::move(remote_ts);
  c.installed_at = now;

  ike::ChildSaParams params;
  params.child = &child;
  params.ah = ah;
  params.encap = encap;
  params.local = sa.local;
  params.remote = sa.remote;
  params.encryption = proposal.encryption;
  params.key_bits = proposal.key_bits;
  params.integrity = proposal.integrity;
  params.esn = proposal.esn;
  params.spi_in = spi_in;
  params.spi_out = spi_out;
  params.sa_id_out = ++next_channel_id_;
  params.sa_id_in = ++next_channel_id_;
  std::string why;
  auto records = ike::child_sa_records(
      params, {{enc_in.data(), enc_in.size()}, {int_in.data(), int_in.size()}, {enc_out.data(), enc_out.size()},
               {int_out.data(), int_out.size()}},
      &why);
  if (!records) {
    log::warning("ike", sa.name() + " CHILD_SA " + child.name + ": " + why);
    return false;
  }
  c.record_in = std::move(records->first);
  c.record_out = std::move(records->second);
  if (!sink_.set_sa(c.record_in) || !sink_.set_sa(c.record_out)) {
    sink_.remove_sa(c.record_in.sa_id);
    sink_.remove_sa(c.record_out.sa_id);
    log::warning("ike", sa.name() + " CHILD_SA " + child.name + " refused by the SA channel");
    return false;
  }

  // One policy per (local prefix, remote prefix) of the same family, each
  // way: outbound steers traffic into the SA, inbound is the RFC 4301 §5.2
  // check of what the SA delivers. A rekey re-points the old Child SA's
  // outbound policies with the same selectors (same ids) to the new SA, so
  // traffic switches in one step; its inbound policies stay with the old
  // inbound SA until that is deleted, so packets in flight still pass.
  auto same_selectors = [](const channel::PolicyRecord& a, const channel::PolicyRecord& b) {
    return a.src == b.src && a.dst == b.dst && a.ip_protocol == b.ip_protocol && a.src_ports == b.src_ports &&
           a.dst_ports == b.dst_ports;
  };
  std::string ts_text;
  const bool rekey = replacing && takeover != Takeover::reauth;
  if (rekey) c.predecessor_spi_in = replacing->spi_in;
  if (replacing && takeover == Takeover::reauth) c.reauth_predecessor_spi_in = replacing->spi_in;
  c.outbound_pending = replacing && takeover == Takeover::on_delete;
  for (auto& pair : ike::child_policies(c.local_ts, c.remote_ts, c.record_in.sa_id, c.record_out.sa_id)) {
    auto& out = pair.out;
    if (replacing) {
      auto& old = replacing->outbound_policies;
      for (auto it = old.begin(); it != old.end(); ++it) {
        if (!same_selectors(*it, out)) continue;
        out.policy_id = it->policy_id;
        if (takeover != Takeover::on_delete) old.erase(it);
        break;
      }
    }
    if (out.policy_id == 0) out.policy_id = ++next_channel_id_;
    pair.in.policy_id = ++next_channel_id_;
    if (c.outbound_pending) c.outbound_policies.push_back(out);  // pushed by switch_outbound()
    else if (sink_.set_policy(out)) c.outbound_policies.push_back(out);
    if (sink_.set_policy(pair.in)) c.inbound_policies.push_back(pair.in);
  }
  for (const auto& t : c.local_ts) ts_text += t.to_string() + " ";
  ts_text += "===";
  for (const auto& t : c.remote_ts) ts_text += " " + t.to_string();

  ++stats_.child_sas_installed;
  log::info("ike", "CHILD_SA " + child.name + " of " + sa.name() + (rekey ? " rekeyed" : " established") +
                       " with SPIs " + hex32(spi_in) + "_i " + hex32(spi_out) + "_o and TS " + ts_text + " (" +
                       proposal.to_string() + (encap ? ", UDP-encapsulated" : "") + ")");
  schedule_rekey(c, now);
  if (replacing && takeover != Takeover::reauth) {
    replacing->superseded = true;
    emit(SaEvent::Kind::child_rekey, sa, &c, 0, replacing->spi_in);
  } else if (sa.established_at != TimePoint{}) {
    emit(SaEvent::Kind::child_up, sa, &c);  // else with the IKE SA's ike_up, after it
  }
  sa.children.push_back(std::move(c));
  return true;
}

ChildSa* Manager::find_child_by_spi_in(IkeSa& sa, std::uint32_t spi_in) {
  for (auto& c : sa.children)
    if (c.spi_in == spi_in) return &c;
  return nullptr;
}

ChildSa* Manager::find_child_by_spi_out(IkeSa& sa, std::uint32_t spi_out) {
  for (auto& c : sa.children)
    if (c.spi_out == spi_out) return &c;
  return nullptr;
}

TimePoint::duration Manager::jitter(config::Seconds rand_time) {
  if (rand_time.count() <= 0) return TimePoint::duration::zero();
  std::array<std::uint8_t, 4> b;
  options_.random(b);
  const std::uint32_t r = std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(rand_time).count();
  return std::chrono::milliseconds(r % static_cast<std::uint32_t>(ms + 1));
}

// strongSwan's rule: rekey at rekey_time minus a random part of rand_time,
// so that both peers rarely rekey at once (§2.8.1); a Child SA that reaches
// life_time is deleted, an IKE SA is closed at rekey_time + over_time.
// The jitter never takes more than half of rekey_time: a rand_time as
// long as rekey_time (possible when life_time is much longer) would
// otherwise rekey a fresh SA at once, and again, and again.
void Manager::schedule_rekey(ChildSa& child, TimePoint now) {
  if (!child.config) return;
  const auto& cc = *child.config;
  child.rekey_at = cc.rekey_time.count() > 0 ? now + cc.rekey_time - jitter(std::min(cc.rand_time, cc.rekey_time / 2))
                                             : TimePoint::max();
  child.expire_at = cc.life_time.count() > 0 ? now + cc.life_time : TimePoint::max();
}

void Manager::schedule_rekey(IkeSa& sa, TimePoint now) {
  const auto& conn = *sa.connection;
  sa.rekey_at = conn.rekey_time.count() > 0 ? now + conn.rekey_time - jitter(std::min(conn.rand_time, conn.rekey_time / 2))
                                            : TimePoint::max();
  sa.expire_at = std::min(conn.rekey_time.count() > 0 ? now + conn.rekey_time + conn.over_time : TimePoint::max(),
                          sa.reauth_expire_at);
}

void Manager::schedule_reauth(IkeSa& sa, TimePoint now) {
  const auto& conn = *sa.connection;
  if (conn.reauth_time.count() <= 0) {
    sa.reauth_at = sa.reauth_expire_at = TimePoint::max();
    return;
  }
  sa.reauth_at = now + conn.reauth_time - jitter(std::min(conn.rand_time, conn.reauth_time / 2));
  sa.reauth_expire_at = now + conn.reauth_time + conn.over_time;
}

void Manager::uninstall_child(IkeSa& sa, ChildSa& child) {
  if (child.reauth_predecessor_spi_in) hand_back_policies(sa, child);
  // Policies first, so no packet is steered to an SA that is gone. The
  // outbound ones of a pair that has not taken over yet (a rekey
  // responder's, deleted before the old pair) are the old pair's, same ids:
  // they stay.
  if (!child.outbound_pending)
    for (const auto& p : child.outbound_policies) sink_.remove_policy(p.policy_id);
  child.outbound_policies.clear();
  sink_.remove_sa(child.record_out.sa_id);
  // The inbound half of a pair whose traffic carries on in another (a
  // rekey's, a reauthentication's) stays a little: the peer may have sent
  // on it just before it switched, and ESP is not ordered with IKE (the
  // packets may even wait in the peer's queues behind its Delete).
  const bool replaced = child.superseded || sa.reauthenticated;
  if (replaced && !stopping_ && options_.retire_delay.count() > 0) {
    RetiredInbound r{child.record_in.sa_id, {}, child.spi_in, sa.name() + " CHILD_SA " + child.name, std::nullopt};
    for (const auto& p : child.inbound_policies) r.policy_ids.push_back(p.policy_id);
    retired_inbound_.push_back(std::move(r));
    log::info("ike", "CHILD_SA " + child.name + " with SPIs " + hex32(child.spi_in) + "_i " + hex32(child.spi_out) +
                         "_o removed; its inbound SA stays " + std::to_string(options_.retire_delay.count()) +
                         " s for packets in flight");
  } else {
    for (const auto& p : child.inbound_policies) sink_.remove_policy(p.policy_id);
    sink_.remove_sa(child.record_in.sa_id);
    release_child_spi(child.spi_in);
    log::info("ike", "CHILD_SA " + child.name + " with SPIs " + hex32(child.spi_in) + "_i " + hex32(child.spi_out) +
                         "_o removed");
  }
  child.inbound_policies.clear();
  // A rekeyed Child SA lives on in its successor (child_rekey said so).
  if (!child.superseded) emit(SaEvent::Kind::child_down, sa, &child);
}

void Manager::switch_outbound(IkeSa& sa, ChildSa& successor) {
  if (!successor.outbound_pending) return;
  ChildSa* predecessor = find_child_by_spi_in(sa, successor.predecessor_spi_in);
  for (const auto& p : successor.outbound_policies) {
    sink_.set_policy(p);  // the same id as the predecessor's: re-pointed in one step
    if (predecessor)
      std::erase_if(predecessor->outbound_policies,
                    [&](const channel::PolicyRecord& q) { return q.policy_id == p.policy_id; });
  }
  successor.outbound_pending = false;
  log::debug("ike", sa.name() + " CHILD_SA " + successor.name + " " + hex32(successor.spi_out) +
                        "_o now carries the outbound traffic");
}

void Manager::retire_child(IkeSa& sa, std::uint32_t spi_in) {
  for (auto& c : sa.children)
    if (c.outbound_pending && c.predecessor_spi_in == spi_in) switch_outbound(sa, c);
  for (auto it = sa.children.begin(); it != sa.children.end(); ++it) {
    if (it->spi_in != spi_in) continue;
    uninstall_child(sa, *it);
    sa.children.erase(it);
    return;
  }
}

void Manager::remove_retired_inbound(TimePoint now, bool all) {
  std::erase_if(retired_inbound_, [&](RetiredInbound& r) {
    if (!all && !r.remove_at) r.remove_at = now + options_.retire_delay;
    if (!all && now < *r.remove_at) return false;
    for (const auto id : r.policy_ids) sink_.remove_policy(id);
    sink_.remove_sa(r.sa_id);
    release_child_spi(r.spi_in);
    log::debug("ike", r.label + " inbound SA " + hex32(r.spi_in) + "_i removed");
    return true;
  });
}

void Manager::uninstall_children(IkeSa& sa) {
  for (auto& c : sa.children) uninstall_child(sa, c);
  sa.children.clear();
}

void Manager::repush_children(IkeSa& sa) {
  for (auto& c : sa.children) {
    c.record_out.outer_src = sa.local.address.bytes();
    c.record_out.outer_dst = sa.remote.address.bytes();
    c.record_in.outer_src = sa.remote.address.bytes();
    c.record_in.outer_dst = sa.local.address.bytes();
    if (c.udp_encap) {
      c.record_out.encap_src_port = sa.local.port;
      c.record_out.encap_dst_port = sa.remote.port;
      c.record_in.encap_src_port = sa.remote.port;
      c.record_in.encap_dst_port = sa.local.port;
    }
    sink_.set_sa(c.record_in);
    sink_.set_sa(c.record_out);
  }
}

}  // namespace corridor::control::ikev2
