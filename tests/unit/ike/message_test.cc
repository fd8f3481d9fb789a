// IKEv2 codec: real messages written by hand from the RFC 7296 §3 diagrams,
// round trips, and one test per rejection. Numbers in expectations are the
// RFC's literals, not the codec's constants.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/ike/message.h"
#include "tests/unit/ike/ike_test_support.h"

namespace {

using namespace corridor::ike;  // NOLINT: test brevity
using corridor::iana::AuthMethod;
using corridor::iana::CertEncoding;
using corridor::iana::ExchangeType;
using corridor::iana::IdType;
using corridor::iana::NotifyType;
using corridor::iana::PayloadType;
using corridor::iana::ProtocolId;
using corridor::iana::TransformType;
using corridor::iana::TsType;
using corridor::ike::test::from_hex;
using corridor::ike::test::repeat;
using corridor::ike::test::strongswan_init_request_hex;

template <typename T>
const T& body(const Payload& p) {
  return std::get<T>(p.body);
}

unsigned u(auto e) { return static_cast<unsigned>(e); }

// Parses, expects failure with `code`, and checks the message names the
// payload and the offset.
Error expect_error(const Bytes& bytes, Errc code, std::size_t offset) {
  auto m = parse_message(bytes);
  EXPECT_FALSE(m.ok()) << "expected " << to_string(code);
  if (m.ok()) return {};
  EXPECT_EQ(m.error().code, code) << m.error().message;
  EXPECT_EQ(m.error().offset, offset) << m.error().message;
  EXPECT_NE(m.error().message.find("offset " + std::to_string(offset)), std::string::npos) << m.error().message;
  return m.error();
}

Error expect_payloads_error(const std::string& hex, PayloadType first, Errc code) {
  auto p = parse_payloads(first, from_hex(hex));
  EXPECT_FALSE(p.ok()) << "expected " << to_string(code);
  if (p.ok()) return {};
  EXPECT_EQ(p.error().code, code) << p.error().message;
  EXPECT_NE(p.error().message.find(std::string(corridor::iana::payload_type_name(first))), std::string::npos)
      << p.error().message;
  return p.error();
}

Message expect_round_trip(const Message& m) {
  auto bytes = serialise_message(m);
  EXPECT_TRUE(bytes.ok()) << (bytes.ok() ? "" : bytes.error().message);
  if (!bytes.ok()) return {};
  auto again = parse_message(*bytes);
  EXPECT_TRUE(again.ok()) << (again.ok() ? "" : again.error().message);
  if (!again.ok()) return {};
  EXPECT_EQ(*again, m);
  return *again;
}

TEST(IkeMessage, ParsesStrongSwanInitRequest) {
  const Bytes bytes = from_hex(strongswan_init_request_hex());
  ASSERT_EQ(bytes.size(), 272U);
  auto m = parse_message(bytes);
  ASSERT_TRUE(m.ok()) << m.error().message;
  const Header& h = m->header;
  EXPECT_EQ(h.spi_i, (std::array<std::uint8_t, 8>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(h.spi_r, (std::array<std::uint8_t, 8>{}));
  EXPECT_EQ(h.major_version, 2U);
  EXPECT_EQ(h.minor_version, 0U);
  EXPECT_EQ(u(h.exchange), 34U);
  EXPECT_TRUE(h.initiator);
  EXPECT_FALSE(h.response);
  EXPECT_FALSE(h.version);
  EXPECT_EQ(h.message_id, 0U);

  ASSERT_EQ(m->payloads.size(), 8U);
  const std::vector<unsigned> types = {33, 34, 40, 41, 41, 41, 41, 41};
  for (std::size_t i = 0; i < types.size(); ++i) EXPECT_EQ(u(m->payloads[i].type), types[i]) << i;

  const auto& sa = body<SecurityAssociation>(m->payloads[0]);
  ASSERT_EQ(sa.proposals.size(), 1U);
  const Proposal& p = sa.proposals[0];
  EXPECT_EQ(p.number, 1U);
  EXPECT_EQ(u(p.protocol), 1U);
  EXPECT_TRUE(p.spi.empty());
  ASSERT_EQ(p.transforms.size(), 4U);
  EXPECT_EQ(u(p.transforms[0].type), 1U);
  EXPECT_EQ(p.transforms[0].id, 12U);
  ASSERT_TRUE(p.transforms[0].key_length().has_value());
  EXPECT_EQ(*p.transforms[0].key_length(), 256U);
  EXPECT_EQ(u(p.transforms[1].type), 3U);
  EXPECT_EQ(p.transforms[1].id, 12U);
  EXPECT_FALSE(p.transforms[1].key_length().has_value());
  EXPECT_EQ(u(p.transforms[2].type), 2U);
  EXPECT_EQ(p.transforms[2].id, 5U);
  EXPECT_EQ(u(p.transforms[3].type), 4U);
  EXPECT_EQ(p.transforms[3].id, 19U);

  const auto& ke = body<KeyExchange>(m->payloads[1]);
  EXPECT_EQ(ke.group, 19U);
  EXPECT_EQ(ke.data, Bytes(64, 0xa1));
  EXPECT_EQ(body<Nonce>(m->payloads[2]).data, Bytes(32, 0xb2));

  const std::vector<unsigned> notifies = {16388, 16389, 16430, 16431, 16406};
  for (std::size_t i = 0; i < notifies.size(); ++i) {
    const auto& n = body<Notify>(m->payloads[3 + i]);
    EXPECT_EQ(u(n.type), notifies[i]);
    EXPECT_EQ(u(n.protocol), 0U);
    EXPECT_TRUE(n.spi.empty());
  }
  EXPECT_EQ(body<Notify>(m->payloads[3]).data, Bytes(20, 0xc3));
  EXPECT_EQ(body<Notify>(m->payloads[6]).data, from_hex("0002 0003 0004 0005"));

  // Canonical on the wire: serialising gives back the very same bytes.
  auto out = serialise_message(*m);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, bytes);
}

TEST(IkeMessage, HeaderAloneRoutesOtherVersions) {
  Bytes bytes = from_hex(strongswan_init_request_hex());
  bytes[17] = 0x10;  // IKEv1
  auto h = parse_header(bytes);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->header.major_version, 1U);
  EXPECT_EQ(u(h->first_payload), 33U);
  EXPECT_EQ(h->length, 272U);
}

TEST(IkeMessage, ResponseFlagsAndMessageId) {
  Message m;
  m.header.spi_i = {1, 1, 1, 1, 1, 1, 1, 1};
  m.header.spi_r = {2, 2, 2, 2, 2, 2, 2, 2};
  m.header.exchange = ExchangeType::informational;
  m.header.response = true;
  m.header.version = true;
  m.header.message_id = 0x01020304;
  m.payloads.push_back({PayloadType::encrypted_and_authenticated, Encrypted{PayloadType::no_next_payload,
                                                                             Bytes(32, 0x55)}});
  auto bytes = serialise_message(m);
  ASSERT_TRUE(bytes.ok());
  // Flags byte (offset 19): R (0x20) | V (0x10); Message ID at 20..23.
  EXPECT_EQ((*bytes)[19], 0x30);
  EXPECT_EQ(Bytes(bytes->begin() + 20, bytes->begin() + 24), from_hex("01020304"));
  EXPECT_EQ((*bytes)[16], 46);  // Next Payload: SK
  EXPECT_EQ((*bytes)[28], 0);   // SK's Next Payload: empty inner list (liveness check)
  expect_round_trip(m);
}

// An IKE_AUTH request as strongSwan sends it: outer SK, inner payloads
// IDi N(INITIAL_CONTACT) IDr AUTH SA TSi TSr N(...).
std::vector<Payload> ike_auth_inner() {
  std::vector<Payload> inner;
  inner.push_back({PayloadType::identification_initiator,
                   Identification{IdType::id_fqdn, Bytes{'m', 'o', 'o', 'n'}}});
  inner.push_back({PayloadType::notify, Notify{ProtocolId::none, NotifyType::initial_contact, {}, {}}});
  inner.push_back({PayloadType::identification_responder, Identification{IdType::id_ipv4_addr, {192, 0, 2, 1}}});
  inner.push_back({PayloadType::authentication,
                   Authentication{AuthMethod::shared_key_message_integrity_code, Bytes(32, 0x77)}});
  Proposal esp;
  esp.number = 1;
  esp.protocol = ProtocolId::esp;
  esp.spi = {0xc0, 0x01, 0xca, 0xfe};
  esp.transforms = {
      {TransformType::encryption, 20, {{14, true, 256, {}}}},
      {TransformType::esn, 0, {}},
  };
  Proposal esp2 = esp;
  esp2.number = 2;
  esp2.transforms = {
      {TransformType::encryption, 12, {{14, true, 128, {}}}},
      {TransformType::integrity, 12, {}},
      {TransformType::esn, 0, {}},
      {TransformType::esn, 1, {}},
  };
  inner.push_back({PayloadType::security_association, SecurityAssociation{{esp, esp2}}});
  TrafficSelector v4;
  v4.type = TsType::ts_ipv4_addr_range;
  v4.ip_protocol = 0;
  v4.start_port = 0;
  v4.end_port = 65535;
  v4.start_address = {10, 1, 0, 0};
  v4.end_address = {10, 1, 255, 255};
  TrafficSelector v6;
  v6.type = TsType::ts_ipv6_addr_range;
  v6.ip_protocol = 17;
  v6.start_port = 500;
  v6.end_port = 4500;
  v6.start_address = from_hex("20010db8000000000000000000000000");
  v6.end_address = from_hex("20010db800000000ffffffffffffffff");
  inner.push_back({PayloadType::traffic_selector_initiator, TrafficSelectors{{v4, v6}}});
  TrafficSelector opaque = v4;
  opaque.start_port = 65535;  // OPAQUE (§3.13.1)
  opaque.end_port = 0;
  inner.push_back({PayloadType::traffic_selector_responder, TrafficSelectors{{opaque}}});
  inner.push_back({PayloadType::notify, Notify{ProtocolId::none, NotifyType::mobike_supported, {}, {}}});
  return inner;
}

TEST(IkeMessage, InnerPayloadsRoundTrip) {
  const auto inner = ike_auth_inner();
  auto plain = serialise_payloads(inner);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  // First generic header: IDi is followed by N (41), length 4 + 4 + 4.
  EXPECT_EQ(Bytes(plain->begin(), plain->begin() + 12), from_hex("29 00 000c 02 000000 6d6f6f6e"));
  auto parsed = parse_payloads(PayloadType::identification_initiator, *plain, 64);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, inner);
  // Offsets in errors are relative to base_offset: break the IDr (ID_IPV4_ADDR) length.
  Bytes broken = *plain;
  // IDi 12 bytes, N 8 bytes, then IDr: give it a 5-byte address.
  broken.insert(broken.begin() + 20 + 12, 0x00);
  broken[20 + 3] = 13;
  auto bad = parse_payloads(PayloadType::identification_initiator, broken, 64);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::id_bad_length);
  EXPECT_EQ(bad.error().offset, 64U + 20 + 8);
  EXPECT_NE(bad.error().message.find("IDr payload at offset 92"), std::string::npos) << bad.error().message;
}

