// The dataplane's link layer and routing: longest-prefix match with
// connected and gatewayed routes, the neighbor table (static entries win,
// resolution requests rate-limited), ARP replies and learning, IPv6
// Neighbor Discovery on the ports, and the proxy ARP / Neighbor
// Advertisement answers on the exception interface.
#include <rte_mbuf.h>

#include "dataplane/net/arp.h"
#include "dataplane/net/nd.h"
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

// The frame with its ICMPv6 checksum recomputed: the value that verifies,
// found the receiver's way (not with the code under test).
Bytes with_checksum(Bytes f) {
  f[56] = f[57] = 0;
  for (std::uint32_t c = 0; c <= 0xffff; ++c) {
    f[56] = static_cast<std::uint8_t>(c >> 8), f[57] = static_cast<std::uint8_t>(c);
    if (icmpv6_checksum_ok(f)) break;
  }
  return f;
}

TEST(ProxyNeighbor, DadAndInvalidSolicitationsAreNotAnswered) {
  const Bytes ns = from_hex(kKernelSolicitation);
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

// --- IPv6 Neighbor Discovery on the ports (RFC 4861) ---

class NdTest : public ::testing::Test {
 protected:
  NdTest() : table_("nt_nd" + std::to_string(++n_), 64) {
    port_.index = 1;
    port_.mac = *MacAddress::parse("02:00:00:00:01:01");
    port_.ipv6 = {prefix("2001:db8:1::1/64")};
  }
  // A Neighbor Solicitation (135) or Advertisement (136) from `src` to `dst`
  // for `target`, with a link-layer address option (type 1 or 2) carrying
  // `option_mac` unless it is null; hop limit 255, a valid checksum.
  static Bytes nd(std::uint8_t type, const char* eth_src, const char* src, const char* dst, const char* target,
                  const char* option_mac) {
    const std::size_t icmp_len = option_mac ? 32 : 24;
    Bytes f(14 + 40 + icmp_len, 0);
    const auto smac = *MacAddress::parse(eth_src);
    std::fill(f.begin(), f.begin() + 6, 0x33);
    std::copy(smac.bytes.begin(), smac.bytes.end(), f.begin() + 6);
    f[12] = 0x86, f[13] = 0xdd;
    f[14] = 0x60, f[19] = static_cast<std::uint8_t>(icmp_len), f[20] = 58, f[21] = 255;
    const auto s = ip(src).bytes(), d = ip(dst).bytes(), t = ip(target).bytes();
    std::copy(s.begin(), s.end(), f.begin() + 22);
    std::copy(d.begin(), d.end(), f.begin() + 38);
    f[54] = type;
    if (type == 136) f[58] = 0x60;  // solicited, override
    std::copy(t.begin(), t.end(), f.begin() + 62);
    if (option_mac) {
      const auto m = *MacAddress::parse(option_mac);
      f[78] = type == 135 ? 1 : 2, f[79] = 1;
      std::copy(m.bytes.begin(), m.bytes.end(), f.begin() + 80);
    }
    return with_checksum(f);
  }
  NdResult run(const Bytes& frame, Bytes* out = nullptr) {
    rte_mbuf* m = ipsec::testing::to_mbuf(frame);
    EXPECT_TRUE(is_neighbor_discovery(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len));
    const NdResult r = handle_nd(m, port_, table_);
    if (out) *out = ipsec::testing::bytes_of(m);
    rte_pktmbuf_free(m);
    return r;
  }
  static inline int n_ = 0;
  NdPort port_;
  NeighborTable table_;
};

const char* const kHostMac = "02:00:00:00:00:05";

Bytes address(const char* text) {
  const auto b = ip(text).bytes();
  return Bytes(b.begin(), b.end());
}

TEST_F(NdTest, SolicitationsForOurAddressAreAnsweredAndTheSenderLearnt) {
  Bytes na;
  ASSERT_EQ(run(nd(135, kHostMac, "2001:db8:1::5", "ff02::1:ff00:1", "2001:db8:1::1", kHostMac), &na),
            NdResult::reply);
  ASSERT_EQ(na.size(), 14u + 40 + 32);
  EXPECT_EQ(slice(na, 0, 6), Bytes({2, 0, 0, 0, 0, 5})) << "unicast back";
  EXPECT_EQ(slice(na, 6, 6), Bytes({2, 0, 0, 0, 1, 1}));
  EXPECT_EQ(slice(na, 22, 16), address("2001:db8:1::1"));
  EXPECT_EQ(slice(na, 38, 16), address("2001:db8:1::5"));
  EXPECT_EQ(na[54], 136);
  EXPECT_EQ(na[58], 0xe0) << "router, solicited, override";
  EXPECT_EQ(slice(na, 78, 8), Bytes({2, 1, 2, 0, 0, 0, 1, 1})) << "our MAC as the target link-layer address";
  EXPECT_TRUE(icmpv6_checksum_ok(na));
  EXPECT_EQ(table_.lookup(NeighborKey::of(1, ip("2001:db8:1::5")))->to_string(), kHostMac);
  // From a link-local address too (what a host uses for its own ND).
  EXPECT_EQ(run(nd(135, "02:00:00:00:00:06", "fe80::6", "ff02::1:ff00:1", "2001:db8:1::1", "02:00:00:00:00:06")),
            NdResult::reply);
  EXPECT_EQ(table_.lookup(NeighborKey::of(1, ip("fe80::6")))->to_string(), "02:00:00:00:00:06");
}

TEST_F(NdTest, AdvertisementsUpdateOnlyNeighborsTheTableHolds) {
  const auto key = NeighborKey::of(1, ip("2001:db8:1::7"));
  const Bytes na = nd(136, "02:00:00:00:00:07", "2001:db8:1::7", "2001:db8:1::1", "2001:db8:1::7",
                      "02:00:00:00:00:07");
  EXPECT_EQ(run(na), NdResult::ignored) << "never asked for: RFC 4861 §7.2.5";
  EXPECT_FALSE(table_.lookup(key));
  table_.request(key);
  ASSERT_TRUE(table_.next_request(1'000'000'000)) << "asked for: now the table holds the key";
  EXPECT_EQ(run(na), NdResult::learnt);
  EXPECT_EQ(table_.lookup(key)->to_string(), "02:00:00:00:00:07");
  // Off the port's subnets, or without a link-layer address: nothing to learn.
  EXPECT_EQ(run(nd(136, "02:00:00:00:00:08", "2001:db8:9::8", "2001:db8:1::1", "2001:db8:9::8", "02:00:00:00:00:08")),
            NdResult::ignored);
  EXPECT_EQ(run(nd(136, "02:00:00:00:00:07", "2001:db8:1::7", "2001:db8:1::1", "2001:db8:1::7", nullptr)),
            NdResult::ignored);
  // A configured neighbor keeps its MAC whatever the wire says.
  const auto fixed = NeighborKey::of(1, ip("2001:db8:1::9"));
  table_.set(fixed, *MacAddress::parse("02:00:00:00:00:99"), true);
  EXPECT_EQ(run(nd(136, "02:00:00:00:00:66", "2001:db8:1::9", "2001:db8:1::1", "2001:db8:1::9", "02:00:00:00:00:66")),
            NdResult::learnt);
  EXPECT_EQ(table_.lookup(fixed)->to_string(), "02:00:00:00:00:99");
}

TEST_F(NdTest, OtherTargetsDadRoutersAndInvalidMessagesAreNotAnswered) {
  EXPECT_EQ(run(nd(135, kHostMac, "2001:db8:1::5", "ff02::1:ff00:2", "2001:db8:1::2", kHostMac)), NdResult::learnt)
      << "another host's address: its asker is learnt, nobody answered";
  EXPECT_EQ(run(nd(135, kHostMac, "2001:db8:9::5", "ff02::1:ff00:2", "2001:db8:1::2", kHostMac)), NdResult::ignored)
      << "an off-link source is not learnt";
  EXPECT_FALSE(table_.lookup(NeighborKey::of(1, ip("2001:db8:9::5"))));
  EXPECT_EQ(run(nd(135, kHostMac, "::", "ff02::1:ff00:1", "2001:db8:1::1", nullptr)), NdResult::ignored)
      << "duplicate address detection of our address: not ours to answer";
  EXPECT_EQ(run(nd(135, kHostMac, "::", "ff02::1:ff00:1", "2001:db8:1::1", kHostMac)), NdResult::malformed)
      << "RFC 4861 §7.1.1: no source link-layer option from ::";
  Bytes ra = nd(135, kHostMac, "fe80::5", "ff02::1", "2001:db8:1::1", nullptr);
  ra[54] = 134;
  EXPECT_EQ(run(with_checksum(ra)), NdResult::ignored) << "router advertisements are not taken";
  Bytes bad = nd(135, kHostMac, "2001:db8:1::55", "ff02::1:ff00:1", "2001:db8:1::1", kHostMac);
  bad[21] = 64;  // not from the link
  EXPECT_EQ(run(with_checksum(bad)), NdResult::malformed);
  bad = nd(135, kHostMac, "2001:db8:1::55", "ff02::1:ff00:1", "2001:db8:1::1", kHostMac);
  bad[57] ^= 1;
  EXPECT_EQ(run(bad), NdResult::malformed) << "checksum";
  bad = nd(135, kHostMac, "2001:db8:1::55", "ff02::1:ff00:1", "2001:db8:1::1", kHostMac);
  bad[79] = 0;
  EXPECT_EQ(run(with_checksum(bad)), NdResult::malformed) << "an option of length 0";
  bad = nd(135, kHostMac, "2001:db8:1::55", "ff02::1:ff00:1", "2001:db8:1::1", kHostMac);
  bad[62] = 0xff;
  EXPECT_EQ(run(with_checksum(bad)), NdResult::malformed) << "a multicast target";
  EXPECT_FALSE(table_.lookup(NeighborKey::of(1, ip("2001:db8:1::55")))) << "nothing learnt from the invalid ones";
  Bytes echo = nd(135, kHostMac, "2001:db8:1::5", "2001:db8:1::1", "2001:db8:1::1", nullptr);
  echo[54] = 128;
  EXPECT_FALSE(is_neighbor_discovery(echo.data(), static_cast<std::uint32_t>(echo.size()))) << "an echo request";
}

TEST_F(NdTest, SolicitationsGoToTheTargetsSolicitedNodeGroup) {
  rte_mbuf* m = make_neighbor_solicitation(ipsec::testing::g_pool, port_, ip("2001:db8:1::a:77").bytes().data());
  ASSERT_NE(m, nullptr);
  const Bytes f = ipsec::testing::bytes_of(m);
  EXPECT_TRUE(is_neighbor_discovery(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len));
  rte_pktmbuf_free(m);
  ASSERT_EQ(f.size(), 14u + 40 + 32);
  EXPECT_EQ(slice(f, 0, 6), Bytes({0x33, 0x33, 0xff, 0x0a, 0x00, 0x77})) << "RFC 2464 §7";
  EXPECT_EQ(slice(f, 6, 6), Bytes({2, 0, 0, 0, 1, 1}));
  EXPECT_EQ(slice(f, 14, 8), Bytes({0x60, 0, 0, 0, 0, 32, 58, 255}));
  EXPECT_EQ(slice(f, 22, 16), address("2001:db8:1::1"));
  EXPECT_EQ(slice(f, 38, 16), address("ff02::1:ff0a:77"));
  EXPECT_EQ(f[54], 135);
  EXPECT_EQ(slice(f, 62, 16), address("2001:db8:1::a:77"));
  EXPECT_EQ(slice(f, 78, 8), Bytes({1, 1, 2, 0, 0, 0, 1, 1})) << "our MAC as the source link-layer address";
  EXPECT_TRUE(icmpv6_checksum_ok(f));
  // A link-local next hop is asked from the port's address; a port without
  // an IPv6 address, or a target off its subnets, cannot ask.
  m = make_neighbor_solicitation(ipsec::testing::g_pool, port_, ip("fe80::1").bytes().data());
  ASSERT_NE(m, nullptr);
  rte_pktmbuf_free(m);
  EXPECT_EQ(make_neighbor_solicitation(ipsec::testing::g_pool, port_, ip("2001:db8:2::1").bytes().data()), nullptr);
  NdPort bare;
  EXPECT_EQ(make_neighbor_solicitation(ipsec::testing::g_pool, bare, ip("fe80::1").bytes().data()), nullptr);
}

}  // namespace
}  // namespace corridor::dataplane::net
