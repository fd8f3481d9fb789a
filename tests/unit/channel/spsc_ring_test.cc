// The SPSC ring on ordinary memory: wrap-around, full, empty, partial
// bursts, corrupt indices, and a two-thread run checking order.
#include "common/channel/spsc_ring.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace corridor::channel {
namespace {

struct Item {
  std::uint64_t value;
  std::uint64_t check;
};

struct alignas(128) Index {
  RingIndex v{0};
};

class RingTest : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kCapacity = 8;
  Index head_;
  Index tail_;
  std::vector<Item> slots_ = std::vector<Item>(kCapacity);
  SpscProducer<Item> producer_{&head_.v, &tail_.v, slots_.data(), kCapacity};
  SpscConsumer<Item> consumer_{&head_.v, &tail_.v, slots_.data(), kCapacity};
};

TEST_F(RingTest, EmptyRingHasNothingToRead) {
  EXPECT_EQ(consumer_.available(4), 0U);
  Item out[4];
  EXPECT_EQ(consumer_.try_pop(out, 4), 0U);
  EXPECT_FALSE(consumer_.corrupt());
}

TEST_F(RingTest, FullRingRefusesMoreAndNeverOverwrites) {
  Item in[kCapacity + 3];
  for (std::uint64_t i = 0; i < kCapacity + 3; ++i) in[i] = {i, ~i};
  EXPECT_EQ(producer_.try_push(in, kCapacity + 3), kCapacity);  // partial burst
  EXPECT_EQ(producer_.claim(1), 0U);                             // full
  EXPECT_EQ(producer_.try_push(in, 1), 0U);
  Item out[kCapacity];
  ASSERT_EQ(consumer_.try_pop(out, kCapacity), kCapacity);
  for (std::uint64_t i = 0; i < kCapacity; ++i) EXPECT_EQ(out[i].value, i);  // oldest kept
  EXPECT_FALSE(producer_.corrupt());
}

TEST_F(RingTest, PartialBurstsOnBothSides) {
  Item in[5];
  for (std::uint64_t i = 0; i < 5; ++i) in[i] = {i, 0};
  ASSERT_EQ(producer_.try_push(in, 5), 5U);
  EXPECT_EQ(producer_.try_push(in, 5), 3U);  // only 3 free
  EXPECT_EQ(consumer_.available(2), 2U);      // asks for less than there is
  consumer_.release(1);
  EXPECT_EQ(consumer_.available(100), 7U);  // asks for more than there is
  consumer_.release(7);
  EXPECT_EQ(consumer_.available(1), 0U);
}

TEST_F(RingTest, WrapsAroundManyTimesInOrder) {
  std::uint64_t next_in = 0;
  std::uint64_t next_out = 0;
  // Odd burst sizes so that bursts straddle the end of the slot array.
  for (int round = 0; round < 10'000; ++round) {
    const std::size_t want = 1 + static_cast<std::size_t>(round % 7);
    const std::size_t got = producer_.claim(want);
    for (std::size_t i = 0; i < got; ++i) producer_.slot(i) = {next_in + i, (next_in + i) * 31};
    producer_.publish(got);
    next_in += got;
    const std::size_t n = consumer_.available(1 + static_cast<std::size_t>(round % 5));
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(consumer_.slot(i).value, next_out + i);
      ASSERT_EQ(consumer_.slot(i).check, (next_out + i) * 31);
    }
    consumer_.release(n);
    next_out += n;
  }
  EXPECT_GT(next_out, 100 * kCapacity);  // wrapped many times
  EXPECT_EQ(head_.v.load(), next_in);
  EXPECT_EQ(tail_.v.load(), next_out);
}

TEST_F(RingTest, ResumesFromPersistedIndices) {
  Item in[3] = {{1, 0}, {2, 0}, {3, 0}};
  ASSERT_EQ(producer_.try_push(in, 3), 3U);
  // A new producer/consumer pair (a restarted process) picks up where the
  // shared indices say.
  SpscConsumer<Item> again(&head_.v, &tail_.v, slots_.data(), kCapacity);
  ASSERT_EQ(again.available(8), 3U);
  EXPECT_EQ(again.slot(0).value, 1U);
  again.release(1);
  SpscProducer<Item> producer2(&head_.v, &tail_.v, slots_.data(), kCapacity);
  EXPECT_EQ(producer2.claim(100), kCapacity - 2);
}

TEST_F(RingTest, ImpossibleIndicesAreReportedNotFollowed) {
  head_.v.store(100);
  tail_.v.store(0);  // 100 records in a ring of 8
  SpscConsumer<Item> consumer(&head_.v, &tail_.v, slots_.data(), kCapacity);
  EXPECT_EQ(consumer.available(4), 0U);
  EXPECT_TRUE(consumer.corrupt());

  head_.v.store(5);
  tail_.v.store(9);  // tail ahead of head
  SpscProducer<Item> producer(&head_.v, &tail_.v, slots_.data(), kCapacity);
  EXPECT_EQ(producer.claim(1), 0U);
  EXPECT_TRUE(producer.corrupt());
}

TEST(RingThreads, TwoThreadsMoveAMillionItemsInOrder) {
  constexpr std::uint64_t kCapacity = 64;
  constexpr std::uint64_t kCount = 1'000'000;
  Index head;
  Index tail;
  std::vector<Item> slots(kCapacity);
  std::thread producer_thread([&] {
    SpscProducer<Item> p(&head.v, &tail.v, slots.data(), kCapacity);
    std::uint64_t next = 0;
    while (next < kCount) {
      const std::size_t got = p.claim(std::min<std::uint64_t>(16, kCount - next));
      for (std::size_t i = 0; i < got; ++i) p.slot(i) = {next + i, (next + i) ^ 0x5555};
      p.publish(got);
      next += got;
      if (got == 0) std::this_thread::yield();
    }
  });
  SpscConsumer<Item> c(&head.v, &tail.v, slots.data(), kCapacity);
  std::uint64_t expected = 0;
  std::uint64_t errors = 0;
  while (expected < kCount) {
    const std::size_t n = c.available(32);
    for (std::size_t i = 0; i < n; ++i) {
      const Item& it = c.slot(i);
      errors += (it.value != expected + i || it.check != ((expected + i) ^ 0x5555)) ? 1 : 0;
    }
    c.release(n);
    expected += n;
    if (n == 0) std::this_thread::yield();
  }
  producer_thread.join();
  EXPECT_EQ(errors, 0U);
  EXPECT_EQ(expected, kCount);
}

}  // namespace
}  // namespace corridor::channel
