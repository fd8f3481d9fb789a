// The dataplane's link layer and routing: longest-prefix match with
// connected and gatewayed routes, the neighbor table (static entries win,
// resolution requests rate-limited), ARP replies and learning, and the
// proxy ARP / Neighbor Advertisement answers on the exception interface.
#include <rte_mbuf.h>

#include "dataplane/net/arp.h"
#include "dataplane/net/neighbors.h"
#include "dataplane/net/proxy_neighbor.h"
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

// An Ethernet/IPv4 ARP frame, broadcast.
Bytes ArpTestFrame(std::uint16_t op, const char* sender_mac, const char* sender_ip, const char* target_ip) {
  Bytes f(42, 0);
  const auto smac = *MacAddress::parse(sender_mac);
  std::fill(f.begin(), f.begin() + 6, 0xff);
  std::copy(smac.bytes.begin(), smac.bytes.end(), f.begin() + 6);
  f[12] = 0x08, f[13] = 0x06;
  f[14] = 0, f[15] = 1, f[16] = 0x08, f[17] = 0, f[18] = 6, f[19] = 4, f[20] = 0, f[21] = static_cast<std::uint8_t>(op);
  std::copy(smac.bytes.begin(), smac.bytes.end(), f.begin() + 22);
  const auto s = IpAddress::parse(sender_ip)->bytes(), t = IpAddress::parse(target_ip)->bytes();
  std::copy(s.begin(), s.begin() + 4, f.begin() + 28);
  std::copy(t.begin(), t.begin() + 4, f.begin() + 38);
  return f;
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

// --- the exception interface's link: proxy answers to the kernel ---

const MacAddress kKernelMac = *MacAddress::parse("52:33:4d:2a:80:ac");
const MacAddress kOurs = *MacAddress::parse("02:63:6f:72:72:64");

Bytes from_hex(const std::string& h) {
  Bytes b;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) b.push_back(static_cast<std::uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return b;
}
Bytes slice(const Bytes& b, std::size_t at, std::size_t n) { return Bytes(b.begin() + at, b.begin() + at + n); }

// The ICMPv6 checksum of the IPv6 packet in `frame` (at offset 14) as a
// receiver verifies it: the one's complement sum over the pseudo-header
// and the message, checksum included, is 0xffff (RFC 1071, RFC 8200 §8.1).
bool icmpv6_checksum_ok(const Bytes& frame) {
  const std::size_t ip = 14, len = std::size_t{frame[ip + 4]} << 8 | frame[ip + 5];
  Bytes pseudo(frame.begin() + ip + 8, frame.begin() + ip + 40);
  pseudo.insert(pseudo.end(), {0, 0, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len), 0, 0, 0, 58});
  pseudo.insert(pseudo.end(), frame.begin() + ip + 40, frame.begin() + ip + 40 + len);
  if (pseudo.size() % 2) pseudo.push_back(0);
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < pseudo.size(); i += 2) sum += std::uint64_t{pseudo[i]} << 8 | pseudo[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

ProxyResult run_proxy(ProxyResult (*fn)(rte_mbuf*, const MacAddress&), const Bytes& in, Bytes* out = nullptr) {
  rte_mbuf* m = ipsec::testing::to_mbuf(in);
  const ProxyResult r = fn(m, kOurs);
  if (out) *out = ipsec::testing::bytes_of(m);
  rte_pktmbuf_free(m);
  return r;
}

TEST(ProxyArp, EveryRequestIsAnsweredWithOurMac) {
  // The kernel on the TAP asks for a next hop that is no address of the gateway.
  const Bytes request = ArpTestFrame(1, "52:33:4d:2a:80:ac", "192.0.2.1", "192.0.2.77");
  Bytes reply;
  ASSERT_EQ(run_proxy(proxy_arp, request, &reply), ProxyResult::reply);
  ASSERT_EQ(reply.size(), 42u);
  EXPECT_EQ(slice(reply, 0, 6), Bytes(kKernelMac.bytes.begin(), kKernelMac.bytes.end())) << "to the kernel";
  EXPECT_EQ(slice(reply, 6, 6), Bytes(kOurs.bytes.begin(), kOurs.bytes.end()));
  EXPECT_EQ(slice(reply, 12, 2), Bytes({0x08, 0x06}));
  EXPECT_EQ(slice(reply, 14, 8), Bytes({0, 1, 0x08, 0, 6, 4, 0, 2})) << "Ethernet/IPv4, op reply";
  EXPECT_EQ(slice(reply, 22, 6), Bytes(kOurs.bytes.begin(), kOurs.bytes.end())) << "sender MAC: ours";
  EXPECT_EQ(slice(reply, 28, 4), Bytes({192, 0, 2, 77})) << "sender IP: the address asked for";
  EXPECT_EQ(slice(reply, 32, 6), Bytes(kKernelMac.bytes.begin(), kKernelMac.bytes.end()));
  EXPECT_EQ(slice(reply, 38, 4), Bytes({192, 0, 2, 1}));
  // Padded to the Ethernet minimum, it still answers, trimmed.
  Bytes padded = request;
  padded.resize(60, 0);
  ASSERT_EQ(run_proxy(proxy_arp, padded, &reply), ProxyResult::reply);
  EXPECT_EQ(reply.size(), 42u);
}

TEST(ProxyArp, AnnouncementsRepliesAndBadFramesAreNotAnswered) {
  EXPECT_EQ(run_proxy(proxy_arp, ArpTestFrame(1, "52:33:4d:2a:80:ac", "192.0.2.1", "192.0.2.1")), ProxyResult::ignored)
      << "gratuitous announcement";
  EXPECT_EQ(run_proxy(proxy_arp, ArpTestFrame(1, "52:33:4d:2a:80:ac", "0.0.0.0", "192.0.2.1")), ProxyResult::ignored)
      << "RFC 5227 probe";
  EXPECT_EQ(run_proxy(proxy_arp, ArpTestFrame(2, "52:33:4d:2a:80:ac", "192.0.2.1", "192.0.2.7")), ProxyResult::ignored)
      << "a reply";
  Bytes bad = ArpTestFrame(1, "52:33:4d:2a:80:ac", "192.0.2.1", "192.0.2.7");
  bad[17] = 0x06;  // protocol type: not IPv4
  EXPECT_EQ(run_proxy(proxy_arp, bad), ProxyResult::malformed);
  bad = ArpTestFrame(3, "52:33:4d:2a:80:ac", "192.0.2.1", "192.0.2.7");
  EXPECT_EQ(run_proxy(proxy_arp, bad), ProxyResult::malformed) << "RARP op";
  EXPECT_EQ(run_proxy(proxy_arp, ArpTestFrame(1, "01:00:5e:00:00:01", "192.0.2.1", "192.0.2.7")), ProxyResult::malformed);
  EXPECT_EQ(run_proxy(proxy_arp, slice(ArpTestFrame(1, "52:33:4d:2a:80:ac", "192.0.2.1", "192.0.2.7"), 0, 41)),
            ProxyResult::malformed) << "truncated";
}

// A Neighbor Solicitation as Linux 6.18 sent it (captured on a veth): from
// 2001:db8::2 for 2001:db8::99, with the source link-layer option.
const char* const kKernelSolicitation =
    "3333ff00009952334d2a80ac86dd6000000000203aff20010db8000000000000000000000002ff0200000000000000000001ff00009987"
    "00fcee0000000020010db8000000000000000000000099010152334d2a80ac";

TEST(ProxyNeighbor, SolicitationsAreAnsweredWithAnAdvertisementOfOurMac) {
  const Bytes ns = from_hex(kKernelSolicitation);
  ASSERT_TRUE(icmpv6_checksum_ok(ns)) << "the fixture itself";
  rte_mbuf* m = ipsec::testing::to_mbuf(ns);
  EXPECT_TRUE(is_neighbor_solicitation(m));
  rte_pktmbuf_free(m);
  Bytes na;
  ASSERT_EQ(run_proxy(proxy_neighbor_solicitation, ns, &na), ProxyResult::reply);
  ASSERT_EQ(na.size(), 14u + 40 + 32);
  EXPECT_EQ(slice(na, 0, 6), Bytes(kKernelMac.bytes.begin(), kKernelMac.bytes.end())) << "unicast to the asker";
  EXPECT_EQ(slice(na, 6, 6), Bytes(kOurs.bytes.begin(), kOurs.bytes.end()));
  EXPECT_EQ(slice(na, 12, 2), Bytes({0x86, 0xdd}));
  EXPECT_EQ(slice(na, 14, 8), Bytes({0x60, 0, 0, 0, 0, 32, 58, 255})) << "payload 32, ICMPv6, hop limit 255";
  EXPECT_EQ(slice(na, 22, 16), slice(ns, 62, 16)) << "from the target address";
  EXPECT_EQ(slice(na, 38, 16), slice(ns, 22, 16)) << "to the solicitation's source";
  EXPECT_EQ(na[54], 136) << "Neighbor Advertisement";
  EXPECT_EQ(na[55], 0);
  EXPECT_EQ(na[58], 0xe0) << "router, solicited, override";
  EXPECT_EQ(slice(na, 59, 3), Bytes({0, 0, 0}));
  EXPECT_EQ(slice(na, 62, 16), slice(ns, 62, 16)) << "target";
  EXPECT_EQ(slice(na, 78, 2), Bytes({2, 1})) << "target link-layer address option";
  EXPECT_EQ(slice(na, 80, 6), Bytes(kOurs.bytes.begin(), kOurs.bytes.end()));
  EXPECT_TRUE(icmpv6_checksum_ok(na));
}

// The IPv6 source of the frame set to ::.
void unspecified_source(Bytes& frame) {
  for (std::size_t i = 22; i < 38 && i < frame.size(); ++i) frame[i] = 0;
}

TEST(ProxyNeighbor, DadAndInvalidSolicitationsAreNotAnswered) {
  const Bytes ns = from_hex(kKernelSolicitation);
  const auto with_checksum = [](Bytes f) {  // recomputed after a change
    f[56] = f[57] = 0;
    for (std::uint32_t c = 0; c <= 0xffff; ++c) {  // the value that verifies, found the receiver's way
      f[56] = static_cast<std::uint8_t>(c >> 8), f[57] = static_cast<std::uint8_t>(c);
      if (icmpv6_checksum_ok(f)) break;
    }
    return f;
  };
  // Duplicate address detection: from ::, no source link-layer option.
  Bytes dad = slice(ns, 0, 14 + 40 + 24);
  unspecified_source(dad);
  dad[19] = 24;
  EXPECT_EQ(run_proxy(proxy_neighbor_solicitation, with_checksum(dad)), ProxyResult::ignored);
  // RFC 4861 §7.1.1: from :: with a source link-layer option is invalid.
  Bytes dad_option = ns;
  unspecified_source(dad_option);
  EXPECT_EQ(run_proxy(proxy_neighbor_solicitation, with_checksum(dad_option)), ProxyResult::malformed);

  Bytes bad = ns;
  bad[21] = 64;  // hop limit: not from the link
  EXPECT_EQ(run_proxy(proxy_neighbor_solicitation, with_checksum(bad)), ProxyResult::malformed);
  bad = ns;
  bad[55] = 1;  // code
  EXPECT_EQ(run_proxy(proxy_neighbor_solicitation, with_checksum(bad)), ProxyResult::malformed);
  bad = ns;
  bad[57] ^= 1;  // checksum
  EXPECT_EQ(run_proxy(proxy_neighbor_solicitation, bad), ProxyResult::malformed);
  bad = ns;
  bad[62] = 0xff;  // a multicast target
  EXPECT_EQ(run_proxy(proxy_neighbor_solicitation, with_checksum(bad)), ProxyResult::malformed);
  bad = ns;
  bad[79] = 0;  // an option of length 0
  EXPECT_EQ(run_proxy(proxy_neighbor_solicitation, with_checksum(bad)), ProxyResult::malformed);
  bad = ns;
  bad[79] = 2;  // an option longer than the message
  EXPECT_EQ(run_proxy(proxy_neighbor_solicitation, with_checksum(bad)), ProxyResult::malformed);
  EXPECT_EQ(run_proxy(proxy_neighbor_solicitation, slice(ns, 0, 70)), ProxyResult::malformed) << "truncated";
  bad = ns;
  bad[54] = 128;  // an echo request is no solicitation
  rte_mbuf* m = ipsec::testing::to_mbuf(bad);
  EXPECT_FALSE(is_neighbor_solicitation(m));
  rte_pktmbuf_free(m);
  EXPECT_EQ(run_proxy(proxy_neighbor_solicitation, bad), ProxyResult::malformed);
}

}  // namespace
}  // namespace corridor::dataplane::net