TEST(IkeMessage, EveryPayloadKindRoundTrips) {
  Message m;
  m.header.spi_i = {9, 9, 9, 9, 9, 9, 9, 9};
  m.header.exchange = ExchangeType::ike_sa_init;
  m.header.initiator = true;
  Proposal ike;
  ike.number = 1;
  ike.protocol = ProtocolId::ike;
  ike.spi = Bytes(8, 0x42);  // rekey: 8-byte SPI
  ike.transforms = {{TransformType::encryption, 28, {}},
                    {TransformType::prf, 7, {}},
                    {TransformType::key_exchange, 31, {}},
                    // An unknown TLV attribute survives too.
                    {TransformType::key_exchange, 32, {{300, false, 0, {1, 2, 3}}}}};
  m.payloads.push_back({PayloadType::security_association, SecurityAssociation{{ike}}});
  m.payloads.push_back({PayloadType::key_exchange, KeyExchange{31, Bytes(32, 7)}});
  m.payloads.push_back({PayloadType::nonce, Nonce{Bytes(16, 1)}});
  m.payloads.push_back({PayloadType::nonce, Nonce{Bytes(256, 2)}});
  m.payloads.push_back({PayloadType::certificate, Certificate{CertEncoding::x509_signature, Bytes(100, 3)}});
  m.payloads.push_back(
      {PayloadType::certificate_request, CertificateRequest{CertEncoding::x509_signature, Bytes(40, 4)}});
  m.payloads.push_back({PayloadType::vendor_id, VendorId{Bytes(16, 5)}});
  m.payloads.push_back({PayloadType::delete_, Delete{ProtocolId::esp, {0x11111111, 0x22222222}}});
  m.payloads.push_back({PayloadType::delete_, Delete{ProtocolId::ike, {}}});
  m.payloads.push_back({PayloadType::notify, Notify{ProtocolId::esp, NotifyType::rekey_sa, {1, 2, 3, 4}, {}}});
  m.payloads.push_back({PayloadType::configuration, Configuration{1, from_hex("0001 0000")}});
  m.payloads.push_back({PayloadType::extensible_authentication, Eap{from_hex("01 05 0005 01")}});
  m.payloads.push_back({static_cast<PayloadType>(200), UnknownPayload{200, Bytes(3, 9)}});
  m.payloads.push_back(
      {PayloadType::encrypted_fragment, EncryptedFragment{1, 3, PayloadType::identification_initiator, Bytes(50, 6)}});
  expect_round_trip(m);
}

