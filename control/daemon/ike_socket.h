// The IKE sockets of the daemon: UDP 500 and 4500 on every local address,
// IPv4 and IPv6, on the kernel's stack (alone, or behind the dataplane's
// exception TAP, unchanged).
//
// Each datagram is delivered with the local address it was sent to
// (IP_PKTINFO / IPV6_RECVPKTINFO), and answers leave from that address, so
// a gateway with several addresses answers from the one the peer used. On
// the NAT-T port, IKE messages carry the 4-byte non-ESP marker (RFC 3948
// §2.2), added and stripped here; a single 0xFF byte is a NAT-keepalive
// and is absorbed; anything else there is ESP that the kernel should never
// have handed us (the dataplane takes it) and is counted and dropped.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/net/address.h"
#include "control/ikev2/manager.h"

namespace corridor::control {

struct IkeSocketStats {
  std::uint64_t received = 0;
  std::uint64_t sent = 0;
  std::uint64_t keepalives_received = 0;
  std::uint64_t keepalives_sent = 0;
  std::uint64_t esp_on_nat_t_port = 0;  // ESP reached the kernel socket: no dataplane in the path
  std::uint64_t send_errors = 0;
  std::uint64_t receive_errors = 0;
};

class IkeSockets final : public ikev2::Transport {
 public:
  using Handler = std::function<void(const net::SocketAddress& local, const net::SocketAddress& remote,
                                     std::span<const std::uint8_t> datagram)>;

  // Binds the wildcard addresses on `port` and `nat_t_port`. Fails (with
  // the reason in `why`) only if no IPv4 socket can be bound; a host
  // without IPv6 runs on IPv4 alone, with a log line.
  static std::unique_ptr<IkeSockets> open(boost::asio::io_context& io, std::uint16_t port, std::uint16_t nat_t_port,
                                          Handler handler, std::string* why);
  ~IkeSockets() override;

  void send(const net::SocketAddress& local, const net::SocketAddress& remote,
            std::span<const std::uint8_t> datagram) override;
  std::optional<net::IpAddress> source_for(const net::IpAddress& remote) override;
  void send_nat_keepalive(const net::SocketAddress& local, const net::SocketAddress& remote) override;

  const IkeSocketStats& stats() const { return stats_; }

 private:
  struct Socket {
    boost::asio::ip::udp::socket socket;
    std::uint16_t port;
    bool v6;
  };
  IkeSockets(boost::asio::io_context& io, std::uint16_t port, std::uint16_t nat_t_port, Handler handler);
  bool bind(bool v6, std::uint16_t port, std::string* why);
  void wait(Socket& s);
  void drain(Socket& s);
  void send_raw(const net::SocketAddress& local, const net::SocketAddress& remote, std::span<const std::uint8_t> bytes);
  Socket* find(bool v6, std::uint16_t port);

  boost::asio::io_context& io_;
  std::uint16_t port_;
  std::uint16_t nat_t_port_;
  Handler handler_;
  std::vector<std::unique_ptr<Socket>> sockets_;
  std::vector<std::uint8_t> buffer_;
  IkeSocketStats stats_;
};

}  // namespace corridor::control
