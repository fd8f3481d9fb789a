// Inbound SAD: (protocol, SPI) -> SA index with an outer-destination check,
// on rte_hash, at the scale the engine must hold (100,000 SAs), and with a
// reader thread looking up while the writer removes, reclaims after an RCU
// grace period, and re-adds.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <memory>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/tables/sad.h"
#include "tests/unit/dataplane/eal_environment.h"

namespace corridor::dataplane::tables {

// Readable gtest failures (found by argument-dependent lookup).
void PrintTo(AddResult r, std::ostream* os) { *os << to_string(r); }
void PrintTo(LookupResult r, std::ostream* os) { *os << to_string(r); }

namespace {

// EAL once per test binary: rte_hash lives in DPDK memory.
[[maybe_unused]] ::testing::Environment* const eal =
    ::testing::AddGlobalTestEnvironment(new dataplane::testing::EalEnvironment("sad_test"));

// rte_hash names are process-wide.
std::string unique_name() {
  static int n = 0;
  return "sad_test_" + std::to_string(n++);
}

std::array<std::uint8_t, 16> v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return {a, b, c, d};
}
std::array<std::uint8_t, 16> v6(std::uint16_t last) {
  std::array<std::uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8};
  a[14] = static_cast<std::uint8_t>(last >> 8);
  a[15] = static_cast<std::uint8_t>(last);
  return a;
}

SadKey key(std::uint32_t spi, IpVersion family, const std::array<std::uint8_t, 16>& dst,
           IpsecProtocol protocol = IpsecProtocol::esp) {
  SadKey k;
  k.spi = spi;
  k.protocol = protocol;
  k.family = family;
  k.dst = dst;
  return k;
}

const auto kGatewayV4 = v4(192, 0, 2, 1);
const auto kGatewayV6 = v6(1);

TEST(Sad, AddLookupRemove) {
  Sad sad(unique_name(), 1024);
  EXPECT_EQ(sad.size(), 0u);
  EXPECT_EQ(sad.capacity(), 1024u);
  ASSERT_EQ(sad.add(IpsecProtocol::esp, 0x1000, IpVersion::v4, kGatewayV4, 7), AddResult::ok);
  EXPECT_EQ(sad.size(), 1u);

  auto r = sad.lookup(key(0x1000, IpVersion::v4, kGatewayV4));
  EXPECT_EQ(r.result, LookupResult::hit);
  EXPECT_EQ(r.sa_index, 7u);
  EXPECT_EQ(sad.lookup(key(0x1001, IpVersion::v4, kGatewayV4)).result, LookupResult::no_sa);
  // Same SPI under AH is another SA.
  EXPECT_EQ(sad.lookup(key(0x1000, IpVersion::v4, kGatewayV4, IpsecProtocol::ah)).result, LookupResult::no_sa);

  EXPECT_TRUE(sad.remove(IpsecProtocol::esp, 0x1000));
  EXPECT_FALSE(sad.remove(IpsecProtocol::esp, 0x1000));
  EXPECT_EQ(sad.size(), 0u);
  EXPECT_EQ(sad.retired_pending(), 1u);
  EXPECT_EQ(sad.lookup(key(0x1000, IpVersion::v4, kGatewayV4)).result, LookupResult::no_sa);

  // A removed SPI can come back before its slot is reclaimed.
  ASSERT_EQ(sad.add(IpsecProtocol::esp, 0x1000, IpVersion::v4, kGatewayV4, 9), AddResult::ok);
  EXPECT_EQ(sad.lookup(key(0x1000, IpVersion::v4, kGatewayV4)).sa_index, 9u);
  auto retired = sad.take_retired();
  EXPECT_EQ(retired.size(), 1u);
  EXPECT_TRUE(sad.take_retired().empty());
  sad.reclaim(std::move(retired));
  EXPECT_EQ(sad.retired_pending(), 0u);
  EXPECT_EQ(sad.lookup(key(0x1000, IpVersion::v4, kGatewayV4)).sa_index, 9u);
}

