// RFC 9457 problem details: every error the API returns is one of these,
// `application/problem+json`, with a stable `type` an automation can switch
// on and a `detail` an operator can read.
#pragma once

#include <boost/beast/http.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace corridor::control::api {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Boost 1.74's Beast has its own string_view; this is the bridge.
inline std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

// One field-level problem, for validation failures: the JSON pointer into
// the request body and what is wrong there.
struct FieldError {
  std::string pointer;
  std::string detail;
};

struct Problem {
  http::status status = http::status::bad_request;
  std::string type;  // last part of the type URI: "validation", "not-found", ...
  std::string title;
  std::string detail;
  std::vector<FieldError> errors;
};

// The problem as a response for the request at `instance` (its path).
// `version` and `keep_alive` follow the request's.
Response problem_response(const Problem& p, std::string_view instance, unsigned version = 11, bool keep_alive = true);

// The usual ones.
Problem bad_request(std::string detail);
Problem not_found(std::string detail);
Problem conflict(std::string detail);
Problem unavailable(std::string detail);

// A JSON response with `Cache-Control: no-store` (SA state and counters
// must never be served from a cache).
Response json_response(http::status status, const std::string& body, unsigned version, bool keep_alive);

}  // namespace corridor::control::api
