// The config loader: defaults, every error at once with its JSON pointer,
// and the example configs in conf/.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/config/loader.h"
#include "tests/unit/config/load_support.h"

namespace corridor::config {
namespace {

using testing::all;
using testing::find;
using testing::load;

TEST(Loader, EmptyDocumentIsValidWithDefaults) {
  const auto r = load("{}");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_TRUE(r.config->connections.empty());
  EXPECT_EQ(r.config->sa_channel.name, "/corridor");
  EXPECT_EQ(r.config->sa_channel.command_slots, 4096u);
  EXPECT_FALSE(r.config->api.enabled);
  EXPECT_EQ(r.config->dataplane.poll_mode, PollMode::adaptive);
}

TEST(Loader, ConnectionDefaultsFollowSwanctl) {
  const auto r = load(R"({"connections": {"c": {"remote_addrs": "192.0.2.2",
      "local": {"auth": "psk"}, "remote": {"auth": "psk"},
      "children": {"k": {"rekey_time": "1h"}}}},
      "secrets": {"ike-1": {"secret": "a-long-enough-preshared-key"}}})");
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& c = r.config->connections.at(0);
  EXPECT_EQ(c.version, 0u);
  EXPECT_EQ(c.local_port, 500);
  ASSERT_EQ(c.local_addrs.size(), 1u);
  EXPECT_EQ(c.local_addrs[0].kind, AddressSpec::Kind::any);
  ASSERT_EQ(c.remote_addrs.size(), 1u);
  EXPECT_EQ(c.remote_addrs[0].kind, AddressSpec::Kind::address);
  EXPECT_EQ(c.rekey_time, Seconds(14400));
  EXPECT_EQ(c.over_time, Seconds(1440));
  EXPECT_EQ(c.rand_time, Seconds(1440));
  EXPECT_EQ(c.fragmentation, Fragmentation::yes);
  EXPECT_FALSE(c.proposals.empty());  // "default"
  const auto& k = c.children.at(0);
  EXPECT_EQ(k.mode, ChildMode::tunnel);
  EXPECT_EQ(k.life_time, Seconds(3960));
  EXPECT_EQ(k.rand_time, Seconds(360));
  EXPECT_EQ(k.replay_window, 32u);
  ASSERT_EQ(k.local_ts.size(), 1u);
  EXPECT_TRUE(k.local_ts[0].dynamic);
  EXPECT_FALSE(k.esp_proposals.empty());
  EXPECT_TRUE(k.ah_proposals.empty());
  EXPECT_EQ(k.dpd_action, Action::clear);
}

TEST(Loader, ReportsEveryErrorWithItsPointer) {
  const auto r = load(R"({
    "connections": {
      "site-b": {
        "remote_adrs": ["192.0.2.1"],
        "version": 3,
        "proposals": ["aes257-sha256-modp2048"],
        "children": {
          "lans": {
            "local_ts": ["10.1.0.0/16", "10.1.0.0/33"],
            "mode": "tunel",
            "replay_window": 100000
          }
        }
      }
    },
    "dataplane": {"ports": [{"name": "net_null0"}]}
  })");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(find(r, "/connections/site-b/children/lans/local_ts/1")->message,
            "not a CIDR: 10.1.0.0/33 (prefix length must be 0..32: 10.1.0.0/33)");
  EXPECT_EQ(find(r, "/connections/site-b/remote_adrs")->message,
            "unknown key 'remote_adrs', did you mean 'remote_addrs'?");
  EXPECT_EQ(find(r, "/connections/site-b/version")->message, "must be 0..2 (got 3)");
  ASSERT_TRUE(find(r, "/connections/site-b/proposals/0"));
  EXPECT_NE(find(r, "/connections/site-b/proposals/0")->message.find("aes257"), std::string::npos);
  EXPECT_EQ(find(r, "/connections/site-b/children/lans/mode")->message,
            "must be one of tunnel, transport (got 'tunel')");
  EXPECT_EQ(find(r, "/connections/site-b/children/lans/replay_window")->message, "must be 0..16384 (got 100000)");
  ASSERT_TRUE(find(r, "/dataplane/ports/0/role"));
  EXPECT_GE(r.diagnostics.error_count(), 7u) << all(r);
}