TEST(Sad, DuplicateIsRefusedAndKeepsTheFirst) {
  Sad sad(unique_name(), 64);
  ASSERT_EQ(sad.add(IpsecProtocol::esp, 0x2000, IpVersion::v4, kGatewayV4, 1), AddResult::ok);
  EXPECT_EQ(sad.add(IpsecProtocol::esp, 0x2000, IpVersion::v4, kGatewayV4, 2), AddResult::exists);
  EXPECT_EQ(sad.add(IpsecProtocol::esp, 0x2000, IpVersion::v6, kGatewayV6, 3), AddResult::exists);
  EXPECT_EQ(sad.lookup(key(0x2000, IpVersion::v4, kGatewayV4)).sa_index, 1u);
  // ESP and AH SPIs are separate name spaces in the key.
  ASSERT_EQ(sad.add(IpsecProtocol::ah, 0x2000, IpVersion::v4, kGatewayV4, 4), AddResult::ok);
  EXPECT_EQ(sad.lookup(key(0x2000, IpVersion::v4, kGatewayV4, IpsecProtocol::ah)).sa_index, 4u);
  EXPECT_EQ(sad.size(), 2u);
}

TEST(Sad, FullTableAndRetiredSlotsCountUntilReclaimed) {
  Sad sad(unique_name(), 8);
  for (std::uint32_t i = 0; i < 8; ++i) {
    ASSERT_EQ(sad.add(IpsecProtocol::esp, 0x100 + i, IpVersion::v4, kGatewayV4, i), AddResult::ok) << i;
  }
  EXPECT_EQ(sad.add(IpsecProtocol::esp, 0x200, IpVersion::v4, kGatewayV4, 8), AddResult::full);
  ASSERT_TRUE(sad.remove(IpsecProtocol::esp, 0x100));
  // The slot is still reserved for readers in flight.
  EXPECT_EQ(sad.add(IpsecProtocol::esp, 0x200, IpVersion::v4, kGatewayV4, 8), AddResult::full);
  sad.reclaim(sad.take_retired());
  EXPECT_EQ(sad.add(IpsecProtocol::esp, 0x200, IpVersion::v4, kGatewayV4, 8), AddResult::ok);
  EXPECT_EQ(sad.lookup(key(0x200, IpVersion::v4, kGatewayV4)).sa_index, 8u);
}

TEST(Sad, HoldsExactlyItsCapacityWhateverTheSpis) {
  // A power of two: every bucket slot is needed, and random SPIs fill some
  // bucket pairs early; the extendable bucket table takes the keys that
  // cuckoo displacement alone would refuse.
  constexpr std::uint32_t kCapacity = 4096;
  Sad sad(unique_name(), kCapacity);
  std::mt19937 rng(4301);
  std::set<std::uint32_t> spis;
  while (spis.size() < kCapacity + 1) spis.insert(static_cast<std::uint32_t>(rng()) | 0x100);
  std::uint32_t index = 0;
  for (auto spi : spis) {
    const auto r = sad.add(IpsecProtocol::esp, spi, IpVersion::v4, kGatewayV4, index);
    ASSERT_EQ(r, index < kCapacity ? AddResult::ok : AddResult::full) << index;
    ++index;
  }
  EXPECT_EQ(sad.size(), kCapacity);
}

