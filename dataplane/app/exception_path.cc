#include "dataplane/app/exception_path.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "common/log/log.h"
#include "dataplane/ipsec/ip.h"
#include "dataplane/net/netlink.h"
#include "dataplane/net/proxy_neighbor.h"

namespace corridor::dataplane::app {
namespace {

// The kernel sends little (IKE, ICMP, management): a small burst per round
// of the main loop keeps the forwarding rounds short.
constexpr std::uint16_t kTapBurst = 16;
constexpr std::uint16_t kTapDescriptors = 256;

std::string failed(const char* what, int rc) {
  return std::string(what) + " failed on " + std::string(config::kExceptionTapDevice) + ": " +
         rte_strerror(rc < 0 ? -rc : rc);
}

}  // namespace

std::unique_ptr<ExceptionPath> ExceptionPath::start(const config::DataplaneConfig& config,
                                                    const std::vector<forward::Port>& ports, rte_mempool* pool,
                                                    MainCounters& counters, std::string* error) {
  const std::string device(config::kExceptionTapDevice);
  std::uint16_t id = 0;
  if (rte_eth_dev_get_port_by_name(device.c_str(), &id) != 0) {
    *error = "no DPDK device " + device +
             ": EAL did not create the TAP (see its messages above: /dev/net/tun missing, no CAP_NET_ADMIN, or an "
             "interface of that name that is not a TAP)";
    return nullptr;
  }
  std::unique_ptr<ExceptionPath> path(new ExceptionPath(id, counters));
  rte_eth_dev_info info{};
  if (const int rc = rte_eth_dev_info_get(id, &info); rc != 0) {
    *error = failed("rte_eth_dev_info_get", rc);
    return nullptr;
  }
  if (std::strcmp(info.driver_name, "net_tap") != 0 || info.if_index == 0) {
    *error = device + " is a " + info.driver_name + " device, not a TAP with a kernel interface";
    return nullptr;
  }
  path->ifindex_ = static_cast<int>(info.if_index);
  rte_eth_conf conf{};
  if (const int rc = rte_eth_dev_configure(id, 1, 1, &conf); rc != 0) {
    *error = failed("rte_eth_dev_configure", rc);
    return nullptr;
  }
  std::uint16_t rxd = kTapDescriptors, txd = kTapDescriptors;
  if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd); rc != 0) {
    *error = failed("rte_eth_dev_adjust_nb_rx_tx_desc", rc);
    return nullptr;
  }
  const int socket = rte_eth_dev_socket_id(id);
  if (const int rc = rte_eth_rx_queue_setup(id, 0, rxd, socket, nullptr, pool); rc != 0) {
    *error = failed("rte_eth_rx_queue_setup", rc);
    return nullptr;
  }
  if (const int rc = rte_eth_tx_queue_setup(id, 0, txd, socket, nullptr); rc != 0) {
    *error = failed("rte_eth_tx_queue_setup", rc);
    return nullptr;
  }
  if (const int rc = rte_eth_dev_start(id); rc != 0) {
    *error = failed("rte_eth_dev_start", rc);
    return nullptr;
  }
  path->started_ = true;
  // Whatever the kernel sends, the TAP passes; nothing to filter.

  // The largest packet the kernel may send: what every port takes (the
  // forwarder drops larger ones as mtu_exceeded) and what one mbuf of the
  // pool holds with its Ethernet header (the forwarder takes no chains).
  std::uint32_t mtu = 0xffff;
  for (const auto& p : ports) mtu = std::min<std::uint32_t>(mtu, p.mtu);
  const std::uint32_t room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM - net::kEtherHeaderLen;
  if (room < mtu) {
    log::warning("exc", "exception interface MTU " + std::to_string(room) + " instead of " + std::to_string(mtu) +
                            ": the largest frame one mbuf holds");
    mtu = room;
  }
  path->mtu_ = mtu;
  if (!path->configure_kernel(config, ports, error)) return nullptr;
  return path;
}