TEST(Loader, JsonSyntaxErrorHasLineAndColumn) {
  const auto r = load("{\n  \"connections\": {\n    \"a\": { \"version\": 2, }\n  }\n}");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.items().size(), 1u);
  EXPECT_NE(r.diagnostics.items()[0].message.find("line 3"), std::string::npos) << all(r);
}

TEST(Loader, IkeRetransmissionDefaultsAndLimits) {
  const auto defaults = load("{}");
  ASSERT_TRUE(defaults.ok()) << all(defaults);
  EXPECT_EQ(defaults.config->ike.retransmit_timeout, std::chrono::milliseconds(4000));
  EXPECT_DOUBLE_EQ(defaults.config->ike.retransmit_base, 1.8);
  EXPECT_EQ(defaults.config->ike.retransmit_tries, 5u);
  EXPECT_NEAR(defaults.config->ike.give_up_seconds(), 165.06, 0.01);  // strongSwan's 165 s

  const auto fast = load(R"({"ike": {"retransmit_timeout": 0.5, "retransmit_base": 1.5, "retransmit_tries": 2}})");
  ASSERT_TRUE(fast.ok()) << all(fast);
  EXPECT_EQ(fast.config->ike.retransmit_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(fast.config->ike.retransmit_tries, 2u);
  EXPECT_NEAR(fast.config->ike.give_up_seconds(), 0.5 + 0.75 + 1.125, 1e-9);
  const auto text = load(R"({"ike": {"retransmit_timeout": "2s"}})");
  ASSERT_TRUE(text.ok()) << all(text);
  EXPECT_EQ(text.config->ike.retransmit_timeout, std::chrono::milliseconds(2000));

  const auto bad = load(R"({"ike": {"retransmit_timeout": 0, "retransmit_base": 0.5, "retransmit_tries": 21,
                                    "retransmit_jitter": 10}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(find(bad, "/ike/retransmit_timeout")->message.find("must be 0.1..3600 seconds"), std::string::npos);
  EXPECT_NE(find(bad, "/ike/retransmit_base")->message.find("must be a number 1..10"), std::string::npos);
  EXPECT_EQ(find(bad, "/ike/retransmit_tries")->message, "must be 0..20 (got 21)");
  EXPECT_TRUE(find(bad, "/ike/retransmit_jitter"));
  // Each value in range, the whole wait not: 3600 s x 10^k over 20 tries.
  const auto forever = load(R"({"ike": {"retransmit_timeout": 3600, "retransmit_base": 10, "retransmit_tries": 20}})");
  ASSERT_FALSE(forever.ok());
  EXPECT_NE(find(forever, "/ike")->message.find("keep it under a day"), std::string::npos) << all(forever);
}

TEST(Loader, CommentsAreAllowed) {
  const auto r = load("// gateway A\n{\n  /* the SA channel */ \"sa_channel\": {\"name\": \"/gw-a\"} // shm name\n}\n");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config->sa_channel.name, "/gw-a");
  // An unterminated block comment is a syntax error with its position.
  const auto bad = load("{\n  /* never closed\n}");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.diagnostics.items()[0].message.find("JSON syntax error at line"), std::string::npos) << all(bad);
}

TEST(Loader, NumberOverflowIsAnErrorNotACrash) {
  const auto r = load(R"({"connections": {"a": {"version": 45e25519}}})");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.items().size(), 1u);
  EXPECT_EQ(r.diagnostics.items()[0].message, "JSON value cannot be read: number overflow parsing '45e25519'");
}

TEST(Loader, TypeErrorsNameTheType) {
  const auto r = load(R"({"connections": {"a": {"encap": "maybe", "local_port": "500",
                          "local_addrs": [1], "children": []}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(find(r, "/connections/a/encap")->message, "must be true or false, not \"maybe\"");
  EXPECT_EQ(find(r, "/connections/a/local_port")->message, "must be an integer, not a string");
  EXPECT_EQ(find(r, "/connections/a/local_addrs/0")->message, "must be a string, not an integer");
  EXPECT_EQ(find(r, "/connections/a/children")->message, "must be an object, not an array");
}

