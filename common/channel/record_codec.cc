#include "common/channel/record_codec.h"

#include <cstring>
#include <type_traits>

namespace corridor::channel {

namespace {

using namespace wire;

// Offsets of the small payloads (relative to the payload, slot offset 16).
// docs/sa-channel.md has the same tables.
namespace small {
inline constexpr std::size_t kId = 0;  // u64: sa_id / policy_id / generation / request_id
// HEARTBEAT
inline constexpr std::size_t kHbControlGeneration = 0, kHbId = 8, kHbSentNs = 16, kHbSize = 24;
// SA_SOFT_LIFETIME / SA_HARD_LIFETIME
inline constexpr std::size_t kLtSaId = 0, kLtSpi = 8, kLtDirection = 12, kLtKind = 13,
                             kLtReserved = 14, kLtBytes = 16, kLtPackets = 24, kLtSize = 32;
// SEQ_OVERFLOW
inline constexpr std::size_t kSoSaId = 0, kSoSpi = 8, kSoReserved = 12, kSoLastSequence = 16,
                             kSoSize = 24;
// COUNTERS
inline constexpr std::size_t kCtSaId = 0, kCtSpi = 8, kCtDirection = 12, kCtReserved = 13,
                             kCtPackets = 16, kCtBytes = 24, kCtReplayDrops = 32,
                             kCtIcvFailures = 40, kCtMalformed = 48, kCtLastPacketNs = 56,
                             kCtSize = 64;
// REPLAY_ICV_SUMMARY
inline constexpr std::size_t kRsIntervalNs = 0, kRsReplayDrops = 8, kRsIcvFailures = 16,
                             kRsWorstSaId = 24, kRsWorstSaDrops = 32, kRsSasAffected = 40,
                             kRsReserved = 44, kRsSize = 48;
// HEARTBEAT_ACK
inline constexpr std::size_t kHaGeneration = 0, kHaId = 8, kHaControlGeneration = 16,
                             kHaSaCount = 24, kHaPolicyCount = 28, kHaSize = 32;
// INVENTORY_SA / INVENTORY_POLICY: request id, then the SA summary / policy.
inline constexpr std::size_t kInvRequestId = 0, kInvBody = 8;
// INVENTORY_END
inline constexpr std::size_t kIeRequestId = 0, kIeGeneration = 8, kIeSaCount = 16,
                             kIePolicyCount = 20, kIeSize = 24;
// COMMAND_RESULT
inline constexpr std::size_t kCrSequence = 0, kCrObjectId = 8, kCrType = 16, kCrCode = 18,
                             kCrField = 20, kCrReserved = 22, kCrSize = 24;
// PORT_STATS
inline constexpr std::size_t kPsPortId = 0, kPsLinkUp = 2, kPsReserved = 3, kPsSpeed = 4, kPsName = 8,
                             kPsIpackets = 72, kPsOpackets = 80, kPsIbytes = 88, kPsObytes = 96,
                             kPsImissed = 104, kPsIerrors = 112, kPsOerrors = 120, kPsRxNombuf = 128,
                             kPsSampledNs = 136, kPsSize = 144;
// WORKER_STATS: the counters, then ForwardDrop's kMaxForwardDrops u64s
inline constexpr std::size_t kWsLcore = 0, kWsIndex = 4, kWsReserved = 6, kWsRx = 8, kWsTx = 16,
                             kWsProtectedOut = 24, kWsDecapsulated = 32, kWsBypassed = 40, kWsToMain = 48,
                             kWsNatKeepalives = 56, kWsEngineDrops = 64, kWsPolls = 72, kWsBusyPolls = 80,
                             kWsSampledNs = 88, kWsDrops = 96, kWsSize = 96 + 8 * kMaxForwardDrops;
// ACQUIRE
inline constexpr std::size_t kAqPolicyId = 0, kAqFamily = 8, kAqProtocol = 9, kAqReserved = 10,
                             kAqSrcPort = 12, kAqDstPort = 14, kAqSrc = 16, kAqDst = 32, kAqSize = 48;
}  // namespace small

static_assert(sa::kSize <= kMaxPayloadSize && small::kInvBody + sa::kSummarySize <= kMaxPayloadSize);
static_assert(small::kPsName + kPortNameSize == small::kPsIpackets && small::kWsSize <= kMaxPayloadSize);

// Compile-time bounds-checked field access; Off is the slot offset.
template <std::size_t Off, typename T>
void put(RecordSlot& s, T v) {
  static_assert(std::is_integral_v<T> && Off + sizeof(T) <= kRecordSize);
  std::memcpy(s.bytes.data() + Off, &v, sizeof v);
}
template <std::size_t Off, typename T>
T get(const RecordSlot& s) {
  static_assert(std::is_integral_v<T> && Off + sizeof(T) <= kRecordSize);
  T v;
  std::memcpy(&v, s.bytes.data() + Off, sizeof v);
  return v;
}
template <std::size_t Off, std::size_t N>
void put_bytes(RecordSlot& s, const std::array<std::uint8_t, N>& a) {
  static_assert(Off + N <= kRecordSize);
  std::memcpy(s.bytes.data() + Off, a.data(), N);
}
template <std::size_t Off, std::size_t N>
void get_bytes(const RecordSlot& s, std::array<std::uint8_t, N>& a) {
  static_assert(Off + N <= kRecordSize);
  std::memcpy(a.data(), s.bytes.data() + Off, N);
}
// Every record is checked for trailing zeros (up to 240 bytes), so this is
// on the consumer's per-record path: OR whole words, no early exit, so that
// it runs at load bandwidth instead of one compare-and-branch per byte.
bool zero_range(const RecordSlot& s, std::size_t from, std::size_t to) {
  if (to > kRecordSize) to = kRecordSize;
  if (from >= to) return true;
  const std::uint8_t* p = s.bytes.data();
  std::uint64_t acc = 0;
  std::size_t i = from;
  for (; i < to && i % 8 != 0; ++i) acc |= p[i];
  for (; i + 8 <= to; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, sizeof word);
    acc |= word;
  }
  for (; i < to; ++i) acc |= p[i];
  return acc == 0;
}

void start(RecordSlot& s, RecordType type) {
  s.bytes.fill(0);
  put<kType>(s, static_cast<std::uint16_t>(type));
  put<kVersion>(s, kRecordVersion);
  put<kLength>(s, static_cast<std::uint32_t>(payload_size(type)));
}

constexpr RecordError ok_result() { return {ResultCode::ok, Field::none}; }
constexpr RecordError bad(Field f) { return {ResultCode::bad_field, f}; }
constexpr RecordError reserved(Field f) { return {ResultCode::reserved_not_zero, f}; }
bool failed(const RecordError& e) { return e.code != ResultCode::ok; }

bool direction_ok(std::uint8_t v) { return v == 1 || v == 2; }

// ---- SA ----------------------------------------------------------------

template <std::size_t B>
void put_sa_summary(const SaSummary& v, RecordSlot& s) {
  put<B + sa::kSaId>(s, v.sa_id);
  put<B + sa::kSpi>(s, v.spi);
  put<B + sa::kDirection>(s, static_cast<std::uint8_t>(v.direction));
  put<B + sa::kProtocol>(s, static_cast<std::uint8_t>(v.protocol));
  put<B + sa::kMode>(s, static_cast<std::uint8_t>(v.mode));
  put<B + sa::kIpVersion>(s, static_cast<std::uint8_t>(v.ip_version));
  put_bytes<B + sa::kOuterSrc>(s, v.outer_src);
  put_bytes<B + sa::kOuterDst>(s, v.outer_dst);
  put<B + sa::kEncapSrcPort>(s, v.encap_src_port);
  put<B + sa::kEncapDstPort>(s, v.encap_dst_port);
  put<B + sa::kEncryptionId>(s, v.encryption_id);
  put<B + sa::kEncryptionKeyBits>(s, v.encryption_key_bits);
  put<B + sa::kIntegrityId>(s, v.integrity_id);
  put<B + sa::kEncryptionKeyLength>(s, v.encryption_key_length);
  put<B + sa::kIntegrityKeyLength>(s, v.integrity_key_length);
  put<B + sa::kReplayWindow>(s, v.replay_window);
  std::uint32_t flags = (static_cast<std::uint32_t>(v.df) << sa::kDfShift) & sa::kDfMask;
  if (v.esn) flags |= sa::kFlagEsn;
  if (v.udp_encap) flags |= sa::kFlagUdpEncap;
  if (v.dscp_copy) flags |= sa::kFlagDscpCopy;
  if (v.ecn_propagate) flags |= sa::kFlagEcn;
  put<B + sa::kFlags>(s, flags);
  put<B + sa::kWorkerHint>(s, v.worker_hint);
  put<B + sa::kSoftBytes>(s, v.soft.bytes);
  put<B + sa::kSoftPackets>(s, v.soft.packets);
  put<B + sa::kHardBytes>(s, v.hard.bytes);
  put<B + sa::kHardPackets>(s, v.hard.packets);
}

// Range-checks the raw enum bytes before they become enums.
template <std::size_t B>
RecordError get_sa_summary(const RecordSlot& s, SaSummary& v) {
  const auto dir = get<B + sa::kDirection, std::uint8_t>(s);
  const auto proto = get<B + sa::kProtocol, std::uint8_t>(s);
  const auto mode = get<B + sa::kMode, std::uint8_t>(s);
  const auto ipv = get<B + sa::kIpVersion, std::uint8_t>(s);
  const auto flags = get<B + sa::kFlags, std::uint32_t>(s);
  if (!direction_ok(dir)) return bad(Field::direction);
  if (proto != 50 && proto != 51) return bad(Field::protocol);
  if (mode != 1 && mode != 2) return bad(Field::mode);
  if (ipv != 4 && ipv != 6) return bad(Field::ip_version);
  if ((flags & ~sa::kFlagsKnown) != 0) return reserved(Field::flags);
  const std::uint32_t df = (flags & sa::kDfMask) >> sa::kDfShift;
  if (df > 2) return bad(Field::flags);
  if (get<B + sa::kReserved, std::uint16_t>(s) != 0) return reserved(Field::none);
  v.sa_id = get<B + sa::kSaId, std::uint64_t>(s);
  v.spi = get<B + sa::kSpi, std::uint32_t>(s);
  v.direction = static_cast<Direction>(dir);
  v.protocol = static_cast<IpsecProtocol>(proto);
  v.mode = static_cast<Mode>(mode);
  v.ip_version = static_cast<IpVersion>(ipv);
  get_bytes<B + sa::kOuterSrc>(s, v.outer_src);
  get_bytes<B + sa::kOuterDst>(s, v.outer_dst);
  v.encap_src_port = get<B + sa::kEncapSrcPort, std::uint16_t>(s);
  v.encap_dst_port = get<B + sa::kEncapDstPort, std::uint16_t>(s);
  v.encryption_id = get<B + sa::kEncryptionId, std::uint16_t>(s);
  v.encryption_key_bits = get<B + sa::kEncryptionKeyBits, std::uint16_t>(s);
  v.integrity_id = get<B + sa::kIntegrityId, std::uint16_t>(s);
  v.encryption_key_length = get<B + sa::kEncryptionKeyLength, std::uint8_t>(s);
  v.integrity_key_length = get<B + sa::kIntegrityKeyLength, std::uint8_t>(s);
  if (v.encryption_key_length > kMaxEncryptionKey) return bad(Field::encryption_key_length);
  if (v.integrity_key_length > kMaxIntegrityKey) return bad(Field::integrity_key_length);
  v.replay_window = get<B + sa::kReplayWindow, std::uint32_t>(s);
  v.esn = (flags & sa::kFlagEsn) != 0;
  v.udp_encap = (flags & sa::kFlagUdpEncap) != 0;
  v.df = static_cast<DfMode>(df);
  v.dscp_copy = (flags & sa::kFlagDscpCopy) != 0;
  v.ecn_propagate = (flags & sa::kFlagEcn) != 0;
  v.worker_hint = get<B + sa::kWorkerHint, std::uint16_t>(s);
  v.soft = {get<B + sa::kSoftBytes, std::uint64_t>(s), get<B + sa::kSoftPackets, std::uint64_t>(s)};
  v.hard = {get<B + sa::kHardBytes, std::uint64_t>(s), get<B + sa::kHardPackets, std::uint64_t>(s)};
  return ok_result();
}

// An SaRecord with the summary's fields and zero-filled keys of the
// summary's lengths: validate(SaRecord) checks lengths, not key contents.
SaRecord record_from(const SaSummary& v) {
  SaRecord r;
  r.sa_id = v.sa_id;
  r.spi = v.spi;
  r.direction = v.direction;
  r.protocol = v.protocol;
  r.mode = v.mode;
  r.ip_version = v.ip_version;
  r.outer_src = v.outer_src;
  r.outer_dst = v.outer_dst;
  r.udp_encap = v.udp_encap;
  r.encap_src_port = v.encap_src_port;
  r.encap_dst_port = v.encap_dst_port;
  r.encryption_id = v.encryption_id;
  r.encryption_key_bits = v.encryption_key_bits;
  r.integrity_id = v.integrity_id;
  r.encryption_key.length = v.encryption_key_length;
  r.integrity_key.length = v.integrity_key_length;
  r.replay_window = v.replay_window;
  r.esn = v.esn;
  r.soft = v.soft;
  r.hard = v.hard;
  r.df = v.df;
  r.dscp_copy = v.dscp_copy;
  r.ecn_propagate = v.ecn_propagate;
  r.worker_hint = v.worker_hint;
  return r;
}

constexpr std::size_t kSaKeyEnc = kPayload + sa::kEncryptionKey;
constexpr std::size_t kSaKeyInt = kPayload + sa::kIntegrityKey;

RecordError get_sa(const RecordSlot& s, SaRecord& out) {
  SaSummary summary;
  if (RecordError e = get_sa_summary<kPayload>(s, summary); failed(e)) return e;
  out = record_from(summary);
  // Key bytes past the key's length must be zero: one encoding per key,
  // and no stale key bytes from an earlier record ride along.
  if (!zero_range(s, kSaKeyEnc + summary.encryption_key_length, kSaKeyEnc + kMaxEncryptionKey)) {
    return reserved(Field::encryption_key);
  }
  if (!zero_range(s, kSaKeyInt + summary.integrity_key_length, kSaKeyInt + kMaxIntegrityKey)) {
    return reserved(Field::integrity_key);
  }
  get_bytes<kSaKeyEnc>(s, out.encryption_key.bytes);
  get_bytes<kSaKeyInt>(s, out.integrity_key.bytes);
  return validate(out);
}

// ---- Policy ------------------------------------------------------------

template <std::size_t B>
void put_policy(const PolicyRecord& v, RecordSlot& s) {
  put<B + policy::kPolicyId>(s, v.policy_id);
  put<B + policy::kSaId>(s, v.sa_id);
  put<B + policy::kPriority>(s, v.priority);
  put<B + policy::kDirection>(s, static_cast<std::uint8_t>(v.direction));
  put<B + policy::kAction>(s, static_cast<std::uint8_t>(v.action));
  put<B + policy::kIpProtocol>(s, v.ip_protocol);
  put<B + policy::kSrcFamily>(s, static_cast<std::uint8_t>(v.src.family));
  put<B + policy::kSrcLength>(s, v.src.length);
  put<B + policy::kDstFamily>(s, static_cast<std::uint8_t>(v.dst.family));
  put<B + policy::kDstLength>(s, v.dst.length);
  put<B + policy::kSrcPortLow>(s, v.src_ports.low);
  put<B + policy::kSrcPortHigh>(s, v.src_ports.high);
  put<B + policy::kDstPortLow>(s, v.dst_ports.low);
  put<B + policy::kDstPortHigh>(s, v.dst_ports.high);
  put_bytes<B + policy::kSrcAddress>(s, v.src.address);
  put_bytes<B + policy::kDstAddress>(s, v.dst.address);
}

template <std::size_t B>
RecordError get_policy(const RecordSlot& s, PolicyRecord& v) {
  const auto dir = get<B + policy::kDirection, std::uint8_t>(s);
  const auto action = get<B + policy::kAction, std::uint8_t>(s);
  const auto src_family = get<B + policy::kSrcFamily, std::uint8_t>(s);
  const auto dst_family = get<B + policy::kDstFamily, std::uint8_t>(s);
  if (!direction_ok(dir)) return bad(Field::direction);
  if (action < 1 || action > 4) return bad(Field::action);
  if (src_family != 4 && src_family != 6) return bad(Field::src_prefix);
  if (dst_family != 4 && dst_family != 6) return bad(Field::dst_prefix);
  if (get<B + policy::kReserved1, std::uint8_t>(s) != 0 ||
      get<B + policy::kReserved2, std::uint32_t>(s) != 0) {
    return reserved(Field::none);
  }
  v.policy_id = get<B + policy::kPolicyId, std::uint64_t>(s);
  v.sa_id = get<B + policy::kSaId, std::uint64_t>(s);
  v.priority = get<B + policy::kPriority, std::uint32_t>(s);
  v.direction = static_cast<Direction>(dir);
  v.action = static_cast<PolicyAction>(action);
  v.ip_protocol = get<B + policy::kIpProtocol, std::uint8_t>(s);
  v.src.family = static_cast<IpVersion>(src_family);
  v.src.length = get<B + policy::kSrcLength, std::uint8_t>(s);
  v.dst.family = static_cast<IpVersion>(dst_family);
  v.dst.length = get<B + policy::kDstLength, std::uint8_t>(s);
  v.src_ports = {get<B + policy::kSrcPortLow, std::uint16_t>(s),
                 get<B + policy::kSrcPortHigh, std::uint16_t>(s)};
  v.dst_ports = {get<B + policy::kDstPortLow, std::uint16_t>(s),
                 get<B + policy::kDstPortHigh, std::uint16_t>(s)};
  get_bytes<B + policy::kSrcAddress>(s, v.src.address);
  get_bytes<B + policy::kDstAddress>(s, v.dst.address);
  return validate(v);
}

constexpr std::size_t P = kPayload;  // shorthand for the small payloads below

}  // namespace

