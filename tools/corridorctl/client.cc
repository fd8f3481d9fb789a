#include "tools/corridorctl/client.h"

#include <algorithm>
#include <chrono>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace corridor::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTimeout = std::chrono::seconds(10);
// Enough for a page of 1000 IKE SAs with their children.
constexpr std::uint64_t kMaxBody = 64 << 20;
// The server closes a stream once 1 MiB waits for it (docs/api.md), so
// none of its events is larger.
constexpr std::size_t kMaxEvent = 1 << 20;

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// "text/event-stream", parameters and case aside.
bool is_event_stream(beast::string_view content_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  while (type.ends_with(' ') || type.ends_with('\t')) type.remove_suffix(1);
  return beast::iequals(type, "text/event-stream");
}

// Runs one asynchronous operation to completion. beast::tcp_stream fails the
// operation with error::timeout once its expiry passes, so this cannot hang
// unless the expiry was lifted (an event stream waiting for its next event).
template <typename Initiate>
beast::error_code run(asio::io_context& io, Initiate&& initiate) {
  beast::error_code result;
  initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

class Exchange {
 public:
  Exchange(asio::io_context& io, const Endpoint& endpoint) : io_(io), where_(authority(endpoint)) {}

  template <typename Stream>
  void connect(Stream& stream, const tcp::resolver::results_type& addresses) {
    auto& socket = beast::get_lowest_layer(stream);
    socket.expires_after(kTimeout);
    check(run(io_, [&](auto handler) { socket.async_connect(addresses, handler); }), "cannot connect to");
  }

  // Sends the request and reads the whole response.
  template <typename Stream>
  Response send(Stream& stream, http::request<http::string_body>& request) {
    write(stream, request);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    return read(stream, buffer, parser);
  }

  // Sends the request; reads a 200 event stream event by event (see
  // Client::stream), anything else whole.
  template <typename Stream>
  std::optional<Response> listen(Stream& stream, http::request<http::string_body>& request,
                                 const EventStreamParser::Dispatch& on_event) {
    write(stream, request);
    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    auto& socket = beast::get_lowest_layer(stream);
    socket.expires_after(kTimeout);
    check(run(io_, [&](auto handler) { http::async_read_header(stream, buffer, parser, handler); }),
          "no HTTP response from");
    if (parser.get().result() != http::status::ok || !is_event_stream(parser.get()[http::field::content_type])) {
      http::response_parser<http::string_body> whole(std::move(parser));
      return read(stream, buffer, whole);
    }
    // Events may be minutes apart: no deadline from here on (the server's
    // keepalive comments keep proxies from closing an idle stream).
    socket.expires_never();
    parser.body_limit(boost::none);
    EventStreamParser events;
    char chunk[4096];
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      auto ec = run(io_, [&](auto handler) { http::async_read_some(stream, buffer, parser, handler); });
      if (ec == http::error::need_buffer) ec = {};  // the chunk is full, and read below
      check(ec, "lost the event stream from");
      if (!events.feed(std::string_view(chunk, sizeof chunk - parser.get().body().size), on_event)) break;
      if (events.pending() > kMaxEvent)
        throw UnreachableError("the event stream from " + where_ + " sent an event of more than 1 MiB");
    }
    return std::nullopt;
  }

  void check(const beast::error_code& ec, const std::string& what) const {
    if (!ec) return;
    if (ec == beast::error::timeout)
      throw UnreachableError(what + " " + where_ + ": timed out after " + std::to_string(kTimeout.count()) + " s");
    throw UnreachableError(what + " " + where_ + ": " + ec.message());
  }

  const std::string& where() const { return where_; }
  asio::io_context& io() { return io_; }

 private:
  template <typename Stream>
  void write(Stream& stream, http::request<http::string_body>& request) {
    beast::get_lowest_layer(stream).expires_after(kTimeout);
    check(run(io_, [&](auto handler) { http::async_write(stream, request, handler); }), "cannot send the request to");
  }

  // The whole response, or the rest of it after its header.
  template <typename Stream>
  Response read(Stream& stream, beast::flat_buffer& buffer, http::response_parser<http::string_body>& parser) {
    parser.body_limit(kMaxBody);
    beast::get_lowest_layer(stream).expires_after(kTimeout);
    check(run(io_, [&](auto handler) { http::async_read(stream, buffer, parser, handler); }),
          "no HTTP response from");
    auto& message = parser.get();
    return Response{message.result_int(), std::string(message[http::field::content_type]), std::move(message.body())};
  }

  asio::io_context& io_;
  std::string where_;
};

