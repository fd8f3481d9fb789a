// SPD: outbound classification with rte_acl (priorities, ports, protocols,
// prefixes, actions, rebuilds), a randomized comparison of rte_acl against a
// plain linear scan, and the inbound selector check. The packet parser has
// its own tests in spd_key_test.cc.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include <algorithm>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "dataplane/tables/spd.h"
#include "dataplane/tables/spd_key.h"
#include "tests/unit/dataplane/eal_environment.h"
#include "tests/unit/dataplane/tables/packet_builders.h"

namespace corridor::dataplane::tables {

// Readable gtest failures (found by argument-dependent lookup).
void PrintTo(const SpdDecision& d, std::ostream* os) {
  static constexpr const char* kNames[] = {"protect", "bypass", "discard", "trap", "no_policy"};
  *os << kNames[static_cast<int>(d.verdict)] << "(policy " << d.policy_id << ", sa " << d.sa_index << ")";
}

namespace {

// EAL once per test binary: rte_acl lives in DPDK memory.
[[maybe_unused]] ::testing::Environment* const eal =
    ::testing::AddGlobalTestEnvironment(new dataplane::testing::EalEnvironment("spd_test"));

using namespace test;

// --- SpdTable ---------------------------------------------------------------

Prefix pfx4(A4 a, std::uint8_t length) {
  Prefix p;
  p.family = IpVersion::v4;
  p.length = length;
  std::copy(a.begin(), a.end(), p.address.begin());
  return p;
}
Prefix pfx6(A16 a, std::uint8_t length) {
  Prefix p;
  p.family = IpVersion::v6;
  p.length = length;
  p.address = a;
  return p;
}
const Prefix kAny4 = pfx4({0, 0, 0, 0}, 0);
const Prefix kAny6 = pfx6({}, 0);

Selector sel(Prefix src, Prefix dst, std::uint8_t protocol = 0, PortRange src_ports = {}, PortRange dst_ports = {}) {
  return Selector{src, dst, protocol, src_ports, dst_ports};
}
SpdRule rule(std::uint64_t id, std::uint32_t priority, Selector s, PolicyAction action, std::uint32_t sa = 0) {
  SpdRule r;
  r.policy_id = id;
  r.priority = priority;
  r.selector = s;
  r.action = action;
  r.sa_index = sa;
  return r;
}

std::unique_ptr<SpdTable> build(const std::vector<SpdRule>& rules) {
  std::string error;
  auto t = SpdTable::build(rules, error);
  EXPECT_NE(t, nullptr) << error;
  return t;
}

SpdDecision protect(std::uint64_t id, std::uint32_t sa) { return {SpdVerdict::protect, sa, id}; }
SpdDecision bypass(std::uint64_t id) { return {SpdVerdict::bypass, 0, id}; }
SpdDecision discard(std::uint64_t id) { return {SpdVerdict::discard, 0, id}; }
const SpdDecision kNoPolicy{};

V4Packet v4_packet(A4 src, A4 dst, std::uint8_t protocol, std::uint16_t sport, std::uint16_t dport) {
  V4Packet p;
  p.src = src;
  p.dst = dst;
  p.protocol = protocol;
  p.payload = ports(sport, dport);
  return p;
}

TEST(SpdTable, ActionsAndNoMatch) {
  const auto t = build({
      rule(1, 10, sel(pfx4({10, 1, 0, 0}, 16), pfx4({10, 2, 0, 0}, 16)), PolicyAction::protect, 42),
      rule(2, 10, sel(pfx4({10, 1, 0, 0}, 16), pfx4({192, 168, 0, 0}, 16)), PolicyAction::bypass),
      rule(3, 10, sel(pfx4({10, 1, 0, 0}, 16), pfx4({172, 16, 0, 0}, 12)), PolicyAction::discard),
  });
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->rule_count(IpVersion::v4), 3u);
  EXPECT_EQ(t->rule_count(IpVersion::v6), 0u);
  EXPECT_EQ(t->classify(key_of(v4_packet({10, 1, 2, 3}, {10, 2, 3, 4}, kTcp, 1, 2).build())), protect(1, 42));
  EXPECT_EQ(t->classify(key_of(v4_packet({10, 1, 2, 3}, {192, 168, 1, 1}, kUdp, 1, 2).build())), bypass(2));
  EXPECT_EQ(t->classify(key_of(v4_packet({10, 1, 2, 3}, {172, 31, 255, 255}, kUdp, 1, 2).build())), discard(3));
  EXPECT_EQ(t->classify(key_of(v4_packet({10, 1, 2, 3}, {172, 32, 0, 0}, kUdp, 1, 2).build())), kNoPolicy);
  EXPECT_EQ(t->classify(key_of(v4_packet({10, 3, 2, 3}, {10, 2, 3, 4}, kUdp, 1, 2).build())), kNoPolicy);
  // No IPv6 rule at all: IPv6 packets find no policy.
  EXPECT_EQ(t->classify(key_of(V6Packet{}.build())), kNoPolicy);
}

TEST(SpdTable, LowestPriorityWinsThenLowestPolicyId) {
  const Selector wide = sel(kAny4, kAny4);
  const Selector narrow = sel(pfx4({10, 0, 0, 0}, 8), pfx4({10, 9, 0, 0}, 16), kTcp);
  std::vector<SpdRule> rules = {
      rule(5, 100, wide, PolicyAction::discard),
      rule(6, 50, narrow, PolicyAction::protect, 1),
      rule(7, 50, narrow, PolicyAction::protect, 2),  // same priority, higher id: loses to 6
      rule(4, 60, narrow, PolicyAction::bypass),      // lower id, but priority 60 > 50
  };
  const auto packet = key_of(v4_packet({10, 0, 0, 1}, {10, 9, 0, 1}, kTcp, 1, 2).build());
  const auto other = key_of(v4_packet({10, 0, 0, 1}, {10, 9, 0, 1}, kUdp, 1, 2).build());
  for (int permutation = 0; permutation < 4; ++permutation) {
    std::rotate(rules.begin(), rules.begin() + 1, rules.end());  // order of hand-over does not matter
    const auto t = build(rules);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->classify(packet), protect(6, 1));
    EXPECT_EQ(t->classify(other), discard(5));
  }
  // A rule with priority 0 beats everything.
  rules.push_back(rule(99, 0, wide, PolicyAction::bypass));
  EXPECT_EQ(build(rules)->classify(packet), bypass(99));
}

