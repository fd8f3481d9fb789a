#include "control/service.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "common/channel/control_endpoint.h"
#include "common/config/sa_channel.h"
#include "common/log/log.h"
#include "control/daemon/sa_sync.h"

namespace corridor::control {
namespace {

using namespace std::chrono_literals;

// How often the loop turns: SA channel events, pushes and heartbeats are
// handled at this pace (the SA channel's heartbeat interval is 1 s).
constexpr auto kTick = 10ms;
// A dataplane that has not refreshed its heartbeat for this long is reported down.
constexpr auto kDataplaneTimeout = 3s;

std::string hex_spi(std::uint32_t spi) {
  char buf[11];
  std::snprintf(buf, sizeof buf, "0x%08x", spi);
  return buf;
}

class Service {
 public:
  Service(const config::Config& config, channel::ControlEndpoint& endpoint)
      : config_(config), endpoint_(endpoint), sync_(endpoint, callbacks()), timer_(io_), signals_(io_, SIGINT, SIGTERM) {}

  int run() {
    log::info("chan", "attached to SA channel " + config_.sa_channel.name + " as control plane (generation " +
                          std::to_string(endpoint_.generation()) + "), asking the dataplane for its installed SAs");
    // IKE restores nothing yet, so the desired set is complete as loaded:
    // reconciliation removes SAs that no running negotiation owns.
    sync_.desired_set_complete();
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      log::info("daemon", std::string("received ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
      stopping_ = true;
      io_.stop();
    });
    schedule();
    io_.run();
    report_stats();
    endpoint_.detach();
    return 0;
  }

 private:
  SaSyncCallbacks callbacks() {
    SaSyncCallbacks cb;
    cb.on_lifetime = [](const channel::LifetimeExpired& e, bool hard) {
      log::info("chan", std::string(hard ? "hard" : "soft") + " lifetime reached for SA " + std::to_string(e.sa_id) +
                            " (SPI " + hex_spi(e.spi) + ") after " + std::to_string(e.bytes) + " bytes, " +
                            std::to_string(e.packets) + " packets");
    };
    cb.on_seq_overflow = [](const channel::SeqOverflow& e) {
      log::warning("chan", "outbound sequence numbers exhausted on SA " + std::to_string(e.sa_id) + " (SPI " +
                               hex_spi(e.spi) + "): the dataplane stopped it, a rekey is needed");
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
    cb.on_dataplane_restart = [](std::uint64_t generation) {
      log::warning("chan", "dataplane restarted (generation " + std::to_string(generation) +
                               "): flushing it and pushing the full SA set again");
    };
    return cb;
  }

  void schedule() {
    timer_.expires_after(kTick);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      tick();
      schedule();
    });
  }

  void tick() {
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

  void report_stats() {
    const auto& s = sync_.stats();
    log::info("chan", "SA sync totals: " + std::to_string(s.commands_pushed) + " commands pushed, " +
                          std::to_string(s.events) + " events, " + std::to_string(s.dataplane_restarts) +
                          " dataplane restarts, " + std::to_string(s.reconciles) + " reconciliations, " +
                          std::to_string(s.refused_commands) + " refused commands, " +
                          std::to_string(sync_.queued_commands()) + " still queued");
  }

  const config::Config& config_;
  channel::ControlEndpoint& endpoint_;
  SaSync sync_;
  boost::asio::io_context io_;
  boost::asio::steady_timer timer_;
  boost::asio::signal_set signals_;
  bool stopping_ = false;
  bool ring_full_reported_ = false;
  bool dataplane_alive_ = false;
  SyncPhase phase_ = SyncPhase::awaiting_inventory;
};

}  // namespace

int run_daemon(const config::Config& config) {
  if (const auto why = log::configure(config.logging, "corridor-control"); !why.empty()) log::warning("daemon", why);
  log::info("daemon", "corridor-control " CORRIDOR_VERSION " starting (pid " + std::to_string(::getpid()) + ", " +
                          std::to_string(config.connections.size()) + " connections configured)");

  auto endpoint = channel::ControlEndpoint::attach(config::endpoint_options(config.sa_channel));
  if (!endpoint) {
    log::error("chan", endpoint.error().message);
    return 1;
  }
  Service service(config, endpoint.value());
  return service.run();
}

}  // namespace corridor::control
