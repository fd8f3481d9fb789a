#include "control/service.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/channel/control_endpoint.h"
#include "common/config/sa_channel.h"
#include "common/log/log.h"
#include "control/api/api.h"
#include "control/api/views.h"
#include "control/daemon/certificate_store.h"
#include "control/daemon/config_store.h"
#include "control/daemon/dataplane_stats.h"
#include "control/daemon/ike_socket.h"
#include "control/daemon/sa_sync.h"
#include "control/daemon/traffic_ledger.h"
#include "control/ikev1/manager.h"
#include "control/ikev2/manager.h"

namespace corridor::control {
namespace {

using namespace std::chrono_literals;

// How often the loop turns: SA channel events, pushes and heartbeats are
// handled at this pace (the SA channel's heartbeat interval is 1 s).
constexpr auto kTick = 10ms;
// A dataplane that has not refreshed its heartbeat for this long is reported down.
constexpr auto kDataplaneTimeout = 3s;
// How long a stop waits for the peers to answer the IKE SAs' Deletes (and
// the exchanges out before them): ample for a live peer on a sound path,
// short enough that a dead one does not hold the stop up. A datagram lost
// on the way is not retransmitted within it (the first retransmission is
// 4 s after the request): that peer finds out by its own liveness checks.
constexpr auto kShutdownGrace = 2s;
// How often the rekeys of Child SAs whose outbound SAs are withheld from a
// restarted dataplane are asked for again while any is left: longer than a
// TEMPORARY_FAILURE back-off (10-20 s), so that a rekey under way ends first.
constexpr auto kWithheldRetry = 15s;
// How often the traffic ledger drops the counters of SAs that are gone.
constexpr auto kSettleInterval = 60s;

// Child SAs the IKE manager negotiates go to the dataplane through SaSync.
class SyncSink final : public ikev2::ChildSaSink {
 public:
  explicit SyncSink(SaSync& sync) : sync_(sync) {}
  bool set_sa(const channel::SaRecord& sa) override { return accepted(sync_.set_sa(sa), "SA", sa.sa_id); }
  void remove_sa(std::uint64_t sa_id) override { sync_.remove_sa(sa_id); }
  bool set_policy(const channel::PolicyRecord& p) override { return accepted(sync_.set_policy(p), "policy", p.policy_id); }
  void remove_policy(std::uint64_t policy_id) override { sync_.remove_policy(policy_id); }
  // Push what is queued now rather than on the next tick (up to 10 ms
  // later), waiting briefly for ring room; anything left goes on the tick.
  void flush() override {
    if (sync_.queued_commands() != 0) sync_.poll(channel::SteadyClock::now() + 2ms);
  }

 private:
  static bool accepted(const channel::RecordError& e, const char* what, std::uint64_t id) {
    if (e.code == channel::ResultCode::ok) return true;
    log::error("chan", std::string(what) + " " + std::to_string(id) + " refused: " + std::string(channel::to_string(e.code)) +
                           " in field " + std::string(channel::to_string(e.field)));
    return false;
  }
  SaSync& sync_;
};

class Service {
 public:
  Service(ConfigStore& store, const DaemonOptions& options, channel::ControlEndpoint& endpoint)
      : store_(store),
        options_(options),
        endpoint_(endpoint),
        sync_(endpoint, callbacks()),
        sink_(sync_),
        traps_(sink_, channel_id_base(endpoint.generation()) | kTrapChannelIdBit),
        timer_(io_),
        signals_(io_, SIGINT, SIGTERM),
        status_signal_(io_, SIGUSR1),
        certificates_(store.base_dir(), CertificateRole::end_entity),
        authorities_(store.base_dir(), CertificateRole::authority) {}