TEST(Sad, WrongDestination) {
  Sad sad(unique_name(), 64);
  ASSERT_EQ(sad.add(IpsecProtocol::esp, 0x3000, IpVersion::v4, kGatewayV4, 1), AddResult::ok);
  ASSERT_EQ(sad.add(IpsecProtocol::esp, 0x3001, IpVersion::v6, kGatewayV6, 2), AddResult::ok);

  EXPECT_EQ(sad.lookup(key(0x3000, IpVersion::v4, v4(192, 0, 2, 2))).result, LookupResult::wrong_destination);
  EXPECT_EQ(sad.lookup(key(0x3000, IpVersion::v4, v4(193, 0, 2, 1))).result, LookupResult::wrong_destination);
  // Same SPI arriving over IPv6: the SA is bound to its IPv4 destination.
  EXPECT_EQ(sad.lookup(key(0x3000, IpVersion::v6, kGatewayV6)).result, LookupResult::wrong_destination);
  EXPECT_EQ(sad.lookup(key(0x3001, IpVersion::v6, v6(2))).result, LookupResult::wrong_destination);
  EXPECT_EQ(sad.lookup(key(0x3001, IpVersion::v4, kGatewayV4)).result, LookupResult::wrong_destination);
  // An IPv6 address differing only in its first byte.
  auto other = kGatewayV6;
  other[0] ^= 0x80;
  EXPECT_EQ(sad.lookup(key(0x3001, IpVersion::v6, other)).result, LookupResult::wrong_destination);

  // For IPv4 only the first four bytes are the address.
  auto padded = kGatewayV4;
  padded[4] = 0xff;
  padded[15] = 0x01;
  auto r = sad.lookup(key(0x3000, IpVersion::v4, padded));
  EXPECT_EQ(r.result, LookupResult::hit);
  EXPECT_EQ(r.sa_index, 1u);
  r = sad.lookup(key(0x3001, IpVersion::v6, kGatewayV6));
  EXPECT_EQ(r.result, LookupResult::hit);
  EXPECT_EQ(r.sa_index, 2u);
}

TEST(Sad, BurstLookupMixesOutcomesAndSpansBulkCalls) {
  Sad sad(unique_name(), 1024);
  for (std::uint32_t i = 0; i < 200; i += 2) {
    ASSERT_EQ(sad.add(IpsecProtocol::esp, 0x5000 + i, IpVersion::v6, kGatewayV6, 1000 + i), AddResult::ok);
  }
  // 150 keys: three bulk calls (64 + 64 + 22).
  std::vector<SadKey> keys;
  for (std::uint32_t i = 0; i < 150; ++i) {
    keys.push_back(key(0x5000 + i, IpVersion::v6, i % 10 == 4 ? v6(99) : kGatewayV6));
  }
  std::vector<LookupOutcome> out(keys.size());
  sad.lookup_burst(keys.data(), static_cast<std::uint32_t>(keys.size()), out.data());
  for (std::uint32_t i = 0; i < keys.size(); ++i) {
    SCOPED_TRACE(i);
    if (i % 2 == 1) {
      EXPECT_EQ(out[i].result, LookupResult::no_sa);
    } else if (i % 10 == 4) {
      EXPECT_EQ(out[i].result, LookupResult::wrong_destination);
    } else {
      EXPECT_EQ(out[i].result, LookupResult::hit);
      EXPECT_EQ(out[i].sa_index, 1000 + i);
    }
    // The single lookup agrees with the burst.
    const auto single = sad.lookup(keys[i]);
    EXPECT_EQ(single.result, out[i].result);
    EXPECT_EQ(single.sa_index, out[i].sa_index);
  }
  sad.lookup_burst(keys.data(), 0, out.data());  // nothing to do, nothing touched
}

