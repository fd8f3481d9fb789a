// Byte layout of the SA channel's shared-memory segment, layout version 2.
//
// This header is the contract between corridor-control and
// corridor-dataplane; docs/sa-channel.md describes the same layout in prose
// and every offset below is pinned by a static_assert, so the two cannot
// drift apart silently. Any change to an offset, a size or the meaning of a
// field must bump kLayoutVersion: an old peer then refuses the segment with
// a clear message instead of misreading it.
//
//   offset  size  block
//   0       128   GeometryBlock   magic (published last), version, sizes, offsets
//   128     128   SideBlock       control side: generation, pid, heartbeat
//   256     128   SideBlock       dataplane side
//   384     128   ProducerBlock   command ring (control -> dataplane), producer half
//   512     128   ConsumerBlock   command ring, consumer half
//   640     128   ProducerBlock   event ring (dataplane -> control), producer half
//   768     128   ConsumerBlock   event ring, consumer half
//   4096    C*256 command slots
//   ...     E*256 event slots
//
// Every block is 128 bytes so that fields written by different processes
// never share a cache line or an adjacent-line-prefetch pair. Values are in
// host byte order: both processes run on the same host.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "common/channel/spsc_ring.h"

namespace corridor::channel {

// "CORRIDOR" read as a little-endian u64.
inline constexpr std::uint64_t kSegmentMagic = 0x524f444952524f43ULL;
inline constexpr std::uint32_t kLayoutVersion = 2;  // 2: trap policies, ACQUIRE, 18 drop reasons in WORKER_STATS
inline constexpr std::uint32_t kRecordSize = 256;
inline constexpr std::size_t kBlockSize = 128;
inline constexpr std::uint64_t kSlotsOffset = 4096;  // page-aligned slot arrays
inline constexpr std::uint32_t kDefaultRingCapacity = 4096;
inline constexpr std::uint32_t kMinRingCapacity = 16;
inline constexpr std::uint32_t kMaxRingCapacity = 1U << 20;
inline constexpr const char* kDefaultSegmentName = "/corridor";

// One ring slot: a fixed-size record (records.h gives the bytes meaning).
// Aligned so that a slot never straddles more cache lines than it must.
struct alignas(64) RecordSlot {
  std::array<std::uint8_t, kRecordSize> bytes;
};
static_assert(sizeof(RecordSlot) == kRecordSize);

// Written once by the creator before the magic is published, read-only after.
struct alignas(kBlockSize) GeometryBlock {
  std::atomic<std::uint64_t> magic;  // 0 until fully initialised, then kSegmentMagic
  std::uint32_t layout_version;
  std::uint32_t record_size;
  std::uint64_t segment_size;          // bytes, equals the shm object's size
  std::uint32_t command_capacity;      // slots, power of two
  std::uint32_t event_capacity;        // slots, power of two
  std::uint64_t command_slots_offset;  // from segment start
  std::uint64_t event_slots_offset;
  std::uint64_t created_ns;            // CLOCK_MONOTONIC of creation
  std::uint32_t creator_pid;
  std::uint32_t reserved;
};

// One per process side; written only by that side.
struct alignas(kBlockSize) SideBlock {
  std::atomic<std::uint64_t> generation;    // incremented on every attach
  std::atomic<std::uint64_t> pid;           // attached process, 0 when detached
  std::atomic<std::uint64_t> heartbeat_ns;  // CLOCK_MONOTONIC, refreshed while alive
  std::atomic<std::uint64_t> attach_ns;     // CLOCK_MONOTONIC of the latest attach
};

// Producer half of a ring; written only by the ring's producer.
struct alignas(kBlockSize) ProducerBlock {
  RingIndex head;                            // records published since creation
  std::atomic<std::uint64_t> next_sequence;  // sequence the next record gets (first is 1)
  std::atomic<std::uint64_t> produced;       // records pushed (statistic)
  std::atomic<std::uint64_t> stalls;         // pushes that found the ring full
  std::atomic<std::uint64_t> stall_ns;       // time spent waiting for room
  std::atomic<std::uint64_t> timeouts;       // pushes that gave up at their deadline
};

// Consumer half of a ring; written only by the ring's consumer.
struct alignas(kBlockSize) ConsumerBlock {
  RingIndex tail;                            // records released since creation
  std::atomic<std::uint64_t> last_sequence;  // highest sequence accepted (0: none)
  std::atomic<std::uint64_t> consumed;       // records read (statistic)
  std::atomic<std::uint64_t> gaps;           // sequence numbers missing
  std::atomic<std::uint64_t> duplicates;     // records skipped as already applied
  std::atomic<std::uint64_t> invalid;        // records that failed validation
};

struct SegmentHeader {
  GeometryBlock geometry;
  SideBlock control;
  SideBlock dataplane;
  ProducerBlock command_producer;
  ConsumerBlock command_consumer;
  ProducerBlock event_producer;
  ConsumerBlock event_consumer;
};

static_assert(sizeof(GeometryBlock) == kBlockSize && sizeof(SideBlock) == kBlockSize &&
              sizeof(ProducerBlock) == kBlockSize && sizeof(ConsumerBlock) == kBlockSize);
static_assert(offsetof(GeometryBlock, magic) == 0);
static_assert(offsetof(GeometryBlock, layout_version) == 8);
static_assert(offsetof(GeometryBlock, record_size) == 12);
static_assert(offsetof(GeometryBlock, segment_size) == 16);
static_assert(offsetof(GeometryBlock, command_capacity) == 24);
static_assert(offsetof(GeometryBlock, event_capacity) == 28);
static_assert(offsetof(GeometryBlock, command_slots_offset) == 32);
static_assert(offsetof(GeometryBlock, event_slots_offset) == 40);
static_assert(offsetof(GeometryBlock, created_ns) == 48);
static_assert(offsetof(GeometryBlock, creator_pid) == 56);
static_assert(offsetof(SideBlock, generation) == 0 && offsetof(SideBlock, pid) == 8 &&
              offsetof(SideBlock, heartbeat_ns) == 16 && offsetof(SideBlock, attach_ns) == 24);
static_assert(offsetof(ProducerBlock, head) == 0 && offsetof(ProducerBlock, next_sequence) == 8 &&
              offsetof(ProducerBlock, produced) == 16 && offsetof(ProducerBlock, stalls) == 24 &&
              offsetof(ProducerBlock, stall_ns) == 32 && offsetof(ProducerBlock, timeouts) == 40);
static_assert(offsetof(ConsumerBlock, tail) == 0 && offsetof(ConsumerBlock, last_sequence) == 8 &&
              offsetof(ConsumerBlock, consumed) == 16 && offsetof(ConsumerBlock, gaps) == 24 &&
              offsetof(ConsumerBlock, duplicates) == 32 && offsetof(ConsumerBlock, invalid) == 40);
static_assert(offsetof(SegmentHeader, control) == 128);
static_assert(offsetof(SegmentHeader, dataplane) == 256);
static_assert(offsetof(SegmentHeader, command_producer) == 384);
static_assert(offsetof(SegmentHeader, command_consumer) == 512);
static_assert(offsetof(SegmentHeader, event_producer) == 640);
static_assert(offsetof(SegmentHeader, event_consumer) == 768);
static_assert(sizeof(SegmentHeader) == 896 && sizeof(SegmentHeader) <= kSlotsOffset);

// Where the slot arrays go and how big the whole segment is, for given ring
// capacities. Both the creator and every validator use this one function.
struct SegmentGeometry {
  std::uint64_t command_slots_offset;
  std::uint64_t event_slots_offset;
  std::uint64_t segment_size;
};

constexpr SegmentGeometry compute_geometry(std::uint32_t command_capacity,
                                           std::uint32_t event_capacity) {
  const std::uint64_t command_bytes = std::uint64_t{command_capacity} * kRecordSize;
  const std::uint64_t event_bytes = std::uint64_t{event_capacity} * kRecordSize;
  return {kSlotsOffset, kSlotsOffset + command_bytes, kSlotsOffset + command_bytes + event_bytes};
}

static_assert(compute_geometry(kDefaultRingCapacity, kDefaultRingCapacity).segment_size ==
              4096 + 2 * 4096 * 256);

}  // namespace corridor::channel