TEST(SpdTable, PortRangesAndProtocols) {
  const auto t = build({
      rule(1, 1, sel(kAny4, kAny4, kTcp, {}, {1000, 2000}), PolicyAction::protect, 1),
      rule(2, 2, sel(kAny4, kAny4, kUdp, {53, 53}, {}), PolicyAction::protect, 2),
      rule(3, 3, sel(kAny4, kAny4, 0, {}, {443, 443}), PolicyAction::protect, 3),  // any protocol with ports
      rule(4, 9, sel(kAny4, kAny4, kTcp), PolicyAction::bypass),
  });
  ASSERT_NE(t, nullptr);
  auto tcp = [&](std::uint16_t dport) {
    return t->classify(key_of(v4_packet({1, 2, 3, 4}, {5, 6, 7, 8}, kTcp, 30000, dport).build()));
  };
  EXPECT_EQ(tcp(999), bypass(4));
  EXPECT_EQ(tcp(1000), protect(1, 1));
  EXPECT_EQ(tcp(2000), protect(1, 1));
  EXPECT_EQ(tcp(2001), bypass(4));
  EXPECT_EQ(tcp(443), protect(3, 3));
  auto udp = [&](std::uint16_t sport, std::uint16_t dport) {
    return t->classify(key_of(v4_packet({1, 2, 3, 4}, {5, 6, 7, 8}, kUdp, sport, dport).build()));
  };
  EXPECT_EQ(udp(53, 1500), protect(2, 2));
  EXPECT_EQ(udp(52, 1500), kNoPolicy);
  EXPECT_EQ(udp(54, 443), protect(3, 3));
  EXPECT_EQ(udp(54, 444), kNoPolicy);
}

