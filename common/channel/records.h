// Records of the SA channel: what control tells the dataplane (commands) and
// what the dataplane tells control (events), as process-local C++ values.
//
// The byte layout of each record inside a 256-byte ring slot is in
// record_codec.h / docs/sa-channel.md; these structs are never cast onto
// slot bytes. Every record starts with the common header
//   type u16 | version u16 | length u32 | sequence u64
// followed by a fixed-length payload for its type.
//
// Numbering: command types are 0x01.., event types 0x81.., so a record that
// turns up on the wrong ring is recognisable. Protocol numbers use IANA
// values where one exists (ESP 50 / AH 51, IKEv2 transform IDs, IP
// protocol numbers) so that a log line reads the same as a packet capture.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/channel/forward_drop.h"
#include "common/channel/layout.h"

namespace corridor::channel {

inline constexpr std::uint16_t kRecordVersion = 1;  // of every record type in layout version 2
inline constexpr std::size_t kRecordHeaderSize = 16;
inline constexpr std::size_t kMaxPayloadSize = kRecordSize - kRecordHeaderSize;  // 240

enum class RecordType : std::uint16_t {
  // Commands: control -> dataplane.
  add_sa = 0x01,
  update_sa = 0x02,
  delete_sa = 0x03,
  add_policy = 0x04,  // add, or replace the policy with the same id
  delete_policy = 0x05,
  flush = 0x06,
  heartbeat = 0x07,
  inventory_request = 0x08,
  // Events: dataplane -> control.
  sa_soft_lifetime = 0x81,
  sa_hard_lifetime = 0x82,
  seq_overflow = 0x83,
  counters = 0x84,
  replay_icv_summary = 0x85,
  heartbeat_ack = 0x86,
  inventory_sa = 0x87,
  inventory_policy = 0x88,
  inventory_end = 0x89,
  command_result = 0x8a,
  port_stats = 0x8b,
  worker_stats = 0x8c,
  acquire = 0x8d,
};

enum class Ring : std::uint8_t { command, event };

std::string_view to_string(RecordType type);
bool is_known(std::uint16_t raw_type);
Ring ring_of(RecordType type);

// Why a record was refused: by the validator (malformed) or by the
// dataplane when applying it. Carried in COMMAND_RESULT; values are part of
// the protocol.
enum class ResultCode : std::uint16_t {
  ok = 0,
  unknown_type = 1,      // type field is no record type we know
  wrong_ring = 2,        // an event on the command ring or vice versa
  unknown_version = 3,   // record version this build does not speak
  bad_length = 4,        // length field differs from the type's payload size
  bad_field = 5,         // a field is out of range or inconsistent (see Field)
  reserved_not_zero = 6, // reserved bytes or bytes past the payload are not zero
  bad_sequence = 7,      // sequence number beyond what the producer has issued
  sa_exists = 16,        // ADD_SA for an id that is installed
  sa_unknown = 17,       // UPDATE_SA / DELETE_SA / protect policy for an unknown id
  policy_unknown = 18,   // DELETE_POLICY for an unknown id
  rejected = 19,         // the SA table refused it (unsupported algorithm, ...)
  table_full = 20,       // the SA or policy table has no room
};
std::string_view to_string(ResultCode code);

// The field a ResultCode::bad_field is about. Part of the protocol.
enum class Field : std::uint16_t {
  none = 0,
  sa_id = 1,
  spi = 2,
  direction = 3,
  protocol = 4,
  mode = 5,
  ip_version = 6,
  outer_src = 7,
  outer_dst = 8,
  udp_encap_ports = 9,
  encryption_id = 10,
  encryption_key_bits = 11,
  encryption_key_length = 12,
  encryption_key = 13,
  integrity_id = 14,
  integrity_key_length = 15,
  integrity_key = 16,
  replay_window = 17,
  lifetime = 18,
  flags = 19,
  policy_id = 20,
  action = 21,
  priority = 22,
  src_prefix = 23,
  dst_prefix = 24,
  ip_protocol = 25,
  src_ports = 26,
  dst_ports = 27,
  policy_sa_id = 28,
  lifetime_kind = 29,
  command_type = 30,
  result_code = 31,
  request_id = 32,
  port_name = 33,
  link_up = 34,
};
std::string_view to_string(Field field);

enum class Direction : std::uint8_t { inbound = 1, outbound = 2 };
enum class IpsecProtocol : std::uint8_t { esp = 50, ah = 51 };  // IANA protocol numbers
enum class Mode : std::uint8_t { transport = 1, tunnel = 2 };
enum class IpVersion : std::uint8_t { v4 = 4, v6 = 6 };
// Outer DF bit in tunnel mode (RFC 4301 §8.1): copy from inner, set, clear.
enum class DfMode : std::uint8_t { copy = 0, set = 1, clear = 2 };
// trap: outbound only, no SA. A packet it catches is dropped (counted as
// ForwardDrop::trapped) and reported in an ACQUIRE, so that control
// negotiates the SA that will carry the next ones (strongSwan's
// start_action=trap, the kernel's XFRM acquire).
enum class PolicyAction : std::uint8_t { protect = 1, bypass = 2, discard = 3, trap = 4 };
enum class LifetimeKind : std::uint8_t { bytes = 1, packets = 2 };

std::string_view to_string(Direction v);
std::string_view to_string(IpsecProtocol v);
std::string_view to_string(Mode v);
std::string_view to_string(PolicyAction v);

// Overwrites memory in a way the compiler may not elide (key hygiene).
void secure_zero(void* p, std::size_t n);

// Key bytes plus their length; wiped when destroyed. Never printed.
template <std::size_t N>
struct KeyMaterial {
  static constexpr std::size_t kMax = N;
  std::array<std::uint8_t, N> bytes{};
  std::uint8_t length = 0;

