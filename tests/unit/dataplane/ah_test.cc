// The AH burst stages (RFC 4302) against themselves and against the RFC's
// rules: every integrity algorithm x mode x address family x ESN
// round-trips byte for byte; the header length and padding per family;
// routers may change exactly the mutable fields (and IPv4 options / IPv6
// option data marked mutable) without breaking the ICV, while a bit
// flipped anywhere else drops the packet under a named counter.
// (The cross-check against scapy is in ipsec_interop_test.cc.)
#include "tests/unit/dataplane/esp_fixture.h"

#include "dataplane/ipsec/ah.h"
#include "dataplane/ipsec/ip.h"
#include "dataplane/ipsec/overhead.h"

namespace corridor::dataplane::ipsec::testing {
namespace {

using channel::Direction;

class AhTest : public ::testing::Test {
 protected:
  struct Pair {
    std::unique_ptr<Sa> out, in;
  };
  Pair make_pair(const AhCase& a, const SaShape& shape, std::uint64_t seed) {
    const Bytes key = make_ah_key(a, seed);
    return {make_sa(backend_, make_ah_record(a, shape, key, Direction::outbound)),
            make_sa(backend_, make_ah_record(a, shape, key, Direction::inbound))};
  }

  crypto::IpsecMbBackend backend_;
  Worker worker_{backend_};
};

void refresh_checksum(Bytes& b) {
  if ((b[0] >> 4) == 4) set_ipv4_checksum(b.data());
}

// An IPv4 UDP packet with options: Router Alert (immutable) and a
// Timestamp option (mutable: routers fill it in).
Bytes ipv4_with_options(std::size_t payload) {
  Bytes p = udp_packet(false, payload);
  const Bytes options = {0x94, 0x04, 0x00, 0x00,                            // Router Alert
                         0x44, 0x0c, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};  // Timestamp, room for 2
  p.insert(p.begin() + 20, options.begin(), options.end());
  p[0] = static_cast<std::uint8_t>(0x40 | (20 + options.size()) / 4);
  store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
  set_ipv4_checksum(p.data());
  return p;
}

// An IPv6 UDP packet behind a Hop-by-Hop header with an option that may
// change en route (type 0x3e: the 0x20 bit set) and one that may not (0x1e).
Bytes ipv6_with_hop_by_hop(std::size_t payload) {
  Bytes p = udp_packet(true, payload);
  const Bytes hbh = {kProtoUdp, 1,                 // next header, length 16 bytes
                     0x3e, 4, 0xaa, 0xbb, 0xcc, 0xdd,  // mutable option data
                     0x1e, 4, 0x11, 0x22, 0x33, 0x44,  // immutable option data
                     0x01, 0x00};                   // PadN
  p.insert(p.begin() + 40, hbh.begin(), hbh.end());
  p[6] = kIpv6HopByHop;
  store_be16(&p[4], static_cast<std::uint16_t>(p.size() - 40));
  return p;
}

TEST_F(AhTest, EveryShapeRoundTripsByteForByte) {
  int combinations = 0;
  for (const auto& a : ah_cases()) {
    for (bool tunnel : {true, false}) {
      for (bool outer_v6 : {false, true}) {
        for (bool esn : {false, true}) {
          const SaShape shape{tunnel, outer_v6, false, esn};
          SCOPED_TRACE(std::string(a.name) + (tunnel ? " tunnel" : " transport") + (outer_v6 ? " v6" : " v4") +
                       (esn ? " esn" : ""));
          auto [out, in] = make_pair(a, shape, 7);
          ASSERT_TRUE(out && in);
          ++combinations;
          if (esn) {  // a high half that is not zero has to enter the ICV on both sides
            out->runtime().seq = (std::uint64_t{3} << 32) + 10;
            in->runtime().replay->update((std::uint64_t{3} << 32) + 5);
          }
          std::vector<bool> inner_families = tunnel ? std::vector<bool>{false, true} : std::vector<bool>{outer_v6};
          for (bool inner_v6 : inner_families) {
            for (std::size_t size : {0u, 1u, 3u, 100u, 1400u}) {
              const Bytes clear = udp_packet(inner_v6, size, 0, false, static_cast<std::uint8_t>(size));
              const auto p = run_one(worker_, *out, clear);
              ASSERT_TRUE(p) << "outbound dropped size " << size;
              EXPECT_EQ((*p)[0] >> 4, outer_v6 ? 6 : 4);
              EXPECT_EQ(outer_v6 ? (*p)[6] : (*p)[9], kProtoAh);
              const auto back = run_one(worker_, *in, *p);
              ASSERT_TRUE(back) << "inbound dropped size " << size;
              EXPECT_EQ(hex(*back), hex(clear)) << "size " << size;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(combinations, 3 * 8);
}

// overhead.h for AH: the engine's output length, and the longest packet
// that fits an MTU.
TEST_F(AhTest, OverheadPredictsTheEngine) {
  for (const auto& a : ah_cases()) {
    for (bool tunnel : {true, false}) {
      for (bool outer_v6 : {false, true}) {
        for (bool esn : {false, true}) {
          SCOPED_TRACE(std::string(a.name) + (tunnel ? " tunnel" : " transport") + (outer_v6 ? " v6" : " v4"));
          auto [out, in] = make_pair(a, SaShape{tunnel, outer_v6, false, esn}, 5);
          ASSERT_TRUE(out);
          const RuntimeSa& rt = out->runtime();
          const std::uint32_t keep = outer_v6 ? kIpv6HeaderLen : kIpv4HeaderLen;
          for (std::size_t size : {0u, 1u, 3u, 5u, 100u, 1400u}) {
            const Bytes clear = udp_packet(tunnel ? false : outer_v6, size);
            const auto p = run_one(worker_, *out, clear);
            ASSERT_TRUE(p);
            EXPECT_EQ(p->size(), protected_length(rt, static_cast<std::uint32_t>(clear.size()), keep));
          }
          for (std::uint32_t mtu = 100; mtu <= 1500; mtu += 11) {
            const std::uint32_t fit = max_clear_length(rt, mtu, keep);
            EXPECT_EQ(protected_length(rt, fit, keep), mtu);  // AH adds a fixed length
          }
        }
      }
    }
  }
}

// RFC 4302 §2.2: Payload Length in 32-bit words minus 2; §3.3.3.2.1: the
// ICV padded to 4 bytes over IPv4, 8 over IPv6; the outer header per
// RFC 4301 §5.1.2 (as for ESP).
TEST_F(AhTest, HeaderLengthAndPaddingPerFamily) {
  const std::uint32_t expected_v4[] = {28, 36, 44}, expected_v6[] = {32, 40, 48};
  for (std::size_t i = 0; i < ah_cases().size(); ++i) {
    EXPECT_EQ(ah_header_len(16 + 8 * static_cast<std::uint32_t>(i), false), expected_v4[i]);
    EXPECT_EQ(ah_header_len(16 + 8 * static_cast<std::uint32_t>(i), true), expected_v6[i]);
    for (bool v6 : {false, true}) {
      auto [out, in] = make_pair(ah_cases()[i], {true, v6, false, false}, 1);
      const Bytes clear = udp_packet(false, 40, 0xb8, true);
      for (std::uint32_t seq = 1; seq <= 2; ++seq) {
        const auto p = run_one(worker_, *out, clear);
        ASSERT_TRUE(p);
        const Bytes& b = *p;
        const std::size_t ip = v6 ? 40 : 20;
        const std::uint32_t ah_len = v6 ? expected_v6[i] : expected_v4[i];
        ASSERT_EQ(b.size(), ip + ah_len + clear.size());
        EXPECT_EQ(b[ip], kProtoIpv4) << "next header";
        EXPECT_EQ(b[ip + 1], ah_len / 4 - 2);
        EXPECT_EQ(load_be16(&b[ip + 2]), 0) << "reserved";
        EXPECT_EQ(load_be32(&b[ip + 4]), 0x5000u);
        EXPECT_EQ(load_be32(&b[ip + 8]), seq);
        const std::uint32_t icv = 16 + 8 * static_cast<std::uint32_t>(i);
        for (std::uint32_t k = 12 + icv; k < ah_len; ++k) EXPECT_EQ(b[ip + k], 0) << "ICV padding";
        if (v6) {
          EXPECT_EQ(traffic_class(b.data()), 0xb8) << "DSCP copied";
          EXPECT_EQ(b[7], 64);
        } else {
          EXPECT_EQ(b[1], 0xb8);
          EXPECT_EQ(b[6] & 0x40, 0x40) << "DF copied";
          EXPECT_EQ(b[8], 64);
          EXPECT_EQ(ipv4_header_checksum(b.data(), 20), load_be16(&b[10]));
        }
        EXPECT_EQ(Bytes(b.begin() + ip + ah_len, b.end()), clear) << "the inner packet travels in the clear";
        EXPECT_TRUE(run_one(worker_, *in, b));
      }
    }
  }
}

// What routers change in transit (RFC 4302 §3.3.3.1) does not break the
// ICV; what they must not change does.
TEST_F(AhTest, MutableFieldsMayChangeInTransitAndNothingElse) {
  const auto& a = ah_cases()[0];
  {
    auto [out, in] = make_pair(a, {true, false, false, false}, 2);
    // One packet per attempt: a copy of an accepted one would be a replay.
    auto fresh = [&, sa = out.get()] { return *run_one(worker_, *sa, udp_packet(false, 30, kEct0)); };
    Bytes routed = fresh();
    routed[8] -= 3;              // TTL
    routed[1] = 0x28 | kCe;      // DSCP rewritten, congestion marked
    routed[6] |= 0x40;           // DF set by a middlebox
    refresh_checksum(routed);
    const auto got = run_one(worker_, *in, routed);
    ASSERT_TRUE(got);
    EXPECT_EQ((*got)[1] & 3, kCe) << "RFC 6040: CE reaches the inner packet";
    for (std::size_t at : {4u, 12u, 16u}) {  // identification, source, destination
      Bytes forged = fresh();
      forged[at] ^= 1;
      refresh_checksum(forged);
      EXPECT_FALSE(run_one(worker_, *in, forged)) << "byte " << at;
    }
    EXPECT_EQ(in->counters().dropped(Drop::icv_failure), 3u);
  }
  {
    auto [out, in] = make_pair(a, {true, true, false, false}, 3);
    auto fresh = [&, sa = out.get()] { return *run_one(worker_, *sa, udp_packet(true, 30)); };
    Bytes routed = fresh();
    routed[7] = 1;                                    // hop limit
    routed[0] = static_cast<std::uint8_t>(0x60 | 0x0b);  // traffic class
    routed[1] = 0x8f;                                 // ... and flow label
    routed[3] = 0x42;
    EXPECT_TRUE(run_one(worker_, *in, routed));
    Bytes forged = fresh();
    forged[39] ^= 0x80;  // destination address
    EXPECT_FALSE(run_one(worker_, *in, forged));
    EXPECT_EQ(in->counters().dropped(Drop::icv_failure), 1u);
  }
}

// Transport mode keeps the packet's own header: IPv4 options and IPv6
// Hop-by-Hop options are covered or not by their mutability (Appendix A).
TEST_F(AhTest, TransportCoversOptionsByTheirMutability) {
  const auto& a = ah_cases()[1];
  {
    auto [out, in] = make_pair(a, {false, false, false, false}, 4);
    const Bytes clear = ipv4_with_options(25);
    auto fresh = [&, sa = out.get()] { return *run_one(worker_, *sa, clear); };
    const Bytes p = fresh();
    EXPECT_EQ(p[9], kProtoAh);
    EXPECT_EQ(p[36], kProtoUdp) << "AH follows the 36-byte header with options";
    EXPECT_EQ(hex(*run_one(worker_, *in, p)), hex(clear));
    Bytes stamped = fresh();  // a router records a timestamp
    stamped[26] = 0x09;
    stamped[28] = 0x12;
    refresh_checksum(stamped);
    const auto got = run_one(worker_, *in, stamped);
    ASSERT_TRUE(got) << "timestamp option data is mutable";
    EXPECT_EQ((*got)[28], 0x12) << "the received header is passed on as received";
    Bytes alert = fresh();  // Router Alert is immutable
    alert[23] = 1;
    refresh_checksum(alert);
    EXPECT_FALSE(run_one(worker_, *in, alert));
    EXPECT_EQ(in->counters().dropped(Drop::icv_failure), 1u);
  }
  {
    auto [out, in] = make_pair(a, {false, true, false, false}, 5);
    const Bytes clear = ipv6_with_hop_by_hop(25);
    auto fresh = [&, sa = out.get()] { return *run_one(worker_, *sa, clear); };
    const Bytes p = fresh();
    EXPECT_EQ(p[6], kIpv6HopByHop);
    EXPECT_EQ(p[40], kProtoAh) << "AH follows the Hop-by-Hop header";
    EXPECT_EQ(p[56], kProtoUdp);
    EXPECT_EQ(hex(*run_one(worker_, *in, p)), hex(clear));
    Bytes changed = fresh();
    changed[44] = 0x55;  // data of the option with the may-change bit
    EXPECT_TRUE(run_one(worker_, *in, changed));
    Bytes forged = fresh();
    forged[50] = 0x55;  // data of the option without it
    EXPECT_FALSE(run_one(worker_, *in, forged));
    EXPECT_EQ(in->counters().dropped(Drop::icv_failure), 1u);
  }
}

TEST_F(AhTest, MutableFieldRules) {
  Bytes v4 = ipv4_with_options(0);
  ASSERT_EQ(zero_mutable_fields(v4.data(), 36), MutableFields::zeroed);
  EXPECT_EQ(v4[1] | v4[6] | v4[7] | v4[8] | v4[10] | v4[11], 0);
  EXPECT_EQ(Bytes(v4.begin() + 20, v4.begin() + 24), Bytes({0x94, 0x04, 0, 0})) << "Router Alert kept";
  EXPECT_EQ(Bytes(v4.begin() + 24, v4.begin() + 36), Bytes(12, 0)) << "Timestamp zeroed, type and length too";
  EXPECT_EQ(load_be16(&v4[2]), 36 + 8 + 0) << "total length is immutable";
  Bytes bad = ipv4_with_options(0);
  bad[25] = 40;  // option length beyond the header
  EXPECT_EQ(zero_mutable_fields(bad.data(), 36), MutableFields::malformed);
  {
    auto [out, in] = make_pair(ah_cases()[0], {false, false, false, false}, 6);
    bad = ipv4_with_options(0);
    bad[25] = 40;
    EXPECT_FALSE(run_one(worker_, *out, bad));
    EXPECT_EQ(out->counters().dropped(Drop::bad_ip_header), 1u);
  }

  Bytes v6 = ipv6_with_hop_by_hop(0);
  v6[7] = 9;
  ASSERT_EQ(zero_mutable_fields(v6.data(), 56), MutableFields::zeroed);
  EXPECT_EQ(v6[0], 0x60);
  EXPECT_EQ(v6[7], 0);
  EXPECT_EQ(Bytes(v6.begin() + 44, v6.begin() + 48), Bytes(4, 0));
  EXPECT_EQ(Bytes(v6.begin() + 50, v6.begin() + 54), Bytes({0x11, 0x22, 0x33, 0x44}));
  // A routing header still to be processed would need its addresses reordered.
  Bytes routed = udp_packet(true, 0);
  const Bytes rh = {kProtoUdp, 2, 0, 1, 0, 0, 0, 0};
  routed.insert(routed.begin() + 40, rh.begin(), rh.end());
  routed.insert(routed.begin() + 48, 16, 0x20);
  routed[6] = kIpv6Routing;
  store_be16(&routed[4], static_cast<std::uint16_t>(routed.size() - 40));
  Bytes copy = routed;
  EXPECT_EQ(zero_mutable_fields(copy.data(), 64), MutableFields::unsupported);
  auto [out, in] = make_pair(ah_cases()[0], {false, true, false, false}, 6);
  EXPECT_FALSE(run_one(worker_, *out, routed));
  EXPECT_EQ(out->counters().dropped(Drop::unsupported_header), 1u);
  routed[43] = 0;  // segments left 0: immutable as it stands
  const auto p = run_one(worker_, *out, routed);
  ASSERT_TRUE(p);
  EXPECT_EQ(hex(*run_one(worker_, *in, *p)), hex(routed));
}

// Each bad packet is dropped under its own name; the window does not move
// and the real packets pass afterwards.
TEST_F(AhTest, BadInputIsDroppedUnderItsName) {
  auto [out, in] = make_pair(ah_cases()[0], {true, false, false, false}, 8);
  const Bytes clear = udp_packet(false, 64);
  std::vector<Bytes> good;
  for (int i = 0; i < 4; ++i) good.push_back(*run_one(worker_, *out, clear));
  std::map<Drop, std::uint64_t> expected;
  // Init-captures: clang 14 cannot capture structured bindings by name.
  auto expect_drop = [&, sa = in.get()](const Bytes& pkt, Drop d, const std::string& what) {
    EXPECT_FALSE(run_one(worker_, *sa, pkt)) << what;
    ++expected[d];
    for (std::size_t r = 0; r < kDropReasons; ++r) {
      const auto reason = static_cast<Drop>(r);
      EXPECT_EQ(sa->counters().dropped(reason), expected[reason]) << what << ": " << to_string(reason);
    }
  };
  auto with_length = [](Bytes b, std::size_t len) {
    b.resize(len);
    store_be16(&b[2], static_cast<std::uint16_t>(len));
    set_ipv4_checksum(b.data());
    return b;
  };
  expect_drop(Bytes(good[0].begin(), good[0].begin() + 19), Drop::too_short, "cut in the IP header");
  expect_drop(Bytes(good[0].begin(), good[0].begin() + 40), Drop::bad_ip_header, "cut, total length kept");
  expect_drop(with_length(good[0], 30), Drop::too_short, "cut in the AH header");
  expect_drop(with_length(good[0], 40), Drop::too_short, "cut in the ICV");
  Bytes b = good[0];
  b[21] = 5 + 1;
  expect_drop(b, Drop::bad_length, "AH length not the SA's ICV");
  b = good[0];
  b[6] = 0x20;  // MF
  refresh_checksum(b);
  expect_drop(b, Drop::fragment, "fragment");
  b = good[0];
  b[9] = kProtoEsp;
  refresh_checksum(b);
  expect_drop(b, Drop::no_sa, "ESP on an AH SA");
  b = good[0];
  b[24] ^= 0x01;
  expect_drop(b, Drop::no_sa, "SPI");
  // One bit flipped anywhere the ICV covers (not the mutable fields).
  for (std::size_t at = 20; at < good[1].size(); at += 5) {
    if (at == 21 || (at >= 24 && at < 28)) continue;  // length and SPI: dropped above under their names
    b = good[1];
    b[at] ^= static_cast<std::uint8_t>(1u << (at % 8));
    expect_drop(b, Drop::icv_failure, "flipped bit at " + std::to_string(at));
  }
  EXPECT_TRUE(run_one(worker_, *in, good[1]));
  expect_drop(good[1], Drop::replay, "duplicate");
  EXPECT_TRUE(run_one(worker_, *in, good[0]));
  EXPECT_TRUE(run_one(worker_, *in, good[3]));
  EXPECT_EQ(in->counters().packets, 3u);

  // A valid ICV on an inner packet tunnel mode cannot take: the same key
  // in transport mode makes one that names UDP.
  const Bytes key = make_ah_key(ah_cases()[0], 8);
  auto transport = make_sa(backend_, make_ah_record(ah_cases()[0], {false, false, false, false}, key, Direction::outbound));
  transport->runtime().seq = 10;
  expect_drop(*run_one(worker_, *transport, clear), Drop::bad_next_header, "transport payload on a tunnel SA");
}

TEST_F(AhTest, SequenceNumbersNeverWrap) {
  auto [out, in] = make_pair(ah_cases()[2], {false, false, false, false}, 9);
  out->runtime().seq = 0xffffffff;
  EXPECT_FALSE(run_one(worker_, *out, udp_packet(false, 8)));
  EXPECT_EQ(out->counters().dropped(Drop::seq_overflow), 1u);
  EXPECT_NE(out->runtime().events.load() & kSeqOverflow, 0);
}

TEST_F(AhTest, RecordsTheEngineCannotRunAreRefused) {
  const auto& a = ah_cases()[0];
  const Bytes key = make_ah_key(a, 10);
  std::string why;
  auto r = make_ah_record(a, {true, false, true, false}, key, Direction::inbound);
  EXPECT_EQ(Sa::create(r, backend_, &why), nullptr);
  EXPECT_NE(why.find("UDP-encapsulated"), std::string::npos) << why;
  r = make_ah_record(a, {true, false, false, false}, key, Direction::inbound);
  r.encryption_id = static_cast<std::uint16_t>(iana::EncrId::aes_cbc);
  EXPECT_EQ(Sa::create(r, backend_, &why), nullptr);
  EXPECT_NE(why.find("no encryption"), std::string::npos) << why;
  r = make_ah_record(a, {true, false, false, false}, key, Direction::inbound);
  r.integrity_id = 2;  // HMAC-SHA1-96
  EXPECT_EQ(Sa::create(r, backend_, &why), nullptr);
  EXPECT_NE(why.find("not supported for AH"), std::string::npos) << why;
}

}  // namespace
}  // namespace corridor::dataplane::ipsec::testing