TEST(SpdTable, OpaquePortsMatchOnlyAny) {
  const auto t = build({
      rule(1, 1, sel(kAny4, kAny4, kIcmp, {0x0800, 0x08ff}, {}), PolicyAction::protect, 1),  // echo request
      rule(2, 2, sel(kAny4, kAny4, 0, {}, {0, 1023}), PolicyAction::discard),
      rule(3, 3, sel(kAny4, kAny4, kTcp, {}, {}), PolicyAction::bypass),
      rule(4, 4, sel(kAny4, kAny4, kIcmp), PolicyAction::protect, 4),
  });
  ASSERT_NE(t, nullptr);
  V4Packet ping;
  ping.protocol = kIcmp;
  ping.payload = icmp(8, 0);
  EXPECT_EQ(t->classify(key_of(ping.build())), protect(1, 1));
  ping.payload = icmp(0, 0);  // echo reply: not 0x08xx; dst port OPAQUE skips rule 2
  EXPECT_EQ(t->classify(key_of(ping.build())), protect(4, 4));

  V4Packet fragment = v4_packet({1, 1, 1, 1}, {2, 2, 2, 2}, kTcp, 5, 80);
  EXPECT_EQ(t->classify(key_of(fragment.build())), discard(2));
  fragment.fragment_offset = 10;  // ports OPAQUE: only ANY-port rules match (RFC 4301 §7.1)
  EXPECT_EQ(t->classify(key_of(fragment.build())), bypass(3));
}

TEST(SpdTable, HostPrefixesAndDefaultRoutes) {
  const auto t = build({
      rule(1, 1, sel(pfx4({192, 0, 2, 7}, 32), pfx4({198, 51, 100, 1}, 32)), PolicyAction::protect, 1),
      rule(2, 2, sel(kAny4, kAny4), PolicyAction::bypass),
      rule(3, 1, sel(pfx6(addr6(0x2001, 0xdb8, 7), 128), pfx6(addr6(0x2001, 0xdb8, 8), 128)), PolicyAction::protect,
           3),
      rule(4, 2, sel(pfx6(addr6(0x2001, 0xdb8, 0), 33), kAny6), PolicyAction::discard),
      rule(5, 3, sel(kAny6, kAny6), PolicyAction::bypass),
  });
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->classify(key_of(v4_packet({192, 0, 2, 7}, {198, 51, 100, 1}, kUdp, 1, 2).build())), protect(1, 1));
  EXPECT_EQ(t->classify(key_of(v4_packet({192, 0, 2, 6}, {198, 51, 100, 1}, kUdp, 1, 2).build())), bypass(2));
  EXPECT_EQ(t->classify(key_of(v4_packet({192, 0, 2, 7}, {198, 51, 100, 0}, kUdp, 1, 2).build())), bypass(2));
  V6Packet q;
  q.src = addr6(0x2001, 0xdb8, 7);
  q.dst = addr6(0x2001, 0xdb8, 8);
  EXPECT_EQ(t->classify(key_of(q.build())), protect(3, 3));
  q.dst = addr6(0x2001, 0xdb8, 9);  // /128 differs in the last bit
  EXPECT_EQ(t->classify(key_of(q.build())), discard(4));
  q.src[4] = 0x80;  // bit 32 set: outside 2001:db8::/33
  EXPECT_EQ(t->classify(key_of(q.build())), bypass(5));
  q.src[4] = 0x7f;  // bit 32 clear, the bits after it set: inside
  EXPECT_EQ(t->classify(key_of(q.build())), discard(4));
  q.src[3] ^= 1;  // bit 31: outside
  EXPECT_EQ(t->classify(key_of(q.build())), bypass(5));
}

