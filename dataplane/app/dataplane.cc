#include "dataplane/app/dataplane.h"

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/config/sa_channel.h"
#include "common/config/static_sa.h"
#include "common/log/log.h"
#include "dataplane/app/ports.h"
#include "dataplane/ipsec/ip.h"
#include "dataplane/net/proxy_neighbor.h"

namespace corridor::dataplane::app {
namespace {

constexpr std::uint32_t kPoolMbufs = 16383;
constexpr std::uint32_t kSaCapacity = 16384;
// Static SAs and their policies take ids with the top bit set; control
// allocates from 1 up, so the two never meet.
constexpr std::uint64_t kStaticIdBase = std::uint64_t{1} << 63;
constexpr std::uint32_t kStaticPolicyPriority = 100;
// Adaptive polling: after this many empty rounds the main lcore sleeps,
// from 10 us up to 1 ms, so a demo or CI run on two cores stays responsive.
constexpr unsigned kIdleRoundsBeforeSleep = 256;
// Per-SA COUNTERS and the REPLAY_ICV_SUMMARY: once a second, as control's
// API promises (docs/api.md), 256 SAs per main-loop turn.
constexpr CounterReporterOptions kCounterReports{1'000'000'000, 256};

// The engine's drop reasons COUNTERS sums as malformed_drops: packets that
// do not parse as what the SA carries. Policy, replay, ICV, lifetime and
// resource drops are not malformed.
constexpr std::array kMalformedDrops{ipsec::Drop::too_short,  ipsec::Drop::bad_ip_header,
                                     ipsec::Drop::bad_length, ipsec::Drop::bad_padding,
                                     ipsec::Drop::bad_next_header, ipsec::Drop::bad_inner_packet};

// CLOCK_MONOTONIC (libstdc++'s steady_clock), the SA channel's clock.
std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// An SA's counters as COUNTERS carries them (last_packet_ns is the reporter's).
// Plain reads of what the forwarding lcore writes, as write_stats() does.
channel::SaCounters channel_counters(std::uint64_t sa_id, const ipsec::Sa& sa) {
  const auto& c = sa.counters();
  channel::SaCounters out;
  out.sa_id = sa_id;
  out.spi = sa.summary().spi;
  out.direction = sa.summary().direction;
  out.packets = c.packets;
  out.bytes = c.bytes;
  out.replay_drops = c.dropped(ipsec::Drop::replay) + c.dropped(ipsec::Drop::replay_too_old);
  out.icv_failures = c.dropped(ipsec::Drop::icv_failure);
  for (const ipsec::Drop d : kMalformedDrops) out.malformed_drops += c.dropped(d);
  return out;
}

channel::Prefix to_channel(const corridor::net::Prefix& p) {
  channel::Prefix c;
  c.family = p.address.is_v4() ? channel::IpVersion::v4 : channel::IpVersion::v6;
  c.length = p.length;
  c.address = p.network().address.bytes();
  return c;
}

}  // namespace

class Dataplane::ChannelSink final : public SaTableSink {
 public:
  explicit ChannelSink(Dataplane& dp) : dp_(dp) {}

  channel::ResultCode install_sa(const channel::SaRecord& sa) override {
    const channel::ResultCode code = dp_.sas_->install_sa(sa);
    if (code == channel::ResultCode::ok) dp_.reporter_.track(sa.sa_id);
    return code;
  }
  channel::ResultCode update_sa(const channel::SaRecord& sa) override { return dp_.sas_->update_sa(sa); }
  void remove_sa(std::uint64_t sa_id) override {
    dp_.sas_->remove_sa(sa_id);
    dp_.forget_sa(sa_id);
  }
  channel::ResultCode install_policy(const channel::PolicyRecord& policy) override {
    return dp_.sas_->install_policy(policy);
  }
  void remove_policy(std::uint64_t policy_id) override { dp_.sas_->remove_policy(policy_id); }
  void begin_batch() override { dp_.sas_->begin_batch(); }
  void end_batch() override {
    // A failed compilation is retried at every poll until it succeeds:
    // said once, and once more when it recovers.
    const bool ok = dp_.sas_->publish_batch();
    if (!ok && !spd_failing_)
      log::error("chan", "the SPD could not be compiled; the policies in force before stay until it can be: " +
                             dp_.sas_->last_error());
    else if (ok && spd_failing_)
      log::info("chan", "the SPD is compiled again with every policy");
    spd_failing_ = !ok;
  }
  void flush() override {
    dp_.sas_->flush();
    // The static SAs stay, and what was reported of them.
    const auto gone = [this](std::uint64_t sa_id) { return dp_.sas_->find(sa_id) == nullptr; };
    std::erase_if(dp_.reported_events_, [&](const auto& entry) { return gone(entry.first); });
    dp_.reporter_.forget_if(gone);
  }

