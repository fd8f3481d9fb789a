// The shared-memory segment: creation, permissions, race-free opening,
// side attachment and generations, and refusal of foreign or malformed
// segments with a message that says what is wrong and how to fix it.
#include "common/channel/segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "channel_test_support.h"

namespace corridor::channel {
namespace {

using testing::ShmName;

SegmentOptions opts(const ShmName& name) {
  SegmentOptions o;
  o.name = name.str();
  o.command_capacity = 64;
  o.event_capacity = 32;
  o.open_timeout = std::chrono::milliseconds(2000);
  return o;
}

// Maps the named object raw, bypassing validation, to damage it.
class RawMap {
 public:
  explicit RawMap(const std::string& name) {
    const int fd = shm_open(name.c_str(), O_RDWR, 0);
    EXPECT_GE(fd, 0);
    struct stat st{};
    fstat(fd, &st);
    size_ = static_cast<std::size_t>(st.st_size);
    base_ = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
  }
  ~RawMap() { munmap(base_, size_); }
  SegmentHeader& header() { return *static_cast<SegmentHeader*>(base_); }

 private:
  void* base_ = nullptr;
  std::size_t size_ = 0;
};

void expect_refused(const SegmentOptions& o, Errc code, const std::string& text) {
  auto seg = Segment::open(o);
  ASSERT_FALSE(seg.ok());
  EXPECT_EQ(seg.error().code, code) << seg.error().message;
  EXPECT_NE(seg.error().message.find(text), std::string::npos) << seg.error().message;
}

TEST(Segment, CreatesWithHeaderAndMode0600) {
  ShmName name;
  auto seg = Segment::open(opts(name));
  ASSERT_TRUE(seg.ok()) << seg.error().message;
  EXPECT_TRUE(seg->created());
  const GeometryBlock& g = seg->header().geometry;
  EXPECT_EQ(g.magic.load(), kSegmentMagic);
  EXPECT_EQ(g.layout_version, kLayoutVersion);
  EXPECT_EQ(g.record_size, kRecordSize);
  EXPECT_EQ(g.command_capacity, 64U);
  EXPECT_EQ(g.event_capacity, 32U);
  EXPECT_EQ(g.segment_size, 4096U + 96U * 256U);
  EXPECT_EQ(seg->size(), g.segment_size);
  EXPECT_EQ(g.creator_pid, static_cast<std::uint32_t>(getpid()));
  EXPECT_EQ(seg->header().command_producer.next_sequence.load(), 1U);
  struct stat st{};
  ASSERT_EQ(stat(shm_path(name.str()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);

  // A second open finds it and does not re-initialise it.
  auto again = Segment::open(opts(name));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->created());
  EXPECT_EQ(again->command_capacity(), 64U);
}

TEST(Segment, DefaultsAndNames) {
  EXPECT_EQ(SegmentOptions{}.name, "/corridor");
  EXPECT_EQ(SegmentOptions{}.command_capacity, 4096U);
  EXPECT_EQ(shm_path("/corridor"), "/dev/shm/corridor");
  SegmentOptions o;
  o.name = "no-slash";
  expect_refused(o, Errc::invalid_argument, "not a valid shared memory name");
  o.name = "/a/b";
  expect_refused(o, Errc::invalid_argument, "not a valid shared memory name");
}

TEST(Segment, RefusesBadCapacities) {
  ShmName name;
  SegmentOptions o = opts(name);
  o.command_capacity = 100;
  expect_refused(o, Errc::invalid_argument, "command ring capacity 100 is not a power of two");
  o.command_capacity = 8;
  expect_refused(o, Errc::invalid_argument, "between 16 and");
}

TEST(Segment, MissingWithoutCreateIsNotFound) {
  ShmName name;
  SegmentOptions o = opts(name);
  o.create = false;
  expect_refused(o, Errc::not_found, "does not exist");
}

TEST(Segment, ConcurrentCreatorsAgreeOnOneSegment) {
  ShmName name;
  constexpr int kChildren = 6;
  pid_t pids[kChildren];
  for (pid_t& pid : pids) {
    pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto seg = Segment::open(opts(name));
      // Everyone sees a fully initialised segment, whoever created it.
      const bool good = seg.ok() && seg->header().geometry.magic.load() == kSegmentMagic &&
                        seg->command_capacity() == 64;
      _exit(good ? (seg->created() ? 10 : 11) : 1);
    }
  }
  int creators = 0;
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_NE(WEXITSTATUS(status), 1);
    creators += WEXITSTATUS(status) == 10 ? 1 : 0;
  }
  EXPECT_EQ(creators, 1);
}

TEST(Segment, WaitsForTheCreatorsMagicThenTimesOut) {
  ShmName name;
  // A creator that died after ftruncate, before publishing the magic.
  const int fd = shm_open(name.str().c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 8192), 0);
  close(fd);
  SegmentOptions o = opts(name);
  o.open_timeout = std::chrono::milliseconds(100);
  expect_refused(o, Errc::timeout, "was not initialised within 100 ms");
  expect_refused(o, Errc::timeout, "remove /dev/shm/corridor-test-");
}

