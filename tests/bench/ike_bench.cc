// corridor-bench-ike: an IKEv2 initiator load generator built on the
// project's own IKEv2 manager (control/ikev2) and UDP sockets
// (control/daemon/ike_socket.cc). It establishes IKE SAs with PSK against
// one responder (corridor-control or strongSwan), keeps every SA it
// established (so the responder holds them), and reports the rate, and,
// given the responder's pid, the responder's CPU time (/proc/PID/stat
// utime+stime) and RSS growth per IKE SA.
//
//   corridor-bench-ike --remote ADDR --sources PREFIX --psk SECRET
//       [--proposal aes128gcm16-prfsha256-ecp256] [--child | --refused-child]
//       [--esp aes128gcm16] [--count N] [--warmup N] [--window N]
//       [--responder-pid PID] [--idle SECONDS] [--per-manager N] [--timeout SECONDS]
//
// One source address per IKE SA. Responders throttle half-open SAs per
// peer address (RFC 7296 §2.6; Corridor and strongSwan both default to
// cookies after 3 and a block after 5 from one address), and both the
// initiator's identity (its IKE address: no local id is configured) and
// N(INITIAL_CONTACT), which Corridor's initiator always sends, would make
// a responder replace the older SA of the same identity. So --sources
// must hold at least warmup + count addresses, all local to this host
// (e.g. `ip route add local 10.10.0.0/16 dev lo`, or addresses on the
// interface): each SA's datagrams leave from its own address through
// IP_PKTINFO on one wildcard socket per port.
//
// --window bounds the IKE SAs in progress (default 16: below both
// responders' global cookie threshold of 30 half-open SAs). The SAs are
// spread over several managers (--per-manager SAs each) so that the
// initiator's own per-SA scans stay short and it is not the bottleneck.
//
// The manager cannot start a childless IKE SA (initiate() needs a child),
// so "childless" runs use --refused-child: IKE_AUTH offers a Child SA
// whose ESP proposal the responder does not accept; the responder answers
// N(NO_PROPOSAL_CHOSEN) and the IKE SA stands without a Child SA.
//
// Not a test: figures on a shared machine are noisy; compare the ratios
// measured in one run. The last line is a JSON object starting "RESULT ".
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/config/loader.h"
#include "common/log/log.h"
#include "common/net/address.h"
#include "control/daemon/ike_socket.h"
#include "control/ikev2/manager.h"

namespace {

using namespace corridor;
using Clock = control::ikev2::Clock;

struct Options {
  std::string remote;
  std::string sources;
  std::string psk;
  std::string proposal = "aes128gcm16-prfsha256-ecp256";
  std::string esp = "aes128gcm16";
  bool child = false;  // false: --refused-child
  unsigned count = 1000;
  unsigned warmup = 100;
  unsigned window = 16;
  unsigned per_manager = 512;
  long responder_pid = 0;
  double idle = 0;
  double timeout = 600;
};

[[noreturn]] void usage(const char* why) {
  if (why) std::fprintf(stderr, "corridor-bench-ike: %s\n", why);
  std::fprintf(stderr,
               "usage: corridor-bench-ike --remote ADDR --sources PREFIX --psk SECRET\n"
               "         [--proposal P] [--child | --refused-child] [--esp P] [--count N] [--warmup N]\n"
               "         [--window N] [--responder-pid PID] [--idle SECONDS] [--per-manager N] [--timeout SECONDS]\n");
  std::exit(64);
}

// A responder's CPU time (utime + stime, all threads) and RSS.
struct ProcSample {
  double cpu_s = 0;
  long rss_kb = 0;
};

ProcSample sample(long pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  // Fields after the ")" that closes comm: state is field 3, utime 14, stime 15.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string x; rest >> x;) f.push_back(x);
  if (f.size() < 13) return s;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  s.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / hz;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stol(line.substr(6));
  return s;
}

double own_cpu_s() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// One manager's transport: the daemon's sockets, and a fresh source
// address from this manager's block at every initiate().
class SourceTransport final : public control::ikev2::Transport {
 public:
  SourceTransport(control::IkeSockets*& sockets, std::uint32_t first, std::uint32_t n)
      : sockets_(sockets), next_(first), end_(first + n) {}
  void send(const net::SocketAddress& local, const net::SocketAddress& remote,
            std::span<const std::uint8_t> datagram) override {
    sockets_->send(local, remote, datagram);
  }
  std::optional<net::IpAddress> source_for(const net::IpAddress&) override {
    if (next_ == end_) return std::nullopt;
    const std::uint32_t a = next_++;
    const std::uint8_t b[4] = {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
                               static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)};
    return net::IpAddress::from_bytes(net::Family::ipv4, b);
  }
  void send_nat_keepalive(const net::SocketAddress& local, const net::SocketAddress& remote) override {
    sockets_->send_nat_keepalive(local, remote);
  }
  std::uint32_t left() const { return end_ - next_; }