TEST(SpdTable, Ipv6WithExtensionHeadersAndFragments) {
  const Prefix lan = pfx6(addr6(0x2001, 0xdb8, 0), 32);
  const auto t = build({
      rule(1, 1, sel(lan, lan, kTcp, {}, {22, 22}), PolicyAction::protect, 7),
      rule(2, 2, sel(lan, lan, kTcp), PolicyAction::discard),
  });
  ASSERT_NE(t, nullptr);
  V6Packet q;
  q.protocol = kTcp;
  q.payload = ports(50000, 22);
  q.extensions = {{kHopByHop, ext(1)}, {kRouting, ext(2)}, {kDestOpts, ext(1)}};
  EXPECT_EQ(t->classify(key_of(q.build())), protect(1, 7));
  q.extensions.push_back({kFragment, fragment_header(0, true)});
  EXPECT_EQ(t->classify(key_of(q.build())), protect(1, 7));
  q.extensions.back() = {kFragment, fragment_header(3, true)};
  EXPECT_EQ(t->classify(key_of(q.build())), discard(2));
}

TEST(SpdTable, BurstsMixFamiliesAndSpanChunks) {
  const auto t = build({
      rule(1, 1, sel(kAny4, pfx4({10, 0, 0, 0}, 8)), PolicyAction::protect, 4),
      rule(2, 1, sel(kAny6, pfx6(addr6(0x2001, 0xdb8, 0), 32)), PolicyAction::protect, 6),
  });
  ASSERT_NE(t, nullptr);
  std::vector<PacketKey> keys;
  std::vector<SpdDecision> want;
  for (std::uint32_t i = 0; i < 150; ++i) {
    const bool inside = i % 3 != 0;
    if (i % 2 == 0) {
      keys.push_back(key_of(v4_packet({1, 1, 1, 1}, {static_cast<std::uint8_t>(inside ? 10 : 11), 0, 0, 1}, kUdp,
                                      static_cast<std::uint16_t>(i), 2)
                                .build()));
      want.push_back(inside ? protect(1, 4) : kNoPolicy);
    } else {
      V6Packet q;
      q.dst = addr6(0x2001, inside ? 0xdb8 : 0xdb9, static_cast<std::uint16_t>(i));
      keys.push_back(key_of(q.build()));
      want.push_back(inside ? protect(2, 6) : kNoPolicy);
    }
  }
  std::vector<SpdDecision> out(keys.size());
  t->classify_burst(keys.data(), static_cast<std::uint32_t>(keys.size()), out.data());
  EXPECT_EQ(out, want);
}

TEST(SpdTable, RebuildWithChangedRules) {
  std::vector<SpdRule> rules = {rule(1, 1, sel(kAny4, pfx4({10, 0, 0, 0}, 8)), PolicyAction::protect, 1)};
  const auto packet = key_of(v4_packet({1, 1, 1, 1}, {10, 1, 1, 1}, kUdp, 1, 2).build());
  auto old_table = build(rules);
  ASSERT_NE(old_table, nullptr);
  rules[0].sa_index = 2;  // rekeyed: same policy, new SA
  rules.push_back(rule(2, 0, sel(kAny4, pfx4({10, 1, 0, 0}, 16)), PolicyAction::discard));
  auto new_table = build(rules);
  ASSERT_NE(new_table, nullptr);
  // Both live at once (workers still on the old one until the grace period).
  EXPECT_EQ(old_table->classify(packet), protect(1, 1));
  EXPECT_EQ(new_table->classify(packet), discard(2));
  old_table.reset();
  EXPECT_EQ(new_table->classify(packet), discard(2));
  rules.erase(rules.begin() + 1);
  EXPECT_EQ(build(rules)->classify(packet), protect(1, 2));
  EXPECT_EQ(build({})->classify(packet), kNoPolicy);
}

