// Two Corridor IKEv2 peers in one process, for the exchange tests: two
// Managers joined by an in-memory wire, stepped one message at a time, with
// real key exchange and crypto, and what each dataplane would hold.
//
//   A (initiator, 192.0.2.1)  <-- wire -->  B (responder, 198.51.100.2)
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/config/loader.h"
#include "common/ike/message.h"
#include "control/ikev2/manager.h"
#include "tests/unit/support/ike_wire.h"

namespace corridor::ikev2_test {

using namespace corridor;            // NOLINT: test brevity
using namespace corridor::control;   // NOLINT
using ikev2::Clock;
using ikev2::TimePoint;
using namespace std::chrono_literals;

using test_support::Dataplane;
using test_support::Datagram;
using test_support::Wire;

struct PeerSpec {
  std::string proposals = R"(["aes256gcm16-prfsha384-ecp384"])";
  std::string esp = R"(["aes256gcm16"])";
  std::string psk = "a shared secret of reasonable length";
  std::string local_ts = R"(["10.1.0.0/16"])";
  std::string remote_ts = R"(["10.2.0.0/16"])";
  std::string mode = "tunnel";
  bool encap = false;
  std::string dpd_delay = "0s";
  std::string dpd_action = "clear";
  std::string ike_rekey = "4h";
  std::string reauth = "0s";
  std::string child_rekey = "1h";
  std::string start_action = "none";
  std::string close_action = "none";
  // A second child "net2" with these selectors when set.
  std::string net2_local_ts;
  std::string net2_remote_ts;
  // How long a replaced pair's inbound SA stays (ManagerOptions::
  // retire_delay): none here, so a test sees one pair per child as soon as
  // a rekey is done; the tests of the delay set it.
  std::chrono::seconds retire_delay{0};