TEST(IkeMessage, UnknownNonCriticalPayloadIsKept) {
  // Header next = 200 (unknown, non-critical), then Nonce.
  std::string hex = "0102030405060708 0000000000000000 c8 20 22 08 00000000 00000038"
                    "28 00 0008 deadbeef"
                    "00 00 0014" + repeat("11", 16);
  auto m = parse_message(from_hex(hex));
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->payloads.size(), 2U);
  EXPECT_EQ(body<UnknownPayload>(m->payloads[0]).type, 200U);
  EXPECT_EQ(body<UnknownPayload>(m->payloads[0]).data, from_hex("deadbeef"));
  expect_round_trip(*m);
}

// --- Rejections: one per error code -------------------------------------

Bytes init() { return from_hex(strongswan_init_request_hex()); }

TEST(IkeReject, TruncatedHeader) {
  Bytes b = init();
  b.resize(27);
  expect_error(b, Errc::truncated_header, 0);
  EXPECT_FALSE(parse_header(b).ok());
}

TEST(IkeReject, InvalidMajorVersion) {
  Bytes b = init();
  b[17] = 0x30;
  Error e = expect_error(b, Errc::invalid_major_version, 17);
  EXPECT_EQ(notify_for(e), NotifyType::invalid_major_version);
  b[17] = 0x10;
  expect_error(b, Errc::invalid_major_version, 17);
  b[17] = 0x2f;  // minor versions are accepted (§2.5)
  EXPECT_TRUE(parse_message(b).ok());
}

