// path_mtu.h against RFC 791 §3.2 (fragments that put the datagram back
// together, options copied or not by their flag), RFC 1191 / RFC 4443 §3.2
// (the "too big" messages) and the rules for when an error may be sent
// (RFC 1812 §4.3.2.7, RFC 4443 §2.4(e)). Linux hosts check the same end to
// end: the integration tests' pings through the tunnel (ike_tunnel.py).
#include "dataplane/forward/path_mtu.h"

#include <rte_mempool.h>

#include "dataplane/ipsec/ip.h"
#include "dataplane/net/proxy_neighbor.h"
#include "tests/unit/dataplane/esp_fixture.h"

namespace corridor::dataplane::forward {
namespace {

using ipsec::load_be16;
using ipsec::load_be32;
using ipsec::store_be16;
using ipsec::testing::Bytes;
using ipsec::testing::bytes_of;
using ipsec::testing::g_pool;
using ipsec::testing::hex;
using ipsec::testing::sum16;
using ipsec::testing::to_mbuf;
using ipsec::testing::udp_packet;

struct Pieces {
  std::vector<Bytes> frames;
};

Pieces cut(const Bytes& packet, std::uint32_t max_len, std::uint16_t cap = kMaxFragments) {
  rte_mbuf* m = to_mbuf(packet);
  std::array<rte_mbuf*, kMaxFragments> out{};
  const std::uint16_t n = fragment_ipv4(m, max_len, g_pool, out.data(), cap);
  rte_pktmbuf_free(m);
  Pieces p;
  for (std::uint16_t i = 0; i < n; ++i) {
    p.frames.push_back(bytes_of(out[i]));
    rte_pktmbuf_free(out[i]);
  }
  return p;
}

// Puts fragments back together as a receiver does (RFC 791 §3.2), checking
// each one's header on the way. Returns the data at offset 0 and onwards.
Bytes reassemble(const Pieces& p, std::uint32_t max_len, std::uint32_t first_offset, bool more_after) {
  Bytes data;
  for (std::size_t i = 0; i < p.frames.size(); ++i) {
    const Bytes& f = p.frames[i];
    SCOPED_TRACE("fragment " + std::to_string(i));
    const std::uint32_t ihl = (f[0] & 0x0f) * 4u;
    EXPECT_LE(f.size(), max_len);
    EXPECT_EQ(load_be16(&f[2]), f.size());
    EXPECT_EQ(sum16(f.data(), ihl), 0xffff) << "header checksum";
    const std::uint16_t flags = load_be16(&f[6]);
    const bool last = i + 1 == p.frames.size();
    EXPECT_EQ((flags & 0x2000) != 0, !last || more_after) << "MF";
    EXPECT_EQ((flags & 0x1fff) * 8u, first_offset + data.size()) << "offset";
    if (!last) {
      EXPECT_EQ((f.size() - ihl) % 8, 0U) << "data in multiples of 8";
    }
    data.insert(data.end(), f.begin() + ihl, f.end());
  }
  return data;
}

TEST(Fragmentation, PiecesPutTheDatagramBackTogether) {
  for (std::uint32_t max_len : {1438u, 1000u, 576u, 68u}) {
    SCOPED_TRACE("max " + std::to_string(max_len));
    const Bytes packet = udp_packet(false, 1472, 0, false, 9);  // 1500 bytes, DF clear
    const Pieces p = cut(packet, max_len);
    ASSERT_GE(p.frames.size(), 2U);
    EXPECT_EQ(hex(reassemble(p, max_len, 0, false)), hex(Bytes(packet.begin() + 20, packet.end())));
    for (const Bytes& f : p.frames) {
      // The header otherwise as it was: identification, TTL, protocol, addresses.
      EXPECT_EQ(hex(Bytes(f.begin() + 4, f.begin() + 6)), hex(Bytes(packet.begin() + 4, packet.begin() + 6)));
      EXPECT_EQ(hex(Bytes(f.begin() + 8, f.begin() + 10)), hex(Bytes(packet.begin() + 8, packet.begin() + 10)));
      EXPECT_EQ(hex(Bytes(f.begin() + 12, f.begin() + 20)), hex(Bytes(packet.begin() + 12, packet.begin() + 20)));
    }
  }
}

TEST(Fragmentation, OptionsFollowTheirCopiedFlag) {
  Bytes packet = udp_packet(false, 1000);
  const Bytes options = {0x94, 0x04, 0x00, 0x00,                            // Router Alert: copied
                         0x01,                                              // NOP
                         0x44, 0x0c, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,  // Timestamp: first fragment only
                         0x00, 0x00, 0x00};                                 // End of Option List, padding
  packet.insert(packet.begin() + 20, options.begin(), options.end());
  packet[0] = static_cast<std::uint8_t>(0x40 | (20 + options.size()) / 4);
  store_be16(&packet[2], static_cast<std::uint16_t>(packet.size()));
  ipsec::set_ipv4_checksum(packet.data());
  const Pieces p = cut(packet, 500);
  ASSERT_EQ(p.frames.size(), 3U);
  EXPECT_EQ(p.frames[0][0] & 0x0f, 10);  // all 40 option bytes
  EXPECT_EQ(hex(Bytes(p.frames[0].begin() + 20, p.frames[0].begin() + 40)), hex(options));
  for (std::size_t i = 1; i < p.frames.size(); ++i) {
    EXPECT_EQ(p.frames[i][0] & 0x0f, 6);  // Router Alert alone
    EXPECT_EQ(hex(Bytes(p.frames[i].begin() + 20, p.frames[i].begin() + 24)), "94040000");
  }
  EXPECT_EQ(hex(reassemble(p, 500, 0, false)), hex(Bytes(packet.begin() + 40, packet.end())));
}

TEST(Fragmentation, AFragmentIsCutFurther) {
  Bytes packet = udp_packet(false, 772);  // 800 bytes
  store_be16(&packet[6], 0x2000 | 25);    // MF, offset 200 bytes
  ipsec::set_ipv4_checksum(packet.data());
  const Pieces p = cut(packet, 300);
  ASSERT_EQ(p.frames.size(), 3U);
  EXPECT_EQ(hex(reassemble(p, 300, 200, true)), hex(Bytes(packet.begin() + 20, packet.end())));
}

TEST(Fragmentation, RefusesWhatCannotBeCutAndLeaksNothing) {
  const unsigned before = rte_mempool_avail_count(g_pool);
  EXPECT_TRUE(cut(udp_packet(false, 1472, 0, true), 576).frames.empty());  // DF set
  EXPECT_TRUE(cut(udp_packet(false, 1472), 27).frames.empty());            // no room for 8 bytes of data
  EXPECT_TRUE(cut(udp_packet(false, 1472), 576, 2).frames.empty());         // needs 3 fragments, room for 2
  EXPECT_EQ(rte_mempool_avail_count(g_pool), before);
}

// The message's IP header and ICMP part, checked, with the quote.
struct Error {
  Bytes ip, icmp, quote;
};
Error parse_error(const Bytes& e) {
  Error out;
  const bool v6 = (e[0] >> 4) == 6;
  const std::size_t header = v6 ? 40 : 20;
  out.ip.assign(e.begin(), e.begin() + static_cast<std::ptrdiff_t>(header));
  out.icmp.assign(e.begin() + static_cast<std::ptrdiff_t>(header), e.begin() + static_cast<std::ptrdiff_t>(header + 8));
  out.quote.assign(e.begin() + static_cast<std::ptrdiff_t>(header + 8), e.end());
  if (v6) {
    EXPECT_EQ(load_be16(&e[4]), e.size() - 40);
    EXPECT_EQ(e[6], 58);
    EXPECT_EQ(net::icmpv6_checksum(e.data(), e.data() + 40, static_cast<std::uint32_t>(e.size() - 40)), 0)
        << "ICMPv6 checksum";
  } else {
    EXPECT_EQ(load_be16(&e[2]), e.size());
    EXPECT_EQ(e[9], 1);
    EXPECT_EQ(sum16(e.data(), 20), 0xffff) << "header checksum";
    EXPECT_EQ(sum16(e.data() + 20, e.size() - 20), 0xffff) << "ICMP checksum";
  }
  return out;
}

Bytes too_big(const Bytes& packet, std::uint32_t mtu, const Bytes& source) {
  rte_mbuf* m = too_big_message(packet.data(), static_cast<std::uint32_t>(packet.size()), mtu, source.data(), g_pool);
  if (m == nullptr) return {};
  Bytes b = bytes_of(m);
  rte_pktmbuf_free(m);
  return b;
}

TEST(TooBig, Ipv4FragmentationNeededQuotesUpTo576Bytes) {
  const Bytes packet = udp_packet(false, 1472, 0, true);
  const Bytes source = {10, 0, 0, 254};
  const Bytes e = too_big(packet, 1446, source);
  ASSERT_EQ(e.size(), 576U);
  const Error err = parse_error(e);
  EXPECT_EQ(hex(Bytes(err.ip.begin() + 12, err.ip.begin() + 16)), "0a0000fe");
  EXPECT_EQ(hex(Bytes(err.ip.begin() + 16, err.ip.begin() + 20)), "0a000001");  // to the sender
  EXPECT_EQ(err.icmp[0], 3);
  EXPECT_EQ(err.icmp[1], 4);
  EXPECT_EQ(load_be16(&err.icmp[4]), 0);  // unused
  EXPECT_EQ(load_be16(&err.icmp[6]), 1446);  // next-hop MTU (RFC 1191 §4)
  EXPECT_EQ(hex(err.quote), hex(Bytes(packet.begin(), packet.begin() + 548)));
  // A short packet is quoted whole.
  const Bytes small = udp_packet(false, 10, 0, true);
  EXPECT_EQ(hex(parse_error(too_big(small, 1000, source)).quote), hex(small));
}

TEST(TooBig, Ipv6PacketTooBigSaysAtLeast1280) {
  const Bytes packet = udp_packet(true, 1452);
  const Bytes source = ipsec::testing::unhex("20010db80000000000000000000000fe");
  for (std::uint32_t mtu : {1400u, 1000u}) {
    const Bytes e = too_big(packet, mtu, source);
    ASSERT_EQ(e.size(), 1280U);
    const Error err = parse_error(e);
    EXPECT_EQ(hex(Bytes(err.ip.begin() + 8, err.ip.begin() + 24)), hex(source));
    EXPECT_EQ(hex(Bytes(err.ip.begin() + 24, err.ip.begin() + 40)), hex(Bytes(packet.begin() + 8, packet.begin() + 24)));
    EXPECT_EQ(err.icmp[0], 2);
    EXPECT_EQ(err.icmp[1], 0);
    EXPECT_EQ(load_be32(&err.icmp[4]), std::max(mtu, 1280u));
    EXPECT_EQ(hex(err.quote), hex(Bytes(packet.begin(), packet.begin() + 1232)));
  }
}

TEST(TooBig, NoErrorsAboutErrorsFragmentsOrNonHosts) {
  const auto answerable = [](const Bytes& b) {
    return may_answer_with_error(b.data(), static_cast<std::uint32_t>(b.size()));
  };
  const auto icmp = [](std::uint8_t type) {
    Bytes b = udp_packet(false, 40, 0, true);
    b[9] = 1;
    b[20] = type;
    ipsec::set_ipv4_checksum(b.data());
    return b;
  };
  EXPECT_TRUE(answerable(udp_packet(false, 100)));
  EXPECT_TRUE(answerable(icmp(8)));    // echo request
  EXPECT_FALSE(answerable(icmp(3)));   // destination unreachable
  EXPECT_FALSE(answerable(icmp(11)));  // time exceeded
  Bytes later = udp_packet(false, 100);
  store_be16(&later[6], 0x2000 | 10);  // not the first fragment
  EXPECT_FALSE(answerable(later));
  for (std::uint8_t first : {0, 127, 224, 240, 255}) {
    Bytes b = udp_packet(false, 100);
    b[12] = first;  // source
    EXPECT_FALSE(answerable(b)) << int(first);
  }
  Bytes broadcast = udp_packet(false, 100);
  broadcast[16] = 255;
  EXPECT_FALSE(answerable(broadcast));

  EXPECT_TRUE(answerable(udp_packet(true, 100)));
  const auto icmpv6 = [](std::uint8_t type) {
    Bytes b = udp_packet(true, 40);
    b[6] = 58;
    b[40] = type;
    return b;
  };
  EXPECT_TRUE(answerable(icmpv6(128)));  // echo request
  EXPECT_FALSE(answerable(icmpv6(1)));   // destination unreachable
  EXPECT_FALSE(answerable(icmpv6(2)));   // packet too big
  Bytes unspecified = udp_packet(true, 100);
  std::fill(unspecified.begin() + 8, unspecified.begin() + 24, 0);
  EXPECT_FALSE(answerable(unspecified));
  Bytes multicast_source = udp_packet(true, 100);
  multicast_source[8] = 0xff;
  EXPECT_FALSE(answerable(multicast_source));
  EXPECT_FALSE(answerable(Bytes{0x45, 0, 0}));  // not even a header
}

}  // namespace
}  // namespace corridor::dataplane::forward