 private:
  control::IkeSockets*& sockets_;
  std::uint32_t next_, end_;
};

// Child SAs go nowhere: the load generator has no dataplane.
class NullSink final : public control::ikev2::ChildSaSink {
 public:
  bool set_sa(const channel::SaRecord&) override { return true; }
  void remove_sa(std::uint64_t) override {}
  bool set_policy(const channel::PolicyRecord&) override { return true; }
  void remove_policy(std::uint64_t) override {}
};

std::string config_json(const Options& o) {
  // Traffic selectors 10.128.0.0/16 === 10.2.0.0/16, the same for every
  // SA: not the IKE address (strongSwan's kernel-libipsec cannot route a
  // remote TS that holds its IKE peer). Refused: no responder in the
  // benchmark accepts CBC/SHA-512.
  const std::string child = "\"local_ts\": [\"10.128.0.0/16\"], \"remote_ts\": [\"10.2.0.0/16\"], \"esp_proposals\": [\"" +
                            (o.child ? o.esp : std::string("aes256-sha512")) + "\"]";
  return "{\"connections\": {\"bench\": {\"version\": 2, \"remote_addrs\": [\"" + o.remote +
         "\"], \"proposals\": [\"" + o.proposal +
         "\"], \"dpd_delay\": \"0s\", \"local\": {\"auth\": \"psk\"}, \"remote\": {\"auth\": \"psk\"},"
         " \"children\": {\"c\": {" + child + "}}}},"
         " \"secrets\": {\"ike-1\": {\"secret\": \"" + o.psk + "\"}},"
         " \"sa_channel\": {\"name\": \"/corridor-bench-ike-" + std::to_string(::getpid()) + "\"},"
         " \"logging\": {\"level\": \"error\"}}";
}

struct Generator {
  const Options& o;
  const config::Config& config;
  boost::asio::io_context io;
  control::IkeSockets* sockets = nullptr;
  std::unique_ptr<control::IkeSockets> owned_sockets;
  NullSink sink;
  std::uint32_t base = 0;  // first source address, host order
  std::vector<std::unique_ptr<SourceTransport>> transports;
  std::vector<std::unique_ptr<control::ikev2::Manager>> managers;
  std::size_t current = 0;  // the manager that initiates next
  std::uint64_t initiated = 0;
  std::uint64_t refused = 0;

  Generator(const Options& opt, const config::Config& cfg) : o(opt), config(cfg) {}

  std::uint64_t done() const {
    std::uint64_t n = 0;
    for (const auto& m : managers) n += m->stats().ike_sas_established + m->stats().ike_sas_failed;
    return n + refused;
  }
  std::uint64_t established() const {
    std::uint64_t n = 0;
    for (const auto& m : managers) n += m->stats().ike_sas_established;
    return n;
  }