  KeyMaterial() = default;
  KeyMaterial(const KeyMaterial&) = default;
  KeyMaterial& operator=(const KeyMaterial&) = default;
  ~KeyMaterial() { secure_zero(bytes.data(), bytes.size()); }

  // False (and nothing stored) when the key is longer than N.
  bool assign(std::span<const std::uint8_t> key) {
    if (key.size() > N) return false;
    bytes.fill(0);
    for (std::size_t i = 0; i < key.size(); ++i) bytes[i] = key[i];
    length = static_cast<std::uint8_t>(key.size());
    return true;
  }
  std::span<const std::uint8_t> view() const { return {bytes.data(), length}; }
  friend bool operator==(const KeyMaterial&, const KeyMaterial&) = default;
};

// Limits carried by the protocol (not the dataplane's own limits).
inline constexpr std::size_t kMaxEncryptionKey = 36;  // AES-256 key + 4-byte salt (RFC 4106)
inline constexpr std::size_t kMaxIntegrityKey = 64;   // HMAC-SHA2-512 (RFC 4868)
// The largest anti-replay window the packet engine keeps (the config
// allows the same): dataplane/ipsec/replay.h ReplayWindow::kMaxWindow.
inline constexpr std::uint32_t kMaxReplayWindow = 16384;  // packets

struct Lifetime {
  std::uint64_t bytes = 0;    // 0: no limit
  std::uint64_t packets = 0;  // 0: no limit
  friend bool operator==(const Lifetime&, const Lifetime&) = default;
};

// Everything the packet engine needs to run one SA.
struct SaRecord {
  std::uint64_t sa_id = 0;  // chosen by control, unique, never 0
  std::uint32_t spi = 0;    // network-order value as a number; 0..255 reserved (RFC 4303 §2.1)
  Direction direction = Direction::outbound;
  IpsecProtocol protocol = IpsecProtocol::esp;
  Mode mode = Mode::tunnel;
  IpVersion ip_version = IpVersion::v4;  // of the outer header
  std::array<std::uint8_t, 16> outer_src{};  // IPv4 in the first 4 bytes, rest zero
  std::array<std::uint8_t, 16> outer_dst{};
  bool udp_encap = false;        // NAT-T (RFC 3948), ESP only
  std::uint16_t encap_src_port = 0;
  std::uint16_t encap_dst_port = 0;
  std::uint16_t encryption_id = 0;        // IKEv2 ENCR transform ID; 0 for AH
  std::uint16_t encryption_key_bits = 0;  // Key Length attribute (without salt)
  std::uint16_t integrity_id = 0;         // IKEv2 INTEG transform ID; 0 (NONE) with AEAD
  KeyMaterial<kMaxEncryptionKey> encryption_key;  // includes salt/nonce for GCM/CCM/ChaCha
  KeyMaterial<kMaxIntegrityKey> integrity_key;
  std::uint32_t replay_window = 0;  // packets, inbound; 0 disables anti-replay
  bool esn = false;                 // 64-bit extended sequence numbers (RFC 4303 §2.2.1)
  Lifetime soft;
  Lifetime hard;
  DfMode df = DfMode::copy;
  bool dscp_copy = true;      // copy DSCP between inner and outer (RFC 4301 §5.1.2.1)
  bool ecn_propagate = true;  // RFC 6040 normal mode
  std::uint16_t worker_hint = 0;  // owning worker for outbound; 0 = any
  friend bool operator==(const SaRecord&, const SaRecord&) = default;
};

// An SA as the dataplane reports it in its inventory: no key bytes.
struct SaSummary {
  std::uint64_t sa_id = 0;
  std::uint32_t spi = 0;
  Direction direction = Direction::outbound;
  IpsecProtocol protocol = IpsecProtocol::esp;
  Mode mode = Mode::tunnel;
  IpVersion ip_version = IpVersion::v4;
  std::array<std::uint8_t, 16> outer_src{};
  std::array<std::uint8_t, 16> outer_dst{};
  bool udp_encap = false;
  std::uint16_t encap_src_port = 0;
  std::uint16_t encap_dst_port = 0;
  std::uint16_t encryption_id = 0;
  std::uint16_t encryption_key_bits = 0;
  std::uint16_t integrity_id = 0;
  std::uint8_t encryption_key_length = 0;
  std::uint8_t integrity_key_length = 0;
  std::uint32_t replay_window = 0;
  bool esn = false;
  Lifetime soft;
  Lifetime hard;
  DfMode df = DfMode::copy;
  bool dscp_copy = true;
  bool ecn_propagate = true;
  std::uint16_t worker_hint = 0;
  friend bool operator==(const SaSummary&, const SaSummary&) = default;
};
SaSummary summarize(const SaRecord& sa);

struct Prefix {
  IpVersion family = IpVersion::v4;
  std::uint8_t length = 0;  // bits; host bits of `address` must be zero
  std::array<std::uint8_t, 16> address{};
  friend bool operator==(const Prefix&, const Prefix&) = default;
};

struct PortRange {
  std::uint16_t low = 0;
  std::uint16_t high = 65535;
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

struct PolicyRecord {
  std::uint64_t policy_id = 0;  // chosen by control, unique, never 0
  Direction direction = Direction::outbound;
  PolicyAction action = PolicyAction::protect;
  std::uint32_t priority = 0;  // lower value wins, as in strongSwan/XFRM
  Prefix src;
  Prefix dst;
  std::uint8_t ip_protocol = 0;  // IANA protocol number; 0 = any
  PortRange src_ports;
  PortRange dst_ports;
  std::uint64_t sa_id = 0;  // protect: the SA to use; otherwise 0
  friend bool operator==(const PolicyRecord&, const PolicyRecord&) = default;
};

// Command payloads without a struct of their own above.
struct DeleteSa { std::uint64_t sa_id = 0; };
struct DeletePolicy { std::uint64_t policy_id = 0; };
struct Flush { std::uint64_t control_generation = 0; };
struct Heartbeat {
  std::uint64_t control_generation = 0;
  std::uint64_t heartbeat_id = 0;
  std::uint64_t sent_ns = 0;  // CLOCK_MONOTONIC
};
struct InventoryRequest { std::uint64_t request_id = 0; };

// Event payloads.
struct LifetimeExpired {  // SA_SOFT_LIFETIME / SA_HARD_LIFETIME
  std::uint64_t sa_id = 0;
  std::uint32_t spi = 0;
  Direction direction = Direction::outbound;
  LifetimeKind kind = LifetimeKind::bytes;  // which limit was reached
  std::uint64_t bytes = 0;    // processed so far
  std::uint64_t packets = 0;
};
struct SeqOverflow {  // outbound sequence number space exhausted (RFC 4303 §3.3.3)
  std::uint64_t sa_id = 0;
  std::uint32_t spi = 0;
  std::uint64_t last_sequence = 0;
};
struct SaCounters {
  std::uint64_t sa_id = 0;
  std::uint32_t spi = 0;
  Direction direction = Direction::outbound;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t replay_drops = 0;
  std::uint64_t icv_failures = 0;
  std::uint64_t malformed_drops = 0;  // bad padding, truncated, wrong next header
  std::uint64_t last_packet_ns = 0;   // CLOCK_MONOTONIC; 0: no packet yet
};
struct ReplayIcvSummary {  // all SAs over one reporting interval
  std::uint64_t interval_ns = 0;
  std::uint64_t replay_drops = 0;
  std::uint64_t icv_failures = 0;
  std::uint64_t worst_sa_id = 0;  // SA with the most drops+failures; 0 if none
  std::uint64_t worst_sa_drops = 0;
  std::uint32_t sas_affected = 0;
};
struct HeartbeatAck {
  std::uint64_t dataplane_generation = 0;
  std::uint64_t heartbeat_id = 0;             // echoed
  std::uint64_t control_generation_seen = 0;  // echoed from the HEARTBEAT
  std::uint32_t sa_count = 0;
  std::uint32_t policy_count = 0;
};
// One port's counters as the PMD keeps them (rte_eth_stats), sent by the
// main lcore once per reporting interval (docs/sa-channel.md). Cumulative
// since the dataplane started; control shows the latest.
inline constexpr std::size_t kPortNameSize = 64;  // NUL-padded: 1-63 bytes of name (RTE_DEV_NAME_MAX_LEN)
struct PortStats {
  std::uint16_t port_id = 0;  // DPDK's
  bool link_up = false;
  std::uint32_t link_speed_mbps = 0;  // 0: unknown
  std::array<char, kPortNameSize> name{};  // the config's port name (its DPDK device)
  std::uint64_t ipackets = 0;
  std::uint64_t opackets = 0;
  std::uint64_t ibytes = 0;
  std::uint64_t obytes = 0;
  std::uint64_t imissed = 0;    // the NIC had no RX descriptor: the lcore did not keep up
  std::uint64_t ierrors = 0;
  std::uint64_t oerrors = 0;
  std::uint64_t rx_nombuf = 0;  // no mbuf for a received frame
  std::uint64_t sampled_ns = 0;  // CLOCK_MONOTONIC

