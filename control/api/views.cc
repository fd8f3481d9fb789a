#include "control/api/views.h"

#include "common/config/redact.h"

#include <cstdio>
#include <ctime>
#include <unordered_map>

namespace corridor::control::api {

namespace {

using nlohmann::json;

// Seconds from `now` until `at`; null when nothing is scheduled.
json seconds_until(ikev2::TimePoint at, ikev2::TimePoint now) {
  if (at == ikev2::TimePoint::max()) return nullptr;
  return std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(at - now).count());
}

std::int64_t seconds_since(ikev2::TimePoint at, ikev2::TimePoint now) {
  return std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(now - at).count());
}

json seconds_since(const std::optional<ikev2::TimePoint>& at, ikev2::TimePoint now) {
  return at ? json(seconds_since(*at, now)) : json(nullptr);
}

json endpoint_json(const net::SocketAddress& a) { return {{"address", a.address.to_string()}, {"port", a.port}}; }

// One direction of a Child SA from the dataplane's COUNTERS snapshot;
// null before the first snapshot.
json traffic_json(const TrafficTable* traffic, std::uint64_t sa_id, bool inbound) {
  if (!traffic) return nullptr;
  const auto it = traffic->find(sa_id);
  if (it == traffic->end()) return nullptr;
  const auto& c = it->second;
  json j{{"bytes", c.bytes}, {"packets", c.packets}};
  if (c.last_packet_ns == 0) {
    j["last_use_seconds"] = nullptr;
  } else {
    // The dataplane stamps CLOCK_MONOTONIC, which steady_clock reads too.
    const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    const auto age = now_ns > static_cast<std::int64_t>(c.last_packet_ns)
                         ? now_ns - static_cast<std::int64_t>(c.last_packet_ns)
                         : 0;
    j["last_use_seconds"] = static_cast<double>(age / 1'000'000) / 1000.0;
  }
  if (inbound) {
    j["replay_drops"] = c.replay_drops;
    j["icv_failures"] = c.icv_failures;
    j["malformed_drops"] = c.malformed_drops;
  }
  return j;
}

json child_sa_json(const ikev2::ChildSaView& c, ikev2::TimePoint now, const TrafficTable* traffic) {
  json j{{"name", c.name},
         {"state", c.state},
         {"mode", c.mode},
         {"protocol", c.protocol},
         {"encapsulation", c.udp_encap},
         {"spi_in", spi_hex(c.spi_in)},
         {"spi_out", spi_hex(c.spi_out)},
         {"proposal", c.proposal},
         {"pfs_group", c.pfs_group.empty() ? json(nullptr) : json(c.pfs_group)},
         {"esn", c.esn},
         {"local_ts", c.local_ts},
         {"remote_ts", c.remote_ts},
         {"installed_seconds", seconds_since(c.installed_at, now)},
         {"rekey_in_seconds", seconds_until(c.rekey_at, now)},
         {"expire_in_seconds", seconds_until(c.expire_at, now)}};
  json in = traffic_json(traffic, c.sa_id_in, true);
  json out = traffic_json(traffic, c.sa_id_out, false);
  j["traffic"] = in.is_null() && out.is_null() ? json(nullptr) : json{{"in", in}, {"out", out}};
  return j;
}

}  // namespace

std::string spi_hex(std::uint32_t spi) {
  char buf[11];
  std::snprintf(buf, sizeof buf, "0x%08x", spi);
  return buf;
}

std::optional<std::uint32_t> parse_spi(std::string_view text) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.empty() || text.size() > 8) return std::nullopt;
  std::uint32_t v = 0;
  for (const char c : text) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return std::nullopt;
    v = v * 16 + static_cast<std::uint32_t>(d);
  }
  return v;
}