 private:
  Dataplane& dp_;
  bool spd_failing_ = false;
};

class Dataplane::ReporterIo final : public CounterIo {
 public:
  explicit ReporterIo(Dataplane& dp) : dp_(dp) {}

  std::optional<channel::SaCounters> read(std::uint64_t sa_id) override {
    const ipsec::Sa* sa = dp_.sas_->find(sa_id);
    if (sa == nullptr) return std::nullopt;
    return channel_counters(sa_id, *sa);
  }
  bool send_counters(const channel::SaCounters& counters) override {
    if (dp_.inventory_->report_counters(counters)) {
      ++dp_.main_counters_.counters_reported;
      return true;
    }
    ++dp_.main_counters_.counters_dropped;
    return false;
  }
  void send_summary(const channel::ReplayIcvSummary& summary) override {
    dp_.inventory_->report_replay_icv_summary(summary);
    ++dp_.main_counters_.replay_icv_summaries;
  }

 private:
  Dataplane& dp_;
};

Dataplane::Dataplane(const config::Config& config, const Options& options)
    : config_(config), options_(options), reporter_(kCounterReports) {}

Dataplane::~Dataplane() {
  if (qsbr_ != nullptr) rte_rcu_qsbr_thread_offline(qsbr_, 0);
  inventory_.reset();
  if (endpoint_) endpoint_->detach();
  exception_path_.reset();  // the kernel interface goes with it
  forwarder_.reset();
  sas_.reset();  // releases every SA after the (now immediate) grace period
  grace_.reset();
  for (const auto& port : started_ports_) stop_port(port);
  if (exception_ != nullptr) {
    rte_mbuf* m = nullptr;
    while (rte_ring_dequeue(exception_, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    rte_ring_free(exception_);
  }
  neighbors_.reset();
  routes_.reset();
  rte_free(qsbr_);
  rte_mempool_free(pool_);
}

bool Dataplane::start() {
  const auto& dp = config_.dataplane;
  if (!dp.worker_lcores.empty()) {
    log::error("main", "worker lcores are not supported yet: the main lcore forwards alone (remove dataplane.cores.workers)");
    return false;
  }
  if (dp.ports.empty()) {
    log::error("main", "the config has no dataplane.ports");
    return false;
  }
  pool_ = rte_pktmbuf_pool_create("corridor_mbufs", kPoolMbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (pool_ == nullptr) {
    log::error("main", std::string("cannot create the mbuf pool: ") + rte_strerror(rte_errno));
    return false;
  }
  const std::size_t qsbr_size = rte_rcu_qsbr_get_memsize(1);
  qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("corridor_qsbr", qsbr_size, RTE_CACHE_LINE_SIZE));
  if (qsbr_ == nullptr || rte_rcu_qsbr_init(qsbr_, 1) != 0 || rte_rcu_qsbr_thread_register(qsbr_, 0) != 0) {
    log::error("main", "cannot set up RCU");
    return false;
  }
  rte_rcu_qsbr_thread_online(qsbr_, 0);
  exception_ = rte_ring_create("corridor_exc", 1024, rte_socket_id(), RING_F_SC_DEQ);
  if (exception_ == nullptr) {
    log::error("main", std::string("cannot create the exception ring: ") + rte_strerror(rte_errno));
    return false;
  }
  try {
    grace_ = std::make_unique<forward::GracePeriod>(qsbr_);
    sas_ = std::make_unique<forward::SaTables>(backend_, *grace_, kSaCapacity, "corridor");
    routes_ = std::make_unique<net::RouteTable>("corridor_routes");
    neighbors_ = std::make_unique<net::NeighborTable>("corridor");
  } catch (const std::exception& e) {
    log::error("main", e.what());
    return false;
  }

  for (std::size_t i = 0; i < dp.ports.size(); ++i) {
    std::string error;
    auto port = start_port(dp.ports[i], static_cast<std::uint16_t>(i), pool_, 1, 1, &error);
    if (!port) {
      log::error("port", error);
      return false;
    }
    started_ports_.push_back(*port);
    net::ArpPort arp;
    net::NdPort nd;
    arp.index = nd.index = port->index;
    arp.mac = nd.mac = port->mac;
    for (const auto& a : port->addresses) {
      if (a.address.is_v4()) arp.ipv4.push_back(a);
      else nd.ipv6.push_back(a);
    }
    arp_ports_.push_back(arp);
    nd_ports_.push_back(nd);
  }
  plane_.ports = started_ports_;
  plane_.sas = sas_.get();
  plane_.routes = routes_.get();
  plane_.neighbors = neighbors_.get();
  plane_.exception = exception_;

  // Connected prefixes first, then the static routes (a more specific
  // static route wins by prefix length, not by order).
  std::string error;
  for (const auto& port : started_ports_) {
    for (const auto& a : port.addresses) {
      if (!routes_->add(a.network(), {port.index, true, {}}, &error)) {
        log::error("route", error);
        return false;
      }
    }
  }
  for (const auto& r : dp.routes) {
    std::uint16_t index = 0;
    while (index < started_ports_.size() && started_ports_[index].name != r.port) ++index;
    net::NextHop hop{index, !r.via.has_value(), r.via.value_or(corridor::net::IpAddress{})};
    if (!routes_->add(r.prefix, hop, &error)) {
      log::error("route", error);
      return false;
    }
  }
  for (const auto& n : dp.neighbors) {
    // A static neighbor belongs to the port whose subnet holds it.
    bool placed = false;
    for (const auto& port : started_ports_) {
      for (const auto& a : port.addresses) {
        if (!a.contains(n.ip)) continue;
        net::MacAddress mac;
        mac.bytes = n.mac;
        placed = neighbors_->set(net::NeighborKey::of(port.index, n.ip), mac, true);
      }
    }
    if (!placed) log::warning("neighbor", n.ip.to_string() + " is on no port's subnet: entry not used");
  }
  if (!install_static_sas()) return false;

  forwarder_ = std::make_unique<forward::Forwarder>(plane_, backend_, 0, 0);

  if (dp.exception_interface) {
    std::string why;
    exception_path_ = ExceptionPath::start(dp, started_ports_, pool_, main_counters_, &why);
    if (!exception_path_) {
      log::error("exc", "cannot set up the exception interface " + *dp.exception_interface + ": " + why);
      return false;
    }
  } else {
    log::info("exc", "no dataplane.exception_interface: traffic for the gateway itself is counted (to_gateway) "
                     "and dropped");
  }

  auto endpoint = channel::DataplaneEndpoint::attach(config::endpoint_options(config_.sa_channel));
  if (!endpoint) {
    log::error("chan", endpoint.error().message);
    return false;
  }
  endpoint_.emplace(std::move(endpoint.value()));
  channel_sink_ = std::make_unique<ChannelSink>(*this);
  inventory_ = std::make_unique<SaInventory>(*endpoint_, *channel_sink_);
  reporter_io_ = std::make_unique<ReporterIo>(*this);
  log::info("chan", "attached to SA channel " + config_.sa_channel.name + " as dataplane (generation " +
                        std::to_string(endpoint_->generation()) + ")");
  log::info("main", "forwarding on " + std::to_string(started_ports_.size()) + " ports, " +
                        std::to_string(sas_->sa_count()) + " static SAs, crypto " + std::string(backend_.name()));
  return true;
}

bool Dataplane::install_static_sas() {
  std::uint64_t next_id = kStaticIdBase;
  for (std::size_t i = 0; i < config_.dataplane.static_sas.size(); ++i) {
    const auto& s = config_.dataplane.static_sas[i];
    const std::string where = "/dataplane/static_sas/" + std::to_string(i);
    std::string why;
    const std::uint64_t sa_id = ++next_id;
    const auto record = config::to_sa_record(s, sa_id, &why);
    if (!record) {
      log::error("sa", where + ": " + why);
      return false;
    }
    if (sas_->install_static_sa(*record) != channel::ResultCode::ok) {
      log::error("sa", where + ": " + sas_->last_error());
      return false;
    }
    // In the REPLAY_ICV_SUMMARY, but no COUNTERS: control never learns
    // static SAs (they are in no inventory), so it could not place them.
    reporter_.track(sa_id, false);
    // The traffic the SA carries: outbound, a protect policy that steers
    // it into the SA; inbound, the selectors decrypted packets must match.
    for (const auto& sel : config::packet_selectors(s)) {
      channel::PolicyRecord p;
      p.policy_id = ++next_id;
      p.direction = record->direction;
      p.action = channel::PolicyAction::protect;
      p.priority = kStaticPolicyPriority;
      p.src = to_channel(sel.src);
      p.dst = to_channel(sel.dst);
      p.sa_id = sa_id;
      if (sas_->install_static_policy(p) != channel::ResultCode::ok) {
        log::error("sa", where + ": policy " + sel.src.to_string() + " -> " + sel.dst.to_string() + ": " +
                             sas_->last_error());
        return false;
      }
    }
    log::info("sa", "static SA " + std::string(config::to_string(s.direction)) + " SPI 0x" +
                        [&] {
                          char b[9];
                          std::snprintf(b, sizeof b, "%08x", s.spi);
                          return std::string(b);
                        }() +
                        " " + s.local.to_string() + (s.direction == config::SaDirection::out ? " -> " : " <- ") +
                        s.remote.to_string() + " installed");
  }
  return true;
}

void Dataplane::run() {
  unsigned idle = 0;
  std::chrono::microseconds nap{10};
  const bool adaptive = config_.dataplane.poll_mode == config::PollMode::adaptive;
  while (!stopping_.load(std::memory_order_relaxed)) {
    if (dump_requested_.exchange(false, std::memory_order_relaxed)) write_stats();
    rte_rcu_qsbr_quiescent(qsbr_, 0);
    unsigned received = forwarder_->poll();
    received += slow_path();
    if (received != 0 || !adaptive) {
      idle = 0;
      nap = std::chrono::microseconds{10};
      continue;
    }
    if (++idle >= kIdleRoundsBeforeSleep) {
      std::this_thread::sleep_for(nap);
      nap = std::min(nap * 2, std::chrono::microseconds{1000});
    }
  }
  forwarder_->flush();
  log::info("main", "stopping");
}

unsigned Dataplane::slow_path() {
  rte_mbuf* frames[32];
  const unsigned n = rte_ring_sc_dequeue_burst(exception_, reinterpret_cast<void**>(frames), 32, nullptr);
  for (unsigned i = 0; i < n; ++i) handle_exception(frames[i]);
  unsigned from_kernel = 0;
  if (exception_path_) {
    from_kernel = exception_path_->poll(*forwarder_);
    exception_path_->flush();
  }
  resolve_neighbors();
  forwarder_->flush();
  grace_->poll();
  inventory_->poll();
  report_events();
  report_acquires();
  const std::uint64_t now = now_ns();
  reporter_.turn(now, *reporter_io_);
  if (now - stats_reported_ns_ >= kStatsIntervalNs) {
    stats_reported_ns_ = now;
    report_stats(now);
  }
  return from_kernel;
}

void Dataplane::report_stats(std::uint64_t now) {
  for (const auto& port : started_ports_) {
    channel::PortStats p;
    p.port_id = port.port_id;
    p.set_name(port.name);  // 1-63 bytes: the loader checks (kMaxPortNameLength)
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port.port_id, &link) == 0) {
      p.link_up = link.link_status == RTE_ETH_LINK_UP;
      p.link_speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
    }
    rte_eth_stats st{};
    rte_eth_stats_get(port.port_id, &st);
    p.ipackets = st.ipackets;
    p.opackets = st.opackets;
    p.ibytes = st.ibytes;
    p.obytes = st.obytes;
    p.imissed = st.imissed;
    p.ierrors = st.ierrors;
    p.oerrors = st.oerrors;
    p.rx_nombuf = st.rx_nombuf;
    p.sampled_ns = now;
    if (inventory_->report_stats(p)) ++main_counters_.stats_reported;
    else ++main_counters_.stats_skipped;
  }
  // One forwarding lcore today: the main one, worker 0.
  const auto& c = forwarder_->counters();
  channel::WorkerStats w;
  w.lcore_id = rte_lcore_id();
  w.worker_index = 0;
  w.rx = c.rx;
  w.tx = c.tx;
  w.protected_out = c.protected_out;
  w.decapsulated = c.decapsulated;
  w.bypassed = c.bypassed;
  w.to_main = c.to_main;
  w.nat_keepalives = c.nat_keepalives;
  w.engine_drops = c.engine_drops;
  w.polls = c.polls;
  w.busy_polls = c.busy_polls;
  w.sampled_ns = now;
  std::copy(c.drops.begin(), c.drops.end(), w.drops.begin());
  if (inventory_->report_stats(w)) ++main_counters_.stats_reported;
  else ++main_counters_.stats_skipped;
}

void Dataplane::handle_exception(rte_mbuf* frame) {
  const std::uint16_t index = frame->port;  // the forwarder put the port index here
  const auto* eth = rte_pktmbuf_mtod(frame, const std::uint8_t*);
  if (ipsec::load_be16(eth + 12) == net::kEtherTypeArp) {
    switch (net::handle_arp(frame, arp_ports_[index], *neighbors_)) {
      case net::ArpResult::reply:
        ++main_counters_.arp_replies;
        forwarder_->send_frame(index, frame);
        return;
      case net::ArpResult::learnt: ++main_counters_.arp_learnt; break;
      case net::ArpResult::ignored: ++main_counters_.arp_ignored; break;
      case net::ArpResult::malformed: ++main_counters_.arp_malformed; break;
    }
    rte_pktmbuf_free(frame);
    return;
  }
  if (net::is_neighbor_discovery(eth, frame->data_len)) {
    switch (net::handle_nd(frame, nd_ports_[index], *neighbors_)) {
      case net::NdResult::reply:
        ++main_counters_.nd_replies;
        forwarder_->send_frame(index, frame);
        return;
      case net::NdResult::learnt: ++main_counters_.nd_learnt; break;
      case net::NdResult::ignored: ++main_counters_.nd_ignored; break;
      case net::NdResult::malformed: ++main_counters_.nd_malformed; break;
    }
    rte_pktmbuf_free(frame);
    return;
  }
  // IKE, ICMP and management for the gateway: the kernel's, through the
  // exception interface.
  ++main_counters_.to_gateway;
  if (exception_path_) {
    exception_path_->to_kernel(frame);
    return;
  }
  ++main_counters_.no_exception_interface;
  rte_pktmbuf_free(frame);
}

void Dataplane::resolve_neighbors() {
  const std::uint64_t now = now_ns();
  while (const auto key = neighbors_->next_request(now)) {
    if (key->family != 4) {
      if (rte_mbuf* ns = net::make_neighbor_solicitation(pool_, nd_ports_[key->port], key->ip.data())) {
        ++main_counters_.nd_solicitations;
        forwarder_->send_frame(key->port, ns);
      } else {
        ++main_counters_.nd_no_source;  // the port has no IPv6 address to ask from
      }
      continue;
    }
    if (rte_mbuf* req = net::make_arp_request(pool_, arp_ports_[key->port], key->ip.data())) {
      ++main_counters_.arp_requests;
      forwarder_->send_frame(key->port, req);
    }
  }
}

void Dataplane::report_events() {
  // Nothing raised since the last walk: no walk (see sa_events_raised).
  const std::uint64_t count = ipsec::RuntimeSa::sa_events_raised.load(std::memory_order_acquire);
  if (count == events_seen_) return;
  events_seen_ = count;
  sas_->for_each_sa([&](std::uint64_t sa_id, const ipsec::Sa& sa) {
    const std::uint8_t raised = sa.runtime().events.load(std::memory_order_relaxed);
    if (raised == 0) return;  // most SAs: no map entry for them
    std::uint8_t& sent = reported_events_[sa_id];
    const std::uint8_t fresh = static_cast<std::uint8_t>(raised & ~sent);
    if (fresh == 0) return;
    sent |= fresh;
    const auto& s = sa.summary();
    const auto& c = sa.counters();
    channel::LifetimeExpired e{sa_id, s.spi, s.direction, channel::LifetimeKind::packets, c.bytes, c.packets};
    const auto& rt = sa.runtime();
    const auto kind_of = [&](std::uint64_t bytes_limit) {
      return c.bytes >= bytes_limit ? channel::LifetimeKind::bytes : channel::LifetimeKind::packets;
    };
    if (fresh & ipsec::kSoftLifetime) {
      e.kind = kind_of(rt.bytes_soft);
      inventory_->report_soft_lifetime(e);
    }
    if (fresh & ipsec::kHardLifetime) {
      e.kind = kind_of(rt.bytes_hard);
      inventory_->report_hard_lifetime(e);
    }
    if (fresh & ipsec::kSeqOverflow) inventory_->report_seq_overflow({sa_id, s.spi, rt.seq});
    ++main_counters_.events_reported;
  });
}

void Dataplane::report_acquires() {
  auto& acquires = forwarder_->acquires();
  for (const auto& a : acquires.pending()) {
    inventory_->report_acquire(a);
    ++main_counters_.acquires_reported;
  }
  acquires.clear();
}

void Dataplane::forget_sa(std::uint64_t sa_id) {
  reported_events_.erase(sa_id);
  reporter_.forget(sa_id);
}

void Dataplane::write_stats() const {
  if (options_.stats_path.empty()) return;
  // Written beside and renamed, so a reader never sees half a file.
  const std::string tmp = options_.stats_path + ".tmp";
  {
    std::ofstream out(tmp);
    out << stats_json() << "\n";
  }
  std::rename(tmp.c_str(), options_.stats_path.c_str());
}

std::string Dataplane::stats_json() const {
  using nlohmann::ordered_json;
  ordered_json j;
  // CLOCK_MONOTONIC when the counters were read: readers tell one dump from
  // the next by it (file times are too coarse) and time rates by it.
  j["monotonic_ns"] = now_ns();
  ordered_json ports = ordered_json::array();
  for (const auto& p : started_ports_) {
    rte_eth_stats st{};
    rte_eth_stats_get(p.port_id, &st);
    ports.push_back({{"name", p.name},
                     {"mac", p.mac.to_string()},
                     {"ipackets", st.ipackets},
                     {"opackets", st.opackets},
                     {"imissed", st.imissed},
                     {"ierrors", st.ierrors},
                     {"oerrors", st.oerrors}});
  }
  j["ports"] = ports;
  if (forwarder_) {
    const auto& c = forwarder_->counters();
    const auto& reasm = forwarder_->reassembly();
    const auto& acq = forwarder_->acquires().counters();
    ordered_json drops = ordered_json::object();
    for (std::size_t r = 0; r < forward::kFwdDropReasons; ++r) {
      drops[std::string(forward::to_string(static_cast<forward::FwdDrop>(r)))] = c.drops[r];
    }
    ordered_json unattributed = ordered_json::object();
    j["forwarding"] = {{"rx", c.rx},
                       {"tx", c.tx},
                       {"protected_out", c.protected_out},
                       {"decapsulated", c.decapsulated},
                       {"bypassed", c.bypassed},
                       {"to_main", c.to_main},
                       {"nat_keepalives", c.nat_keepalives},
                       {"engine_drops", c.engine_drops},
                       {"polls", c.polls},
                       {"busy_polls", c.busy_polls},
                       {"fragmented", c.fragmented},
                       {"fragments", c.fragments},
                       {"too_big_sent", c.too_big_sent},
                       {"too_big_rate_limited", c.too_big_rate_limited},
                       {"reassembly", {{"fragments", reasm.fragments}, {"reassembled", reasm.reassembled}, {"dropped", reasm.dropped}}},
                       {"acquires", {{"raised", acq.raised}, {"held", acq.held}, {"overflow", acq.overflow}}},
                       {"drops", drops}};
  }
  const auto& m = main_counters_;
  j["main"] = {{"arp_replies", m.arp_replies},
               {"arp_learnt", m.arp_learnt},
               {"arp_ignored", m.arp_ignored},
               {"arp_malformed", m.arp_malformed},
               {"arp_requests", m.arp_requests},
               {"nd_replies", m.nd_replies},
               {"nd_learnt", m.nd_learnt},
               {"nd_ignored", m.nd_ignored},
               {"nd_malformed", m.nd_malformed},
               {"nd_solicitations", m.nd_solicitations},
               {"nd_no_source", m.nd_no_source},
               {"to_gateway", m.to_gateway},
               {"to_kernel", m.to_kernel},
               {"no_exception_interface", m.no_exception_interface},
               {"from_kernel", m.from_kernel},
               {"kernel_arp_answered", m.kernel_arp_answered},
               {"kernel_nd_answered", m.kernel_nd_answered},
               {"kernel_ip", m.kernel_ip},
               {"kernel_link_local", m.kernel_link_local},
               {"kernel_ignored", m.kernel_ignored},
               {"kernel_unsupported", m.kernel_unsupported},
               {"kernel_tx_failed", m.kernel_tx_failed},
               {"events_reported", m.events_reported},
               {"acquires_reported", m.acquires_reported},
               {"counters_reported", m.counters_reported},
               {"counters_dropped", m.counters_dropped},
               {"replay_icv_summaries", m.replay_icv_summaries},
               {"stats_reported", m.stats_reported},
               {"stats_skipped", m.stats_skipped},
               {"counter_passes_late", reporter_.stats().late_passes}};
  if (exception_path_) {
    rte_eth_stats st{};
    rte_eth_stats_get(exception_path_->port_id(), &st);
    j["exception_interface"] = {{"name", exception_path_->name()},
                                {"ifindex", exception_path_->ifindex()},
                                {"kernel_mac", exception_path_->kernel_mac().to_string()},
                                {"dataplane_mac", net::kExceptionLinkMac.to_string()},
                                {"mtu", exception_path_->mtu()},
                                {"ipackets", st.ipackets},
                                {"opackets", st.opackets},
                                {"oerrors", st.oerrors}};
  } else {
    j["exception_interface"] = nullptr;
  }
  ordered_json sas = ordered_json::array();
  if (sas_) {
    sas_->for_each_sa([&](std::uint64_t sa_id, const ipsec::Sa& sa) {
      const auto& s = sa.summary();
      const auto& c = sa.counters();
      ordered_json drops = ordered_json::object();
      for (std::size_t r = 0; r < ipsec::kDropReasons; ++r) {
        if (c.drops[r] != 0) drops[std::string(ipsec::to_string(static_cast<ipsec::Drop>(r)))] = c.drops[r];
      }
      sas.push_back({{"sa_id", sa_id},
                     {"spi", s.spi},
                     {"direction", std::string(channel::to_string(s.direction))},
                     {"protocol", std::string(channel::to_string(s.protocol))},
                     {"packets", c.packets},
                     {"bytes", c.bytes},
                     {"drops", drops}});
    });
  }
  j["sas"] = sas;
  return j.dump(2);
}

}  // namespace corridor::dataplane::app
