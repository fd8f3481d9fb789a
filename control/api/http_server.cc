#include "control/api/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <optional>
#include <type_traits>

#include "common/log/log.h"

namespace corridor::control::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

struct HttpServer::State {
  State(asio::io_context& io_context, asio::ssl::context* tls_context, Handler h, ServerLimits l, std::string n)
      : io(io_context), acceptor(io_context), retry(io_context), tls(tls_context), handler(std::move(h)),
        limits(l), name(std::move(n)) {}
  asio::io_context& io;
  tcp::acceptor acceptor;
  asio::steady_timer retry;  // after accept() fails for lack of descriptors
  asio::ssl::context* tls;
  Handler handler;
  ServerLimits limits;
  std::string name;
  ServerStats stats;
  bool closed = false;
};

namespace {

net::SocketAddress to_socket_address(const tcp::endpoint& e) {
  const auto a = e.address();
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    return {net::IpAddress::from_bytes(net::Family::ipv4, b.data()), e.port()};
  }
  const auto b = a.to_v6().to_bytes();
  return {net::IpAddress::from_bytes(net::Family::ipv6, b.data()), e.port()};
}

bool is_http_error(const error_code& ec) {
  return ec.category() == beast::http::make_error_code(beast::http::error::bad_target).category();
}

// A connection's life: [TLS handshake,] then requests and responses until
// the client or a limit ends it; or, after a handler answers with an event
// stream, writes of events until either side closes.
template <class Stream>
class Session final : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::State> state, net::SocketAddress peer)
      : stream_(make_stream(std::move(socket), *state)), state_(std::move(state)), peer_(peer) {}

  ~Session() {
    --state_->stats.open_connections;
    if (streaming_) --state_->stats.open_streams;
  }

  void start() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(state_->limits.handshake_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](const error_code& ec) {
                                if (ec) {
                                  ++self->state_->stats.tls_failures;
                                  log::debug("api", self->state_->name + ": TLS handshake with " +
                                                        self->peer_.to_string() + " failed: " + ec.message());
                                  return;  // the socket closes with the session
                                }
                                self->read_request();
                              });
    } else {
      read_request();
    }
  }

  // Event streams (StreamSink through SinkHandle).
  bool stream_send(std::string bytes) {
    if (!streaming_ || closing_) return false;
    backlog_ += bytes.size();
    if (backlog_ > state_->limits.stream_backlog_bytes) {
      ++state_->stats.streams_closed_slow;
      log::info("api", state_->name + ": event stream to " + peer_.to_string() + " closed: client reads too slowly");
      close();
      return false;
    }
    outbox_.push_back(std::move(bytes));
    if (outbox_.size() == 1) write_stream();
    return true;
  }
  bool stream_open() const { return streaming_ && !closing_ && !ending_; }
  void stream_end(std::string last) {
    if (!stream_open()) return;
    ending_ = true;
    if (!last.empty()) {
      backlog_ += last.size();
      outbox_.push_back(std::move(last));
    }
    if (outbox_.empty()) return close();
    write_stream();
  }

 private:
  static Stream make_stream(tcp::socket socket, HttpServer::State& state) {
    if constexpr (kTls)
      return Stream(std::move(socket), *state.tls);
    else
      return Stream(std::move(socket));
  }

  void read_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->limits.header_bytes));
    parser_->body_limit(state_->limits.body_bytes);
    // The first request must come complete within request_timeout of the
    // connection; later ones within idle_timeout of the last response.
    beast::get_lowest_layer(stream_).expires_after(served_ ? state_->limits.idle_timeout
                                                           : state_->limits.request_timeout);
    beast::http::async_read(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](const error_code& ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(const error_code& ec) {
    if (ec) {
      if (ec == beast::error::timeout) {
        ++state_->stats.timeouts;
        log::debug("api", state_->name + ": " + peer_.to_string() + " timed out, closing");
        return;  // the stream is closed already
      }
      if (ec == beast::http::error::end_of_stream || ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
          ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
        return close();
      ++state_->stats.bad_requests;
      Problem p;
      if (ec == beast::http::error::header_limit) {
        p = {beast::http::status::request_header_fields_too_large, "header-too-large", "Request header too large",
             "the request header is over " + std::to_string(state_->limits.header_bytes) + " bytes", {}};
      } else if (ec == beast::http::error::body_limit) {
        p = {beast::http::status::payload_too_large, "payload-too-large", "Request body too large",
             "the request body is over " + std::to_string(state_->limits.body_bytes) + " bytes", {}};
      } else if (is_http_error(ec)) {
        p = bad_request("malformed HTTP request: " + ec.message());
      } else {
        return close();
      }
      log::debug("api", state_->name + ": " + peer_.to_string() + ": " + p.detail);
      return respond(problem_response(p, "", 11, false));
    }
    ++state_->stats.requests;
    served_ = true;
    const Request request = parser_->release();
    Reply reply;
    try {
      reply = state_->handler(request, peer_);
    } catch (const std::exception& e) {
      // A handler bug must cost one request, not the daemon.
      log::error("api", state_->name + ": " + std::string(request.method_string()) + " " +
                            std::string(request.target()) + " failed: " + e.what());
      reply.response = problem_response({beast::http::status::internal_server_error, "internal", "Internal error",
                                         "the request failed inside the server; see its log", {}},
                                        sv(request.target()), request.version(), false);
    }
    if (reply.on_stream) return start_stream(std::move(reply));
    respond(std::move(reply.response));
  }

  void respond(Response response) {
    ++state_->stats.responses_by_status[static_cast<unsigned>(response.result_int())];
    response_ = std::make_unique<Response>(std::move(response));
    beast::get_lowest_layer(stream_).expires_after(state_->limits.request_timeout);
    beast::http::async_write(stream_, *response_,
                             [self = this->shared_from_this()](const error_code& ec, std::size_t) {
                               const bool keep = self->response_->keep_alive();
                               self->response_.reset();
                               if (ec) return;
                               if (!keep) return self->close();
                               self->read_request();
                             });
  }

  // Event stream: the header without a length (the body lasts until the
  // connection closes), then whatever the owner sends.
  void start_stream(Reply reply) {
    ++state_->stats.responses_by_status[static_cast<unsigned>(reply.response.result_int())];
    streaming_ = true;
    ++state_->stats.open_streams;
    response_ = std::make_unique<Response>(std::move(reply.response));
    response_->keep_alive(false);
    serializer_.emplace(*response_);
    beast::get_lowest_layer(stream_).expires_after(state_->limits.request_timeout);
    beast::http::async_write_header(
        stream_, *serializer_,
        [self = this->shared_from_this(), on_stream = std::move(reply.on_stream)](const error_code& ec, std::size_t) {
          if (ec) return;
          beast::get_lowest_layer(self->stream_).expires_never();
          self->watch_for_close();
          on_stream(std::make_shared<SinkHandle>(self));
          if (!self->outbox_.empty()) self->write_stream();
        });
  }

  // A stream's client sends nothing; a read completes only when it goes.
  void watch_for_close() {
    stream_.async_read_some(asio::buffer(discard_), [self = this->shared_from_this()](const error_code& ec, std::size_t) {
      if (ec) return self->close();
      self->watch_for_close();
    });
  }

  void write_stream() {
    if (closing_ || outbox_.empty() || writing_) return;
    writing_ = true;
    // A client that stops reading fills its window: the write then stalls
    // and this deadline closes the stream.
    beast::get_lowest_layer(stream_).expires_after(state_->limits.request_timeout);
    asio::async_write(stream_, asio::buffer(outbox_.front()),
                      [self = this->shared_from_this()](const error_code& ec, std::size_t n) {
                        self->writing_ = false;
                        if (ec) return self->close();
                        self->backlog_ -= n;
                        self->outbox_.pop_front();
                        if (!self->outbox_.empty())
                          self->write_stream();
                        else if (self->ending_)
                          self->close();
                        else
                          beast::get_lowest_layer(self->stream_).expires_never();
                      });
  }

  void close() {
    if (closing_) return;
    closing_ = true;
    outbox_.clear();
    if constexpr (kTls) {
      // close_notify, bounded: a peer that does not answer it is cut off.
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](const error_code&) {
        error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
      });
    } else {
      error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream_.socket().close(ignored);
    }
  }

  // What the stream's owner holds: a weak reference, so a session that
  // ended is freed at once and later sends just return false.
  class SinkHandle final : public StreamSink {
   public:
    explicit SinkHandle(const std::shared_ptr<Session>& s) : session_(s) {}
    bool send(std::string bytes) override {
      const auto s = session_.lock();
      return s && s->stream_send(std::move(bytes));
    }
    bool open() const override {
      const auto s = session_.lock();
      return s && s->stream_open();
    }
    void end(std::string last) override {
      if (const auto s = session_.lock()) s->stream_end(std::move(last));
    }

   private:
    std::weak_ptr<Session> session_;
  };

  Stream stream_;
  std::shared_ptr<HttpServer::State> state_;
  net::SocketAddress peer_;
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  std::unique_ptr<Response> response_;
  std::optional<beast::http::response_serializer<beast::http::string_body>> serializer_;
  std::deque<std::string> outbox_;
  std::size_t backlog_ = 0;
  std::array<char, 256> discard_{};
  bool served_ = false;
  bool streaming_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool ending_ = false;  // stream_end(): close once the outbox is written
};