TEST(IkeReject, LengthMismatch) {
  Bytes b = init();
  b.push_back(0);
  Error e = expect_error(b, Errc::length_mismatch, 24);
  EXPECT_EQ(notify_for(e), NotifyType::invalid_syntax);
  b = init();
  b[27] = 0x0f;  // says 271
  expect_error(b, Errc::length_mismatch, 24);
}

Bytes with_length(Bytes b) {
  const auto n = static_cast<std::uint32_t>(b.size());
  b[24] = static_cast<std::uint8_t>(n >> 24);
  b[25] = static_cast<std::uint8_t>(n >> 16);
  b[26] = static_cast<std::uint8_t>(n >> 8);
  b[27] = static_cast<std::uint8_t>(n);
  return b;
}

TEST(IkeReject, TruncatedPayloadHeader) {
  Bytes b = init();
  b[264] = 41;  // last notify claims another payload follows
  b.push_back(0);
  b.push_back(0);
  expect_error(with_length(b), Errc::truncated_payload_header, 272);
}

TEST(IkeReject, PayloadOverrun) {
  Bytes b = init();
  b[151] = 0x80;  // Ni length 128
  expect_error(b, Errc::payload_overrun, 148);
  b = init();
  b[266] = 0;
  b[267] = 9;  // last notify one byte too long
  expect_error(b, Errc::payload_overrun, 264);
}