// Connects to the endpoint, over TLS with the checks `settings` ask for
// when it is https, lets `talk` (called with the stream) have its exchange,
// then closes the connection.
template <typename Talk>
void converse(Exchange& exchange, const ClientSettings& settings, Talk&& talk) {
  const auto& endpoint = settings.endpoint;
  // Name resolution is synchronous: getaddrinfo cannot be cancelled, and
  // the system resolver bounds it itself (resolv.conf timeout/attempts).
  tcp::resolver resolver(exchange.io());
  beast::error_code ec;
  const auto addresses = resolver.resolve(endpoint.host, endpoint.port, ec);
  if (ec) throw UnreachableError("cannot resolve " + endpoint.host + ": " + ec.message());

  if (!endpoint.tls) {
    beast::tcp_stream stream(exchange.io());
    exchange.connect(stream, addresses);
    talk(stream);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);  // best effort; the exchange is over
    return;
  }

  const auto& host = endpoint.host;
  ssl::context context(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  if (settings.insecure) {
    context.set_verify_mode(ssl::verify_none);
  } else {
    if (settings.cacert.empty())
      context.set_default_verify_paths(ec);
    else
      context.load_verify_file(settings.cacert, ec);
    if (ec)
      throw UnreachableError("cannot load CA certificates" +
                             (settings.cacert.empty() ? std::string() : " from " + settings.cacert) + ": " + ec.message());
    context.set_verify_mode(ssl::verify_peer);
  }

  beast::ssl_stream<beast::tcp_stream> stream(exchange.io(), context);
  SSL* ssl_handle = stream.native_handle();
  // SNI carries names only (RFC 6066); the certificate must match the host
  // as a DNS name or as an IP address, checked by OpenSSL during the handshake.
  const bool ip = is_ip_literal(host);
  if ((!ip && SSL_set_tlsext_host_name(ssl_handle, host.c_str()) != 1) ||
      (!settings.insecure && !ip && SSL_set1_host(ssl_handle, host.c_str()) != 1) ||
      (!settings.insecure && ip && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), host.c_str()) != 1))
    throw UnreachableError("cannot set up TLS for " + exchange.where());

  exchange.connect(stream, addresses);
  beast::get_lowest_layer(stream).expires_after(kTimeout);
  ec = run(exchange.io(), [&](auto handler) { stream.async_handshake(ssl::stream_base::client, handler); });
  if (ec && ec != beast::error::timeout) {
    std::string message = "TLS handshake with " + exchange.where() + " failed: " + ec.message();
    if (const long verify = SSL_get_verify_result(ssl_handle); verify != X509_V_OK) {
      const bool mismatch = verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH;
      message += " (" + std::string(X509_verify_cert_error_string(verify)) + "; " +
                 (mismatch ? "the certificate is not for " + host + ": use a name it has in the URL"
                           : std::string("give the server's CA with --cacert")) +
                 ", or --insecure to skip the check)";
    }
    throw UnreachableError(message);
  }
  exchange.check(ec, "TLS handshake with");

  talk(stream);
  // Polite close_notify; the exchange is over whatever happens here.
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  run(exchange.io(), [&](auto handler) { stream.async_shutdown(handler); });
}

// The request line and the headers of every request.
http::request<http::string_body> make_request(const ClientSettings& settings, http::verb method,
                                              const std::string& target, const char* accept, bool authenticate) {
  const auto& endpoint = settings.endpoint;
  http::request<http::string_body> request{method, endpoint.prefix + target, 11};
  const bool default_port = endpoint.port == (endpoint.tls ? "443" : "80");
  const bool v6 = endpoint.host.find(':') != std::string::npos;
  request.set(http::field::host, default_port ? (v6 ? "[" + endpoint.host + "]" : endpoint.host) : authority(endpoint));
  request.set(http::field::user_agent, "corridorctl/" CORRIDOR_VERSION);
  request.set(http::field::accept, accept);
  if (authenticate && !settings.token.empty()) request.set(http::field::authorization, "Bearer " + settings.token);
  request.keep_alive(false);
  return request;
}

}  // namespace

std::optional<Endpoint> parse_url(std::string_view url, std::string* why) {
  auto fail = [&](const std::string& message) -> std::optional<Endpoint> {
    *why = "invalid URL '" + std::string(url) + "': " + message;
    return std::nullopt;
  };
  Endpoint out;
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    out.tls = false;
    rest = url.substr(7);
  } else {
    return fail("must start with https:// or http://");
  }
  const auto slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    if (path.find_first_of("?#") != std::string_view::npos) return fail("no query or fragment allowed");
    while (path.ends_with('/')) path.remove_suffix(1);
    out.prefix = std::string(path);
  }
  if (hostport.find('@') != std::string_view::npos) return fail("no user info allowed; give the token with --token");
  std::string_view port;
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return fail("missing ']'");
    out.host = std::string(hostport.substr(1, close - 1));
    boost::system::error_code ec;
    asio::ip::make_address_v6(out.host, ec);
    if (ec) return fail("not an IPv6 address in brackets");
    const auto after = hostport.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return fail("unexpected text after ']'");
    if (!after.empty()) port = after.substr(1);
  } else {
    const auto colon = hostport.find(':');
    if (hostport.find(':', colon == std::string_view::npos ? colon : colon + 1) != std::string_view::npos)
      return fail("an IPv6 address must be in brackets, e.g. https://[::1]:8443");
    out.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port = hostport.substr(colon + 1);
  }
  if (out.host.empty()) return fail("no host");
  if (port.empty()) {
    out.port = out.tls ? "443" : "80";
  } else {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535)
      return fail("bad port '" + std::string(port) + "'");
    out.port = std::string(port);
  }
  return out;
}

std::string authority(const Endpoint& endpoint) {
  const bool v6 = endpoint.host.find(':') != std::string::npos;
  return (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + endpoint.port;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

std::string url_encode(std::string_view text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

Response Client::request(http::verb method, const std::string& target, const std::optional<std::string>& json_body,
                         bool authenticate) {
  auto request = make_request(settings_, method, target, "application/json", authenticate);
  if (json_body) {
    request.set(http::field::content_type, "application/json");
    request.body() = *json_body;
  }
  request.prepare_payload();
  asio::io_context io;
  Exchange exchange(io, settings_.endpoint);
  Response response;
  converse(exchange, settings_, [&](auto& stream) { response = exchange.send(stream, request); });
  return response;
}

std::optional<Response> Client::stream(const std::string& target, const EventStreamParser::Dispatch& on_event) {
  auto request = make_request(settings_, http::verb::get, target, "text/event-stream", true);
  request.prepare_payload();
  asio::io_context io;
  Exchange exchange(io, settings_.endpoint);
  std::optional<Response> answer;
  converse(exchange, settings_, [&](auto& stream) { answer = exchange.listen(stream, request, on_event); });
  return answer;
}

}  // namespace corridor::ctl