  // The same spec from the other end: selectors swapped.
  PeerSpec mirrored() const {
    PeerSpec m = *this;
    std::swap(m.local_ts, m.remote_ts);
    std::swap(m.net2_local_ts, m.net2_remote_ts);
    return m;
  }
};

inline config::Config make_config(const std::string& local, const std::string& remote, const std::string& local_id,
                           const std::string& remote_id, const PeerSpec& p) {
  const std::string text = R"({
    "connections": { "peer": {
      "version": 2, "local_addrs": [")" + local + R"("], "remote_addrs": [")" + remote + R"("],
      "proposals": )" + p.proposals + R"(, "encap": )" + (p.encap ? "true" : "false") + R"(,
      "dpd_delay": ")" + p.dpd_delay + R"(", "rekey_time": ")" + p.ike_rekey + R"(",
      "reauth_time": ")" + p.reauth + R"(",
      "local": { "auth": "psk", "id": ")" + local_id + R"(" },
      "remote": { "auth": "psk", "id": ")" + remote_id + R"(" },
      "children": { "net": { "local_ts": )" + p.local_ts + R"(, "remote_ts": )" + p.remote_ts + R"(,
                             "esp_proposals": )" + p.esp + R"(, "mode": ")" + p.mode + R"(",
                             "dpd_action": ")" + p.dpd_action + R"(", "start_action": ")" + p.start_action + R"(", "close_action": ")" + p.close_action + R"(", "rekey_time": ")" + p.child_rekey + R"(" })" +
                           (p.net2_local_ts.empty() ? std::string()
                                                    : R"(, "net2": { "local_ts": )" + p.net2_local_ts +
                                                          R"(, "remote_ts": )" + p.net2_remote_ts +
                                                          R"(, "esp_proposals": )" + p.esp + R"( })") +
                           R"( } } },
    "secrets": { "ike-peer": { "id": [")" + local_id + R"(", ")" + remote_id + R"("], "secret": ")" + p.psk + R"(" } }
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
  // `a` as written; `b` as seen from B (local_ts is B's side).
  Pair(const PeerSpec& spec_a, const PeerSpec& spec_b, ikev2::ManagerOptions options_b = {})
      : config_a(make_config("192.0.2.1", "198.51.100.2", "a.example.net", "b.example.net", spec_a)),
        config_b(make_config("198.51.100.2", "192.0.2.1", "b.example.net", "a.example.net", spec_b)),
        shared_a(std::make_shared<const config::Config>(config_a)),
        wire_a(kAddrA),
        wire_b(kAddrB),
        a(shared_a, wire_a, dp_a, with_retire_delay({}, spec_a)),
        b(config_b, wire_b, dp_b, with_retire_delay(std::move(options_b), spec_b)) {}

  static ikev2::ManagerOptions with_retire_delay(ikev2::ManagerOptions options, const PeerSpec& spec) {
    options.retire_delay = spec.retire_delay;
    return options;
  }

  // Moves the oldest datagram from `from` to `to`; false if there is none.
  bool step(Wire& from, ikev2::Manager& to) {
    if (from.queue.empty()) return false;
    const Datagram d = from.queue.front();
    from.queue.pop_front();
    to.receive(d.remote, d.local, d.bytes, now);
    return true;
  }
  bool a_to_b() { return step(wire_a, b); }
  bool b_to_a() { return step(wire_b, a); }

  // The four messages of IKE_SA_INIT and IKE_AUTH.
  void establish() {
    ASSERT_TRUE(a.initiate("peer", "net", now));
    establish_initiated();
  }
  // The same after a.initiate().
  void establish_initiated() {
    ASSERT_TRUE(a_to_b());  // IKE_SA_INIT request
    ASSERT_TRUE(b_to_a());  // IKE_SA_INIT response
    ASSERT_TRUE(a_to_b());  // IKE_AUTH request
    ASSERT_TRUE(b_to_a());  // IKE_AUTH response
  }

  config::Config config_a, config_b;
  // A's manager shares its config, as the daemon's does, so a test can
  // reconfigure() it and watch the old config go.
  std::shared_ptr<const config::Config> shared_a;
  Wire wire_a, wire_b;
  Dataplane dp_a, dp_b;
  ikev2::Manager a, b;
  TimePoint now = Clock::now();
};

inline corridor::ike::Message parse(const Datagram& d) {
  auto m = corridor::ike::parse_message(d.bytes);
  EXPECT_TRUE(m.ok());
  return m.ok() ? *m : corridor::ike::Message{};
}

inline bool has_notify(const corridor::ike::Message& m, iana::NotifyType type) {
  for (const auto& p : m.payloads)
    if (const auto* n = std::get_if<corridor::ike::Notify>(&p.body); n && n->type == type) return true;
  return false;
}

// Both dataplanes hold one Child SA pair whose outbound side is the other's inbound side.
inline void expect_matching_child_sas(const Dataplane& x, const Dataplane& y) {
  ASSERT_EQ(x.sas.size(), 2u);
  ASSERT_EQ(y.sas.size(), 2u);
  const auto* x_out = x.find(channel::Direction::outbound);
  const auto* x_in = x.find(channel::Direction::inbound);
  const auto* y_out = y.find(channel::Direction::outbound);
  const auto* y_in = y.find(channel::Direction::inbound);
  ASSERT_TRUE(x_out && x_in && y_out && y_in);
  EXPECT_EQ(x_out->spi, y_in->spi);
  EXPECT_EQ(y_out->spi, x_in->spi);
  EXPECT_NE(x_out->spi, x_in->spi);
  EXPECT_EQ(x_out->encryption_key, y_in->encryption_key);
  EXPECT_EQ(x_out->integrity_key, y_in->integrity_key);
  EXPECT_EQ(y_out->encryption_key, x_in->encryption_key);
  EXPECT_NE(x_out->encryption_key, x_in->encryption_key);  // one key per direction (§2.17)
  EXPECT_EQ(x_out->outer_src, y_in->outer_src);
  EXPECT_EQ(x_out->outer_dst, y_in->outer_dst);
  EXPECT_EQ(x_out->encryption_id, y_in->encryption_id);
  EXPECT_EQ(x_out->udp_encap, y_in->udp_encap);
  EXPECT_EQ(x_out->encap_src_port, y_in->encap_src_port);
  EXPECT_EQ(x_out->encap_dst_port, y_in->encap_dst_port);
}

// Runs both managers' timers to `until`, one second at a time, delivering
// every message as it is sent.
// Delivers what both wires hold, a message each way in turn, until both
// are empty (at most 50 rounds: a pair that never falls silent fails).
inline void drain(Pair& p) {
  for (int i = 0; i < 50 && (!p.wire_a.queue.empty() || !p.wire_b.queue.empty()); ++i) {
    p.a_to_b();
    p.b_to_a();
  }
  ASSERT_TRUE(p.wire_a.queue.empty() && p.wire_b.queue.empty());
}

inline void run_until(Pair& p, TimePoint until) {
  while (p.now < until) {
    p.now += 1s;
    p.a.tick(p.now);
    p.b.tick(p.now);
    while (p.a_to_b() || p.b_to_a()) {
    }
  }
}

inline std::set<std::uint32_t> spis(const Dataplane& d) {
  std::set<std::uint32_t> out;
  for (const auto& [id, sa] : d.sas) out.insert(sa.spi);
  return out;
}

}  // namespace corridor::ikev2_test
