// /certificates and /authorities: the X.509 files of x509/ and x509ca/
// beside the config file (control/daemon/certificate_store.h), listed with
// what an operator checks (subject, issuer, validity, key, fingerprint,
// the connections using each), added and removed. Responses carry
// metadata only; a PEM holding a private key is refused before anything
// is written. A change reloads the IKE manager's credentials, so the next
// authentication reads the files as they are now; SAs already up stay.
#include "common/log/log.h"
#include "control/api/api.h"
#include "control/daemon/certificate_store.h"

namespace corridor::control::api {

namespace {

using nlohmann::json;
using http::status;
using http::verb;

json certificate_json(const CertificateInfo& c, const CertificateStore& store) {
  json out{{"name", c.name}, {"path", c.path}, {"managed", c.managed}, {"used_by", c.used_by}};
  // How a connection names it: relative to the config file's directory.
  out["config_name"] = c.managed ? json(store.config_prefix() + c.name + ".pem") : json(c.path);
  if (!c.error.empty()) {
    out["error"] = c.error;
    return out;
  }
  out.update({{"subject", c.subject},
              {"issuer", c.issuer},
              {"serial", c.serial},
              {"not_before", c.not_before},
              {"not_after", c.not_after},
              {"valid_now", c.valid_now},
              {"key", c.key},
              {"fingerprint_sha256", c.fingerprint_sha256},
              {"subject_alt_names", c.subject_alt_names},
              {"ca", c.ca},
              {"self_signed", c.self_signed}});
  return out;
}

Problem store_problem(const CertificateStore::Outcome& o) {
  switch (o.error) {
    case CertificateStore::Error::not_found:
      return not_found(o.detail);
    case CertificateStore::Error::in_use:
      return conflict(o.detail);
    case CertificateStore::Error::io:
      return {status::internal_server_error, "storage-failed", "Certificate not stored", o.detail, {}};
    default:
      return {status::bad_request, "validation", "Invalid certificate", o.detail, {}};
  }
}

}  // namespace

void Api::add_certificate_routes() {
  struct Collection {
    const char* path;  // "/certificates"
    const char* what;  // "certificate", for logs
    const CertificateStore* Sources::*store;
  };
  for (const Collection c : {Collection{"/certificates", "certificate", &Sources::certificates},
                             Collection{"/authorities", "CA certificate", &Sources::authorities}}) {
    const auto store = [this, c]() -> const CertificateStore* { return sources_.*c.store; };
    const auto absent = [c] {
      return unavailable(std::string("no ") + c.what + " directory: corridor-control runs without a config file");
    };

    router_.add({verb::get, c.path, Scope::read, {}, [this, store, absent](RequestContext& ctx) {
                   const auto* s = store();
                   if (!s) return ctx.problem(absent());
                   json items = json::array();
                   for (const auto& info : s->list(*running())) items.push_back(certificate_json(info, *s));
                   return ctx.json(status::ok, json{{"items", std::move(items)},
                                                    {"next_cursor", nullptr},
                                                    {"directory", s->directory()}});
                 }});
    router_.add({verb::get, std::string(c.path) + "/{name}", Scope::read, {},
                 [this, store, absent, c](RequestContext& ctx) {
                   const auto* s = store();
                   if (!s) return ctx.problem(absent());
                   const auto& name = ctx.params.at("name");
                   const auto info = s->find(name, *running());
                   if (!info) return ctx.problem(not_found(std::string("no ") + c.what + " '" + name + "'"));
                   return ctx.json(status::ok, certificate_json(*info, *s));
                 }});
    router_.add({verb::post, c.path, Scope::admin, {}, [this, store, absent, c](RequestContext& ctx) {
                   const auto* s = store();
                   if (!s) return ctx.problem(absent());
                   Problem error;
                   const auto body = ctx.json_body(&error);
                   if (!body) return ctx.problem(error);
                   std::vector<FieldError> errors;
                   for (const auto& [key, value] : body->items())
                     if (key != "name" && key != "pem") errors.push_back({"/" + key, "unknown field"});
                   for (const char* key : {"name", "pem"})
                     if (!body->contains(key) || !(*body)[key].is_string())
                       errors.push_back({std::string("/") + key, "must be a string"});
                   if (!errors.empty())
                     return ctx.problem({status::bad_request, "validation", "Invalid request",
                                         "a certificate is {\"name\": ..., \"pem\": \"-----BEGIN CERTIFICATE-----...\"}",
                                         std::move(errors)});
                   const auto& name = (*body)["name"].get_ref<const std::string&>();
                   const auto outcome = s->put(name, (*body)["pem"].get_ref<const std::string&>(), *running());
                   if (outcome.error != CertificateStore::Error::none) return ctx.problem(store_problem(outcome));
                   // Connections naming the file read it at their next
                   // authentication, not with the credentials cached before.
                   if (sources_.ike) sources_.ike->reload_credentials();
                   log::info("api", std::string(c.what) + (outcome.created ? " added: " : " replaced: ") + name + " '" +
                                        outcome.info.subject + "' (token " + ctx.caller->id + ")");
                   return ctx.json(outcome.created ? status::created : status::ok, certificate_json(outcome.info, *s));
                 }});
    router_.add({verb::delete_, std::string(c.path) + "/{name}", Scope::admin, {},
                 [this, store, absent, c](RequestContext& ctx) {
                   const auto* s = store();
                   if (!s) return ctx.problem(absent());
                   const auto outcome = s->remove(ctx.params.at("name"), *running());
                   if (outcome.error != CertificateStore::Error::none) return ctx.problem(store_problem(outcome));
                   if (sources_.ike) sources_.ike->reload_credentials();
                   log::info("api", std::string(c.what) + " removed: " + outcome.info.name + " '" +
                                        outcome.info.subject + "' (token " + ctx.caller->id + ")");
                   return ctx.json(status::ok, certificate_json(outcome.info, *s));
                 }});
  }
}

}  // namespace corridor::control::api
