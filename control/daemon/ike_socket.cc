#include "control/daemon/ike_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log/log.h"

namespace corridor::control {
namespace {

constexpr std::size_t kMaxDatagram = 65535;
constexpr std::size_t kNonEspMarker = 4;  // RFC 3948 §2.2: four zero bytes before an IKE header

std::string endpoint_text(const net::SocketAddress& a) { return a.address.to_string() + "[" + std::to_string(a.port) + "]"; }

net::SocketAddress from_sockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET6) {
    const auto& s6 = reinterpret_cast<const sockaddr_in6&>(ss);
    // An IPv4-mapped peer on the IPv6 socket cannot happen (IPV6_V6ONLY).
    return {net::IpAddress::from_bytes(net::Family::ipv6, s6.sin6_addr.s6_addr), ntohs(s6.sin6_port)};
  }
  const auto& s4 = reinterpret_cast<const sockaddr_in&>(ss);
  return {net::IpAddress::from_bytes(net::Family::ipv4, reinterpret_cast<const std::uint8_t*>(&s4.sin_addr)),
          ntohs(s4.sin_port)};
}

socklen_t to_sockaddr(const net::SocketAddress& a, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.address.is_v4()) {
    auto& s4 = reinterpret_cast<sockaddr_in&>(ss);
    s4.sin_family = AF_INET;
    s4.sin_port = htons(a.port);
    std::memcpy(&s4.sin_addr, a.address.bytes().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto& s6 = reinterpret_cast<sockaddr_in6&>(ss);
  s6.sin6_family = AF_INET6;
  s6.sin6_port = htons(a.port);
  std::memcpy(&s6.sin6_addr, a.address.bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

}  // namespace

IkeSockets::IkeSockets(boost::asio::io_context& io, std::uint16_t port, std::uint16_t nat_t_port, Handler handler)
    : io_(io), port_(port), nat_t_port_(nat_t_port), handler_(std::move(handler)), buffer_(kMaxDatagram) {}

IkeSockets::~IkeSockets() = default;

std::unique_ptr<IkeSockets> IkeSockets::open(boost::asio::io_context& io, std::uint16_t port, std::uint16_t nat_t_port,
                                             Handler handler, std::string* why) {
  std::unique_ptr<IkeSockets> s(new IkeSockets(io, port, nat_t_port, std::move(handler)));
  if (!s->bind(false, port, why) || !s->bind(false, nat_t_port, why)) return nullptr;
  std::string v6_why;
  if (!s->bind(true, port, &v6_why) || !s->bind(true, nat_t_port, &v6_why))
    log::warning("net", "IKE over IPv6 unavailable: " + v6_why);
  for (auto& sock : s->sockets_) s->wait(*sock);
  log::info("net", "IKE listening on UDP " + std::to_string(port) + " and " + std::to_string(nat_t_port) +
                       (s->sockets_.size() == 4 ? " (IPv4 and IPv6)" : " (IPv4)"));
  return s;
}

bool IkeSockets::bind(bool v6, std::uint16_t port, std::string* why) {
  namespace ip = boost::asio::ip;
  auto sock = std::make_unique<Socket>(Socket{ip::udp::socket(io_), port, v6});
  boost::system::error_code ec;
  sock->socket.open(v6 ? ip::udp::v6() : ip::udp::v4(), ec);
  if (!ec && v6) sock->socket.set_option(ip::v6_only(true), ec);
  if (!ec) sock->socket.set_option(ip::udp::socket::reuse_address(true), ec);
  if (ec) {
    if (why) *why = std::string("cannot open a UDP socket: ") + ec.message();
    return false;
  }
  const int fd = sock->socket.native_handle();
  const int on = 1;
  const int rc = v6 ? ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on)
                    : ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  if (rc != 0) {
    if (why) *why = std::string("cannot ask for packet info: ") + std::strerror(errno);
    return false;
  }
  sock->socket.bind(ip::udp::endpoint(v6 ? ip::address(ip::address_v6::any()) : ip::address(ip::address_v4::any()), port),
                    ec);
  if (ec) {
    if (why) *why = "cannot bind UDP port " + std::to_string(port) + (v6 ? " (IPv6)" : " (IPv4)") + ": " + ec.message();
    return false;
  }
  sock->socket.non_blocking(true, ec);
  sockets_.push_back(std::move(sock));
  return true;
}

IkeSockets::Socket* IkeSockets::find(bool v6, std::uint16_t port) {
  for (auto& s : sockets_)
    if (s->v6 == v6 && s->port == port) return s.get();
  return nullptr;
}

void IkeSockets::wait(Socket& s) {
  s.socket.async_wait(boost::asio::ip::udp::socket::wait_read, [this, &s](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: shutting down
    drain(s);
    wait(s);
  });
}

void IkeSockets::drain(Socket& s) {
  const int fd = s.socket.native_handle();
  // A bounded batch per wake-up, so one busy socket cannot starve the loop.
  for (int batch = 0; batch < 64; ++batch) {
    sockaddr_storage from{};
    iovec iov{buffer_.data(), buffer_.size()};
    alignas(cmsghdr) std::uint8_t control[256];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        ++stats_.receive_errors;
        log::warning("net", std::string("recvmsg on UDP ") + std::to_string(s.port) + ": " + std::strerror(errno));
      }
      return;
    }
    net::SocketAddress local{net::IpAddress::any(s.v6 ? net::Family::ipv6 : net::Family::ipv4), s.port};
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        local.address = net::IpAddress::from_bytes(net::Family::ipv4, reinterpret_cast<const std::uint8_t*>(&info.ipi_addr));
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        local.address = net::IpAddress::from_bytes(net::Family::ipv6, info.ipi6_addr.s6_addr);
      }
    }
    const auto remote = from_sockaddr(from);
    std::span<const std::uint8_t> data(buffer_.data(), static_cast<std::size_t>(n));
    ++stats_.received;
    if (s.port == nat_t_port_) {
      if (data.size() == 1 && data[0] == 0xff) {
        ++stats_.keepalives_received;
        continue;
      }
      if (data.size() < kNonEspMarker || data[0] || data[1] || data[2] || data[3]) {
        if (stats_.esp_on_nat_t_port++ == 0)
          log::warning("net", "UDP-encapsulated ESP from " + endpoint_text(remote) +
                                  " reached the control plane: no dataplane is in the path, dropping it (counted)");
        continue;
      }
      data = data.subspan(kNonEspMarker);
    }
    handler_(local, remote, data);
  }
}

