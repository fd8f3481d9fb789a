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
  // Workers: the key's slot, or -1 while the table has never held it. Keys
  // are never removed, so a slot stays its key's for the table's life and a
  // worker may remember it (the forwarder's next-hop cache does).
  std::int32_t slot(const NeighborKey& key) const;
  // The MAC at a slot from slot(), if resolved. Read afresh each time: a
  // MAC learnt or changed since shows at once.
  std::optional<MacAddress> at(std::int32_t slot) const;
  // The same, packed as MacAddress::unpack takes it (byte 0 in bits 47-40),
  // for the per-packet path: building a MacAddress byte by byte on the
  // stack and reading it back costs store-forwarding stalls there.
  bool packed_at(std::int32_t slot, std::uint64_t& mac) const {
    if (slot < 0) return false;
    const std::uint64_t v = entries_[static_cast<std::size_t>(slot)].load(std::memory_order_acquire);
    mac = v & kMacBits;
    return (v & kValid) != 0;
  }
  // Workers: asks the main lcore to resolve `key` (dropped silently when
  // the request queue is full: the next packet asks again).
  void request(const NeighborKey& key) const;
  // Main lcore: the next resolution to send, if one is due (at most one
  // request per address per `interval_ns`).
  std::optional<NeighborKey> next_request(std::uint64_t now_ns, std::uint64_t interval_ns = 1'000'000'000);

  std::uint32_t size() const { return size_; }
  std::uint64_t requests_dropped() const { return requests_dropped_.load(std::memory_order_relaxed); }

 private:
  // An entry: the packed MAC in bits 47-0, kValid once resolved, kStatic
  // for a configured one.
  static constexpr std::uint64_t kValid = std::uint64_t{1} << 63;
  static constexpr std::uint64_t kStatic = std::uint64_t{1} << 62;
  static constexpr std::uint64_t kMacBits = (std::uint64_t{1} << 48) - 1;

  rte_hash* hash_ = nullptr;
  rte_ring* requests_ = nullptr;
  std::vector<std::atomic<std::uint64_t>> entries_;  // by hash position: MAC | kValid (| kStatic)
  std::vector<std::uint64_t> last_request_ns_;      // main lcore only, by hash position of pending keys
  std::uint32_t size_ = 0;
  mutable std::atomic<std::uint64_t> requests_dropped_{0};
};

}  // namespace corridor::dataplane::net
