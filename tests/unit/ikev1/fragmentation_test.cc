// IKEv1 fragmentation (control/ikev1/fragmentation.h): the vendor ID, the
// fragment messages as strongSwan lays them out, reassembly in any order,
// and every malformed or abusive fragment refused with a reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "common/ikev1/message.h"
#include "control/ikev1/fragmentation.h"

namespace {

using namespace corridor;                 // NOLINT: test brevity
using namespace corridor::control::ikev1;  // NOLINT
using Bytes = std::vector<std::uint8_t>;
namespace v1 = corridor::iana::ikev1;

// A 3000-byte "encrypted Main Mode 5": a real header, then noise.
Bytes big_message() {
  corridor::ikev1::Header h;
  h.cookie_i = {1, 2, 3, 4, 5, 6, 7, 8};
  h.cookie_r = {9, 10, 11, 12, 13, 14, 15, 16};
  h.flags = v1::kFlagEncryption;
  const auto header = corridor::ikev1::serialise_header(h, v1::PayloadType::id, 3000);
  Bytes m(header.begin(), header.end());
  for (std::size_t i = m.size(); i < 3000; ++i) m.push_back(static_cast<std::uint8_t>(i * 31));
  return m;
}

TEST(Ikev1Fragmentation, VendorIdIsMatchedByItsFirstSixteenBytes) {
  const auto ours = fragmentation_vendor_id();
  ASSERT_EQ(ours.size(), 20u);
  EXPECT_EQ(ours[16], 0x80);  // strongSwan's capability flags
  EXPECT_TRUE(is_fragmentation_vendor_id(ours));
  Bytes cisco(ours.begin(), ours.end());
  cisco[16] = 0xc0;
  EXPECT_TRUE(is_fragmentation_vendor_id(cisco));
  EXPECT_TRUE(is_fragmentation_vendor_id(ours.first(16)));  // libreswan's
  EXPECT_FALSE(is_fragmentation_vendor_id(ours.first(15)));
  Bytes other(ours.begin(), ours.end());
  other[3] ^= 1;
  EXPECT_FALSE(is_fragmentation_vendor_id(other));
}

TEST(Ikev1Fragmentation, SizesFollowStrongswanFragmentSize) {
  EXPECT_EQ(max_datagram(false, false), 1252u);  // 1280 - IPv4 - UDP
  EXPECT_EQ(max_datagram(false, true), 1248u);   // and the non-ESP marker
  EXPECT_EQ(max_datagram(true, false), 1232u);
  EXPECT_EQ(max_datagram(true, true, 576), 524u);
  EXPECT_EQ(max_datagram(false, false, 20), 0u);
}

TEST(Ikev1Fragmentation, FragmentsAreLaidOutAsStrongswanSendsThem) {
  const auto message = big_message();
  EXPECT_TRUE(fragment_datagram(message, 3000, v1::ExchangeType::identity_protection).empty()) << "it fits";
  const auto pieces = fragment_datagram(message, 1248, v1::ExchangeType::identity_protection);
  ASSERT_EQ(pieces.size(), 3u);  // 1212 bytes of message each
  std::size_t carried = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    SCOPED_TRACE(i);
    const auto& p = pieces[i];
    EXPECT_LE(p.size(), 1248u);
    auto h = corridor::ikev1::parse_header(p);
    ASSERT_TRUE(h.ok()) << h.error().message;
    EXPECT_EQ(h->header.cookie_i, (std::array<std::uint8_t, 8>{1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(h->header.cookie_r, (std::array<std::uint8_t, 8>{9, 10, 11, 12, 13, 14, 15, 16}));
    EXPECT_EQ(h->header.exchange, v1::ExchangeType::identity_protection);
    EXPECT_EQ(h->header.message_id, 0u);
    EXPECT_EQ(h->header.flags, 0u) << "fragments are not encrypted themselves";
    EXPECT_EQ(static_cast<int>(h->first_payload), kFragmentPayload);
    std::string why;
    const auto f = parse_fragment(p, &why);
    ASSERT_TRUE(f.has_value()) << why;
    EXPECT_EQ(f->id, 1);
    EXPECT_EQ(f->number, i + 1);
    EXPECT_EQ(f->last, i + 1 == pieces.size());
    EXPECT_TRUE(std::equal(f->data.begin(), f->data.end(), message.begin() + static_cast<std::ptrdiff_t>(carried)));
    carried += f->data.size();
  }
  EXPECT_EQ(carried, message.size());
  const auto aggressive = fragment_datagram(message, 1248, v1::ExchangeType::aggressive);
  EXPECT_EQ(corridor::ikev1::parse_header(aggressive[0])->header.exchange, v1::ExchangeType::aggressive);
}

TEST(Ikev1Fragmentation, ReassemblyTakesAnyOrderAndIgnoresRepeats) {
  const auto message = big_message();
  const auto pieces = fragment_datagram(message, 700, v1::ExchangeType::identity_protection);
  ASSERT_GE(pieces.size(), 5u);
  std::vector<std::size_t> order(pieces.size());
  std::iota(order.begin(), order.end(), 0);
  std::reverse(order.begin(), order.end());  // the last one first
  Reassembly r;
  std::string why;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const auto f = parse_fragment(pieces[order[k]], &why);
    ASSERT_TRUE(f.has_value()) << why;
    const auto result = r.add(*f, &why);
    if (k + 1 < order.size()) {
      EXPECT_EQ(result, Reassembly::Result::incomplete) << k;
      EXPECT_EQ(r.add(*f, &why), Reassembly::Result::incomplete) << "a repeat changes nothing";
    } else {
      ASSERT_EQ(result, Reassembly::Result::complete);
    }
  }
  EXPECT_EQ(r.take(), message);
  EXPECT_TRUE(r.empty());
}

TEST(Ikev1Fragmentation, MalformedFragmentsAreRefusedWithAReason) {
  const auto pieces = fragment_datagram(big_message(), 1248, v1::ExchangeType::identity_protection);
  std::string why;
  auto refused = [&](Bytes p, const char* reason) {
    EXPECT_FALSE(parse_fragment(p, &why).has_value()) << reason;
    EXPECT_NE(why.find(reason), std::string::npos) << why;
  };
  refused(Bytes(pieces[0].begin(), pieces[0].begin() + 30), "shorter than its headers");
  Bytes chained = pieces[0];
  chained[28] = 5;
  refused(chained, "followed by payload type 5");
  Bytes truncated = pieces[0];
  truncated.pop_back();
  refused(truncated, "Payload Length");
  Bytes zero = pieces[0];
  zero[28 + 6] = 0;
  refused(zero, "number 0");
  Bytes empty(pieces[0].begin(), pieces[0].begin() + 36);
  empty[30] = 0;
  empty[31] = 8;
  refused(empty, "empty fragment");
}

TEST(Ikev1Fragmentation, ReassemblyRefusesWhatCannotBeOneMessage) {
  std::string why;
  const Bytes data(100, 0xab);
  auto frag = [&](std::uint8_t number, bool last, std::uint16_t id = 1, std::size_t size = 100) {
    return Fragment{id, number, last, std::span<const std::uint8_t>(data).first(std::min(size, data.size()))};
  };
  {
    Reassembly r;
    EXPECT_EQ(r.add(frag(3, true), &why), Reassembly::Result::incomplete);
    EXPECT_EQ(r.add(frag(2, true), &why), Reassembly::Result::rejected);
    EXPECT_NE(why.find("two different last"), std::string::npos) << why;
    EXPECT_TRUE(r.empty()) << "a rejected message's pieces are dropped";
  }
  {
    Reassembly r;
    EXPECT_EQ(r.add(frag(2, true), &why), Reassembly::Result::incomplete);
    EXPECT_EQ(r.add(frag(4, false), &why), Reassembly::Result::rejected);
    EXPECT_NE(why.find("after the last"), std::string::npos) << why;
  }
  {
    Reassembly r;
    EXPECT_EQ(r.add(frag(static_cast<std::uint8_t>(kMaxFragments + 1), false), &why), Reassembly::Result::rejected);
    EXPECT_NE(why.find("beyond the limit"), std::string::npos) << why;
  }
  {
    // More than kMaxReassembled bytes in all.
    const Bytes chunk(1000, 1);
    Reassembly r;
    Reassembly::Result last = Reassembly::Result::incomplete;
    for (std::uint8_t n = 1; n <= 11 && last == Reassembly::Result::incomplete; ++n)
      last = r.add(Fragment{1, n, false, chunk}, &why);
    EXPECT_EQ(last, Reassembly::Result::rejected);
    EXPECT_NE(why.find("more than 10000 bytes"), std::string::npos) << why;
  }
  {
    // A new Fragment ID starts a new message.
    Reassembly r;
    EXPECT_EQ(r.add(frag(1, false, 1), &why), Reassembly::Result::incomplete);
    EXPECT_EQ(r.add(frag(1, false, 2, 10), &why), Reassembly::Result::incomplete);
    ASSERT_EQ(r.add(frag(2, true, 2, 10), &why), Reassembly::Result::complete);
    EXPECT_EQ(r.take().size(), 20u);
  }
}

}  // namespace
