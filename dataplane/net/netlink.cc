#include "dataplane/net/netlink.h"

#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace corridor::dataplane::net::netlink {
namespace {

// How long the kernel may take to answer one request.
constexpr int kReplyTimeoutSeconds = 2;
// An RTM_NEWLINK answer carries every statistic of the link: a few KiB.
constexpr std::size_t kReplyBuffer = 64 * 1024;

// A request under construction: the netlink header, the family header
// `H`, then attributes, each padded to 4 bytes (NLMSG_ALIGN / RTA_ALIGN).
template <typename H>
class Builder {
 public:
  Builder(std::uint16_t type, std::uint16_t flags, std::uint32_t seq, const H& header) {
    nlmsghdr n{};
    n.nlmsg_type = type;
    n.nlmsg_flags = flags;
    n.nlmsg_seq = seq;
    append(&n, sizeof n);
    append(&header, sizeof header);
  }
  void attribute(std::uint16_t type, const void* data, std::size_t len) {
    rtattr a{};
    a.rta_type = type;
    a.rta_len = static_cast<std::uint16_t>(RTA_LENGTH(len));
    append(&a, sizeof a);
    append(data, len);
  }
  void u32(std::uint16_t type, std::uint32_t v) { attribute(type, &v, sizeof v); }
  Message finish() {
    auto* n = reinterpret_cast<nlmsghdr*>(buf_.data());
    n->nlmsg_len = static_cast<std::uint32_t>(buf_.size());
    return std::move(buf_);
  }

 private:
  void append(const void* data, std::size_t len) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    buf_.insert(buf_.end(), p, p + len);
    buf_.resize(NLMSG_ALIGN(buf_.size()), 0);
  }
  Message buf_;
};

std::uint8_t family_of(const corridor::net::Prefix& p) { return p.address.is_v4() ? AF_INET : AF_INET6; }

// The netlink messages in one datagram, stopping at the first that does
// not fit (NLMSG_OK).
template <typename Visit>
void for_each_message(std::span<const std::uint8_t> reply, Visit&& visit) {
  std::size_t at = 0;
  while (reply.size() - at >= sizeof(nlmsghdr)) {
    nlmsghdr n;
    std::memcpy(&n, reply.data() + at, sizeof n);
    if (n.nlmsg_len < sizeof n || n.nlmsg_len > reply.size() - at) return;
    if (!visit(n, reply.subspan(at + sizeof n, n.nlmsg_len - sizeof n))) return;
    at += NLMSG_ALIGN(n.nlmsg_len);
  }
}

std::string errno_text(int e) { return std::strerror(e); }

// The attributes in `data` (after a family header), each as (type without
// the nested/byte-order flags, payload); false when one does not fit.
template <typename Visit>
bool for_each_attribute(std::span<const std::uint8_t> data, Visit&& visit) {
  std::size_t at = 0;
  while (at + sizeof(rtattr) <= data.size()) {
    rtattr a;
    std::memcpy(&a, data.data() + at, sizeof a);
    if (a.rta_len < sizeof a || a.rta_len > data.size() - at) return false;
    visit(static_cast<std::uint16_t>(a.rta_type & NLA_TYPE_MASK), data.subspan(at + RTA_LENGTH(0), a.rta_len - RTA_LENGTH(0)));
    at += RTA_ALIGN(a.rta_len);
  }
  return true;
}

}  // namespace

Message set_link_message(std::uint32_t seq, int ifindex, bool up, std::uint32_t mtu) {
  ifinfomsg i{};
  i.ifi_family = AF_UNSPEC;
  i.ifi_index = ifindex;
  i.ifi_flags = up ? IFF_UP : 0;
  i.ifi_change = IFF_UP;  // only this flag changes
  Builder<ifinfomsg> b(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, i);
  b.u32(IFLA_MTU, mtu);
  return b.finish();
}

Message add_address_message(std::uint32_t seq, int ifindex, const corridor::net::Prefix& address) {
  ifaddrmsg a{};
  a.ifa_family = family_of(address);
  a.ifa_prefixlen = address.length;
  a.ifa_flags = address.address.is_v4() ? 0 : IFA_F_NODAD;
  a.ifa_scope = RT_SCOPE_UNIVERSE;
  a.ifa_index = static_cast<std::uint32_t>(ifindex);
  Builder<ifaddrmsg> b(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq, a);
  const auto len = address.address.byte_length();
  b.attribute(IFA_LOCAL, address.address.bytes().data(), len);
  b.attribute(IFA_ADDRESS, address.address.bytes().data(), len);
  return b.finish();
}