bool ExceptionPath::configure_kernel(const config::DataplaneConfig& config, const std::vector<forward::Port>& ports,
                                     std::string* error) {
  std::string why;
  auto nl = net::netlink::Socket::open(&why);
  if (!nl) {
    *error = why;
    return false;
  }
  const auto link = nl->get_link(ifindex_, &why);
  if (!link) {
    *error = why;
    return false;
  }
  name_ = link->name;
  kernel_mac_ = link->mac;
  const std::string where = "exception interface " + name_ + ": ";
  // net_tap attaches to a TAP of that name if one exists (a persistent
  // one, or another corridor-dataplane's in this namespace) instead of
  // creating its own: the kernel would then hand our frames to someone else.
  if (link->kind != "tun" || link->tun_persist.value_or(false) || link->tun_queues.value_or(1) != 1) {
    *error = where + "the interface existed before this process (" +
             (link->kind != "tun" ? "not a TAP"
              : link->tun_persist.value_or(false)
                  ? "a persistent TAP"
                  : std::to_string(link->tun_queues.value_or(0)) + " queues attached: another process's TAP") +
             "); corridor-dataplane needs a TAP of its own: choose another dataplane.exception_interface";
    return false;
  }
  bool offload_was_on = false;
  if (!net::netlink::ensure_tx_checksum_off(name_, &offload_was_on, &why)) {
    *error = where + why;
    return false;
  }
  if (offload_was_on) log::info("exc", where + "TX checksum offload turned off: the kernel completes its checksums");
  if (!nl->set_link(ifindex_, true, mtu_, &why)) {
    *error = where + why;
    return false;
  }
  std::string addresses;
  for (const auto& port : ports) {
    for (const auto& a : port.addresses) {
      switch (nl->add_address(ifindex_, a, &why)) {
        case net::netlink::Socket::Result::done: break;
        case net::netlink::Socket::Result::exists:  // on a TAP created a moment ago: someone else's doing
          *error = where + a.to_string() + " is on the interface already";
          return false;
        case net::netlink::Socket::Result::failed: *error = where + why; return false;
      }
      addresses += (addresses.empty() ? "" : ", ") + a.to_string();
    }
  }
  // The static routes' prefixes: the kernel's traffic to them goes into
  // the TAP too, from the address of the port the route leaves by (as the
  // kernel of a router picks its outgoing interface's address).
  std::string routes;
  for (const auto& r : config.routes) {
    std::optional<corridor::net::IpAddress> source;
    for (const auto& port : ports)
      if (port.name == r.port)
        for (const auto& a : port.addresses)
          if (a.address.family() == r.prefix.address.family()) source = a.address;
    switch (nl->add_route(ifindex_, r.prefix, source, &why)) {
      case net::netlink::Socket::Result::done: routes += (routes.empty() ? "" : ", ") + r.prefix.to_string(); break;
      case net::netlink::Socket::Result::exists:
        // The operator's own route (a management default route, say) wins:
        // nothing is removed.
        log::warning("exc", where + "the kernel already has a route to " + r.prefix.to_string() +
                                ": kept; the kernel's own traffic to it does not go through the dataplane");
        break;
      case net::netlink::Socket::Result::failed: *error = where + why; return false;
    }
  }
  log::info("exc", where + "ifindex " + std::to_string(ifindex_) + ", kernel MAC " + kernel_mac_.to_string() +
                       ", dataplane MAC " + net::kExceptionLinkMac.to_string() + ", MTU " + std::to_string(mtu_) +
                       ", addresses " + (addresses.empty() ? "none" : addresses) + ", routes " +
                       (routes.empty() ? "none" : routes));
  return true;
}

ExceptionPath::~ExceptionPath() {
  for (std::uint16_t i = 0; i < tx_count_; ++i) rte_pktmbuf_free(tx_[i]);
  if (started_) {
    if (const int rc = rte_eth_dev_stop(port_id_); rc != 0)
      log::warning("exc", "stopping " + std::string(config::kExceptionTapDevice) + " failed: " + rte_strerror(-rc));
  }
  rte_eth_dev_close(port_id_);  // the kernel interface, its addresses and routes go with it
}

