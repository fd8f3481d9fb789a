// make_key(): the selector fields of IPv4 and IPv6 packets with options,
// extension headers, fragments, ICMP and the Mobility Header, and the errors
// for malformed and truncated packets. No EAL needed: the parser is plain
// code on the per-packet path.
#include <gtest/gtest.h>

#include <optional>
#include <random>

#include "dataplane/tables/spd_key.h"
#include "tests/unit/dataplane/tables/packet_builders.h"

namespace corridor::dataplane::tables {
namespace {

using namespace test;

TEST(MakeKey, Ipv4Ports) {
  V4Packet p;
  EXPECT_EQ(key_of(p.build()), PacketKey::v4(kUdp, p.src, p.dst, 40000, 443));
  p.protocol = kTcp;
  p.payload = ports(1, 65535);
  EXPECT_EQ(key_of(p.build()), PacketKey::v4(kTcp, p.src, p.dst, 1, 65535));
  // Link-layer padding after Total Length is not part of the packet.
  Bytes padded = p.build();
  padded.resize(padded.size() + 18, 0xee);
  EXPECT_EQ(key_of(padded), PacketKey::v4(kTcp, p.src, p.dst, 1, 65535));
}

TEST(MakeKey, Ipv4OptionsMoveThePorts) {
  V4Packet p;
  p.options = {0x94, 0x04, 0x00, 0x00,   // Router Alert
               0x01, 0x01, 0x01, 0x00};  // NOP, NOP, NOP, EOL
  p.payload = ports(5060, 5061);
  const Bytes b = p.build();
  ASSERT_EQ(b[0], 0x47);  // IHL 7
  EXPECT_EQ(key_of(b), PacketKey::v4(kUdp, p.src, p.dst, 5060, 5061));
}

TEST(MakeKey, IcmpTypeAndCodeInTheSourcePort) {
  V4Packet p;
  p.protocol = kIcmp;
  p.payload = icmp(8, 0);  // echo request
  auto k = key_of(p.build());
  EXPECT_EQ(k.src_port(), 0x0800);
  EXPECT_EQ(k.dst_port(), std::nullopt);
  p.payload = icmp(3, 4);  // fragmentation needed
  EXPECT_EQ(key_of(p.build()).src_port(), 0x0304);

  V6Packet q;
  q.protocol = kIcmpV6;
  q.payload = icmp(128, 0);
  k = key_of(q.build());
  EXPECT_EQ(k.protocol(), kIcmpV6);
  EXPECT_EQ(k.src_port(), 0x8000);
  EXPECT_EQ(k.dst_port(), std::nullopt);
  // Mobility Header: MH type in the high byte.
  q.protocol = kMobility;
  q.payload = {59, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  k = key_of(q.build());
  EXPECT_EQ(k.src_port(), 0x0500);
  EXPECT_EQ(k.dst_port(), std::nullopt);
}

TEST(MakeKey, ProtocolsWithoutPortsAreOpaque) {
  V4Packet p;
  p.protocol = kGre;
  p.payload = {0, 0, 0x08, 0, 1, 2, 3, 4};
  EXPECT_EQ(key_of(p.build()), PacketKey::v4(kGre, p.src, p.dst, std::nullopt, std::nullopt));
  V6Packet q;
  q.protocol = kEsp;
  q.extensions = {{kDestOpts, ext(1)}};
  q.payload = {0, 0, 1, 0, 0, 0, 0, 1};
  EXPECT_EQ(key_of(q.build()), PacketKey::v6(kEsp, q.src, q.dst, std::nullopt, std::nullopt));
}

TEST(MakeKey, Ipv4Fragments) {
  V4Packet p;
  p.protocol = kTcp;
  p.payload = ports(1000, 22);
  p.more_fragments = true;  // initial fragment: ports present
  EXPECT_EQ(key_of(p.build()), PacketKey::v4(kTcp, p.src, p.dst, 1000, 22));
  p.fragment_offset = 185;  // non-initial: these bytes are data, not ports
  EXPECT_EQ(key_of(p.build()), PacketKey::v4(kTcp, p.src, p.dst, std::nullopt, std::nullopt));
  p.more_fragments = false;  // last fragment
  EXPECT_EQ(key_of(p.build()), PacketKey::v4(kTcp, p.src, p.dst, std::nullopt, std::nullopt));

  // An initial fragment cut before the ports: OPAQUE, not an error...
  p.fragment_offset = 0;
  p.more_fragments = true;
  p.payload = {0x03};
  EXPECT_EQ(key_of(p.build()), PacketKey::v4(kTcp, p.src, p.dst, std::nullopt, std::nullopt));
  // ...but a whole packet that claims TCP without a header is malformed.
  p.more_fragments = false;
  PacketKey k;
  EXPECT_EQ(parse(p.build(), k), KeyError::truncated);
}

TEST(MakeKey, Ipv6ExtensionHeaders) {
  V6Packet q;
  q.payload = ports(53, 1053);
  EXPECT_EQ(key_of(q.build()), PacketKey::v6(kUdp, q.src, q.dst, 53, 1053));
  q.extensions = {{kHopByHop, ext(1)}, {kDestOpts, ext(2)}, {kRouting, ext(3)}, {kDestOpts, ext(1)}};
  q.protocol = kTcp;
  EXPECT_EQ(key_of(q.build()), PacketKey::v6(kTcp, q.src, q.dst, 53, 1053));
}

TEST(MakeKey, Ipv6Fragments) {
  V6Packet q;
  q.protocol = kTcp;
  q.payload = ports(2000, 80);
  q.extensions = {{kHopByHop, ext(1)}, {kFragment, fragment_header(0, true)}, {kDestOpts, ext(1)}};
  EXPECT_EQ(key_of(q.build()), PacketKey::v6(kTcp, q.src, q.dst, 2000, 80));  // initial: walk on

  q.extensions = {{kFragment, fragment_header(0, false)}};  // atomic fragment (RFC 6946): a whole packet
  EXPECT_EQ(key_of(q.build()), PacketKey::v6(kTcp, q.src, q.dst, 2000, 80));
  q.payload = {0};
  PacketKey k;
  EXPECT_EQ(parse(q.build(), k), KeyError::truncated);
  q.extensions = {{kFragment, fragment_header(0, true)}};  // initial fragment cut before the ports
  EXPECT_EQ(key_of(q.build()), PacketKey::v6(kTcp, q.src, q.dst, std::nullopt, std::nullopt));

  q.payload = ports(2000, 80);
  q.extensions = {{kFragment, fragment_header(100, true)}};  // non-initial: protocol yes, ports no
  EXPECT_EQ(key_of(q.build()), PacketKey::v6(kTcp, q.src, q.dst, std::nullopt, std::nullopt));
  // Non-initial fragment whose fragmentable part starts with another
  // extension header: the next layer protocol is not available.
  q.extensions = {{kFragment, fragment_header(100, false)}, {kDestOpts, ext(1)}};
  EXPECT_EQ(key_of(q.build()), PacketKey::v6(kProtocolOpaque, q.src, q.dst, std::nullopt, std::nullopt));
}

TEST(MakeKey, MalformedAndTruncatedPackets) {
  PacketKey k;
  EXPECT_EQ(make_key(nullptr, 0, k), KeyError::truncated);
  Bytes b = V4Packet{}.build();
  b[0] = 0x55;
  EXPECT_EQ(parse(b, k), KeyError::bad_version);
  b[0] = 0x44;  // IHL 4
  EXPECT_EQ(parse(b, k), KeyError::bad_header_length);
  b = V4Packet{}.build();
  b[3] = 19;  // Total Length below the header
  b[2] = 0;
  EXPECT_EQ(parse(b, k), KeyError::bad_header_length);
  b = V4Packet{}.build();
  b[3] = static_cast<std::uint8_t>(b[3] + 1);  // claims one byte more than there is
  EXPECT_EQ(parse(b, k), KeyError::truncated);
  b = V4Packet{}.build();
  b[0] = 0x4f;  // IHL 15: options beyond Total Length
  EXPECT_EQ(parse(b, k), KeyError::bad_header_length);

  V6Packet q;
  q.extensions = {{kDestOpts, ext(1)}, {kHopByHop, ext(1)}};
  EXPECT_EQ(parse(q.build(), k), KeyError::bad_extension_order);
  q.extensions.assign(kMaxExtensionHeaders, {kDestOpts, ext(1)});
  EXPECT_EQ(parse(q.build(), k), KeyError::ok);
  q.extensions.assign(kMaxExtensionHeaders + 1, {kDestOpts, ext(1)});
  EXPECT_EQ(parse(q.build(), k), KeyError::too_many_extension_headers);
  q.extensions = {{kRouting, ext(2)}};
  b = q.build();
  b[41] = 9;  // Hdr Ext Len beyond the payload
  EXPECT_EQ(parse(b, k), KeyError::truncated);
  b = q.build();
  b[5] = static_cast<std::uint8_t>(b[5] + 8);  // Payload Length beyond the buffer
  EXPECT_EQ(parse(b, k), KeyError::truncated);
}

// Every prefix of every sample packet, and random corruptions of them:
// make_key answers without reading outside the buffer (ASan checks that).
TEST(MakeKey, NeverReadsPastTheBuffer) {
  std::vector<Bytes> samples;
  V4Packet p;
  p.options = {1, 1, 1, 1};
  samples.push_back(p.build());
  p.protocol = kIcmp;
  p.payload = icmp(0, 0);
  samples.push_back(p.build());
  V6Packet q;
  q.extensions = {{kHopByHop, ext(1)}, {kRouting, ext(2)}, {kFragment, fragment_header(0, true)}, {kDestOpts, ext(1)}};
  samples.push_back(q.build());
  q.protocol = kMobility;
  q.payload = {59, 0, 1, 0, 0, 0, 0, 0};
  samples.push_back(q.build());
  std::mt19937 rng(77);
  PacketKey k;
  for (const auto& s : samples) {
    for (std::size_t n = 0; n <= s.size(); ++n) {
      const KeyError e = parse(Bytes(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n)), k);
      if (n == s.size()) {
        EXPECT_EQ(e, KeyError::ok);
      }
    }
    for (int i = 0; i < 2000; ++i) {
      Bytes m = s;
      for (int j = 0; j < 3; ++j) m[rng() % m.size()] = static_cast<std::uint8_t>(rng());
      m.resize(rng() % (m.size() + 1));
      parse(m, k);
    }
  }
}

}  // namespace
}  // namespace corridor::dataplane::tables
