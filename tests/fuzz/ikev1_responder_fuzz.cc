// Fuzz target: the IKEv1 manager as a responder (control/ikev1/manager.h)
// fed arbitrary datagrams: ISAKMP parsing, Main Mode 1 and Aggressive Mode 1
// proposal selection (a second connection, "partner", takes Aggressive Mode),
// cookie lookup, the MM_* state checks, NAT-D, decryption failures of
// Main Mode 5 and of Quick Mode / Informational messages, repeats, IKEv1
// fragments and their reassembly (fragmentation.h).
//
// Input: a mode byte, then datagrams separated by the 4-byte marker
// "\xfe\xed\xfa\xce".
//   mode & 1  first run a genuine exchange with an in-process initiator:
//             Main Mode 1 only, or with mode & 8 all of Main Mode (MM_DONE,
//             keys and IV chains live), so fuzzed datagrams can target it:
//   mode & 2  each fuzzed datagram of 28 bytes or more gets that SA's
//             cookies written into its header;
//   mode & 4  datagrams arrive on port 4500 (after a NAT-T float).
// Invariants: nothing crashes or leaks (ASan), every datagram is counted,
// answers go only to the sender, and the responder never holds more
// ISAKMP SAs than datagrams it was given.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "common/config/loader.h"
#include "common/log/log.h"
#include "control/ikev1/manager.h"

namespace {

using namespace corridor;           // NOLINT: fuzz target brevity
using namespace corridor::control;  // NOLINT

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "ikev1_responder_fuzz: %s\n", what);
  std::abort();
}

class Wire final : public control::ike::Transport {
 public:
  void send(const net::SocketAddress&, const net::SocketAddress& remote, std::span<const std::uint8_t> d) override {
    last_remote = remote;
    sent.emplace_back(d.begin(), d.end());
  }
  std::optional<net::IpAddress> source_for(const net::IpAddress&) override { return net::IpAddress::parse("192.0.2.1"); }
  void send_nat_keepalive(const net::SocketAddress&, const net::SocketAddress&) override {}
  std::vector<std::vector<std::uint8_t>> sent;
  net::SocketAddress last_remote;
};

class Sink final : public control::ike::ChildSaSink {
 public:
  bool set_sa(const channel::SaRecord&) override { return true; }
  void remove_sa(std::uint64_t) override {}
  bool set_policy(const channel::PolicyRecord&) override { return true; }
  void remove_policy(std::uint64_t) override {}
};

const config::Config& config_for(bool responder) {
  static const auto make = [](const char* local, const char* remote, const char* lid, const char* rid) {
    const std::string text = std::string(R"({"connections": {"peer": {
      "version": 1, "local_addrs": [")") + local + R"("], "remote_addrs": [")" + remote + R"("],
      "proposals": ["aes128-sha256-ecp256", "aes256-sha1-modp2048"],
      "local": {"auth": "psk", "id": ")" + lid + R"("}, "remote": {"auth": "psk", "id": ")" + rid + R"("},
      "children": {"net": {"local_ts": ["10.1.0.0/16"], "remote_ts": ["10.2.0.0/16"],
                           "esp_proposals": ["aes128gcm16", "aes128-sha256-ecp256"]}}},
      "partner": {"version": 1, "aggressive": true, "allow_aggressive_psk": true,
        "local_addrs": [")" + local + R"("], "proposals": ["aes256-sha256-modp2048"],
        "local": {"auth": "psk", "id": ")" + lid + R"("}, "remote": {"auth": "psk"},
        "children": {"lan": {"local_ts": ["10.1.50.0/24"], "remote_ts": ["192.168.77.0/24"]}}}},
      "secrets": {"ike-1": {"secret": "a fuzzing secret of some length"}}})";
    auto r = config::load_config_text(text);
    if (!r.ok()) fail("fuzz config does not load");
    return *r.config;
  };
  static const config::Config responder_config = make("198.51.100.2", "192.0.2.1", "b.test", "a.test");
  static const config::Config initiator_config = make("192.0.2.1", "198.51.100.2", "a.test", "b.test");
  return responder ? responder_config : initiator_config;
}

std::vector<std::span<const std::uint8_t>> split(std::span<const std::uint8_t> in) {
  static constexpr std::uint8_t kMarker[4] = {0xfe, 0xed, 0xfa, 0xce};
  std::vector<std::span<const std::uint8_t>> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i + 4 <= in.size(); ++i) {
    if (std::memcmp(in.data() + i, kMarker, 4) == 0) {
      out.push_back(in.subspan(start, i - start));
      start = i + 4;
      i += 3;
    }
  }
  out.push_back(in.subspan(start));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  static const bool quiet = [] {
    config::LoggingConfig lc;
    lc.level = config::LogLevel::error;
    corridor::log::configure(lc, "fuzz");
    return true;
  }();
  (void)quiet;

  const net::SocketAddress us{*net::IpAddress::parse("198.51.100.2"), 500};
  const net::SocketAddress peer{*net::IpAddress::parse("192.0.2.1"), 500};
  Wire wire;
  Sink sink;
  control::ikev1::Manager responder(config_for(true), wire, sink);
  auto now = control::ikev1::Clock::now();
  std::size_t delivered = 0;
  std::array<std::uint8_t, 16> cookies{};
  bool have_sa = false;

  Wire init_wire;
  Sink init_sink;
  control::ikev1::Manager initiator(config_for(false), init_wire, init_sink);
  if (mode & 1) {
    if (!initiator.initiate("peer", "net", now) || init_wire.sent.size() != 1) fail("initiator did not start");
    const int rounds = (mode & 8) ? 3 : 1;
    for (int i = 0; i < rounds; ++i) {
      if (init_wire.sent.empty()) fail("the genuine initiator stopped");
      const auto from_port = i == 2 ? std::uint16_t{4500} : std::uint16_t{500};
      responder.receive({us.address, from_port}, {peer.address, from_port}, init_wire.sent.back(), now);
      ++delivered;
      if (wire.sent.empty()) fail("genuine Main Mode message not answered");
      initiator.receive({peer.address, from_port}, {us.address, from_port}, wire.sent.back(), now);
    }
    if (responder.sa_count() != 1) fail("genuine Main Mode not accepted");
    std::memcpy(cookies.data(), wire.sent.back().data(), 16);
    have_sa = true;
  }

  for (auto d : split(std::span(data + 1, size - 1))) {
    std::vector<std::uint8_t> datagram(d.begin(), d.end());
    if (have_sa && (mode & 2) && datagram.size() >= 28) std::memcpy(datagram.data(), cookies.data(), 16);
    const auto port = (mode & 4) ? std::uint16_t{4500} : std::uint16_t{500};
    responder.receive({us.address, port}, {peer.address, port}, datagram, now);
    ++delivered;
    now += std::chrono::seconds(1);
    responder.tick(now);
  }
  if (responder.stats().received != delivered) fail("a datagram was not counted");
  if (!wire.sent.empty() && !(wire.last_remote.address == peer.address)) fail("answered someone other than the sender");
  if (responder.sa_count() > delivered) fail("more ISAKMP SAs than datagrams");
  return 0;
}
