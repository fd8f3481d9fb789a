// ARP (RFC 826) on the dataplane's ports: answer requests for the
// gateway's own addresses, learn the senders that are on the port's
// subnets, and build requests for next hops the neighbor table lacks.
// Runs on the main lcore (workers hand ARP frames over).
#pragma once

#include <cstdint>
#include <vector>

#include "common/net/address.h"
#include "dataplane/net/ethernet.h"
#include "dataplane/net/neighbors.h"

struct rte_mbuf;
struct rte_mempool;

namespace corridor::dataplane::net {

// What ARP needs to know of a port.
struct ArpPort {
  std::uint16_t index = 0;  // the dataplane's port index (neighbor keys)
  MacAddress mac;
  std::vector<corridor::net::Prefix> ipv4;  // the port's IPv4 addresses with their subnets
};

enum class ArpResult : std::uint8_t {
  reply,      // the frame was turned into the reply: send it out of the same port
  learnt,     // a sender on the subnet was recorded; free the frame
  ignored,    // valid, but nothing for us (another host's request, off-subnet sender); free it
  malformed,  // not Ethernet/IPv4 ARP or truncated; free it and count
};

// Handles one ARP frame (starting at the Ethernet header).
ArpResult handle_arp(rte_mbuf* frame, const ArpPort& port, NeighborTable& neighbors);

// A broadcast request for `target` (4 bytes) from the port's address on
// the target's subnet; null when the port has no such address or the pool
// is empty.
rte_mbuf* make_arp_request(rte_mempool* pool, const ArpPort& port, const std::uint8_t* target);

}  // namespace corridor::dataplane::net
