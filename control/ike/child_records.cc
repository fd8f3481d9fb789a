#include "control/ike/child_records.h"

#include "control/ike/ts_narrow.h"

namespace corridor::control::ike {

namespace {

// Policies of negotiated Child SAs sit after static ones' and before any
// catch-all; within them a more specific selector pair wins (lower value).
constexpr std::uint32_t kChildPolicyPriorityBase = 2000;

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

std::optional<std::pair<channel::SaRecord, channel::SaRecord>> child_sa_records(const ChildSaParams& p,
                                                                                const ChildSaKeyViews& keys,
                                                                                std::string* why) {
  const auto& child = *p.child;
  auto base = [&](channel::Direction direction) {
    channel::SaRecord r;
    r.direction = direction;
    r.protocol = p.ah ? channel::IpsecProtocol::ah : channel::IpsecProtocol::esp;
    r.mode = child.mode == config::ChildMode::transport ? channel::Mode::transport : channel::Mode::tunnel;
    r.ip_version = p.local.address.is_v4() ? channel::IpVersion::v4 : channel::IpVersion::v6;
    r.encryption_id = p.ah ? 0 : p.encryption;
    r.encryption_key_bits = p.ah ? 0 : p.key_bits;
    r.integrity_id = p.integrity;
    r.esn = p.esn;
    r.udp_encap = p.encap;
    // Volume limits go to the dataplane, which reports them back as
    // soft/hard lifetime events; time limits stay with the IKE SA.
    r.soft = {child.rekey_bytes, child.rekey_packets};
    r.hard = {child.life_bytes, child.life_packets};
    if (p.life_bytes != 0 && (r.hard.bytes == 0 || p.life_bytes < r.hard.bytes)) {
      r.hard.bytes = p.life_bytes;
      const std::uint64_t before = p.life_bytes - p.life_bytes / 10;
      if (r.soft.bytes == 0 || r.soft.bytes > before) r.soft.bytes = before;
    }
    return r;
  };
  channel::SaRecord out = base(channel::Direction::outbound);
  out.sa_id = p.sa_id_out;
  out.spi = p.spi_out;
  out.outer_src = p.local.address.bytes();
  out.outer_dst = p.remote.address.bytes();
  out.encap_src_port = p.encap ? p.local.port : 0;
  out.encap_dst_port = p.encap ? p.remote.port : 0;
  channel::SaRecord in = base(channel::Direction::inbound);
  in.sa_id = p.sa_id_in;
  in.spi = p.spi_in;
  in.outer_src = p.remote.address.bytes();
  in.outer_dst = p.local.address.bytes();
  in.encap_src_port = p.encap ? p.remote.port : 0;
  in.encap_dst_port = p.encap ? p.local.port : 0;
  in.replay_window = child.replay_window;
  const bool fit = out.encryption_key.assign(keys.encryption_out) && out.integrity_key.assign(keys.integrity_out) &&
                   in.encryption_key.assign(keys.encryption_in) && in.integrity_key.assign(keys.integrity_in);
  if (!fit) {
    if (why) *why = "keys longer than the SA channel carries";
    return std::nullopt;
  }
  return std::pair{std::move(in), std::move(out)};
}

std::vector<PolicyPair> child_policies(const std::vector<net::TrafficSelector>& local_ts,
                                       const std::vector<net::TrafficSelector>& remote_ts, std::uint64_t sa_id_in,
                                       std::uint64_t sa_id_out) {
  std::vector<PolicyPair> pairs;
  for (const auto& l : local_ts) {
    for (const auto& r : remote_ts) {
      if (l.family() != r.family()) continue;
      const auto protocol = pair_protocol(l, r);
      if (!protocol) continue;
      for (const auto& lp : to_prefixes(l)) {
        for (const auto& rp : to_prefixes(r)) {
          PolicyPair pp;
          auto& out = pp.out;
          out.direction = channel::Direction::outbound;
          out.action = channel::PolicyAction::protect;
          out.priority = kChildPolicyPriorityBase + (256u - lp.length - rp.length);
          out.src = to_channel(lp);
          out.dst = to_channel(rp);
          out.ip_protocol = *protocol;
          out.src_ports = {l.port_start, l.port_end};
          out.dst_ports = {r.port_start, r.port_end};
          out.sa_id = sa_id_out;
          out.policy_id = 0;
          auto& in = pp.in;
          in = out;
          in.direction = channel::Direction::inbound;
          in.src = out.dst;
          in.dst = out.src;
          in.src_ports = out.dst_ports;
          in.dst_ports = out.src_ports;
          in.sa_id = sa_id_in;
          pairs.push_back(std::move(pp));
        }
      }
    }
  }
  return pairs;
}

}  // namespace corridor::control::ike
