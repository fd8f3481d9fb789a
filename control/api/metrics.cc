#include "control/api/metrics.h"

#include <map>

#include "control/api/views.h"

namespace corridor::control::api {

namespace {

class Exposition {
 public:
  // Each family's HELP and TYPE once, before its first sample.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, const std::vector<std::pair<std::string_view, std::string>>& labels,
              std::uint64_t value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        out_ += escape_label(v);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string render_metrics(const Sources& sources, const ServerStats* api) {
  Exposition e;
  const auto now = ikev2::Clock::now();
  const auto running = sources.config ? sources.config->config() : std::make_shared<const config::Config>();
  const bool per_sa = running->api.metrics_per_sa;

  e.family("corridor_up", "gauge", "1 while corridor-control runs.");
  e.sample("corridor_up", {}, 1);
  e.family("corridor_dataplane_up", "gauge", "1 while the dataplane's heartbeats arrive over the SA channel.");
  e.sample("corridor_dataplane_up", {},
           sources.sync && sources.sync->dataplane_alive(sources.dataplane_timeout) ? 1 : 0);

  // Settle first, so the traffic of an SA deleted since the last scrape
  // lands in its connection's totals.
  if (sources.traffic) settle_traffic(*sources.traffic, sources.ike, sources.ikev1);

  // One walk over the SAs, briefly: nothing is copied per SA unless
  // per-SA labels are on.
  std::map<std::string_view, std::uint64_t> by_state{{"ESTABLISHED", 0}};
  std::map<std::string, std::uint64_t, std::less<>> children_by_connection;
  std::map<std::string, std::uint64_t, std::less<>> oldest_by_connection;
  struct SaAge {
    std::string connection;
    std::string name;
    std::uint64_t seconds;
  };
  std::vector<SaAge> per_sa_ages;
  for (const auto& conn : running->connections) children_by_connection[conn.name] = 0;
  const auto count_in = [](auto& map, std::string_view key) -> std::uint64_t& {
    auto it = map.find(key);
    if (it == map.end()) it = map.emplace(std::string(key), 0).first;
    return it->second;
  };
  if (sources.ike)
    sources.ike->visit_briefs([&](const ikev2::IkeSaBrief& sa) {
      ++by_state[sa.state];
      count_in(children_by_connection, sa.connection) += sa.children;
      if (!sa.established_at) return;
      const auto age = static_cast<std::uint64_t>(
          std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(now - *sa.established_at).count()));
      auto& oldest = count_in(oldest_by_connection, sa.connection);
      oldest = std::max(oldest, age);
      if (per_sa)
        per_sa_ages.push_back({std::string(sa.connection),
                               std::string(sa.connection) + "[" + std::to_string(sa.id) + "]", age});
    });

  e.family("corridor_ike_sas", "gauge", "IKE SAs by state.");
  for (const auto& [state, n] : by_state) e.sample("corridor_ike_sas", {{"state", std::string(state)}}, n);

  if (per_sa) {
    e.family("corridor_ike_sa_established_seconds", "gauge", "Seconds since each established IKE SA came up.");
    for (const auto& sa : per_sa_ages)
      e.sample("corridor_ike_sa_established_seconds", {{"connection", sa.connection}, {"sa", sa.name}}, sa.seconds);
  } else {
    e.family("corridor_ike_sa_established_seconds", "gauge",
             "Seconds since the longest-established IKE SA of each connection came up.");
    for (const auto& [conn, age] : oldest_by_connection)
      e.sample("corridor_ike_sa_established_seconds", {{"connection", conn}}, age);
  }

  e.family("corridor_child_sas", "gauge", "Child SAs (inbound/outbound pairs) by connection.");
  for (const auto& [conn, n] : children_by_connection) e.sample("corridor_child_sas", {{"connection", conn}}, n);

  if (sources.traffic) {
    const auto& totals = sources.traffic->by_connection();
    e.family("corridor_child_sa_bytes_total", "counter",
             "Bytes through Child SAs by connection and direction, as the dataplane counts them.");
    for (const auto& [conn, t] : totals) {
      e.sample("corridor_child_sa_bytes_total", {{"connection", conn}, {"direction", "in"}}, t.bytes_in);
      e.sample("corridor_child_sa_bytes_total", {{"connection", conn}, {"direction", "out"}}, t.bytes_out);
    }
    e.family("corridor_child_sa_packets_total", "counter", "Packets through Child SAs by connection and direction.");
    for (const auto& [conn, t] : totals) {
      e.sample("corridor_child_sa_packets_total", {{"connection", conn}, {"direction", "in"}}, t.packets_in);
      e.sample("corridor_child_sa_packets_total", {{"connection", conn}, {"direction", "out"}}, t.packets_out);
    }
  }

  if (sources.traffic || sources.dataplane) {
    e.family("corridor_dataplane_drops_total", "counter",
             "Packets the dataplane dropped, by reason: on an SA (replay, icv, malformed) or while forwarding "
             "(docs/dataplane.md).");
    if (sources.traffic) {
      const auto& d = sources.traffic->drops();
      e.sample("corridor_dataplane_drops_total", {{"reason", "replay"}}, d.replay);
      e.sample("corridor_dataplane_drops_total", {{"reason", "icv"}}, d.icv);
      e.sample("corridor_dataplane_drops_total", {{"reason", "malformed"}}, d.malformed);
    }
    if (sources.dataplane) {
      const auto drops = sources.dataplane->drops();
      for (std::size_t r = 0; r < channel::kForwardDropReasons; ++r)
        e.sample("corridor_dataplane_drops_total",
                 {{"reason", std::string(channel::to_string(static_cast<channel::ForwardDrop>(r)))}}, drops[r]);
    }
  }

