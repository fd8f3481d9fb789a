#include <gtest/gtest.h>

#include "common/net/address.h"
#include "common/net/checksum.h"
#include "common/net/traffic_selector.h"

namespace corridor::net {
namespace {

TEST(IpAddress, ParsesBothFamilies) {
  const auto v4 = IpAddress::parse("192.0.2.1");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->to_string(), "192.0.2.1");
  const auto v6 = IpAddress::parse("2001:DB8::1");
  ASSERT_TRUE(v6);
  EXPECT_FALSE(v6->is_v4());
  EXPECT_EQ(v6->to_string(), "2001:db8::1");
  EXPECT_EQ(v6->bytes()[0], 0x20);
  EXPECT_EQ(v6->bytes()[15], 0x01);
}

TEST(IpAddress, RejectsGarbage) {
  for (const char* s : {"", "1.2.3", "1.2.3.256", "10.0.0.1 ", "::g", "example.com",
                        "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc"})
    EXPECT_FALSE(IpAddress::parse(s)) << s;
}

TEST(IpAddress, OrdersV4BeforeV6AndNumerically) {
  EXPECT_LT(*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.2"));
  EXPECT_LT(*IpAddress::parse("255.255.255.255"), *IpAddress::parse("::"));
  EXPECT_EQ(*IpAddress::parse("::ffff:0:0"), *IpAddress::parse("::ffff:0.0.0.0"));
}

TEST(IpAddress, MaskAndLast) {
  const auto a = *IpAddress::parse("10.1.2.3");
  EXPECT_EQ(a.masked(16).to_string(), "10.1.0.0");
  EXPECT_EQ(a.last_in(16).to_string(), "10.1.255.255");
  EXPECT_EQ(a.masked(0).to_string(), "0.0.0.0");
  EXPECT_EQ(a.masked(32), a);
  EXPECT_EQ(IpAddress::parse("2001:db8::1")->masked(33).to_string(), "2001:db8::");
  EXPECT_TRUE(IpAddress::parse("127.0.0.53")->is_loopback());
  EXPECT_TRUE(IpAddress::parse("::1")->is_loopback());
  EXPECT_FALSE(IpAddress::parse("::2")->is_loopback());
}

TEST(Prefix, ParsesAndExplainsErrors) {
  const auto p = Prefix::parse("10.1.0.0/16");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 16);
  EXPECT_TRUE(p->host_bits_clear());
  EXPECT_TRUE(p->contains(*IpAddress::parse("10.1.200.3")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("10.2.0.0")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("::1")));
  EXPECT_EQ(Prefix::parse("192.0.2.7")->length, 32);
  EXPECT_EQ(Prefix::parse("2001:db8::/32")->to_string(), "2001:db8::/32");

  std::string why;
  EXPECT_FALSE(Prefix::parse("10.1.0.0/33", &why));
  EXPECT_EQ(why, "prefix length must be 0..32: 10.1.0.0/33");
  EXPECT_FALSE(Prefix::parse("2001:db8::/129", &why));
  EXPECT_FALSE(Prefix::parse("10.1.0.0/", &why));
  EXPECT_FALSE(Prefix::parse("10.1.0.0/-1", &why));
  EXPECT_FALSE(Prefix::parse("10.1.0/8", &why));
  EXPECT_EQ(why, "not an IP address: 10.1.0");
}

TEST(SocketAddress, ParsesListenForms) {
  const auto a = SocketAddress::parse("127.0.0.1:8443");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 8443);
  const auto b = SocketAddress::parse("[::1]:9464");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->address.to_string(), "::1");
  EXPECT_EQ(b->to_string(), "[::1]:9464");
  std::string why;
  EXPECT_FALSE(SocketAddress::parse("::1:80", &why));
  EXPECT_EQ(why, "write IPv6 as [address]:port");
  EXPECT_FALSE(SocketAddress::parse("127.0.0.1:0", &why));
  EXPECT_FALSE(SocketAddress::parse("127.0.0.1:65536", &why));
  EXPECT_FALSE(SocketAddress::parse("127.0.0.1", &why));
}

TEST(TrafficSelector, SubnetRangeAndDynamic) {
  const auto ts = TrafficSelector::parse("10.1.0.0/16");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->start.to_string(), "10.1.0.0");
  EXPECT_EQ(ts->end.to_string(), "10.1.255.255");
  EXPECT_EQ(ts->protocol, 0);
  EXPECT_EQ(ts->port_start, 0);
  EXPECT_EQ(ts->port_end, 65535);
  EXPECT_EQ(ts->to_string(), "10.1.0.0/16");

  const auto range = TrafficSelector::parse("10.0.0.5-10.0.0.50");
  ASSERT_TRUE(range);
  EXPECT_FALSE(range->as_prefix());
  EXPECT_EQ(range->to_string(), "10.0.0.5-10.0.0.50");

  const auto dyn = TrafficSelector::parse("dynamic");
  ASSERT_TRUE(dyn);
  EXPECT_TRUE(dyn->dynamic);
  EXPECT_EQ(dyn->to_string(), "dynamic");
}

