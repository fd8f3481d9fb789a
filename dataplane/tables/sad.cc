#include "dataplane/tables/sad.h"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace corridor::dataplane::tables {

static_assert(Sad::kBulk == RTE_HASH_LOOKUP_BULK_MAX);

namespace {

// rte_hash refuses fewer entries than one bucket holds, and more than
// RTE_HASH_ENTRIES_MAX.
constexpr std::uint32_t kMinCapacity = 8;
constexpr std::uint32_t kMaxCapacity = 1u << 30;

}  // namespace

Sad::HashKey Sad::hash_key(IpsecProtocol protocol, std::uint32_t spi) {
  HashKey k{};
  k.spi = spi;
  k.protocol = static_cast<std::uint8_t>(protocol);
  return k;
}

Sad::Sad(const std::string& name, std::uint32_t capacity, int socket_id) : capacity_(capacity) {
  static_assert(sizeof(HashKey) == 8);
  if (name.empty() || name.size() >= RTE_HASH_NAMESIZE) {
    throw std::invalid_argument("SAD name must be 1.." + std::to_string(RTE_HASH_NAMESIZE - 1) + " bytes: " + name);
  }
  if (capacity < kMinCapacity || capacity > kMaxCapacity) {
    throw std::invalid_argument("SAD capacity must be " + std::to_string(kMinCapacity) + ".." +
                                std::to_string(kMaxCapacity) + ", not " + std::to_string(capacity));
  }
  // rte_hash_create would fail too, but only after logging a memzone error.
  if (rte_hash_find_existing(name.c_str()) != nullptr) {
    throw std::runtime_error("SAD " + name + ": a hash table of that name exists");
  }
  entries_ = static_cast<Entry*>(
      rte_zmalloc_socket("corridor_sad_entries", sizeof(Entry) * std::size_t{capacity}, RTE_CACHE_LINE_SIZE, socket_id));
  if (entries_ == nullptr) {
    throw std::runtime_error("SAD " + name + ": cannot allocate " + std::to_string(capacity) + " entries: " +
                             rte_strerror(rte_errno));
  }
  rte_hash_parameters params{};
  params.name = name.c_str();
  params.entries = capacity;
  params.key_len = sizeof(HashKey);
  params.hash_func = rte_hash_crc;  // SSE4.2 CRC32 on the x86-64-v2 baseline
  params.hash_func_init_val = 0;
  params.socket_id = socket_id;
  // Lock-free readers beside the single writer; the extendable bucket table
  // makes every one of `capacity` entries insertable whatever the key
  // distribution (without it, a full bucket pair refuses a key early).
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  hash_ = rte_hash_create(&params);
  if (hash_ == nullptr) {
    const std::string why = rte_strerror(rte_errno);
    rte_free(entries_);
    throw std::runtime_error("SAD " + name + ": rte_hash_create: " + why);
  }
  free_entries_.resize(capacity);
  // Hand out entry 0 first (pop_back), so early SAs sit together in memory.
  for (std::uint32_t i = 0; i < capacity; ++i) free_entries_[i] = capacity - 1 - i;
}

Sad::~Sad() {
  rte_hash_free(hash_);
  rte_free(entries_);
}

AddResult Sad::add(IpsecProtocol protocol, std::uint32_t spi, IpVersion family, const std::array<std::uint8_t, 16>& dst,
                   std::uint32_t sa_index) {
  const HashKey key = hash_key(protocol, spi);
  // rte_hash_add_key_data would silently replace an existing key's data.
  if (rte_hash_lookup(hash_, &key) >= 0) return AddResult::exists;
  if (free_entries_.empty()) return AddResult::full;
  const std::uint32_t index = free_entries_.back();
  Entry& e = entries_[index];
  e.sa_index = sa_index;
  e.family = family;
  e.dst = dst;
  if (family == IpVersion::v4) std::fill(e.dst.begin() + 4, e.dst.end(), std::uint8_t{0});
  const int rc = rte_hash_add_key_data(hash_, &key, &e);
  if (rc == -ENOSPC) return AddResult::full;
  if (rc < 0) throw std::logic_error("rte_hash_add_key_data: " + std::string(rte_strerror(-rc)));
  free_entries_.pop_back();
  ++size_;
  return AddResult::ok;
}

bool Sad::remove(IpsecProtocol protocol, std::uint32_t spi) {
  const HashKey key = hash_key(protocol, spi);
  void* data = nullptr;
  if (rte_hash_lookup_data(hash_, &key, &data) < 0) return false;
  const std::int32_t position = rte_hash_del_key(hash_, &key);
  if (position < 0) return false;  // cannot happen with a single writer
  retired_.push_back({position, static_cast<std::uint32_t>(static_cast<Entry*>(data) - entries_)});
  --size_;
  ++retired_pending_;
  return true;
}

Sad::Retired Sad::take_retired() {
  Retired r;
  r.slots_.swap(retired_);
  return r;
}

void Sad::reclaim(Retired&& retired) {
  for (const auto& slot : retired.slots_) {
    // With RW_CONCURRENCY_LF, rte_hash_del_key left the key slot (and any
    // extendable bucket it emptied) for this call to free.
    rte_hash_free_key_with_position(hash_, slot.position);
    free_entries_.push_back(slot.entry);
    --retired_pending_;
  }
  retired.slots_.clear();
}

LookupOutcome Sad::outcome(const Entry* e, const SadKey& key) {
  const std::size_t n = key.family == IpVersion::v4 ? 4 : 16;
  if (e->family != key.family || std::memcmp(e->dst.data(), key.dst.data(), n) != 0) {
    return {LookupResult::wrong_destination, 0};
  }
  return {LookupResult::hit, e->sa_index};
}

LookupOutcome Sad::lookup(const SadKey& key) const {
  const HashKey hk = hash_key(key.protocol, key.spi);
  void* data = nullptr;
  if (rte_hash_lookup_data(hash_, &hk, &data) < 0) return {LookupResult::no_sa, 0};
  return outcome(static_cast<const Entry*>(data), key);
}

void Sad::lookup_burst(const SadKey* keys, std::uint32_t n, LookupOutcome* out) const {
  HashKey hk[kBulk];
  const void* ptrs[kBulk];
  void* data[kBulk];
  for (std::uint32_t base = 0; base < n; base += kBulk) {
    const std::uint32_t count = std::min(kBulk, n - base);
    for (std::uint32_t i = 0; i < count; ++i) {
      hk[i] = hash_key(keys[base + i].protocol, keys[base + i].spi);
      ptrs[i] = &hk[i];
    }
    std::uint64_t hits = 0;
    // Only -EINVAL can come back, for arguments that are valid here.
    rte_hash_lookup_bulk_data(hash_, ptrs, count, &hits, data);
    for (std::uint32_t i = 0; i < count; ++i) {
      out[base + i] = (hits >> i) & 1u ? outcome(static_cast<const Entry*>(data[i]), keys[base + i])
                                        : LookupOutcome{LookupResult::no_sa, 0};
    }
  }
}

std::string_view to_string(LookupResult result) {
  switch (result) {
    case LookupResult::hit: return "hit";
    case LookupResult::no_sa: return "no_sa";
    case LookupResult::wrong_destination: return "wrong_destination";
  }
  return "unknown";
}

std::string_view to_string(AddResult result) {
  switch (result) {
    case AddResult::ok: return "ok";
    case AddResult::exists: return "exists";
    case AddResult::full: return "full";
  }
  return "unknown";
}

}  // namespace corridor::dataplane::tables
