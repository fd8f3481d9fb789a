// ISAKMP codec tests (common/ikev1/message.h): datagrams written by hand from
// the RFC 2408 §3 diagrams and RFC 2407 §4.6, parsed field by field,
// serialised back byte for byte, and one test per named error.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/ikev1/message.h"
#include "tests/unit/ike/ike_test_support.h"

namespace {

using namespace corridor::ikev1;  // NOLINT: test brevity
namespace v1 = corridor::iana::ikev1;
using corridor::ike::test::from_hex;

// Main Mode message 1 as strongSwan 5.9 sends it: SA with one ISAKMP
// proposal of one KEY_IKE transform (AES-CBC-128, SHA1, PSK, MODP-2048,
// 10800 s as a 4-byte variable Life Duration), then the RFC 3947 VID.
const std::string kMainMode1 =
    "0102030405060708 0000000000000000 01 10 02 00 00000000 0000006c"  // header
    "0d 00 003c 00000001 00000001"                                    // SA: DOI IPsec, SIT_IDENTITY_ONLY
    "00 00 0030 01 01 00 01"                                          // P #1 ISAKMP, no SPI, 1 transform
    "00 00 0028 01 01 0000"                                           // T #1 KEY_IKE
    "8001 0007 800e 0080 8002 0002 8003 0001 8004 000e 800b 0001 000c 0004 00002a30"
    "00 00 0014 4a131c81070358455c5728f20e95452f";                    // VID RFC 3947

TEST(IsakmpMessage, ParsesMainModeMessageOne) {
  const auto bytes = from_hex(kMainMode1);
  auto m = parse_message(bytes);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->header.exchange, v1::ExchangeType::identity_protection);
  EXPECT_EQ(m->header.major_version, 1);
  EXPECT_FALSE(m->header.encrypted());
  ASSERT_EQ(m->payloads.size(), 2u);
  const auto& sa = std::get<SecurityAssociation>(m->payloads[0].body);
  ASSERT_EQ(sa.proposals.size(), 1u);
  const auto& p = sa.proposals[0];
  EXPECT_EQ(p.protocol, v1::ProtocolId::isakmp);
  EXPECT_TRUE(p.spi.empty());
  ASSERT_EQ(p.transforms.size(), 1u);
  const auto& t = p.transforms[0];
  EXPECT_EQ(t.id, v1::kTransformKeyIke);
  EXPECT_EQ(t.find(static_cast<std::uint16_t>(v1::Phase1Attribute::encryption_algorithm))->value, 7);
  EXPECT_EQ(t.find(static_cast<std::uint16_t>(v1::Phase1Attribute::key_length))->value, 128);
  const auto* life = t.find(static_cast<std::uint16_t>(v1::Phase1Attribute::life_duration));
  ASSERT_NE(life, nullptr);
  EXPECT_FALSE(life->tv);
  EXPECT_EQ(life->integer(), 10800u);
  EXPECT_EQ(t.find(99), nullptr);
  EXPECT_EQ(m->payloads[1].type, v1::PayloadType::vendor_id);

  auto out = serialise_message(*m);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, bytes);
}

TEST(IsakmpMessage, WalkGivesTheBodiesTheHashesCover) {
  const auto bytes = from_hex(kMainMode1);
  auto spans = walk_payloads(v1::PayloadType::sa, std::span(bytes).subspan(kHeaderSize), false);
  ASSERT_TRUE(spans.ok());
  ASSERT_EQ(spans->size(), 2u);
  EXPECT_EQ((*spans)[0].offset, 0u);
  EXPECT_EQ((*spans)[0].length, 60u);
  EXPECT_EQ((*spans)[1].offset, 60u);
  // SAi_b as received equals SAi_b as this codec writes it.
  auto m = parse_message(bytes);
  auto body = serialise_body(m->payloads[0]);
  ASSERT_TRUE(body.ok());
  const auto wire = (*spans)[0].body(std::span(bytes).subspan(kHeaderSize));
  EXPECT_EQ(*body, std::vector<std::uint8_t>(wire.begin(), wire.end()));
}

