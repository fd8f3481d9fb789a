// Request routing for the API: the route table (method, path template,
// the scope it needs, the query parameters it takes), bearer-token checks
// and the problem responses for whatever does not reach a handler.
//
// Order of checks, so an unauthenticated client learns nothing about what
// exists: token (401), path (404), method (405 with Allow), scope (403),
// query parameters (400), then the handler.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/api/http_server.h"
#include "control/api/tokens.h"

namespace corridor::control::api {

struct RequestContext {
  const Request& request;
  const net::SocketAddress& peer;
  std::string path;                           // percent-decoded, without the query
  std::map<std::string, std::string> params;  // from the path template's {names}
  std::map<std::string, std::string> query;
  std::optional<Verified> caller;             // nullopt on public routes

  // Responses that follow the request's HTTP version and keep-alive.
  Reply json(http::status status, const nlohmann::json& body) const;
  Reply json(http::status status, const nlohmann::ordered_json& body) const;
  Reply problem(const Problem& p) const;
  // The body as a JSON object, or the problem to answer with: 415 without
  // `Content-Type: application/json`, 400 for a syntax error (with line
  // and column) or anything but an object.
  std::optional<nlohmann::json> json_body(Problem* error) const;
  // The same, keeping the body's key order (a config written back to disk).
  std::optional<nlohmann::ordered_json> ordered_json_body(Problem* error) const;
  // ?limit= of a list: 1 to kMaxPageLimit, kDefaultPageLimit without it;
  // nullopt with the problem otherwise.
  static constexpr std::size_t kDefaultPageLimit = 100;
  static constexpr std::size_t kMaxPageLimit = 1000;
  std::optional<std::size_t> page_limit(Problem* error) const;
};

// A whole decimal number (an id, a cursor, a limit) or nullopt.
std::optional<std::uint64_t> parse_u64(std::string_view text);

using RouteHandler = std::function<Reply(RequestContext&)>;

struct Route {
  http::verb method;
  std::string pattern;          // "/sas/{id}/rekey", under the router's prefix
  std::optional<Scope> scope;   // nullopt: no token needed
  std::vector<std::string> query;  // accepted query parameter names
  RouteHandler handler;
};

class Router {
 public:
  explicit Router(std::string prefix) : prefix_(std::move(prefix)) {}

  void add(Route route);
  // Where tokens are checked; must outlive the router. Without one every
  // protected route answers 401.
  void set_tokens(TokenStore* tokens) { tokens_ = tokens; }

  // The HttpServer handler.
  Reply handle(const Request& request, const net::SocketAddress& peer);

  const std::vector<Route>& routes() const { return routes_; }
  const std::string& prefix() const { return prefix_; }

 private:
  std::optional<Verified> authenticate(const Request& request, const std::string& path);

  std::string prefix_;
  std::vector<Route> routes_;
  TokenStore* tokens_ = nullptr;
};

// Percent-decoding of a path segment or query component ("%2F" -> "/",
// and '+' -> ' ' in queries); nullopt for a malformed escape or a NUL.
std::optional<std::string> percent_decode(std::string_view text, bool query);

}  // namespace corridor::control::api