  int run() {
    const auto running = store_.config();
    log::info("chan", "attached to SA channel " + running->sa_channel.name + " as control plane (generation " +
                          std::to_string(endpoint_.generation()) + "), asking the dataplane for its installed SAs");
    // IKE restores nothing yet, so the desired set is complete as loaded
    // (with the trap policies): reconciliation removes SAs that no running
    // negotiation owns.
    traps_.reconcile(*running);
    sync_.desired_set_complete();
    std::string why;
    if (!running->connections.empty() && !open_ike(running, &why)) {
      log::error("net", why);
      endpoint_.detach();
      return 1;
    }
    store_.set_live_apply([this](const std::shared_ptr<const config::Config>& next, const ConfigChange& change,
                                 std::string* reason) { return apply_config(next, change, reason); });
    if (running->api.enabled && !open_api()) {
      endpoint_.detach();
      return 1;
    }
    wait_stop_signal();
    wait_status_signal();
    schedule();
    if (ike_) ike_->start(ikev2::Clock::now());
    if (ikev1_) ikev1_->start(ikev2::Clock::now());
    io_.run();
    write_status();
    report_stats();
    endpoint_.detach();
    return 0;
  }

 private:
  SaSyncCallbacks callbacks() {
    SaSyncCallbacks cb;
    cb.on_lifetime = [this](const channel::LifetimeExpired& e, bool hard) {
      log::info("chan", std::string(hard ? "hard" : "soft") + " lifetime reached for SA " + std::to_string(e.sa_id) +
                            " (SPI " + api::spi_hex(e.spi) + ") after " + std::to_string(e.bytes) + " bytes, " +
                            std::to_string(e.packets) + " packets");
      // IKEv1 and IKEv2 SA records have ids apart: whichever owns it acts.
      if (ike_ && ike_->lifetime_reached(e.sa_id, hard, ikev2::Clock::now())) return;
      if (ikev1_) ikev1_->lifetime_reached(e.sa_id, hard, ikev2::Clock::now());
    };
    cb.on_counters = [this](const channel::SaCounters& c) { traffic_.record(c); };
    // Out of SaSync's poll: an initiation sends IKE messages, which flush
    // the SA channel first.
    cb.on_acquire = [this](const channel::Acquire& a) { boost::asio::post(io_, [this, a] { acquired(a); }); };
    cb.on_seq_overflow = [](const channel::SeqOverflow& e) {
      log::warning("chan", "outbound sequence numbers exhausted on SA " + std::to_string(e.sa_id) + " (SPI " +
                               api::spi_hex(e.spi) + "): the dataplane stopped it, a rekey is needed");
    };
    cb.on_replay_icv_summary = [](const channel::ReplayIcvSummary& e) {
      if (e.replay_drops || e.icv_failures)
        log::warning("chan", std::to_string(e.replay_drops) + " replayed packets and " + std::to_string(e.icv_failures) +
                                 " ICV failures on " + std::to_string(e.sas_affected) + " SAs (worst: SA " +
                                 std::to_string(e.worst_sa_id) + ")");
    };
    cb.on_command_refused = [](const channel::CommandResult& r) {
      log::error("chan", "dataplane refused command #" + std::to_string(r.command_sequence) + " (" +
                             std::string(channel::to_string(static_cast<channel::RecordType>(r.command_type))) +
                             " for id " + std::to_string(r.object_id) + "): " +
                             std::string(channel::to_string(r.code)) + " in field " +
                             std::string(channel::to_string(r.field)));
    };
    cb.on_port_stats = [this](const channel::PortStats& p) {
      dataplane_stats_.update(p, std::chrono::steady_clock::now());
    };
    cb.on_worker_stats = [this](const channel::WorkerStats& w) {
      dataplane_stats_.update(w, std::chrono::steady_clock::now());
    };
    cb.on_dataplane_restart = [this](std::uint64_t generation) {
      dataplane_stats_.clear();
      log::warning("chan", "dataplane restarted (generation " + std::to_string(generation) +
                               "): flushing it and pushing the full SA set again");
    };
    cb.on_dataplane_ready = [this](std::uint64_t) {
      // Its TAP is up now, so the rekeys' IKE messages get out at once
      // rather than at their first retransmission. Out of SaSync's poll:
      // the rekeys change the desired set.
      boost::asio::post(io_, [this] { renew_withheld(); });
    };
    return cb;
  }