TEST(TrafficSelector, ProtocolAndPorts) {
  auto ts = TrafficSelector::parse("2001:db8::/64[tcp/443]");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->protocol, 6);
  EXPECT_EQ(ts->port_start, 443);
  EXPECT_EQ(ts->port_end, 443);
  EXPECT_EQ(ts->to_string(), "2001:db8::/64[tcp/443]");

  ts = TrafficSelector::parse("0.0.0.0/0[udp/1024-2048]");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->protocol, 17);
  EXPECT_EQ(ts->port_start, 1024);
  EXPECT_EQ(ts->port_end, 2048);

  ts = TrafficSelector::parse("10.0.0.0/8[icmp]");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->protocol, 1);
  EXPECT_EQ(ts->to_string(), "10.0.0.0/8[icmp]");

  ts = TrafficSelector::parse("10.0.0.0/8[47]");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->protocol, 47);

  ts = TrafficSelector::parse("10.0.0.0/8[udp/opaque]");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->port_start, 65535);  // RFC 7296 3.13.1 OPAQUE
  EXPECT_EQ(ts->port_end, 0);
  EXPECT_EQ(ts->to_string(), "10.0.0.0/8[udp/opaque]");

  ts = TrafficSelector::parse("10.0.0.0/8[udp/%any]");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->port_end, 65535);
}

TEST(TrafficSelector, ErrorsNameTheProblem) {
  std::string why;
  EXPECT_FALSE(TrafficSelector::parse("10.1.0.0/33", &why));
  EXPECT_EQ(why, "not a CIDR: 10.1.0.0/33 (prefix length must be 0..32: 10.1.0.0/33)");
  EXPECT_FALSE(TrafficSelector::parse("10.1.0.1/16", &why));
  EXPECT_EQ(why, "host bits set in 10.1.0.1/16, did you mean 10.1.0.0/16?");
  EXPECT_FALSE(TrafficSelector::parse("10.0.0.9-10.0.0.1", &why));
  EXPECT_EQ(why, "address range runs backwards: 10.0.0.9-10.0.0.1");
  EXPECT_FALSE(TrafficSelector::parse("10.0.0.1-::1", &why));
  EXPECT_FALSE(TrafficSelector::parse("10.0.0.0/8[tcp/80", &why));
  EXPECT_FALSE(TrafficSelector::parse("10.0.0.0/8[foo/80]", &why));
  EXPECT_EQ(why, "unknown IP protocol 'foo'");
  EXPECT_FALSE(TrafficSelector::parse("10.0.0.0/8[tcp/70000]", &why));
  EXPECT_FALSE(TrafficSelector::parse("10.0.0.0/8[tcp/90-80]", &why));
  EXPECT_FALSE(TrafficSelector::parse("10.0.0.0/8[/80]", &why));
  EXPECT_EQ(why, "a port needs a protocol, e.g. [tcp/80]");
}

// RFC 1071 §3's numerical example: the words 0001 f203 f4f5 f6f7 sum to
// 0x2ddf0, folded 0xddf2; the checksum is its complement.
TEST(InternetChecksum, Rfc1071Example) {
  const std::uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_add(0, bytes, 8), 0x2ddf0u);
  EXPECT_EQ(internet_checksum(bytes, 8), static_cast<std::uint16_t>(~0xddf2));
  // Summed in pieces (a pseudo-header, then the message) it is the same.
  EXPECT_EQ(checksum_finish(checksum_add(checksum_add(0, bytes, 4), bytes + 4, 4)), internet_checksum(bytes, 8));
}

TEST(InternetChecksum, OddLengthPadsWithZeroAndAnIntactHeaderSumsToZero) {
  const std::uint8_t odd[] = {0x12, 0x34, 0x56};
  const std::uint8_t padded[] = {0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(internet_checksum(odd, 3), internet_checksum(padded, 4));
  // An IPv4 header (RFC 791) with its checksum filled in verifies to 0.
  std::uint8_t ip[] = {0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00,
                       0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02};
  const std::uint16_t c = internet_checksum(ip, 20);
  ip[10] = static_cast<std::uint8_t>(c >> 8);
  ip[11] = static_cast<std::uint8_t>(c);
  EXPECT_EQ(internet_checksum(ip, 20), 0);
  EXPECT_TRUE(checksum_ok_words(ip, 20));
}

// The fast word-wise check agrees with the byte-wise checksum on random
// headers of every IPv4 length, intact and with one bit flipped anywhere.
TEST(InternetChecksum, WordWiseCheckAgreesWithTheChecksum) {
  std::uint32_t state = 1071;
  const auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return static_cast<std::uint8_t>(state >> 24);
  };
  for (int round = 0; round < 2000; ++round) {
    std::uint8_t h[60];
    const std::uint32_t ihl = 20 + 4 * static_cast<std::uint32_t>(round % 11);
    for (auto& b : h) b = next();
    h[10] = h[11] = 0;
    const std::uint16_t c = internet_checksum(h, ihl);
    h[10] = static_cast<std::uint8_t>(c >> 8);
    h[11] = static_cast<std::uint8_t>(c);
    ASSERT_TRUE(checksum_ok_words(h, ihl)) << "round " << round;
    const std::uint32_t bit = next() % (ihl * 8);
    h[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_EQ(checksum_ok_words(h, ihl), internet_checksum(h, ihl) == 0) << "round " << round << " bit " << bit;
    EXPECT_FALSE(checksum_ok_words(h, ihl)) << "round " << round << " bit " << bit;
  }
}

}  // namespace
}  // namespace corridor::net