TEST(SpdTable, RefusesInvalidRulesNamingThePolicy) {
  auto refused = [](std::vector<SpdRule> rules) {
    std::string error;
    EXPECT_EQ(SpdTable::build(rules, error), nullptr);
    return error;
  };
  const Selector ok = sel(kAny4, kAny4);
  EXPECT_EQ(refused({rule(3, 1, ok, PolicyAction::bypass), rule(3, 2, ok, PolicyAction::bypass)}),
            "policy 3: policy_id appears twice");
  EXPECT_EQ(refused({rule(4, 1, sel(kAny4, kAny6), PolicyAction::bypass)}),
            "policy 4: src and dst prefixes are of different address families");
  EXPECT_EQ(refused({rule(5, 1, sel(pfx4({10, 0, 0, 1}, 24), kAny4), PolicyAction::bypass)}),
            "policy 5: src: host bits set");
  EXPECT_EQ(refused({rule(6, 1, sel(kAny4, pfx4({10, 0, 0, 0}, 33)), PolicyAction::bypass)}),
            "policy 6: dst: prefix length too long");
  EXPECT_EQ(refused({rule(7, 1, sel(kAny4, kAny4, kTcp, {}, {90, 80}), PolicyAction::bypass)}),
            "policy 7: dst port range is reversed");
  EXPECT_EQ(refused({rule(8, 1, ok, static_cast<PolicyAction>(9))}), "policy 8: unknown action");
}

TEST(SpdTable, RuleFromPolicyRecord) {
  channel::PolicyRecord record;
  record.policy_id = 12;
  record.action = PolicyAction::protect;
  record.priority = 7;
  record.src = pfx4({10, 1, 0, 0}, 16);
  record.dst = pfx4({10, 2, 0, 0}, 16);
  record.ip_protocol = kTcp;
  record.dst_ports = {80, 80};
  record.sa_id = 99;
  const SpdRule r = rule_from(record, 5);
  EXPECT_EQ(r.policy_id, 12u);
  EXPECT_EQ(r.priority, 7u);
  EXPECT_EQ(r.selector, sel(record.src, record.dst, kTcp, {}, {80, 80}));
  EXPECT_EQ(r.sa_index, 5u);
  record.action = PolicyAction::bypass;
  EXPECT_EQ(rule_from(record, 5).sa_index, 0u);
}

// --- Randomized comparison against a linear scan -------------------------

// The reference: RFC 4301 matching written out directly, bit by bit, over
// the decoded key, independent of the rte_acl encoding.
bool ref_in_prefix(const Prefix& p, std::span<const std::uint8_t> a) {
  for (unsigned bit = 0; bit < p.length; ++bit) {
    const unsigned byte = bit / 8, shift = 7 - bit % 8;
    if (((a[byte] >> shift) & 1) != ((p.address[byte] >> shift) & 1)) return false;
  }
  return true;
}
bool ref_ports(const PortRange& r, std::optional<std::uint16_t> port) {
  if (r.low == 0 && r.high == 65535) return true;  // ANY, which alone takes OPAQUE
  return port && *port >= r.low && *port <= r.high;
}
bool ref_match(const Selector& s, const PacketKey& k) {
  return s.src.family == k.family() && (s.ip_protocol == 0 || s.ip_protocol == k.protocol()) &&
         ref_in_prefix(s.src, k.src_address()) && ref_in_prefix(s.dst, k.dst_address()) &&
         ref_ports(s.src_ports, k.src_port()) && ref_ports(s.dst_ports, k.dst_port());
}
SpdDecision ref_classify(const std::vector<SpdRule>& rules, const PacketKey& k) {
  const SpdRule* best = nullptr;
  for (const auto& r : rules) {
    if (!ref_match(r.selector, k)) continue;
    if (!best || std::tie(r.priority, r.policy_id) < std::tie(best->priority, best->policy_id)) best = &r;
  }
  if (!best) return kNoPolicy;
  switch (best->action) {
    case PolicyAction::protect: return protect(best->policy_id, best->sa_index);
    case PolicyAction::bypass: return bypass(best->policy_id);
    case PolicyAction::trap: return {SpdVerdict::trap, 0, best->policy_id};
    default: return discard(best->policy_id);
  }
}

class RandomTraffic {
 public:
  explicit RandomTraffic(std::uint32_t seed) : rng_(seed) {}