  // The Child SAs whose outbound SAs SaSync withheld from a restarted
  // dataplane (their sequence numbers may have been used) are rekeyed: the
  // new SAs carry the traffic again, the old ones are deleted as after any
  // rekey. Asked again every kWithheldRetry while any is left (a rekey
  // that failed, or one lost with an IKE SA rekey); the managers leave
  // alone what is being rekeyed already.
  void renew_withheld() {
    const auto withheld = sync_.withheld_sas();  // a copy: renewals change it
    next_withheld_retry_ = ikev2::Clock::now() + kWithheldRetry;
    if (withheld.empty()) return;
    log::info("chan", "rekeying the Child SAs of " + std::to_string(withheld.size()) +
                          " withheld outbound SAs (dataplane restart)");
    const auto now = ikev2::Clock::now();
    constexpr std::string_view reason = "lost its outbound sequence number with the dataplane restart";
    // One walk over each manager's SAs for all of them, not one per SA.
    std::vector<std::uint64_t> left(withheld.begin(), withheld.end());
    if (ike_) left = ike_->renew_child_sas(left, reason, now);
    if (ikev1_) left = ikev1_->renew_ipsec_sas(left, reason, now);
    for (const auto id : left)
      log::warning("chan", "withheld outbound SA " + std::to_string(id) + " belongs to no Child SA");
  }

  // An ACQUIRE: a packet hit a trap policy. Its child is initiated unless
  // it is up or being negotiated (the dataplane repeats an ACQUIRE each
  // second while packets keep hitting the trap).
  void acquired(const channel::Acquire& a) {
    const auto hit = traps_.acquired(a.policy_id);
    if (!hit) {
      log::debug("ike", "acquire for policy " + std::to_string(a.policy_id) + " (" + ike::describe(a) +
                            "), which is no trap policy (removed since)");
      return;
    }
    const std::string what = "acquire: " + ike::describe(a) + " hit the trap of CHILD_SA " + hit->child + " of " +
                             hit->connection;
    if (!ike_ || stopping_) {
      traps_.count_failed();
      log::info("ike", what + ", not initiated: " + (stopping_ ? "shutting down" : "IKE is not running"));
      return;
    }
    const bool v1 = hit->version == 1;
    if (v1 ? ikev1_->child_active(hit->connection, hit->child) : ike_->child_active(hit->connection, hit->child)) {
      traps_.count_active();
      log::debug("ike", what + ", which is up or being negotiated");
      return;
    }
    log::info("ike", what + ": initiating it");
    const auto now = ikev2::Clock::now();
    std::string why;
    // IKEv2 proposes the packet's own selectors first (RFC 7296 §2.9); IKEv1's
    // Quick Mode has one ID pair, the configured one.
    const bool ok = v1 ? ikev1_->initiate(hit->connection, hit->child, now, &why)
                       : ike_->initiate(hit->connection, hit->child, now, &why, ike::trigger_of(a));
    if (ok) traps_.count_initiated();
    else traps_.count_failed();  // initiate() logged why
  }

  // dpd_action / close_action trap: the managers hand over the child they closed.
  void trap(const config::ConnectionConfig& conn, const config::ChildConfig& child, ike::TrapOrigin origin) {
    if (stopping_) return;
    if (std::string why; !traps_.install(conn, child, origin, &why))
      log::error("ike", "cannot trap CHILD_SA " + child.name + " of " + conn.name + ": " + why);
  }