TEST(Sad, HundredThousandSas) {
  constexpr std::uint32_t kSas = 100000;
  Sad sad(unique_name());  // default capacity, 131072
  // SPIs spread over the 32-bit space as control allocates them (random,
  // above the reserved 0..255), with destinations over both families.
  std::mt19937 rng(2024);
  std::vector<std::uint32_t> spis;
  std::set<std::uint32_t> seen;
  while (spis.size() < kSas) {
    const auto spi = static_cast<std::uint32_t>(rng());
    if (spi < 256 || !seen.insert(spi).second) continue;
    spis.push_back(spi);
  }
  auto dst_of = [](std::uint32_t i) {
    return i % 3 == 0 ? v6(static_cast<std::uint16_t>(i % 7)) : v4(10, 0, static_cast<std::uint8_t>(i % 5), 1);
  };
  auto family_of = [](std::uint32_t i) { return i % 3 == 0 ? IpVersion::v6 : IpVersion::v4; };
  for (std::uint32_t i = 0; i < kSas; ++i) {
    ASSERT_EQ(sad.add(IpsecProtocol::esp, spis[i], family_of(i), dst_of(i), i), AddResult::ok) << i;
  }
  EXPECT_EQ(sad.size(), kSas);

  // Every SA found, in bursts of 32 as workers do, plus SPIs never added.
  std::vector<SadKey> keys;
  std::vector<std::uint32_t> expect;  // SA index, or UINT32_MAX for a miss
  for (std::uint32_t i = 0; i < kSas; ++i) {
    keys.push_back(key(spis[i], family_of(i), dst_of(i)));
    expect.push_back(i);
    if (i % 10 == 0) {
      std::uint32_t absent;
      do absent = static_cast<std::uint32_t>(rng());
      while (seen.count(absent));
      keys.push_back(key(absent, IpVersion::v4, kGatewayV4));
      expect.push_back(UINT32_MAX);
    }
  }
  // Counts hits and misses over all keys; `wrong` counts outcomes that
  // differ from what `removed` says.
  struct Tally {
    std::uint32_t hits = 0, misses = 0, wrong = 0;
  };
  auto check_all = [&](const std::vector<bool>& removed) {
    std::vector<LookupOutcome> out(32);
    Tally t;
    for (std::size_t base = 0; base < keys.size(); base += 32) {
      const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(32, keys.size() - base));
      sad.lookup_burst(&keys[base], n, out.data());
      for (std::uint32_t j = 0; j < n; ++j) {
        const auto want = expect[base + j];
        if (want == UINT32_MAX || removed[want]) {
          ++t.misses;
          t.wrong += out[j].result != LookupResult::no_sa;
        } else {
          ++t.hits;
          t.wrong += out[j].result != LookupResult::hit || out[j].sa_index != want;
        }
      }
    }
    return t;
  };
  std::vector<bool> removed(kSas, false);
  Tally t = check_all(removed);
  EXPECT_EQ(t.hits, kSas);
  EXPECT_EQ(t.misses, kSas / 10);
  EXPECT_EQ(t.wrong, 0u);

  // Remove every other SA; the rest are untouched.
  for (std::uint32_t i = 0; i < kSas; i += 2) {
    ASSERT_TRUE(sad.remove(IpsecProtocol::esp, spis[i]));
    removed[i] = true;
  }
  EXPECT_EQ(sad.size(), kSas / 2);
  t = check_all(removed);
  EXPECT_EQ(t.hits, kSas / 2);
  EXPECT_EQ(t.misses, kSas / 2 + kSas / 10);
  EXPECT_EQ(t.wrong, 0u);

  // After reclaiming, the freed slots take new SAs again.
  sad.reclaim(sad.take_retired());
  EXPECT_EQ(sad.retired_pending(), 0u);
  for (std::uint32_t i = 0; i < kSas; i += 2) {
    ASSERT_EQ(sad.add(IpsecProtocol::esp, spis[i], family_of(i), dst_of(i), i), AddResult::ok) << i;
    removed[i] = false;
  }
  t = check_all(removed);
  EXPECT_EQ(t.hits, kSas);
  EXPECT_EQ(t.wrong, 0u);
}