Message add_route_message(std::uint32_t seq, int ifindex, const corridor::net::Prefix& destination,
                          const std::optional<corridor::net::IpAddress>& source) {
  rtmsg r{};
  r.rtm_family = family_of(destination);
  r.rtm_dst_len = destination.length;
  r.rtm_table = RT_TABLE_MAIN;
  r.rtm_protocol = RTPROT_STATIC;
  // IPv6 has no link scope for routes; IPv4 device routes are scope link.
  r.rtm_scope = destination.address.is_v4() ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  r.rtm_type = RTN_UNICAST;
  Builder<rtmsg> b(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq, r);
  if (destination.length > 0) {
    const auto network = destination.network();
    b.attribute(RTA_DST, network.address.bytes().data(), network.address.byte_length());
  }
  b.u32(RTA_OIF, static_cast<std::uint32_t>(ifindex));
  if (source) b.attribute(RTA_PREFSRC, source->bytes().data(), source->byte_length());
  return b.finish();
}

Message get_link_message(std::uint32_t seq, int ifindex) {
  ifinfomsg i{};
  i.ifi_family = AF_UNSPEC;
  i.ifi_index = ifindex;
  return Builder<ifinfomsg>(RTM_GETLINK, NLM_F_REQUEST, seq, i).finish();
}

std::optional<int> ack_error(std::span<const std::uint8_t> reply, std::uint32_t seq) {
  std::optional<int> result;
  for_each_message(reply, [&](const nlmsghdr& n, std::span<const std::uint8_t> body) {
    if (n.nlmsg_type != NLMSG_ERROR || n.nlmsg_seq != seq) return true;
    if (body.size() < sizeof(nlmsgerr)) return false;
    nlmsgerr e;
    std::memcpy(&e, body.data(), sizeof e);
    result = -e.error;  // 0 acknowledges, a negative errno refuses
    return false;
  });
  return result;
}

std::optional<LinkInfo> parse_link(std::span<const std::uint8_t> reply, std::uint32_t seq) {
  std::optional<LinkInfo> result;
  for_each_message(reply, [&](const nlmsghdr& n, std::span<const std::uint8_t> body) {
    if (n.nlmsg_type != RTM_NEWLINK || n.nlmsg_seq != seq) return true;
    if (body.size() < sizeof(ifinfomsg)) return false;
    ifinfomsg i;
    std::memcpy(&i, body.data(), sizeof i);
    LinkInfo link;
    link.ifindex = i.ifi_index;
    link.up = (i.ifi_flags & IFF_UP) != 0;
    bool have_mac = false, have_name = false, nested_ok = true;
    const auto text = [](std::span<const std::uint8_t> d) {
      return std::string(reinterpret_cast<const char*>(d.data()), strnlen(reinterpret_cast<const char*>(d.data()), d.size()));
    };
    const auto tun_data = [&](std::uint16_t type, std::span<const std::uint8_t> d) {
      if (type == IFLA_TUN_PERSIST && d.size() == 1) link.tun_persist = d[0] != 0;
      if (type == IFLA_TUN_NUM_QUEUES && d.size() == 4) {
        std::uint32_t q;
        std::memcpy(&q, d.data(), 4);
        link.tun_queues = q;
      }
    };
    const auto link_info = [&](std::uint16_t type, std::span<const std::uint8_t> d) {
      if (type == IFLA_INFO_KIND) link.kind = text(d);
      if (type == IFLA_INFO_DATA) nested_ok = for_each_attribute(d, tun_data) && nested_ok;
    };
    const bool ok = for_each_attribute(body.subspan(NLMSG_ALIGN(sizeof i)), [&](std::uint16_t type, std::span<const std::uint8_t> d) {
      switch (type) {
        case IFLA_ADDRESS:
          if (d.size() == 6) {
            std::memcpy(link.mac.bytes.data(), d.data(), 6);
            have_mac = true;
          }
          break;
        case IFLA_IFNAME:
          link.name = text(d);
          have_name = true;
          break;
        case IFLA_MTU:
          if (d.size() == 4) std::memcpy(&link.mtu, d.data(), 4);
          break;
        case IFLA_LINKINFO: nested_ok = for_each_attribute(d, link_info) && nested_ok; break;
        default: break;
      }
    });
    // IFLA_INFO_DATA is another kind's for other devices; only tun's is read.
    if (link.kind != "tun") link.tun_persist.reset(), link.tun_queues.reset();
    if (ok && nested_ok && have_mac && have_name) result = link;
    return false;
  });
  return result;
}

bool ensure_tx_checksum_off(const std::string& name, bool* was_on, std::string* error) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    *error = "not an interface name: '" + name + "'";
    return false;
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = "cannot open a socket for ethtool: " + errno_text(errno);
    return false;
  }
  int err = 0;
  const auto call = [&](std::uint32_t cmd, std::uint32_t* value) {
    ethtool_value v{};
    v.cmd = cmd;
    v.data = *value;
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.c_str(), name.size());
    ifr.ifr_data = reinterpret_cast<char*>(&v);
    if (::ioctl(fd, SIOCETHTOOL, &ifr) != 0) {
      err = errno;
      return false;
    }
    *value = v.data;
    return true;
  };
  std::uint32_t on = 0;
  bool ok = call(ETHTOOL_GTXCSUM, &on);
  *was_on = ok && on != 0;
  if (ok && on != 0) {
    std::uint32_t off = 0;
    ok = call(ETHTOOL_STXCSUM, &off) && call(ETHTOOL_GTXCSUM, &on) && on == 0;
  }
  if (!ok) *error = name + ": cannot " + (*was_on ? "turn TX checksum offload off" : "read TX checksum offload") +
                    (err != 0 ? ": " + errno_text(err) : std::string(": it stays on"));
  ::close(fd);
  return ok;
}

