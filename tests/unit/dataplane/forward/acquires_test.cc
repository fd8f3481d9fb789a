// Acquires (dataplane/forward/acquires.h): what a trap policy's packets
// turn into, and how often.
#include "dataplane/forward/acquires.h"

#include <gtest/gtest.h>

#include <array>

#include "common/channel/record_codec.h"

namespace corridor::dataplane::forward {
namespace {

using tables::PacketKey;

PacketKey udp4(std::uint8_t last_src, std::uint16_t sport, std::uint16_t dport) {
  const std::array<std::uint8_t, 4> src{10, 1, 0, last_src}, dst{10, 2, 0, 7};
  return PacketKey::v4(17, src, dst, sport, dport);
}

TEST(Acquires, OnePerPolicyPerHold) {
  Acquires a(1000);
  a.raise(7, udp4(5, 1, 2), 100);
  a.raise(7, udp4(6, 3, 4), 200);   // same policy within the hold
  a.raise(8, udp4(5, 1, 2), 300);   // another policy
  a.raise(7, udp4(9, 5, 6), 1100);  // the hold is over
  ASSERT_EQ(a.pending().size(), 3U);
  EXPECT_EQ(a.pending()[0].policy_id, 7U);
  EXPECT_EQ(a.pending()[0].src[3], 5);
  EXPECT_EQ(a.pending()[1].policy_id, 8U);
  EXPECT_EQ(a.pending()[2].policy_id, 7U);
  EXPECT_EQ(a.pending()[2].src[3], 9) << "the packet of the later acquire";
  EXPECT_EQ(a.counters().raised, 3U);
  EXPECT_EQ(a.counters().held, 1U);
  a.clear();
  EXPECT_TRUE(a.pending().empty());
  a.raise(7, udp4(5, 1, 2), 1200);  // taken by the main lcore, still held
  EXPECT_TRUE(a.pending().empty());
  EXPECT_EQ(a.counters().held, 2U);
}

TEST(Acquires, AFullQueueCountsOverflowAndTriesAgain) {
  Acquires a(1000);
  for (std::uint64_t id = 1; id <= Acquires::kPending; ++id) a.raise(id * 1000003, udp4(1, 1, 1), 0);
  ASSERT_EQ(a.pending().size(), Acquires::kPending);
  a.raise(99, udp4(1, 1, 1), 0);
  EXPECT_EQ(a.counters().overflow, 1U);
  a.clear();
  a.raise(99, udp4(1, 1, 1), 1);  // not held: it was never queued
  ASSERT_EQ(a.pending().size(), 1U);
  EXPECT_EQ(a.pending()[0].policy_id, 99U);
}

TEST(Acquires, RecordCarriesThePacketsSelectors) {
  const auto r = Acquires::to_record(5, udp4(5, 40000, 53));
  EXPECT_EQ(r.family, channel::IpVersion::v4);
  EXPECT_EQ(r.ip_protocol, 17);
  EXPECT_EQ(r.src_port, 40000);
  EXPECT_EQ(r.dst_port, 53);
  EXPECT_EQ(r.src, (std::array<std::uint8_t, 16>{10, 1, 0, 5}));
  EXPECT_EQ(r.dst, (std::array<std::uint8_t, 16>{10, 2, 0, 7}));

  const std::array<std::uint8_t, 16> s6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const std::array<std::uint8_t, 16> d6{0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
  const auto r6 = Acquires::to_record(6, PacketKey::v6(58, s6, d6, std::nullopt, std::nullopt));
  EXPECT_EQ(r6.family, channel::IpVersion::v6);
  EXPECT_EQ(r6.ip_protocol, 58);
  EXPECT_EQ(r6.src_port, 0) << "OPAQUE";
  EXPECT_EQ(r6.src, s6);
  EXPECT_EQ(r6.dst, d6);
  // The record passes the channel's decoder checks.
  channel::RecordSlot slot;
  channel::encode(r6, slot);
  EXPECT_TRUE(channel::decode_event(slot).ok());
}

}  // namespace
}  // namespace corridor::dataplane::forward