// A reader thread looks up SAs (as a worker lcore does, reporting a
// quiescent state after each burst) while the main thread removes and
// re-adds half of them, reclaiming slots only after an rte_rcu_qsbr grace
// period. SA indices encode their SPI, so a reader that was handed another
// SA's entry (a slot reused too early) would notice.
TEST(Sad, LockFreeReaderDuringChurn) {
  constexpr std::uint32_t kStable = 512;
  constexpr std::uint32_t kChurn = 512;
  constexpr int kRounds = 40;
  Sad sad(unique_name(), 2048);
  auto spi_of = [](std::uint32_t i) { return 0x10000 + i; };
  auto index_of = [](std::uint32_t spi, int round) { return (spi << 1) | static_cast<std::uint32_t>(round & 1); };
  for (std::uint32_t i = 0; i < kStable + kChurn; ++i) {
    ASSERT_EQ(sad.add(IpsecProtocol::esp, spi_of(i), IpVersion::v4, kGatewayV4, index_of(spi_of(i), 0)), AddResult::ok);
  }

  const std::size_t qsbr_size = rte_rcu_qsbr_get_memsize(1);
  auto* qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("sad_test_qsbr", qsbr_size, RTE_CACHE_LINE_SIZE));
  ASSERT_NE(qsbr, nullptr);
  const std::unique_ptr<rte_rcu_qsbr, decltype(&rte_free)> qsbr_owner(qsbr, &rte_free);
  ASSERT_EQ(rte_rcu_qsbr_init(qsbr, 1), 0);

  std::atomic<bool> stop{false};
  std::atomic<bool> online{false};
  std::atomic<std::uint64_t> bad_outcomes{0}, wrong_index{0}, lookups{0};
  std::thread reader([&] {
    rte_rcu_qsbr_thread_register(qsbr, 0);
    rte_rcu_qsbr_thread_online(qsbr, 0);
    online.store(true);
    std::vector<SadKey> keys;
    for (std::uint32_t i = 0; i < kStable + kChurn; ++i) keys.push_back(key(spi_of(i), IpVersion::v4, kGatewayV4));
    LookupOutcome out[32];
    std::uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      for (std::uint32_t base = 0; base < keys.size(); base += 32) {
        sad.lookup_burst(&keys[base], 32, out);
        for (std::uint32_t j = 0; j < 32; ++j) {
          const std::uint32_t i = base + j;
          if (out[j].result == LookupResult::hit) {
            if ((out[j].sa_index >> 1) != spi_of(i)) wrong_index.fetch_add(1);
          } else if (i < kStable || out[j].result != LookupResult::no_sa) {
            bad_outcomes.fetch_add(1);  // a stable SA missed, or a churned one with the wrong result
          }
        }
        n += 32;
        rte_rcu_qsbr_quiescent(qsbr, 0);
      }
    }
    lookups.store(n);
    rte_rcu_qsbr_thread_offline(qsbr, 0);
    rte_rcu_qsbr_thread_unregister(qsbr, 0);
  });

  // Stops and joins the reader however the writer below ends (an ASSERT
  // returns early), before `qsbr` is freed.
  struct StopAndJoin {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~StopAndJoin() {
      stop.store(true);
      if (thread.joinable()) thread.join();
    }
  };
  const StopAndJoin join_reader{stop, reader};

  while (!online.load()) std::this_thread::yield();  // grace periods must wait for this reader
  for (int round = 1; round <= kRounds; ++round) {
    for (std::uint32_t i = kStable; i < kStable + kChurn; ++i) ASSERT_TRUE(sad.remove(IpsecProtocol::esp, spi_of(i)));
    auto retired = sad.take_retired();
    const std::uint64_t token = rte_rcu_qsbr_start(qsbr);
    // Re-add before the grace period ends: new entries come from slots that
    // were never handed to a reader of the removed ones.
    for (std::uint32_t i = kStable; i < kStable + kChurn; i += 2) {
      ASSERT_EQ(sad.add(IpsecProtocol::esp, spi_of(i), IpVersion::v4, kGatewayV4, index_of(spi_of(i), round)),
                AddResult::ok);
    }
    ASSERT_EQ(rte_rcu_qsbr_check(qsbr, token, true), 1);
    sad.reclaim(std::move(retired));
    for (std::uint32_t i = kStable + 1; i < kStable + kChurn; i += 2) {
      ASSERT_EQ(sad.add(IpsecProtocol::esp, spi_of(i), IpVersion::v4, kGatewayV4, index_of(spi_of(i), round)),
                AddResult::ok);
    }
  }
  stop.store(true);
  reader.join();
  EXPECT_GT(lookups.load(), 0u);
  EXPECT_EQ(bad_outcomes.load(), 0u);
  EXPECT_EQ(wrong_index.load(), 0u);
  EXPECT_EQ(sad.size(), kStable + kChurn);
}

TEST(Sad, RefusesBadNameAndCapacity) {
  EXPECT_THROW(Sad("", 64), std::invalid_argument);
  EXPECT_THROW(Sad(std::string(40, 'x'), 64), std::invalid_argument);
  EXPECT_THROW(Sad(unique_name(), 4), std::invalid_argument);
  const std::string name = unique_name();
  Sad first(name, 64);
  // DPDK object names are process-wide.
  EXPECT_THROW(Sad(name, 64), std::runtime_error);
}

}  // namespace
}  // namespace corridor::dataplane::tables
