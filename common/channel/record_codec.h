// Byte layout of records in a 256-byte slot, and the encoders/decoders.
//
// Fields are copied in and out one by one at the offsets below (memcpy of
// host-order integers; both processes share a host), never by casting a
// struct onto the slot. Offsets are compile-time constants and every access
// is bounds-checked at compile time (see put/get in record_codec.cc).
//
// A decoder trusts nothing: type known and on the right ring, version known,
// length equal to the type's payload size, every enum in range, reserved
// bytes and every byte past the payload zero, key bytes past the key length
// zero, then the semantic checks of records.h. Any failure is a
// RecordError naming the code and the field; nothing is undefined.
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>

#include "common/channel/records.h"
#include "common/channel/result.h"

namespace corridor::channel {

namespace wire {

// Common header, at slot offset 0.
inline constexpr std::size_t kType = 0;      // u16 RecordType
inline constexpr std::size_t kVersion = 2;   // u16 record version
inline constexpr std::size_t kLength = 4;    // u32 payload length in bytes
inline constexpr std::size_t kSequence = 8;  // u64 producer's sequence number
inline constexpr std::size_t kPayload = 16;

// SA fields, relative to where the SA starts (payload offset 0 in
// ADD_SA/UPDATE_SA, 8 in INVENTORY_SA, which stops before the keys).
namespace sa {
inline constexpr std::size_t kSaId = 0;                 // u64
inline constexpr std::size_t kSpi = 8;                  // u32
inline constexpr std::size_t kDirection = 12;           // u8 Direction
inline constexpr std::size_t kProtocol = 13;            // u8 IpsecProtocol
inline constexpr std::size_t kMode = 14;                // u8 Mode
inline constexpr std::size_t kIpVersion = 15;           // u8 4 or 6
inline constexpr std::size_t kOuterSrc = 16;            // 16 bytes
inline constexpr std::size_t kOuterDst = 32;            // 16 bytes
inline constexpr std::size_t kEncapSrcPort = 48;        // u16
inline constexpr std::size_t kEncapDstPort = 50;        // u16
inline constexpr std::size_t kEncryptionId = 52;        // u16
inline constexpr std::size_t kEncryptionKeyBits = 54;   // u16
inline constexpr std::size_t kIntegrityId = 56;         // u16
inline constexpr std::size_t kEncryptionKeyLength = 58; // u8
inline constexpr std::size_t kIntegrityKeyLength = 59;  // u8
inline constexpr std::size_t kReplayWindow = 60;        // u32
inline constexpr std::size_t kFlags = 64;               // u32, bits below
inline constexpr std::size_t kWorkerHint = 68;          // u16
inline constexpr std::size_t kReserved = 70;            // u16, zero
inline constexpr std::size_t kSoftBytes = 72;           // u64
inline constexpr std::size_t kSoftPackets = 80;         // u64
inline constexpr std::size_t kHardBytes = 88;           // u64
inline constexpr std::size_t kHardPackets = 96;         // u64
inline constexpr std::size_t kSummarySize = 104;        // end of the key-free part
inline constexpr std::size_t kEncryptionKey = 104;      // 36 bytes
inline constexpr std::size_t kIntegrityKey = 140;       // 64 bytes
inline constexpr std::size_t kSize = 204;

inline constexpr std::uint32_t kFlagEsn = 1U << 0;
inline constexpr std::uint32_t kFlagUdpEncap = 1U << 1;
inline constexpr unsigned kDfShift = 2;                  // 2 bits: DfMode
inline constexpr std::uint32_t kDfMask = 3U << kDfShift;
inline constexpr std::uint32_t kFlagDscpCopy = 1U << 4;
inline constexpr std::uint32_t kFlagEcn = 1U << 5;
inline constexpr std::uint32_t kFlagsKnown = 0x3f;
static_assert(kEncryptionKey + kMaxEncryptionKey == kIntegrityKey);
static_assert(kIntegrityKey + kMaxIntegrityKey == kSize);
}  // namespace sa

// Policy fields, relative to where the policy starts (payload offset 0 in
// ADD_POLICY, 8 in INVENTORY_POLICY).
namespace policy {
inline constexpr std::size_t kPolicyId = 0;     // u64
inline constexpr std::size_t kSaId = 8;         // u64
inline constexpr std::size_t kPriority = 16;    // u32
inline constexpr std::size_t kDirection = 20;   // u8
inline constexpr std::size_t kAction = 21;      // u8 PolicyAction
inline constexpr std::size_t kIpProtocol = 22;  // u8
inline constexpr std::size_t kReserved1 = 23;   // u8, zero
inline constexpr std::size_t kSrcFamily = 24;   // u8 4 or 6
inline constexpr std::size_t kSrcLength = 25;   // u8
inline constexpr std::size_t kDstFamily = 26;   // u8
inline constexpr std::size_t kDstLength = 27;   // u8
inline constexpr std::size_t kSrcPortLow = 28;  // u16
inline constexpr std::size_t kSrcPortHigh = 30; // u16
inline constexpr std::size_t kDstPortLow = 32;  // u16
inline constexpr std::size_t kDstPortHigh = 34; // u16
inline constexpr std::size_t kReserved2 = 36;   // u32, zero
inline constexpr std::size_t kSrcAddress = 40;  // 16 bytes
inline constexpr std::size_t kDstAddress = 56;  // 16 bytes
inline constexpr std::size_t kSize = 72;
}  // namespace policy

}  // namespace wire

// Payload size of each record type (record version 1); 0 for unknown types.
std::size_t payload_size(RecordType type);

struct RecordHeader {
  std::uint16_t type = 0;  // raw: may be unknown
  std::uint16_t version = 0;
  std::uint32_t length = 0;
  std::uint64_t sequence = 0;
};
RecordHeader read_header(const RecordSlot& slot);
void set_sequence(RecordSlot& slot, std::uint64_t sequence);
// The u64 at payload offset 0: the SA or policy id of object commands.
std::uint64_t read_object_id(const RecordSlot& slot);
// True for record types whose slot carries key material (ADD_SA, UPDATE_SA).
bool carries_keys(std::uint16_t raw_type);

// Encoders. Each zeroes the whole slot, then writes the header (sequence 0,
// stamped when pushed) and the payload. Callers validate records first.
void encode_sa(RecordType type, const SaRecord& sa, RecordSlot& slot);  // ADD_SA / UPDATE_SA
void encode(const DeleteSa& v, RecordSlot& slot);
void encode(const PolicyRecord& v, RecordSlot& slot);  // ADD_POLICY
void encode(const DeletePolicy& v, RecordSlot& slot);
void encode(const Flush& v, RecordSlot& slot);
void encode(const Heartbeat& v, RecordSlot& slot);
void encode(const InventoryRequest& v, RecordSlot& slot);
void encode_lifetime(RecordType type, const LifetimeExpired& v, RecordSlot& slot);  // SOFT/HARD
void encode(const SeqOverflow& v, RecordSlot& slot);
void encode(const SaCounters& v, RecordSlot& slot);
void encode(const ReplayIcvSummary& v, RecordSlot& slot);
void encode(const HeartbeatAck& v, RecordSlot& slot);
void encode(const PortStats& v, RecordSlot& slot);
void encode(const WorkerStats& v, RecordSlot& slot);
void encode(const Acquire& v, RecordSlot& slot);
void encode(const InventorySa& v, RecordSlot& slot);
void encode(const InventoryPolicy& v, RecordSlot& slot);
void encode(const InventoryEnd& v, RecordSlot& slot);
void encode(const CommandResult& v, RecordSlot& slot);

// A decoded command; `type` tells ADD_SA from UPDATE_SA. The body starts
// empty (monostate) so that decoding a small command never constructs, and
// wipes, an SaRecord's key buffers.
struct Command {
  RecordType type = RecordType::flush;
  std::uint64_t sequence = 0;
  std::variant<std::monostate, SaRecord, DeleteSa, PolicyRecord, DeletePolicy, Flush, Heartbeat,
               InventoryRequest>
      body;
};

// A decoded event; `type` tells SOFT from HARD lifetime.
struct Event {
  RecordType type = RecordType::heartbeat_ack;
  std::uint64_t sequence = 0;
  std::variant<LifetimeExpired, SeqOverflow, SaCounters, ReplayIcvSummary, HeartbeatAck,
               InventorySa, InventoryPolicy, InventoryEnd, CommandResult, PortStats, WorkerStats, Acquire>
      body;
};

Expected<Command, RecordError> decode_command(const RecordSlot& slot);
Expected<Event, RecordError> decode_event(const RecordSlot& slot);
// Header checks only (type, ring, version, length, bytes past the payload).
RecordError check_header(const RecordSlot& slot, Ring ring);

}  // namespace corridor::channel
