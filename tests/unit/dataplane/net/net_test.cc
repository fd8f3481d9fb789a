// The dataplane's link layer and routing: longest-prefix match with
// connected and gatewayed routes, the neighbor table (static entries win,
// resolution requests rate-limited), ARP replies and learning.
#include <rte_mbuf.h>

#include "dataplane/net/arp.h"
#include "dataplane/net/neighbors.h"
#include "dataplane/net/routes.h"
#include "tests/unit/dataplane/esp_fixture.h"

namespace corridor::dataplane::net {
namespace {

using corridor::net::IpAddress;
using corridor::net::Prefix;
using ipsec::testing::Bytes;

Prefix prefix(const char* text) { return *Prefix::parse(text); }
IpAddress ip(const char* text) { return *IpAddress::parse(text); }

TEST(RouteTable, LongestPrefixWinsAndDefaultRoutesWork) {
  RouteTable routes("rt_test1");
  std::string error;
  ASSERT_TRUE(routes.add(prefix("10.1.0.0/16"), {0, true, {}}, &error)) << error;
  ASSERT_TRUE(routes.add(prefix("10.1.2.0/24"), {1, false, ip("192.0.2.9")}, &error)) << error;
  ASSERT_TRUE(routes.add(prefix("0.0.0.0/0"), {2, false, ip("198.51.100.254")}, &error)) << error;
  ASSERT_TRUE(routes.add(prefix("2001:db8::/32"), {3, true, {}}, &error)) << error;
  auto v4 = [&](const char* a) { return routes.lookup_v4(ip(a).bytes().data()); };
  ASSERT_NE(v4("10.1.9.9"), nullptr);
  EXPECT_EQ(v4("10.1.9.9")->port, 0);
  EXPECT_TRUE(v4("10.1.9.9")->connected);
  EXPECT_EQ(v4("10.1.2.3")->port, 1);
  EXPECT_EQ(v4("10.1.2.3")->gateway, ip("192.0.2.9"));
  EXPECT_EQ(v4("203.0.113.7")->port, 2) << "default route, upper half";
  EXPECT_EQ(v4("1.2.3.4")->port, 2) << "default route, lower half";
  EXPECT_EQ(routes.lookup_v6(ip("2001:db8:5::1").bytes().data())->port, 3);
  EXPECT_EQ(routes.lookup_v6(ip("2001:db9::1").bytes().data()), nullptr) << "no IPv6 default route";
}

TEST(NeighborTable, StaticEntriesWinAndRequestsAreRateLimited) {
  NeighborTable table("nt_test1", 64);
  const auto key = NeighborKey::of(1, ip("10.1.0.5"));
  EXPECT_FALSE(table.lookup(key));
  const MacAddress a = *MacAddress::parse("02:00:00:00:00:0a"), b = *MacAddress::parse("02:00:00:00:00:0b");
  ASSERT_TRUE(table.set(key, a, true));
  ASSERT_TRUE(table.set(key, b, false));
  EXPECT_EQ(*table.lookup(key), a) << "a learnt MAC does not replace a configured one";
  EXPECT_FALSE(table.lookup(NeighborKey::of(2, ip("10.1.0.5")))) << "per port";

  const auto other = NeighborKey::of(1, ip("10.1.0.6"));
  table.request(other);
  table.request(other);
  const auto first = table.next_request(1'000);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->address(), ip("10.1.0.6"));
  EXPECT_FALSE(table.next_request(2'000)) << "the second ask within a second is not sent";
  table.request(other);
  EXPECT_TRUE(table.next_request(2'000'000'000)) << "a second later it is";
  table.set(other, b, false);
  table.request(other);
  EXPECT_FALSE(table.next_request(9'000'000'000)) << "resolved meanwhile";
  EXPECT_FALSE(MacAddress::parse("02:00:00:00:00"));
  EXPECT_FALSE(MacAddress::parse("02:00:00:00:00:0g"));
}

class ArpTest : public ::testing::Test {
 protected:
  ArpTest() : table_("nt_arp" + std::to_string(++n_), 64) {
    port_.index = 1;
    port_.mac = *MacAddress::parse("02:00:00:00:01:01");
    port_.ipv4 = {prefix("10.1.0.1/24")};
  }
  // An Ethernet/IPv4 ARP frame.
  static Bytes arp(std::uint16_t op, const char* sender_mac, const char* sender_ip, const char* target_ip) {
    Bytes f(42, 0);
    const auto smac = *MacAddress::parse(sender_mac);
    std::fill(f.begin(), f.begin() + 6, 0xff);
    std::copy(smac.bytes.begin(), smac.bytes.end(), f.begin() + 6);
    f[12] = 0x08, f[13] = 0x06;
    f[14] = 0, f[15] = 1, f[16] = 0x08, f[17] = 0, f[18] = 6, f[19] = 4, f[20] = 0, f[21] = static_cast<std::uint8_t>(op);
    std::copy(smac.bytes.begin(), smac.bytes.end(), f.begin() + 22);
    const auto s = ip(sender_ip).bytes(), t = ip(target_ip).bytes();
    std::copy(s.begin(), s.begin() + 4, f.begin() + 28);
    std::copy(t.begin(), t.begin() + 4, f.begin() + 38);
    return f;
  }
  ArpResult run(const Bytes& frame, Bytes* out = nullptr) {
    rte_mbuf* m = ipsec::testing::to_mbuf(frame);
    const ArpResult r = handle_arp(m, port_, table_);
    if (out) *out = ipsec::testing::bytes_of(m);
    rte_pktmbuf_free(m);
    return r;
  }
  static inline int n_ = 0;
  ArpPort port_;
  NeighborTable table_;
};

TEST_F(ArpTest, RequestsForOurAddressAreAnsweredAndTheSenderLearnt) {
  Bytes reply;
  ASSERT_EQ(run(arp(1, "02:00:00:00:00:05", "10.1.0.5", "10.1.0.1"), &reply), ArpResult::reply);
  ASSERT_EQ(reply.size(), 42u);
  EXPECT_EQ(Bytes(reply.begin(), reply.begin() + 6), Bytes({2, 0, 0, 0, 0, 5})) << "unicast back";
  EXPECT_EQ(Bytes(reply.begin() + 6, reply.begin() + 12), Bytes({2, 0, 0, 0, 1, 1}));
  EXPECT_EQ(reply[21], 2) << "op reply";
  EXPECT_EQ(Bytes(reply.begin() + 22, reply.begin() + 28), Bytes({2, 0, 0, 0, 1, 1})) << "sender MAC: ours";
  EXPECT_EQ(Bytes(reply.begin() + 28, reply.begin() + 32), Bytes({10, 1, 0, 1}));
  EXPECT_EQ(Bytes(reply.begin() + 38, reply.begin() + 42), Bytes({10, 1, 0, 5}));
  EXPECT_EQ(table_.lookup(NeighborKey::of(1, ip("10.1.0.5")))->to_string(), "02:00:00:00:00:05");
}

TEST_F(ArpTest, OtherTrafficIsLearntOnlyFromTheSubnet) {
  EXPECT_EQ(run(arp(1, "02:00:00:00:00:06", "10.1.0.6", "10.1.0.7")), ArpResult::learnt);
  EXPECT_EQ(run(arp(2, "02:00:00:00:00:07", "10.9.0.7", "10.1.0.1")), ArpResult::ignored) << "off-subnet sender";
  EXPECT_FALSE(table_.lookup(NeighborKey::of(1, ip("10.9.0.7"))));
  EXPECT_EQ(run(arp(1, "02:00:00:00:00:08", "0.0.0.0", "10.1.0.8")), ArpResult::ignored) << "RFC 5227 probe";
  Bytes bad = arp(1, "02:00:00:00:00:06", "10.1.0.6", "10.1.0.1");
  bad[18] = 8;
  EXPECT_EQ(run(bad), ArpResult::malformed);
  EXPECT_EQ(run(Bytes(bad.begin(), bad.begin() + 30)), ArpResult::malformed);
  EXPECT_EQ(run(arp(1, "ff:ff:ff:ff:ff:ff", "10.1.0.6", "10.1.0.1")), ArpResult::malformed) << "broadcast sender";
}

TEST_F(ArpTest, RequestsComeFromTheAddressOnTheTargetsSubnet) {
  rte_mbuf* m = make_arp_request(ipsec::testing::g_pool, port_, ip("10.1.0.77").bytes().data());
  ASSERT_NE(m, nullptr);
  const Bytes f = ipsec::testing::bytes_of(m);
  rte_pktmbuf_free(m);
  EXPECT_EQ(f.size(), 60u);
  EXPECT_EQ(Bytes(f.begin(), f.begin() + 6), Bytes(6, 0xff));
  EXPECT_EQ(f[21], 1);
  EXPECT_EQ(Bytes(f.begin() + 28, f.begin() + 32), Bytes({10, 1, 0, 1}));
  EXPECT_EQ(Bytes(f.begin() + 38, f.begin() + 42), Bytes({10, 1, 0, 77}));
  EXPECT_EQ(make_arp_request(ipsec::testing::g_pool, port_, ip("10.2.0.1").bytes().data()), nullptr) << "not on a subnet of the port";
}

}  // namespace
}  // namespace corridor::dataplane::net