TEST(Segment, OpenerSeesMagicPublishedLater) {
  ShmName name;
  auto created = Segment::open(opts(name));
  ASSERT_TRUE(created.ok());
  auto& magic = created->header().geometry.magic;
  magic.store(0);  // pretend the creator is still initialising
  std::thread creator([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    magic.store(kSegmentMagic, std::memory_order_release);
  });
  auto opened = Segment::open(opts(name));
  creator.join();
  ASSERT_TRUE(opened.ok()) << opened.error().message;
}

TEST(Segment, RefusesForeignMagic) {
  ShmName name;
  { ASSERT_TRUE(Segment::open(opts(name)).ok()); }
  RawMap(name.str()).header().geometry.magic.store(0x1122334455667788ULL);
  expect_refused(opts(name), Errc::bad_magic, "is not a Corridor SA channel (magic 0x1122334455667788");
}

TEST(Segment, RefusesOtherLayoutVersion) {
  ShmName name;
  { ASSERT_TRUE(Segment::open(opts(name)).ok()); }
  RawMap(name.str()).header().geometry.layout_version = 1;  // the layout before trap policies
  expect_refused(opts(name), Errc::bad_layout_version,
                 "shared memory " + name.str() +
                     " has layout version 1, this build speaks 2: stop both corridor processes "
                     "and remove " + shm_path(name.str()));
}

TEST(Segment, RefusesOtherRecordSizeAndGeometry) {
  ShmName name;
  { ASSERT_TRUE(Segment::open(opts(name)).ok()); }
  {
    RawMap raw(name.str());
    raw.header().geometry.record_size = 128;
  }
  expect_refused(opts(name), Errc::bad_geometry, "has record size 128, this build uses 256");
  {
    RawMap raw(name.str());
    raw.header().geometry.record_size = kRecordSize;
    raw.header().geometry.event_capacity = 33;
  }
  expect_refused(opts(name), Errc::bad_geometry, "event ring capacity 33 is not a power of two");
  {
    RawMap raw(name.str());
    raw.header().geometry.event_capacity = 32;
    raw.header().geometry.event_slots_offset += 64;
  }
  expect_refused(opts(name), Errc::bad_geometry, "do not match its capacities");
}

TEST(Segment, RefusesTruncatedSegment) {
  ShmName name;
  { ASSERT_TRUE(Segment::open(opts(name)).ok()); }
  const int fd = shm_open(name.str().c_str(), O_RDWR, 0);
  ASSERT_EQ(ftruncate(fd, 8192), 0);
  expect_refused(opts(name), Errc::bad_geometry,
                 "is 8192 bytes but its header says 28672: it is truncated or corrupt");
  ASSERT_EQ(ftruncate(fd, 100), 0);
  expect_refused(opts(name), Errc::bad_geometry, "smaller than the channel header");
  close(fd);
}

