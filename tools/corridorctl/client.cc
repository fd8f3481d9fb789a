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

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Runs one asynchronous operation to completion. beast::tcp_stream fails the
// operation with error::timeout once its expiry passes, so this cannot hang.
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
    auto& socket = beast::get_lowest_layer(stream);
    socket.expires_after(kTimeout);
    check(run(io_, [&](auto handler) { http::async_write(stream, request, handler); }), "cannot send the request to");
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBody);
    socket.expires_after(kTimeout);
    check(run(io_, [&](auto handler) { http::async_read(stream, buffer, parser, handler); }),
          "no HTTP response from");
    auto& message = parser.get();
    return Response{message.result_int(), std::string(message[http::field::content_type]), std::move(message.body())};
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
  asio::io_context& io_;
  std::string where_;
};

Response over_tls(Exchange& exchange, const ClientSettings& settings, const tcp::resolver::results_type& addresses,
                  http::request<http::string_body>& request) {
  const auto& host = settings.endpoint.host;
  ssl::context context(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  if (settings.insecure) {
    context.set_verify_mode(ssl::verify_none);
  } else {
    beast::error_code ec;
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
  const auto ec = run(exchange.io(), [&](auto handler) { stream.async_handshake(ssl::stream_base::client, handler); });
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

  auto response = exchange.send(stream, request);
  // Polite close_notify; the response is complete whatever happens here.
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  run(exchange.io(), [&](auto handler) { stream.async_shutdown(handler); });
  return response;
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
  const auto& endpoint = settings_.endpoint;
  asio::io_context io;
  Exchange exchange(io, endpoint);

  // Name resolution is synchronous: getaddrinfo cannot be cancelled, and
  // the system resolver bounds it itself (resolv.conf timeout/attempts).
  tcp::resolver resolver(io);
  beast::error_code ec;
  const auto addresses = resolver.resolve(endpoint.host, endpoint.port, ec);
  if (ec) throw UnreachableError("cannot resolve " + endpoint.host + ": " + ec.message());

  http::request<http::string_body> request{method, endpoint.prefix + target, 11};
  const bool default_port = endpoint.port == (endpoint.tls ? "443" : "80");
  const bool v6 = endpoint.host.find(':') != std::string::npos;
  request.set(http::field::host, default_port ? (v6 ? "[" + endpoint.host + "]" : endpoint.host) : authority(endpoint));
  request.set(http::field::user_agent, "corridorctl/" CORRIDOR_VERSION);
  request.set(http::field::accept, "application/json");
  if (authenticate && !settings_.token.empty()) request.set(http::field::authorization, "Bearer " + settings_.token);
  if (json_body) {
    request.set(http::field::content_type, "application/json");
    request.body() = *json_body;
  }
  request.keep_alive(false);
  request.prepare_payload();

  if (endpoint.tls) return over_tls(exchange, settings_, addresses, request);
  beast::tcp_stream stream(io);
  exchange.connect(stream, addresses);
  auto response = exchange.send(stream, request);
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);  // best effort; the response is complete
  return response;
}

}  // namespace corridor::ctl
