// The ESP burst stages against themselves and against the RFCs' rules:
// every algorithm x mode x address family x NAT-T x ESN round-trips byte
// for byte; the outer headers say what RFC 4301/4303/3948/6040 say; every
// malformed or hostile packet is dropped under its named counter and
// nothing else is affected; sequence-number overflow and lifetimes.
// (The cross-check against an independent implementation is
// ipsec_interop_test.cc.)
#include "tests/unit/dataplane/esp_fixture.h"

#include "dataplane/ipsec/ip.h"
#include "dataplane/ipsec/overhead.h"

namespace corridor::dataplane::ipsec::testing {
namespace {

using channel::Direction;

class EspTest : public ::testing::Test {
 protected:
  crypto::IpsecMbBackend backend_;
  Worker worker_{backend_};
};

TEST_F(EspTest, EveryShapeRoundTripsByteForByte) {
  int combinations = 0;
  for (const auto& a : algorithm_cases()) {
    for (bool tunnel : {true, false}) {
      for (bool outer_v6 : {false, true}) {
        for (bool udp : {false, true}) {
          for (bool esn : {false, true}) {
            const SaShape shape{tunnel, outer_v6, udp, esn};
            SCOPED_TRACE(describe(a, shape));
            const Keys keys = make_keys(a, 7);
            auto out = make_sa(backend_, make_record(a, shape, keys, Direction::outbound));
            auto in = make_sa(backend_, make_record(a, shape, keys, Direction::inbound));
            ASSERT_TRUE(out && in);
            ++combinations;
            // Tunnel mode carries both families; transport only its own.
            std::vector<bool> inner_families = tunnel ? std::vector<bool>{false, true} : std::vector<bool>{outer_v6};
            for (bool inner_v6 : inner_families) {
              for (std::size_t size : {0u, 1u, 2u, 3u, 13u, 100u, 1400u}) {
                const Bytes clear = udp_packet(inner_v6, size, 0, false, static_cast<std::uint8_t>(size));
                const auto protected_pkt = run_one(worker_, *out, clear);
                ASSERT_TRUE(protected_pkt) << "outbound dropped size " << size;
                const Bytes& p = *protected_pkt;
                // The carrier: outer IPv4/IPv6 with ESP or UDP/4500.
                EXPECT_EQ(p[0] >> 4, outer_v6 ? 6 : 4);
                const std::uint8_t carrier = outer_v6 ? p[6] : p[9];
                EXPECT_EQ(carrier, udp ? kProtoUdp : kProtoEsp);
                const auto decrypted = run_one(worker_, *in, p);
                ASSERT_TRUE(decrypted) << "inbound dropped size " << size;
                EXPECT_EQ(hex(*decrypted), hex(clear)) << "size " << size;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(combinations, static_cast<int>(algorithm_cases().size()) * 16);
}

// overhead.h predicts, for every algorithm and shape, the length the engine
// makes, and its max_clear_length() is the longest packet that fits an MTU:
// the forwarder's fragment-or-"too big" decisions rest on both.
TEST_F(EspTest, OverheadPredictsTheEngine) {
  for (const auto& a : algorithm_cases()) {
    for (bool tunnel : {true, false}) {
      for (bool outer_v6 : {false, true}) {
        for (bool udp : {false, true}) {
          const SaShape shape{tunnel, outer_v6, udp, false};
          SCOPED_TRACE(describe(a, shape));
          auto out = make_sa(backend_, make_record(a, shape, make_keys(a, 3), Direction::outbound));
          ASSERT_TRUE(out);
          const RuntimeSa& rt = out->runtime();
          const std::uint32_t keep = outer_v6 ? kIpv6HeaderLen : kIpv4HeaderLen;
          std::vector<bool> inner_families = tunnel ? std::vector<bool>{false, true} : std::vector<bool>{outer_v6};
          for (bool inner_v6 : inner_families) {
            for (std::size_t size = 0; size < 40; ++size) {
              const Bytes clear = udp_packet(inner_v6, size);
              const auto p = run_one(worker_, *out, clear);
              ASSERT_TRUE(p);
              ASSERT_EQ(p->size(), protected_length(rt, static_cast<std::uint32_t>(clear.size()), keep))
                  << "clear " << clear.size();
            }
          }
          for (std::uint32_t mtu = 60; mtu <= 1500; mtu += 7) {
            const std::uint32_t fit = max_clear_length(rt, mtu, keep);
            if (fit == 0) continue;
            EXPECT_LE(protected_length(rt, fit, keep), mtu) << mtu;
            EXPECT_GT(protected_length(rt, fit + 1, keep), mtu) << mtu;
          }
        }
      }
    }
  }
  // AES-GCM in IPv4 tunnel mode on a 1500-byte path: 20 + 8 + 8 (IV) + 1448
  // (1446 + 2, a multiple of 4) + 16 (ICV).
  auto gcm = make_sa(backend_, make_record(algorithm_cases()[0], SaShape{}, make_keys(algorithm_cases()[0], 3),
                                           Direction::outbound));
  EXPECT_EQ(max_clear_length(gcm->runtime(), 1500, 0), 1446U);
  EXPECT_EQ(max_clear_length(gcm->runtime(), 40, 0), 0U);
}

// RFC 4303 §2.4 alignment, §3.3.2 sequence numbers, RFC 4106 §3.1 IV =
// sequence number, RFC 3948 §2.1 UDP header; tunnel outer header built from
// the SA with DSCP copied and ECN per RFC 6040, DF per the SA's df mode.
TEST_F(EspTest, OuterHeadersFollowTheRfcs) {
  const auto& gcm = algorithm_cases()[0];
  const Keys keys = make_keys(gcm, 1);
  auto rec = make_record(gcm, {true, false, true, false}, keys, Direction::outbound, 0xc0ffee);
  auto out = make_sa(backend_, rec);
  const Bytes clear = udp_packet(false, 33, 0xb8 | kEct0, true);  // DSCP EF, ECT(0), DF
  for (std::uint32_t expected_seq = 1; expected_seq <= 3; ++expected_seq) {
    const auto p = run_one(worker_, *out, clear);
    ASSERT_TRUE(p);
    const Bytes& b = *p;
    EXPECT_EQ(b[0], 0x45);
    EXPECT_EQ(b[1], 0xb8 | kEct0) << "DSCP and ECN copied";
    EXPECT_EQ(load_be16(&b[2]), b.size());
    EXPECT_EQ(b[6] & 0x40, 0x40) << "DF copied";
    EXPECT_EQ(b[8], 64);
    EXPECT_EQ(b[9], kProtoUdp);
    EXPECT_EQ(ipv4_header_checksum(b.data(), 20), load_be16(&b[10]));
    EXPECT_EQ(Bytes(b.begin() + 12, b.begin() + 20), Bytes({192, 0, 2, 1, 192, 0, 2, 2}));
    EXPECT_EQ(load_be16(&b[20]), 4500);
    EXPECT_EQ(load_be16(&b[22]), 4500);
    EXPECT_EQ(load_be16(&b[24]), b.size() - 20);
    EXPECT_EQ(load_be16(&b[26]), 0) << "RFC 3948: UDP checksum 0 over IPv4";
    EXPECT_EQ(load_be32(&b[28]), 0xc0ffeeu);
    EXPECT_EQ(load_be32(&b[32]), expected_seq);
    EXPECT_EQ(load_be32(&b[36]), 0u);  // IV = 64-bit sequence number
    EXPECT_EQ(load_be32(&b[40]), expected_seq);
    // 61 bytes inner + 2 trailer = 63 -> 64: one byte of padding.
    EXPECT_EQ(b.size(), 20u + 8 + 8 + 8 + 64 + 16);
  }
  EXPECT_EQ(out->counters().packets, 3u);
  EXPECT_EQ(out->counters().bytes, 3u * clear.size());

  // DF set / clear regardless of the inner packet; DSCP not copied.
  rec.df = channel::DfMode::clear;
  rec.dscp_copy = false;
  rec.ecn_propagate = false;
  auto cleared = make_sa(backend_, rec);
  auto p = run_one(worker_, *cleared, clear);
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)[6] & 0x40, 0);
  EXPECT_EQ((*p)[1], 0);
  rec.df = channel::DfMode::set;
  auto set = make_sa(backend_, rec);
  p = run_one(worker_, *set, udp_packet(false, 10));
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)[6] & 0x40, 0x40);
}

TEST_F(EspTest, CbcPadsToTheBlockAndIpv6NatTHasAChecksum) {
  const auto& cbc = algorithm_cases()[5];
  const Keys keys = make_keys(cbc, 2);
  auto out = make_sa(backend_, make_record(cbc, {true, true, true, false}, keys, Direction::outbound));
  const Bytes clear = udp_packet(true, 50);  // 98 bytes + 2 = 100 -> 112
  const auto p = run_one(worker_, *out, clear);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->size(), 40u + 8 + 8 + 16 + 112 + 16);
  const Bytes& b = *p;
  EXPECT_NE(load_be16(&b[46]), 0) << "UDP over IPv6 needs a checksum";
  // Verify it: pseudo-header + UDP datagram sums to 0xffff.
  const std::uint16_t udp_len = load_be16(&b[44]);
  std::uint8_t pseudo[8] = {0, 0, static_cast<std::uint8_t>(udp_len >> 8), static_cast<std::uint8_t>(udp_len), 0, 0, 0, 17};
  std::uint32_t sum = sum16(&b[8], 32);
  sum += sum16(pseudo, 8);
  sum += sum16(&b[40], udp_len);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  EXPECT_EQ(sum, 0xffffu);
  // The padding is 1, 2, 3... (RFC 4303 §2.4), visible after decryption.
  auto in = make_sa(backend_, make_record(cbc, {true, true, true, false}, keys, Direction::inbound));
  EXPECT_TRUE(run_one(worker_, *in, b));
}

// Each bad packet is dropped under its own name; a good packet afterwards
// still passes and no other counter moved.
TEST_F(EspTest, BadInputIsDroppedUnderItsName) {
  const auto& gcm = algorithm_cases()[0];
  const Keys keys = make_keys(gcm, 3);
  const SaShape shape{true, false, false, false};
  auto out = make_sa(backend_, make_record(gcm, shape, keys, Direction::outbound));
  auto in = make_sa(backend_, make_record(gcm, shape, keys, Direction::inbound));
  const Bytes clear = udp_packet(false, 64);

  std::vector<Bytes> good;
  for (int i = 0; i < 12; ++i) good.push_back(*run_one(worker_, *out, clear));
  std::map<Drop, std::uint64_t> expected;
  auto expect_drop = [&](const Bytes& pkt, Drop d, const char* what) {
    EXPECT_FALSE(run_one(worker_, *in, pkt)) << what;
    ++expected[d];
    for (std::size_t r = 0; r < kDropReasons; ++r) {
      const auto reason = static_cast<Drop>(r);
      EXPECT_EQ(in->counters().dropped(reason), expected[reason]) << what << ": " << to_string(reason);
    }
  };

  // Truncated anywhere: the IP total length no longer matches, or the
  // ESP packet is too short once the lengths are made consistent.
  for (std::size_t cut : {1u, 10u, 19u}) expect_drop(Bytes(good[0].begin(), good[0].begin() + cut), Drop::too_short, "cut");
  for (std::size_t cut : {21u, 40u, 60u, 100u}) {
    expect_drop(Bytes(good[0].begin(), good[0].begin() + cut), Drop::bad_ip_header, "truncated");
  }
  {
    Bytes b(good[0].begin(), good[0].begin() + 20 + 8 + 8 + 16 + 1);  // less than header+IV+ICV+2
    store_be16(&b[2], static_cast<std::uint16_t>(b.size()));
    expect_drop(b, Drop::too_short, "esp too short");
  }
  {
    Bytes b = good[0];
    b.pop_back();
    store_be16(&b[2], static_cast<std::uint16_t>(b.size()));
    expect_drop(b, Drop::bad_length, "payload not a multiple of 4");
  }
  {
    Bytes b = good[0];
    b[0] = 0x65;
    expect_drop(b, Drop::bad_ip_header, "version");
    b = good[0];
    b[6] = 0x20;  // MF
    expect_drop(b, Drop::fragment, "fragment");
    b = good[0];
    b[9] = kProtoUdp;
    expect_drop(b, Drop::encap_mismatch, "udp on a plain SA");
    b = good[0];
    b[20] ^= 0x01;  // SPI
    expect_drop(b, Drop::no_sa, "spi");
  }
  // One bit flipped anywhere in sequence number, IV, ciphertext or ICV.
  for (std::size_t at = 24; at < good[1].size(); at += 7) {
    Bytes b = good[1];
    b[at] ^= static_cast<std::uint8_t>(1u << (at % 8));
    expect_drop(b, Drop::icv_failure, "flipped bit");
  }
  // The window was not moved by any of that: the real packets pass.
  EXPECT_TRUE(run_one(worker_, *in, good[1]));
  expect_drop(good[1], Drop::replay, "duplicate");
  EXPECT_TRUE(run_one(worker_, *in, good[0]));  // older but inside the window
  EXPECT_TRUE(run_one(worker_, *in, good[11]));
  EXPECT_EQ(in->counters().packets, 3u);
  EXPECT_EQ(in->counters().bytes, 3u * clear.size());
}

// Crafted payloads (valid ICV, wrong content) through a second session with
// the same keys: bad padding, next header, dummy packets, inner packets.
TEST_F(EspTest, DecryptedContentIsChecked) {
  const auto& gcm = algorithm_cases()[0];
  const Keys keys = make_keys(gcm, 4);
  auto rec = make_record(gcm, {true, false, false, false}, keys, Direction::inbound);
  auto in = make_sa(backend_, rec);
  std::string why;
  const auto alg = crypto::esp_algorithm(20, 128, 0, &why);
  auto session = backend_.create_session(*alg, keys.encryption, {}, &why);
  std::uint32_t seq = 0;
  // Builds [IPv4][ESP][IV][payload][ICV] with `payload` as the plaintext.
  auto craft = [&](Bytes payload) {
    Bytes b = {0x45, 0, 0, 0, 0, 0, 0, 0, 64, 50, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2};
    b.resize(20 + 8 + 8);
    store_be32(&b[20], rec.spi);
    store_be32(&b[24], ++seq);
    b.insert(b.end(), payload.begin(), payload.end());
    b.resize(b.size() + 16);
    store_be16(&b[2], static_cast<std::uint16_t>(b.size()));
    set_ipv4_checksum(b.data());
    crypto::Op op;
    op.session = session.get();
    op.iv = &b[28];
    op.iv_seed = seq;
    op.aad = &b[20];
    op.aad_len = 8;
    op.payload = &b[36];
    op.payload_len = static_cast<std::uint32_t>(payload.size());
    op.icv = &b[36 + payload.size()];
    backend_.encrypt({&op, 1});
    EXPECT_EQ(op.status, crypto::OpStatus::ok);
    return b;
  };
  auto with_trailer = [](Bytes data, Bytes pad, std::uint8_t pad_len, std::uint8_t nh) {
    data.insert(data.end(), pad.begin(), pad.end());
    data.push_back(pad_len);
    data.push_back(nh);
    return data;
  };
  const Bytes inner = udp_packet(false, 10);  // 38 bytes

  EXPECT_TRUE(run_one(worker_, *in, craft(with_trailer(inner, {1, 2, 3, 4}, 4, kProtoIpv4))));
  EXPECT_FALSE(run_one(worker_, *in, craft(with_trailer(inner, {1, 2, 7, 4}, 4, kProtoIpv4))));
  EXPECT_EQ(in->counters().dropped(Drop::bad_padding), 1u);
  EXPECT_FALSE(run_one(worker_, *in, craft(with_trailer({}, {1, 2}, 200, kProtoIpv4))));
  EXPECT_EQ(in->counters().dropped(Drop::bad_padding), 2u);
  EXPECT_FALSE(run_one(worker_, *in, craft(with_trailer(inner, {1, 2, 3, 4}, 4, kProtoUdp))));
  EXPECT_EQ(in->counters().dropped(Drop::bad_next_header), 1u);
  EXPECT_FALSE(run_one(worker_, *in, craft(with_trailer(inner, {1, 2, 3, 4}, 4, kProtoNoNext))));
  EXPECT_EQ(in->counters().dropped(Drop::dummy_packet), 1u);
  EXPECT_FALSE(run_one(worker_, *in, craft(with_trailer(inner, {1, 2, 3, 4}, 4, kProtoIpv6))));
  EXPECT_EQ(in->counters().dropped(Drop::bad_inner_packet), 1u);
  Bytes lying = inner;
  lying[3] = 200;  // inner total length beyond the data
  EXPECT_FALSE(run_one(worker_, *in, craft(with_trailer(lying, {1, 2, 3, 4}, 4, kProtoIpv4))));
  EXPECT_EQ(in->counters().dropped(Drop::bad_inner_packet), 2u);
  // RFC 4303 §2.7 TFC padding after the inner packet is removed.
  Bytes tfc = inner;
  tfc.resize(tfc.size() + 20, 0);
  const auto out = run_one(worker_, *in, craft(with_trailer(tfc, {1, 2, 3, 4}, 4, kProtoIpv4)));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, inner);
  EXPECT_EQ(in->counters().packets, 2u);
}

// RFC 4301 §5.2: what decrypts under an SA must also lie inside its
// traffic selectors.
TEST_F(EspTest, InnerPacketsOutsideTheSelectorsAreDropped) {
  const auto& gcm = algorithm_cases()[0];
  const Keys keys = make_keys(gcm, 11);
  const SaShape shape{true, false, false, false};
  auto out = make_sa(backend_, make_record(gcm, shape, keys, Direction::outbound));
  auto in = make_sa(backend_, make_record(gcm, shape, keys, Direction::inbound));
  tables::Selector sel;
  sel.src = {channel::IpVersion::v4, 24, {10, 0, 0, 0}};
  sel.dst = {channel::IpVersion::v4, 24, {10, 0, 1, 0}};
  sel.ip_protocol = kProtoUdp;
  tables::SelectorSet selectors;
  ASSERT_EQ(selectors.add(sel), "");
  in->set_selectors(std::move(selectors));

  EXPECT_TRUE(run_one(worker_, *in, *run_one(worker_, *out, udp_packet(false, 30))));
  Bytes elsewhere = udp_packet(false, 30);
  elsewhere[18] = 2;  // destination 10.0.2.1
  set_ipv4_checksum(elsewhere.data());
  EXPECT_FALSE(run_one(worker_, *in, *run_one(worker_, *out, elsewhere)));
  EXPECT_FALSE(run_one(worker_, *in, *run_one(worker_, *out, udp_packet(true, 30))));  // no IPv6 selector
  EXPECT_EQ(in->counters().dropped(Drop::policy_mismatch), 2u);
  EXPECT_EQ(in->counters().packets, 1u);
}

// RFC 6040 §4.2 decapsulation table, and the drop it calls for.
TEST_F(EspTest, EcnIsCombinedOnDecapsulation) {
  EXPECT_EQ(ecn_decapsulate(kNotEct, kNotEct), kNotEct);
  EXPECT_EQ(ecn_decapsulate(kNotEct, kEct0), kNotEct);
  EXPECT_EQ(ecn_decapsulate(kNotEct, kCe), -1);
  EXPECT_EQ(ecn_decapsulate(kEct0, kCe), kCe);
  EXPECT_EQ(ecn_decapsulate(kEct0, kEct1), kEct1);
  EXPECT_EQ(ecn_decapsulate(kEct1, kEct0), kEct1);
  EXPECT_EQ(ecn_decapsulate(kCe, kNotEct), kCe);

  const auto& gcm = algorithm_cases()[0];
  const Keys keys = make_keys(gcm, 5);
  const SaShape shape{true, false, false, false};
  auto out = make_sa(backend_, make_record(gcm, shape, keys, Direction::outbound));
  auto in = make_sa(backend_, make_record(gcm, shape, keys, Direction::inbound));
  // A router on the path marks the outer header CE.
  auto mark_ce = [](Bytes b) {
    b[1] |= kCe;
    set_ipv4_checksum(b.data());
    return b;
  };
  const Bytes ect = udp_packet(false, 20, kEct0);
  auto got = run_one(worker_, *in, mark_ce(*run_one(worker_, *out, ect)));
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[1] & 3, kCe);
  EXPECT_EQ(ipv4_header_checksum(got->data(), 20), load_be16(&(*got)[10]));
  EXPECT_FALSE(run_one(worker_, *in, mark_ce(*run_one(worker_, *out, udp_packet(false, 20, kNotEct)))));
  EXPECT_EQ(in->counters().dropped(Drop::ecn_ce_not_ect), 1u);
}

// The SA's window size reaches the engine: the oldest sequence number
// still accepted after the highest is highest - size + 1; size 0 turns
// anti-replay off (duplicates pass, RFC 4303 §3.4.3 lets the receiver
// choose).
TEST_F(EspTest, ReplayWindowSizesApplyPerSa) {
  const auto& gcm = algorithm_cases()[0];
  const Keys keys = make_keys(gcm, 12);
  const SaShape shape{true, false, false, false};
  const Bytes clear = udp_packet(false, 16);
  for (std::uint32_t size : {0u, 64u, 1024u, 4096u}) {
    SCOPED_TRACE("window " + std::to_string(size));
    auto out = make_sa(backend_, make_record(gcm, shape, keys, Direction::outbound));
    auto in = make_sa(backend_, make_record(gcm, shape, keys, Direction::inbound, 0x1000, size));
    const std::uint64_t highest = 10000;
    auto packet = [&](std::uint64_t seq) {
      out->runtime().seq = seq - 1;
      return *run_one(worker_, *out, clear);
    };
    ASSERT_TRUE(run_one(worker_, *in, packet(highest)));
    if (size == 0) {
      EXPECT_TRUE(run_one(worker_, *in, packet(highest)));
      EXPECT_TRUE(run_one(worker_, *in, packet(1)));
      continue;
    }
    EXPECT_TRUE(run_one(worker_, *in, packet(highest - size + 1))) << "oldest in the window";
    EXPECT_FALSE(run_one(worker_, *in, packet(highest - size))) << "just left of it";
    EXPECT_FALSE(run_one(worker_, *in, packet(highest - size + 1))) << "the oldest again";
    EXPECT_TRUE(run_one(worker_, *in, packet(highest - size / 2)));
    EXPECT_TRUE(run_one(worker_, *in, packet(highest + 3 * size))) << "far ahead";
    EXPECT_FALSE(run_one(worker_, *in, packet(highest))) << "now behind the window";
    EXPECT_EQ(in->counters().dropped(Drop::replay), 1u);
    EXPECT_EQ(in->counters().dropped(Drop::replay_too_old), 2u);
    EXPECT_EQ(in->counters().packets, 4u);
  }
}

TEST_F(EspTest, SequenceNumbersNeverWrap) {
  const auto& gcm = algorithm_cases()[0];
  const Keys keys = make_keys(gcm, 6);
  auto out = make_sa(backend_, make_record(gcm, {true, false, false, false}, keys, Direction::outbound));
  out->runtime().seq = 0xfffffffe;
  const Bytes clear = udp_packet(false, 8);
  const auto last = run_one(worker_, *out, clear);
  ASSERT_TRUE(last);
  EXPECT_EQ(load_be32(&(*last)[24]), 0xffffffffu);
  EXPECT_EQ(out->runtime().events.load() & kSeqOverflow, 0);
  EXPECT_FALSE(run_one(worker_, *out, clear));
  EXPECT_FALSE(run_one(worker_, *out, clear));
  EXPECT_EQ(out->counters().dropped(Drop::seq_overflow), 2u);
  EXPECT_NE(out->runtime().events.load() & kSeqOverflow, 0);

  // With ESN the low half wraps and the high half carries on (RFC 4303 §2.2.1).
  auto esn = make_sa(backend_, make_record(gcm, {true, false, false, true}, keys, Direction::outbound));
  auto esn_in = make_sa(backend_, make_record(gcm, {true, false, false, true}, keys, Direction::inbound));
  // The receiver infers the high half from what it has seen (Appendix A),
  // so it is walked up to the wrap the way a long-lived SA gets there.
  std::vector<Bytes> pkts;
  for (std::uint64_t before : {0x0ull, 0x7fffffffull, 0xfffffffdull, 0xfffffffeull, 0xffffffffull}) {
    esn->runtime().seq = before;
    pkts.push_back(*run_one(worker_, *esn, clear));
  }
  EXPECT_EQ(load_be32(&pkts[4][24]), 0u) << "low half wrapped";
  for (auto& p : pkts) EXPECT_TRUE(run_one(worker_, *esn_in, p));
  EXPECT_EQ(esn_in->runtime().replay->highest(), std::uint64_t{1} << 32);
}

TEST_F(EspTest, LifetimesRaiseSoftThenStopAtHard) {
  const auto& gcm = algorithm_cases()[0];
  const Keys keys = make_keys(gcm, 8);
  auto rec = make_record(gcm, {true, false, false, false}, keys, Direction::outbound);
  rec.soft.packets = 3;
  rec.hard.packets = 5;
  auto out = make_sa(backend_, rec);
  const Bytes clear = udp_packet(false, 8);
  for (int i = 1; i <= 5; ++i) {
    EXPECT_TRUE(run_one(worker_, *out, clear));
    EXPECT_EQ((out->runtime().events.load() & kSoftLifetime) != 0, i >= 3) << i;
  }
  EXPECT_FALSE(run_one(worker_, *out, clear));
  EXPECT_EQ(out->counters().dropped(Drop::sa_expired), 1u);
  EXPECT_NE(out->runtime().events.load() & kHardLifetime, 0);
}

TEST_F(EspTest, OversizeAndChainedPacketsAreRefused) {
  const auto& gcm = algorithm_cases()[0];
  const Keys keys = make_keys(gcm, 9);
  auto out = make_sa(backend_, make_record(gcm, {true, false, false, false}, keys, Direction::outbound));
  rte_mbuf* a = to_mbuf(udp_packet(false, 20));
  rte_mbuf* b = to_mbuf(Bytes(10, 0));
  ASSERT_EQ(rte_pktmbuf_chain(a, b), 0);
  rte_mbuf* burst[1] = {a};
  EXPECT_EQ(out->runtime().process(worker_, out->runtime(), burst, 1), 0);
  rte_pktmbuf_free(a);
  EXPECT_EQ(out->counters().dropped(Drop::multi_segment), 1u);
  // No tailroom for the trailer.
  rte_mbuf* full = rte_pktmbuf_alloc(g_pool);
  const auto room = rte_pktmbuf_tailroom(full);
  Bytes big = udp_packet(false, room - 28);
  std::memcpy(rte_pktmbuf_append(full, room), big.data(), room);
  burst[0] = full;
  EXPECT_EQ(out->runtime().process(worker_, out->runtime(), burst, 1), 0);
  rte_pktmbuf_free(full);
  EXPECT_EQ(out->counters().dropped(Drop::no_room), 1u);
}

// A burst longer than the engine's slice keeps the contract: successes
// first in order, failures after, all counted.
TEST_F(EspTest, LongBurstsKeepSuccessesFirst) {
  const auto& chacha = algorithm_cases()[2];
  const Keys keys = make_keys(chacha, 10);
  auto out = make_sa(backend_, make_record(chacha, {true, false, false, false}, keys, Direction::outbound));
  constexpr std::uint16_t kN = 150;
  std::vector<rte_mbuf*> burst;
  for (std::uint16_t i = 0; i < kN; ++i) {
    burst.push_back(to_mbuf(i % 7 == 3 ? Bytes{0x99, 0, 0} : udp_packet(false, i, 0, false, static_cast<std::uint8_t>(i))));
  }
  const auto ok = out->runtime().process(worker_, out->runtime(), burst.data(), kN);
  std::uint16_t bad = 0;
  for (std::uint16_t i = 0; i < kN; ++i) bad = static_cast<std::uint16_t>(bad + (i % 7 == 3));
  EXPECT_EQ(ok, kN - bad);
  std::uint32_t last_seq = 0;
  for (std::uint16_t i = 0; i < ok; ++i) {
    const Bytes b = bytes_of(burst[i]);
    EXPECT_GT(load_be32(&b[24]), last_seq);
    last_seq = load_be32(&b[24]);
  }
  for (std::uint16_t i = ok; i < kN; ++i) EXPECT_EQ(bytes_of(burst[i]).size(), 3u);
  for (auto* m : burst) rte_pktmbuf_free(m);
  EXPECT_EQ(out->counters().dropped(Drop::bad_ip_header), bad);
}

}  // namespace
}  // namespace corridor::dataplane::ipsec::testing