TEST(Segment, RefusesGroupReadableSegment) {
  ShmName name;
  { ASSERT_TRUE(Segment::open(opts(name)).ok()); }
  ASSERT_EQ(chmod(shm_path(name.str()).c_str(), 0644), 0);
  expect_refused(opts(name), Errc::bad_owner, "has mode 0644, it must be 0600");
}

TEST(Segment, AttachCountsGenerationsAndRefusesASecondHolder) {
  ShmName name;
  auto seg = Segment::open(opts(name));
  ASSERT_TRUE(seg.ok());
  auto gen = seg->attach(Side::dataplane);
  ASSERT_TRUE(gen.ok()) << gen.error().message;
  EXPECT_EQ(gen.value(), 1U);
  EXPECT_EQ(seg->side(Side::dataplane).pid.load(), static_cast<std::uint64_t>(getpid()));
  auto twice = seg->attach(Side::dataplane);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, Errc::side_busy);
  EXPECT_NE(twice.error().message.find("dataplane side of shared memory"), std::string::npos);
  // The other side is independent.
  EXPECT_EQ(seg->attach(Side::control).value(), 1U);
  seg->detach(Side::dataplane);
  EXPECT_EQ(seg->side(Side::dataplane).pid.load(), 0U);
  EXPECT_EQ(seg->attach(Side::dataplane).value(), 2U);
}

TEST(Segment, TakesOverTheSideOfADeadProcess) {
  ShmName name;
  { ASSERT_TRUE(Segment::open(opts(name)).ok()); }
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto seg = Segment::open(opts(name));
    _exit(seg.ok() && seg->attach(Side::control).ok() ? 0 : 1);  // dies attached
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto seg = Segment::open(opts(name));
  ASSERT_TRUE(seg.ok());
  EXPECT_EQ(seg->side(Side::control).pid.load(), static_cast<std::uint64_t>(child));
  auto gen = seg->attach(Side::control);
  ASSERT_TRUE(gen.ok()) << gen.error().message;
  EXPECT_EQ(gen.value(), 2U);
}

TEST(Segment, AttachRefusesBogusRingIndices) {
  struct Case {
    const char* what;
    void (*damage)(SegmentHeader&);
    const char* text;
  };
  const Case cases[] = {
      {"head beyond capacity",
       [](SegmentHeader& h) { h.command_producer.head.store(65); },
       "command ring indices are inconsistent (head 65, tail 0, capacity 64)"},
      {"tail ahead of head",
       [](SegmentHeader& h) { h.event_consumer.tail.store(5); },
       "event ring indices are inconsistent (head 0, tail 5, capacity 32)"},
      {"sequence counter zero",
       [](SegmentHeader& h) { h.event_producer.next_sequence.store(0); },
       "event ring indices are inconsistent (next sequence 0"},
      {"applied beyond issued",
       [](SegmentHeader& h) { h.command_consumer.last_sequence.store(9); },
       "command ring indices are inconsistent (next sequence 1, last applied sequence 9)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ShmName name;
    auto seg = Segment::open(opts(name));
    ASSERT_TRUE(seg.ok());
    c.damage(seg->header());
    auto gen = seg->attach(Side::dataplane);
    ASSERT_FALSE(gen.ok());
    EXPECT_EQ(gen.error().code, Errc::bad_indices);
    EXPECT_NE(gen.error().message.find(c.text), std::string::npos) << gen.error().message;
    EXPECT_NE(gen.error().message.find("the segment is corrupt; stop both corridor processes"),
              std::string::npos);
    EXPECT_EQ(seg->side(Side::dataplane).pid.load(), 0U);  // not left claimed
  }
}

TEST(Segment, ValidatorsSurviveGarbage) {
  alignas(4096) static std::uint8_t image[8192];
  for (std::size_t i = 0; i < sizeof image; ++i) image[i] = static_cast<std::uint8_t>(i * 131 + 7);
  EXPECT_FALSE(validate_geometry(image, sizeof image, "/x").ok());
  EXPECT_FALSE(validate_geometry(image, 10, "/x").ok());
  EXPECT_FALSE(validate_indices(*reinterpret_cast<SegmentHeader*>(image), "/x").ok());
}

}  // namespace
}  // namespace corridor::channel