// A Quick Mode plaintext chain (what follows the header once decrypted):
// HASH(1), SA with one ESP proposal of two transforms, Ni, KE, IDci, IDcr,
// NAT-OA, then 7 bytes of CBC padding.
const std::string kQuickMode1Plain =
    "01 00 0018 " + corridor::ike::test::repeat("aa", 20) +            // HASH
    "0a 00 0044 00000001 00000001"                                      // SA
    "00 00 0038 01 03 04 02 c1c2c3c4"                                   // P #1 ESP, SPI, 2 transforms
    "03 00 0018 01 0c 0000 8004 0003 8006 0100 8005 0005 8001 0001"     // T #1 AES-CBC-256 HMAC-SHA2-256 UDP tunnel
    "00 00 0014 02 14 0000 8004 0003 8006 0080 8001 0001"               // T #2 AES-GCM-16-128
    "04 00 0014 " + corridor::ike::test::repeat("51", 16) +           // Ni
    "05 00 000c 0102030405060708"                                       // KE (short: the codec does not know groups)
    "05 00 0010 04 00 0000 0a010000 ffff0000"                           // IDci IPV4_ADDR_SUBNET 10.1.0.0/16
    "15 00 0010 04 11 01f4 ac100000 fffffc00"                           // IDcr 172.16.0.0/22 UDP 500
    "00 00 000c 01 000000 c6336401"                                     // NAT-OA 198.51.100.1
    "00000000000000";                                                   // padding

TEST(IsakmpMessage, QuickModeChainRoundTripsAndIgnoresPadding) {
  const auto bytes = from_hex(kQuickMode1Plain);
  auto payloads = parse_payloads(v1::PayloadType::hash, bytes, true);
  ASSERT_TRUE(payloads.ok()) << payloads.error().message;
  ASSERT_EQ(payloads->size(), 7u);
  const auto& sa = std::get<SecurityAssociation>((*payloads)[1].body);
  ASSERT_EQ(sa.proposals.size(), 1u);
  EXPECT_EQ(sa.proposals[0].protocol, v1::ProtocolId::esp);
  EXPECT_EQ(sa.proposals[0].spi, from_hex("c1c2c3c4"));
  EXPECT_EQ(sa.proposals[0].transforms[1].id, static_cast<std::uint8_t>(v1::EspTransform::aes_gcm_16));
  const auto& idcr = std::get<Identification>((*payloads)[5].body);
  EXPECT_EQ(idcr.id_type, v1::IdType::ipv4_addr_subnet);
  EXPECT_EQ(idcr.protocol, 17);
  EXPECT_EQ(idcr.port, 500);
  const auto& oa = std::get<NatOriginalAddress>((*payloads)[6].body);
  EXPECT_EQ(oa.address, from_hex("c6336401"));

  auto out = serialise_payloads(*payloads);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, std::vector<std::uint8_t>(bytes.begin(), bytes.end() - 7));
  // Without `padded` the padding is trailing data.
  auto strict = parse_payloads(v1::PayloadType::hash, bytes, false);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.error().code, Errc::trailing_data);
}

TEST(IsakmpMessage, NotificationDeleteAndPrivatePayloadRoundTrip) {
  Message m;
  m.header.exchange = v1::ExchangeType::informational;
  m.header.message_id = 0x11223344;
  Notification n;
  n.type = v1::NotifyType::r_u_there;
  n.spi = from_hex("0102030405060708 1112131415161718");
  n.data = from_hex("00000007");
  Delete d;
  d.protocol = v1::ProtocolId::esp;
  d.spi_size = 4;
  d.spis = {from_hex("c1c2c3c4"), from_hex("d1d2d3d4")};
  m.payloads = {Payload{v1::PayloadType::notification, n}, Payload{v1::PayloadType::delete_, d},
                Payload{static_cast<v1::PayloadType>(200), UnknownPayload{200, from_hex("beef")}}};
  auto bytes = serialise_message(m);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  auto back = parse_message(*bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, m);
}