  bool open_ike(std::shared_ptr<const config::Config> config, std::string* why) {
    sockets_ = IkeSockets::open(
        io_, kIkePort, kNatTPort,
        [this](const net::SocketAddress& local, const net::SocketAddress& remote, std::span<const std::uint8_t> d) {
          // The Major Version nibble (byte 17) routes IKEv1 and IKEv2.
          if (d.size() > 17 && (d[17] >> 4) == 1) {
            if (ikev1_) ikev1_->receive(local, remote, d, ikev2::Clock::now());
          } else if (ike_) {
            ike_->receive(local, remote, d, ikev2::Clock::now());
          }
          // What the message installed goes to the dataplane now, not on
          // the next tick: a message that completes an exchange sends
          // nothing (the initiator's IKE_AUTH or CREATE_CHILD_SA response),
          // and the peer, which installed the pair before answering, may
          // use it within a millisecond (a reauthenticating strongSwan
          // does).
          sink_.flush();
        },
        why);
    if (!sockets_) return false;
    ikev2::ManagerOptions options;
    options.nat_t_port = kNatTPort;
    options.on_event = [this](const ikev2::SaEvent& e) {
      if (api_) api_->publish(e);
    };
    // The dataplane stamps last_packet_ns with CLOCK_MONOTONIC, which
    // steady_clock (ikev2::Clock) reads too.
    options.last_inbound_packet = [this](std::uint64_t sa_id) -> std::optional<ikev2::TimePoint> {
      const auto& latest = traffic_.latest();
      const auto it = latest.find(sa_id);
      if (it == latest.end() || it->second.last_packet_ns == 0) return std::nullopt;
      return ikev2::TimePoint(std::chrono::nanoseconds(it->second.last_packet_ns));
    };
    // Retransmission (the `ike` section) is the same for both versions.
    const auto retransmission = [&](auto& o) {
      o.retransmit_timeout = config->ike.retransmit_timeout;
      o.retransmit_base = config->ike.retransmit_base;
      o.retransmit_tries = config->ike.retransmit_tries;
    };
    retransmission(options);
    ikev1::ManagerOptions v1_options;
    retransmission(v1_options);
    // Ids no predecessor left in the dataplane (sa_sync.h).
    options.first_channel_id = channel_id_base(endpoint_.generation());
    v1_options.first_channel_id |= options.first_channel_id;
    v1_options.nat_t_port = kNatTPort;
    v1_options.last_inbound_packet = options.last_inbound_packet;  // the same clock and counters
    v1_options.on_event = options.on_event;  // one event stream for both IKE versions
    options.on_trap = v1_options.on_trap = [this](const config::ConnectionConfig& conn,
                                                  const config::ChildConfig& child,
                                                  ike::TrapOrigin origin) { trap(conn, child, origin); };
    // One dataplane, one inbound SPI space for both IKE versions.
    options.spis = v1_options.spis = std::make_shared<ike::SpiRegistry>();
    ikev1_ = std::make_unique<ikev1::Manager>(config, *sockets_, sink_, v1_options);
    ike_ = std::make_unique<ikev2::Manager>(std::move(config), *sockets_, sink_, options);
    return true;
  }

  // A new config from the REST API (ConfigStore::LiveApply). Only IKE can
  // refuse it, when it has to start now and cannot open its sockets.
  bool apply_config(const std::shared_ptr<const config::Config>& next, const ConfigChange& change, std::string* why) {
    const auto now = ikev2::Clock::now();
    if (ike_) {
      ike_->reconfigure(next, change.unchanged, now);
      ikev1_->reconfigure(next, change.unchanged, now);
    } else if (!next->connections.empty()) {
      if (!open_ike(next, why)) {
        *why = "cannot start IKE for the first connections: " + *why;
        return false;
      }
      log::info("ike", "IKE started for the first connections");
      if (api_) api_->set_ike(ike_.get(), ikev1_.get());
      ike_->start(now);
      ikev1_->start(now);
    }
    traps_.reconcile(*next);
    if (change.log_level) log::set_level(next->logging.level);
    return true;
  }

  bool open_api() {
    api::Sources sources;
    sources.config = &store_;
    sources.ike = ike_.get();
    sources.ikev1 = ikev1_.get();
    sources.sync = &sync_;
    sources.traps = &traps_;
    sources.traffic = &traffic_;
    sources.dataplane = &dataplane_stats_;
    sources.certificates = &certificates_;
    sources.authorities = &authorities_;
    sources.started = started_;
    sources.dataplane_timeout = kDataplaneTimeout;
    std::string why;
    api_ = api::Api::open(io_, sources, &why);
    if (!api_) log::error("api", why);
    return api_ != nullptr;
  }

