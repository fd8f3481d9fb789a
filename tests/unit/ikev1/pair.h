// Two Corridor IKEv1 peers in one process for the exchange tests: A
// (192.0.2.1, a.example.net) and B (198.51.100.2, b.example.net), each a
// real control/ikev1 Manager with its config, an in-memory wire that the
// test delivers one datagram at a time, and a recording dataplane.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "common/config/loader.h"
#include "common/ikev1/message.h"
#include "common/log/log.h"
#include "control/ikev1/manager.h"
#include "tests/unit/support/ike_wire.h"

namespace corridor::ikev1_test {

using test_support::Dataplane;
using test_support::Datagram;
using test_support::Wire;

struct Spec {
  std::string proposals = R"(["aes256-sha256-modp2048"])";
  std::string psk = "an IKEv1 shared secret of some length";
  std::string remote_id = "";  // default: the peer's id
  bool encap = false;
  std::string remote_addrs = "";  // default: the peer's address
  std::string esp = R"(["aes128-sha256-modp2048"])";
  std::string local_ts = R"(["10.1.0.0/16"])";
  std::string remote_ts = R"(["10.2.0.0/16"])";
  bool aggressive = false;
  std::string child_rekey = "1h";
  std::string child_life = "";  // default: rekey_time + 10%
  // More keys of the connection and of its child, as JSON members
  // ("\"dpd_delay\": \"10s\""); empty: none.
  std::string connection_extra;
  std::string child_extra;
  // Certificates instead of the PSK: the members of "local" and "remote"
  // besides "id" (e.g. "\"auth\": \"pubkey\", \"certs\": [...]"), and the
  // members of "secrets" (the private key). Empty: the PSK.
  std::string local_auth;
  std::string remote_auth;
  std::string secrets;
  // The same spec from the other end: selectors swapped.
  Spec mirrored() const {
    Spec m = *this;
    std::swap(m.local_ts, m.remote_ts);
    return m;
  }
};

inline config::Config make_config(const std::string& local, const std::string& remote, const std::string& local_id,
                                  const std::string& remote_id, const Spec& s) {
  const std::string rid = s.remote_id.empty() ? remote_id : s.remote_id;
  const std::string raddr = s.remote_addrs.empty() ? remote : s.remote_addrs;
  const auto extra = [](const std::string& members) { return members.empty() ? std::string() : ", " + members; };
  const std::string text = R"({
    "connections": { "legacy": {
      "version": 1, "local_addrs": [")" + local + R"("], "remote_addrs": [")" + raddr + R"("],
      "proposals": )" + s.proposals + R"(, "encap": )" + (s.encap ? "true" : "false") + R"(,
      "aggressive": )" + (s.aggressive ? "true, \"allow_aggressive_psk\": true" : "false") + extra(s.connection_extra) + R"(,
      "local": { )" + (s.local_auth.empty() ? R"("auth": "psk")" : s.local_auth) + R"(, "id": ")" + local_id + R"(" },
      "remote": { )" + (s.remote_auth.empty() ? R"("auth": "psk")" : s.remote_auth) + R"(, "id": ")" + rid + R"(" },
      "children": { "office": { "local_ts": )" + s.local_ts + R"(, "remote_ts": )" + s.remote_ts + R"(,
                                "esp_proposals": )" + s.esp + R"(, "rekey_time": ")" + s.child_rekey + R"(")" +
                           (s.child_life.empty() ? std::string() : R"(, "life_time": ")" + s.child_life + R"(")") +
                           extra(s.child_extra) + R"( } } } },
    "secrets": { )" + (s.secrets.empty() ? R"("ike-legacy": { "id": [")" + local_id + R"(", ")" + remote_id +
                                                 R"("], "secret": ")" + s.psk + R"(" })"
                                           : s.secrets) + R"( }
  })";
  auto result = config::load_config_text(text);
  EXPECT_TRUE(result.ok()) << [&] {
    std::string all;
    for (const auto& d : result.diagnostics.items()) all += d.pointer + ": " + d.message + "\n";
    return all;
  }();
  return result.ok() ? *result.config : config::Config{};
}

inline const auto kAddrA = *net::IpAddress::parse("192.0.2.1");
inline const auto kAddrB = *net::IpAddress::parse("198.51.100.2");

