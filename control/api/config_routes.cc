// The config as a resource: GET/PUT /config, its revisions and rollback,
// the connections edited one at a time (POST /connections, PUT, PATCH and
// DELETE /connections/{name}) and the secrets, write-only (/secrets).
// Every change, whatever its route, is a whole new config that goes
// through ConfigStore::prepare and apply (control/daemon/config_store.h):
// validated as --check validates, applied live and atomically, written to
// the config file, kept as a revision.
//
// Optimistic concurrency: GET /config answers with ETag "<revision>"; a
// change sent with If-Match applies only if the config is still that
// revision (412 otherwise), so two automations cannot overwrite each
// other's edits unseen.
#include "common/config/redact.h"
#include "common/log/log.h"
#include "common/time/utc_text.h"
#include "control/api/api.h"

namespace corridor::control::api {

namespace {

using nlohmann::json;
using Json = nlohmann::ordered_json;
using http::status;
using http::verb;

std::string etag(std::uint64_t revision) { return "\"" + std::to_string(revision) + "\""; }

json change_json(const ConfigChange& c) {
  return {{"added", c.added},       {"changed", c.changed}, {"removed", c.removed},
          {"unchanged", c.unchanged}, {"secrets", c.secrets}, {"log_level", c.log_level}};
}

json revision_json(const ConfigRevision& r, std::uint64_t current) {
  return {{"id", r.id},
          {"applied_at", timefmt::utc_text(r.applied_at)},
          {"source", r.source},
          {"actor", r.actor.empty() ? json(nullptr) : json(r.actor)},
          {"restored", r.restored ? json(r.restored) : json(nullptr)},
          {"current", r.id == current},
          {"changes", change_json(r.change)}};
}

Problem precondition_failed(std::string detail) {
  return {status::precondition_failed, "precondition-failed", "Precondition failed", std::move(detail), {}};
}

// Takes the "name" member out of a POST body that creates a named entry
// (a connection, a secret): the name keys the entry in the document, so
// the entry itself is written without it. Empty when it is missing or not
// a non-empty string; `what` says in the problem what needs the name.
std::optional<std::string> take_name(Json& body, std::string_view what, Problem* error) {
  const auto it = body.find("name");
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    *error = {status::bad_request, "validation", "Invalid request", std::string(what) + " needs its name",
              {{"/name", "must be a non-empty string"}}};
    return std::nullopt;
  }
  std::string name = it->get<std::string>();
  body.erase(it);
  return name;
}

// The written connections of a config document, as an object (empty if
// the document has none).
Json& connections_of(Json& document) {
  if (!document.contains("connections") || !document["connections"].is_object())
    document["connections"] = Json::object();
  return document["connections"];
}

}  // namespace

Reply Api::change_config(RequestContext& ctx, Json document, const std::string& source, std::uint64_t restored,
                         http::status applied_status) {
  auto& store = *sources_.config;
  bool dry_run = false;
  if (const auto it = ctx.query.find("dry_run"); it != ctx.query.end()) {
    if (it->second != "true" && it->second != "false")
      return ctx.problem(bad_request("dry_run must be true or false"));
    dry_run = it->second == "true";
  }
  if (const auto match = sv(ctx.request[http::field::if_match]); !match.empty() && match != "*" &&
                                                                 match != etag(store.revision()))
    return ctx.problem(precondition_failed("the config is at revision " + std::to_string(store.revision()) +
                                           ", not " + std::string(match) + ": GET it again and redo the change"));

  auto candidate = store.prepare(std::move(document));
  json warnings = json::array();
  std::vector<FieldError> errors;
  for (const auto& d : candidate.diagnostics.items()) {
    if (d.severity == config::Severity::error) errors.push_back({d.pointer, d.message});
    else warnings.push_back({{"pointer", d.pointer}, {"detail", d.message}});
  }
  if (!candidate.ok()) {
    const auto count = errors.size();
    return ctx.problem({status::bad_request, "validation", "Invalid config",
                        std::to_string(count) + (count == 1 ? " problem" : " problems") +
                            " in the config; nothing was changed",
                        std::move(errors)});
  }
  json out{{"dry_run", dry_run}, {"changes", change_json(candidate.change)}, {"warnings", std::move(warnings)}};
  if (dry_run || candidate.same) {
    out["applied"] = false;
    out["revision"] = store.revision();
    if (candidate.same) out["detail"] = "the config is the running one: nothing to apply";
    Reply r = ctx.json(status::ok, out);
    r.response.set(http::field::etag, etag(store.revision()));
    return r;
  }
  std::string why;
  const auto id = store.apply(std::move(candidate), source, ctx.caller ? ctx.caller->id : "", restored, &why);
  if (id == 0)
    return ctx.problem({status::internal_server_error, "apply-failed", "Config not applied",
                        why + "; the running config and the file are unchanged", {}});
  out["applied"] = true;
  out["revision"] = id;
  Reply r = ctx.json(applied_status, out);
  r.response.set(http::field::etag, etag(id));
  return r;
}

