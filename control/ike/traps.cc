#include "control/ike/traps.h"

#include <algorithm>

#include "common/iana/ip_protocol.h"
#include "common/log/log.h"
#include "control/ike/child_records.h"
#include "control/ike/ts_narrow.h"

namespace corridor::control::ike {

namespace {

// After every negotiated Child SA's policy (child_records.cc: 2000 + up to
// 256), so that an established Child SA takes its traffic from the trap.
constexpr std::uint32_t kTrapPriorityOffset = 1000;

std::string name_of(std::string_view connection, std::string_view child) {
  return "CHILD_SA " + std::string(child) + " of " + std::string(connection);
}

}  // namespace

std::string_view to_string(TrapOrigin origin) {
  switch (origin) {
    case TrapOrigin::start_action: return "start_action trap";
    case TrapOrigin::dpd_action: return "dpd_action trap";
    case TrapOrigin::close_action: return "close_action trap";
  }
  return "trap";
}

std::optional<std::vector<channel::PolicyRecord>> Traps::policies(const config::ConnectionConfig& conn,
                                                                  const config::ChildConfig& child,
                                                                  std::string* why) {
  std::vector<net::TrafficSelector> local = child.local_ts, remote = child.remote_ts;
  const auto resolve = [&](std::vector<net::TrafficSelector>& ts, const std::vector<config::AddressSpec>& addrs,
                           std::string_view side) {
    if (!config::has_dynamic_selector(ts)) return true;
    const auto address = config::single_literal_address(addrs);
    if (!address) {
      if (why)
        *why = std::string(side) + "_ts is dynamic and " + std::string(side) +
               "_addrs is not a single IP address, so the trap has no selector to install before a negotiation";
      return false;
    }
    if (ts.empty()) {
      net::TrafficSelector d;
      d.dynamic = true;
      ts.push_back(d);
    }
    ts = resolve_dynamic(ts, *address);
    return true;
  };
  if (!resolve(local, conn.local_addrs, "local") || !resolve(remote, conn.remote_addrs, "remote")) return std::nullopt;
  std::vector<channel::PolicyRecord> out;
  for (auto& pair : child_policies(local, remote, 0, 0)) {
    channel::PolicyRecord p = pair.out;
    p.action = channel::PolicyAction::trap;
    p.sa_id = 0;
    p.priority += kTrapPriorityOffset;
    out.push_back(p);
  }
  if (out.empty()) {
    if (why) *why = "its local_ts and remote_ts have no pair of one address family and protocol";
    return std::nullopt;
  }
  return out;
}

bool Traps::install(const config::ConnectionConfig& conn, const config::ChildConfig& child, TrapOrigin origin,
                    std::string* why) {
  if (installed(conn.name, child.name)) return true;
  auto records = policies(conn, child, why);
  if (!records) return false;
  Entry entry;
  entry.version = conn.version;
  entry.origin = origin;
  Key key{conn.name, child.name};
  for (auto& p : *records) {
    p.policy_id = ++next_id_;
    if (!sink_.set_policy(p)) {
      uninstall(entry);
      if (why) *why = "the SA channel refused trap policy " + std::to_string(p.policy_id);
      return false;
    }
    entry.policies.push_back(p);
    by_policy_[p.policy_id] = key;
  }
  log::info("ike", name_of(conn.name, child.name) + " trapped (" + std::string(to_string(origin)) + "): " +
                       std::to_string(entry.policies.size()) +
                       (entry.policies.size() == 1 ? " trap policy" : " trap policies") +
                       "; its first packet starts the negotiation");
  entries_.emplace(std::move(key), std::move(entry));
  return true;
}

void Traps::uninstall(const Entry& entry) {
  for (const auto& p : entry.policies) {
    sink_.remove_policy(p.policy_id);
    by_policy_.erase(p.policy_id);
  }
}

bool Traps::remove(std::string_view connection, std::string_view child) {
  const auto it = entries_.find(Key{connection, child});
  if (it == entries_.end()) return false;
  uninstall(it->second);
  entries_.erase(it);
  log::info("ike", name_of(connection, child) + " no longer trapped");
  return true;
}

bool Traps::installed(std::string_view connection, std::string_view child) const {
  return entries_.contains(Key{connection, child});
}

bool Traps::still_wanted(const Entry& entry, const config::ConnectionConfig& conn, const config::ChildConfig& child) {
  const config::Action action = entry.origin == TrapOrigin::start_action  ? child.start_action
                                : entry.origin == TrapOrigin::dpd_action ? child.dpd_action
                                                                         : child.close_action;
  if (action != config::Action::trap || conn.version != entry.version) return false;
  const auto now = policies(conn, child, nullptr);
  if (!now || now->size() != entry.policies.size()) return false;
  for (std::size_t i = 0; i < now->size(); ++i) {
    channel::PolicyRecord p = (*now)[i];
    p.policy_id = entry.policies[i].policy_id;
    if (p != entry.policies[i]) return false;
  }
  return true;
}

void Traps::reconcile(const config::Config& config) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    const auto& [connection, child] = it->first;
    const config::ConnectionConfig* conn = config.find_connection(connection);
    const config::ChildConfig* cc = nullptr;
    if (conn)
      for (const auto& c : conn->children)
        if (c.name == child) cc = &c;
    if (cc && still_wanted(it->second, *conn, *cc)) {
      ++it;
      continue;
    }
    log::info("ike", name_of(connection, child) + " no longer trapped (its config changed or went away)");
    uninstall(it->second);
    it = entries_.erase(it);
  }
  for (const auto& conn : config.connections)
    for (const auto& child : conn.children) {
      if (child.start_action != config::Action::trap) continue;
      if (std::string why; !install(conn, child, TrapOrigin::start_action, &why))
        log::error("ike", "cannot trap " + name_of(conn.name, child.name) + ": " + why);
    }
}

