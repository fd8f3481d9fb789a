// The API's HTTP/1.1 server (Boost.Beast), TLS or plain, on the daemon's
// own io_context: handlers run between IKE datagrams and timers and must do
// bounded work. Everything a client controls is limited (header and body
// size, time to send a request, idle keep-alive, open connections), and
// every way a request can be malformed ends in a problem response or a
// closed connection, counted in ServerStats.
//
// The server knows nothing of the resources: it parses, limits and hands
// each complete request to a Handler. A handler may answer with an event
// stream (Server-Sent Events): the session then keeps the connection and
// writes what the stream's owner sends until either side closes it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/net/address.h"
#include "control/api/problem.h"

namespace corridor::control::api {

struct ServerLimits {
  std::size_t header_bytes = 8 * 1024;
  std::size_t body_bytes = 1024 * 1024;
  std::chrono::seconds request_timeout{10};  // from the first byte of a request to its last
  std::chrono::seconds idle_timeout{30};     // a keep-alive connection with no request
  std::chrono::seconds handshake_timeout{10};
  std::size_t max_connections = 64;
  // Event streams (SSE) count as connections; each may hold this many
  // bytes unsent before it is closed as too slow.
  std::size_t stream_backlog_bytes = 1024 * 1024;
};

struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_rejected = 0;  // over max_connections
  std::uint64_t requests = 0;
  std::uint64_t bad_requests = 0;          // unparseable, over a limit
  std::uint64_t timeouts = 0;              // slow or idle clients closed
  std::uint64_t tls_failures = 0;          // handshakes that failed
  std::uint64_t streams_closed_slow = 0;   // event streams over their backlog
  std::map<unsigned, std::uint64_t> responses_by_status;
  std::size_t open_connections = 0;
  std::size_t open_streams = 0;
};

// The sending end of an event stream, held by whoever produces events.
// send() queues bytes for the client; it returns false once the stream is
// closed (client gone, backlog over the limit, server closed), after which
// the holder should drop it.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual bool send(std::string bytes) = 0;
  virtual bool open() const = 0;
  // Sends `last` after what is queued, then closes the connection; the
  // stream is no longer open() from here on.
  virtual void end(std::string last) = 0;
};

struct Reply {
  Response response;
  // Set for an event stream: the response (headers only, no length) is
  // written, then this is called with the stream's sink.
  std::function<void(std::shared_ptr<StreamSink>)> on_stream;
};

class HttpServer {
 public:
  using Handler = std::function<Reply(const Request&, const net::SocketAddress& peer)>;

  // Listens on `listen`; with `tls` set, every connection is TLS (the
  // context must outlive the server). `name` labels log lines ("api",
  // "metrics"). nullptr with the reason in `why` if it cannot listen.
  static std::unique_ptr<HttpServer> open(boost::asio::io_context& io, const net::SocketAddress& listen,
                                          boost::asio::ssl::context* tls, Handler handler, ServerLimits limits,
                                          std::string name, std::string* why);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  const ServerStats& stats() const;
  // The address actually bound (port 0 in `listen` picks one).
  net::SocketAddress local_address() const;

  struct State;  // shared with the sessions, which may outlive the server object

 private:
  HttpServer() = default;
  std::shared_ptr<State> state_;
};

// A TLS server context from PEM files (certificate chain, private key):
// TLS 1.2 and 1.3 only, OpenSSL's default cipher lists otherwise. nullptr
// with the reason in `why` if the files do not load or do not match.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(const std::string& cert_file, const std::string& key_file,
                                                            std::string* why);

}  // namespace corridor::control::api