json ike_sa_json(const ikev2::IkeSaView& sa, ikev2::TimePoint now, const TrafficTable* traffic) {
  json j{{"id", sa.id},
         {"name", sa.name},
         {"connection", sa.connection},
         {"version", 2},
         {"state", sa.state},
         {"initiator", sa.initiator},
         {"local", endpoint_json(sa.local_endpoint)},
         {"remote", endpoint_json(sa.remote_endpoint)},
         {"local_id", sa.local_id},
         {"remote_id", sa.remote_id},
         {"spi_i", sa.spi_i},
         {"spi_r", sa.spi_r},
         {"proposal", sa.proposal},
         {"nat", {{"local", sa.nat_local}, {"remote", sa.nat_remote}}},
         {"age_seconds", seconds_since(sa.created_at, now)},
         {"established_seconds", sa.established_at ? json(seconds_since(*sa.established_at, now)) : json(nullptr)},
         {"rekey_in_seconds", seconds_until(sa.rekey_at, now)},
         {"reauth_in_seconds", seconds_until(sa.reauth_at, now)},
         {"expire_in_seconds", seconds_until(sa.expire_at, now)},
         // Liveness (RFC 7296 §2.4): when the peer was last heard from and
         // the last check sent and answered, in seconds ago.
         {"dpd",
          {{"delay_seconds", sa.dpd_delay.count()},
           {"last_received_seconds",
            sa.last_received != ikev2::TimePoint{} ? json(seconds_since(sa.last_received, now)) : json(nullptr)},
           {"last_sent_seconds", seconds_since(sa.liveness_sent, now)},
           {"last_acknowledged_seconds", seconds_since(sa.liveness_acknowledged, now)}}}};
  auto& children = j["children"] = json::array();
  for (const auto& c : sa.children) children.push_back(child_sa_json(c, now, traffic));
  return j;
}

json ikev1_sa_json(const ikev1::IsakmpSaView& sa, ikev2::TimePoint now, const TrafficTable* traffic) {
  json j{{"id", sa.id},
         {"name", sa.name},
         {"connection", sa.connection},
         {"version", 1},
         {"state", sa.state},
         {"initiator", sa.initiator},
         {"local", endpoint_json(sa.local)},
         {"remote", endpoint_json(sa.remote)},
         {"local_id", sa.local_id},
         {"remote_id", sa.remote_id},
         {"spi_i", sa.cookie_i},
         {"spi_r", sa.cookie_r},
         {"proposal", sa.proposal},
         {"nat", {{"local", sa.nat_local}, {"remote", sa.nat_remote}}},
         {"age_seconds", seconds_since(sa.created_at, now)},
         {"established_seconds", sa.established_at ? json(seconds_since(*sa.established_at, now)) : json(nullptr)},
         // IKEv1 renews an ISAKMP SA by negotiating a new one: "rekey" is
         // when that starts, "expire" the negotiated lifetime.
         {"rekey_in_seconds", seconds_until(sa.reestablish_at, now)},
         {"expire_in_seconds", seconds_until(sa.expire_at, now)},
         {"superseded", sa.superseded},
         // Dead Peer Detection (RFC 3706), in seconds ago.
         {"dpd",
          {{"delay_seconds", sa.dpd_delay.count()},
           {"last_received_seconds",
            sa.last_received != ikev2::TimePoint{} ? json(seconds_since(sa.last_received, now)) : json(nullptr)},
           {"last_sent_seconds", seconds_since(sa.dpd_last_sent, now)},
           {"last_acknowledged_seconds", seconds_since(sa.dpd_last_acked, now)}}},
         {"quick_modes", sa.quick_modes}};
  auto& children = j["children"] = json::array();
  for (const auto& c : sa.children) {
    json cj{{"name", c.name},
            {"state", c.state},
            {"mode", c.mode},
            {"protocol", c.protocol},
            {"encapsulation", c.encap},
            {"spi_in", spi_hex(c.spi_in)},
            {"spi_out", spi_hex(c.spi_out)},
            {"proposal", c.proposal},
            {"pfs_group", c.pfs_group.empty() ? json(nullptr) : json(c.pfs_group)},
            {"esn", c.esn},
            {"local_ts", c.local_ts},
            {"remote_ts", c.remote_ts},
            {"installed_seconds", seconds_since(c.installed_at, now)},
            {"rekey_in_seconds", seconds_until(c.rekey_at, now)},
            {"expire_in_seconds", seconds_until(c.expire_at, now)}};
    json in = traffic_json(traffic, c.sa_id_in, true);
    json out = traffic_json(traffic, c.sa_id_out, false);
    cj["traffic"] = in.is_null() && out.is_null() ? json(nullptr) : json{{"in", in}, {"out", out}};
    children.push_back(std::move(cj));
  }
  return j;
}

