// SA channel throughput: a producer thread (control's end) pushes N command
// records in bursts through a real shared-memory segment to a consumer
// thread (the dataplane's end), the two pinned to different cores when the
// machine has two. Prints records/s and MB/s (slot bytes moved).
//
//   channel_bench [COUNT] [--raw] [--burst N] [--capacity N]
//
// Default mode encodes a HEARTBEAT per record and the consumer fully
// decodes and validates it (the protocol path: sequence check, header
// check, field checks). --raw moves pre-encoded slots and only checks the
// sequence numbers (the ring and sequencing alone). Not a test: figures on
// a shared machine are noisy; rerun and compare ratios.
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "common/channel/control_endpoint.h"
#include "common/channel/dataplane_endpoint.h"

namespace {

using namespace corridor::channel;

struct Config {
  std::uint64_t count = 20'000'000;
  std::size_t burst = 32;
  std::uint32_t capacity = kDefaultRingCapacity;
  bool raw = false;
};

bool pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--raw") {
      c.raw = true;
    } else if (arg == "--burst" && i + 1 < argc) {
      c.burst = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--capacity" && i + 1 < argc) {
      c.capacity = static_cast<std::uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (!arg.empty() && arg[0] != '-') {
      c.count = std::strtoull(arg.c_str(), nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: %s [COUNT] [--raw] [--burst N] [--capacity N]\n", argv[0]);
      std::exit(2);
    }
  }
  if (c.count == 0 || c.burst == 0) {
    std::fprintf(stderr, "COUNT and --burst must be positive\n");
    std::exit(2);
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const Config cfg = parse(argc, argv);
  EndpointOptions options;
  options.segment.name = "/corridor-bench-" + std::to_string(getpid());
  options.segment.command_capacity = cfg.capacity;
  options.segment.event_capacity = kMinRingCapacity;
  (void)Segment::unlink(options.segment.name);
  auto cp = ControlEndpoint::attach(options);
  if (!cp) {
    std::fprintf(stderr, "channel_bench: %s\n", cp.error().message.c_str());
    return 1;
  }
  auto dp = DataplaneEndpoint::attach(options);
  if (!dp) {
    std::fprintf(stderr, "channel_bench: %s\n", dp.error().message.c_str());
    return 1;
  }
  const bool two_cpus = std::thread::hardware_concurrency() >= 2;
  std::atomic<bool> go{false};
  std::uint64_t consumed = 0;
  std::uint64_t errors = 0;
  bool consumer_pinned = false;

  std::thread consumer([&] {
    consumer_pinned = two_cpus && pin_to_cpu(1);
    while (!go.load(std::memory_order_acquire)) cpu_relax();
    std::uint64_t expect_seq = 1;
    while (consumed < cfg.count) {
      const std::size_t n = dp->poll_commands(cfg.burst, [&](const Received<Command>& r) {
        errors += (r.sequence != expect_seq++ || !r.record.ok()) ? 1 : 0;
      });
      consumed += n;
      if (n == 0) cpu_relax();
    }
  });
  const bool producer_pinned = two_cpus && pin_to_cpu(0);

  RecordSlot prototype;
  encode(Heartbeat{cp->generation(), 0, 0}, prototype);
  go.store(true, std::memory_order_release);
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t pushed = 0;
  while (pushed < cfg.count) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(cfg.burst, cfg.count - pushed));
    const PushOutcome out = cp->push_commands_with(
        want,
        [&](std::size_t i, RecordSlot& slot) {
          if (cfg.raw) {
            slot = prototype;
          } else {
            encode(Heartbeat{1, pushed + i, pushed + i}, slot);
          }
        },
        SteadyClock::now() + std::chrono::seconds(10));
    pushed += out.pushed;
    if (out.status != PushStatus::ok) {
      std::fprintf(stderr, "channel_bench: push stopped: %s\n", std::string(to_string(out.status)).c_str());
      break;
    }
  }
  consumer.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double rate = static_cast<double>(consumed) / seconds;
  const RingStats stats = cp->command_stats();
  std::printf("channel_bench: %s mode, %llu records of %u bytes, burst %zu, ring %u slots\n",
              cfg.raw ? "raw" : "decode+validate", static_cast<unsigned long long>(consumed),
              kRecordSize, cfg.burst, cfg.capacity);
  std::printf("  producer on cpu 0: %s, consumer on cpu 1: %s\n", producer_pinned ? "pinned" : "not pinned",
              consumer_pinned ? "pinned" : "not pinned");
  std::printf("  %.3f s, %.2f M records/s, %.0f MB/s, producer stalls %llu, errors %llu\n", seconds,
              rate / 1e6, rate * kRecordSize / 1e6, static_cast<unsigned long long>(stats.stalls),
              static_cast<unsigned long long>(errors));
  dp->detach();
  cp->detach();
  (void)Segment::unlink(options.segment.name);
  return errors == 0 && consumed == cfg.count ? 0 : 1;
}
