#include "control/api/api.h"

#include <algorithm>

#include "common/log/log.h"
#include "control/api/metrics.h"
#include "control/api/openapi_document.h"
#include "control/api/views.h"

namespace corridor::control::api {

namespace {

using nlohmann::json;
using http::status;
using http::verb;

Problem validation(std::string detail, std::vector<FieldError> errors) {
  return {status::bad_request, "validation", "Invalid request", std::move(detail), std::move(errors)};
}

Reply accepted(const RequestContext& ctx, std::string detail) {
  return ctx.json(status::accepted, json{{"status", "accepted"}, {"detail", std::move(detail)}});
}

std::optional<config::LogLevel> parse_level(const json& v) {
  if (!v.is_string()) return std::nullopt;
  return parse_log_level(v.get_ref<const std::string&>());
}

// Subsystem tags are short lowercase words (ike, chan, api, net, ...).
bool valid_subsystem(std::string_view name) {
  if (name.empty() || name.size() > 16) return false;
  for (const char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

json levels_json() {
  const auto l = log::levels();
  json subsystems = json::object();
  for (const auto& [name, level] : l.subsystems) subsystems[name] = std::string(config::to_string(level));
  return {{"level", std::string(config::to_string(l.level))}, {"subsystems", std::move(subsystems)}};
}

}  // namespace

Api::Api(const Sources& sources, std::unique_ptr<TokenStore> tokens)
    : sources_(sources), tokens_(std::move(tokens)) {
  router_.set_tokens(tokens_.get());
  add_routes();
}

Api::~Api() {
  if (flush_timer_) flush_timer_->cancel();
}

std::unique_ptr<Api> Api::open(boost::asio::io_context& io, const Sources& sources, std::string* why) {
  const auto running = sources.config->config();
  const auto& cfg = running->api;
  std::string reason;
  auto tokens = TokenStore::load(cfg.tokens, &reason);
  if (!tokens) {
    *why = "API token file: " + reason;
    return nullptr;
  }
  auto api = std::make_unique<Api>(sources, std::make_unique<TokenStore>(std::move(*tokens)));
  if (cfg.tls) {
    api->tls_ = make_tls_context(cfg.tls->cert, cfg.tls->key, why);
    if (!api->tls_) return nullptr;
  }
  Api* self = api.get();
  api->server_ = HttpServer::open(
      io, cfg.listen, api->tls_.get(),
      [self](const Request& r, const net::SocketAddress& peer) { return self->router_.handle(r, peer); }, {}, "api",
      why);
  if (!api->server_) return nullptr;
  log::info("api", "REST API on " + std::string(cfg.tls ? "https://" : "http://") + cfg.listen.to_string() +
                       "/api/v1 (" + std::to_string(api->tokens_->entries().size()) + " tokens)");
  api->flush_timer_ = std::make_unique<boost::asio::steady_timer>(io);
  api->schedule_flush();
  if (cfg.metrics_listen) {
    api->metrics_server_ = HttpServer::open(
        io, *cfg.metrics_listen, nullptr,
        [self](const Request& r, const net::SocketAddress&) { return self->metrics(r); }, {}, "metrics", why);
    if (!api->metrics_server_) return nullptr;
    log::info("api", "Prometheus metrics on http://" + cfg.metrics_listen->to_string() + "/metrics");
  }
  return api;
}

// Log lines for the event stream wait for this timer (see events.h).
void Api::schedule_flush() {
  flush_timer_->expires_after(std::chrono::milliseconds(100));
  flush_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    // A revoked token ends its event streams within this period: the
    // token file is one stat() when it has not changed, and is looked at
    // only while streams are open (requests refresh it themselves).
    if (tokens_ && events_.subscribers()) {
      if (std::string why; !tokens_->refresh(&why))
        log::warning("api", "token file: " + why + " (keeping the tokens loaded before)");
      events_.close_revoked(*tokens_);
    }
    events_.flush(std::chrono::steady_clock::now());
    schedule_flush();
  });
}

std::optional<net::SocketAddress> Api::metrics_address() const {
  if (!metrics_server_) return std::nullopt;
  return metrics_server_->local_address();
}

Reply Api::metrics(const Request& request) {
  const std::string_view target = sv(request.target());
  const auto path = target.substr(0, target.find('?'));
  auto fail = [&](Problem p) { return Reply{problem_response(p, path, request.version(), false), {}}; };
  if (path != "/metrics") return fail(not_found("metrics are at /metrics"));
  if (request.method() != verb::get && request.method() != verb::head) {
    Reply r = fail({status::method_not_allowed, "method-not-allowed", "Method not allowed", "use GET", {}});
    r.response.set(http::field::allow, "GET, HEAD");
    return r;
  }
  Response r{status::ok, request.version()};
  r.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  r.set(http::field::cache_control, "no-store");
  r.keep_alive(request.keep_alive());
  r.body() = render_metrics(sources_, server_stats());
  r.prepare_payload();
  if (request.method() == verb::head) r.body().clear();
  return {std::move(r), {}};
}

void Api::add_routes() {
  const auto now = [] { return ikev2::Clock::now(); };

  router_.add({verb::get, "/health", std::nullopt, {}, [this](RequestContext& ctx) {
                 const bool up = sources_.sync && sources_.sync->dataplane_alive(sources_.dataplane_timeout);
                 return ctx.json(status::ok,
                                 json{{"status", "ok"},
                                      {"version", CORRIDOR_VERSION},
                                      {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(
                                                             std::chrono::steady_clock::now() - sources_.started)
                                                             .count()},
                                      {"dataplane", up ? "up" : "down"},
                                      {"sa_sync", sources_.sync ? std::string(to_string(sources_.sync->phase())) : ""}});
               }});

  router_.add({verb::get, "/openapi.json", Scope::read, {}, [](RequestContext& ctx) {
                 Reply r{json_response(status::ok, std::string(kOpenApiJson), ctx.request.version(),
                                       ctx.request.keep_alive()),
                         {}};
                 return r;
               }});

  // --- IKE SAs ---------------------------------------------------------
  router_.add({verb::get, "/sas", Scope::read, {"limit", "cursor", "connection", "state", "version"},
               [this, now](RequestContext& ctx) {
                 Problem error;
                 const auto limit = ctx.page_limit(&error);
                 if (!limit) return ctx.problem(error);
                 std::uint64_t after = 0;
                 if (const auto it = ctx.query.find("cursor"); it != ctx.query.end()) {
                   const auto c = parse_u64(it->second);
                   if (!c) return ctx.problem(bad_request("cursor must be a next_cursor value from a previous page"));
                   after = *c;
                 }
                 std::string state;
                 if (const auto it = ctx.query.find("state"); it != ctx.query.end()) {
                   state = it->second;
                   for (auto& ch : state) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                 }
                 bool v1 = true, v2 = true;
                 if (const auto it = ctx.query.find("version"); it != ctx.query.end()) {
                   if (it->second != "1" && it->second != "2")
                     return ctx.problem(bad_request("version must be 1 or 2"));
                   v1 = it->second == "1";
                   v2 = !v1;
                 }
                 json items = json::array();
                 bool more = false;
                 const auto connection = ctx.query.count("connection") ? ctx.query.at("connection") : "";
                 const auto t = now();
                 const auto* traffic = sources_.traffic ? &sources_.traffic->latest() : nullptr;
                 // IKEv2 SAs first: the IKEv1 manager's ids start far above
                 // theirs (ikev1::ManagerOptions::first_sa_id), so one id
                 // order and one cursor serve both.
                 if (sources_.ike && v2) {
                   for (const auto& sa : sources_.ike->list(after, *limit, {connection, state}, &more))
                     items.push_back(ike_sa_json(sa, t, traffic));
                 }
                 if (sources_.ikev1 && v1 && !more && items.size() < *limit) {
                   for (const auto& sa : sources_.ikev1->list(after, *limit - items.size(), connection, state, &more))
                     items.push_back(ikev1_sa_json(sa, t, traffic));
                 }
                 json next = more ? json(std::to_string(items.back()["id"].get<std::uint64_t>())) : json(nullptr);
                 return ctx.json(status::ok, json{{"items", std::move(items)}, {"next_cursor", std::move(next)}});
               }});

  auto find_sa = [this](RequestContext& ctx, std::optional<ikev2::IkeSaView>* out) -> std::optional<Reply> {
    const auto id = parse_u64(ctx.params.at("id"));
    if (id && sources_.ike) *out = sources_.ike->find(*id);
    if (!*out) return ctx.problem(not_found("no IKE SA " + ctx.params.at("id")));
    return std::nullopt;
  };

  router_.add({verb::get, "/sas/{id}", Scope::read, {}, [this, now, find_sa](RequestContext& ctx) {
                 if (const auto id = parse_u64(ctx.params.at("id")); id && sources_.ikev1) {
                   if (const auto v1 = sources_.ikev1->find(*id))
                     return ctx.json(status::ok, ikev1_sa_json(*v1, now(), sources_.traffic ? &sources_.traffic->latest()
                                                                                            : nullptr));
                 }
                 std::optional<ikev2::IkeSaView> sa;
                 if (auto r = find_sa(ctx, &sa)) return std::move(*r);
                 return ctx.json(status::ok,
                                 ike_sa_json(*sa, now(), sources_.traffic ? &sources_.traffic->latest() : nullptr));
               }});

  // An operator command on one IKE SA: 404 if it does not exist, 409 if
  // the manager refuses it in the SA's present state.
  auto command = [this, find_sa](RequestContext& ctx,
                                 const std::function<bool(const ikev2::IkeSaView&, std::string*)>& run,
                                 const std::string& done) -> Reply {
    std::optional<ikev2::IkeSaView> sa;
    if (auto r = find_sa(ctx, &sa)) return std::move(*r);
    std::string why;
    const std::string who = ctx.caller ? " (token " + ctx.caller->id + ")" : "";
    if (!run(*sa, &why)) return ctx.problem(conflict(why));
    log::info("api", done + " " + sa->name + who);
    return accepted(ctx, done + " " + sa->name);
  };

  router_.add({verb::delete_, "/sas/{id}", Scope::operate, {}, [this, now, command](RequestContext& ctx) {
                 if (const auto id = parse_u64(ctx.params.at("id")); id && sources_.ikev1) {
                   if (const auto v1 = sources_.ikev1->find(*id)) {
                     sources_.ikev1->terminate(*id, now());
                     log::info("api", "terminating " + v1->name + (ctx.caller ? " (token " + ctx.caller->id + ")" : ""));
                     return accepted(ctx, "terminating " + v1->name);
                   }
                 }
                 return command(
                     ctx, [&](const ikev2::IkeSaView& sa, std::string* why) { return sources_.ike->terminate(sa.id, now(), why); },
                     "terminating");
               }});
  // The same commands on an IKEv1 SA (its ids are apart from IKEv2's):
  // nullopt when `id` is not one. `spi` (inbound, 0: none) must name one of
  // its IPsec SAs, or 404.
  auto v1_command = [this](RequestContext& ctx, std::uint32_t spi,
                           const std::function<bool(std::uint64_t, std::string*)>& run,
                           const std::string& done) -> std::optional<Reply> {
    const auto id = parse_u64(ctx.params.at("id"));
    if (!id || !sources_.ikev1) return std::nullopt;
    const auto sa = sources_.ikev1->find(*id);
    if (!sa) return std::nullopt;
    if (spi != 0 && std::none_of(sa->children.begin(), sa->children.end(),
                                 [&](const ikev1::IpsecSaView& c) { return c.spi_in == spi; }))
      return ctx.problem(not_found(sa->name + " has no IPsec SA with inbound SPI " + ctx.params.at("spi")));
    std::string why;
    if (!run(*id, &why)) return ctx.problem(conflict(why));
    log::info("api", done + " " + sa->name + (ctx.caller ? " (token " + ctx.caller->id + ")" : ""));
    return accepted(ctx, done + " " + sa->name);
  };
  // POST .../rekey and .../reauth. IKEv1 renews an ISAKMP SA by a new
  // Phase 1, which is a reauthentication already: both re-establish it.
  auto renew_command = [this, now, command, v1_command](RequestContext& ctx, bool reauth) -> Reply {
    if (auto r = v1_command(
            ctx, 0, [&](std::uint64_t id, std::string* why) { return sources_.ikev1->rekey(id, now(), why); },
            "re-establishing"))
      return std::move(*r);
    return command(
        ctx,
        [&](const ikev2::IkeSaView& sa, std::string* why) {
          return reauth ? sources_.ike->reauthenticate(sa.id, now(), why) : sources_.ike->rekey(sa.id, now(), why);
        },
        reauth ? "reauthenticating" : "rekeying");
  };
  router_.add({verb::post, "/sas/{id}/rekey", Scope::operate, {},
               [renew_command](RequestContext& ctx) { return renew_command(ctx, false); }});
  router_.add({verb::post, "/sas/{id}/reauth", Scope::operate, {},
               [renew_command](RequestContext& ctx) { return renew_command(ctx, true); }});
  auto child_command = [this, now, command, find_sa, v1_command](RequestContext& ctx, bool rekey) -> Reply {
    const auto spi = parse_spi(ctx.params.at("spi"));
    if (spi) {
      auto r = v1_command(
          ctx, *spi,
          [&](std::uint64_t id, std::string* why) {
            return rekey ? sources_.ikev1->rekey_ipsec(id, *spi, now(), why)
                         : sources_.ikev1->delete_ipsec(id, *spi, now(), why);
          },
          std::string(rekey ? "renewing" : "deleting") + " IPsec SA " + spi_hex(*spi) + " of");
      if (r) return std::move(*r);
    }
    std::optional<ikev2::IkeSaView> sa;
    if (auto r = find_sa(ctx, &sa)) return std::move(*r);
    const bool exists = spi && std::any_of(sa->children.begin(), sa->children.end(),
                                           [&](const ikev2::ChildSaView& c) { return c.spi_in == *spi; });
    if (!exists)
      return ctx.problem(not_found(sa->name + " has no Child SA with inbound SPI " + ctx.params.at("spi")));
    return command(
        ctx,
        [&](const ikev2::IkeSaView& ike_sa, std::string* why) {
          return rekey ? sources_.ike->rekey_child(ike_sa.id, *spi, now(), why)
                       : sources_.ike->delete_child(ike_sa.id, *spi, now(), why);
        },
        std::string(rekey ? "rekeying" : "deleting") + " CHILD_SA " + spi_hex(*spi) + " of");
  };
  router_.add({verb::post, "/sas/{id}/children/{spi}/rekey", Scope::operate, {},
               [child_command](RequestContext& ctx) { return child_command(ctx, true); }});
  router_.add({verb::delete_, "/sas/{id}/children/{spi}", Scope::operate, {},
               [child_command](RequestContext& ctx) { return child_command(ctx, false); }});

  // --- Connections -----------------------------------------------------
  router_.add({verb::get, "/connections", Scope::read, {"limit", "cursor"}, [this](RequestContext& ctx) {
                 Problem error;
                 const auto limit = ctx.page_limit(&error);
                 if (!limit) return ctx.problem(error);
                 const auto current = running();
                 const auto& conns = current->connections;
                 std::size_t start = 0;
                 if (const auto it = ctx.query.find("cursor"); it != ctx.query.end()) {
                   const auto c = parse_u64(it->second);
                   if (!c || *c > conns.size())
                     return ctx.problem(bad_request("cursor must be a next_cursor value from a previous page"));
                   start = static_cast<std::size_t>(*c);
                 }
                 nlohmann::ordered_json items = nlohmann::ordered_json::array();
                 std::size_t i = start;
                 for (; i < conns.size() && items.size() < *limit; ++i)
                   items.push_back(connection_json(conns[i], &sources_.config->document()));
                 nlohmann::ordered_json out = nlohmann::ordered_json::object();
                 out["items"] = std::move(items);
                 out["next_cursor"] = i < conns.size() ? nlohmann::ordered_json(std::to_string(i)) : nullptr;
                 return ctx.json(status::ok, out);
               }});
  router_.add({verb::get, "/connections/{name}", Scope::read, {}, [this](RequestContext& ctx) {
                 const auto current = running();
                 const auto* conn = current->find_connection(ctx.params.at("name"));
                 if (!conn) return ctx.problem(not_found("no connection '" + ctx.params.at("name") + "'"));
                 return ctx.json(status::ok, connection_json(*conn, &sources_.config->document()));
               }});
  auto find_child = [this](RequestContext& ctx) -> std::optional<Reply> {
    const auto current = running();
    const auto* conn = current->find_connection(ctx.params.at("name"));
    if (!conn) return ctx.problem(not_found("no connection '" + ctx.params.at("name") + "'"));
    for (const auto& c : conn->children)
      if (c.name == ctx.params.at("child")) return std::nullopt;
    return ctx.problem(not_found("connection '" + conn->name + "' has no child '" + ctx.params.at("child") + "'"));
  };
  router_.add({verb::post, "/connections/{name}/children/{child}/initiate", Scope::operate, {},
               [this, now, find_child](RequestContext& ctx) {
                 if (auto r = find_child(ctx)) return std::move(*r);
                 const auto& name = ctx.params.at("name");
                 const auto& child = ctx.params.at("child");
                 std::string why;
                 // IKEv1 connections are the IKEv1 manager's (IKEv2 initiates version 0 and 2).
                 const auto current = running();
                 const auto* conn = current->find_connection(name);
                 const bool v1 = conn && conn->version == 1;
                 if (v1 ? (!sources_.ikev1 || !sources_.ikev1->initiate(name, child, now(), &why))
                        : (!sources_.ike || !sources_.ike->initiate(name, child, now(), &why)))
                   return ctx.problem(conflict("cannot initiate " + name + "/" + child + ": " +
                                               (why.empty() ? "IKE is not running" : why)));
                 log::info("api", "initiating " + name + "/" + child + " (token " + ctx.caller->id + ")");
                 return accepted(ctx, "initiating CHILD_SA " + child + " of " + name);
               }});
  router_.add({verb::post, "/connections/{name}/children/{child}/terminate", Scope::operate, {},
               [this, now, find_child](RequestContext& ctx) {
                 if (auto r = find_child(ctx)) return std::move(*r);
                 const auto& name = ctx.params.at("name");
                 const auto& child = ctx.params.at("child");
                 // IKEv1 connections are the IKEv1 manager's, as for initiate.
                 const auto current = running();
                 const auto* conn = current->find_connection(name);
                 const bool v1 = conn && conn->version == 1;
                 const auto n = v1 ? (sources_.ikev1 ? sources_.ikev1->terminate_children(name, child, now()) : 0)
                                   : (sources_.ike ? sources_.ike->terminate_children(name, child, now()) : 0);
                 log::info("api", "deleting " + std::to_string(n) + " CHILD_SAs " + name + "/" + child + " (token " +
                                      ctx.caller->id + ")");
                 return accepted(ctx, "deleting " + std::to_string(n) + " CHILD_SAs " + child + " of " + name);
               }});

  router_.add({verb::get, "/events", Scope::read, {"types", "log_level"}, [this](RequestContext& ctx) {
                 std::string why;
                 const auto types = ctx.query.count("types") ? ctx.query.at("types") : "";
                 const auto level = ctx.query.count("log_level") ? ctx.query.at("log_level") : "";
                 const auto filter = parse_event_filter(types, level, &why);
                 if (!filter) return ctx.problem(bad_request(why));
                 Response r{status::ok, ctx.request.version()};
                 r.set(http::field::content_type, "text/event-stream");
                 r.set(http::field::cache_control, "no-store");
                 log::info("api", "event stream opened for token " + ctx.caller->id +
                                      (types.empty() ? "" : " (" + types + ")"));
                 return Reply{std::move(r), [this, f = *filter, id = ctx.caller->id](std::shared_ptr<StreamSink> sink) {
                                events_.subscribe(std::move(sink), f, id);
                              }};
               }});

  // --- Config, stats, logging -----------------------------------------
  add_config_routes();
  add_certificate_routes();

  // --- The dataplane's ports and workers, as last reported ------------
  // Empty lists until the first report (about a second after the
  // dataplane connects), and while no dataplane runs.
  router_.add({verb::get, "/dataplane/ports", Scope::read, {}, [this](RequestContext& ctx) {
                 return ctx.json(status::ok, json{{"items", ports_json(sources_.dataplane)}, {"next_cursor", nullptr}});
               }});
  router_.add({verb::get, "/dataplane/workers", Scope::read, {}, [this](RequestContext& ctx) {
                 return ctx.json(status::ok,
                                 json{{"items", workers_json(sources_.dataplane)}, {"next_cursor", nullptr}});
               }});

  router_.add({verb::get, "/stats", Scope::read, {}, [this](RequestContext& ctx) {
                 json out = json::object();
                 if (sources_.ike) {
                   out["ike"] = ike_stats_json(sources_.ike->stats());
                   out["ike"]["ike_sas"] = sources_.ike->ike_sa_count();
                   out["ike"]["half_open"] = sources_.ike->half_open_count();
                 }
                 if (sources_.ikev1) {
                   out["ikev1"] = ikev1_stats_json(sources_.ikev1->stats());
                   out["ikev1"]["isakmp_sas"] = sources_.ikev1->sa_count();
                 }
                 if (sources_.config)
                   out["config"] = {{"revision", sources_.config->revision()},
                                    {"revisions_kept", sources_.config->revisions().size()},
                                    {"history_errors", sources_.config->history_errors()}};
                 if (sources_.sync) out["sa_channel"] = sa_sync_json(*sources_.sync, sources_.dataplane_timeout);
                 if (sources_.traps && sources_.ike) out["traps"] = traps_json(*sources_.traps);
                 if (sources_.traffic) {
                   const auto& d = sources_.traffic->drops();
                   out["dataplane"] = {{"replay_drops", d.replay}, {"icv_failures", d.icv},
                                       {"malformed_drops", d.malformed}};
                 }
                 if (sources_.dataplane) {
                   out["dataplane"]["ports"] = ports_json(sources_.dataplane);
                   out["dataplane"]["workers"] = workers_json(sources_.dataplane);
                   out["dataplane"]["forward_drops"] = forward_drops_json(*sources_.dataplane);
                 }
                 if (const auto* s = server_stats()) {
                   json by_status = json::object();
                   for (const auto& [code, n] : s->responses_by_status) by_status[std::to_string(code)] = n;
                   out["api"] = {{"requests", s->requests},
                                 {"responses_by_status", std::move(by_status)},
                                 {"open_connections", s->open_connections},
                                 {"connections_accepted", s->connections_accepted},
                                 {"rejected_connections", s->connections_rejected},
                                 {"bad_requests", s->bad_requests},
                                 {"timeouts", s->timeouts},
                                 {"tls_failures", s->tls_failures},
                                 {"event_streams", events_.subscribers()},
                                 {"event_streams_revoked", events_.streams_revoked()}};
                 }
                 return ctx.json(status::ok, out);
               }});

  router_.add({verb::get, "/logging", Scope::read, {},
               [](RequestContext& ctx) { return ctx.json(status::ok, levels_json()); }});
  router_.add({verb::patch, "/logging", Scope::admin, {}, [](RequestContext& ctx) {
                 Problem error;
                 const auto body = ctx.json_body(&error);
                 if (!body) return ctx.problem(error);
                 // Check everything first: a request applies whole or not at all.
                 std::vector<FieldError> errors;
                 std::optional<config::LogLevel> level;
                 std::vector<std::pair<std::string, std::optional<config::LogLevel>>> subsystems;
                 for (const auto& [key, value] : body->items()) {
                   if (key == "level") {
                     level = parse_level(value);
                     if (!level) errors.push_back({"/level", "must be one of error, warning, info, debug"});
                   } else if (key == "subsystems") {
                     if (!value.is_object()) {
                       errors.push_back({"/subsystems", "must be an object of subsystem: level"});
                       continue;
                     }
                     for (const auto& [name, l] : value.items()) {
                       const std::string pointer = "/subsystems/" + name;
                       if (!valid_subsystem(name))
                         errors.push_back({pointer, "subsystem names are 1-16 of a-z, 0-9, '_', '-'"});
                       else if (l.is_null())
                         subsystems.emplace_back(name, std::nullopt);
                       else if (const auto parsed = parse_level(l))
                         subsystems.emplace_back(name, parsed);
                       else
                         errors.push_back({pointer, "must be one of error, warning, info, debug, or null"});
                     }
                   } else {
                     errors.push_back({"/" + key, "unknown member (level and subsystems are)"});
                   }
                 }
                 if (!errors.empty()) {
                   const auto count = errors.size();
                   return ctx.problem(validation(std::to_string(count) + (count == 1 ? " problem" : " problems") +
                                                     " in the request body",
                                                 std::move(errors)));
                 }
                 if (level) log::set_level(*level);
                 for (const auto& [name, l] : subsystems) log::set_subsystem_level(name, l);
                 log::info("api", "log levels changed by token " + ctx.caller->id + ": " + levels_json().dump());
                 return ctx.json(status::ok, levels_json());
               }});
}

}  // namespace corridor::control::api