  bool open(std::uint32_t addresses) {
    const auto prefix = net::Prefix::parse(o.sources);
    if (!prefix || !prefix->address.is_v4()) usage("--sources must be an IPv4 prefix");
    const auto& b = prefix->address.bytes();
    base = std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
    const std::uint64_t size = std::uint64_t{1} << (32 - prefix->length);
    // Skip the network address (and leave the broadcast address alone).
    if (size >= 4) ++base;
    if (size < 4 || size - 2 < addresses)
      usage(("--sources holds fewer addresses than the " + std::to_string(addresses) + " IKE SAs (one address each)").c_str());
    std::string why;
    owned_sockets = control::IkeSockets::open(
        io, 500, 4500,
        [this](const net::SocketAddress& local, const net::SocketAddress& remote, std::span<const std::uint8_t> d) {
          if (!local.address.is_v4()) return;
          const auto& lb = local.address.bytes();
          const std::uint32_t a = std::uint32_t{lb[0]} << 24 | std::uint32_t{lb[1]} << 16 | std::uint32_t{lb[2]} << 8 | lb[3];
          const std::uint64_t i = (a - base) / o.per_manager;
          if (a < base || i >= managers.size()) return;
          managers[i]->receive(local, remote, d, Clock::now());
        },
        &why);
    if (!owned_sockets) {
      std::fprintf(stderr, "corridor-bench-ike: %s\n", why.c_str());
      return false;
    }
    sockets = owned_sockets.get();
    for (std::uint32_t first = 0; first < addresses; first += o.per_manager) {
      const std::uint32_t n = std::min<std::uint32_t>(o.per_manager, addresses - first);
      transports.push_back(std::make_unique<SourceTransport>(sockets, base + first, n));
      control::ikev2::ManagerOptions mo;
      managers.push_back(std::make_unique<control::ikev2::Manager>(config, *transports.back(), sink, mo));
    }
    return true;
  }

  // Runs until `target` IKE SAs are done (established or failed), keeping
  // `window` in progress. False on timeout.
  bool run_until(std::uint64_t target, Clock::time_point deadline) {
    auto last_tick = Clock::now();
    while (done() < target) {
      while (initiated < target && initiated - done() < o.window) {
        while (current < managers.size() && transports[current]->left() == 0) ++current;
        if (current == managers.size()) break;
        std::string why;
        if (!managers[current]->initiate("bench", "c", Clock::now(), &why)) ++refused;
        ++initiated;
      }
      io.run_one_for(std::chrono::milliseconds(5));
      const auto now = Clock::now();
      if (now - last_tick >= std::chrono::milliseconds(100)) {
        for (auto& m : managers) m->tick(now);
        last_tick = now;
      }
      if (now > deadline) return false;
    }
    return true;
  }

  void idle(double seconds) {
    const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (Clock::now() < end) {
      io.run_one_for(std::chrono::milliseconds(100));
      for (auto& m : managers) m->tick(Clock::now());
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage((a + " needs a value").c_str());
      return argv[++i];
    };
    if (a == "--remote") o.remote = value();
    else if (a == "--sources") o.sources = value();
    else if (a == "--psk") o.psk = value();
    else if (a == "--proposal") o.proposal = value();
    else if (a == "--esp") o.esp = value();
    else if (a == "--child") o.child = true;
    else if (a == "--refused-child") o.child = false;
    else if (a == "--count") o.count = static_cast<unsigned>(std::stoul(value()));
    else if (a == "--warmup") o.warmup = static_cast<unsigned>(std::stoul(value()));
    else if (a == "--window") o.window = std::max(1U, static_cast<unsigned>(std::stoul(value())));
    else if (a == "--per-manager") o.per_manager = std::max(1U, static_cast<unsigned>(std::stoul(value())));
    else if (a == "--responder-pid") o.responder_pid = std::stol(value());
    else if (a == "--idle") o.idle = std::stod(value());
    else if (a == "--timeout") o.timeout = std::stod(value());
    else usage(("unknown argument " + a).c_str());
  }
  if (o.remote.empty() || o.sources.empty() || o.psk.empty()) usage("--remote, --sources and --psk are required");