  if (sources.dataplane) {
    const auto& ports = sources.dataplane->ports();
    e.family("corridor_dataplane_port_up", "gauge", "1 while the port's link is up.");
    for (const auto& [id, p] : ports)
      e.sample("corridor_dataplane_port_up", {{"port", std::string(p.stats.name_view())}}, p.stats.link_up ? 1 : 0);
    e.family("corridor_dataplane_port_packets_total", "counter", "Frames through each dataplane port, by direction.");
    for (const auto& [id, p] : ports) {
      const std::string name(p.stats.name_view());
      e.sample("corridor_dataplane_port_packets_total", {{"port", name}, {"direction", "in"}}, p.stats.ipackets);
      e.sample("corridor_dataplane_port_packets_total", {{"port", name}, {"direction", "out"}}, p.stats.opackets);
    }
    e.family("corridor_dataplane_port_bytes_total", "counter", "Bytes through each dataplane port, by direction.");
    for (const auto& [id, p] : ports) {
      const std::string name(p.stats.name_view());
      e.sample("corridor_dataplane_port_bytes_total", {{"port", name}, {"direction", "in"}}, p.stats.ibytes);
      e.sample("corridor_dataplane_port_bytes_total", {{"port", name}, {"direction", "out"}}, p.stats.obytes);
    }
    e.family("corridor_dataplane_port_errors_total", "counter",
             "Frames a port lost: rx_missed (no RX descriptor: the worker fell behind), rx_errors, tx_errors, "
             "rx_no_mbuf.");
    for (const auto& [id, p] : ports) {
      const std::string name(p.stats.name_view());
      e.sample("corridor_dataplane_port_errors_total", {{"port", name}, {"kind", "rx_missed"}}, p.stats.imissed);
      e.sample("corridor_dataplane_port_errors_total", {{"port", name}, {"kind", "rx_errors"}}, p.stats.ierrors);
      e.sample("corridor_dataplane_port_errors_total", {{"port", name}, {"kind", "tx_errors"}}, p.stats.oerrors);
      e.sample("corridor_dataplane_port_errors_total", {{"port", name}, {"kind", "rx_no_mbuf"}}, p.stats.rx_nombuf);
    }
    const auto& workers = sources.dataplane->workers();
    e.family("corridor_dataplane_worker_polls_total", "counter",
             "RX polls of each forwarding worker: busy (frames found) or idle. busy / all is the core's load.");
    for (const auto& [index, w] : workers) {
      const std::string worker = std::to_string(index);
      e.sample("corridor_dataplane_worker_polls_total", {{"worker", worker}, {"result", "busy"}}, w.stats.busy_polls);
      e.sample("corridor_dataplane_worker_polls_total", {{"worker", worker}, {"result", "idle"}},
               w.stats.polls - w.stats.busy_polls);
    }
  }

  if (sources.ike) {
    const auto& st = sources.ike->stats();
    e.family("corridor_ike_messages_total", "counter", "IKE messages received, sent and retransmitted.");
    e.sample("corridor_ike_messages_total", {{"direction", "in"}}, st.received);
    e.sample("corridor_ike_messages_total", {{"direction", "out"}}, st.sent);
    e.sample("corridor_ike_messages_total", {{"direction", "retransmitted"}}, st.retransmitted);
    e.family("corridor_ike_sa_events_total", "counter", "IKE and Child SA lifecycle events.");
    const std::pair<std::string_view, std::uint64_t> events[] = {
        {"ike_established", st.ike_sas_established}, {"ike_failed", st.ike_sas_failed},
        {"ike_rekeyed", st.ike_sas_rekeyed},         {"dead_peer", st.dead_peers},
        {"child_installed", st.child_sas_installed}, {"child_rekeyed", st.child_sas_rekeyed},
        {"child_expired", st.child_sas_expired},     {"cookie_sent", st.cookies_sent},
        {"child_rekey_collision", st.child_rekey_collisions}, {"ike_rekey_collision", st.ike_rekey_collisions},
        {"ike_reauth_started", st.ike_sas_reauth_started}, {"ike_reauthenticated", st.ike_sas_reauthenticated},
        {"ike_reauth_failed", st.ike_sas_reauth_failed},
    };
    for (const auto& [event, n] : events) e.sample("corridor_ike_sa_events_total", {{"event", std::string(event)}}, n);
    e.family("corridor_ike_drops_total", "counter", "IKE datagrams dropped, by reason.");
    for (const auto& [reason, n] : st.drops) e.sample("corridor_ike_drops_total", {{"reason", reason}}, n);
  }

  if (api) {
    e.family("corridor_api_requests_total", "counter", "REST API requests, by response status.");
    for (const auto& [code, n] : api->responses_by_status)
      e.sample("corridor_api_requests_total", {{"status", std::to_string(code)}}, n);
  }
  return e.take();
}

}  // namespace corridor::control::api
