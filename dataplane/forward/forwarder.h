// One forwarding lcore's run-to-completion loop body: receive a burst on
// each port, classify, protect or decapsulate through the packet engine,
// route, resolve the next hop, transmit (docs/dataplane.md).
//
//   protected port:   Ethernet -> IP -> SPD (outbound) -> protect: ESP/AH engine
//                                                      -> bypass: as is
//                     -> route (outer destination) -> neighbor -> TX
//   unprotected port: Ethernet -> IP -> for the gateway: [reassembly] ESP/AH/ESP-in-UDP -> SAD -> engine
//                                                        IKE, ICMP, ... -> main lcore
//                                     not for it: SPD (inbound bypass) or discard
//                     -> route (inner destination) -> neighbor -> TX
//   ARP on any port -> main lcore.
//
// Everything a forwarder reads but does not own is in ForwardingPlane and
// maintained by the main lcore (RCU for what changes while running).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "common/net/address.h"
#include "dataplane/forward/acquires.h"
#include "dataplane/forward/counters.h"
#include "dataplane/forward/reassembly.h"
#include "dataplane/forward/sa_tables.h"
#include "dataplane/ipsec/worker.h"
#include "dataplane/net/ethernet.h"
#include "dataplane/net/neighbors.h"
#include "dataplane/net/routes.h"

struct rte_mbuf;
struct rte_ring;

namespace corridor::dataplane::forward {

struct Port {
  std::uint16_t index = 0;    // position in ForwardingPlane::ports
  std::uint16_t port_id = 0;  // DPDK ethdev id
  bool protected_side = true;
  net::MacAddress mac;
  std::uint16_t mtu = 1500;
  std::vector<corridor::net::Prefix> addresses;  // the gateway's own, with their subnets
  std::string name;
};

struct ForwardingPlane {
  std::vector<Port> ports;
  SaTables* sas = nullptr;
  net::RouteTable* routes = nullptr;
  net::NeighborTable* neighbors = nullptr;
  // Frames for the main lcore (ARP, traffic addressed to the gateway): the
  // mbuf's `port` field says which port (index) it came in on.
  rte_ring* exception = nullptr;

  // Whether `dst` (4 or 16 bytes) is one of the gateway's own addresses.
  bool is_local(bool v6, const std::uint8_t* dst) const;
};

class Forwarder {
 public:
  // `rx_queue`/`tx_queue`: this lcore's queues on every port.
  Forwarder(const ForwardingPlane& plane, crypto::Backend& backend, std::uint16_t rx_queue, std::uint16_t tx_queue);
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;
  ~Forwarder();  // frees the packets still held for a neighbour

  // One round over every port (and the packets held for a neighbour).
  // Returns the frames received.
  unsigned poll();

  // Sends a frame (Ethernet header included) out of port `index` through
  // this lcore's TX queue, counted like forwarded traffic. For the main
  // lcore's replies when it forwards too.
  void send_frame(std::uint16_t index, rte_mbuf* frame);
  // Routes an IP packet (no Ethernet header) and sends it. A packet whose
  // IPv4 next hop's MAC is not known yet waits (a few, kHoldSeconds at
  // most) while the main lcore asks for it: a host's first packets to a
  // neighbour -- the first IKE message after a start, whose loss would cost
  // a 4 s retransmission, the first ping -- are sent, not dropped.
  void send_ip(rte_mbuf* packet);
  // Packets the gateway itself sends (the kernel's, from the exception
  // interface; no Ethernet header). They are not forwarded: no TTL
  // decrement. IKE (UDP from port 500 or 4500) leaves as it is, whatever
  // the policies say, as the IKE daemon's bypass on a kernel IPsec stack
  // does. Everything else meets the outbound SPD: protect -> the SA, so that
  // the gateway's own traffic to a protected subnet never leaves in the
  // clear; discard -> dropped; bypass or no policy -> in the clear (the
  // gateway's ICMP and management need none). Bad IP headers are dropped.
  void send_from_gateway(rte_mbuf** packets, std::uint16_t n);
  // Transmits what is buffered.
  void flush();

  const ForwardCounters& counters() const { return counters_; }
  const ReassemblyCounters& reassembly() const { return reassembly_.counters(); }
  const ipsec::Worker& engine() const { return engine_; }
  // ACQUIREs raised by trap policies since the main lcore last took them.
  Acquires& acquires() { return acquires_; }
  const Acquires& acquires() const { return acquires_; }

 private:
  struct TxBuffer {
    std::array<rte_mbuf*, 64> pkts;
    std::uint16_t n = 0;
  };