TEST(IkeReject, PayloadBelowMinimum) {
  Bytes b = init();
  b[79] = 8;  // KE with no key exchange data
  expect_error(b, Errc::payload_too_short, 76);
  b = init();
  b[187] = 7;  // Notify shorter than its 8-byte header
  expect_error(b, Errc::payload_too_short, 184);
  b = init();
  b[264] = 200;  // unknown payload with length 3
  b.insert(b.end(), {0, 0, 0, 3});
  expect_error(with_length(b), Errc::payload_too_short, 272);
}

TEST(IkeReject, TrailingData) {
  Bytes b = init();
  b.insert(b.end(), {0, 0, 0, 0});
  expect_error(with_length(b), Errc::trailing_data, 272);
}

TEST(IkeReject, UnknownCriticalPayload) {
  Bytes b = init();
  b[264] = 99;  // a payload of type 99 follows, critical
  b.insert(b.end(), {0, 0x80, 0, 8, 1, 2, 3, 4});
  Error e = expect_error(with_length(b), Errc::unsupported_critical_payload, 272);
  EXPECT_EQ(u(e.payload), 99U);  // goes into the notification's data
  EXPECT_EQ(notify_for(e), NotifyType::unsupported_critical_payload);
  // The same payload without the critical bit is skipped.
  b[273] = 0;
  EXPECT_TRUE(parse_message(with_length(b)).ok());
  // The critical bit on a known payload is ignored (§3.2).
  b = init();
  b[149] = 0x80;
  EXPECT_TRUE(parse_message(b).ok());
}

TEST(IkeReject, EncryptedPayloadNotLast) {
  std::string hex = "0102030405060708 1112131415161718 2e 20 23 08 00000001 00000034"
                    "23 00 0010" + repeat("ee", 12) + "00 00 0008 00000000";
  expect_error(from_hex(hex), Errc::sk_not_last, 44);
  // Serialising refuses it as well.
  Message m;
  m.payloads.push_back({PayloadType::encrypted_and_authenticated, Encrypted{}});
  m.payloads.push_back({PayloadType::nonce, Nonce{Bytes(16, 0)}});
  auto s = serialise_message(m);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::sk_not_last);
}

TEST(IkeReject, SaWithoutProposal) {
  expect_payloads_error("00 00 0004", PayloadType::security_association, Errc::sa_without_proposal);
}

TEST(IkeReject, ProposalMarker) {
  Bytes b = init();
  b[32] = 1;
  expect_error(b, Errc::proposal_bad_marker, 32);
  b[32] = 2;  // "more" on the last proposal
  expect_error(b, Errc::proposal_bad_marker, 28);
}

TEST(IkeReject, ProposalLength) {
  Bytes b = init();
  b[35] = 0x40;
  expect_error(b, Errc::proposal_bad_length, 32);
  b[35] = 7;
  expect_error(b, Errc::proposal_bad_length, 32);
}