void ExceptionPath::to_kernel(rte_mbuf* frame) {
  auto* eth = rte_pktmbuf_mtod(frame, std::uint8_t*);
  // The kernel takes frames for its own MAC (others it sees as another
  // host's); the source is the MAC its ARP and ND learnt for everything.
  std::memcpy(eth, kernel_mac_.bytes.data(), 6);
  std::memcpy(eth + 6, net::kExceptionLinkMac.bytes.data(), 6);
  ++counters_.to_kernel;
  to_tap(frame);
}

void ExceptionPath::to_tap(rte_mbuf* frame) {
  tx_[tx_count_++] = frame;
  if (tx_count_ == tx_.size()) flush();
}

void ExceptionPath::flush() {
  if (tx_count_ == 0) return;
  const std::uint16_t sent = rte_eth_tx_burst(port_id_, 0, tx_.data(), tx_count_);
  counters_.kernel_tx_failed += tx_count_ - sent;
  for (std::uint16_t i = sent; i < tx_count_; ++i) rte_pktmbuf_free(tx_[i]);
  tx_count_ = 0;
}

unsigned ExceptionPath::poll(forward::Forwarder& forwarder) {
  std::array<rte_mbuf*, kTapBurst> frames;
  const std::uint16_t n = rte_eth_rx_burst(port_id_, 0, frames.data(), kTapBurst);
  std::array<rte_mbuf*, kTapBurst> ip;
  std::uint16_t k = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = frames[i];
    ++counters_.from_kernel;
    if (m->nb_segs != 1 || m->data_len < net::kEtherHeaderLen) {
      ++counters_.kernel_unsupported;
      rte_pktmbuf_free(m);
      continue;
    }
    const auto* eth = rte_pktmbuf_mtod(m, const std::uint8_t*);
    if ((eth[6] & 1) == 0 && std::memcmp(eth + 6, "\0\0\0\0\0\0", 6) != 0) std::memcpy(kernel_mac_.bytes.data(), eth + 6, 6);
    const std::uint16_t type = ipsec::load_be16(eth + 12);
    net::ProxyResult answered = net::ProxyResult::malformed;
    std::uint64_t* answered_counter = nullptr;
    if (type == net::kEtherTypeArp) {
      answered = net::proxy_arp(m, net::kExceptionLinkMac);
      answered_counter = &counters_.kernel_arp_answered;
    } else if (type == net::kEtherTypeIpv6 && net::is_neighbor_solicitation(m)) {
      answered = net::proxy_neighbor_solicitation(m, net::kExceptionLinkMac);
      answered_counter = &counters_.kernel_nd_answered;
    } else if (type == net::kEtherTypeIpv4 || type == net::kEtherTypeIpv6) {
      if (eth[0] & 1) {  // router solicitations, MLD and IGMP reports, broadcasts
        ++counters_.kernel_link_local;
        rte_pktmbuf_free(m);
        continue;
      }
      ++counters_.kernel_ip;
      rte_pktmbuf_adj(m, net::kEtherHeaderLen);
      ip[k++] = m;
      continue;
    } else {
      ++counters_.kernel_unsupported;
      rte_pktmbuf_free(m);
      continue;
    }
    switch (answered) {
      case net::ProxyResult::reply:
        ++*answered_counter;
        to_tap(m);
        break;
      case net::ProxyResult::ignored:
        ++counters_.kernel_ignored;
        rte_pktmbuf_free(m);
        break;
      case net::ProxyResult::malformed:
        ++counters_.kernel_unsupported;
        rte_pktmbuf_free(m);
        break;
    }
  }
  if (k > 0) forwarder.send_from_gateway(ip.data(), k);
  return n;
}

}  // namespace corridor::dataplane::app