  void from_protected(const Port& port, rte_mbuf** frames, std::uint16_t n);
  void from_unprotected(const Port& port, rte_mbuf** frames, std::uint16_t n);
  // Checks the Ethernet header; hands ARP and IPv6 Neighbor Discovery to
  // the main lcore. False when the frame was consumed (dropped or handed
  // over).
  bool take_ip(const Port& port, rte_mbuf* frame);
  void to_main(const Port& port, rte_mbuf* frame);
  // A decapsulated packet for one of the gateway's own addresses (transport
  // mode between the gateways, or a tunnel's answer to the gateway's own
  // traffic): framed again and handed to the main lcore for the kernel.
  void decapsulated_to_main(rte_mbuf* packet, bool v6);
  // Packets of one SA through the engine, then routed. Outbound packets
  // too big for the SA's path are fragmented first or answered "too big"
  // (fit_path); `fitted`: they are fragments that fit already.
  void run_sa(std::uint32_t slot, rte_mbuf** pkts, std::uint16_t n, bool inbound, bool fitted = false);
  // Keeps in `pkts` (returning how many) the packets whose protected form
  // fits the MTU of the port the SA's outer destination is routed to. Of
  // the others, IPv4 without DF in tunnel mode is fragmented and the
  // fragments go through the SA; the rest are dropped as mtu_exceeded
  // with a "too big" reporting the MTU left inside the tunnel (path_mtu.h).
  std::uint16_t fit_path(std::uint32_t slot, const ipsec::RuntimeSa& sa, rte_mbuf** pkts, std::uint16_t n);
  // Drops `m` (IP header first) as mtu_exceeded, answering its sender with
  // an ICMP "fragmentation needed" or ICMPv6 "packet too big" for `mtu`
  // (rate-limited; never to the gateway's own addresses).
  void too_big(rte_mbuf* m, std::uint32_t mtu);
  // Cuts the IPv4 datagram `m` into fragments of at most `mtu` bytes in
  // `pieces` (kMaxFragments room), counted, and frees `m`; 0 with `m`
  // untouched if it cannot be cut (fragment_ipv4()).
  std::uint16_t fragment(rte_mbuf* m, std::uint32_t mtu, rte_mbuf** pieces);
  // One of the gateway's addresses of the family, for the errors it sends:
  // the one on the port the packet came in on if it has one. Null if none.
  const std::uint8_t* error_source(std::uint16_t rx_port_id, bool v6) const;
  void drop(rte_mbuf* m, FwdDrop why);
  // A trap policy caught `m`: dropped as trapped, an acquire raised.
  void trapped(rte_mbuf* m, std::uint64_t policy_id, const tables::PacketKey& key);
  void transmit(const Port& out, rte_mbuf* frame);

  const ForwardingPlane& plane_;
  ipsec::Worker engine_;
  std::uint16_t rx_queue_;
  std::uint16_t tx_queue_;
  std::vector<TxBuffer> tx_;
  ForwardCounters counters_;
  // Fragmented ESP/AH for the gateway, put back together before the SAD.
  Reassembly reassembly_;
  // The smallest port MTU (ports are fixed for the dataplane's life).
  std::uint32_t min_port_mtu_ = UINT32_MAX;
  // The last next hop and its neighbor slot: packets in a row to one next
  // hop (a burst through one tunnel, a LAN's default gateway) skip the
  // hash lookup. Slots never change keys (NeighborTable::slot).
  const net::NeighborTable* last_hop_table_ = nullptr;
  net::NeighborKey last_hop_{};
  std::int32_t last_hop_slot_ = -1;

  // Packets waiting for their next hop's MAC (ARP or IPv6 Neighbor
  // Discovery), oldest first. Sent by release_held() once it is learnt, the
  // request repeated each second meanwhile; dropped as neighbor_unresolved
  // after kHoldSeconds, or at once when the next hop has kHeldPerNeighbor
  // waiting already (as Linux's unres_qlen: one silent host must not take
  // every place) or all kHeld places are taken.
  static constexpr std::size_t kHeld = 32;
  static constexpr std::size_t kHeldPerNeighbor = 4;
  static constexpr std::uint64_t kHoldSeconds = 3;
  struct Held {
    rte_mbuf* m = nullptr;
    net::NeighborKey key;
    std::uint64_t deadline_tsc = 0;
    std::uint64_t ask_again_tsc = 0;
  };
  void hold(rte_mbuf* m, const net::NeighborKey& key);
  void release_held();
  std::array<Held, kHeld> held_{};
  std::size_t held_n_ = 0;

  // One ACQUIRE per trap policy per kAcquireHoldSeconds (acquires.h): the
  // kernel's XFRM holds its larval state as long for the IKE daemon.
  static constexpr std::uint64_t kAcquireHoldSeconds = 1;
  Acquires acquires_;

  // ICMP errors are rate-limited (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)):
  // a token bucket of kIcmpBurst, refilled at kIcmpPerSecond.
  static constexpr std::uint32_t kIcmpBurst = 50;
  static constexpr std::uint32_t kIcmpPerSecond = 1000;
  bool take_icmp_token();
  std::uint32_t icmp_tokens_ = kIcmpBurst;
  std::uint64_t icmp_refill_tsc_ = 0;
};

}  // namespace corridor::dataplane::forward