TEST(Loader, ListsAcceptCommaSeparatedStrings) {
  const auto r = load(R"({"connections": {"a": {
      "local_addrs": "192.0.2.1, 2001:db8::1",
      "proposals": "aes128-sha256-modp3072,aes256gcm16-prfsha384-ecp384",
      "local": {"auth": "psk"}, "remote": {"auth": "psk"},
      "children": {"c": {"local_ts": "10.0.0.0/8, 172.16.0.0/12", "esp_proposals": "aes128gcm16"}}}},
      "secrets": {"ike-x": {"secret": "0x00112233445566778899aabbccddeeff"}}})");
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& c = r.config->connections[0];
  ASSERT_EQ(c.local_addrs.size(), 2u);
  EXPECT_EQ(c.local_addrs[1].prefix.address.to_string(), "2001:db8::1");
  EXPECT_EQ(c.proposals.size(), 2u);
  EXPECT_EQ(c.children[0].local_ts.size(), 2u);
  EXPECT_EQ(c.children[0].local_ts[1].to_string(), "172.16.0.0/12");
}

TEST(Loader, EmptyListsAreErrors) {
  const auto r = load(R"({"connections": {"a": {"remote_addrs": [], "proposals": [],
                          "children": {"c": {"local_ts": [], "esp_proposals": []}}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(find(r, "/connections/a/remote_addrs")->message, "must list at least one address (or %any)");
  EXPECT_EQ(find(r, "/connections/a/proposals")->message, "must list at least one proposal (or \"default\")");
  EXPECT_EQ(find(r, "/connections/a/children/c/local_ts")->message,
            "must list at least one traffic selector (or dynamic)");
  EXPECT_TRUE(find(r, "/connections/a/children/c/esp_proposals"));
}

TEST(Loader, KeepsConnectionOrderOfTheFile) {
  const auto r = load(R"({"connections": {"zeta": {"local": {"auth": "psk"}, "remote": {"auth": "psk"}},
                                           "alpha": {"local": {"auth": "psk"}, "remote": {"auth": "psk"}},
                                           "mid": {"local": {"auth": "psk"}, "remote": {"auth": "psk"}}}})");
  ASSERT_TRUE(r.ok()) << all(r);
  ASSERT_EQ(r.config->connections.size(), 3u);
  EXPECT_EQ(r.config->connections[0].name, "zeta");
  EXPECT_EQ(r.config->connections[1].name, "alpha");
  EXPECT_EQ(r.config->connections[2].name, "mid");
  EXPECT_EQ(r.config->find_connection("alpha"), &r.config->connections[1]);
  EXPECT_EQ(r.config->find_connection("nope"), nullptr);
}

TEST(Loader, AggressiveModeNeedsIkev1AndExplicitPskOptIn) {
  auto r = load(R"({"connections": {"a": {"version": 1, "aggressive": true,
                     "local": {"auth": "psk"}, "remote": {"auth": "psk"}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(find(r, "/connections/a/aggressive")->message.find("allow_aggressive_psk"), std::string::npos);

  r = load(R"({"connections": {"a": {"version": 2, "aggressive": true}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(find(r, "/connections/a/aggressive")->message,
            "Aggressive Mode exists only in IKEv1: set \"version\": 1");

  r = load(R"({"connections": {"a": {"version": 1, "aggressive": true, "allow_aggressive_psk": true,
               "local": {"auth": "psk"}, "remote": {"auth": "psk"}}},
               "secrets": {"ike-a": {"secret": "0sc2VjcmV0LXNlY3JldC1zZWNyZXQ="}}})");
  EXPECT_TRUE(r.ok()) << all(r);
}

