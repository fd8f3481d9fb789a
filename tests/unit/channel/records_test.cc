// Record encode/decode round trips for every type, and every way a record
// can be refused by the validators.
#include <gtest/gtest.h>

#include <cstring>

#include "channel_test_support.h"
#include "common/channel/record_codec.h"

namespace corridor::channel {
namespace {

using testing::make_cbc_sa;
using testing::make_policy;
using testing::make_sa;

template <typename T>
void poke(RecordSlot& s, std::size_t offset, T v) {
  std::memcpy(s.bytes.data() + offset, &v, sizeof v);
}

constexpr std::size_t kP = wire::kPayload;

// A host-order field of a slot, read as the other process reads it.
template <typename T>
T load(const RecordSlot& slot, std::size_t offset) {
  T v;
  std::memcpy(&v, slot.bytes.data() + offset, sizeof v);
  return v;
}

Command round_trip_command(const RecordSlot& slot) {
  auto c = decode_command(slot);
  EXPECT_TRUE(c.ok()) << to_string(c.ok() ? ResultCode::ok : c.error().code) << " field "
                      << to_string(c.ok() ? Field::none : c.error().field);
  return c.ok() ? c.value() : Command{};
}

Event round_trip_event(const RecordSlot& slot) {
  auto e = decode_event(slot);
  EXPECT_TRUE(e.ok()) << to_string(e.ok() ? ResultCode::ok : e.error().code) << " field "
                      << to_string(e.ok() ? Field::none : e.error().field);
  return e.ok() ? e.value() : Event{};
}

RecordError command_error(const RecordSlot& slot) {
  auto c = decode_command(slot);
  return c.ok() ? RecordError{} : c.error();
}

RecordError event_error(const RecordSlot& slot) {
  auto e = decode_event(slot);
  return e.ok() ? RecordError{} : e.error();
}

void expect_error(const RecordError& e, ResultCode code, Field field) {
  EXPECT_EQ(e.code, code) << to_string(e.code);
  EXPECT_EQ(e.field, field) << to_string(e.field);
}

TEST(RecordLayout, SizesFitTheSlot) {
  EXPECT_EQ(sizeof(RecordSlot), 256U);
  EXPECT_EQ(payload_size(RecordType::add_sa), 204U);
  EXPECT_EQ(payload_size(RecordType::add_policy), 72U);
  EXPECT_EQ(payload_size(RecordType::inventory_sa), 112U);
  for (std::uint16_t t = 0; t < 0x100; ++t) {
    if (is_known(t)) {
      EXPECT_LE(payload_size(static_cast<RecordType>(t)), kMaxPayloadSize);
    }
  }
}

TEST(RecordRoundTrip, SaBothKinds) {
  for (const SaRecord& sa : {make_sa(7, Direction::inbound), make_cbc_sa(8)}) {
    for (RecordType type : {RecordType::add_sa, RecordType::update_sa}) {
      RecordSlot slot;
      encode_sa(type, sa, slot);
      set_sequence(slot, 42);
      const RecordHeader h = read_header(slot);
      EXPECT_EQ(h.type, static_cast<std::uint16_t>(type));
      EXPECT_EQ(h.version, kRecordVersion);
      EXPECT_EQ(h.length, 204U);
      EXPECT_EQ(h.sequence, 42U);
      EXPECT_EQ(read_object_id(slot), sa.sa_id);
      const Command c = round_trip_command(slot);
      EXPECT_EQ(c.type, type);
      EXPECT_EQ(c.sequence, 42U);
      ASSERT_TRUE(std::holds_alternative<SaRecord>(c.body));
      EXPECT_EQ(std::get<SaRecord>(c.body), sa);
    }
  }
}

TEST(RecordRoundTrip, OtherCommands) {
  RecordSlot slot;
  encode(DeleteSa{99}, slot);
  EXPECT_EQ(std::get<DeleteSa>(round_trip_command(slot).body).sa_id, 99U);
  const PolicyRecord policy = make_policy(5, 7);
  encode(policy, slot);
  EXPECT_EQ(std::get<PolicyRecord>(round_trip_command(slot).body), policy);
  encode(DeletePolicy{5}, slot);
  EXPECT_EQ(std::get<DeletePolicy>(round_trip_command(slot).body).policy_id, 5U);
  encode(Flush{3}, slot);
  EXPECT_EQ(std::get<Flush>(round_trip_command(slot).body).control_generation, 3U);
  encode(Heartbeat{3, 17, 123456789}, slot);
  const auto hb = std::get<Heartbeat>(round_trip_command(slot).body);
  EXPECT_EQ(hb.control_generation, 3U);
  EXPECT_EQ(hb.heartbeat_id, 17U);
  EXPECT_EQ(hb.sent_ns, 123456789U);
  encode(InventoryRequest{77}, slot);
  EXPECT_EQ(std::get<InventoryRequest>(round_trip_command(slot).body).request_id, 77U);
}

TEST(RecordRoundTrip, Events) {
  RecordSlot slot;
  const LifetimeExpired lt{9, 0x1234, Direction::inbound, LifetimeKind::packets, 1000, 2000};
  for (RecordType type : {RecordType::sa_soft_lifetime, RecordType::sa_hard_lifetime}) {
    encode_lifetime(type, lt, slot);
    const Event ev = round_trip_event(slot);
    EXPECT_EQ(ev.type, type);
    const auto& got = std::get<LifetimeExpired>(ev.body);
    EXPECT_EQ(got.sa_id, 9U);
    EXPECT_EQ(got.spi, 0x1234U);
    EXPECT_EQ(got.direction, Direction::inbound);
    EXPECT_EQ(got.kind, LifetimeKind::packets);
    EXPECT_EQ(got.bytes, 1000U);
    EXPECT_EQ(got.packets, 2000U);
  }
  encode(SeqOverflow{9, 0x1234, 0xffffffffULL}, slot);
  EXPECT_EQ(std::get<SeqOverflow>(round_trip_event(slot).body).last_sequence, 0xffffffffULL);

  const SaCounters ct{9, 0x1234, Direction::outbound, 1, 2, 3, 4, 5, 6};
  encode(ct, slot);
  const auto got_ct = std::get<SaCounters>(round_trip_event(slot).body);
  EXPECT_EQ(got_ct.packets, 1U);
  EXPECT_EQ(got_ct.bytes, 2U);
  EXPECT_EQ(got_ct.replay_drops, 3U);
  EXPECT_EQ(got_ct.icv_failures, 4U);
  EXPECT_EQ(got_ct.malformed_drops, 5U);
  EXPECT_EQ(got_ct.last_packet_ns, 6U);

  encode(ReplayIcvSummary{1000, 5, 6, 9, 11, 2}, slot);
  const auto rs = std::get<ReplayIcvSummary>(round_trip_event(slot).body);
  EXPECT_EQ(rs.worst_sa_id, 9U);
  EXPECT_EQ(rs.worst_sa_drops, 11U);
  EXPECT_EQ(rs.sas_affected, 2U);

  encode(HeartbeatAck{4, 17, 3, 10, 20}, slot);
  const auto ack = std::get<HeartbeatAck>(round_trip_event(slot).body);
  EXPECT_EQ(ack.dataplane_generation, 4U);
  EXPECT_EQ(ack.heartbeat_id, 17U);
  EXPECT_EQ(ack.control_generation_seen, 3U);
  EXPECT_EQ(ack.sa_count, 10U);
  EXPECT_EQ(ack.policy_count, 20U);

  const SaSummary summary = summarize(make_cbc_sa(8));
  encode(InventorySa{55, summary}, slot);
  const auto inv = std::get<InventorySa>(round_trip_event(slot).body);
  EXPECT_EQ(inv.request_id, 55U);
  EXPECT_EQ(inv.sa, summary);
  // The inventory never carries key bytes: everything past the summary is zero.
  for (std::size_t i = kP + 8 + wire::sa::kSummarySize; i < kRecordSize; ++i) {
    ASSERT_EQ(slot.bytes[i], 0) << i;
  }

  const PolicyRecord policy = make_policy(5, 7);
  encode(InventoryPolicy{55, policy}, slot);
  EXPECT_EQ(std::get<InventoryPolicy>(round_trip_event(slot).body).policy, policy);

  encode(InventoryEnd{55, 4, 10, 20}, slot);
  const auto end = std::get<InventoryEnd>(round_trip_event(slot).body);
  EXPECT_EQ(end.sa_count, 10U);
  EXPECT_EQ(end.policy_count, 20U);
  EXPECT_EQ(end.dataplane_generation, 4U);

  encode(CommandResult{12, 7, static_cast<std::uint16_t>(RecordType::add_sa), ResultCode::bad_field,
                       Field::encryption_key_bits},
         slot);
  const auto cr = std::get<CommandResult>(round_trip_event(slot).body);
  EXPECT_EQ(cr.command_sequence, 12U);
  EXPECT_EQ(cr.object_id, 7U);
  EXPECT_EQ(cr.code, ResultCode::bad_field);
  EXPECT_EQ(cr.field, Field::encryption_key_bits);
}

// ---- Header-level refusals -----------------------------------------------

TEST(RecordHeaderChecks, EveryHeaderFault) {
  RecordSlot slot;
  encode(DeleteSa{1}, slot);
  poke<std::uint16_t>(slot, wire::kType, 0x7f);
  expect_error(command_error(slot), ResultCode::unknown_type, Field::none);
  poke<std::uint16_t>(slot, wire::kType, 0);
  expect_error(command_error(slot), ResultCode::unknown_type, Field::none);

  encode(HeartbeatAck{1, 1, 1, 0, 0}, slot);  // an event on the command ring
  expect_error(command_error(slot), ResultCode::wrong_ring, Field::none);
  encode(DeleteSa{1}, slot);  // a command on the event ring
  expect_error(event_error(slot), ResultCode::wrong_ring, Field::none);

  encode(DeleteSa{1}, slot);
  poke<std::uint16_t>(slot, wire::kVersion, 2);
  expect_error(command_error(slot), ResultCode::unknown_version, Field::none);

  encode(DeleteSa{1}, slot);
  poke<std::uint32_t>(slot, wire::kLength, 16);
  expect_error(command_error(slot), ResultCode::bad_length, Field::none);
  poke<std::uint32_t>(slot, wire::kLength, 0xffffffffU);
  expect_error(command_error(slot), ResultCode::bad_length, Field::none);

  encode(DeleteSa{1}, slot);
  slot.bytes[kRecordSize - 1] = 1;  // a byte past the payload
  expect_error(command_error(slot), ResultCode::reserved_not_zero, Field::none);
}

TEST(RecordCommandChecks, ZeroIdsAreRefused) {
  RecordSlot slot;
  encode(DeleteSa{0}, slot);
  expect_error(command_error(slot), ResultCode::bad_field, Field::sa_id);
  encode(DeletePolicy{0}, slot);
  expect_error(command_error(slot), ResultCode::bad_field, Field::policy_id);
  encode(InventoryRequest{0}, slot);
  expect_error(command_error(slot), ResultCode::bad_field, Field::request_id);
}

// ---- SA refusals: raw enum bytes, reserved bits, key tails ----------------

TEST(RecordSaChecks, RawFieldFaults) {
  const SaRecord sa = make_cbc_sa(3);
  struct Case {
    std::size_t offset;
    std::uint8_t value;
    ResultCode code;
    Field field;
  };
  const std::size_t b = kP;
  for (const Case& c : {
           Case{b + wire::sa::kDirection, 0, ResultCode::bad_field, Field::direction},
           Case{b + wire::sa::kDirection, 3, ResultCode::bad_field, Field::direction},
           Case{b + wire::sa::kProtocol, 17, ResultCode::bad_field, Field::protocol},
           Case{b + wire::sa::kMode, 3, ResultCode::bad_field, Field::mode},
           Case{b + wire::sa::kIpVersion, 5, ResultCode::bad_field, Field::ip_version},
           Case{b + wire::sa::kFlags, 0x0c, ResultCode::bad_field, Field::flags},  // DF mode 3
           Case{b + wire::sa::kFlags + 1, 0x01, ResultCode::reserved_not_zero, Field::flags},
           Case{b + wire::sa::kReserved, 1, ResultCode::reserved_not_zero, Field::none},
           Case{b + wire::sa::kEncryptionKeyLength, 37, ResultCode::bad_field,
                Field::encryption_key_length},
           Case{b + wire::sa::kIntegrityKeyLength, 65, ResultCode::bad_field,
                Field::integrity_key_length},
           // A key byte past the key's length (16 of 36 used, 32 of 64).
           Case{b + wire::sa::kEncryptionKey + 20, 0xee, ResultCode::reserved_not_zero,
                Field::encryption_key},
           Case{b + wire::sa::kIntegrityKey + 40, 0xee, ResultCode::reserved_not_zero,
                Field::integrity_key},
       }) {
    RecordSlot slot;
    encode_sa(RecordType::add_sa, sa, slot);
    slot.bytes[c.offset] = c.value;
    SCOPED_TRACE(c.offset);
    expect_error(command_error(slot), c.code, c.field);
  }
}

// Each semantic rule of validate(SaRecord), through the decoder too.
TEST(RecordSaChecks, SemanticFaults) {
  struct Case {
    const char* what;
    void (*mutate)(SaRecord&);
    Field field;
  };
  const Case cases[] = {
      {"sa_id 0", [](SaRecord& s) { s.sa_id = 0; }, Field::sa_id},
      {"reserved spi", [](SaRecord& s) { s.spi = 255; }, Field::spi},
      {"ipv4 with bytes past 4", [](SaRecord& s) { s.outer_src[5] = 1; }, Field::outer_src},
      {"unspecified dst", [](SaRecord& s) { s.outer_dst = {}; }, Field::outer_dst},
      {"encap without ports", [](SaRecord& s) { s.udp_encap = true; }, Field::udp_encap_ports},
      {"ports without encap", [](SaRecord& s) { s.encap_dst_port = 4500; }, Field::udp_encap_ports},
      {"AH with encap",
       [](SaRecord& s) {
         s.protocol = IpsecProtocol::ah;
         s.udp_encap = true;
         s.encap_src_port = s.encap_dst_port = 4500;
       },
       Field::udp_encap_ports},
      {"AH with a cipher", [](SaRecord& s) { s.protocol = IpsecProtocol::ah; }, Field::encryption_id},
      {"ESP cipher 0", [](SaRecord& s) { s.encryption_id = 0; }, Field::encryption_id},
      {"AEAD plus integrity",
       [](SaRecord& s) {
         s.integrity_id = 12;
         std::uint8_t k[32] = {1};
         s.integrity_key.assign(k);
       },
       Field::integrity_id},
      {"CBC without integrity", [](SaRecord& s) { s.encryption_id = 12; }, Field::integrity_id},
      {"key bits not bytes", [](SaRecord& s) { s.encryption_key_bits = 255; }, Field::encryption_key_bits},
      {"key bits beyond key", [](SaRecord& s) { s.encryption_key_bits = 512; }, Field::encryption_key_bits},
      {"integrity key without algorithm",
       [](SaRecord& s) {
         std::uint8_t k[4] = {1, 2, 3, 4};
         s.integrity_key.assign(k);
       },
       Field::integrity_key_length},
      {"replay window too big", [](SaRecord& s) { s.replay_window = kMaxReplayWindow + 1; }, Field::replay_window},
      {"soft above hard", [](SaRecord& s) { s.soft.bytes = s.hard.bytes + 1; }, Field::lifetime},
      {"soft packets above hard",
       [](SaRecord& s) {
         s.soft.packets = 10;
         s.hard.packets = 5;
       },
       Field::lifetime},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    SaRecord sa = make_sa(3);
    ASSERT_EQ(validate(sa).code, ResultCode::ok);
    c.mutate(sa);
    expect_error(validate(sa), ResultCode::bad_field, c.field);
    RecordSlot slot;
    encode_sa(RecordType::update_sa, sa, slot);
    expect_error(command_error(slot), ResultCode::bad_field, c.field);
  }
}

TEST(RecordSaChecks, AhSaIsValid) {
  SaRecord sa = make_sa(4);
  sa.protocol = IpsecProtocol::ah;
  sa.encryption_id = 0;
  sa.encryption_key_bits = 0;
  sa.encryption_key.assign({});
  sa.integrity_id = 14;  // AUTH_HMAC_SHA2_512_256
  std::uint8_t k[64] = {9};
  sa.integrity_key.assign(k);
  EXPECT_EQ(validate(sa).code, ResultCode::ok);
  RecordSlot slot;
  encode_sa(RecordType::add_sa, sa, slot);
  EXPECT_EQ(std::get<SaRecord>(round_trip_command(slot).body), sa);
}

TEST(RecordSaChecks, KeyMaterialRefusesOversizedKeys) {
  KeyMaterial<4> key;
  const std::uint8_t five[5] = {1, 2, 3, 4, 5};
  EXPECT_FALSE(key.assign(five));
  EXPECT_EQ(key.length, 0);
  EXPECT_TRUE(key.assign(std::span(five, 4)));
  EXPECT_EQ(key.length, 4);
}

// ---- Policy refusals -----------------------------------------------------

TEST(RecordPolicyChecks, RawAndSemanticFaults) {
  struct Raw {
    std::size_t offset;
    std::uint8_t value;
    ResultCode code;
    Field field;
  };
  for (const Raw& c : {Raw{kP + wire::policy::kDirection, 9, ResultCode::bad_field, Field::direction},
                       Raw{kP + wire::policy::kAction, 0, ResultCode::bad_field, Field::action},
                       Raw{kP + wire::policy::kAction, 5, ResultCode::bad_field, Field::action},
                       Raw{kP + wire::policy::kSrcFamily, 5, ResultCode::bad_field, Field::src_prefix},
                       Raw{kP + wire::policy::kDstFamily, 0, ResultCode::bad_field, Field::dst_prefix},
                       Raw{kP + wire::policy::kReserved1, 1, ResultCode::reserved_not_zero, Field::none},
                       Raw{kP + wire::policy::kReserved2 + 3, 1, ResultCode::reserved_not_zero, Field::none}}) {
    RecordSlot slot;
    encode(make_policy(1, 2), slot);
    slot.bytes[c.offset] = c.value;
    SCOPED_TRACE(c.offset);
    expect_error(command_error(slot), c.code, c.field);
  }

  struct Case {
    const char* what;
    void (*mutate)(PolicyRecord&);
    Field field;
  };
  const Case cases[] = {
      {"id 0", [](PolicyRecord& p) { p.policy_id = 0; }, Field::policy_id},
      {"v4 prefix too long", [](PolicyRecord& p) { p.src.length = 33; }, Field::src_prefix},
      {"host bits set", [](PolicyRecord& p) { p.src.address[3] = 1; }, Field::src_prefix},
      {"v4 address past 4 bytes", [](PolicyRecord& p) { p.dst.address[4] = 1; }, Field::dst_prefix},
      {"mixed families",
       [](PolicyRecord& p) {
         p.dst.family = IpVersion::v6;
         p.dst.length = 0;
         p.dst.address = {};
       },
       Field::dst_prefix},
      {"src ports reversed", [](PolicyRecord& p) { p.src_ports = {10, 9}; }, Field::src_ports},
      {"dst ports reversed", [](PolicyRecord& p) { p.dst_ports = {10, 9}; }, Field::dst_ports},
      {"ports without protocol", [](PolicyRecord& p) { p.ip_protocol = 0; }, Field::dst_ports},
      {"protect without SA", [](PolicyRecord& p) { p.sa_id = 0; }, Field::policy_sa_id},
      {"bypass with SA", [](PolicyRecord& p) { p.action = PolicyAction::bypass; }, Field::policy_sa_id},
      {"trap with SA",
       [](PolicyRecord& p) {
         p.action = PolicyAction::trap;
         p.direction = Direction::outbound;
       },
       Field::policy_sa_id},
      {"inbound trap",
       [](PolicyRecord& p) {
         p.action = PolicyAction::trap;
         p.sa_id = 0;
         p.direction = Direction::inbound;
       },
       Field::action},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    PolicyRecord p = make_policy(1, 2);
    ASSERT_EQ(validate(p).code, ResultCode::ok);
    c.mutate(p);
    expect_error(validate(p), ResultCode::bad_field, c.field);
    RecordSlot slot;
    encode(p, slot);
    expect_error(command_error(slot), ResultCode::bad_field, c.field);
  }

  PolicyRecord trap = make_policy(1, 0);
  trap.action = PolicyAction::trap;
  trap.direction = Direction::outbound;
  EXPECT_EQ(validate(trap).code, ResultCode::ok) << "an outbound trap names no SA";
  RecordSlot trap_slot;
  encode(trap, trap_slot);
  EXPECT_EQ(std::get<PolicyRecord>(round_trip_command(trap_slot).body), trap);

  PolicyRecord v6 = make_policy(9, 0);
  v6.src = {IpVersion::v6, 33, {0x20, 0x01, 0x0d, 0xb8, 0x80}};  // 33 bits: 0x80 in byte 4 is in
  v6.dst = {IpVersion::v6, 128, {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
  EXPECT_EQ(validate(v6).code, ResultCode::ok);
  v6.src.address[4] = 0xc0;  // bit 34 set
  EXPECT_EQ(validate(v6).field, Field::src_prefix);
}

// ---- Event refusals ------------------------------------------------------

TEST(RecordEventChecks, EveryEventFault) {
  RecordSlot slot;
  const LifetimeExpired lt{9, 0x1234, Direction::inbound, LifetimeKind::bytes, 1, 1};
  encode_lifetime(RecordType::sa_soft_lifetime, lt, slot);
  slot.bytes[kP + 13] = 3;  // kind
  expect_error(event_error(slot), ResultCode::bad_field, Field::lifetime_kind);
  encode_lifetime(RecordType::sa_hard_lifetime, lt, slot);
  slot.bytes[kP + 12] = 0;  // direction
  expect_error(event_error(slot), ResultCode::bad_field, Field::direction);
  encode_lifetime(RecordType::sa_hard_lifetime, lt, slot);
  slot.bytes[kP + 14] = 1;
  expect_error(event_error(slot), ResultCode::reserved_not_zero, Field::none);
  encode_lifetime(RecordType::sa_hard_lifetime, LifetimeExpired{}, slot);
  expect_error(event_error(slot), ResultCode::bad_field, Field::sa_id);

  encode(SeqOverflow{1, 2, 3}, slot);
  slot.bytes[kP + 12] = 1;
  expect_error(event_error(slot), ResultCode::reserved_not_zero, Field::none);
  encode(SeqOverflow{0, 2, 3}, slot);
  expect_error(event_error(slot), ResultCode::bad_field, Field::sa_id);

  encode(SaCounters{1, 2, Direction::inbound, 0, 0, 0, 0, 0, 0}, slot);
  slot.bytes[kP + 15] = 1;
  expect_error(event_error(slot), ResultCode::reserved_not_zero, Field::none);
  encode(SaCounters{1, 2, Direction::inbound, 0, 0, 0, 0, 0, 0}, slot);
  slot.bytes[kP + 12] = 7;
  expect_error(event_error(slot), ResultCode::bad_field, Field::direction);

  encode(ReplayIcvSummary{1, 1, 1, 0, 0, 3}, slot);  // SAs affected but no worst SA
  expect_error(event_error(slot), ResultCode::bad_field, Field::sa_id);
  encode(ReplayIcvSummary{1, 1, 1, 5, 1, 1}, slot);
  slot.bytes[kP + 44] = 1;
  expect_error(event_error(slot), ResultCode::reserved_not_zero, Field::none);

  encode(HeartbeatAck{0, 1, 1, 0, 0}, slot);
  expect_error(event_error(slot), ResultCode::bad_field, Field::none);

  encode(InventorySa{0, summarize(make_sa(1))}, slot);
  expect_error(event_error(slot), ResultCode::bad_field, Field::request_id);
  SaSummary bad_summary = summarize(make_sa(1));
  bad_summary.spi = 1;
  encode(InventorySa{5, bad_summary}, slot);
  expect_error(event_error(slot), ResultCode::bad_field, Field::spi);
  encode(InventorySa{5, summarize(make_sa(1))}, slot);
  slot.bytes[kP + 8 + wire::sa::kMode] = 0;
  expect_error(event_error(slot), ResultCode::bad_field, Field::mode);

  encode(InventoryPolicy{0, make_policy(1, 2)}, slot);
  expect_error(event_error(slot), ResultCode::bad_field, Field::request_id);
  PolicyRecord bad_policy = make_policy(1, 2);
  bad_policy.src.length = 40;
  encode(InventoryPolicy{5, bad_policy}, slot);
  expect_error(event_error(slot), ResultCode::bad_field, Field::src_prefix);

  encode(InventoryEnd{0, 1, 0, 0}, slot);
  expect_error(event_error(slot), ResultCode::bad_field, Field::request_id);

  encode(CommandResult{1, 1, 3, ResultCode::ok, Field::none}, slot);  // ok is never reported
  expect_error(event_error(slot), ResultCode::bad_field, Field::result_code);
  encode(CommandResult{1, 1, 3, ResultCode::sa_unknown, Field::none}, slot);
  poke<std::uint16_t>(slot, kP + 20, 999);  // field
  expect_error(event_error(slot), ResultCode::bad_field, Field::none);
  encode(CommandResult{1, 1, 3, ResultCode::sa_unknown, Field::none}, slot);
  slot.bytes[kP + 22] = 1;
  expect_error(event_error(slot), ResultCode::reserved_not_zero, Field::none);
}

// PORT_STATS and WORKER_STATS (docs/sa-channel.md 3.5): every field
// survives, at the documented offsets, and a name or drop array that could
// be read two ways is refused.
TEST(StatsRecords, RoundTripAtTheDocumentedOffsets) {
  RecordSlot slot;
  PortStats p;
  p.port_id = 3;
  p.link_up = true;
  p.link_speed_mbps = 10000;
  ASSERT_TRUE(p.set_name("net_af_packet0"));
  p.ipackets = 1;
  p.opackets = 2;
  p.ibytes = 3;
  p.obytes = 4;
  p.imissed = 5;
  p.ierrors = 6;
  p.oerrors = 7;
  p.rx_nombuf = 8;
  p.sampled_ns = 9;
  encode(p, slot);
  EXPECT_EQ(load<std::uint32_t>(slot, wire::kLength), 144U);
  EXPECT_EQ(std::memcmp(slot.bytes.data() + kP + 8, "net_af_packet0", 15), 0);  // with its NUL
  EXPECT_EQ(load<std::uint64_t>(slot, kP + 72), 1U);
  EXPECT_EQ(load<std::uint64_t>(slot, kP + 136), 9U);
  const auto got = std::get<PortStats>(round_trip_event(slot).body);
  EXPECT_EQ(got.port_id, 3U);
  EXPECT_TRUE(got.link_up);
  EXPECT_EQ(got.link_speed_mbps, 10000U);
  EXPECT_EQ(got.name_view(), "net_af_packet0");
  EXPECT_EQ(std::vector<std::uint64_t>({got.ipackets, got.opackets, got.ibytes, got.obytes, got.imissed, got.ierrors,
                                        got.oerrors, got.rx_nombuf, got.sampled_ns}),
            std::vector<std::uint64_t>({1, 2, 3, 4, 5, 6, 7, 8, 9}));

  EXPECT_TRUE(p.set_name(std::string(63, 'x')));
  EXPECT_FALSE(p.set_name(std::string(64, 'x'))) << "no room for the NUL";
  EXPECT_FALSE(p.set_name(""));

  WorkerStats w;
  w.lcore_id = 2;
  w.worker_index = 1;
  w.rx = 10;
  w.tx = 11;
  w.protected_out = 12;
  w.decapsulated = 13;
  w.bypassed = 14;
  w.to_main = 15;
  w.nat_keepalives = 16;
  w.engine_drops = 17;
  w.polls = 100;
  w.busy_polls = 40;
  w.sampled_ns = 18;
  for (std::size_t r = 0; r < kForwardDropReasons; ++r) w.drops[r] = 1000 + r;
  encode(w, slot);
  EXPECT_EQ(load<std::uint32_t>(slot, wire::kLength), 240U);
  EXPECT_EQ(load<std::uint64_t>(slot, kP + 96 + 8 * static_cast<std::size_t>(ForwardDrop::trapped)),
            1000U + static_cast<std::size_t>(ForwardDrop::trapped));
  EXPECT_EQ(load<std::uint64_t>(slot, kP + 96 + 8 * static_cast<std::size_t>(ForwardDrop::no_policy)),
            1000U + static_cast<std::size_t>(ForwardDrop::no_policy));
  const auto gw = std::get<WorkerStats>(round_trip_event(slot).body);
  EXPECT_EQ(gw.lcore_id, 2U);
  EXPECT_EQ(gw.worker_index, 1U);
  EXPECT_EQ(std::vector<std::uint64_t>({gw.rx, gw.tx, gw.protected_out, gw.decapsulated, gw.bypassed, gw.to_main,
                                        gw.nat_keepalives, gw.engine_drops, gw.polls, gw.busy_polls, gw.sampled_ns}),
            std::vector<std::uint64_t>({10, 11, 12, 13, 14, 15, 16, 17, 100, 40, 18}));
  EXPECT_EQ(gw.drops, w.drops);
}

TEST(StatsRecords, AmbiguousOrImpossibleValuesAreRefused) {
  RecordSlot slot;
  PortStats p;
  ASSERT_TRUE(p.set_name("0000:3b:00.0"));
  encode(p, slot);
  slot.bytes[kP + 8 + 20] = 'x';  // text after the terminating NUL
  expect_error(event_error(slot), ResultCode::bad_field, Field::port_name);
  encode(p, slot);
  std::memset(slot.bytes.data() + kP + 8, 0, 64);  // no name
  expect_error(event_error(slot), ResultCode::bad_field, Field::port_name);
  encode(p, slot);
  std::memset(slot.bytes.data() + kP + 8, 'y', 64);  // no terminator
  expect_error(event_error(slot), ResultCode::bad_field, Field::port_name);
  encode(p, slot);
  slot.bytes[kP + 2] = 2;
  expect_error(event_error(slot), ResultCode::bad_field, Field::link_up);
  encode(p, slot);
  slot.bytes[kP + 3] = 1;
  expect_error(event_error(slot), ResultCode::reserved_not_zero, Field::none);

  WorkerStats w;
  w.polls = 1;
  w.busy_polls = 2;
  encode(w, slot);
  expect_error(event_error(slot), ResultCode::bad_field, Field::none);
  w.busy_polls = 1;
  encode(w, slot);
  slot.bytes[kP + 6] = 1;
  expect_error(event_error(slot), ResultCode::reserved_not_zero, Field::none);
  if (kForwardDropReasons < kMaxForwardDrops) {
    encode(w, slot);
    slot.bytes[kP + 96 + 8 * (kMaxForwardDrops - 1)] = 1;  // a reason this build does not know
    expect_error(event_error(slot), ResultCode::reserved_not_zero, Field::none);
  }
}

TEST(AcquireRecord, RoundTripAtTheDocumentedOffsets) {
  Acquire a;
  a.policy_id = 0x0001000000000007;
  a.family = IpVersion::v4;
  a.ip_protocol = 6;
  a.src_port = 40000;
  a.dst_port = 443;
  a.src = {10, 1, 0, 5};
  a.dst = {10, 2, 0, 7};
  RecordSlot slot;
  encode(a, slot);
  EXPECT_EQ(load<std::uint16_t>(slot, wire::kType), 0x8dU);
  EXPECT_EQ(load<std::uint32_t>(slot, wire::kLength), 48U);
  EXPECT_EQ(load<std::uint64_t>(slot, kP), a.policy_id);
  EXPECT_EQ(slot.bytes[kP + 8], 4);
  EXPECT_EQ(slot.bytes[kP + 9], 6);
  EXPECT_EQ(load<std::uint16_t>(slot, kP + 12), 40000U);
  EXPECT_EQ(load<std::uint16_t>(slot, kP + 14), 443U);
  EXPECT_EQ(slot.bytes[kP + 16], 10);
  EXPECT_EQ(slot.bytes[kP + 35], 7);
  EXPECT_EQ(std::get<Acquire>(round_trip_event(slot).body), a);

  Acquire v6 = a;
  v6.family = IpVersion::v6;
  v6.src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  v6.dst = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
  encode(v6, slot);
  EXPECT_EQ(std::get<Acquire>(round_trip_event(slot).body), v6);
}

TEST(AcquireRecord, FaultsAreRefused) {
  Acquire a;
  a.policy_id = 3;
  a.src = {10, 1, 0, 5};
  a.dst = {10, 2, 0, 7};
  RecordSlot slot;
  encode(a, slot);
  poke<std::uint64_t>(slot, kP, 0);
  expect_error(event_error(slot), ResultCode::bad_field, Field::policy_id);
  encode(a, slot);
  slot.bytes[kP + 8] = 5;
  expect_error(event_error(slot), ResultCode::bad_field, Field::ip_version);
  encode(a, slot);
  slot.bytes[kP + 10] = 1;
  expect_error(event_error(slot), ResultCode::reserved_not_zero, Field::none);
  encode(a, slot);
  slot.bytes[kP + 16 + 4] = 1;  // an IPv4 source longer than 4 bytes
  expect_error(event_error(slot), ResultCode::reserved_not_zero, Field::none);
  encode(a, slot);
  slot.bytes[kP + 32 + 15] = 1;
  expect_error(event_error(slot), ResultCode::reserved_not_zero, Field::none);
  encode(a, slot);
  slot.bytes[kP + 48] = 1;  // past the payload
  expect_error(event_error(slot), ResultCode::reserved_not_zero, Field::none);
}

TEST(RecordNames, EveryTypeAndCodeHasAName) {
  for (std::uint16_t t = 0; t < 0x100; ++t) {
    if (is_known(t)) {
      EXPECT_NE(to_string(static_cast<RecordType>(t)), "UNKNOWN");
    }
  }
  for (std::uint16_t f = 0; f <= static_cast<std::uint16_t>(Field::link_up); ++f) {
    EXPECT_NE(to_string(static_cast<Field>(f)), "unknown");
  }
  EXPECT_EQ(to_string(ResultCode::sa_exists), "SA id already installed");
}

}  // namespace
}  // namespace corridor::channel