TEST(IkeReject, ProposalNumbering) {
  Bytes b = init();
  b[36] = 0;
  expect_error(b, Errc::proposal_bad_number, 36);
  b[36] = 5;  // a single (accepted) proposal keeps the number it had
  EXPECT_TRUE(parse_message(b).ok());
  // Two proposals of one transform each (8 + 8 bytes).
  const std::string ok2 = "00 00 0024 | 02 00 0010 01 01 00 01 00 00 0008 04 00 0013"
                          "| 00 00 0010 02 01 00 01 00 00 0008 04 00 0013";
  EXPECT_TRUE(parse_payloads(PayloadType::security_association, from_hex(ok2)).ok());
  const std::string bad2 = "00 00 0024 | 02 00 0010 01 01 00 01 00 00 0008 04 00 0013"
                           "| 00 00 0010 03 01 00 01 00 00 0008 04 00 0013";
  expect_payloads_error(bad2, PayloadType::security_association, Errc::proposal_bad_number);
  const std::string bad_first = "00 00 0024 | 02 00 0010 02 01 00 01 00 00 0008 04 00 0013"
                                "| 00 00 0010 03 01 00 01 00 00 0008 04 00 0013";
  expect_payloads_error(bad_first, PayloadType::security_association, Errc::proposal_bad_number);
}

TEST(IkeReject, ProposalProtocolAndSpiSize) {
  Bytes b = init();
  b[37] = 4;
  expect_error(b, Errc::proposal_bad_protocol, 37);
  b = init();
  b[38] = 4;  // IKE with a 4-byte SPI
  expect_error(b, Errc::proposal_bad_spi_size, 38);
  b = init();
  b[37] = 3;  // ESP with no SPI
  expect_error(b, Errc::proposal_bad_spi_size, 38);
}

TEST(IkeReject, TransformCount) {
  Bytes b = init();
  b[39] = 3;
  expect_error(b, Errc::proposal_bad_transform_count, 39);
}

TEST(IkeReject, TransformMarkerAndLength) {
  Bytes b = init();
  b[40] = 2;
  expect_error(b, Errc::transform_bad_marker, 40);
  b = init();
  b[68] = 3;  // last transform says "more"
  expect_error(b, Errc::transform_bad_marker, 32);
  b = init();
  b[55] = 4;  // INTEG transform of length 4
  expect_error(b, Errc::transform_bad_length, 52);
  b = init();
  b[71] = 0x10;  // last transform runs past its proposal
  expect_error(b, Errc::transform_bad_length, 68);
}

TEST(IkeReject, Attributes) {
  Bytes b = init();
  b[48] = 0x00;  // Key Length in TLV form
  expect_error(b, Errc::key_length_not_tv, 48);
  b[49] = 0x05;  // TLV attribute 5 of length 256
  expect_error(b, Errc::attribute_bad_length, 48);
}

TEST(IkeReject, NonceSize) {
  // 15 and 257 bytes; 16 and 256 are accepted (EveryPayloadKindRoundTrips).
  expect_payloads_error("00 00 0013" + repeat("01", 15), PayloadType::nonce, Errc::nonce_bad_size);
  expect_payloads_error("00 00 0105" + repeat("01", 257), PayloadType::nonce, Errc::nonce_bad_size);
}

TEST(IkeReject, IdLength) {
  expect_payloads_error("00 00 000d 01 000000 0a000001 ff", PayloadType::identification_initiator,
                        Errc::id_bad_length);
  expect_payloads_error("00 00 000c 05 000000 20010db8", PayloadType::identification_responder,
                        Errc::id_bad_length);
}

TEST(IkeReject, NotifySpiSize) {
  expect_payloads_error("00 00 000c 00 04 4009 01020304", PayloadType::notify, Errc::notify_bad_spi_size);
  expect_payloads_error("00 00 0010 01 08 4009 0102030405060708", PayloadType::notify, Errc::notify_bad_spi_size);
  EXPECT_TRUE(parse_payloads(PayloadType::notify, from_hex("00 00 000c 03 04 4009 01020304")).ok());
  // SPI Size past the payload.
  expect_payloads_error("00 00 000a 03 04 4009 0102", PayloadType::notify, Errc::payload_too_short);
}