std::size_t payload_size(RecordType type) {
  switch (type) {
    case RecordType::add_sa:
    case RecordType::update_sa: return sa::kSize;
    case RecordType::delete_sa:
    case RecordType::delete_policy:
    case RecordType::flush:
    case RecordType::inventory_request: return 8;
    case RecordType::add_policy: return policy::kSize;
    case RecordType::heartbeat: return small::kHbSize;
    case RecordType::sa_soft_lifetime:
    case RecordType::sa_hard_lifetime: return small::kLtSize;
    case RecordType::seq_overflow: return small::kSoSize;
    case RecordType::counters: return small::kCtSize;
    case RecordType::replay_icv_summary: return small::kRsSize;
    case RecordType::heartbeat_ack: return small::kHaSize;
    case RecordType::inventory_sa: return small::kInvBody + sa::kSummarySize;
    case RecordType::inventory_policy: return small::kInvBody + policy::kSize;
    case RecordType::inventory_end: return small::kIeSize;
    case RecordType::command_result: return small::kCrSize;
    case RecordType::port_stats: return small::kPsSize;
    case RecordType::worker_stats: return small::kWsSize;
    case RecordType::acquire: return small::kAqSize;
  }
  return 0;
}

RecordHeader read_header(const RecordSlot& s) {
  return {get<kType, std::uint16_t>(s), get<kVersion, std::uint16_t>(s),
          get<kLength, std::uint32_t>(s), get<kSequence, std::uint64_t>(s)};
}

