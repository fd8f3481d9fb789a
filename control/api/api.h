// The management API as the daemon runs it (docs/api.md): the HTTPS
// listener with its routes and tokens, and the Prometheus listener. It
// reads the daemon's state and drives the IKE manager, all on the daemon's
// event loop, so no lock is needed and no handler can race IKE.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/channel/records.h"
#include "common/config/model.h"
#include "control/api/events.h"
#include "control/api/http_server.h"
#include "control/api/router.h"
#include "control/daemon/certificate_store.h"
#include "control/daemon/config_store.h"
#include "control/daemon/dataplane_stats.h"
#include "control/daemon/sa_sync.h"
#include "control/daemon/traffic_ledger.h"
#include "control/ikev1/manager.h"
#include "control/ikev2/manager.h"

namespace corridor::control::api {

// The daemon state the API shows, owned by the daemon (control/service.cc).
struct Sources {
  ConfigStore* config = nullptr;  // the running config as loaded and as written, its revisions
  ikev2::Manager* ike = nullptr;  // nullptr: IKE not running (no connections configured yet)
  ikev1::Manager* ikev1 = nullptr;  // version 1 connections (initiate); set with `ike`
  const SaSync* sync = nullptr;
  const ike::Traps* traps = nullptr;  // trap policies and acquires (/stats)
  // The dataplane's per-SA counters; the metrics settle it per scrape.
  TrafficLedger* traffic = nullptr;
  // The dataplane's port and worker counters (/dataplane/*, /stats, metrics).
  const DataplaneStats* dataplane = nullptr;
  // x509/ and x509ca/ beside the config file (/certificates, /authorities).
  const CertificateStore* certificates = nullptr;
  const CertificateStore* authorities = nullptr;
  std::chrono::steady_clock::time_point started{};
  std::chrono::nanoseconds dataplane_timeout{std::chrono::seconds(3)};
};

class Api {
 public:
  // Loads the token file and TLS credentials and starts listening; nullptr
  // with the reason in `why` if any of it fails (the daemon then refuses
  // to start: an API the config asks for and that does not come up is an
  // error, not a warning).
  static std::unique_ptr<Api> open(boost::asio::io_context& io, const Sources& sources, std::string* why);
  ~Api();

  // IKE started after the API: the first connections came with a new config.
  void set_ike(ikev2::Manager* ike, ikev1::Manager* ikev1) {
    sources_.ike = ike;
    sources_.ikev1 = ikev1;
  }

  // An SA change for the event stream (ManagerOptions::on_event).
  void publish(const ikev2::SaEvent& event) { events_.publish(event); }

  // The route table, for the OpenAPI consistency test and the fuzz target.
  const Router& router() const { return router_; }
  Router& router() { return router_; }
  const ServerStats* server_stats() const { return server_ ? &server_->stats() : nullptr; }
  net::SocketAddress api_address() const { return server_->local_address(); }
  std::optional<net::SocketAddress> metrics_address() const;

  // Without listeners: the routes over `sources` with `tokens`, for the
  // fuzz target and tests that call Router::handle directly.
  Api(const Sources& sources, std::unique_ptr<TokenStore> tokens);

 private:
  void add_routes();
  // config_routes.cc: /config, its revisions, and the connections as config.
  void add_config_routes();
  // certificate_routes.cc: /certificates and /authorities.
  void add_certificate_routes();
  // Validates `document` as the next config and, unless ?dry_run=true,
  // applies it: the one path of every config change the API makes.
  Reply change_config(RequestContext& ctx, nlohmann::ordered_json document, const std::string& source,
                      std::uint64_t restored = 0, http::status applied_status = http::status::ok);
  // The running config; held by the caller while it looks at it.
  std::shared_ptr<const config::Config> running() const { return sources_.config->config(); }
  Reply metrics(const Request& request);
  void schedule_flush();

  Sources sources_;
  std::unique_ptr<TokenStore> tokens_;
  Router router_{"/api/v1"};
  EventHub events_;
  std::unique_ptr<boost::asio::steady_timer> flush_timer_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpServer> metrics_server_;
};

}  // namespace corridor::control::api