  // Addresses from a small space (10.0-3.x.x, 2001:db8:0-3::x) so that
  // rules overlap and packets hit them; prefix lengths cross byte and
  // 32-bit word boundaries.
  Prefix prefix(IpVersion family) {
    Prefix p;
    p.family = family;
    if (family == IpVersion::v4) {
      static constexpr std::uint8_t kLengths[] = {0, 8, 14, 16, 23, 24, 30, 32};
      p.length = kLengths[rng_() % std::size(kLengths)];
      p.address = {10, static_cast<std::uint8_t>(rng_() % 4), static_cast<std::uint8_t>(rng_() % 4),
                   static_cast<std::uint8_t>(rng_() % 8)};
    } else {
      static constexpr std::uint8_t kLengths[] = {0, 32, 33, 48, 63, 64, 96, 120, 127, 128};
      p.length = kLengths[rng_() % std::size(kLengths)];
      p.address = addr6(0x2001, 0xdb8, static_cast<std::uint16_t>(rng_() % 8));
      p.address[4] = static_cast<std::uint8_t>(rng_() % 4);
      p.address[8] = static_cast<std::uint8_t>(rng_() % 2 ? 0x80 : 0);
    }
    clear_host_bits(p);
    return p;
  }
  PortRange port_range() {
    if (rng_() % 2) return {};
    const auto low = static_cast<std::uint16_t>(rng_() % 2048);
    const auto span = rng_() % 3 == 0 ? 0 : rng_() % 512;
    return {low, static_cast<std::uint16_t>(std::min<std::uint32_t>(65535, low + span))};
  }
  SpdRule rule(std::uint64_t id) {
    const IpVersion family = rng_() % 2 ? IpVersion::v4 : IpVersion::v6;
    static constexpr std::uint8_t kProtocols[] = {0, 0, kTcp, kUdp, kIcmp, kIcmpV6};
    static constexpr PolicyAction kActions[] = {PolicyAction::protect, PolicyAction::bypass, PolicyAction::discard,
                                                PolicyAction::trap};
    Selector s{prefix(family), prefix(family), kProtocols[rng_() % std::size(kProtocols)], port_range(), port_range()};
    return tables_rule(id, static_cast<std::uint32_t>(rng_() % 16), s, kActions[rng_() % std::size(kActions)],
                       static_cast<std::uint32_t>(rng_() % 1000));
  }
  // A packet inside a random rule's prefixes (host bits random) most of the
  // time, with ports near that rule's range edges.
  Bytes packet(const std::vector<SpdRule>& rules) {
    const SpdRule& r = rules[rng_() % rules.size()];
    const IpVersion family = rng_() % 8 == 0 ? other(r.selector.src.family) : r.selector.src.family;
    static constexpr std::uint8_t kProtocols[] = {kTcp, kUdp, kIcmp, kIcmpV6, kGre};
    const std::uint8_t protocol =
        rng_() % 2 && r.selector.ip_protocol != 0 ? r.selector.ip_protocol : kProtocols[rng_() % std::size(kProtocols)];
    const std::uint16_t sport = port_near(r.selector.src_ports);
    const std::uint16_t dport = port_near(r.selector.dst_ports);
    Bytes payload = protocol == kIcmp || protocol == kIcmpV6
                        ? icmp(static_cast<std::uint8_t>(sport >> 8), static_cast<std::uint8_t>(sport))
                        : ports(sport, dport);
    const bool fragment = rng_() % 10 == 0;
    if (family == IpVersion::v4) {
      V4Packet p;
      p.protocol = protocol;
      std::copy_n(address_in(r.selector.src, family).begin(), 4, p.src.begin());
      std::copy_n(address_in(r.selector.dst, family).begin(), 4, p.dst.begin());
      if (rng_() % 4 == 0) p.options.assign(4 * (1 + rng_() % 3), 1);
      p.fragment_offset = fragment ? static_cast<std::uint16_t>(1 + rng_() % 100) : 0;
      p.payload = payload;
      return p.build();
    }
    V6Packet q;
    q.protocol = protocol;
    q.src = address_in(r.selector.src, family);
    q.dst = address_in(r.selector.dst, family);
    if (rng_() % 4 == 0) q.extensions.push_back({kHopByHop, ext(1)});
    if (rng_() % 4 == 0) q.extensions.push_back({kRouting, ext(1 + rng_() % 3)});
    if (fragment) q.extensions.push_back({kFragment, fragment_header(static_cast<std::uint16_t>(1 + rng_() % 100), true)});
    q.payload = payload;
    return q.build();
  }