// IKEv1 has one Phase 1 Authentication Method for both ends, and no PSS.
TEST(Loader, Ikev1AuthenticatesBothEndsAlike) {
  auto r = load(R"({"connections": {"a": {"version": 1,
                     "local": {"auth": "psk"}, "remote": {"auth": "pubkey", "cacerts": ["/etc/ca.pem"]}}}})");
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(find(r, "/connections/a/remote")) << all(r);
  EXPECT_NE(find(r, "/connections/a/remote")->message.find("one Phase 1 method"), std::string::npos) << all(r);

  r = load(R"({"connections": {"a": {"version": 1, "local": {"auth": "rsa/pss", "certs": ["/etc/gw.pem"]},
               "remote": {"auth": "pubkey", "cacerts": ["/etc/ca.pem"]}}}})");
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(find(r, "/connections/a/local")) << all(r);
  EXPECT_NE(find(r, "/connections/a/local")->message.find("RSASSA-PSS"), std::string::npos) << all(r);

  // The same in IKEv2 is fine.
  r = load(R"({"connections": {"a": {"version": 2,
               "local": {"auth": "psk"}, "remote": {"auth": "pubkey", "cacerts": ["/etc/ca.pem"]}}},
               "secrets": {"ike-a": {"secret": "0sc2VjcmV0LXNlY3JldC1zZWNyZXQ="}}})");
  EXPECT_TRUE(r.ok()) << all(r);
}

TEST(Loader, WeakAlgorithmsNeedAllowWeak) {
  auto r = load(R"({"connections": {"a": {"proposals": ["aes128-sha1-modp1024"]}}})");
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(find(r, "/connections/a/proposals/0"));
  EXPECT_NE(find(r, "/connections/a/proposals/0")->message.find("weak"), std::string::npos) << all(r);

  r = load(R"({"connections": {"a": {"children": {"c": {"esp_proposals": ["3des-md5"]}}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(find(r, "/connections/a/children/c/esp_proposals/0")) << all(r);
}

TEST(Loader, ChildProposalKindsAndLifetimes) {
  auto r = load(R"({"connections": {"a": {"children": {"c": {
                     "esp_proposals": ["aes128gcm16"], "ah_proposals": ["sha256"]}}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(find(r, "/connections/a/children/c/ah_proposals"));

  r = load(R"({"connections": {"a": {"local": {"auth": "psk"}, "remote": {"auth": "psk"},
                                     "children": {"c": {"ah_proposals": ["sha256-sha512"]}}}}})");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_TRUE(r.config->connections[0].children[0].esp_proposals.empty());
  EXPECT_FALSE(r.config->connections[0].children[0].ah_proposals.empty());

  r = load(R"({"connections": {"a": {"children": {"c": {"rekey_time": "2h", "life_time": "1h"}}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(find(r, "/connections/a/children/c/life_time")->message,
            "life_time (3600s) must be longer than rekey_time (7200s)");

  // A short rekey_time still gets a life_time past it by default.
  r = load(R"({"connections": {"a": {"local": {"auth": "psk"}, "remote": {"auth": "psk"},
                                     "children": {"c": {"rekey_time": "6s"}}}}})");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config->connections[0].children[0].life_time, Seconds(7));
  EXPECT_EQ(r.config->connections[0].children[0].rand_time, Seconds(1));

  // Rekeying off: no default life_time, the Child SA lives until deleted
  // (a default of 1 s once closed every such Child SA a second after it
  // came up).
  r = load(R"({"connections": {"a": {"local": {"auth": "psk"}, "remote": {"auth": "psk"},
                                     "children": {"c": {"rekey_time": "0"}}}}})");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config->connections[0].children[0].life_time, Seconds(0));

  r = load(R"({"connections": {"a": {"local": {"auth": "psk"}, "remote": {"auth": "psk"},
                                     "children": {"c": {"rekey_bytes": "1g", "rekey_packets": 1000000}}}}})");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config->connections[0].children[0].rekey_bytes, 1ull << 30);
  EXPECT_GT(r.config->connections[0].children[0].life_bytes, 1ull << 30);
  EXPECT_EQ(r.config->connections[0].children[0].life_packets, 1100000u);
}