void set_sequence(RecordSlot& s, std::uint64_t sequence) { put<kSequence>(s, sequence); }

std::uint64_t read_object_id(const RecordSlot& s) { return get<P + small::kId, std::uint64_t>(s); }

bool carries_keys(std::uint16_t raw) {
  return raw == static_cast<std::uint16_t>(RecordType::add_sa) ||
         raw == static_cast<std::uint16_t>(RecordType::update_sa);
}

RecordError check_header(const RecordSlot& s, Ring ring) {
  const RecordHeader h = read_header(s);
  if (!is_known(h.type)) return {ResultCode::unknown_type, Field::none};
  const auto type = static_cast<RecordType>(h.type);
  if (ring_of(type) != ring) return {ResultCode::wrong_ring, Field::none};
  if (h.version != kRecordVersion) return {ResultCode::unknown_version, Field::none};
  if (h.length != payload_size(type)) return {ResultCode::bad_length, Field::none};
  if (!zero_range(s, kPayload + h.length, kRecordSize)) return reserved(Field::none);
  return ok_result();
}

// ---- Encoders ------------------------------------------------------------

void encode_sa(RecordType type, const SaRecord& v, RecordSlot& s) {
  start(s, type);
  put_sa_summary<P>(summarize(v), s);
  put_bytes<kSaKeyEnc>(s, v.encryption_key.bytes);
  put_bytes<kSaKeyInt>(s, v.integrity_key.bytes);
}
void encode(const DeleteSa& v, RecordSlot& s) { start(s, RecordType::delete_sa); put<P>(s, v.sa_id); }
void encode(const PolicyRecord& v, RecordSlot& s) { start(s, RecordType::add_policy); put_policy<P>(v, s); }
void encode(const DeletePolicy& v, RecordSlot& s) {
  start(s, RecordType::delete_policy);
  put<P>(s, v.policy_id);
}
void encode(const Flush& v, RecordSlot& s) { start(s, RecordType::flush); put<P>(s, v.control_generation); }
void encode(const Heartbeat& v, RecordSlot& s) {
  start(s, RecordType::heartbeat);
  put<P + small::kHbControlGeneration>(s, v.control_generation);
  put<P + small::kHbId>(s, v.heartbeat_id);
  put<P + small::kHbSentNs>(s, v.sent_ns);
}
void encode(const InventoryRequest& v, RecordSlot& s) {
  start(s, RecordType::inventory_request);
  put<P>(s, v.request_id);
}
void encode_lifetime(RecordType type, const LifetimeExpired& v, RecordSlot& s) {
  start(s, type);
  put<P + small::kLtSaId>(s, v.sa_id);
  put<P + small::kLtSpi>(s, v.spi);
  put<P + small::kLtDirection>(s, static_cast<std::uint8_t>(v.direction));
  put<P + small::kLtKind>(s, static_cast<std::uint8_t>(v.kind));
  put<P + small::kLtBytes>(s, v.bytes);
  put<P + small::kLtPackets>(s, v.packets);
}
void encode(const SeqOverflow& v, RecordSlot& s) {
  start(s, RecordType::seq_overflow);
  put<P + small::kSoSaId>(s, v.sa_id);
  put<P + small::kSoSpi>(s, v.spi);
  put<P + small::kSoLastSequence>(s, v.last_sequence);
}
void encode(const SaCounters& v, RecordSlot& s) {
  start(s, RecordType::counters);
  put<P + small::kCtSaId>(s, v.sa_id);
  put<P + small::kCtSpi>(s, v.spi);
  put<P + small::kCtDirection>(s, static_cast<std::uint8_t>(v.direction));
  put<P + small::kCtPackets>(s, v.packets);
  put<P + small::kCtBytes>(s, v.bytes);
  put<P + small::kCtReplayDrops>(s, v.replay_drops);
  put<P + small::kCtIcvFailures>(s, v.icv_failures);
  put<P + small::kCtMalformed>(s, v.malformed_drops);
  put<P + small::kCtLastPacketNs>(s, v.last_packet_ns);
}
void encode(const ReplayIcvSummary& v, RecordSlot& s) {
  start(s, RecordType::replay_icv_summary);
  put<P + small::kRsIntervalNs>(s, v.interval_ns);
  put<P + small::kRsReplayDrops>(s, v.replay_drops);
  put<P + small::kRsIcvFailures>(s, v.icv_failures);
  put<P + small::kRsWorstSaId>(s, v.worst_sa_id);
  put<P + small::kRsWorstSaDrops>(s, v.worst_sa_drops);
  put<P + small::kRsSasAffected>(s, v.sas_affected);
}
void encode(const HeartbeatAck& v, RecordSlot& s) {
  start(s, RecordType::heartbeat_ack);
  put<P + small::kHaGeneration>(s, v.dataplane_generation);
  put<P + small::kHaId>(s, v.heartbeat_id);
  put<P + small::kHaControlGeneration>(s, v.control_generation_seen);
  put<P + small::kHaSaCount>(s, v.sa_count);
  put<P + small::kHaPolicyCount>(s, v.policy_count);
}
void encode(const InventorySa& v, RecordSlot& s) {
  start(s, RecordType::inventory_sa);
  put<P + small::kInvRequestId>(s, v.request_id);
  put_sa_summary<P + small::kInvBody>(v.sa, s);
}
void encode(const InventoryPolicy& v, RecordSlot& s) {
  start(s, RecordType::inventory_policy);
  put<P + small::kInvRequestId>(s, v.request_id);
  put_policy<P + small::kInvBody>(v.policy, s);
}
void encode(const InventoryEnd& v, RecordSlot& s) {
  start(s, RecordType::inventory_end);
  put<P + small::kIeRequestId>(s, v.request_id);
  put<P + small::kIeGeneration>(s, v.dataplane_generation);
  put<P + small::kIeSaCount>(s, v.sa_count);
  put<P + small::kIePolicyCount>(s, v.policy_count);
}
void encode(const CommandResult& v, RecordSlot& s) {
  start(s, RecordType::command_result);
  put<P + small::kCrSequence>(s, v.command_sequence);
  put<P + small::kCrObjectId>(s, v.object_id);
  put<P + small::kCrType>(s, v.command_type);
  put<P + small::kCrCode>(s, static_cast<std::uint16_t>(v.code));
  put<P + small::kCrField>(s, static_cast<std::uint16_t>(v.field));
}

