// Security Association Database, inbound side: which SA an arriving ESP or
// AH packet belongs to (RFC 4301 §4.4.2, §5.2 step 3a).
//
// Control allocates inbound SPIs unique per gateway, so the key is
// (protocol, SPI): RFC 4301 §4.1 lets a unicast SA be found by its SPI
// alone or together with the IPsec protocol. The entry also holds the SA's
// outer destination address; a packet whose outer destination differs gets
// LookupResult::wrong_destination, which the caller drops and counts like
// "no SA" but under its own name, since it points at a misrouted packet or
// a probing peer rather than a stale SPI.
//
// The value is a uint32_t SA index: the engine's slot number. The SAD knows
// nothing of SA structures.
//
// Concurrency: one writer (the main lcore: add, remove, take_retired,
// reclaim) and any number of readers (workers: lookup, lookup_burst) at the
// same time, without locks. The table is an rte_hash created with
// RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF, plus the extendable bucket table
// so that it always holds `capacity` entries whatever the SPI values.
//
// Reclamation is the caller's business, as with the SA objects themselves:
// a reader that started a lookup before remove() may still get the removed
// entry's SA index back, until every reader has passed a quiescent state.
// So remove() only unlinks the entry; its table slot stays reserved until
// the caller hands it back after an RCU grace period:
//
//   sad.remove(proto, spi);                       // readers stop finding it
//   auto retired = sad.take_retired();            // everything removed so far
//   auto token = rte_rcu_qsbr_start(qsbr);
//   ... later: rte_rcu_qsbr_check(qsbr, token, wait) ...
//   sad.reclaim(std::move(retired));              // slots free for add()
//
// Until then, retired slots count against capacity (add() reports full).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rte_memory.h>

#include "common/channel/records.h"

struct rte_hash;

namespace corridor::dataplane::tables {

using channel::IpsecProtocol;
using channel::IpVersion;

// What the caller reads from an arriving packet's outer IP and ESP/AH
// headers.
struct SadKey {
  std::uint32_t spi = 0;  // host byte order (the wire value converted with rte_be_to_cpu_32)
  IpsecProtocol protocol = IpsecProtocol::esp;
  IpVersion family = IpVersion::v4;  // of the outer header
  // Outer destination: IPv4 in the first 4 bytes (the rest is not compared).
  std::array<std::uint8_t, 16> dst{};
};

enum class LookupResult : std::uint8_t {
  hit,
  no_sa,              // no SA with this (protocol, SPI)
  wrong_destination,  // the SA exists, but for another outer destination (or family)
};

struct LookupOutcome {
  LookupResult result = LookupResult::no_sa;
  std::uint32_t sa_index = 0;  // valid when result == hit
};

enum class AddResult : std::uint8_t { ok, exists, full };

class Sad {
 public:
  static constexpr std::uint32_t kDefaultCapacity = 131072;
  // rte_hash_lookup_bulk_data takes at most this many keys per call.
  static constexpr std::uint32_t kBulk = 64;

  // Removed entries waiting for a grace period (see the header comment).
  // Move-only; hand it back with reclaim() to the Sad it came from.
  class Retired {
   public:
    Retired() = default;
    Retired(Retired&&) = default;
    Retired& operator=(Retired&&) = default;
    Retired(const Retired&) = delete;
    Retired& operator=(const Retired&) = delete;
    std::size_t size() const { return slots_.size(); }
    bool empty() const { return slots_.empty(); }

   private:
    friend class Sad;
    struct Slot {
      std::int32_t position;  // rte_hash key slot
      std::uint32_t entry;    // index into the entry pool
    };
    std::vector<Slot> slots_;
  };

  // `name` must be unique in the process and shorter than 32 bytes (DPDK
  // object names). Needs EAL. Throws std::invalid_argument for a bad name or
  // capacity (8 .. 2^30), std::runtime_error with rte_strerror's text when
  // DPDK cannot create the table.
  explicit Sad(const std::string& name, std::uint32_t capacity = kDefaultCapacity,
               int socket_id = SOCKET_ID_ANY);
  ~Sad();
  Sad(const Sad&) = delete;
  Sad& operator=(const Sad&) = delete;

  // Writer only. `dst` is the SA's outer destination address (IPv4 in the
  // first 4 bytes).
  AddResult add(IpsecProtocol protocol, std::uint32_t spi, IpVersion family, const std::array<std::uint8_t, 16>& dst,
                std::uint32_t sa_index);
  // Writer only. False when no such SA. The entry goes to the retired list.
  bool remove(IpsecProtocol protocol, std::uint32_t spi);
  // Writer only. Everything removed since the previous call.
  Retired take_retired();
  // Writer only, after a grace period that began after take_retired().
  void reclaim(Retired&& retired);

  // Readers (and writer). Lock-free.
  LookupOutcome lookup(const SadKey& key) const;
  // out[i] for keys[i], any n.
  void lookup_burst(const SadKey* keys, std::uint32_t n, LookupOutcome* out) const;

  std::uint32_t size() const { return size_; }  // entries findable now
  std::uint32_t capacity() const { return capacity_; }
  // Removed entries whose slots are not yet reclaimed (taken or not).
  std::uint32_t retired_pending() const { return retired_pending_; }

 private:
  struct Entry {
    std::uint32_t sa_index;
    IpVersion family;
    std::array<std::uint8_t, 16> dst;
  };
  // The rte_hash key: 8 bytes, padding zeroed so equal keys hash equally.
  struct HashKey {
    std::uint32_t spi;
    std::uint8_t protocol;
    std::uint8_t zero[3];
  };
  static HashKey hash_key(IpsecProtocol protocol, std::uint32_t spi);
  static LookupOutcome outcome(const Entry* e, const SadKey& key);

  rte_hash* hash_ = nullptr;
  std::uint32_t capacity_ = 0;
  // Entries are written before add() publishes their pointer (rte_hash
  // stores it with release semantics) and never change while reachable.
  Entry* entries_ = nullptr;  // capacity_ of them, DPDK memory on the hash's socket
  std::vector<std::uint32_t> free_entries_;
  std::vector<Retired::Slot> retired_;
  std::uint32_t size_ = 0;
  std::uint32_t retired_pending_ = 0;
};

std::string_view to_string(LookupResult result);
std::string_view to_string(AddResult result);

}  // namespace corridor::dataplane::tables