TEST(Loader, StartActionNeedsAPeerToStartWith) {
  const auto r = load(R"({"connections": {"a": {"remote_addrs": ["%any"],
                          "children": {"c": {"start_action": "start"}}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(find(r, "/connections/a/children/c/start_action")) << all(r);
}

TEST(Loader, TrapNeedsAPeerAndSelectorsKnownBeforeNegotiation) {
  // Subnets and a single peer: a trap loads without a word.
  auto r = load(R"({"connections": {"a": {"remote_addrs": ["198.51.100.2"], "local": {"auth": "psk"},
                    "remote": {"auth": "psk"}, "children": {"c": {"local_ts": ["10.1.0.0/16"],
                    "remote_ts": ["10.2.0.0/16"], "start_action": "trap", "dpd_action": "trap",
                    "close_action": "trap"}}}}})");
  ASSERT_TRUE(r.ok()) << all(r);
  for (const auto& d : r.diagnostics.items())
    EXPECT_EQ(d.pointer.find("/children"), std::string::npos) << "no word about the trap: " << d.message;
  EXPECT_EQ(r.config->connections[0].children[0].start_action, config::Action::trap);

  // No single peer to initiate to.
  r = load(R"({"connections": {"a": {"remote_addrs": ["%any"], "children": {"c": {"local_ts": ["10.1.0.0/16"],
              "remote_ts": ["10.2.0.0/16"], "close_action": "trap"}}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(find(r, "/connections/a/children/c/close_action")) << all(r);

  // A dynamic local_ts (the default) and no single local address: nothing
  // to put in the trap before the negotiation says what it is.
  r = load(R"({"connections": {"a": {"remote_addrs": ["198.51.100.2"], "local": {"auth": "psk"},
              "remote": {"auth": "psk"}, "children": {"c": {"remote_ts": ["10.2.0.0/16"], "start_action": "trap"}}}}})");
  ASSERT_FALSE(r.ok());
  const auto* d = find(r, "/connections/a/children/c/start_action");
  ASSERT_TRUE(d) << all(r);
  EXPECT_NE(d->message.find("dynamic local_ts needs local_addrs"), std::string::npos) << d->message;

  // A host name is no address to trap on either.
  r = load(R"({"connections": {"a": {"local_addrs": ["192.0.2.1"], "remote_addrs": ["gw.example.net"],
              "local": {"auth": "psk"}, "remote": {"auth": "psk"}, "children": {"c": {"dpd_action": "trap"}}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(find(r, "/connections/a/children/c/dpd_action")) << all(r);
}

TEST(Loader, RemoteCrlsAndRevocation) {
  auto r = load(R"({"connections": {"a": {"local": {"auth": "psk"}, "remote": {"auth": "pubkey",
              "cacerts": ["/etc/corridor/x509ca/root.pem"], "crls": ["/etc/corridor/x509crl/root.crl"],
              "revocation": "strict"}}}})");
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& remote = r.config->connections[0].remote;
  EXPECT_EQ(remote.crls, std::vector<std::string>{"/etc/corridor/x509crl/root.crl"});
  EXPECT_EQ(remote.revocation, config::Revocation::strict);

  r = load(R"({"connections": {"a": {"local": {"auth": "psk"}, "remote": {"auth": "pubkey",
              "cacerts": ["/etc/corridor/x509ca/root.pem"]}}}})");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config->connections[0].remote.revocation, config::Revocation::relaxed) << "swanctl's default";

  r = load(R"({"connections": {"a": {"remote": {"auth": "pubkey", "cacerts": ["/x.pem"], "revocation": "strict"}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(find(r, "/connections/a/remote/revocation")->message.find("remote.crls names none"), std::string::npos)
      << all(r);
  r = load(R"({"connections": {"a": {"remote": {"auth": "pubkey", "cacerts": ["/x.pem"], "revocation": "lax"}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(find(r, "/connections/a/remote/revocation")) << all(r);
}

TEST(Loader, AuthRules) {
  auto r = load(R"({"connections": {"a": {"local": {"auth": "pubkey"}, "remote": {"auth": "pubkey"}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(find(r, "/connections/a/local/certs")) << all(r);
  EXPECT_TRUE(find(r, "/connections/a/remote/cacerts")) << all(r);

  r = load(R"({"connections": {"a": {"local": {"auth": "eap-mschapv2"}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(find(r, "/connections/a/local/auth")->message.find("not supported"), std::string::npos);

  r = load(R"({"connections": {"a": {"local": {"auth": "psk", "id": "@#xyz"}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(find(r, "/connections/a/local/id"));
}

TEST(Loader, PskWithoutMatchingSecretWarnsButLoads) {
  const auto r = load(R"({"connections": {"a": {"local": {"auth": "psk", "id": "@me"},
                          "remote": {"auth": "psk", "id": "@you"}}},
                          "secrets": {"ike-other": {"id": ["@someone"], "secret": "0123456789abcdefXYZ"}}})");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.diagnostics.warning_count(), 1u);
  EXPECT_EQ(r.diagnostics.items()[0].pointer, "/connections/a");
}

TEST(Loader, ReauthTimeIsTakenWithoutWarningAndLengthensOverTime) {
  const auto config = [](const char* keys) {
    return std::string(R"({"connections": {"a": {)") + keys +
           R"(, "local": {"auth": "psk", "id": "@me"}, "remote": {"auth": "psk", "id": "@you"}}},
               "secrets": {"ike-1": {"id": ["@you"], "secret": "0123456789abcdefXYZ"}}})";
  };
  auto r = load(config(R"("reauth_time": "8h", "rekey_time": "4h")").c_str());
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_FALSE(find(r, "/connections/a/reauth_time")) << all(r);  // IKEv2 reauthenticates
  EXPECT_EQ(r.config->connections.at(0).reauth_time, std::chrono::seconds(8 * 3600));
  EXPECT_EQ(r.config->connections.at(0).over_time, std::chrono::seconds(8 * 3600 / 10));
  r = load(config(R"("version": 1, "reauth_time": "8h")").c_str());
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_FALSE(find(r, "/connections/a/reauth_time")) << all(r);
}