void encode(const PortStats& v, RecordSlot& s) {
  start(s, RecordType::port_stats);
  put<P + small::kPsPortId>(s, v.port_id);
  put<P + small::kPsLinkUp>(s, static_cast<std::uint8_t>(v.link_up ? 1 : 0));
  put<P + small::kPsSpeed>(s, v.link_speed_mbps);
  std::memcpy(s.bytes.data() + P + small::kPsName, v.name.data(), kPortNameSize);
  put<P + small::kPsIpackets>(s, v.ipackets);
  put<P + small::kPsOpackets>(s, v.opackets);
  put<P + small::kPsIbytes>(s, v.ibytes);
  put<P + small::kPsObytes>(s, v.obytes);
  put<P + small::kPsImissed>(s, v.imissed);
  put<P + small::kPsIerrors>(s, v.ierrors);
  put<P + small::kPsOerrors>(s, v.oerrors);
  put<P + small::kPsRxNombuf>(s, v.rx_nombuf);
  put<P + small::kPsSampledNs>(s, v.sampled_ns);
}
void encode(const WorkerStats& v, RecordSlot& s) {
  start(s, RecordType::worker_stats);
  put<P + small::kWsLcore>(s, v.lcore_id);
  put<P + small::kWsIndex>(s, v.worker_index);
  put<P + small::kWsRx>(s, v.rx);
  put<P + small::kWsTx>(s, v.tx);
  put<P + small::kWsProtectedOut>(s, v.protected_out);
  put<P + small::kWsDecapsulated>(s, v.decapsulated);
  put<P + small::kWsBypassed>(s, v.bypassed);
  put<P + small::kWsToMain>(s, v.to_main);
  put<P + small::kWsNatKeepalives>(s, v.nat_keepalives);
  put<P + small::kWsEngineDrops>(s, v.engine_drops);
  put<P + small::kWsPolls>(s, v.polls);
  put<P + small::kWsBusyPolls>(s, v.busy_polls);
  put<P + small::kWsSampledNs>(s, v.sampled_ns);
  std::memcpy(s.bytes.data() + P + small::kWsDrops, v.drops.data(), 8 * kMaxForwardDrops);
}