class Pair {
 public:
  explicit Pair(const Spec& a_spec = {}, const Spec& b_spec = Spec{}.mirrored(),
                control::ikev1::ManagerOptions a_options = {}, control::ikev1::ManagerOptions b_options = {})
      : config_a(make_config("192.0.2.1", "198.51.100.2", "a.example.net", "b.example.net", a_spec)),
        config_b(make_config("198.51.100.2", "192.0.2.1", "b.example.net", "a.example.net", b_spec)),
        wire_a(kAddrA),
        wire_b(kAddrB),
        a(config_a, wire_a, dp_a, std::move(a_options)),
        b(config_b, wire_b, dp_b, std::move(b_options)) {}

  // Moves the oldest datagram from `from` to `to` (from behind a NAT, as
  // 203.0.113.9 with its port moved up by 40000, when `via_nat`).
  bool step(Wire& from, control::ikev1::Manager& to, bool via_nat = false) {
    if (from.queue.empty()) return false;
    Datagram d = from.queue.front();
    from.queue.pop_front();
    if (via_nat) d.local = {*net::IpAddress::parse("203.0.113.9"), static_cast<std::uint16_t>(d.local.port + 40000)};
    to.receive(d.remote, d.local, d.bytes, now);
    return true;
  }
  bool a_to_b(bool nat = false) { return step(wire_a, b, nat); }
  bool b_to_a() { return step(wire_b, a); }
  // Delivers everything queued both ways until both wires are empty.
  void settle() {
    while (a_to_b() || b_to_a()) {
    }
  }
  void tick() {
    a.tick(now);
    b.tick(now);
  }

  config::Config config_a, config_b;
  Wire wire_a, wire_b;
  Dataplane dp_a, dp_b;
  control::ikev1::Manager a, b;
  control::ikev1::TimePoint now = control::ikev1::Clock::now();
};

// Every state change the log reports, in order.
class StateLog {
 public:
  StateLog() {
    log::set_listener([this](log::Level, std::string_view, std::string_view message) {
      const std::string m(message);
      if (m.find(" -> ") != std::string::npos && (m.find("MM_") != std::string::npos || m.find("QM_") != std::string::npos ||
                                                   m.find("AM_") != std::string::npos))
        lines.push_back(m);
    });
  }
  ~StateLog() { log::set_listener(nullptr); }
  std::vector<std::string> lines;
};

inline corridor::ikev1::Message parse(const Datagram& d) {
  auto m = corridor::ikev1::parse_message(d.bytes);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  return m.ok() ? *m : corridor::ikev1::Message{};
}

// Main Mode (6 messages) and the Quick Mode of "office" (3), A initiating.
inline void establish(Pair& p, bool nat = false) {
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(p.a_to_b(nat)) << "A's message " << i + 1;
    ASSERT_TRUE(p.b_to_a()) << "B's message " << i + 1;
  }
  ASSERT_TRUE(p.a_to_b(nat)) << "Quick Mode 3";
}

// Each side's outbound SA is the other's inbound one, with the same keys.
inline void expect_mirrored(const Dataplane& x, const Dataplane& y) {
  ASSERT_EQ(x.sas.size(), 2u);
  ASSERT_EQ(y.sas.size(), 2u);
  const auto* x_out = x.find(channel::Direction::outbound);
  const auto* x_in = x.find(channel::Direction::inbound);
  const auto* y_out = y.find(channel::Direction::outbound);
  const auto* y_in = y.find(channel::Direction::inbound);
  ASSERT_TRUE(x_out && x_in && y_out && y_in);
  EXPECT_EQ(x_out->spi, y_in->spi);
  EXPECT_EQ(y_out->spi, x_in->spi);
  EXPECT_EQ(x_out->encryption_key.view().size(), y_in->encryption_key.view().size());
  EXPECT_TRUE(std::ranges::equal(x_out->encryption_key.view(), y_in->encryption_key.view()));
  EXPECT_TRUE(std::ranges::equal(x_out->integrity_key.view(), y_in->integrity_key.view()));
  EXPECT_TRUE(std::ranges::equal(y_out->encryption_key.view(), x_in->encryption_key.view()));
  EXPECT_FALSE(std::ranges::equal(x_out->encryption_key.view(), x_in->encryption_key.view()));
  EXPECT_EQ(x.policies.size(), 2u);
  EXPECT_EQ(y.policies.size(), 2u);
}

}  // namespace corridor::ikev1_test