TEST(Loader, Secrets) {
  auto r = load(R"({"secrets": {
      "ike-a": {"id": ["@a", "192.0.2.1"], "id2": "@b", "secret": "0x00112233445566778899aabbccddeeff"},
      "ike-short": {"secret": "short"},
      "private-gw": {"file": "/nonexistent/gw.key"}}})");
  ASSERT_TRUE(r.ok()) << all(r);
  ASSERT_EQ(r.config->secrets.size(), 3u);
  EXPECT_EQ(r.config->secrets[0].ids.size(), 3u);
  EXPECT_EQ(r.config->secrets[0].secret.size(), 16u);
  EXPECT_EQ(r.config->secrets[2].type, SecretType::private_key);
  EXPECT_NE(find(r, "/secrets/ike-short/secret")->message.find("shorter than 16"), std::string::npos);
  for (const auto& d : r.diagnostics.items()) EXPECT_EQ(d.message.find("short\""), std::string::npos);

  r = load(R"({"secrets": {"eap-x": {"secret": "s"}, "foo": {}, "ike-z": {"id": "@z"}, "ike-e": {"secret": ""}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(find(r, "/secrets/eap-x")->message, "secret type 'eap' is not supported by Corridor");
  EXPECT_TRUE(find(r, "/secrets/foo"));
  EXPECT_EQ(find(r, "/secrets/ike-z")->message, "ike secret needs \"secret\"");
  EXPECT_EQ(find(r, "/secrets/ike-e/secret")->message, "pre-shared key is empty");
}

TEST(Loader, SecretsNeverAppearInDiagnostics) {
  const auto r = load(R"({"secrets": {"ike-a": {"secret": "0xZZ-very-secret-value"}}})");
  ASSERT_FALSE(r.ok());
  for (const auto& d : r.diagnostics.items()) EXPECT_EQ(d.message.find("very-secret"), std::string::npos);
}

