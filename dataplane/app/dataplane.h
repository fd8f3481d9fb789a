// corridor-dataplane after EAL is up: the ports, the tables, the static
// SAs, the SA channel, and the main lcore's loop.
//
// One lcore today: the main lcore forwards (Forwarder::poll) and, between
// rounds, does the slow work: ARP replies and next-hop resolution, the
// exception interface (exception_path.h), the SA channel (SaInventory),
// lifetime events, per-SA counter reports (CounterReporter), deferred
// releases. It registers
// as the one RCU reader and reports a quiescent state between rounds, so
// the same code serves added worker lcores later.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/channel/dataplane_endpoint.h"
#include "common/config/model.h"
#include "dataplane/app/exception_path.h"
#include "dataplane/app/main_counters.h"
#include "dataplane/app/options.h"
#include "dataplane/channel/counter_reporter.h"
#include "dataplane/channel/sa_inventory.h"
#include "dataplane/crypto/ipsec_mb.h"
#include "dataplane/forward/forwarder.h"
#include "dataplane/forward/grace_period.h"
#include "dataplane/forward/sa_tables.h"
#include "dataplane/net/arp.h"
#include "dataplane/net/nd.h"

struct rte_mempool;
struct rte_rcu_qsbr;
struct rte_ring;

namespace corridor::dataplane::app {

class Dataplane {
 public:
  Dataplane(const config::Config& config, const Options& options);
  ~Dataplane();
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  // Sets everything up; false with the reason logged.
  bool start();
  // The main loop, until stop() (from a signal handler) is called.
  void run();
  static void stop() { stopping_.store(true, std::memory_order_relaxed); }
  // Asks the loop to write the --stats file now (SIGUSR1), without stopping.
  static void dump_stats() { dump_requested_.store(true, std::memory_order_relaxed); }
  // Every counter as JSON (the --stats file).
  std::string stats_json() const;
  // Writes stats_json() to the --stats file, if one was given.
  void write_stats() const;

 private:
  bool install_static_sas();
  // Returns the frames it read from the exception interface (work done,
  // for the adaptive polling).
  unsigned slow_path();
  void handle_exception(rte_mbuf* frame);
  void resolve_neighbors();
  void report_events();
  // Queues the ACQUIREs the forwarder's trap policies raised.
  void report_acquires();
  // PORT_STATS for every port and WORKER_STATS for every forwarding lcore,
  // once per kStatsIntervalNs (control's /dataplane/* and metrics).
  void report_stats(std::uint64_t now);
  static constexpr std::uint64_t kStatsIntervalNs = 1'000'000'000;
  void forget_sa(std::uint64_t sa_id);

  // SaTables as the SA channel drives it, keeping the per-SA bookkeeping
  // below in step with the SAs that come and go.
  class ChannelSink;
  // The counter reporter's view: SaTables' counters in, SaInventory out.
  class ReporterIo;

  const config::Config& config_;
  Options options_;
  rte_mempool* pool_ = nullptr;
  rte_rcu_qsbr* qsbr_ = nullptr;
  rte_ring* exception_ = nullptr;
  crypto::IpsecMbBackend backend_;
  std::unique_ptr<forward::GracePeriod> grace_;
  std::unique_ptr<forward::SaTables> sas_;
  std::unique_ptr<net::RouteTable> routes_;
  std::unique_ptr<net::NeighborTable> neighbors_;
  forward::ForwardingPlane plane_;
  std::vector<net::ArpPort> arp_ports_;
  std::vector<net::NdPort> nd_ports_;
  std::unique_ptr<forward::Forwarder> forwarder_;
  std::unique_ptr<ExceptionPath> exception_path_;  // null without dataplane.exception_interface
  std::optional<channel::DataplaneEndpoint> endpoint_;
  std::unique_ptr<ChannelSink> channel_sink_;
  std::unique_ptr<SaInventory> inventory_;
  // sa_id -> SaEvent bits already sent, for SAs that raised any; an entry
  // goes with its SA.
  std::map<std::uint64_t, std::uint8_t> reported_events_;
  std::uint64_t events_seen_ = 0;  // RuntimeSa::sa_events_raised at the last walk
  CounterReporter reporter_;
  std::unique_ptr<ReporterIo> reporter_io_;
  MainCounters main_counters_;
  std::vector<forward::Port> started_ports_;
  std::uint64_t stats_reported_ns_ = 0;  // CLOCK_MONOTONIC of the last report_stats()
  static inline std::atomic<bool> stopping_{false};
  static inline std::atomic<bool> dump_requested_{false};
};

}  // namespace corridor::dataplane::app