 private:
  static SpdRule tables_rule(std::uint64_t id, std::uint32_t priority, Selector s, PolicyAction a, std::uint32_t sa) {
    return corridor::dataplane::tables::rule(id, priority, s, a, a == PolicyAction::protect ? sa : 0);
  }
  static IpVersion other(IpVersion f) { return f == IpVersion::v4 ? IpVersion::v6 : IpVersion::v4; }
  static void clear_host_bits(Prefix& p) {
    for (unsigned bit = p.length; bit < 128; ++bit) p.address[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  A16 address_in(const Prefix& p, IpVersion family) {
    A16 a{};
    const unsigned bits = family == IpVersion::v4 ? 32 : 128;
    for (unsigned bit = 0; bit < bits; ++bit) {
      // Inside the prefix: copy its bits; past them, mostly small numbers so
      // that other rules' prefixes get hit too.
      const bool one = p.family == family && bit < p.length ? ((p.address[bit / 8] >> (7 - bit % 8)) & 1) != 0
                       : bit >= bits - 3                    ? rng_() % 2 != 0
                                                            : rng_() % 16 == 0;
      if (one) a[bit / 8] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
    }
    return a;
  }
  std::uint16_t port_near(const PortRange& r) {
    switch (rng_() % 5) {
      case 0: return static_cast<std::uint16_t>(r.low - (r.low > 0 ? 1 : 0));
      case 1: return r.low;
      case 2: return r.high;
      case 3: return static_cast<std::uint16_t>(r.high + (r.high < 65535 ? 1 : 0));
      default: return static_cast<std::uint16_t>(rng_());
    }
  }

  std::mt19937 rng_;
};

TEST(SpdTable, MatchesALinearScanOnRandomRulesAndPackets) {
  RandomTraffic gen(4301);
  std::vector<SpdRule> rules;
  for (std::uint64_t id = 1; id <= 300; ++id) rules.push_back(gen.rule(id));
  const auto t = build(rules);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->rule_count(IpVersion::v4) + t->rule_count(IpVersion::v6), rules.size());

  std::vector<PacketKey> keys;
  for (int i = 0; i < 4000; ++i) keys.push_back(key_of(gen.packet(rules)));
  std::vector<SpdDecision> out(keys.size());
  t->classify_burst(keys.data(), static_cast<std::uint32_t>(keys.size()), out.data());

  SelectorSet all;
  for (const auto& r : rules) ASSERT_EQ(all.add(r.selector), "");
  int mismatches = 0, matched = 0, opaque = 0;
  std::vector<int> verdicts(5, 0);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const SpdDecision want = ref_classify(rules, keys[i]);
    if (out[i] != want && ++mismatches <= 5) {
      ADD_FAILURE() << "packet " << i << ": rte_acl says policy " << out[i].policy_id << ", the scan says "
                    << want.policy_id;
    }
    matched += want.verdict != SpdVerdict::no_policy;
    opaque += !keys[i].dst_port().has_value();
    ++verdicts[static_cast<int>(want.verdict)];
    // The inbound check, fed the same rules as selectors, agrees that some rule matches.
    EXPECT_EQ(selectors_match(all, keys[i]), want.verdict != SpdVerdict::no_policy) << i;
  }
  EXPECT_EQ(mismatches, 0);
  // The traffic exercised what it is meant to: most packets hit a rule, some
  // miss, every action wins somewhere, and OPAQUE ports occur.
  EXPECT_GT(matched, 2000);
  EXPECT_GT(verdicts[static_cast<int>(SpdVerdict::no_policy)], 50);
  EXPECT_GT(verdicts[static_cast<int>(SpdVerdict::protect)], 100);
  EXPECT_GT(verdicts[static_cast<int>(SpdVerdict::bypass)], 100);
  EXPECT_GT(verdicts[static_cast<int>(SpdVerdict::discard)], 100);
  EXPECT_GT(verdicts[static_cast<int>(SpdVerdict::trap)], 100);
  EXPECT_GT(opaque, 300);
}