std::optional<Socket> Socket::open(std::string* error) {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    *error = "cannot open an rtnetlink socket: " + errno_text(errno);
    return std::nullopt;
  }
  timeval timeout{kReplyTimeoutSeconds, 0};
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;  // nl_pid 0: the kernel assigns one
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    *error = "cannot set up the rtnetlink socket: " + errno_text(errno);
    ::close(fd);
    return std::nullopt;
  }
  return Socket(fd);
}

Socket::Socket(Socket&& other) noexcept : fd_(other.fd_), seq_(other.seq_) { other.fd_ = -1; }

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    seq_ = other.seq_;
    other.fd_ = -1;
  }
  return *this;
}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

bool Socket::exchange(const Message& request, std::uint32_t seq, std::vector<std::uint8_t>* reply,
                      std::string* error) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) !=
      static_cast<ssize_t>(request.size())) {
    *error = "rtnetlink send failed: " + errno_text(errno);
    return false;
  }
  reply->resize(kReplyBuffer);
  // Skip anything that is not for this request (a late answer to an
  // earlier one that timed out).
  for (;;) {
    sockaddr_nl from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(fd_, reply->data(), reply->size(), MSG_TRUNC, reinterpret_cast<sockaddr*>(&from),
                                 &from_len);
    if (n < 0) {
      *error = errno == EAGAIN || errno == EWOULDBLOCK ? std::string("the kernel did not answer an rtnetlink request")
                                                       : "rtnetlink receive failed: " + errno_text(errno);
      return false;
    }
    if (static_cast<std::size_t>(n) > reply->size()) {
      *error = "rtnetlink answer larger than " + std::to_string(reply->size()) + " bytes";
      return false;
    }
    if (from.nl_pid != 0 || static_cast<std::size_t>(n) < sizeof(nlmsghdr)) continue;  // not from the kernel
    nlmsghdr first;
    std::memcpy(&first, reply->data(), sizeof first);
    if (first.nlmsg_seq != seq) continue;
    reply->resize(static_cast<std::size_t>(n));
    return true;
  }
}

int Socket::request(const Message& message, std::uint32_t seq, std::string* error) {
  std::vector<std::uint8_t> reply;
  if (!exchange(message, seq, &reply, error)) return -1;
  const auto e = ack_error(reply, seq);
  if (!e) {
    *error = "the kernel's rtnetlink answer holds no acknowledgement";
    return -1;
  }
  return *e;
}

bool Socket::set_link(int ifindex, bool up, std::uint32_t mtu, std::string* error) {
  const std::uint32_t seq = ++seq_;
  const int e = request(set_link_message(seq, ifindex, up, mtu), seq, error);
  if (e > 0) *error = "cannot set the link " + std::string(up ? "up" : "down") + " with MTU " + std::to_string(mtu) +
                      ": " + errno_text(e);
  return e == 0;
}

Socket::Result Socket::add_address(int ifindex, const corridor::net::Prefix& address, std::string* error) {
  const std::uint32_t seq = ++seq_;
  const int e = request(add_address_message(seq, ifindex, address), seq, error);
  if (e == 0) return Result::done;
  if (e == EEXIST) return Result::exists;
  if (e > 0) *error = "cannot add address " + address.to_string() + ": " + errno_text(e);
  return Result::failed;
}

Socket::Result Socket::add_route(int ifindex, const corridor::net::Prefix& destination,
                                 const std::optional<corridor::net::IpAddress>& source, std::string* error) {
  const std::uint32_t seq = ++seq_;
  const int e = request(add_route_message(seq, ifindex, destination, source), seq, error);
  if (e == 0) return Result::done;
  if (e == EEXIST) return Result::exists;
  if (e > 0) *error = "cannot add route " + destination.to_string() + ": " + errno_text(e);
  return Result::failed;
}

std::optional<LinkInfo> Socket::get_link(int ifindex, std::string* error) {
  const std::uint32_t seq = ++seq_;
  std::vector<std::uint8_t> reply;
  if (!exchange(get_link_message(seq, ifindex), seq, &reply, error)) return std::nullopt;
  if (auto link = parse_link(reply, seq)) return link;
  const auto e = ack_error(reply, seq);
  *error = "cannot read link " + std::to_string(ifindex) + ": " +
           (e && *e != 0 ? errno_text(*e) : std::string("no link in the kernel's answer"));
  return std::nullopt;
}

}  // namespace corridor::dataplane::net::netlink
