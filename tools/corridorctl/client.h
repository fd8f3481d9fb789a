// corridorctl's HTTP(S) client: one request per connection, synchronous
// from the caller's view, every network step bounded by a timeout but the
// wait for the next event of an event stream. Failing to get any HTTP
// response (DNS, connect, TLS, timeout) or losing an event stream throws
// UnreachableError; an HTTP error status is a normal Response.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/beast/http/verb.hpp>

#include "tools/corridorctl/sse.h"

namespace corridor::ctl {

struct Endpoint {
  bool tls = true;
  std::string host;    // without brackets for IPv6 literals
  std::string port;
  std::string prefix;  // URL path before /api/v1, "" or "/something" without trailing '/'
};

// "https://host:port[/prefix]", "http://[::1]:8080". The port defaults to
// 443/80. nullopt with *why if it is not such a URL.
std::optional<Endpoint> parse_url(std::string_view url, std::string* why);

// "host:port", bracketing an IPv6 literal, for messages and the Host header.
std::string authority(const Endpoint& endpoint);

bool is_loopback_host(std::string_view host);

struct ClientSettings {
  Endpoint endpoint;
  std::string token;   // may be empty: the server then answers 401
  std::string cacert;  // empty: the system's trust store
  bool insecure = false;
};

struct Response {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

class UnreachableError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Client {
 public:
  explicit Client(ClientSettings settings) : settings_(std::move(settings)) {}

  // `target` is the path and query under the endpoint's prefix
  // ("/api/v1/sas?limit=100"). `json_body` is sent as application/json when
  // set. The token is sent only if `authenticate`.
  Response request(boost::beast::http::verb method, const std::string& target,
                   const std::optional<std::string>& json_body = std::nullopt, bool authenticate = true);

  // GET `target` as a Server-Sent Events stream (authenticated), calling
  // `on_event` for each event until it returns false or the server ends the
  // stream; then nullopt. An answer that is not a 200 event stream (an
  // error status) is read whole and returned instead.
  std::optional<Response> stream(const std::string& target, const EventStreamParser::Dispatch& on_event);

  const ClientSettings& settings() const { return settings_; }

 private:
  ClientSettings settings_;
};

// Percent-encodes one path segment or query value (RFC 3986 unreserved kept).
std::string url_encode(std::string_view text);

}  // namespace corridor::ctl