  const auto loaded = config::load_config_text(config_json(o));
  if (!loaded.ok()) {
    std::fprintf(stderr, "corridor-bench-ike: generated config refused:\n");
    for (const auto& d : loaded.diagnostics.items()) std::fprintf(stderr, "  %s\n", d.to_string().c_str());
    return 1;
  }
  log::configure(loaded.config->logging, "corridor-bench-ike");
  Generator g(o, *loaded.config);
  if (!g.open(o.warmup + o.count)) return 1;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout));

  if (!g.run_until(o.warmup, deadline)) {
    std::fprintf(stderr, "corridor-bench-ike: warm-up timed out (%llu of %u done)\n",
                 static_cast<unsigned long long>(g.done()), o.warmup);
    return 1;
  }
  const std::uint64_t est0 = g.established();
  const ProcSample r0 = sample(o.responder_pid);
  const double c0 = own_cpu_s();
  const auto t0 = Clock::now();
  const bool finished = g.run_until(std::uint64_t{o.warmup} + o.count, deadline);
  const auto t1 = Clock::now();
  const double c1 = own_cpu_s();
  const ProcSample r1 = sample(o.responder_pid);
  const double wall = std::chrono::duration<double>(t1 - t0).count();
  const std::uint64_t est = g.established() - est0;
  const std::uint64_t failed = g.done() - g.established();  // warm-up included
  const std::uint64_t held = g.established();

  ProcSample i1 = r1;
  if (o.idle > 0) {
    g.idle(o.idle);
    i1 = sample(o.responder_pid);
  }

  control::ikev2::ManagerStats total;
  std::map<std::string, std::uint64_t> notifies;
  for (const auto& m : g.managers) {
    total.retransmitted += m->stats().retransmitted;
    total.child_sas_installed += m->stats().child_sas_installed;
    for (const auto& [k, v] : m->stats().notifies_received) notifies[k] += v;
  }
  std::string notes;
  for (const auto& [k, v] : notifies) notes += (notes.empty() ? "" : ",") + k + "=" + std::to_string(v);

  const double rate = static_cast<double>(est) / wall;
  const double resp_cpu_ms = est ? (r1.cpu_s - r0.cpu_s) * 1e3 / static_cast<double>(est) : 0;
  const double resp_util = (r1.cpu_s - r0.cpu_s) / wall;
  const double gen_cpu_ms = est ? (c1 - c0) * 1e3 / static_cast<double>(est) : 0;
  const double kb_per_sa = est ? static_cast<double>(r1.rss_kb - r0.rss_kb) / static_cast<double>(est) : 0;
  const double idle_util = o.idle > 0 ? (i1.cpu_s - r1.cpu_s) / o.idle : 0;
  std::printf("%s: %llu IKE SAs in %.2f s = %.0f/s (%s), %llu failed, %llu retransmits, %llu Child SAs, held %llu%s%s\n",
              o.proposal.c_str(), static_cast<unsigned long long>(est), wall, rate,
              o.child ? "with Child SA" : "Child SA refused", static_cast<unsigned long long>(failed),
              static_cast<unsigned long long>(total.retransmitted),
              static_cast<unsigned long long>(total.child_sas_installed), static_cast<unsigned long long>(held),
              notes.empty() ? "" : ", notifies ", notes.c_str());
  if (o.responder_pid > 0)
    std::printf("  responder: %.3f ms CPU per IKE SA (%.0f%% of a core), RSS %ld -> %ld kB = %.1f kB per IKE SA%s\n",
                resp_cpu_ms, resp_util * 100, r0.rss_kb, r1.rss_kb, kb_per_sa,
                o.idle > 0 ? (", idle " + std::to_string(static_cast<int>(idle_util * 1000) / 10.0).substr(0, 5) +
                              "% of a core holding " + std::to_string(held) + " SAs").c_str()
                           : "");
  std::printf("  generator: %.3f ms CPU per IKE SA (%.0f%% of a core)\n", gen_cpu_ms, (c1 - c0) / wall * 100);
  std::printf(
      "RESULT {\"proposal\": \"%s\", \"child\": %s, \"established\": %llu, \"failed\": %llu, \"seconds\": %.3f, "
      "\"rate\": %.1f, \"responder_cpu_ms\": %.4f, \"responder_util\": %.3f, \"rss_before_kb\": %ld, "
      "\"rss_after_kb\": %ld, \"kb_per_sa\": %.2f, \"held\": %llu, \"idle_util\": %.4f, \"generator_cpu_ms\": %.4f, "
      "\"generator_util\": %.3f, \"retransmits\": %llu, \"finished\": %s}\n",
      o.proposal.c_str(), o.child ? "true" : "false", static_cast<unsigned long long>(est),
      static_cast<unsigned long long>(failed), wall, rate, resp_cpu_ms, resp_util, r0.rss_kb, r1.rss_kb, kb_per_sa,
      static_cast<unsigned long long>(held), idle_util, gen_cpu_ms, (c1 - c0) / wall,
      static_cast<unsigned long long>(total.retransmitted), finished ? "true" : "false");
  std::fflush(stdout);
  // The SAs die with the process: no Deletes, the responder is stopped next.
  std::_Exit(finished ? 0 : 2);
}
