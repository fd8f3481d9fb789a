// Fuzz target: the IKEv2 manager as a responder (control/ikev2/manager.h)
// fed arbitrary datagrams: parsing, the payload rules, IKE_SA_INIT
// negotiation (proposal selection, KE validation, NAT detection), SPI
// lookup, message-ID windows and SK decryption failures.
//
// Input: a mode byte, then datagrams separated by the 4-byte marker
// "\xfe\xed\xfa\xce" (so a mutation can keep several messages apart).
//   mode & 1  first deliver a genuine IKE_SA_INIT request from an
//             in-process initiator, so the responder holds a half-open SA
//             and the following datagrams can target it: each fuzzed
//             datagram of 28 bytes or more gets that SA's SPIs written
//             into its header when mode & 2.
// Invariants: nothing crashes or leaks (ASan), every datagram is counted
// (received), responses only go to the sender, and the responder never
// holds more than one IKE SA per IKE_SA_INIT request it accepted.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "common/config/loader.h"
#include "common/log/log.h"
#include "control/ikev2/manager.h"

namespace {

using namespace corridor;           // NOLINT: fuzz target brevity
using namespace corridor::control;  // NOLINT

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "ikev2_responder_fuzz: %s\n", what);
  std::abort();
}

class Wire final : public ikev2::Transport {
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

class Sink final : public ikev2::ChildSaSink {
 public:
  bool set_sa(const channel::SaRecord&) override { return true; }
  void remove_sa(std::uint64_t) override {}
  bool set_policy(const channel::PolicyRecord&) override { return true; }
  void remove_policy(std::uint64_t) override {}
};

const config::Config& config_for(bool responder) {
  static const auto make = [](const char* local, const char* remote) {
    const std::string text = std::string(R"({"connections": {"peer": {
      "version": 2, "local_addrs": [")") + local + R"("], "remote_addrs": [")" + remote + R"("],
      "proposals": ["aes256gcm16-prfsha384-ecp256", "aes128-sha256-x25519"],
      "local": {"auth": "psk", "id": "a.test"}, "remote": {"auth": "psk", "id": "b.test"},
      "children": {"net": {"local_ts": ["10.1.0.0/16"], "remote_ts": ["10.2.0.0/16"]}}}},
      "secrets": {"ike-1": {"secret": "a fuzzing secret of some length"}}})";
    auto r = config::load_config_text(text);
    if (!r.ok()) fail("fuzz config does not load");
    return *r.config;
  };
  static const config::Config responder_config = make("198.51.100.2", "192.0.2.1");
  static const config::Config initiator_config = make("192.0.2.1", "198.51.100.2");
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
  // Quiet: the manager logs every drop, which would drown the fuzzer.
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
  ikev2::Manager responder(config_for(true), wire, sink);
  auto now = ikev2::Clock::now();
  std::size_t delivered = 0;
  std::array<std::uint8_t, 16> spis{};
  bool have_sa = false;

  if (mode & 1) {
    Wire init_wire;
    Sink init_sink;
    ikev2::Manager initiator(config_for(false), init_wire, init_sink);
    if (!initiator.initiate("peer", "net", now) || init_wire.sent.size() != 1) fail("initiator did not start");
    responder.receive(us, peer, init_wire.sent.front(), now);
    ++delivered;
    if (responder.ike_sa_count() != 1) fail("genuine IKE_SA_INIT not accepted");
    if (wire.sent.size() != 1 || wire.sent.front().size() < 28) fail("genuine IKE_SA_INIT not answered");
    std::memcpy(spis.data(), wire.sent.front().data(), 16);
    have_sa = true;
  }

  for (auto d : split(std::span(data + 1, size - 1))) {
    std::vector<std::uint8_t> datagram(d.begin(), d.end());
    if (have_sa && (mode & 2) && datagram.size() >= 28) std::memcpy(datagram.data(), spis.data(), 16);
    const auto port = (mode & 4) ? std::uint16_t{4500} : std::uint16_t{500};
    responder.receive({us.address, port}, {peer.address, port}, datagram, now);
    ++delivered;
    now += std::chrono::seconds(1);
    responder.tick(now);
  }
  if (responder.stats().received != delivered) fail("a datagram was not counted");
  if (!wire.sent.empty() && !(wire.last_remote.address == peer.address)) fail("answered someone other than the sender");
  if (responder.ike_sa_count() > delivered) fail("more IKE SAs than requests");
  return 0;
}