  void wait_stop_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      const std::string name = signo == SIGTERM ? "SIGTERM" : "SIGINT";
      if (stopping_) {
        log::info("daemon", "received " + name + " again, not waiting for the peers");
        finish_stop();
        return;
      }
      log::info("daemon", "received " + name + ", shutting down");
      stop();
      wait_stop_signal();
    });
  }

  // Tells the peers: every IKE SA is deleted, and the loop (tick()) runs on
  // until the peers answered or kShutdownGrace passed, whichever is first.
  // A second signal ends the wait.
  void stop() {
    if (stopping_) return;
    stopping_ = true;
    stop_deadline_ = ikev2::Clock::now() + kShutdownGrace;
    if (ike_) {
      ike_->shutdown(ikev2::Clock::now());
      ikev1_->shutdown(ikev2::Clock::now());
    }
    if (drained()) finish_stop();
  }

  bool drained() const { return !ike_ || (ike_->drained() && ikev1_->drained()); }

  // Takes what is left out of the dataplane, gives the SA channel a moment
  // to carry the deletes, and ends the loop.
  void finish_stop() {
    if (finished_) return;
    finished_ = true;
    if (ike_) ike_->abandon_all();
    // Nobody would answer their acquires: the dataplane forwards by what
    // is left (the static policies and its default).
    traps_.clear();
    // What shutdown() left: an ISAKMP SA whose last Phase 1 message never
    // came, or one a peer began while we waited.
    if (ikev1_) ikev1_->finish_shutdown(ikev2::Clock::now());
    sync_.poll(channel::SteadyClock::now() + 200ms);
    api_.reset();  // stop accepting; open connections end with the loop
    io_.stop();
  }

  void wait_status_signal() {
    status_signal_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      write_status();
      wait_status_signal();
    });
  }

  // The SA list and counters as JSON (--status FILE), on SIGUSR1 and at
  // exit; written to a temporary file and renamed, so a reader never sees
  // half of it. Never holds key material.
  void write_status() {
    if (options_.status_file.empty()) return;
    nlohmann::json j;
    // Grows with every write, so a reader that asked with SIGUSR1 knows a
    // fresh file from the previous one.
    j["sequence"] = ++status_sequence_;
    j["ike_sas"] = nlohmann::json::array();
    if (ike_) {
      const auto now = ikev2::Clock::now();
      for (const auto& sa : ike_->list()) j["ike_sas"].push_back(api::ike_sa_json(sa, now, &traffic_.latest()));
      j["ike"] = api::ike_stats_json(ike_->stats());
    }
    j["ikev1_sas"] = nlohmann::json::array();
    if (ikev1_) {
      const auto now = ikev2::Clock::now();
      for (const auto& sa : ikev1_->list()) j["ikev1_sas"].push_back(api::ikev1_sa_json(sa, now, &traffic_.latest()));
      j["ikev1"] = api::ikev1_stats_json(ikev1_->stats());
    }
    const std::string tmp = options_.status_file + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << j.dump(2) << '\n';
      if (!out) {
        log::warning("daemon", "cannot write status file " + tmp);
        return;
      }
    }
    std::rename(tmp.c_str(), options_.status_file.c_str());
  }

  void schedule() {
    timer_.expires_after(kTick);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || finished_) return;
      tick();
      if (stopping_ && (drained() || ikev2::Clock::now() >= stop_deadline_)) {
        finish_stop();
        return;
      }
      schedule();
    });
  }

  void tick() {
    const auto now = ikev2::Clock::now();
    if (ike_) ike_->tick(now);
    if (ikev1_) ikev1_->tick(now);
    // Without a Prometheus scrape to settle the traffic ledger, forget
    // the snapshots of SAs that are gone now and then.
    if (!sync_.withheld_sas().empty() && now >= next_withheld_retry_ && !stopping_) renew_withheld();
    if (now >= next_settle_) {
      next_settle_ = now + kSettleInterval;
      settle_traffic();
    }
    // Never block the loop on a full ring for long: what does not fit stays
    // queued in order and goes out on a later tick.
    const auto result = sync_.poll(channel::SteadyClock::now() + 2ms);
    if (result.push_status != channel::PushStatus::ok && !ring_full_reported_) {
      log::warning("chan", "command ring full: " + std::to_string(result.still_queued) +
                               " commands queued until the dataplane catches up");
      ring_full_reported_ = true;
    } else if (result.push_status == channel::PushStatus::ok && ring_full_reported_ && result.still_queued == 0) {
      log::info("chan", "command ring drained, queue empty");
      ring_full_reported_ = false;
    }
    if (sync_.phase() != phase_) {
      phase_ = sync_.phase();
      log::info("chan", "SA sync: " + std::string(to_string(phase_)));
    }
    const bool alive = sync_.dataplane_alive(kDataplaneTimeout);
    if (alive != dataplane_alive_) {
      dataplane_alive_ = alive;
      if (alive)
        log::info("chan", "dataplane is up (generation " + std::to_string(sync_.dataplane_generation()) + ")");
      else
        log::warning("chan", "no heartbeat from the dataplane for " +
                                 std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kDataplaneTimeout).count()) +
                                 " s: commands are queued until it returns");
    }
  }

  void settle_traffic() { api::settle_traffic(traffic_, ike_.get(), ikev1_.get()); }

  void report_stats() {
    const auto& s = sync_.stats();
    log::info("chan", "SA sync totals: " + std::to_string(s.commands_pushed) + " commands pushed, " +
                          std::to_string(s.events) + " events, " + std::to_string(s.dataplane_restarts) +
                          " dataplane restarts, " + std::to_string(s.reconciles) + " reconciliations, " +
                          std::to_string(s.refused_commands) + " refused commands, " +
                          std::to_string(sync_.queued_commands()) + " still queued");
  }

  // The IKE ports (charon.port / charon.port_nat_t in strongSwan terms).
  static constexpr std::uint16_t kIkePort = 500;
  static constexpr std::uint16_t kNatTPort = 4500;

  ConfigStore& store_;
  const DaemonOptions& options_;
  channel::ControlEndpoint& endpoint_;
  SaSync sync_;
  SyncSink sink_;
  ike::Traps traps_;  // start_action / dpd_action / close_action trap
  boost::asio::io_context io_;
  boost::asio::steady_timer timer_;
  boost::asio::signal_set signals_;
  boost::asio::signal_set status_signal_;
  std::unique_ptr<IkeSockets> sockets_;
  std::unique_ptr<ikev2::Manager> ike_;
  std::unique_ptr<ikev1::Manager> ikev1_;
  TrafficLedger traffic_;
  DataplaneStats dataplane_stats_;  // ports and workers as last reported
  CertificateStore certificates_;  // x509/ beside the config file
  CertificateStore authorities_;   // x509ca/
  std::unique_ptr<api::Api> api_;  // after ike_: its handlers use the manager
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  ikev2::TimePoint next_settle_{};
  std::uint64_t status_sequence_ = 0;
  bool stopping_ = false;  // stop() began: the IKE SAs are being deleted
  bool finished_ = false;  // finish_stop() ran: the loop is ending
  ikev2::TimePoint stop_deadline_{};
  ikev2::TimePoint next_withheld_retry_ = ikev2::TimePoint::max();  // renew_withheld() sets it
  bool ring_full_reported_ = false;
  bool dataplane_alive_ = false;
  SyncPhase phase_ = SyncPhase::awaiting_inventory;
};

}  // namespace

int run_daemon(config::LoadResult loaded, const DaemonOptions& options) {
  ConfigStore store(options.config_file, std::move(loaded.document), std::move(*loaded.config));
  const auto running = store.config();
  if (const auto why = log::configure(running->logging, "corridor-control"); !why.empty()) log::warning("daemon", why);
  log::info("daemon", "corridor-control " CORRIDOR_VERSION " starting (pid " + std::to_string(::getpid()) + ", " +
                          std::to_string(running->connections.size()) + " connections configured)");
  store.restore_history();

  auto endpoint = channel::ControlEndpoint::attach(config::endpoint_options(running->sa_channel));
  if (!endpoint) {
    log::error("chan", endpoint.error().message);
    return 1;
  }
  Service service(store, options, endpoint.value());
  return service.run();
}

}  // namespace corridor::control