void accept(const std::shared_ptr<HttpServer::State>& state) {
  state->acceptor.async_accept([state](const error_code& ec, tcp::socket socket) {
    if (state->closed || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors, typically: try again shortly rather than spin.
      log::warning("api", state->name + ": accept failed: " + ec.message());
      state->retry.expires_after(std::chrono::milliseconds(100));
      state->retry.async_wait([state](const error_code& e) {
        if (!e) accept(state);
      });
      return;
    }
    error_code peer_ec;
    const auto remote = socket.remote_endpoint(peer_ec);
    if (peer_ec) return accept(state);
    const auto peer = to_socket_address(remote);
    if (state->stats.open_connections >= state->limits.max_connections) {
      ++state->stats.connections_rejected;
      log::debug("api", state->name + ": " + std::to_string(state->stats.open_connections) +
                            " connections open, refusing " + peer.to_string());
      error_code ignored;
      socket.close(ignored);
      return accept(state);
    }
    ++state->stats.connections_accepted;
    ++state->stats.open_connections;
    if (state->tls)
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(std::move(socket), state, peer)->start();
    else
      std::make_shared<Session<beast::tcp_stream>>(std::move(socket), state, peer)->start();
    accept(state);
  });
}

}  // namespace

std::unique_ptr<HttpServer> HttpServer::open(asio::io_context& io, const net::SocketAddress& listen,
                                             asio::ssl::context* tls, Handler handler, ServerLimits limits,
                                             std::string name, std::string* why) {
  auto state = std::make_shared<State>(io, tls, std::move(handler), limits, std::move(name));
  error_code ec;
  const auto address = asio::ip::make_address(listen.address.to_string(), ec);
  const tcp::endpoint endpoint(address, listen.port);
  auto fail = [&](const char* what) -> std::unique_ptr<HttpServer> {
    if (why) *why = state->name + ": cannot " + what + " " + listen.to_string() + ": " + ec.message();
    return nullptr;
  };
  if (ec) return fail("parse");
  state->acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (address.is_v6()) state->acceptor.set_option(asio::ip::v6_only(true), ec);
  state->acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  accept(state);
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->state_ = std::move(state);
  return server;
}

HttpServer::~HttpServer() {
  if (!state_) return;
  state_->closed = true;
  error_code ignored;
  state_->acceptor.close(ignored);
  state_->retry.cancel();
}

const ServerStats& HttpServer::stats() const { return state_->stats; }

net::SocketAddress HttpServer::local_address() const {
  error_code ec;
  return to_socket_address(state_->acceptor.local_endpoint(ec));
}

std::unique_ptr<asio::ssl::context> make_tls_context(const std::string& cert_file, const std::string& key_file,
                                                     std::string* why) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                   asio::ssl::context::single_dh_use);
  error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    if (why) *why = "cannot load the API certificate " + cert_file + ": " + ec.message();
    return nullptr;
  }
  ctx->use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec) {
    if (why) *why = "cannot load the API key " + key_file + ": " + ec.message();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    if (why) *why = "the API key " + key_file + " does not match the certificate " + cert_file;
    return nullptr;
  }
  return ctx;
}

}  // namespace corridor::control::api
