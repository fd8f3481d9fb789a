// Next-hop link-layer addresses: (port, IP) -> MAC. Static entries come
// from the config's `dataplane.neighbors`; the others are learnt by the
// main lcore from ARP. Workers look entries up without locks (rte_hash in
// lock-free mode; the MAC is one 64-bit word, stored and loaded whole).
// A worker that finds no entry asks for resolution (request()), which the
// main lcore serves at most once a second per address.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/net/address.h"
#include "dataplane/net/ethernet.h"

struct rte_hash;
struct rte_ring;

namespace corridor::dataplane::net {

struct NeighborKey {
  std::uint16_t port = 0;
  std::uint8_t family = 4;  // 4 or 6
  std::uint8_t reserved = 0;
  std::array<std::uint8_t, 16> ip{};  // IPv4 in the first 4 bytes, the rest 0

  static NeighborKey of(std::uint16_t port, const corridor::net::IpAddress& ip);
  static NeighborKey v4(std::uint16_t port, const std::uint8_t* ip);
  static NeighborKey v6(std::uint16_t port, const std::uint8_t* ip);
  corridor::net::IpAddress address() const;
};
static_assert(sizeof(NeighborKey) == 20);

class NeighborTable {
 public:
  // Needs EAL. `name` must be unique and short (DPDK object names).
  explicit NeighborTable(const std::string& name, std::uint32_t capacity = 4096);
  ~NeighborTable();
  NeighborTable(const NeighborTable&) = delete;
  NeighborTable& operator=(const NeighborTable&) = delete;

  // Main lcore. A static entry is never replaced by a learnt one. False
  // when the table is full.
  bool set(const NeighborKey& key, const MacAddress& mac, bool is_static);
  // Workers (and main).
  std::optional<MacAddress> lookup(const NeighborKey& key) const;
  // Workers: asks the main lcore to resolve `key` (dropped silently when
  // the request queue is full: the next packet asks again).
  void request(const NeighborKey& key) const;
  // Main lcore: the next resolution to send, if one is due (at most one
  // request per address per `interval_ns`).
  std::optional<NeighborKey> next_request(std::uint64_t now_ns, std::uint64_t interval_ns = 1'000'000'000);

  std::uint32_t size() const { return size_; }
  std::uint64_t requests_dropped() const { return requests_dropped_.load(std::memory_order_relaxed); }

 private:
  rte_hash* hash_ = nullptr;
  rte_ring* requests_ = nullptr;
  std::vector<std::atomic<std::uint64_t>> entries_;  // by hash position: MAC | kValid (| kStatic)
  std::vector<std::uint64_t> last_request_ns_;      // main lcore only, by hash position of pending keys
  std::uint32_t size_ = 0;
  mutable std::atomic<std::uint64_t> requests_dropped_{0};
};

}  // namespace corridor::dataplane::net
