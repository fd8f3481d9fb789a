#include "common/channel/segment.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <new>
#include <thread>

#include "common/channel/backoff.h"

namespace corridor::channel {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// The fix every "this segment is not usable" message ends with.
std::string remove_hint(std::string_view name) {
  return "stop both corridor processes and remove " + shm_path(name);
}

std::string hex64(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

Status validate_name(std::string_view name) {
  // POSIX leaves names without a single leading '/' implementation-defined.
  if (name.size() < 2 || name.front() != '/' || name.find('/', 1) != std::string_view::npos ||
      name.size() > NAME_MAX) {
    return make_error(Errc::invalid_argument,
                      "channel name '" + std::string(name) +
                          "' is not a valid shared memory name: use '/' followed by up to 254 "
                          "characters without '/', e.g. \"/corridor\"");
  }
  return {};
}

Status validate_capacity(std::string_view ring, std::uint64_t capacity) {
  if (!is_power_of_two(capacity) || capacity < kMinRingCapacity || capacity > kMaxRingCapacity) {
    return make_error(Errc::invalid_argument,
                      std::string(ring) + " ring capacity " + std::to_string(capacity) +
                          " is not a power of two between " + std::to_string(kMinRingCapacity) +
                          " and " + std::to_string(kMaxRingCapacity));
  }
  return {};
}

bool pid_alive(std::uint64_t pid) {
  if (pid == 0 || pid > static_cast<std::uint64_t>(INT_MAX)) return false;
  // EPERM: the process exists but belongs to someone else; still alive.
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// A segment carries key material: it must be ours and closed to others.
Status check_owner(int fd, std::string_view name) {
  struct stat st{};
  if (fstat(fd, &st) != 0) {
    return make_error(Errc::system_error, "fstat " + shm_path(name) + ": " + errno_text(errno));
  }
  if (st.st_uid != geteuid()) {
    return make_error(Errc::bad_owner,
                      "shared memory " + std::string(name) + " belongs to uid " +
                          std::to_string(st.st_uid) + ", not to this process's uid " +
                          std::to_string(geteuid()) +
                          ": refusing it because it would carry key material; " +
                          remove_hint(name));
  }
  if ((st.st_mode & 0077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(Errc::bad_owner,
                      "shared memory " + std::string(name) + " has mode " + mode +
                          ", it must be 0600 because it carries key material: " +
                          remove_hint(name));
  }
  return {};
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::string_view to_string(Side side) {
  return side == Side::control ? "control" : "dataplane";
}

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::system_error: return "system_error";
    case Errc::not_found: return "not_found";
    case Errc::timeout: return "timeout";
    case Errc::bad_magic: return "bad_magic";
    case Errc::bad_layout_version: return "bad_layout_version";
    case Errc::bad_geometry: return "bad_geometry";
    case Errc::bad_indices: return "bad_indices";
    case Errc::bad_owner: return "bad_owner";
    case Errc::side_busy: return "side_busy";
    case Errc::invalid_argument: return "invalid_argument";
  }
  return "unknown";
}

std::string shm_path(std::string_view name) {
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  return "/dev/shm/" + std::string(name);
}

Status validate_geometry(const void* base, std::size_t size, std::string_view name) {
  const std::string who = "shared memory " + std::string(name);
  if (size < sizeof(SegmentHeader)) {
    return make_error(Errc::bad_geometry, who + " is " + std::to_string(size) +
                                              " bytes, smaller than the channel header (" +
                                              std::to_string(sizeof(SegmentHeader)) +
                                              "): it is truncated or not a Corridor segment; " +
                                              remove_hint(name));
  }
  const auto& g = std::launder(static_cast<const SegmentHeader*>(base))->geometry;
  const std::uint64_t magic = g.magic.load(std::memory_order_acquire);
  if (magic != kSegmentMagic) {
    return make_error(Errc::bad_magic, who + " is not a Corridor SA channel (magic " + hex64(magic) +
                                           ", expected " + hex64(kSegmentMagic) +
                                           "): another program uses this name; configure "
                                           "another channel name or " + remove_hint(name));
  }
  if (g.layout_version != kLayoutVersion) {
    return make_error(Errc::bad_layout_version,
                      who + " has layout version " + std::to_string(g.layout_version) +
                          ", this build speaks " + std::to_string(kLayoutVersion) + ": " +
                          remove_hint(name));
  }
  if (g.record_size != kRecordSize) {
    return make_error(Errc::bad_geometry, who + " has record size " +
                                              std::to_string(g.record_size) + ", this build uses " +
                                              std::to_string(kRecordSize) + ": " +
                                              remove_hint(name));
  }
  for (const auto& [ring, capacity] : {std::pair<const char*, std::uint32_t>{"command", g.command_capacity},
                                       {"event", g.event_capacity}}) {
    if (Status s = validate_capacity(ring, capacity); !s) {
      return make_error(Errc::bad_geometry, who + ": " + s.error().message + "; " + remove_hint(name));
    }
  }
  const SegmentGeometry want = compute_geometry(g.command_capacity, g.event_capacity);
  if (g.command_slots_offset != want.command_slots_offset ||
      g.event_slots_offset != want.event_slots_offset || g.segment_size != want.segment_size) {
    return make_error(Errc::bad_geometry,
                      who + " has slot offsets " + std::to_string(g.command_slots_offset) + "/" +
                          std::to_string(g.event_slots_offset) + " and size " +
                          std::to_string(g.segment_size) + " that do not match its capacities (" +
                          std::to_string(want.command_slots_offset) + "/" +
                          std::to_string(want.event_slots_offset) + ", " +
                          std::to_string(want.segment_size) + "): it is corrupt; " +
                          remove_hint(name));
  }
  if (g.segment_size != size) {
    return make_error(Errc::bad_geometry,
                      who + " is " + std::to_string(size) + " bytes but its header says " +
                          std::to_string(g.segment_size) +
                          ": it is truncated or corrupt; " + remove_hint(name));
  }
  return {};
}

Status validate_indices(const SegmentHeader& h, std::string_view name) {
  struct RingView {
    const char* ring;
    const ProducerBlock& producer;
    const ConsumerBlock& consumer;
    std::uint32_t capacity;
  };
  for (const RingView& r : {RingView{"command", h.command_producer, h.command_consumer,
                                     h.geometry.command_capacity},
                            RingView{"event", h.event_producer, h.event_consumer,
                                     h.geometry.event_capacity}}) {
    const std::uint64_t head = r.producer.head.load(std::memory_order_acquire);
    const std::uint64_t tail = r.consumer.tail.load(std::memory_order_acquire);
    const std::uint64_t next = r.producer.next_sequence.load(std::memory_order_acquire);
    const std::uint64_t last = r.consumer.last_sequence.load(std::memory_order_acquire);
    std::string problem;
    if (tail > head || head - tail > r.capacity) {
      problem = "head " + std::to_string(head) + ", tail " + std::to_string(tail) + ", capacity " +
                std::to_string(r.capacity);
    } else if (next == 0 || last >= next) {
      problem = "next sequence " + std::to_string(next) + ", last applied sequence " +
                std::to_string(last);
    }
    if (!problem.empty()) {
      return make_error(Errc::bad_indices,
                        "shared memory " + std::string(name) + ": " + r.ring +
                            " ring indices are inconsistent (" + problem +
                            "): the segment is corrupt; " + remove_hint(name));
    }
  }
  return {};
}

Segment::Segment(std::string name, void* base, std::size_t size, bool created)
    : name_(std::move(name)), base_(base), size_(size),
      header_(std::launder(static_cast<SegmentHeader*>(base))), created_(created) {
  // The slots carry key material: keep it out of core dumps and, where
  // RLIMIT_MEMLOCK allows (it does for root and for the default 2 MiB
  // segment under the usual 8 MiB limit), out of swap. Both are best effort:
  // failing them weakens hygiene but not correctness.
  (void)madvise(base_, size_, MADV_DONTDUMP);
  locked_ = mlock(base_, size_) == 0;
}

Segment::Segment(Segment&& other) noexcept
    : name_(std::move(other.name_)), base_(other.base_), size_(other.size_),
      header_(other.header_), created_(other.created_), locked_(other.locked_) {
  other.base_ = nullptr;
  other.header_ = nullptr;
  other.size_ = 0;
}

Segment& Segment::operator=(Segment&& other) noexcept {
  if (this != &other) {
    if (base_ != nullptr) munmap(base_, size_);
    name_ = std::move(other.name_);
    base_ = other.base_;
    size_ = other.size_;
    header_ = other.header_;
    created_ = other.created_;
    locked_ = other.locked_;
    other.base_ = nullptr;
    other.header_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

Segment::~Segment() {
  if (base_ != nullptr) munmap(base_, size_);
}

RecordSlot* Segment::command_slots() const {
  return std::launder(reinterpret_cast<RecordSlot*>(static_cast<std::uint8_t*>(base_) +
                                                    header_->geometry.command_slots_offset));
}

RecordSlot* Segment::event_slots() const {
  return std::launder(reinterpret_cast<RecordSlot*>(static_cast<std::uint8_t*>(base_) +
                                                    header_->geometry.event_slots_offset));
}

Status Segment::unlink(std::string_view name) {
  if (Status s = validate_name(name); !s) return s;
  if (shm_unlink(std::string(name).c_str()) != 0 && errno != ENOENT) {
    return make_error(Errc::system_error, "shm_unlink " + std::string(name) + ": " + errno_text(errno));
  }
  return {};
}

namespace {

// We won O_CREAT|O_EXCL: size, initialise, publish the magic last.
Expected<Segment> create_new(int fd, const SegmentOptions& o, auto make_segment) {
  const SegmentGeometry geo = compute_geometry(o.command_capacity, o.event_capacity);
  auto fail = [&](const char* what) {
    Error e = make_error(Errc::system_error, std::string(what) + " " + o.name + ": " + errno_text(errno));
    shm_unlink(o.name.c_str());
    return e;
  };
  // shm_open's mode is filtered by the umask; state 0600 explicitly.
  if (fchmod(fd, 0600) != 0) return fail("fchmod");
  if (ftruncate(fd, static_cast<off_t>(geo.segment_size)) != 0) return fail("ftruncate");
  void* base = mmap(nullptr, geo.segment_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return fail("mmap");

  // ftruncate gave zeroed memory; placement-new starts the objects' lifetime
  // (all atomics 0, so the magic is still unpublished).
  auto* h = new (base) SegmentHeader{};
  GeometryBlock& g = h->geometry;
  g.layout_version = kLayoutVersion;
  g.record_size = kRecordSize;
  g.segment_size = geo.segment_size;
  g.command_capacity = o.command_capacity;
  g.event_capacity = o.event_capacity;
  g.command_slots_offset = geo.command_slots_offset;
  g.event_slots_offset = geo.event_slots_offset;
  g.created_ns = monotonic_ns();
  g.creator_pid = static_cast<std::uint32_t>(getpid());
  h->command_producer.next_sequence.store(1, std::memory_order_relaxed);
  h->event_producer.next_sequence.store(1, std::memory_order_relaxed);
  // Release: an opener whose acquire load sees the magic sees all of the above.
  g.magic.store(kSegmentMagic, std::memory_order_release);
  return make_segment(base, geo.segment_size, true);
}

// Someone else created it: wait (bounded) until it is sized and its magic is
// published, then validate everything.
Expected<Segment> open_existing(int fd, const SegmentOptions& o, Deadline deadline,
                                auto make_segment) {
  if (Status s = check_owner(fd, o.name); !s) return s.error();
  const std::string waited = std::to_string(o.open_timeout.count()) + " ms";
  struct stat st{};
  for (;;) {
    if (fstat(fd, &st) != 0) {
      return make_error(Errc::system_error, "fstat " + o.name + ": " + errno_text(errno));
    }
    if (st.st_size != 0) break;
    if (SteadyClock::now() >= deadline) {
      return make_error(Errc::timeout, "shared memory " + o.name +
                                           " exists but stayed empty for " + waited +
                                           " (its creator probably died): " + remove_hint(o.name));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < sizeof(SegmentHeader)) {
    return validate_geometry(nullptr, size, o.name).error();  // "truncated" message
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    return make_error(Errc::system_error, "mmap " + o.name + ": " + errno_text(errno));
  }
  Segment seg = make_segment(base, size, false);
  const auto& magic = seg.header().geometry.magic;
  while (magic.load(std::memory_order_acquire) == 0) {
    if (SteadyClock::now() >= deadline) {
      return make_error(Errc::timeout, "shared memory " + o.name +
                                           " exists but was not initialised within " + waited +
                                           " (its creator probably died): " + remove_hint(o.name));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (Status s = validate_geometry(base, size, o.name); !s) return s.error();
  return seg;
}

}  // namespace

Expected<Segment> Segment::open(const SegmentOptions& o) {
  if (Status s = validate_name(o.name); !s) return s.error();
  if (o.create) {
    if (Status s = validate_capacity("command", o.command_capacity); !s) return s.error();
    if (Status s = validate_capacity("event", o.event_capacity); !s) return s.error();
  }
  auto make_segment = [&](void* base, std::size_t size, bool created) {
    return Segment(o.name, base, size, created);
  };
  const Deadline deadline = SteadyClock::now() + o.open_timeout;
  for (;;) {
    if (o.create) {
      const int fd = shm_open(o.name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0) {
        Fd guard(fd);
        return create_new(fd, o, make_segment);
      }
      if (errno != EEXIST) {
        return make_error(Errc::system_error, "shm_open " + o.name + ": " + errno_text(errno));
      }
    }
    const int fd = shm_open(o.name.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd >= 0) {
      Fd guard(fd);
      return open_existing(fd, o, deadline, make_segment);
    }
    if (errno != ENOENT) {
      return make_error(Errc::system_error, "shm_open " + o.name + ": " + errno_text(errno));
    }
    if (!o.create) {
      return make_error(Errc::not_found, "shared memory " + o.name +
                                             " does not exist: start the process that creates "
                                             "the channel, or allow creation");
    }
    // It was unlinked between our two shm_open calls: try creating again.
    if (SteadyClock::now() >= deadline) {
      return make_error(Errc::timeout, "shared memory " + o.name +
                                           " kept appearing and disappearing: is another "
                                           "process removing it?");
    }
  }
}

Expected<std::uint64_t> Segment::attach(Side s) {
  SideBlock& block = side(s);
  const auto me = static_cast<std::uint64_t>(getpid());
  std::uint64_t holder = block.pid.load(std::memory_order_acquire);
  for (;;) {
    if (holder == me || pid_alive(holder)) {
      return make_error(Errc::side_busy,
                        "the " + std::string(to_string(s)) + " side of shared memory " + name_ +
                            " is held by live pid " + std::to_string(holder) +
                            ": stop that process first (only one corridor-" +
                            std::string(to_string(s)) + " may use a channel)");
    }
    // Take it from nobody or from a dead holder; CAS so that two starters
    // racing for the same side cannot both win.
    if (block.pid.compare_exchange_weak(holder, me, std::memory_order_acq_rel)) break;
  }
  if (Status st = validate_indices(*header_, name_); !st) {
    std::uint64_t expected = me;
    block.pid.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
    return st.error();
  }
  const std::uint64_t now = monotonic_ns();
  block.attach_ns.store(now, std::memory_order_relaxed);
  block.heartbeat_ns.store(now, std::memory_order_relaxed);
  return block.generation.fetch_add(1, std::memory_order_acq_rel) + 1;
}

void Segment::detach(Side s) {
  std::uint64_t expected = static_cast<std::uint64_t>(getpid());
  side(s).pid.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
}

}  // namespace corridor::channel