void Traps::clear() {
  for (const auto& [key, entry] : entries_) uninstall(entry);
  entries_.clear();
}

std::optional<Traps::Hit> Traps::acquired(std::uint64_t policy_id) {
  ++stats_.acquires;
  const auto it = by_policy_.find(policy_id);
  if (it == by_policy_.end()) {
    ++stats_.acquires_unknown;
    return std::nullopt;
  }
  const auto& entry = entries_.find(it->second)->second;
  return Hit{it->second.first, it->second.second, entry.version};
}

TriggerPacket trigger_of(const channel::Acquire& a) {
  const auto family = a.family == channel::IpVersion::v4 ? net::Family::ipv4 : net::Family::ipv6;
  const bool ports = iana::ip_protocol::has_ports(a.ip_protocol);
  const auto one = [&](const std::array<std::uint8_t, 16>& address, std::uint16_t port) {
    net::TrafficSelector ts;
    ts.start = ts.end = net::IpAddress::from_bytes(family, address.data());
    ts.protocol = a.ip_protocol;
    if (ports) ts.port_start = ts.port_end = port;
    return ts;
  };
  return {one(a.src, a.src_port), one(a.dst, a.dst_port)};
}

std::string describe(const channel::Acquire& a) {
  const auto family = a.family == channel::IpVersion::v4 ? net::Family::ipv4 : net::Family::ipv6;
  std::string text = net::IpAddress::from_bytes(family, a.src.data()).to_string() + " -> " +
                     net::IpAddress::from_bytes(family, a.dst.data()).to_string();
  namespace proto = iana::ip_protocol;
  switch (a.ip_protocol) {
    case proto::kTcp: return text + " tcp " + std::to_string(a.src_port) + " -> " + std::to_string(a.dst_port);
    case proto::kUdp: return text + " udp " + std::to_string(a.src_port) + " -> " + std::to_string(a.dst_port);
    case proto::kIcmp: return text + " icmp";
    case proto::kIcmpV6: return text + " icmpv6";
    default: return text + " protocol " + std::to_string(a.ip_protocol);
  }
}

}  // namespace corridor::control::ike