  std::string_view name_view() const;
  // False if `n` does not fit (empty, or kPortNameSize bytes or more).
  bool set_name(std::string_view n);
};
// One forwarding lcore's counters (dataplane/forward/counters.h), sent
// with the port stats.
struct WorkerStats {
  std::uint32_t lcore_id = 0;
  std::uint16_t worker_index = 0;  // 0..workers-1
  std::uint64_t rx = 0;
  std::uint64_t tx = 0;
  std::uint64_t protected_out = 0;
  std::uint64_t decapsulated = 0;
  std::uint64_t bypassed = 0;
  std::uint64_t to_main = 0;
  std::uint64_t nat_keepalives = 0;
  std::uint64_t engine_drops = 0;  // ESP/AH drops; by reason in each SA's COUNTERS
  std::uint64_t polls = 0;         // RX polls of its ports
  std::uint64_t busy_polls = 0;    // of them, polls that found frames
  std::uint64_t sampled_ns = 0;    // CLOCK_MONOTONIC
  std::array<std::uint64_t, kMaxForwardDrops> drops{};  // by ForwardDrop; unused entries zero
};
// A packet hit a trap policy (PolicyAction::trap): the policy and the
// packet's selectors (RFC 7296 §2.9: the initiator may put the packet's
// own addresses first). Rate-limited per policy by the dataplane.
struct Acquire {
  std::uint64_t policy_id = 0;
  IpVersion family = IpVersion::v4;
  std::uint8_t ip_protocol = 0;
  std::uint16_t src_port = 0;  // 0 when the protocol has none (ICMP: type/code are not ports here)
  std::uint16_t dst_port = 0;
  std::array<std::uint8_t, 16> src{};  // IPv4 in the first 4 bytes, rest zero
  std::array<std::uint8_t, 16> dst{};
  friend bool operator==(const Acquire&, const Acquire&) = default;
};
struct InventorySa {
  std::uint64_t request_id = 0;
  SaSummary sa;
};
struct InventoryPolicy {
  std::uint64_t request_id = 0;
  PolicyRecord policy;
};
struct InventoryEnd {
  std::uint64_t request_id = 0;
  std::uint64_t dataplane_generation = 0;
  std::uint32_t sa_count = 0;
  std::uint32_t policy_count = 0;
};
struct CommandResult {
  std::uint64_t command_sequence = 0;  // the refused command
  std::uint64_t object_id = 0;         // its SA or policy id, when readable
  std::uint16_t command_type = 0;      // raw: the refused record's type may be unknown
  ResultCode code = ResultCode::ok;
  Field field = Field::none;
};

// What a validator found wrong: the code and the field it is about.
struct RecordError {
  ResultCode code = ResultCode::ok;
  Field field = Field::none;
};

// Semantic checks shared by the producer (before queueing) and the
// consumer (after decoding). ResultCode::ok when valid.
RecordError validate(const SaRecord& sa);
RecordError validate(const PolicyRecord& policy);

}  // namespace corridor::channel
