// ESP reassembly (reassembly.h): fragments of real ESP packets, made by the
// engine, come back whole in any order and decrypt; IPv6 fragments too;
// what cannot be completed (a lost piece, a datagram larger than an mbuf)
// is freed and counted, and no mbuf is lost. End to end, gateway B
// reassembles the ESP that gateway A fragments in transport mode
// (ike_tunnel.py --variant transport).
#include "dataplane/forward/reassembly.h"

#include <rte_cycles.h>
#include <rte_mempool.h>

#include <algorithm>

#include "dataplane/forward/path_mtu.h"
#include "dataplane/ipsec/ip.h"
#include "tests/unit/dataplane/esp_fixture.h"

namespace corridor::dataplane::forward {
namespace {

using channel::Direction;
using ipsec::load_be16;
using ipsec::store_be16;
using ipsec::store_be32;
using ipsec::testing::algorithm_cases;
using ipsec::testing::Bytes;
using ipsec::testing::bytes_of;
using ipsec::testing::g_pool;
using ipsec::testing::hex;
using ipsec::testing::make_keys;
using ipsec::testing::make_record;
using ipsec::testing::make_sa;
using ipsec::testing::run_one;
using ipsec::testing::SaShape;
using ipsec::testing::to_mbuf;
using ipsec::testing::udp_packet;

class ReassemblyTest : public ::testing::Test {
 protected:
  void SetUp() override { free_at_start_ = rte_mempool_avail_count(g_pool); }
  void TearDown() override {
    reassembly_.reset();  // frees whatever the table still holds
    EXPECT_EQ(rte_mempool_avail_count(g_pool), free_at_start_) << "an mbuf was lost";
  }
  // Feeds the frames in; returns the datagram if one came out.
  std::optional<Bytes> feed(const std::vector<Bytes>& frames, std::uint64_t now = 1) {
    std::optional<Bytes> out;
    for (const Bytes& f : frames) {
      rte_mbuf* whole = reassembly_->add(to_mbuf(f), now);
      if (whole == nullptr) continue;
      EXPECT_FALSE(out) << "two datagrams";
      EXPECT_EQ(whole->nb_segs, 1);
      out = bytes_of(whole);
      rte_pktmbuf_free(whole);
    }
    return out;
  }

