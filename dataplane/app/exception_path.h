// The exception path (docs/dataplane.md, "Traffic for the gateway itself"):
// a kernel TAP interface, DPDK's net_tap, that carries the gateway's
// addresses. Frames the forwarder hands the main lcore for the gateway's
// own addresses (IKE on UDP 500, UDP 4500 with the non-ESP marker, ICMP,
// management) go into the TAP, addressed to the kernel's MAC; whatever the
// kernel sends out of the TAP is routed by the dataplane with its own
// tables. So corridor-control, sshd and ping run on ordinary sockets
// behind the dataplane.
//
//   port --> forwarder --exception ring--> main lcore --> TAP --> kernel
//   kernel --> TAP --> main lcore: ARP/ND answered (proxy_neighbor.h),
//                                  IP -> Forwarder::send_from_gateway -> port
//
// The kernel side is configured once at start through rtnetlink
// (dataplane/net/netlink.h): link up, MTU, every port address with its
// prefix length, a device route per static route prefix. It all goes away
// with the TAP when the process ends. Main lcore only.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/config/model.h"
#include "dataplane/app/main_counters.h"
#include "dataplane/forward/forwarder.h"
#include "dataplane/net/ethernet.h"

struct rte_mbuf;
struct rte_mempool;

namespace corridor::dataplane::app {

class ExceptionPath {
 public:
  // Starts the TAP device EAL created (config::kExceptionTapDevice) with
  // one RX and one TX queue from `pool` and configures its kernel side for
  // `ports` (started, with their addresses) and the config's routes.
  // nullptr with `error` saying what failed.
  static std::unique_ptr<ExceptionPath> start(const config::DataplaneConfig& config,
                                              const std::vector<forward::Port>& ports, rte_mempool* pool,
                                              MainCounters& counters, std::string* error);
  ~ExceptionPath();
  ExceptionPath(const ExceptionPath&) = delete;
  ExceptionPath& operator=(const ExceptionPath&) = delete;

  // A frame for the gateway from a port (Ethernet header on, not ARP): into
  // the TAP, addressed to the kernel. Counted as to_kernel.
  void to_kernel(rte_mbuf* frame);
  // Reads one burst of what the kernel sent: answers its ARP and neighbor
  // solicitations, routes its IP packets through `forwarder`. Returns the
  // frames read.
  unsigned poll(forward::Forwarder& forwarder);
  // Writes what is buffered for the kernel into the TAP.
  void flush();

  const std::string& name() const { return name_; }
  int ifindex() const { return ifindex_; }
  std::uint16_t port_id() const { return port_id_; }
  std::uint32_t mtu() const { return mtu_; }
  const net::MacAddress& kernel_mac() const { return kernel_mac_; }

 private:
  ExceptionPath(std::uint16_t port_id, MainCounters& counters) : port_id_(port_id), counters_(counters) {}
  bool configure_kernel(const config::DataplaneConfig& config, const std::vector<forward::Port>& ports,
                        std::string* error);
  void to_tap(rte_mbuf* frame);

  std::uint16_t port_id_;
  MainCounters& counters_;
  bool started_ = false;
  int ifindex_ = 0;
  std::string name_;
  std::uint32_t mtu_ = 0;
  // The kernel's MAC on the TAP: read at start, then taken from what the
  // kernel sends, so an operator's `ip link set ... address` is followed.
  net::MacAddress kernel_mac_;
  std::array<rte_mbuf*, 32> tx_{};
  std::uint16_t tx_count_ = 0;
};

}  // namespace corridor::dataplane::app