TEST(Loader, SaChannelAndApi) {
  auto r = load(R"({"sa_channel": {"name": "corridor", "command_slots": 1000, "event_slots": 32},
                    "api": {"listen": "0.0.0.0:8080", "allow_plain_http": true}})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(find(r, "/sa_channel/name"));
  EXPECT_EQ(find(r, "/sa_channel/command_slots")->message, "must be a power of two (got 1000)");
  EXPECT_EQ(find(r, "/sa_channel/event_slots")->message, "must be 64..1048576 (got 32)");
  EXPECT_NE(find(r, "/api/allow_plain_http")->message.find("loopback"), std::string::npos);
  EXPECT_TRUE(find(r, "/api/tokens"));

  r = load(R"({"sa_channel": {"name": "/corridor-test", "command_slots": 1024},
               "api": {"listen": "[::1]:8443", "allow_plain_http": true, "tokens": "/etc/corridor/tokens.json",
                       "metrics_listen": "127.0.0.1:9464"}})");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config->sa_channel.command_slots, 1024u);
  EXPECT_TRUE(r.config->api.enabled);
  EXPECT_EQ(r.config->api.listen.port, 8443);
  EXPECT_EQ(r.config->api.metrics_listen->to_string(), "127.0.0.1:9464");
}

TEST(Loader, UnsupportedStrongSwanOptionsAreNamed) {
  const auto r = load(R"({"connections": {"a": {"mobike": true, "children": {"c": {"updown": "/bin/true"}}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(find(r, "/connections/a/mobike")->message, "strongSwan option 'mobike' is not supported by Corridor");
  EXPECT_EQ(find(r, "/connections/a/children/c/updown")->message,
            "strongSwan option 'updown' is not supported by Corridor");
}

TEST(Loader, NamesAreRestricted) {
  const auto r = load(R"({"connections": {"bad name": {}, "ok": {"children": {"a/b": {}}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(find(r, "/connections/bad name"));
  EXPECT_TRUE(find(r, "/connections/ok/children/a~1b"));  // RFC 6901 escaping
}

TEST(Loader, RelativeFilesResolveAgainstTheConfigDirectory) {
  const auto dir = std::filesystem::temp_directory_path() / ("corridor-cfg-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "x509");
  std::ofstream(dir / "x509" / "gw.pem") << "-----BEGIN CERTIFICATE-----\n";
  std::ofstream(dir / "corridor.json") << R"({"connections": {"a": {
      "local": {"auth": "pubkey", "certs": ["x509/gw.pem"]},
      "remote": {"auth": "pubkey", "cacerts": ["x509ca/missing.pem"]}}},
      "secrets": {"private-gw": {"file": "private/gw.key"}}})";
  const auto r = load_config_file((dir / "corridor.json").string());
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config->connections[0].local.certs[0], (dir / "x509" / "gw.pem").string());
  ASSERT_TRUE(find(r, "/connections/a/remote/cacerts/0"));
  EXPECT_EQ(find(r, "/connections/a/remote/cacerts/0")->severity, Severity::warning);
  EXPECT_TRUE(find(r, "/secrets/private-gw/file"));
  EXPECT_FALSE(find(r, "/connections/a/local/certs/0"));
  std::filesystem::remove_all(dir);
}

TEST(Loader, MissingFileIsAClearError) {
  const auto r = load_config_file("/nonexistent/corridor.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics.items()[0].message,
            "cannot read config file /nonexistent/corridor.json: No such file or directory");
}

TEST(Loader, ExampleConfigsAreValid) {
  const std::filesystem::path conf = std::filesystem::path(CORRIDOR_SOURCE_DIR) / "conf";
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(conf)) {
    if (entry.path().extension() != ".json") continue;
    ++seen;
    const auto r = load_config_file(entry.path().string());
    EXPECT_TRUE(r.ok()) << entry.path() << "\n" << all(r);
  }
  EXPECT_GE(seen, 5);
}

TEST(Loader, ExampleIkev1PeerHasBothModes) {
  const auto r = load_config_file(std::string(CORRIDOR_SOURCE_DIR) + "/conf/ikev1-peer.json");
  ASSERT_TRUE(r.ok()) << all(r);
  const auto* asa = r.config->find_connection("legacy-asa");
  ASSERT_TRUE(asa);
  EXPECT_EQ(asa->version, 1u);
  EXPECT_FALSE(asa->aggressive);
  const auto* partner = r.config->find_connection("partner-aggressive");
  ASSERT_TRUE(partner);
  EXPECT_TRUE(partner->aggressive);
  EXPECT_EQ(partner->remote.id->type, IdType::fqdn);
}

}  // namespace
}  // namespace corridor::config
