// Traffic selector narrowing (RFC 7296 §2.9) as a site-to-site responder
// meets it: subnets, ranges, protocol/port restrictions, IPv6, dynamic, and
// the prefixes the dataplane gets.
#include "control/ike/ts_narrow.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace corridor::control::ike {
namespace {

namespace wire = corridor::ike;

net::TrafficSelector ts(const std::string& text) {
  std::string error;
  const auto parsed = net::TrafficSelector::parse(text, &error);
  EXPECT_TRUE(parsed.has_value()) << text << ": " << error;
  return parsed.value_or(net::TrafficSelector{});
}

std::vector<net::TrafficSelector> list(const std::vector<std::string>& texts) {
  std::vector<net::TrafficSelector> out;
  for (const auto& text : texts) out.push_back(ts(text));
  return out;
}

std::vector<std::string> text(const std::vector<net::TrafficSelector>& selectors) {
  std::vector<std::string> out;
  for (const auto& s : selectors) out.push_back(s.to_string());
  return out;
}

std::vector<std::string> narrow_text(const std::vector<std::string>& proposed,
                                     const std::vector<std::string>& configured) {
  return text(narrow(list(proposed), list(configured)));
}

net::IpAddress ip(const std::string& text) { return net::IpAddress::parse(text).value(); }

using Strings = std::vector<std::string>;

// --- narrowing -------------------------------------------------------------------------------

// --- §2.9: the triggering packet first -------------------------------------------------------

TEST(InitiatorSelectors, TheTriggeringPacketGoesFirstAndNarrowingDropsIt) {
  const auto configured = list({"10.1.0.0/16", "dynamic"});
  EXPECT_EQ(text(from_wire(initiator_selectors(configured, ip("192.0.2.1"), std::nullopt))),
            (Strings{"10.1.0.0/16", "192.0.2.1/32"}));
  const auto packet = ts("10.1.0.5/32[tcp/40000]");
  EXPECT_EQ(text(from_wire(initiator_selectors(configured, ip("192.0.2.1"), packet))),
            (Strings{"10.1.0.5/32[tcp/40000]", "10.1.0.0/16", "192.0.2.1/32"}));
  // A responder configured for the subnet narrows to it: the packet's
  // selector lies inside and adds nothing.
  EXPECT_EQ(narrow_text({"10.1.0.5/32[tcp/40000]", "10.1.0.0/16"}, {"10.1.0.0/16"}), (Strings{"10.1.0.0/16"}));
}

TEST(Narrow, SubnetWithSubnet) {
  EXPECT_EQ(narrow_text({"10.0.0.0/16"}, {"10.0.1.0/24"}), Strings{"10.0.1.0/24"});
  EXPECT_EQ(narrow_text({"10.0.1.0/24"}, {"10.0.0.0/16"}), Strings{"10.0.1.0/24"});
  EXPECT_EQ(narrow_text({"0.0.0.0/0"}, {"10.1.0.0/16", "10.2.0.0/16"}), (Strings{"10.1.0.0/16", "10.2.0.0/16"}));
}

TEST(Narrow, RangeWithSubnet) {
  EXPECT_EQ(narrow_text({"10.0.0.5-10.0.0.50"}, {"10.0.0.32/27"}), Strings{"10.0.0.32-10.0.0.50"});
  EXPECT_EQ(narrow_text({"10.0.0.0/24"}, {"10.0.0.200-10.0.1.20"}), Strings{"10.0.0.200-10.0.0.255"});
}

TEST(Narrow, ProtocolAndPorts) {
  // The peer proposes everything, we allow HTTPS only.
  EXPECT_EQ(narrow_text({"0.0.0.0/0"}, {"10.0.0.0/8[tcp/443]"}), Strings{"10.0.0.0/8[tcp/443]"});
  EXPECT_EQ(narrow_text({"10.0.0.0/8[tcp/1000-2000]"}, {"10.0.0.0/8[tcp/1500-3000]"}),
            Strings{"10.0.0.0/8[tcp/1500-2000]"});
  EXPECT_EQ(narrow_text({"10.0.0.0/8[udp]"}, {"10.0.0.0/8[tcp]"}), Strings{});
  EXPECT_EQ(narrow_text({"10.0.0.0/8[tcp/80]"}, {"10.0.0.0/8[tcp/443]"}), Strings{});
  // OPAQUE (RFC 7296 §3.13.1) is within ANY ports but not within a range.
  EXPECT_EQ(narrow_text({"10.0.0.0/8[udp/opaque]"}, {"10.0.0.0/8[udp]"}), Strings{"10.0.0.0/8[udp/opaque]"});
  EXPECT_EQ(narrow_text({"10.0.0.0/8[udp]"}, {"10.0.0.0/8[udp/opaque]"}), Strings{"10.0.0.0/8[udp/opaque]"});
  EXPECT_EQ(narrow_text({"10.0.0.0/8[udp/opaque]"}, {"10.0.0.0/8[udp/53]"}), Strings{});
}

TEST(Narrow, NoOverlapIsEmpty) {
  EXPECT_TRUE(narrow(list({"10.1.0.0/16"}), list({"10.2.0.0/16"})).empty());
  EXPECT_TRUE(narrow(list({"10.1.0.0/16"}), {}).empty());
  EXPECT_TRUE(narrow({}, list({"10.1.0.0/16"})).empty());
}

TEST(Narrow, Ipv6AndMixedFamilies) {
  EXPECT_EQ(narrow_text({"2001:db8::/32"}, {"2001:db8:1::/48"}), Strings{"2001:db8:1::/48"});
  EXPECT_EQ(narrow_text({"2001:db8::/32[ipv6-icmp]"}, {"2001:db8:1::/48"}), Strings{"2001:db8:1::/48[ipv6-icmp]"});
  // Families never intersect; each family narrows on its own.
  EXPECT_EQ(narrow_text({"0.0.0.0/0"}, {"::/0"}), Strings{});
  EXPECT_EQ(narrow_text({"10.0.0.0/8", "2001:db8::/32"}, {"2001:db8:5::/48", "10.5.0.0/16"}),
            (Strings{"10.5.0.0/16", "2001:db8:5::/48"}));
}

TEST(Narrow, ProposerOrderAndNoRedundancy) {
  EXPECT_EQ(narrow_text({"10.1.0.0/24", "10.0.0.0/24"}, {"10.0.0.0/8"}), (Strings{"10.1.0.0/24", "10.0.0.0/24"}));
  // The triggering packet (first TS, §2.9) is intersected like any other
  // selector; contained in the second result, it is dropped.
  EXPECT_EQ(narrow_text({"10.0.0.5/32", "10.0.0.0/24"}, {"10.0.0.0/16"}), Strings{"10.0.0.0/24"});
  // Outside any other result it stays, first.
  EXPECT_EQ(narrow_text({"10.0.0.5/32[tcp/80]", "10.9.0.0/24"}, {"10.0.0.0/8"}),
            (Strings{"10.0.0.5/32[tcp/80]", "10.9.0.0/24"}));
  // Only containment in every dimension makes a result redundant.
  EXPECT_EQ(narrow_text({"10.0.0.0/24[tcp/80]", "10.0.0.0/16[tcp/443]"}, {"10.0.0.0/8"}),
            (Strings{"10.0.0.0/24[tcp/80]", "10.0.0.0/16[tcp/443]"}));
  EXPECT_EQ(narrow_text({"10.0.0.0/24[tcp/80]", "10.0.0.0/16[udp]"}, {"10.0.0.0/8"}),
            (Strings{"10.0.0.0/24[tcp/80]", "10.0.0.0/16[udp]"}));
  // Overlapping config selectors give one copy.
  EXPECT_EQ(narrow_text({"10.0.0.0/24"}, {"10.0.0.0/16", "10.0.0.0/8"}), Strings{"10.0.0.0/24"});
}

TEST(Narrow, DynamicMustBeResolved) {
  const auto configured = list({"dynamic"});
  EXPECT_TRUE(narrow(list({"0.0.0.0/0"}), configured).empty());
  const auto resolved = resolve_dynamic(configured, ip("192.0.2.7"));
  ASSERT_EQ(resolved.size(), 1U);
  EXPECT_FALSE(resolved[0].dynamic);
  EXPECT_EQ(text(narrow(list({"0.0.0.0/0"}), resolved)), Strings{"192.0.2.7/32"});
}

// --- wire conversion ---------------------------------------------------------------------------

TEST(Wire, DynamicBecomesTheIkeAddress) {
  const auto w = to_wire(list({"dynamic", "dynamic[tcp/80]"}), ip("192.0.2.1"));
  ASSERT_EQ(w.selectors.size(), 2U);
  EXPECT_EQ(w.selectors[0].type, iana::TsType::ts_ipv4_addr_range);
  EXPECT_EQ(w.selectors[0].start_address, (wire::Bytes{192, 0, 2, 1}));
  EXPECT_EQ(w.selectors[0].end_address, (wire::Bytes{192, 0, 2, 1}));
  EXPECT_EQ(w.selectors[0].ip_protocol, 0);
  EXPECT_EQ(w.selectors[0].start_port, 0);
  EXPECT_EQ(w.selectors[0].end_port, 65535);
  EXPECT_EQ(w.selectors[1].ip_protocol, 6);
  EXPECT_EQ(w.selectors[1].start_port, 80);
  EXPECT_EQ(w.selectors[1].end_port, 80);

  const auto v6 = to_wire(list({"dynamic"}), ip("2001:db8::1"));
  ASSERT_EQ(v6.selectors.size(), 1U);
  EXPECT_EQ(v6.selectors[0].type, iana::TsType::ts_ipv6_addr_range);
  ASSERT_EQ(v6.selectors[0].start_address.size(), 16U);
  EXPECT_EQ(v6.selectors[0].start_address, v6.selectors[0].end_address);
  EXPECT_EQ(v6.selectors[0].start_address[15], 1);
  EXPECT_EQ(text(from_wire(v6)), Strings{"2001:db8::1/128"});
}

TEST(Wire, RoundTrip) {
  const auto config = list({"10.1.0.0/16", "10.0.0.5-10.0.0.50[udp/500-4500]", "2001:db8::/64[tcp]",
                            "10.0.0.0/8[udp/opaque]"});
  const auto w = to_wire(config, ip("192.0.2.1"));
  ASSERT_EQ(w.selectors.size(), 4U);
  EXPECT_EQ(w.selectors[1].start_address, (wire::Bytes{10, 0, 0, 5}));
  EXPECT_EQ(w.selectors[1].end_address, (wire::Bytes{10, 0, 0, 50}));
  EXPECT_EQ(w.selectors[3].start_port, 65535);
  EXPECT_EQ(w.selectors[3].end_port, 0);
  EXPECT_EQ(from_wire(w), config);
}

TEST(Wire, MalformedEntriesAreLeftOut) {
  wire::TrafficSelectors w;
  wire::TrafficSelector bad;
  bad.type = iana::TsType::ts_ipv6_addr_range;
  bad.start_address = {10, 0, 0, 1};
  bad.end_address = {10, 0, 0, 2};
  w.selectors.push_back(bad);
  EXPECT_TRUE(from_wire(w).empty());
}

// --- initiator check ---------------------------------------------------------------------------

TEST(IsSubset, NarrowedResponsesAreSubsets) {
  const auto proposed = list({"10.0.0.0/16", "2001:db8::/32"});
  const auto response = narrow(proposed, list({"10.0.1.0/24[tcp/443]", "2001:db8:1::/48"}));
  ASSERT_EQ(response.size(), 2U);
  std::string why;
  EXPECT_TRUE(is_subset(response, proposed, &why)) << why;
  EXPECT_TRUE(is_subset(proposed, proposed));
}

TEST(IsSubset, WiderResponsesAreNot) {
  std::string why;
  EXPECT_FALSE(is_subset(list({"10.0.0.0/15"}), list({"10.0.0.0/16"}), &why));
  EXPECT_NE(why.find("10.0.0.0/15"), std::string::npos) << why;
  EXPECT_NE(why.find("10.0.0.0/16"), std::string::npos) << why;
  // Any protocol is wider than TCP, all ports wider than one.
  EXPECT_FALSE(is_subset(list({"10.0.0.0/24"}), list({"10.0.0.0/16[tcp]"})));
  EXPECT_FALSE(is_subset(list({"10.0.0.0/24[tcp]"}), list({"10.0.0.0/16[tcp/443]"})));
  EXPECT_FALSE(is_subset(list({"10.0.0.0/24[udp/opaque]"}), list({"10.0.0.0/16[udp/53]"})));
  EXPECT_TRUE(is_subset(list({"10.0.0.0/24[udp/opaque]"}), list({"10.0.0.0/16[udp]"})));
  // Another family.
  EXPECT_FALSE(is_subset(list({"2001:db8::/64"}), list({"0.0.0.0/0"})));
  EXPECT_FALSE(is_subset(list({"dynamic"}), list({"0.0.0.0/0"})));
}

TEST(IsSubset, UnionOfProposedSelectorsCounts) {
  const auto halves = list({"10.0.0.0/25", "10.0.0.128/25"});
  EXPECT_TRUE(is_subset(list({"10.0.0.0/24"}), halves));
  EXPECT_TRUE(is_subset(list({"10.0.0.100-10.0.0.200"}), halves));
  EXPECT_FALSE(is_subset(list({"10.0.0.0/23"}), halves));
  // Ports split across two selectors.
  EXPECT_TRUE(is_subset(list({"10.0.0.0/24[tcp/1000-3000]"}),
                        list({"10.0.0.0/24[tcp/0-2000]", "10.0.0.0/24[tcp/2001-65535]"})));
  EXPECT_FALSE(is_subset(list({"10.0.0.0/24[tcp/1000-3000]"}),
                         list({"10.0.0.0/24[tcp/0-2000]", "10.0.0.0/24[tcp/2002-65535]"})));
}

// --- prefixes for the dataplane ----------------------------------------------------------------

// Checks that `prefixes` cover exactly [first, last] of the last octet of
// 10.0.0.x without overlap.
void expect_exact_cover(const std::vector<net::Prefix>& prefixes, unsigned first, unsigned last) {
  for (unsigned host = 0; host < 256; ++host) {
    const auto address = net::IpAddress::v4((10U << 24) | host);
    int hits = 0;
    for (const auto& prefix : prefixes) hits += prefix.contains(address) ? 1 : 0;
    EXPECT_EQ(hits, host >= first && host <= last ? 1 : 0) << "10.0.0." << host;
  }
}

TEST(ToPrefixes, RangeBecomesTheFewestPrefixes) {
  const auto prefixes = to_prefixes(ts("10.0.0.5-10.0.0.50"));
  std::vector<std::string> texts;
  for (const auto& p : prefixes) texts.push_back(p.to_string());
  EXPECT_EQ(texts, (Strings{"10.0.0.5/32", "10.0.0.6/31", "10.0.0.8/29", "10.0.0.16/28", "10.0.0.32/28",
                            "10.0.0.48/31", "10.0.0.50/32"}));
  expect_exact_cover(prefixes, 5, 50);
}

TEST(ToPrefixes, ExactCoverForManyRanges) {
  for (unsigned first : {0U, 1U, 7U, 64U, 127U, 200U}) {
    for (unsigned last : {first, first + 1, 130U, 254U, 255U}) {
      if (last < first || last > 255) continue;
      const auto range = ts("10.0.0." + std::to_string(first) + "-10.0.0." + std::to_string(last));
      const auto prefixes = to_prefixes(range);
      expect_exact_cover(prefixes, first, last);
      // No two neighbours that could merge into one prefix: the cover is minimal.
      for (std::size_t i = 0; i + 1 < prefixes.size(); ++i) {
        const auto& a = prefixes[i];
        const auto& b = prefixes[i + 1];
        const bool mergeable = a.length == b.length && a.length > 0 &&
                               a.address.masked(a.length - 1U) == a.address &&
                               b.address.masked(b.length - 1U) == a.address;
        EXPECT_FALSE(mergeable) << a.to_string() << " + " << b.to_string();
      }
    }
  }
}

TEST(ToPrefixes, WholeSpacesSubnetsAndIpv6) {
  auto one = [](const std::string& selector) {
    std::vector<std::string> out;
    for (const auto& p : to_prefixes(ts(selector))) out.push_back(p.to_string());
    return out;
  };
  EXPECT_EQ(one("0.0.0.0/0"), Strings{"0.0.0.0/0"});
  EXPECT_EQ(one("10.1.0.0/16[tcp/443]"), Strings{"10.1.0.0/16"});
  EXPECT_EQ(one("192.0.2.9-192.0.2.9"), Strings{"192.0.2.9/32"});
  EXPECT_EQ(one("::/0"), Strings{"::/0"});
  EXPECT_EQ(one("2001:db8::1-2001:db8::ffff"),
            (Strings{"2001:db8::1/128", "2001:db8::2/127", "2001:db8::4/126", "2001:db8::8/125",
                     "2001:db8::10/124", "2001:db8::20/123", "2001:db8::40/122", "2001:db8::80/121",
                     "2001:db8::100/120", "2001:db8::200/119", "2001:db8::400/118", "2001:db8::800/117",
                     "2001:db8::1000/116", "2001:db8::2000/115", "2001:db8::4000/114", "2001:db8::8000/113"}));
  EXPECT_EQ(one("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe").size(), 128U);
  EXPECT_TRUE(to_prefixes(ts("dynamic")).empty());
}

}  // namespace
}  // namespace corridor::control::ike