json ikev1_stats_json(const ikev1::ManagerStats& s) {
  return {{"received", s.received},
          {"sent", s.sent},
          {"retransmitted", s.retransmitted},
          {"duplicates", s.duplicates},
          {"phase1_established", s.phase1_established},
          {"phase1_failed", s.phase1_failed},
          {"quick_modes_failed", s.quick_modes_failed},
          {"ipsec_sas_installed", s.ipsec_sas_installed},
          {"ipsec_sas_deleted", s.ipsec_sas_deleted},
          {"ipsec_sas_rekeyed", s.ipsec_sas_rekeyed},
          {"ipsec_sas_expired", s.ipsec_sas_expired},
          {"ipsec_rekey_collisions", s.ipsec_rekey_collisions},
          {"phase1_reestablished", s.phase1_reestablished},
          {"phase1_expired", s.phase1_expired},
          {"initial_contact_replaced", s.initial_contact_replaced},
          {"children_restarted_on_close", s.children_restarted_on_close},
          {"nat_keepalives", s.nat_keepalives},
          {"fragments", {{"sent", s.fragments_sent}, {"received", s.fragments_received},
                         {"reassembled", s.messages_reassembled}}},
          {"dpd", {{"sent", s.dpd_sent}, {"acknowledged", s.dpd_acks}, {"answered", s.dpd_answered},
                   {"dead_peers", s.dpd_dead_peers}}},
          {"drops", s.drops},
          {"notifies_sent", s.notifies_sent},
          {"notifies_received", s.notifies_received}};
}

void settle_traffic(TrafficLedger& ledger, const ikev2::Manager* ike, const ikev1::Manager* ikev1) {
  // The connection names are the SAs' own: nothing changes them while
  // this runs.
  std::unordered_map<std::uint64_t, std::string_view> owner;
  if (ike)
    ike->visit_briefs([&](const ikev2::IkeSaBrief& sa) {
      for (const auto id : sa.channel_sa_ids) owner.emplace(id, sa.connection);
    });
  if (ikev1)
    ikev1->visit_channel_ids([&](std::uint64_t id, const std::string& connection) { owner.emplace(id, connection); });
  ledger.settle([&](std::uint64_t id) -> std::optional<std::string> {
    const auto it = owner.find(id);
    if (it == owner.end()) return std::nullopt;
    return std::string(it->second);
  });
}

std::optional<config::LogLevel> parse_log_level(std::string_view text) {
  if (text == "error") return config::LogLevel::error;
  if (text == "warning") return config::LogLevel::warning;
  if (text == "info") return config::LogLevel::info;
  if (text == "debug") return config::LogLevel::debug;
  return std::nullopt;
}

json ike_stats_json(const ikev2::ManagerStats& st) {
  return {{"received", st.received},
          {"sent", st.sent},
          {"retransmitted", st.retransmitted},
          {"duplicate_requests", st.duplicate_requests},
          {"cookies_sent", st.cookies_sent},
          {"fragments_received", st.fragments_received},
          {"messages_reassembled", st.messages_reassembled},
          {"ike_sas_established", st.ike_sas_established},
          {"ike_sas_failed", st.ike_sas_failed},
          {"ike_sas_rekeyed", st.ike_sas_rekeyed},
          {"ike_sas_reauth_started", st.ike_sas_reauth_started},
          {"ike_sas_reauthenticated", st.ike_sas_reauthenticated},
          {"ike_sas_reauth_failed", st.ike_sas_reauth_failed},
          {"child_sas_installed", st.child_sas_installed},
          {"child_sas_rekeyed", st.child_sas_rekeyed},
          {"child_rekey_collisions", st.child_rekey_collisions},
          {"ike_rekey_collisions", st.ike_rekey_collisions},
          {"child_sas_expired", st.child_sas_expired},
          {"liveness_checks_sent", st.liveness_checks_sent},
          {"dead_peers", st.dead_peers},
          {"children_restarted_on_close", st.children_restarted_on_close},
          {"drops", st.drops},
          {"notifies_sent", st.notifies_sent},
          {"notifies_received", st.notifies_received}};
}

json traps_json(const ike::Traps& traps) {
  const auto& s = traps.stats();
  return {{"children", traps.children()},
          {"policies", traps.policy_count()},
          {"acquires", s.acquires},
          {"acquires_unknown", s.acquires_unknown},
          {"initiated", s.initiated},
          {"active", s.active},
          {"failed", s.failed}};
}

json sa_sync_json(const SaSync& sync, std::chrono::nanoseconds dataplane_timeout) {
  const auto& s = sync.stats();
  return {{"phase", std::string(to_string(sync.phase()))},
          {"dataplane_up", sync.dataplane_alive(dataplane_timeout)},
          {"dataplane_generation", sync.dataplane_generation()},
          {"commands_pushed", s.commands_pushed},
          {"queued", sync.queued_commands()},
          {"events", s.events},
          {"invalid_events", s.invalid_events},
          {"dataplane_restarts", s.dataplane_restarts},
          {"reconciles", s.reconciles},
          {"refused_commands", s.refused_commands}};
}