  crypto::IpsecMbBackend backend_;
  ipsec::Worker worker_{backend_};
  std::unique_ptr<Reassembly> reassembly_ = std::make_unique<Reassembly>();
  unsigned free_at_start_ = 0;
};

// The IPv4 datagram cut by fragment_ipv4() (path_mtu.h).
std::vector<Bytes> fragments_v4(const Bytes& datagram, std::uint32_t max_len) {
  rte_mbuf* m = to_mbuf(datagram);
  std::array<rte_mbuf*, kMaxFragments> out{};
  const std::uint16_t n = fragment_ipv4(m, max_len, g_pool, out.data(), kMaxFragments);
  rte_pktmbuf_free(m);
  std::vector<Bytes> frames;
  for (std::uint16_t i = 0; i < n; ++i) {
    frames.push_back(bytes_of(out[i]));
    rte_pktmbuf_free(out[i]);
  }
  return frames;
}

// An IPv4 datagram of `protocol` with `payload` bytes, DF clear.
Bytes ipv4_datagram(std::uint8_t protocol, std::size_t payload, std::uint16_t id = 0x4242) {
  Bytes d = {0x45, 0, 0, 0, static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id), 0, 0, 64, protocol,
             0, 0, 198, 51, 100, 7, 192, 0, 2, 1};
  for (std::size_t i = 0; i < payload; ++i) d.push_back(static_cast<std::uint8_t>(i * 13));
  store_be16(&d[2], static_cast<std::uint16_t>(d.size()));
  ipsec::set_ipv4_checksum(d.data());
  return d;
}

// An IPv6 datagram (fixed header, then `protocol`) cut into fragments
// (RFC 8200 §4.5) of at most `chunk` bytes of data.
std::vector<Bytes> fragments_v6(const Bytes& datagram, std::size_t chunk, std::uint32_t id = 0x01020304) {
  std::vector<Bytes> out;
  const std::size_t data = datagram.size() - 40;
  for (std::size_t at = 0; at < data; at += chunk) {
    const std::size_t n = std::min(chunk, data - at);
    Bytes f(datagram.begin(), datagram.begin() + 40);
    f[6] = ipsec::kIpv6Fragment;
    store_be16(&f[4], static_cast<std::uint16_t>(8 + n));
    const bool more = at + n < data;
    const Bytes fragment_header = {datagram[6], 0, static_cast<std::uint8_t>(at >> 8),
                                   static_cast<std::uint8_t>((at & 0xf8) | (more ? 1 : 0)), 0, 0, 0, 0};
    f.insert(f.end(), fragment_header.begin(), fragment_header.end());
    store_be32(&f[44], id);
    f.insert(f.end(), datagram.begin() + 40 + static_cast<std::ptrdiff_t>(at),
             datagram.begin() + 40 + static_cast<std::ptrdiff_t>(at + n));
    out.push_back(f);
  }
  return out;
}

TEST_F(ReassemblyTest, EspFragmentsComeBackWholeInAnyOrderAndDecrypt) {
  const auto& gcm = algorithm_cases()[0];
  const auto keys = make_keys(gcm, 11);
  auto out = make_sa(backend_, make_record(gcm, SaShape{}, keys, Direction::outbound));
  auto in = make_sa(backend_, make_record(gcm, SaShape{}, keys, Direction::inbound));
  const Bytes clear = udp_packet(false, 1650);  // DF clear: the outer header copies it
  const auto esp = run_one(worker_, *out, clear);
  ASSERT_TRUE(esp);
  auto frames = fragments_v4(*esp, 700);
  ASSERT_EQ(frames.size(), 3U);
  for (const Bytes& f : frames) EXPECT_TRUE(is_ipsec_fragment(f.data(), static_cast<std::uint32_t>(f.size())));
  std::reverse(frames.begin(), frames.end());
  std::swap(frames[0], frames[1]);
  const auto whole = feed(frames);
  ASSERT_TRUE(whole);
  EXPECT_EQ(hex(*whole), hex(*esp));  // header made whole again, checksum included
  const auto decrypted = run_one(worker_, *in, *whole);
  ASSERT_TRUE(decrypted);
  EXPECT_EQ(hex(*decrypted), hex(clear));
  EXPECT_EQ(reassembly_->counters().fragments, 3U);
  EXPECT_EQ(reassembly_->counters().reassembled, 1U);
  EXPECT_EQ(reassembly_->counters().dropped, 0U);
}

TEST_F(ReassemblyTest, Ipv6FragmentsToo) {
  Bytes datagram = udp_packet(true, 1500);
  datagram[6] = ipsec::kProtoEsp;  // an ESP payload as far as reassembly cares
  const auto frames = fragments_v6(datagram, 600);
  ASSERT_EQ(frames.size(), 3U);
  EXPECT_TRUE(is_ipsec_fragment(frames[0].data(), static_cast<std::uint32_t>(frames[0].size())));
  const auto whole = feed({frames[2], frames[0], frames[1]});
  ASSERT_TRUE(whole);
  EXPECT_EQ(hex(*whole), hex(datagram));  // Fragment header gone, payload length whole
}

TEST_F(ReassemblyTest, OnlyEspAndAhFragments) {
  const Bytes udp = ipv4_datagram(ipsec::kProtoUdp, 100);
  Bytes udp_fragment = udp;
  store_be16(&udp_fragment[6], 0x2000);  // MF
  EXPECT_FALSE(is_ipsec_fragment(udp_fragment.data(), static_cast<std::uint32_t>(udp_fragment.size())));
  const Bytes esp = ipv4_datagram(ipsec::kProtoEsp, 100);
  EXPECT_FALSE(is_ipsec_fragment(esp.data(), static_cast<std::uint32_t>(esp.size())));  // whole
  Bytes ah_fragment = ipv4_datagram(ipsec::kProtoAh, 100);
  store_be16(&ah_fragment[6], 12);  // offset 96, last
  EXPECT_TRUE(is_ipsec_fragment(ah_fragment.data(), static_cast<std::uint32_t>(ah_fragment.size())));
}

TEST_F(ReassemblyTest, ALostPieceTimesOutAndFreesTheRest) {
  const auto frames = fragments_v4(ipv4_datagram(ipsec::kProtoEsp, 1800), 700);
  ASSERT_EQ(frames.size(), 3U);
  EXPECT_FALSE(feed({frames[0], frames[2]}, 1));
  reassembly_->expire(1 + rte_get_tsc_hz() / 1000 * (Reassembly::kTimeoutMs / 2));
  EXPECT_EQ(reassembly_->counters().dropped, 0U);  // not yet
  reassembly_->expire(2 + rte_get_tsc_hz() / 1000 * Reassembly::kTimeoutMs);
  EXPECT_EQ(reassembly_->counters().dropped, 2U);
  // The late piece starts a datagram of its own, which never completes.
  EXPECT_FALSE(feed({frames[1]}, 3 + rte_get_tsc_hz() / 1000 * Reassembly::kTimeoutMs));
}

TEST_F(ReassemblyTest, ADatagramLargerThanAnMbufIsDropped) {
  // 4 KB of ESP in eight pieces: more than one mbuf's data room.
  const Bytes datagram = ipv4_datagram(ipsec::kProtoEsp, 4000);
  std::vector<Bytes> frames;
  for (std::size_t at = 0; at < 4000; at += 504) {
    const std::size_t n = std::min<std::size_t>(504, 4000 - at);
    Bytes f(datagram.begin(), datagram.begin() + 20);
    store_be16(&f[2], static_cast<std::uint16_t>(20 + n));
    store_be16(&f[6], static_cast<std::uint16_t>(at / 8 | (at + n < 4000 ? 0x2000 : 0)));
    ipsec::set_ipv4_checksum(f.data());
    f.insert(f.end(), datagram.begin() + 20 + static_cast<std::ptrdiff_t>(at),
             datagram.begin() + 20 + static_cast<std::ptrdiff_t>(at + n));
    frames.push_back(f);
  }
  ASSERT_EQ(frames.size(), 8U);
  EXPECT_FALSE(feed(frames));
  EXPECT_EQ(reassembly_->counters().dropped, 8U);
  EXPECT_EQ(reassembly_->counters().reassembled, 0U);
}

TEST_F(ReassemblyTest, ManyDatagramsAtOnce) {
  // Interleaved, as when several peers' fragments arrive together.
  std::vector<std::vector<Bytes>> all;
  for (std::uint16_t id = 1; id <= 100; ++id) all.push_back(fragments_v4(ipv4_datagram(ipsec::kProtoEsp, 1200, id), 700));
  int completed = 0;
  for (std::size_t piece = 0; piece < 2; ++piece) {
    for (const auto& frames : all) {
      rte_mbuf* whole = reassembly_->add(to_mbuf(frames[piece]), 1);
      if (whole != nullptr) {
        ++completed;
        rte_pktmbuf_free(whole);
      }
    }
  }
  EXPECT_EQ(completed, 100);
  EXPECT_EQ(reassembly_->counters().dropped, 0U);
}

}  // namespace
}  // namespace corridor::dataplane::forward
