// Child SAs into and out of the dataplane: KEYMAT (RFC 7296 §2.17), the
// inbound and outbound SA records and the policies for the agreed traffic
// selectors, pushed through the ChildSaSink (the SA channel in the daemon).
#include <algorithm>
#include <cstdio>

#include "common/ike/keys.h"
#include "common/log/log.h"
#include "control/ike/ts_narrow.h"
#include "control/ikev2/manager.h"

namespace corridor::control::ikev2 {
namespace {

// Policies of negotiated Child SAs sit after static ones' and before any
// catch-all; within them a more specific selector pair wins (lower value).
constexpr std::uint32_t kChildPolicyPriorityBase = 2000;

std::array<std::uint8_t, 16> address_bytes(const net::IpAddress& a) { return a.bytes(); }

channel::Prefix to_channel(const net::Prefix& p) {
  channel::Prefix out;
  out.family = p.address.is_v4() ? channel::IpVersion::v4 : channel::IpVersion::v6;
  out.length = p.length;
  out.address = p.address.bytes();
  return out;
}

// The IP protocol of a selector pair: both "any", or the one that is set;
// nullopt when they disagree (that pair carries no traffic).
std::optional<std::uint8_t> pair_protocol(const net::TrafficSelector& a, const net::TrafficSelector& b) {
  if (a.protocol == 0) return b.protocol;
  if (b.protocol == 0 || b.protocol == a.protocol) return a.protocol;
  return std::nullopt;
}

}  // namespace

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

  auto base = [&](channel::Direction direction) {
    channel::SaRecord r;
    r.direction = direction;
    r.protocol = ah ? channel::IpsecProtocol::ah : channel::IpsecProtocol::esp;
    r.mode = child.mode == config::ChildMode::transport ? channel::Mode::transport : channel::Mode::tunnel;
    r.ip_version = sa.local.address.is_v4() ? channel::IpVersion::v4 : channel::IpVersion::v6;
    r.encryption_id = ah ? 0 : proposal.encryption;
    r.encryption_key_bits = ah ? 0 : proposal.key_bits;
    r.integrity_id = proposal.integrity;
    r.esn = proposal.esn;
    r.udp_encap = encap;
    // Volume limits go to the dataplane, which reports them back as
    // soft/hard lifetime events; time limits stay here.
    r.soft = {child.rekey_bytes, child.rekey_packets};
    r.hard = {child.life_bytes, child.life_packets};
    return r;
  };
  c.record_out = base(channel::Direction::outbound);
  c.record_out.sa_id = ++next_channel_id_;
  c.record_out.spi = spi_out;
  c.record_out.outer_src = address_bytes(sa.local.address);
  c.record_out.outer_dst = address_bytes(sa.remote.address);
  c.record_out.encap_src_port = encap ? sa.local.port : 0;
  c.record_out.encap_dst_port = encap ? sa.remote.port : 0;
  c.record_in = base(channel::Direction::inbound);
  c.record_in.sa_id = ++next_channel_id_;
  c.record_in.spi = spi_in;
  c.record_in.outer_src = address_bytes(sa.remote.address);
  c.record_in.outer_dst = address_bytes(sa.local.address);
  c.record_in.encap_src_port = encap ? sa.remote.port : 0;
  c.record_in.encap_dst_port = encap ? sa.local.port : 0;
  c.record_in.replay_window = child.replay_window;
  const bool keys_fit = c.record_out.encryption_key.assign({enc_out.data(), enc_out.size()}) &&
                        c.record_out.integrity_key.assign({int_out.data(), int_out.size()}) &&
                        c.record_in.encryption_key.assign({enc_in.data(), enc_in.size()}) &&
                        c.record_in.integrity_key.assign({int_in.data(), int_in.size()});
  if (!keys_fit) {
    log::warning("ike", sa.name() + " CHILD_SA " + child.name + ": keys longer than the SA channel carries");
    return false;
  }
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
  if (replacing) c.predecessor_spi_in = replacing->spi_in;
  c.outbound_pending = replacing && takeover == Takeover::on_delete;
  for (const auto& l : c.local_ts) {
    for (const auto& r : c.remote_ts) {
      if (l.family() != r.family()) continue;
      const auto protocol = pair_protocol(l, r);
      if (!protocol) continue;
      for (const auto& lp : nego::to_prefixes(l)) {
        for (const auto& rp : nego::to_prefixes(r)) {
          const auto priority = kChildPolicyPriorityBase + (256u - lp.length - rp.length);
          channel::PolicyRecord out;
          out.direction = channel::Direction::outbound;
          out.action = channel::PolicyAction::protect;
          out.priority = priority;
          out.src = to_channel(lp);
          out.dst = to_channel(rp);
          out.ip_protocol = *protocol;
          out.src_ports = {l.port_start, l.port_end};
          out.dst_ports = {r.port_start, r.port_end};
          out.sa_id = c.record_out.sa_id;
          out.policy_id = 0;
          if (replacing) {
            auto& old = replacing->outbound_policies;
            for (auto it = old.begin(); it != old.end(); ++it) {
              if (!same_selectors(*it, out)) continue;
              out.policy_id = it->policy_id;
              if (takeover == Takeover::now) old.erase(it);
              break;
            }
          }
          if (out.policy_id == 0) out.policy_id = ++next_channel_id_;
          channel::PolicyRecord in = out;
          in.policy_id = ++next_channel_id_;
          in.direction = channel::Direction::inbound;
          in.src = out.dst;
          in.dst = out.src;
          in.src_ports = out.dst_ports;
          in.dst_ports = out.src_ports;
          in.sa_id = c.record_in.sa_id;
          if (c.outbound_pending) c.outbound_policies.push_back(out);  // pushed by switch_outbound()
          else if (sink_.set_policy(out)) c.outbound_policies.push_back(out);
          if (sink_.set_policy(in)) c.inbound_policies.push_back(in);
        }
      }
    }
  }
  for (const auto& t : c.local_ts) ts_text += t.to_string() + " ";
  ts_text += "===";
  for (const auto& t : c.remote_ts) ts_text += " " + t.to_string();