// --- Inbound selector check ----------------------------------------------

TEST(SelectorSet, InboundPacketMustFallInsideTheSaSelectors) {
  // Inbound SA for remote 10.2.0.0/16 -> local 10.1.0.0/16, plus a second
  // pair for TCP to 10.1.5.5 port 22 from the remote 192.0.2.0/24.
  SelectorSet set;
  EXPECT_TRUE(set.empty());
  ASSERT_EQ(set.add(sel(pfx4({10, 2, 0, 0}, 16), pfx4({10, 1, 0, 0}, 16))), "");
  ASSERT_EQ(set.add(sel(pfx4({192, 0, 2, 0}, 24), pfx4({10, 1, 5, 5}, 32), kTcp, {}, {22, 22})), "");
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.add(sel(pfx4({10, 2, 0, 1}, 16), kAny4)), "src: host bits set");
  EXPECT_EQ(set.size(), 2u);

  auto match = [&](A4 src, A4 dst, std::uint8_t protocol, std::uint16_t dport) {
    return selectors_match(set, key_of(v4_packet(src, dst, protocol, 33000, dport).build()));
  };
  EXPECT_TRUE(match({10, 2, 9, 9}, {10, 1, 0, 1}, kUdp, 53));
  EXPECT_FALSE(match({10, 3, 9, 9}, {10, 1, 0, 1}, kUdp, 53));  // spoofed inner source
  EXPECT_FALSE(match({10, 2, 9, 9}, {10, 4, 0, 1}, kUdp, 53));
  EXPECT_TRUE(match({192, 0, 2, 200}, {10, 1, 5, 5}, kTcp, 22));
  EXPECT_FALSE(match({192, 0, 2, 200}, {10, 1, 5, 5}, kTcp, 23));
  EXPECT_FALSE(match({192, 0, 2, 200}, {10, 1, 5, 5}, kUdp, 22));
  EXPECT_FALSE(match({192, 0, 2, 200}, {10, 1, 5, 6}, kTcp, 22));
  // A non-initial fragment to port 22 has OPAQUE ports: only the ANY-port pair could take it.
  V4Packet fragment = v4_packet({192, 0, 2, 200}, {10, 1, 5, 5}, kTcp, 33000, 22);
  fragment.fragment_offset = 20;
  EXPECT_FALSE(selectors_match(set, key_of(fragment.build())));
  fragment.src = {10, 2, 0, 1};
  fragment.dst = {10, 1, 5, 5};
  EXPECT_TRUE(selectors_match(set, key_of(fragment.build())));
  // An IPv6 packet never matches IPv4 selectors.
  EXPECT_FALSE(selectors_match(set, key_of(V6Packet{}.build())));
  EXPECT_FALSE(selectors_match(SelectorSet{}, key_of(V4Packet{}.build())));

  SelectorSet v6;
  ASSERT_EQ(v6.add(sel(pfx6(addr6(0x2001, 0xdb8, 0), 32), pfx6(addr6(0x2001, 0xdb8, 2), 127), kIcmpV6,
                       {0x8000, 0x81ff}, {})),
            "");
  V6Packet echo;
  echo.protocol = kIcmpV6;
  echo.payload = icmp(128, 0);
  EXPECT_TRUE(selectors_match(v6, key_of(echo.build())));
  echo.dst = addr6(0x2001, 0xdb8, 3);  // still inside the /127
  EXPECT_TRUE(selectors_match(v6, key_of(echo.build())));
  echo.dst = addr6(0x2001, 0xdb8, 4);
  EXPECT_FALSE(selectors_match(v6, key_of(echo.build())));
  echo.dst = addr6(0x2001, 0xdb8, 2);
  echo.payload = icmp(135, 0);  // neighbour solicitation: type outside 128-129
  EXPECT_FALSE(selectors_match(v6, key_of(echo.build())));
}

}  // namespace
}  // namespace corridor::dataplane::tables
