// The SA channel's POSIX shared-memory segment: creation, opening,
// validation and per-side attachment. Layout in layout.h, protocol in
// docs/sa-channel.md.
//
// Creation is race-free: whichever process wins shm_open(O_CREAT|O_EXCL)
// sizes the object, initialises every field and publishes the magic last
// with a release store; everyone else opens the existing object and waits
// (bounded) for the magic with acquire loads, so nobody ever reads a
// half-initialised header. A segment that is not ours (wrong magic, layout
// version, sizes, impossible ring indices, foreign owner or group/world
// access) is refused with an Error whose message says what is wrong and how
// to fix it. The segment is never unlinked by a normal exit: it outlives
// either process, which is what lets the other side keep its state.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/channel/layout.h"
#include "common/channel/result.h"

namespace corridor::channel {

enum class Side : std::uint8_t { control, dataplane };
std::string_view to_string(Side side);

struct SegmentOptions {
  std::string name = kDefaultSegmentName;  // shm_open name: "/" + up to 254 chars, no other "/"
  std::uint32_t command_capacity = kDefaultRingCapacity;  // used only when creating
  std::uint32_t event_capacity = kDefaultRingCapacity;    // used only when creating
  std::chrono::milliseconds open_timeout{2000};  // wait for a concurrent creator's magic
  bool create = true;  // create the segment when it does not exist
};

class Segment {
 public:
  // Opens the segment, creating it when absent and options.create is set.
  static Expected<Segment> open(const SegmentOptions& options);
  // Removes the name (the memory lives on while mapped). For operators and
  // tests; a missing name is not an error.
  static Status unlink(std::string_view name);

  Segment(Segment&& other) noexcept;
  Segment& operator=(Segment&& other) noexcept;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();  // unmaps; does not detach a side (the endpoints do)

  // Claims `side` for this process: refuses when a live process holds it,
  // takes it over from a dead one, checks the ring indices (stable now that
  // we own our half of each ring) and increments the side's generation.
  // Returns the new generation.
  Expected<std::uint64_t> attach(Side side);
  // Gives the side up (pid 0) if this process holds it. The generation stays.
  void detach(Side side);

  SegmentHeader& header() const { return *header_; }
  SideBlock& side(Side s) const { return s == Side::control ? header_->control : header_->dataplane; }
  RecordSlot* command_slots() const;
  RecordSlot* event_slots() const;
  std::uint32_t command_capacity() const { return header_->geometry.command_capacity; }
  std::uint32_t event_capacity() const { return header_->geometry.event_capacity; }
  std::size_t size() const { return size_; }
  bool created() const { return created_; }  // this process created it
  bool locked() const { return locked_; }    // mlock succeeded: slots never swapped
  const std::string& name() const { return name_; }

 private:
  Segment(std::string name, void* base, std::size_t size, bool created);

  std::string name_;
  void* base_ = nullptr;
  std::size_t size_ = 0;
  SegmentHeader* header_ = nullptr;
  bool created_ = false;
  bool locked_ = false;
};

// Validators, usable on any mapped image (the fuzzer runs them on garbage).
// `base` must be 8-byte aligned. `name` only feeds the error messages.
//
// validate_geometry: magic, layout version, record size, capacities, slot
// offsets and the header's segment size against the real size.
Status validate_geometry(const void* base, std::size_t size, std::string_view name);
// validate_indices: for both rings, tail <= head <= tail + capacity, and the
// sequence counters agree (last applied < next to be produced). Exact when
// at most one of the two indices of each ring is moving, i.e. when the
// caller owns one side (see Segment::attach).
Status validate_indices(const SegmentHeader& header, std::string_view name);

// "/dev/shm/corridor" for "/corridor": where an operator finds the object.
std::string shm_path(std::string_view name);

}  // namespace corridor::channel
