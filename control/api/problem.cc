#include "control/api/problem.h"

#include <nlohmann/json.hpp>

namespace corridor::control::api {

namespace {

constexpr std::string_view kTypeBase = "https://corridor.dev/problems/";

}  // namespace

Response json_response(http::status status, const std::string& body, unsigned version, bool keep_alive) {
  Response r{status, version};
  r.set(http::field::content_type, "application/json");
  r.set(http::field::cache_control, "no-store");
  r.keep_alive(keep_alive);
  r.body() = body;
  r.prepare_payload();
  return r;
}

Response problem_response(const Problem& p, std::string_view instance, unsigned version, bool keep_alive) {
  nlohmann::json j{{"type", std::string(kTypeBase) + p.type},
                   {"title", p.title},
                   {"status", static_cast<unsigned>(p.status)},
                   {"detail", p.detail},
                   {"instance", std::string(instance)}};
  if (!p.errors.empty()) {
    auto& errors = j["errors"] = nlohmann::json::array();
    for (const auto& e : p.errors) errors.push_back({{"pointer", e.pointer}, {"detail", e.detail}});
  }
  // Replace, not throw, on bytes a client put in the path that are not UTF-8.
  Response r = json_response(p.status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), version,
                             keep_alive);
  r.set(http::field::content_type, "application/problem+json");
  return r;
}

Problem bad_request(std::string detail) {
  return {http::status::bad_request, "bad-request", "Bad request", std::move(detail), {}};
}

Problem not_found(std::string detail) {
  return {http::status::not_found, "not-found", "Not found", std::move(detail), {}};
}

Problem conflict(std::string detail) {
  return {http::status::conflict, "conflict", "Conflict with the current state", std::move(detail), {}};
}

Problem unavailable(std::string detail) {
  return {http::status::service_unavailable, "unavailable", "Service unavailable", std::move(detail), {}};
}

}  // namespace corridor::control::api