TEST(IkeReject, Delete) {
  expect_payloads_error("00 00 0010 03 08 0001 0102030405060708", PayloadType::delete_, Errc::delete_bad_spi);
  expect_payloads_error("00 00 000c 01 00 0001 01020304", PayloadType::delete_, Errc::delete_bad_spi);
  expect_payloads_error("00 00 0008 07 04 0000", PayloadType::delete_, Errc::delete_bad_spi);
  expect_payloads_error("00 00 000c 03 04 0002 01020304", PayloadType::delete_, Errc::delete_bad_length);
  expect_payloads_error("00 00 0008 03 04 0000", PayloadType::delete_, Errc::delete_bad_length);
}

TEST(IkeReject, TrafficSelectors) {
  const std::string v4 = "07 00 0010 0000 ffff 0a000000 0a0000ff";
  EXPECT_TRUE(parse_payloads(PayloadType::traffic_selector_initiator, from_hex("00 00 0018 01 000000" + v4)).ok());
  expect_payloads_error("00 00 0008 00 000000", PayloadType::traffic_selector_initiator, Errc::ts_bad_count);
  expect_payloads_error("00 00 0018 02 000000" + v4, PayloadType::traffic_selector_initiator, Errc::ts_bad_count);
  expect_payloads_error("00 00 0018 01 000000 07 00 0028 0000 ffff 0a000000 0a0000ff",
                        PayloadType::traffic_selector_responder, Errc::ts_bad_length);
  expect_payloads_error("00 00 0014 01 000000 07 00 0010 0000 ffff 0a000000",
                        PayloadType::traffic_selector_responder, Errc::ts_bad_length);
  expect_payloads_error("00 00 0018 01 000000 09 00 0010 0000 ffff 0a000000 0a0000ff",
                        PayloadType::traffic_selector_initiator, Errc::ts_unknown_type);
  expect_payloads_error("00 00 0018 01 000000 07 00 0010 0000 ffff 0a000002 0a000001",
                        PayloadType::traffic_selector_initiator, Errc::ts_start_after_end);
  expect_payloads_error("00 00 0018 01 000000 07 06 0010 0064 0032 0a000000 0a0000ff",
                        PayloadType::traffic_selector_initiator, Errc::ts_port_start_after_end);
  // IPv6 selector with an IPv4 length.
  expect_payloads_error("00 00 0018 01 000000 08 00 0010 0000 ffff 0a000000 0a0000ff",
                        PayloadType::traffic_selector_initiator, Errc::ts_bad_length);
}

TEST(IkeReject, FragmentNumbers) {
  const std::string header = "0102030405060708 1112131415161718 35 20 23 08 00000001 00000030";
  EXPECT_TRUE(parse_message(from_hex(header + "00 00 0014 0002 0002" + repeat("ab", 12))).ok());
  expect_error(from_hex(header + "00 00 0014 0003 0002" + repeat("ab", 12)), Errc::skf_bad_fragment_number, 32);
  expect_error(from_hex(header + "00 00 0014 0000 0002" + repeat("ab", 12)), Errc::skf_bad_fragment_number, 32);
}

TEST(IkeSerialise, RefusesMismatchAndOverflow) {
  Message m;
  m.payloads.push_back({PayloadType::nonce, KeyExchange{19, {1}}});
  auto s = serialise_message(m);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::body_type_mismatch);
  m.payloads = {{PayloadType::nonce, Nonce{Bytes(70000, 1)}}};
  s = serialise_message(m);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::field_too_large);
  m.payloads = {{PayloadType::identification_responder, Identification{IdType::id_fqdn, {'a'}}}};
  EXPECT_TRUE(serialise_message(m).ok());
  m.payloads = {{PayloadType::traffic_selector_initiator, Identification{IdType::id_fqdn, {'a'}}}};
  EXPECT_FALSE(serialise_message(m).ok());
}

TEST(IkeReject, EveryErrorHasADistinctName) {
  std::set<std::string_view> names;
  for (int c = 0; c <= static_cast<int>(Errc::field_too_large); ++c) {
    names.insert(to_string(static_cast<Errc>(c)));
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(Errc::field_too_large) + 1);
  EXPECT_EQ(names.count("unknown"), 0U);
}

}  // namespace
