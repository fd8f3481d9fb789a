// Two real processes over one segment: the parent (control) pushes millions
// of commands while the child (dataplane) checks every record's sequence
// number and payload and streams events back, which the parent checks too.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>

#include "channel_test_support.h"
#include "common/channel/control_endpoint.h"
#include "common/channel/dataplane_endpoint.h"

namespace corridor::channel {
namespace {

using namespace std::chrono_literals;
using testing::make_sa;
using testing::options_for;
using testing::ShmName;

constexpr std::uint64_t kRecords = 3'000'000;  // ~1 s here, ~3 s under ASan
constexpr std::uint64_t kSaEvery = 64;       // one ADD_SA (204-byte payload) per 64 records
constexpr std::uint64_t kEventEvery = 1024;  // the child reports progress this often

// splitmix64: a payload value that depends on every bit of the index.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void encode_record(std::uint64_t i, RecordSlot& slot) {
  if (i % kSaEvery == 0) {
    SaRecord sa = make_sa(i + 1);
    std::uint8_t key[36];
    for (std::size_t k = 0; k < sizeof key; ++k) key[k] = static_cast<std::uint8_t>(mix(i + k));
    sa.encryption_key.assign(key);
    encode_sa(RecordType::add_sa, sa, slot);
  } else {
    encode(Heartbeat{1, i, mix(i)}, slot);
  }
}

// Child: returns an exit code (0 = every record was as expected).
int run_dataplane(const EndpointOptions& options) {
  alarm(120);  // never outlive a broken parent
  auto dp = DataplaneEndpoint::attach(options);
  if (!dp) return 2;
  std::uint64_t expected = 0;
  std::uint64_t checksum = 0;
  int bad = 0;
  while (expected < kRecords && bad == 0) {
    const std::size_t n = dp->poll_commands(64, [&](const Received<Command>& r) {
      const std::uint64_t i = expected++;
      if (!r.record.ok() || r.sequence != i + 1 || r.after_gap) {
        bad = 3;
        return;
      }
      const Command& c = r.record.value();
      if (i % kSaEvery == 0) {
        const auto* sa = std::get_if<SaRecord>(&c.body);
        if (sa == nullptr || sa->sa_id != i + 1 || sa->encryption_key.bytes[35] != static_cast<std::uint8_t>(mix(i + 35))) {
          bad = 4;
          return;
        }
        checksum += sa->sa_id;
      } else {
        const auto* hb = std::get_if<Heartbeat>(&c.body);
        if (hb == nullptr || hb->heartbeat_id != i || hb->sent_ns != mix(i)) {
          bad = 5;
          return;
        }
        checksum += hb->sent_ns;
      }
    });
    if (n == 0) continue;
    if (expected % kEventEvery < n || expected == kRecords) {
      RecordSlot ev;
      encode(SaCounters{1, 0x1000, Direction::inbound, expected, checksum, 0, 0, 0, 0}, ev);
      if (dp->push_events({&ev, 1}, SteadyClock::now() + 10s).status != PushStatus::ok) return 6;
    }
  }
  return bad;
}

TEST(TwoProcesses, MillionsOfRecordsArriveInOrderWithTheirContent) {
  ShmName name;
  const EndpointOptions options = options_for(name, kDefaultRingCapacity);
  auto cp = ControlEndpoint::attach(options);
  ASSERT_TRUE(cp.ok()) << cp.error().message;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(run_dataplane(options));

  std::uint64_t pushed = 0;
  std::uint64_t expected_checksum = 0;
  std::uint64_t last_progress = 0;
  std::uint64_t last_checksum = 0;
  std::uint64_t events = 0;
  bool ok = true;
  auto drain_events = [&] {
    cp->poll_events(64, [&](const Received<Event>& r) {
      ++events;
      const auto* ct = r.record.ok() ? std::get_if<SaCounters>(&r.record->body) : nullptr;
      if (ct == nullptr || ct->packets < last_progress || r.sequence != events) {
        ok = false;
        return;
      }
      last_progress = ct->packets;
      last_checksum = ct->bytes;
    });
  };
  while (pushed < kRecords && ok) {
    const std::size_t burst = static_cast<std::size_t>(std::min<std::uint64_t>(32, kRecords - pushed));
    const PushOutcome out = cp->push_commands_with(
        burst, [&](std::size_t i, RecordSlot& slot) { encode_record(pushed + i, slot); },
        SteadyClock::now() + 10s);
    for (std::size_t i = 0; i < out.pushed; ++i) {
      const std::uint64_t idx = pushed + i;
      expected_checksum += idx % kSaEvery == 0 ? idx + 1 : mix(idx);
    }
    pushed += out.pushed;
    if (out.status != PushStatus::ok) ok = false;  // the child stopped reading
    drain_events();
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  drain_events();
  ASSERT_TRUE(WIFEXITED(status)) << "child killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(ok);
  EXPECT_EQ(pushed, kRecords);
  EXPECT_EQ(last_progress, kRecords);
  EXPECT_EQ(last_checksum, expected_checksum);
  const RingStats cmd = cp->command_stats();
  EXPECT_EQ(cmd.produced, kRecords);
  EXPECT_EQ(cmd.consumed, kRecords);
  EXPECT_EQ(cmd.last_sequence, kRecords);
  EXPECT_EQ(cmd.gaps + cmd.duplicates + cmd.invalid, 0U);
  EXPECT_EQ(cp->event_stats().invalid, 0U);
}

}  // namespace
}  // namespace corridor::channel
