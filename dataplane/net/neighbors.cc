#include "dataplane/net/neighbors.h"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <cstring>
#include <stdexcept>

namespace corridor::dataplane::net {

NeighborKey NeighborKey::of(std::uint16_t port, const corridor::net::IpAddress& ip) {
  return ip.is_v4() ? v4(port, ip.bytes().data()) : v6(port, ip.bytes().data());
}
NeighborKey NeighborKey::v4(std::uint16_t port, const std::uint8_t* ip) {
  NeighborKey k;
  k.port = port;
  k.family = 4;
  std::memcpy(k.ip.data(), ip, 4);
  return k;
}
NeighborKey NeighborKey::v6(std::uint16_t port, const std::uint8_t* ip) {
  NeighborKey k;
  k.port = port;
  k.family = 6;
  std::memcpy(k.ip.data(), ip, 16);
  return k;
}
corridor::net::IpAddress NeighborKey::address() const {
  return corridor::net::IpAddress::from_bytes(family == 4 ? corridor::net::Family::ipv4 : corridor::net::Family::ipv6,
                                              ip.data());
}

NeighborTable::NeighborTable(const std::string& name, std::uint32_t capacity)
    : entries_(capacity), last_request_ns_(capacity, 0) {
  rte_hash_parameters p{};
  const std::string hash_name = name + "_nh";
  p.name = hash_name.c_str();
  p.entries = capacity;
  p.key_len = sizeof(NeighborKey);
  p.hash_func = rte_jhash;
  p.socket_id = SOCKET_ID_ANY;
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  hash_ = rte_hash_create(&p);
  if (hash_ == nullptr) throw std::runtime_error("cannot create the neighbor table: " + std::string(rte_strerror(rte_errno)));
  requests_ = rte_ring_create_elem((name + "_nr").c_str(), sizeof(NeighborKey), 256, SOCKET_ID_ANY, RING_F_SC_DEQ);
  if (requests_ == nullptr) {
    rte_hash_free(hash_);
    throw std::runtime_error("cannot create the neighbor request ring: " + std::string(rte_strerror(rte_errno)));
  }
}

NeighborTable::~NeighborTable() {
  rte_ring_free(requests_);
  rte_hash_free(hash_);
}

bool NeighborTable::set(const NeighborKey& key, const MacAddress& mac, bool is_static) {
  std::int32_t pos = rte_hash_lookup(hash_, &key);
  if (pos < 0) {
    pos = rte_hash_add_key(hash_, &key);
    if (pos < 0) return false;
    ++size_;
  } else if ((entries_[pos].load(std::memory_order_relaxed) & kStatic) && !is_static) {
    return true;  // configured entries win over what the wire says
  }
  entries_[pos].store(mac.packed() | kValid | (is_static ? kStatic : 0), std::memory_order_release);
  return true;
}

std::optional<MacAddress> NeighborTable::lookup(const NeighborKey& key) const { return at(slot(key)); }

std::int32_t NeighborTable::slot(const NeighborKey& key) const {
  const std::int32_t pos = rte_hash_lookup(hash_, &key);
  return pos < 0 ? -1 : pos;
}

std::optional<MacAddress> NeighborTable::at(std::int32_t slot) const {
  if (slot < 0) return std::nullopt;
  const std::uint64_t v = entries_[static_cast<std::size_t>(slot)].load(std::memory_order_acquire);
  if ((v & kValid) == 0) return std::nullopt;
  return MacAddress::unpack(v & kMacBits);
}

void NeighborTable::request(const NeighborKey& key) const {
  if (rte_ring_mp_enqueue_elem(requests_, const_cast<NeighborKey*>(&key), sizeof(NeighborKey)) != 0) {
    requests_dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::optional<NeighborKey> NeighborTable::next_request(std::uint64_t now_ns, std::uint64_t interval_ns) {
  NeighborKey key;
  while (rte_ring_sc_dequeue_elem(requests_, &key, sizeof(NeighborKey)) == 0) {
    if (lookup(key)) continue;  // resolved meanwhile
    // The key's slot remembers when it was last asked for; an unresolved
    // key gets a slot (without a valid MAC) for that.
    std::int32_t pos = rte_hash_lookup(hash_, &key);
    if (pos < 0) {
      pos = rte_hash_add_key(hash_, &key);
      if (pos < 0) continue;  // full: nothing to remember it by; not asked
      ++size_;
    }
    if (last_request_ns_[pos] != 0 && now_ns - last_request_ns_[pos] < interval_ns) continue;
    last_request_ns_[pos] = now_ns;
    return key;
  }
  return std::nullopt;
}

}  // namespace corridor::dataplane::net