void IkeSockets::send_raw(const net::SocketAddress& local, const net::SocketAddress& remote,
                          std::span<const std::uint8_t> bytes) {
  Socket* s = find(!remote.address.is_v4(), local.port);
  if (!s) {
    ++stats_.send_errors;
    log::warning("net", "no socket for " + endpoint_text(local) + " to send to " + endpoint_text(remote));
    return;
  }
  sockaddr_storage to;
  const socklen_t to_len = to_sockaddr(remote, to);
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  alignas(cmsghdr) std::uint8_t control[64]{};
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = to_len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  // Leave from the address the SA uses, not whatever the route prefers.
  if (!local.address.is_unspecified()) {
    msg.msg_control = control;
    if (local.address.is_v4()) {
      msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo info{};
      std::memcpy(&info.ipi_spec_dst, local.address.bytes().data(), 4);
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
    } else {
      msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
      in6_pktinfo info{};
      std::memcpy(&info.ipi6_addr, local.address.bytes().data(), 16);
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
    }
  }
  if (::sendmsg(s->socket.native_handle(), &msg, MSG_DONTWAIT) < 0) {
    ++stats_.send_errors;
    log::warning("net", "sending " + std::to_string(bytes.size()) + " bytes to " + endpoint_text(remote) + " failed: " +
                            std::strerror(errno));
    return;
  }
  ++stats_.sent;
}

void IkeSockets::send(const net::SocketAddress& local, const net::SocketAddress& remote,
                      std::span<const std::uint8_t> datagram) {
  if (local.port != nat_t_port_) return send_raw(local, remote, datagram);
  std::vector<std::uint8_t> marked(kNonEspMarker, 0);
  marked.insert(marked.end(), datagram.begin(), datagram.end());
  send_raw(local, remote, marked);
}

void IkeSockets::send_nat_keepalive(const net::SocketAddress& local, const net::SocketAddress& remote) {
  static constexpr std::uint8_t kKeepalive[1] = {0xff};
  send_raw(local, remote, kKeepalive);
  ++stats_.keepalives_sent;
}

std::optional<net::IpAddress> IkeSockets::source_for(const net::IpAddress& remote) {
  // connect() on a UDP socket sends nothing; it only asks the kernel for
  // the route, whose source address getsockname() then reports.
  const int fd = ::socket(remote.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_storage to;
  const socklen_t len = to_sockaddr({remote, port_}, to);
  std::optional<net::IpAddress> out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), len) == 0) {
    sockaddr_storage me{};
    socklen_t me_len = sizeof me;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &me_len) == 0) out = from_sockaddr(me).address;
  }
  ::close(fd);
  return out;
}

}  // namespace corridor::control
