// Fuzz target: the management API's request path (control/api) fed raw
// bytes as a client would send them: Beast's HTTP/1.1 request parser with
// the server's header and body limits, then the router (target and query
// decoding, bearer tokens, scopes) and every handler behind it (JSON
// bodies, paging, SA and connection lookups, log level changes, configs
// validated and applied live), over a real IKE manager and config store.
//
// Input: one raw HTTP request. When the first byte is odd and the request
// carries no Authorization header, the harness adds a valid admin token,
// so mutations reach the handlers instead of stopping at 401.
// Invariants: nothing crashes or leaks (ASan); every response is a
// complete HTTP response with a status the API documents; problem
// responses are JSON with the RFC 9457 members; no response holds the
// configured PSK unless the request itself did.
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "common/config/loader.h"
#include "common/log/log.h"
#include "control/api/api.h"

namespace {

using namespace corridor;           // NOLINT: fuzz target brevity
using namespace corridor::control;  // NOLINT
namespace http = boost::beast::http;

constexpr const char* kPsk = "fuzz-psk-never-in-a-response";

[[noreturn]] void fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "api_request_fuzz: %s %s\n", what, detail.c_str());
  std::abort();
}

class Wire final : public ikev2::Transport {
 public:
  void send(const net::SocketAddress&, const net::SocketAddress&, std::span<const std::uint8_t>) override {}
  std::optional<net::IpAddress> source_for(const net::IpAddress&) override { return net::IpAddress::parse("192.0.2.1"); }
  void send_nat_keepalive(const net::SocketAddress&, const net::SocketAddress&) override {}
};

class Sink final : public ikev2::ChildSaSink {
 public:
  bool set_sa(const channel::SaRecord&) override { return true; }
  void remove_sa(std::uint64_t) override {}
  bool set_policy(const channel::PolicyRecord&) override { return true; }
  void remove_policy(std::uint64_t) override {}
};

struct World {
  World() {
    log::set_level(log::Level::error);
    const std::string text = std::string(R"({"connections": {"peer": {
      "local_addrs": ["192.0.2.1"], "remote_addrs": ["198.51.100.2"],
      "local": {"auth": "psk", "id": "a.example.net"}, "remote": {"auth": "psk", "id": "b.example.net"},
      "children": {"net": {"local_ts": ["10.1.0.0/16"], "remote_ts": ["10.2.0.0/16"]}}}},
      "secrets": {"ike-peer": {"id": ["a.example.net", "b.example.net"], "secret": ")") + kPsk + R"("}}})";
    loaded = config::load_config_text(text);
    if (!loaded.ok()) fail("config");
    ike = std::make_unique<ikev2::Manager>(*loaded.config, wire, sink);
    const auto dir = std::filesystem::temp_directory_path() / ("corridor-api-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = (dir / "tokens.json").string();
    std::string why;
    auto created = api::create_token(file, api::Scope::admin, "fuzz", &why);
    if (!created) fail("token", why);
    admin = *created;
    auto store = api::TokenStore::load(file, &why);
    std::filesystem::remove_all(dir);  // loaded; refresh() keeps it when the file is gone
    if (!store) fail("token store", why);
    // Configs a PUT applies are written here and applied to the manager.
    config_dir = std::filesystem::temp_directory_path() / ("corridor-api-fuzz-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(config_dir);
    config_store = std::make_unique<ConfigStore>((config_dir / "corridor.json").string(), loaded.document, *loaded.config);
    config_store->set_live_apply([this](const std::shared_ptr<const config::Config>& next, const ConfigChange& change,
                                 std::string*) {
      ike->reconfigure(next, change.unchanged, ikev2::Clock::now());
      return true;
    });
    certificates = std::make_unique<CertificateStore>(config_dir.string(), CertificateRole::end_entity);
    authorities = std::make_unique<CertificateStore>(config_dir.string(), CertificateRole::authority);
    api::Sources s;
    s.config = config_store.get();
    s.certificates = certificates.get();
    s.authorities = authorities.get();
    s.ike = ike.get();
    s.traffic = &ledger;
    s.started = std::chrono::steady_clock::now();
    server = std::make_unique<api::Api>(s, std::make_unique<api::TokenStore>(std::move(*store)));
  }
  ~World() { std::filesystem::remove_all(config_dir); }
  config::LoadResult loaded;
  std::filesystem::path config_dir;
  std::unique_ptr<ConfigStore> config_store;
  std::unique_ptr<CertificateStore> certificates, authorities;
  Wire wire;
  Sink sink;
  std::unique_ptr<ikev2::Manager> ike;
  TrafficLedger ledger;
  std::string admin;
  std::unique_ptr<api::Api> server;
};

World& world() {
  static World w;
  return w;
}

const std::set<unsigned> kDocumented{200, 201, 202, 400, 401, 403, 404, 405, 409, 412, 413, 415, 431, 500, 503};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& w = world();
  if (size == 0) return 0;
  const bool add_token = data[0] & 1;
  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data + 1, size - 1), ec);
  if (ec || !parser.is_done()) return 0;  // the server answers these with 400/413/431 and closes
  auto request = parser.release();
  if (add_token && request[http::field::authorization].empty())
    request.set(http::field::authorization, "Bearer " + w.admin);
  const net::SocketAddress peer{*net::IpAddress::parse("127.0.0.1"), 40000};
  const auto reply = w.server->router().handle(request, peer);
  const auto& r = reply.response;
  const unsigned status = r.result_int();
  if (!kDocumented.count(status)) fail("undocumented status", std::to_string(status));
  // Problems echo the client's own path; the PSK must come from nowhere else.
  const bool client_sent_it = std::string_view(reinterpret_cast<const char*>(data), size).find(kPsk) != std::string_view::npos;
  if (!client_sent_it && r.body().find(kPsk) != std::string::npos) fail("the PSK in a response");
  const auto type = api::sv(r[http::field::content_type]);
  if (status >= 400) {
    if (type != "application/problem+json") fail("error without a problem document");
    const auto j = nlohmann::json::parse(r.body(), nullptr, false);
    if (j.is_discarded() || !j.contains("type") || !j.contains("title") || j["status"] != status ||
        !j.contains("detail") || !j.contains("instance"))
      fail("malformed problem document", r.body());
  } else if (!reply.on_stream && type == "application/json" &&
             nlohmann::json::parse(r.body(), nullptr, false).is_discarded()) {
    fail("invalid JSON in a success response", r.body());
  }
  // Undo what the request did, so inputs stay independent: a config a PUT
  // applied, IKE SAs an initiate started, log levels PATCH /logging changed.
  if (w.config_store->revision() != 1) {
    std::string why;
    if (!w.config_store->apply(w.config_store->prepare(w.loaded.document), "fuzz", "", 1, &why)) fail("config reset", why);
  }
  for (const auto& sa : w.ike->list()) w.ike->terminate(sa.id, ikev2::Clock::now());
  log::set_level(log::Level::error);
  for (const auto& [name, level] : log::levels().subsystems) log::set_subsystem_level(name, std::nullopt);
  return 0;
}