void encode(const Acquire& v, RecordSlot& s) {
  start(s, RecordType::acquire);
  put<P + small::kAqPolicyId>(s, v.policy_id);
  put<P + small::kAqFamily>(s, static_cast<std::uint8_t>(v.family));
  put<P + small::kAqProtocol>(s, v.ip_protocol);
  put<P + small::kAqSrcPort>(s, v.src_port);
  put<P + small::kAqDstPort>(s, v.dst_port);
  put_bytes<P + small::kAqSrc>(s, v.src);
  put_bytes<P + small::kAqDst>(s, v.dst);
}

// ---- Decoders ------------------------------------------------------------

Expected<Command, RecordError> decode_command(const RecordSlot& s) {
  if (RecordError e = check_header(s, Ring::command); failed(e)) return e;
  Command c;
  c.type = static_cast<RecordType>(get<kType, std::uint16_t>(s));
  c.sequence = get<kSequence, std::uint64_t>(s);
  const std::uint64_t id = get<P + small::kId, std::uint64_t>(s);
  switch (c.type) {
    case RecordType::add_sa:
    case RecordType::update_sa: {
      SaRecord& sa = c.body.emplace<SaRecord>();
      if (RecordError e = get_sa(s, sa); failed(e)) return e;
      break;
    }
    case RecordType::delete_sa:
      if (id == 0) return bad(Field::sa_id);
      c.body = DeleteSa{id};
      break;
    case RecordType::add_policy: {
      PolicyRecord& p = c.body.emplace<PolicyRecord>();
      if (RecordError e = get_policy<P>(s, p); failed(e)) return e;
      break;
    }
    case RecordType::delete_policy:
      if (id == 0) return bad(Field::policy_id);
      c.body = DeletePolicy{id};
      break;
    case RecordType::flush: c.body = Flush{id}; break;
    case RecordType::heartbeat:
      c.body = Heartbeat{get<P + small::kHbControlGeneration, std::uint64_t>(s),
                         get<P + small::kHbId, std::uint64_t>(s),
                         get<P + small::kHbSentNs, std::uint64_t>(s)};
      break;
    case RecordType::inventory_request:
      if (id == 0) return bad(Field::request_id);
      c.body = InventoryRequest{id};
      break;
    default: return RecordError{ResultCode::wrong_ring, Field::none};  // unreachable: header checked
  }
  return c;
}

