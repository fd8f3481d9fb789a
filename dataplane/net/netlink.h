// A small rtnetlink client (RFC 3549, rtnetlink(7)) for the kernel side of
// the exception interface: bring the TAP up with an MTU, put the gateway's
// addresses on it, add device routes through it, read its name and MAC.
// It only ever adds, and only to the link it is given: what it adds goes
// away with the TAP when the process ends, and it removes nothing.
//
// The message builders are pure functions (unit-tested byte for byte); the
// Socket sends one request at a time and waits for the kernel's answer.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/net/address.h"
#include "dataplane/net/ethernet.h"

namespace corridor::dataplane::net::netlink {

using Message = std::vector<std::uint8_t>;

// RTM_NEWLINK on an existing link: IFF_UP set (or cleared) and IFLA_MTU.
Message set_link_message(std::uint32_t seq, int ifindex, bool up, std::uint32_t mtu);
// RTM_NEWADDR, create-exclusive: `address` with its prefix length on the
// link. IPv6 addresses are added without duplicate address detection
// (IFA_F_NODAD): the link is the dataplane's alone, and a tentative address
// could not be used for a second or so.
Message add_address_message(std::uint32_t seq, int ifindex, const corridor::net::Prefix& address);
// RTM_NEWROUTE, create-exclusive, main table, proto static: `destination`
// straight out of the link (scope link for IPv4), no gateway: the kernel
// resolves every destination on the link, and the dataplane answers.
// `source` (RTA_PREFSRC), when given, is the address the kernel's own
// packets on the route come from.
Message add_route_message(std::uint32_t seq, int ifindex, const corridor::net::Prefix& destination,
                          const std::optional<corridor::net::IpAddress>& source = std::nullopt);
// RTM_GETLINK for one link.
Message get_link_message(std::uint32_t seq, int ifindex);

// The kernel's answer to request `seq` in `reply` (one datagram): 0 for an
// acknowledgement, the positive errno of an error, nullopt when the
// datagram holds no NLMSG_ERROR for `seq` or does not parse.
std::optional<int> ack_error(std::span<const std::uint8_t> reply, std::uint32_t seq);

struct LinkInfo {
  int ifindex = 0;
  std::string name;
  MacAddress mac;
  std::uint32_t mtu = 0;
  bool up = false;
  std::string kind;  // IFLA_INFO_KIND: "tun" for a TAP, "veth", ...; empty for none
  // A tun/tap device's IFLA_INFO_DATA (Linux 4.15 and later).
  std::optional<bool> tun_persist;
  std::optional<std::uint32_t> tun_queues;  // file descriptors attached and enabled
};
// The RTM_NEWLINK answer to a get_link_message(seq, ...), or nullopt.
std::optional<LinkInfo> parse_link(std::span<const std::uint8_t> reply, std::uint32_t seq);

// The kernel hands a TAP its packets with complete checksums unless the
// TAP's owner enabled checksum offload (TUNSETOFFLOAD): then a packet may
// come with only the pseudo-header sum in its checksum field, for "the
// hardware" to finish, and would leave the ports like that. net_tap 22.11
// does not enable it; this checks (ETHTOOL_GTXCSUM) and, were it on, turns
// it off (ETHTOOL_STXCSUM) for interface `name`. `was_on` says which.
// False with `error` when the ioctl fails.
bool ensure_tx_checksum_off(const std::string& name, bool* was_on, std::string* error);

class Socket {
 public:
  // An rtnetlink socket in the process's network namespace; nullopt with
  // `error` set when the kernel refuses one.
  static std::optional<Socket> open(std::string* error);
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();

  enum class Result : std::uint8_t { done, exists, failed };

  bool set_link(int ifindex, bool up, std::uint32_t mtu, std::string* error);
  // `exists` (EEXIST) is not an error for the caller to decide on.
  Result add_address(int ifindex, const corridor::net::Prefix& address, std::string* error);
  Result add_route(int ifindex, const corridor::net::Prefix& destination,
                   const std::optional<corridor::net::IpAddress>& source, std::string* error);
  std::optional<LinkInfo> get_link(int ifindex, std::string* error);

 private:
  explicit Socket(int fd) : fd_(fd) {}
  // Sends `request` (its sequence number already in it) and receives the
  // datagram that answers it; false with `error` on a socket failure.
  bool exchange(const Message& request, std::uint32_t seq, std::vector<std::uint8_t>* reply, std::string* error);
  // exchange() + ack_error(): 0 or the errno; -1 with `error` when nothing usable came back.
  int request(const Message& request, std::uint32_t seq, std::string* error);

  int fd_ = -1;
  std::uint32_t seq_ = 0;
};

}  // namespace corridor::dataplane::net::netlink