nlohmann::ordered_json connection_json(const config::ConnectionConfig& conn, const nlohmann::ordered_json* document) {
  nlohmann::ordered_json written = nlohmann::ordered_json::object();
  if (document && document->is_object() && document->contains("connections")) {
    const auto& all = (*document)["connections"];
    if (all.is_object() && all.contains(conn.name)) written = config::redact(all[conn.name]);
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["name"] = conn.name;
  out["version"] = conn.version == 1 ? 1 : 2;
  for (auto it = written.begin(); it != written.end(); ++it)
    if (it.key() != "children" && it.key() != "version") out[it.key()] = it.value();
  // Children as a list in config order, each with its name.
  auto& children = out["children"] = nlohmann::ordered_json::array();
  for (const auto& child : conn.children) {
    nlohmann::ordered_json c = nlohmann::ordered_json::object();
    c["name"] = child.name;
    if (written.contains("children") && written["children"].is_object() && written["children"].contains(child.name))
      for (auto it = written["children"][child.name].begin(); it != written["children"][child.name].end(); ++it)
        c[it.key()] = it.value();
    children.push_back(std::move(c));
  }
  return out;
}

}  // namespace corridor::control::api

namespace corridor::control::api {

namespace {

double age_seconds(std::chrono::steady_clock::time_point received, std::chrono::steady_clock::time_point now) {
  return std::chrono::duration<double>(now - received).count();
}

nlohmann::json port_json(const DataplaneStats::Port& port, std::chrono::steady_clock::time_point now) {
  const auto& p = port.stats;
  return {{"name", std::string(p.name_view())},
          {"port_id", p.port_id},
          {"link_up", p.link_up},
          {"speed_mbps", p.link_speed_mbps},
          {"rx_packets", p.ipackets},
          {"tx_packets", p.opackets},
          {"rx_bytes", p.ibytes},
          {"tx_bytes", p.obytes},
          {"rx_missed", p.imissed},
          {"rx_errors", p.ierrors},
          {"tx_errors", p.oerrors},
          {"rx_no_mbuf", p.rx_nombuf},
          {"age_seconds", age_seconds(port.received, now)}};
}

nlohmann::json worker_json(const DataplaneStats::Worker& worker, std::chrono::steady_clock::time_point now) {
  const auto& w = worker.stats;
  nlohmann::json drops = nlohmann::json::object();
  for (std::size_t r = 0; r < channel::kForwardDropReasons; ++r)
    drops[std::string(channel::to_string(static_cast<channel::ForwardDrop>(r)))] = w.drops[r];
  return {{"index", w.worker_index},
          {"lcore", w.lcore_id},
          {"rx_packets", w.rx},
          {"tx_packets", w.tx},
          {"protected_out", w.protected_out},
          {"decapsulated", w.decapsulated},
          {"bypassed", w.bypassed},
          {"to_main", w.to_main},
          {"nat_keepalives", w.nat_keepalives},
          {"engine_drops", w.engine_drops},
          {"drops", std::move(drops)},
          {"polls", w.polls},
          {"busy_polls", w.busy_polls},
          {"busy_ratio", w.polls ? static_cast<double>(w.busy_polls) / static_cast<double>(w.polls) : 0.0},
          {"age_seconds", age_seconds(worker.received, now)}};
}

}  // namespace

nlohmann::json ports_json(const DataplaneStats* stats) {
  nlohmann::json items = nlohmann::json::array();
  if (!stats) return items;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [id, port] : stats->ports()) items.push_back(port_json(port, now));
  return items;
}

nlohmann::json workers_json(const DataplaneStats* stats) {
  nlohmann::json items = nlohmann::json::array();
  if (!stats) return items;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [index, worker] : stats->workers()) items.push_back(worker_json(worker, now));
  return items;
}

nlohmann::json forward_drops_json(const DataplaneStats& stats) {
  nlohmann::json out = nlohmann::json::object();
  const auto drops = stats.drops();
  for (std::size_t r = 0; r < channel::kForwardDropReasons; ++r)
    if (drops[r]) out[std::string(channel::to_string(static_cast<channel::ForwardDrop>(r)))] = drops[r];
  return out;
}

}  // namespace corridor::control::api
