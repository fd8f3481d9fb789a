// The dataplane's forwarding table: longest-prefix match from a destination
// address to a next hop (a port and, unless the destination is directly
// connected, a gateway address). IPv4 through rte_lpm, IPv6 through
// rte_lpm6, both lock-free for readers. Built on the main lcore from the
// config's static routes and the ports' connected prefixes before the
// workers start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/net/address.h"

struct rte_lpm;
struct rte_lpm6;

namespace corridor::dataplane::net {

struct NextHop {
  std::uint16_t port = 0;                // index into the dataplane's port list
  bool connected = true;                 // the destination itself is on the link
  corridor::net::IpAddress gateway;      // when !connected
};

class RouteTable {
 public:
  // `name` prefixes the DPDK object names (unique per process). Needs EAL.
  explicit RouteTable(const std::string& name, std::uint32_t max_routes = 1024);
  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // Adds (or replaces) the route for `prefix`. False with `error` set when
  // the table refuses it (full, bad prefix).
  bool add(const corridor::net::Prefix& prefix, const NextHop& hop, std::string* error);

  // Workers. The next hop for a destination (4 or 16 network-order bytes),
  // or null when no route covers it.
  const NextHop* lookup_v4(const std::uint8_t* dst) const;
  const NextHop* lookup_v6(const std::uint8_t* dst) const;

  std::size_t size() const { return hops_.size(); }

 private:
  rte_lpm* v4_ = nullptr;
  rte_lpm6* v6_ = nullptr;
  std::vector<NextHop> hops_;  // the LPM's next-hop value indexes this
};

}  // namespace corridor::dataplane::net
