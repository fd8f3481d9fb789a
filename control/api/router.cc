#include "control/api/router.h"

#include <algorithm>
#include <charconv>

#include "common/log/log.h"

namespace corridor::control::api {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;  // past the leading '/'
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Matches raw (still encoded) segments against a template, decoding the
// parameters; false on a mismatch or a malformed escape.
bool match(std::string_view pattern, const std::vector<std::string_view>& segments,
           std::map<std::string, std::string>& params) {
  const auto want = split_path(pattern);
  if (want.size() != segments.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (is_param(want[i])) {
      auto value = percent_decode(segments[i], false);
      if (!value || value->empty()) return false;
      found.emplace(std::string(want[i].substr(1, want[i].size() - 2)), std::move(*value));
    } else if (want[i] != segments[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

Problem unauthorized(std::string detail) {
  return {http::status::unauthorized, "unauthorized", "Authentication required", std::move(detail), {}};
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool query) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;  // "%" or "%4" at the end
      const int hi = hex(text[i + 1]);
      const int lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && query) {
      c = ' ';
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

Reply RequestContext::json(http::status status, const nlohmann::json& body) const {
  return {json_response(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        request.version(), request.keep_alive()),
          {}};
}

Reply RequestContext::json(http::status status, const nlohmann::ordered_json& body) const {
  return {json_response(status, body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace),
                        request.version(), request.keep_alive()),
          {}};
}

Reply RequestContext::problem(const Problem& p) const {
  return {problem_response(p, path, request.version(), request.keep_alive()), {}};
}

namespace {

// The body as an object of JsonType (ordered_json keeps the client's key
// order, for a config that is written back to a file).
template <typename JsonType>
std::optional<JsonType> parse_json_body(const Request& request, Problem* error) {
  const auto type = sv(request[http::field::content_type]);
  const auto semicolon = type.find(';');
  const auto media = type.substr(0, semicolon == std::string_view::npos ? type.size() : semicolon);
  if (!iequals(media, "application/json") && !iequals(media, "application/merge-patch+json")) {
    *error = {http::status::unsupported_media_type, "unsupported-media-type", "Unsupported media type",
              "the request body must be Content-Type: application/json", {}};
    return std::nullopt;
  }
  JsonType body = JsonType::parse(request.body(), nullptr, false);
  if (body.is_discarded()) {
    // Parse again to learn where: the exception carries the byte offset.
    try {
      const auto ignored = JsonType::parse(request.body());
      (void)ignored;
    } catch (const typename JsonType::parse_error& e) {
      *error = bad_request("the request body is not valid JSON (at byte " + std::to_string(e.byte) + ")");
      return std::nullopt;
    }
    *error = bad_request("the request body is not valid JSON");
    return std::nullopt;
  }
  if (!body.is_object()) {
    *error = bad_request("the request body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

}  // namespace

std::optional<nlohmann::json> RequestContext::json_body(Problem* error) const {
  return parse_json_body<nlohmann::json>(request, error);
}

std::optional<nlohmann::ordered_json> RequestContext::ordered_json_body(Problem* error) const {
  return parse_json_body<nlohmann::ordered_json>(request, error);
}

void Router::add(Route route) { routes_.push_back(std::move(route)); }

std::optional<Verified> Router::authenticate(const Request& request, const std::string& path) {
  if (!tokens_) return std::nullopt;
  std::string why;
  if (!tokens_->refresh(&why)) log::warning("api", "token file: " + why + " (keeping the tokens loaded before)");
  const auto header = sv(request[http::field::authorization]);
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size() || !iequals(header.substr(0, kScheme.size()), kScheme)) return std::nullopt;
  auto token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  auto verified = tokens_->verify(token);
  if (!verified) log::info("api", "refused a request for " + path + ": unknown or malformed token");
  return verified;
}

Reply Router::handle(const Request& request, const net::SocketAddress& peer) {
  const std::string_view target = sv(request.target());
  const auto question = target.find('?');
  const std::string_view raw_path = target.substr(0, question);
  const std::string_view raw_query = question == std::string_view::npos ? "" : target.substr(question + 1);
  RequestContext ctx{request, peer, std::string(raw_path), {}, {}, std::nullopt};
  auto decoded = percent_decode(raw_path, false);
  if (raw_path.empty() || raw_path.front() != '/' || !decoded)
    return ctx.problem(bad_request("the request target must be an absolute path"));
  ctx.path = std::move(*decoded);

  // Routes are under the prefix; everything else is unknown.
  if (raw_path.substr(0, prefix_.size()) != prefix_ ||
      (raw_path.size() > prefix_.size() && raw_path[prefix_.size()] != '/'))
    return ctx.problem(not_found("no resource at " + ctx.path));
  const auto segments = split_path(raw_path.size() == prefix_.size() ? "/" : raw_path.substr(prefix_.size()));

  std::vector<const Route*> matching;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (match(r.pattern, segments, params)) matching.push_back(&r);
  }
  const Route* route = nullptr;
  for (const auto* r : matching)
    if (r->method == request.method()) route = r;

  const bool is_public = route && !route->scope;
  if (!is_public) {
    ctx.caller = authenticate(request, ctx.path);
    if (!ctx.caller) {
      Reply reply = ctx.problem(unauthorized(request[http::field::authorization].empty()
                                                 ? "this resource needs Authorization: Bearer TOKEN"
                                                 : "the bearer token is not valid"));
      // RFC 6750 §3: error="invalid_token" when one was presented.
      reply.response.set(http::field::www_authenticate,
                         request[http::field::authorization].empty()
                             ? "Bearer realm=\"corridor\""
                             : "Bearer realm=\"corridor\", error=\"invalid_token\"");
      return reply;
    }
  }
  if (matching.empty()) return ctx.problem(not_found("no resource at " + ctx.path));
  if (!route) {
    std::string allow;
    for (const auto* r : matching) allow += (allow.empty() ? "" : ", ") + std::string(http::to_string(r->method));
    Reply reply = ctx.problem({http::status::method_not_allowed, "method-not-allowed", "Method not allowed",
                               std::string(request.method_string()) + " is not allowed on " + ctx.path + " (allowed: " +
                                   allow + ")",
                               {}});
    reply.response.set(http::field::allow, allow);
    return reply;
  }
  if (route->scope && !allows(ctx.caller->scope, *route->scope))
    return ctx.problem({http::status::forbidden, "forbidden", "Insufficient scope",
                        "token " + ctx.caller->id + " has scope '" + std::string(to_string(ctx.caller->scope)) +
                            "'; " + std::string(request.method_string()) + " " + route->pattern + " needs '" +
                            std::string(to_string(*route->scope)) + "'",
                        {}});
  match(route->pattern, segments, ctx.params);

  // Query parameters: only the ones the route takes, each once.
  std::size_t start = 0;
  while (start < raw_query.size()) {
    const auto end = std::min(raw_query.find('&', start), raw_query.size());
    const auto pair = raw_query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!name || !value) return ctx.problem(bad_request("malformed query string"));
    if (std::find(route->query.begin(), route->query.end(), *name) == route->query.end())
      return ctx.problem(bad_request("unknown query parameter '" + *name + "'"));
    if (!ctx.query.emplace(std::move(*name), std::move(*value)).second)
      return ctx.problem(bad_request("query parameter given twice"));
  }
  return route->handler(ctx);
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<std::size_t> RequestContext::page_limit(Problem* error) const {
  const auto it = query.find("limit");
  if (it == query.end()) return kDefaultPageLimit;
  const auto n = parse_u64(it->second);
  if (!n || *n < 1 || *n > kMaxPageLimit) {
    *error = bad_request("limit must be a whole number from 1 to " + std::to_string(kMaxPageLimit));
    return std::nullopt;
  }
  return static_cast<std::size_t>(*n);
}

}  // namespace corridor::control::api