void Api::add_config_routes() {
  router_.add({verb::get, "/config", Scope::read, {}, [this](RequestContext& ctx) {
                 Reply r = ctx.json(status::ok, config::redact(sources_.config->document()));
                 r.response.set(http::field::etag, etag(sources_.config->revision()));
                 return r;
               }});
  router_.add({verb::put, "/config", Scope::admin, {"dry_run"}, [this](RequestContext& ctx) {
                 Problem error;
                 auto body = ctx.ordered_json_body(&error);
                 if (!body) return ctx.problem(error);
                 return change_config(ctx, std::move(*body), "api");
               }});

  router_.add({verb::get, "/config/revisions", Scope::read, {"limit", "cursor"}, [this](RequestContext& ctx) {
                 Problem error;
                 const auto limit_or = ctx.page_limit(&error);
                 if (!limit_or) return ctx.problem(error);
                 const std::size_t limit = *limit_or;
                 std::uint64_t after = 0;
                 if (const auto it = ctx.query.find("cursor"); it != ctx.query.end()) {
                   const auto c = parse_u64(it->second);
                   if (!c) return ctx.problem(bad_request("cursor must be a next_cursor value from a previous page"));
                   after = *c;
                 }
                 const auto current = sources_.config->revision();
                 json items = json::array();
                 json next = nullptr;
                 for (const auto* r : sources_.config->revisions()) {
                   if (r->id <= after) continue;
                   if (items.size() == limit) {
                     next = std::to_string(items.back()["id"].get<std::uint64_t>());
                     break;
                   }
                   items.push_back(revision_json(*r, current));
                 }
                 return ctx.json(status::ok, json{{"items", std::move(items)}, {"next_cursor", next}});
               }});
  router_.add({verb::post, "/config/revisions/{id}/rollback", Scope::admin, {"dry_run"}, [this](RequestContext& ctx) {
                 const auto id = parse_u64(ctx.params.at("id"));
                 const ConfigRevision* r = id ? sources_.config->find(*id) : nullptr;
                 if (!r)
                   return ctx.problem(not_found("no revision " + ctx.params.at("id") + " (the last " +
                                                std::to_string(ConfigStore::kMaxRevisions) + " are kept)"));
                 log::info("api", "rollback to config revision " + std::to_string(r->id) + " requested by token " +
                                      ctx.caller->id);
                 return change_config(ctx, r->document, "rollback", r->id);
               }});

  // --- Connections as config ---------------------------------------------
  // The body is a connection as the config file writes it (swanctl.conf's
  // shape: children as an object by name). Validation errors point into
  // the whole config: /connections/<name>/...
  router_.add({verb::post, "/connections", Scope::admin, {"dry_run"}, [this](RequestContext& ctx) {
                 Problem error;
                 auto body = ctx.ordered_json_body(&error);
                 if (!body) return ctx.problem(error);
                 const auto taken = take_name(*body, "a new connection", &error);
                 if (!taken) return ctx.problem(error);
                 const std::string& name = *taken;
                 Json document = sources_.config->document();
                 auto& conns = connections_of(document);
                 if (conns.contains(name))
                   return ctx.problem(conflict("connection '" + name + "' exists: PUT or PATCH /connections/" + name +
                                               " changes it"));
                 conns[name] = std::move(*body);
                 Reply r = change_config(ctx, std::move(document), "api", 0, status::created);
                 if (r.response.result() == status::created)
                   r.response.set(http::field::location, "/api/v1/connections/" + name);
                 return r;
               }});
  router_.add({verb::put, "/connections/{name}", Scope::admin, {"dry_run"}, [this](RequestContext& ctx) {
                 Problem error;
                 auto body = ctx.ordered_json_body(&error);
                 if (!body) return ctx.problem(error);
                 const auto& name = ctx.params.at("name");
                 if (body->contains("name")) {
                   if ((*body)["name"] != name)
                     return ctx.problem({status::bad_request, "validation", "Invalid request",
                                         "the body names another connection than the path",
                                         {{"/name", "must be \"" + name + "\" or left out"}}});
                   body->erase("name");
                 }
                 Json document = sources_.config->document();
                 auto& conns = connections_of(document);
                 const bool exists = conns.contains(name);
                 conns[name] = std::move(*body);
                 return change_config(ctx, std::move(document), "api", 0, exists ? status::ok : status::created);
               }});
  router_.add({verb::patch, "/connections/{name}", Scope::admin, {"dry_run"}, [this](RequestContext& ctx) {
                 Problem error;
                 auto patch = ctx.ordered_json_body(&error);
                 if (!patch) return ctx.problem(error);
                 const auto& name = ctx.params.at("name");
                 Json document = sources_.config->document();
                 auto& conns = connections_of(document);
                 if (!conns.contains(name)) return ctx.problem(not_found("no connection '" + name + "'"));
                 if (patch->contains("name") && (*patch)["name"] != name)
                   return ctx.problem({status::bad_request, "validation", "Invalid request",
                                       "a connection is renamed by PUT of the new name and DELETE of the old",
                                       {{"/name", "must be \"" + name + "\" or left out"}}});
                 patch->erase("name");
                 // RFC 7396: members replace, null removes, objects merge.
                 conns[name].merge_patch(*patch);
                 return change_config(ctx, std::move(document), "api");
               }});
  router_.add({verb::delete_, "/connections/{name}", Scope::admin, {"dry_run"}, [this](RequestContext& ctx) {
                 const auto& name = ctx.params.at("name");
                 Json document = sources_.config->document();
                 auto& conns = connections_of(document);
                 if (!conns.contains(name)) return ctx.problem(not_found("no connection '" + name + "'"));
                 conns.erase(name);
                 return change_config(ctx, std::move(document), "api");
               }});

  // --- Secrets: write-only ---------------------------------------------
  // The secrets section by entry (swanctl.conf's names: ike-*, private-*,
  // rsa-*, ecdsa-*). A GET lists names, types and identities, never a
  // secret or a passphrase; a POST or DELETE is a config change like any.
  router_.add({verb::get, "/secrets", Scope::read, {}, [this](RequestContext& ctx) {
                 const auto current = running();
                 json items = json::array();
                 for (const auto& secret : current->secrets) {
                   json ids = json::array();
                   for (const auto& id : secret.ids) ids.push_back(id.to_string());
                   json item{{"name", secret.name}, {"type", std::string(config::to_string(secret.type))}, {"ids", ids}};
                   if (!secret.file.empty()) item["file"] = secret.file;
                   items.push_back(std::move(item));
                 }
                 return ctx.json(status::ok, json{{"items", std::move(items)}, {"next_cursor", nullptr}});
               }});
  router_.add({verb::post, "/secrets", Scope::admin, {"dry_run"}, [this](RequestContext& ctx) {
                 Problem error;
                 auto body = ctx.ordered_json_body(&error);
                 if (!body) return ctx.problem(error);
                 const auto taken = take_name(*body, "a secret (ike-*, private-*, rsa-*, ecdsa-*)", &error);
                 if (!taken) return ctx.problem(error);
                 const std::string& name = *taken;
                 Json document = sources_.config->document();
                 if (!document.contains("secrets") || !document["secrets"].is_object())
                   document["secrets"] = Json::object();
                 const bool exists = document["secrets"].contains(name);
                 document["secrets"][name] = std::move(*body);
                 log::info("api", std::string(exists ? "secret replaced: " : "secret added: ") + name + " (token " +
                                      ctx.caller->id + ")");
                 return change_config(ctx, std::move(document), "api", 0, exists ? status::ok : status::created);
               }});
  router_.add({verb::delete_, "/secrets/{name}", Scope::admin, {"dry_run"}, [this](RequestContext& ctx) {
                 const auto& name = ctx.params.at("name");
                 Json document = sources_.config->document();
                 if (!document.contains("secrets") || !document["secrets"].is_object() ||
                     !document["secrets"].contains(name))
                   return ctx.problem(not_found("no secret '" + name + "'"));
                 document["secrets"].erase(name);
                 return change_config(ctx, std::move(document), "api");
               }});
}

}  // namespace corridor::control::api