TEST(IsakmpMessage, AttributesTakeTheShortestForm) {
  auto tv = make_attribute(12, 3600);
  EXPECT_TRUE(tv.tv);
  EXPECT_EQ(tv.integer(), 3600u);
  auto tlv = make_attribute(12, 86400);
  EXPECT_FALSE(tlv.tv);
  EXPECT_EQ(tlv.data.size(), 4u);
  EXPECT_EQ(tlv.integer(), 86400u);
  EXPECT_EQ(make_attribute(12, 1ULL << 40).data.size(), 8u);
  Attribute empty;
  empty.tv = false;
  EXPECT_FALSE(empty.integer().has_value());
}

TEST(IsakmpMessage, SerialiserRefusesMismatchedBodies) {
  auto bad = serialise_payloads(std::vector<Payload>{Payload{v1::PayloadType::nonce, Hash{}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::body_type_mismatch);
  auto reserved = serialise_payloads(std::vector<Payload>{Payload{static_cast<v1::PayloadType>(14), UnknownPayload{14, {}}}});
  EXPECT_FALSE(reserved.ok());
}

// Each malformed input gives its own error, a message naming the place, and
// the notification RFC 2408 §5 answers it with.
struct BadCase {
  std::string name;
  std::string hex;
  Errc code;
  v1::NotifyType notify;
};

std::string header(const std::string& next, std::size_t length, const std::string& version = "10") {
  char len[9];
  std::snprintf(len, sizeof len, "%08zx", length);
  return "0102030405060708 1112131415161718 " + next + " " + version + " 02 00 00000000 " + len;
}

class IsakmpBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(IsakmpBadInput, IsRefusedWithItsOwnError) {
  const auto bytes = from_hex(GetParam().hex);
  auto m = parse_message(bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, GetParam().code) << m.error().message;
  EXPECT_EQ(notify_for(m.error()), GetParam().notify);
  EXPECT_FALSE(m.error().message.empty());
  EXPECT_LE(m.error().offset, bytes.size());
}

const std::string kSaHead = "00 00 0030 00000001 00000001 ";  // SA, 1 proposal follows
const std::string kOkProposal = "00 00 0024 01 01 00 01 00 00 001c 01 01 0000 8001 0007 800e 0080 8002 0002 8003 0001 8004 000e";

INSTANTIATE_TEST_SUITE_P(
    Cases, IsakmpBadInput,
    ::testing::Values(
        BadCase{"truncated_header", "0102030405060708", Errc::truncated_header, v1::NotifyType::payload_malformed},
        BadCase{"major_version_2", header("00", 28, "20"), Errc::invalid_major_version,
                v1::NotifyType::invalid_major_version},
        BadCase{"length_mismatch", header("00", 29), Errc::length_mismatch, v1::NotifyType::payload_malformed},
        BadCase{"reserved_payload_type", header("0e", 32) + "00 00 0004", Errc::invalid_payload_type,
                v1::NotifyType::invalid_payload_type},
        BadCase{"proposal_at_top_level", header("02", 32) + "00 00 0004", Errc::invalid_payload_type,
                v1::NotifyType::invalid_payload_type},
        BadCase{"payload_overrun", header("0a", 40) + "00 00 0020 0102030405060708", Errc::payload_overrun,
                v1::NotifyType::payload_malformed},
        BadCase{"payload_too_short", header("01", 36) + "00 00 0008 00000001", Errc::payload_too_short,
                v1::NotifyType::payload_malformed},
        BadCase{"trailing_data", header("0d", 34) + "00 00 0005 aa bb", Errc::trailing_data,
                v1::NotifyType::payload_malformed},
        BadCase{"doi_not_ipsec", header("01", 76) + "00 00 0030 00000002 00000001 " + kOkProposal,
                Errc::doi_not_supported, v1::NotifyType::doi_not_supported},
        BadCase{"situation_secrecy", header("01", 76) + "00 00 0030 00000001 00000002 " + kOkProposal,
                Errc::situation_not_supported, v1::NotifyType::situation_not_supported},
        BadCase{"sa_without_proposal", header("01", 40) + "00 00 000c 00000001 00000001",
                Errc::sa_without_proposal, v1::NotifyType::bad_proposal_syntax},
        BadCase{"proposal_bad_next", header("01", 76) + kSaHead +
                                         "05 00 0024 01 01 00 01 00 00 001c 01 01 0000 8001 0007 800e 0080 8002 0002 8003 0001 8004 000e",
                Errc::proposal_bad_next, v1::NotifyType::bad_proposal_syntax},
        BadCase{"proposal_bad_protocol", header("01", 76) + kSaHead +
                                             "00 00 0024 01 09 00 01 00 00 001c 01 01 0000 8001 0007 800e 0080 8002 0002 8003 0001 8004 000e",
                Errc::proposal_bad_protocol, v1::NotifyType::bad_proposal_syntax},
        BadCase{"proposal_esp_without_spi", header("01", 76) + kSaHead +
                                                "00 00 0024 01 03 00 01 00 00 001c 01 0c 0000 8001 0007 800e 0080 8002 0002 8003 0001 8004 000e",
                Errc::proposal_bad_spi_size, v1::NotifyType::bad_proposal_syntax},
        BadCase{"transform_count", header("01", 76) + kSaHead +
                                       "00 00 0024 01 01 00 02 00 00 001c 01 01 0000 8001 0007 800e 0080 8002 0002 8003 0001 8004 000e",
                Errc::proposal_bad_transform_count, v1::NotifyType::bad_proposal_syntax},
        BadCase{"transform_bad_next", header("01", 76) + kSaHead +
                                          "00 00 0024 01 01 00 01 07 00 001c 01 01 0000 8001 0007 800e 0080 8002 0002 8003 0001 8004 000e",
                Errc::transform_bad_next, v1::NotifyType::bad_proposal_syntax},
        BadCase{"attribute_overrun", header("01", 76) + kSaHead +
                                         "00 00 0024 01 01 00 01 00 00 001c 01 01 0000 8001 0007 800e 0080 8002 0002 8003 0001 0004 0009",
                Errc::attribute_bad_length, v1::NotifyType::bad_proposal_syntax},
        BadCase{"proposal_numbers_decrease", header("01", 112) + "00 00 0054 00000001 00000001 " +
                                                 "02 00 0024 02 01 00 01 00 00 001c 01 01 0000 8001 0007 800e 0080 8002 0002 8003 0001 8004 000e" +
                                                 "00 00 0024 01 01 00 01 00 00 001c 01 01 0000 8001 0007 800e 0080 8002 0002 8003 0001 8004 000e",
                Errc::proposal_bad_number, v1::NotifyType::bad_proposal_syntax},
        BadCase{"nonce_too_short", header("0a", 36) + "00 00 0008 01020304", Errc::nonce_bad_size,
                v1::NotifyType::payload_malformed},
        BadCase{"id_ipv4_of_three_bytes", header("05", 39) + "00 00 000b 01 00 0000 c63364", Errc::id_bad_length,
                v1::NotifyType::payload_malformed},
        BadCase{"notify_spi_past_payload", header("0b", 40) + "00 00 000c 00000001 01 10 6000",
                Errc::notify_bad_spi_size, v1::NotifyType::payload_malformed},
        BadCase{"delete_count_mismatch", header("0c", 44) + "00 00 0010 00000001 03 04 0002 c1c2c3c4",
                Errc::delete_bad_length, v1::NotifyType::payload_malformed},
        BadCase{"nat_oa_ipv4_of_two_bytes", header("15", 38) + "00 00 000a 01 000000 c633",
                Errc::nat_oa_bad_length, v1::NotifyType::payload_malformed},
        BadCase{"encrypted", "0102030405060708 1112131415161718 08 10 02 01 00000000 0000001c",
                Errc::encrypted_message, v1::NotifyType::payload_malformed}),
    [](const ::testing::TestParamInfo<BadCase>& param_info) { return param_info.param.name; });

}  // namespace