namespace {

RecordError decode_event_body(const RecordSlot& s, RecordType type, Event& ev) {
  switch (type) {
    case RecordType::sa_soft_lifetime:
    case RecordType::sa_hard_lifetime: {
      const auto dir = get<P + small::kLtDirection, std::uint8_t>(s);
      const auto kind = get<P + small::kLtKind, std::uint8_t>(s);
      if (!direction_ok(dir)) return bad(Field::direction);
      if (kind != 1 && kind != 2) return bad(Field::lifetime_kind);
      if (get<P + small::kLtReserved, std::uint16_t>(s) != 0) return reserved(Field::none);
      LifetimeExpired v{get<P + small::kLtSaId, std::uint64_t>(s), get<P + small::kLtSpi, std::uint32_t>(s),
                        static_cast<Direction>(dir), static_cast<LifetimeKind>(kind),
                        get<P + small::kLtBytes, std::uint64_t>(s),
                        get<P + small::kLtPackets, std::uint64_t>(s)};
      if (v.sa_id == 0) return bad(Field::sa_id);
      ev.body = v;
      return ok_result();
    }
    case RecordType::seq_overflow: {
      if (get<P + small::kSoReserved, std::uint32_t>(s) != 0) return reserved(Field::none);
      SeqOverflow v{get<P + small::kSoSaId, std::uint64_t>(s), get<P + small::kSoSpi, std::uint32_t>(s),
                    get<P + small::kSoLastSequence, std::uint64_t>(s)};
      if (v.sa_id == 0) return bad(Field::sa_id);
      ev.body = v;
      return ok_result();
    }
    case RecordType::counters: {
      const auto dir = get<P + small::kCtDirection, std::uint8_t>(s);
      if (!direction_ok(dir)) return bad(Field::direction);
      if (!zero_range(s, P + small::kCtReserved, P + small::kCtPackets)) return reserved(Field::none);
      SaCounters v{get<P + small::kCtSaId, std::uint64_t>(s), get<P + small::kCtSpi, std::uint32_t>(s),
                   static_cast<Direction>(dir), get<P + small::kCtPackets, std::uint64_t>(s),
                   get<P + small::kCtBytes, std::uint64_t>(s),
                   get<P + small::kCtReplayDrops, std::uint64_t>(s),
                   get<P + small::kCtIcvFailures, std::uint64_t>(s),
                   get<P + small::kCtMalformed, std::uint64_t>(s),
                   get<P + small::kCtLastPacketNs, std::uint64_t>(s)};
      if (v.sa_id == 0) return bad(Field::sa_id);
      ev.body = v;
      return ok_result();
    }
    case RecordType::replay_icv_summary: {
      if (get<P + small::kRsReserved, std::uint32_t>(s) != 0) return reserved(Field::none);
      ReplayIcvSummary v{get<P + small::kRsIntervalNs, std::uint64_t>(s),
                         get<P + small::kRsReplayDrops, std::uint64_t>(s),
                         get<P + small::kRsIcvFailures, std::uint64_t>(s),
                         get<P + small::kRsWorstSaId, std::uint64_t>(s),
                         get<P + small::kRsWorstSaDrops, std::uint64_t>(s),
                         get<P + small::kRsSasAffected, std::uint32_t>(s)};
      if ((v.sas_affected == 0) != (v.worst_sa_id == 0)) return bad(Field::sa_id);
      ev.body = v;
      return ok_result();
    }
    case RecordType::heartbeat_ack: {
      HeartbeatAck v{get<P + small::kHaGeneration, std::uint64_t>(s), get<P + small::kHaId, std::uint64_t>(s),
                     get<P + small::kHaControlGeneration, std::uint64_t>(s),
                     get<P + small::kHaSaCount, std::uint32_t>(s),
                     get<P + small::kHaPolicyCount, std::uint32_t>(s)};
      if (v.dataplane_generation == 0) return bad(Field::none);
      ev.body = v;
      return ok_result();
    }
    case RecordType::inventory_sa: {
      InventorySa v;
      v.request_id = get<P + small::kInvRequestId, std::uint64_t>(s);
      if (v.request_id == 0) return bad(Field::request_id);
      if (RecordError e = get_sa_summary<P + small::kInvBody>(s, v.sa); failed(e)) return e;
      if (RecordError e = validate(record_from(v.sa)); failed(e)) return e;
      ev.body = v;
      return ok_result();
    }
    case RecordType::inventory_policy: {
      InventoryPolicy v;
      v.request_id = get<P + small::kInvRequestId, std::uint64_t>(s);
      if (v.request_id == 0) return bad(Field::request_id);
      if (RecordError e = get_policy<P + small::kInvBody>(s, v.policy); failed(e)) return e;
      ev.body = v;
      return ok_result();
    }
    case RecordType::inventory_end: {
      InventoryEnd v{get<P + small::kIeRequestId, std::uint64_t>(s),
                     get<P + small::kIeGeneration, std::uint64_t>(s),
                     get<P + small::kIeSaCount, std::uint32_t>(s),
                     get<P + small::kIePolicyCount, std::uint32_t>(s)};
      if (v.request_id == 0) return bad(Field::request_id);
      ev.body = v;
      return ok_result();
    }
    case RecordType::command_result: {
      const auto type_raw = get<P + small::kCrType, std::uint16_t>(s);
      const auto code = get<P + small::kCrCode, std::uint16_t>(s);
      const auto field = get<P + small::kCrField, std::uint16_t>(s);
      if (get<P + small::kCrReserved, std::uint16_t>(s) != 0) return reserved(Field::none);
      const bool code_known = (code >= 1 && code <= 7) || (code >= 16 && code <= 20);
      if (!code_known) return bad(Field::result_code);
      if (field > static_cast<std::uint16_t>(Field::link_up)) return bad(Field::none);
      ev.body = CommandResult{get<P + small::kCrSequence, std::uint64_t>(s),
                              get<P + small::kCrObjectId, std::uint64_t>(s), type_raw,
                              static_cast<ResultCode>(code), static_cast<Field>(field)};
      return ok_result();
    }
    case RecordType::port_stats: {
      if (get<P + small::kPsReserved, std::uint8_t>(s) != 0) return reserved(Field::none);
      const auto link = get<P + small::kPsLinkUp, std::uint8_t>(s);
      if (link > 1) return bad(Field::link_up);
      PortStats v;
      v.port_id = get<P + small::kPsPortId, std::uint16_t>(s);
      v.link_up = link == 1;
      v.link_speed_mbps = get<P + small::kPsSpeed, std::uint32_t>(s);
      std::memcpy(v.name.data(), s.bytes.data() + P + small::kPsName, kPortNameSize);
      // A name of 1-31 bytes without NUL, then NULs to the end: nothing
      // after the terminator, so the field has one reading.
      const auto n = v.name_view().size();
      if (n == 0 || n == kPortNameSize || !zero_range(s, P + small::kPsName + n, P + small::kPsIpackets))
        return bad(Field::port_name);
      v.ipackets = get<P + small::kPsIpackets, std::uint64_t>(s);
      v.opackets = get<P + small::kPsOpackets, std::uint64_t>(s);
      v.ibytes = get<P + small::kPsIbytes, std::uint64_t>(s);
      v.obytes = get<P + small::kPsObytes, std::uint64_t>(s);
      v.imissed = get<P + small::kPsImissed, std::uint64_t>(s);
      v.ierrors = get<P + small::kPsIerrors, std::uint64_t>(s);
      v.oerrors = get<P + small::kPsOerrors, std::uint64_t>(s);
      v.rx_nombuf = get<P + small::kPsRxNombuf, std::uint64_t>(s);
      v.sampled_ns = get<P + small::kPsSampledNs, std::uint64_t>(s);
      ev.body = v;
      return ok_result();
    }
    case RecordType::worker_stats: {
      if (get<P + small::kWsReserved, std::uint16_t>(s) != 0) return reserved(Field::none);
      WorkerStats v;
      v.lcore_id = get<P + small::kWsLcore, std::uint32_t>(s);
      v.worker_index = get<P + small::kWsIndex, std::uint16_t>(s);
      v.rx = get<P + small::kWsRx, std::uint64_t>(s);
      v.tx = get<P + small::kWsTx, std::uint64_t>(s);
      v.protected_out = get<P + small::kWsProtectedOut, std::uint64_t>(s);
      v.decapsulated = get<P + small::kWsDecapsulated, std::uint64_t>(s);
      v.bypassed = get<P + small::kWsBypassed, std::uint64_t>(s);
      v.to_main = get<P + small::kWsToMain, std::uint64_t>(s);
      v.nat_keepalives = get<P + small::kWsNatKeepalives, std::uint64_t>(s);
      v.engine_drops = get<P + small::kWsEngineDrops, std::uint64_t>(s);
      v.polls = get<P + small::kWsPolls, std::uint64_t>(s);
      v.busy_polls = get<P + small::kWsBusyPolls, std::uint64_t>(s);
      v.sampled_ns = get<P + small::kWsSampledNs, std::uint64_t>(s);
      std::memcpy(v.drops.data(), s.bytes.data() + P + small::kWsDrops, 8 * kMaxForwardDrops);
      if (v.busy_polls > v.polls) return bad(Field::none);
      // Reasons this build does not know must be zero: a newer dataplane's
      // counters are not silently folded into another name.
      for (std::size_t r = kForwardDropReasons; r < kMaxForwardDrops; ++r)
        if (v.drops[r] != 0) return reserved(Field::none);
      ev.body = v;
      return ok_result();
    }
    case RecordType::acquire: {
      if (get<P + small::kAqReserved, std::uint16_t>(s) != 0) return reserved(Field::none);
      Acquire v;
      v.policy_id = get<P + small::kAqPolicyId, std::uint64_t>(s);
      if (v.policy_id == 0) return bad(Field::policy_id);
      const auto family = get<P + small::kAqFamily, std::uint8_t>(s);
      if (family != 4 && family != 6) return bad(Field::ip_version);
      v.family = static_cast<IpVersion>(family);
      v.ip_protocol = get<P + small::kAqProtocol, std::uint8_t>(s);
      v.src_port = get<P + small::kAqSrcPort, std::uint16_t>(s);
      v.dst_port = get<P + small::kAqDstPort, std::uint16_t>(s);
      get_bytes<P + small::kAqSrc>(s, v.src);
      get_bytes<P + small::kAqDst>(s, v.dst);
      // An IPv4 address fills the first 4 bytes; the rest must be zero.
      if (v.family == IpVersion::v4 && (!zero_range(s, P + small::kAqSrc + 4, P + small::kAqDst) ||
                                        !zero_range(s, P + small::kAqDst + 4, P + small::kAqSize)))
        return reserved(Field::none);
      ev.body = v;
      return ok_result();
    }
    default: return {ResultCode::wrong_ring, Field::none};  // unreachable: header checked
  }
}

}  // namespace

Expected<Event, RecordError> decode_event(const RecordSlot& s) {
  if (RecordError e = check_header(s, Ring::event); failed(e)) return e;
  Event ev;
  ev.type = static_cast<RecordType>(get<kType, std::uint16_t>(s));
  ev.sequence = get<kSequence, std::uint64_t>(s);
  if (RecordError e = decode_event_body(s, ev.type, ev); failed(e)) return e;
  return ev;
}

}  // namespace corridor::channel