  ++stats_.child_sas_installed;
  log::info("ike", "CHILD_SA " + child.name + " of " + sa.name() + (replacing ? " rekeyed" : " established") +
                       " with SPIs " + hex32(spi_in) + "_i " + hex32(spi_out) + "_o and TS " + ts_text + " (" +
                       proposal.to_string() + (encap ? ", UDP-encapsulated" : "") + ")");
  schedule_rekey(c, now);
  if (replacing) {
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
  sa.expire_at = conn.rekey_time.count() > 0 ? now + conn.rekey_time + conn.over_time : TimePoint::max();
}

void Manager::uninstall_child(IkeSa& sa, ChildSa& child) {
  // Policies first, so no packet is steered to an SA that is gone. The
  // outbound ones of a pair that has not taken over yet (a rekey
  // responder's, deleted before the old pair) are the old pair's, same ids:
  // they stay.
  if (!child.outbound_pending)
    for (const auto& p : child.outbound_policies) sink_.remove_policy(p.policy_id);
  for (const auto& p : child.inbound_policies) sink_.remove_policy(p.policy_id);
  child.outbound_policies.clear();
  child.inbound_policies.clear();
  sink_.remove_sa(child.record_out.sa_id);
  sink_.remove_sa(child.record_in.sa_id);
  release_child_spi(child.spi_in);
  log::info("ike", "CHILD_SA " + child.name + " with SPIs " + hex32(child.spi_in) + "_i " + hex32(child.spi_out) +
                       "_o removed");
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

void Manager::uninstall_children(IkeSa& sa) {
  for (auto& c : sa.children) uninstall_child(sa, c);
  sa.children.clear();
}

void Manager::repush_children(IkeSa& sa) {
  for (auto& c : sa.children) {
    c.record_out.outer_src = address_bytes(sa.local.address);
    c.record_out.outer_dst = address_bytes(sa.remote.address);
    c.record_in.outer_src = address_bytes(sa.remote.address);
    c.record_in.outer_dst = address_bytes(sa.local.address);
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
