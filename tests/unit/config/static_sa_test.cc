// dataplane.static_sas: every field, every error with its JSON pointer, keys
// kept out of every message, and the conversion into the SA channel's
// record and policy selectors with known keys.
#include <gtest/gtest.h>

#include "common/config/loader.h"
#include "common/config/static_sa.h"
#include "tests/unit/config/load_support.h"

namespace corridor::config {
namespace {

using testing::all;
using testing::find;
using testing::has;
using testing::load;
using testing::message_at;

// Keys of the right sizes, distinctive enough to search messages for.
constexpr const char* kGcm128Key = "0x00112233445566778899aabbccddeeff0a0b0c0d";  // 16 + 4 salt
constexpr const char* kGcm128Key2 = "0x99887766554433221100ffeeddccbbaa01020304";
constexpr const char* kSha256Key = "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// A document with the given static SA objects.
std::string sas(const std::string& entries) { return R"({"dataplane": {"static_sas": [)" + entries + "]}}"; }

// One tunnel-mode AES-GCM ESP SA; `extra` adds fields (with a leading comma).
struct GcmSa {
  std::string direction;
  std::string spi;
  std::string extra = "";
  std::string key = kGcm128Key;
  std::string selectors = R"("local_ts": ["10.1.0.0/24"], "remote_ts": ["10.2.0.0/24"])";
};
std::string gcm(const GcmSa& s) {
  return R"({"spi": )" + s.spi + R"(, "direction": ")" + s.direction +
         R"(", "local": "192.0.2.1", "remote": "198.51.100.2", "proposal": "aes128gcm16", "key": ")" + s.key + "\", " +
         s.selectors + s.extra + "}";
}
std::string gcm_sa(const std::string& direction, const std::string& spi, const std::string& extra = "") {
  return gcm({.direction = direction, .spi = spi, .extra = extra});
}

LoadResult load_sas(const std::string& entries) { return load(sas(entries).c_str()); }

std::vector<std::uint8_t> bytes(std::string_view hex) {
  if (hex.starts_with("0x")) hex.remove_prefix(2);
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

std::vector<std::uint8_t> bytes(const SecretBytes& s) { return {s.data(), s.data() + s.size()}; }

TEST(StaticSa, EveryField) {
  const auto r = load(R"({"dataplane": {
      "ports": [{"name": "net_af_packet0", "devargs": "iface=lan0", "role": "protected", "address": "10.1.0.1/24"},
                {"name": "net_af_packet1", "devargs": "iface=wan0", "role": "unprotected", "address": "192.0.2.1/24"}],
      "static_sas": [
        {"spi": "0x00001001", "direction": "out", "protocol": "esp", "mode": "tunnel",
         "local": "192.0.2.1", "remote": "198.51.100.2", "proposal": "aes256-sha256",
         "key": "0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f",
         "integ_key": "FFEEDDCCBBAA99887766554433221100ffeeddccbbaa99887766554433221100",
         "encap": {"sport": 4500, "dport": 4501}, "esn": true,
         "local_ts": ["10.1.0.0/24", "2001:db8:1::/48"], "remote_ts": "10.2.0.0/24, 2001:db8:2::/48"},
        {"spi": 8193, "direction": "in", "protocol": "ah", "mode": "transport", "allow_weak": false,
         "local": "192.0.2.1", "remote": "198.51.100.2", "proposal": "sha512",
         "integ_key": "0x00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
         "replay_window": 4096, "esn": "no"}]}})");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.diagnostics.items().size(), 0u) << all(r);
  const auto& s = r.config->dataplane.static_sas;
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].spi, 0x1001u);
  EXPECT_EQ(s[0].direction, SaDirection::out);
  EXPECT_EQ(s[0].protocol, SaProtocol::esp);
  EXPECT_EQ(s[0].mode, ChildMode::tunnel);
  EXPECT_EQ(s[0].local.to_string(), "192.0.2.1");
  EXPECT_EQ(s[0].remote.to_string(), "198.51.100.2");
  EXPECT_EQ(s[0].proposal.to_string(), "aes256-sha256");  // ESN is the SA's "esn", not the proposal's
  ASSERT_EQ(s[0].proposal.encryption.size(), 1u);
  EXPECT_EQ(s[0].proposal.encryption[0].id, static_cast<std::uint16_t>(iana::EncrId::aes_cbc));
  EXPECT_EQ(s[0].proposal.encryption[0].key_bits, 256);
  EXPECT_EQ(bytes(s[0].key), bytes("000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"));
  EXPECT_EQ(bytes(s[0].integ_key), bytes("ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"));
  ASSERT_TRUE(s[0].encap);
  EXPECT_EQ(s[0].encap->sport, 4500);
  EXPECT_EQ(s[0].encap->dport, 4501);
  EXPECT_TRUE(s[0].esn);
  EXPECT_EQ(s[0].replay_window, 32u);  // default; not used outbound
  ASSERT_EQ(s[0].local_ts.size(), 2u);
  EXPECT_EQ(s[0].local_ts[1].to_string(), "2001:db8:1::/48");
  ASSERT_EQ(s[0].remote_ts.size(), 2u);
  EXPECT_EQ(s[0].remote_ts[0].to_string(), "10.2.0.0/24");
  EXPECT_FALSE(s[0].allow_weak);

  EXPECT_EQ(s[1].spi, 8193u);
  EXPECT_EQ(s[1].direction, SaDirection::in);
  EXPECT_EQ(s[1].protocol, SaProtocol::ah);
  EXPECT_EQ(s[1].mode, ChildMode::transport);
  EXPECT_TRUE(s[1].proposal.encryption.empty());
  ASSERT_EQ(s[1].proposal.integrity.size(), 1u);
  EXPECT_EQ(s[1].proposal.integrity[0].id, static_cast<std::uint16_t>(iana::IntegId::hmac_sha2_512_256));
  EXPECT_TRUE(s[1].key.empty());
  EXPECT_EQ(s[1].integ_key.size(), 64u);
  EXPECT_FALSE(s[1].encap);
  EXPECT_FALSE(s[1].esn);
  EXPECT_EQ(s[1].replay_window, 4096u);
  // Transport mode: the endpoints themselves.
  EXPECT_EQ(s[1].local_ts, (std::vector<net::Prefix>{*net::Prefix::parse("192.0.2.1/32")}));
  EXPECT_EQ(s[1].remote_ts, (std::vector<net::Prefix>{*net::Prefix::parse("198.51.100.2/32")}));
}

TEST(StaticSa, Defaults) {
  const auto r = load_sas(gcm_sa("in", "4096"));
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& sa = r.config->dataplane.static_sas.at(0);
  EXPECT_EQ(sa.protocol, SaProtocol::esp);
  EXPECT_EQ(sa.mode, ChildMode::tunnel);
  EXPECT_FALSE(sa.esn);
  EXPECT_EQ(sa.replay_window, 32u);
  EXPECT_FALSE(sa.encap);
  EXPECT_FALSE(sa.allow_weak);
  EXPECT_TRUE(sa.integ_key.empty());
  EXPECT_EQ(sa.key.size(), 20u);

  // encap's ports default to 4500 each.
  const auto e = load_sas(gcm_sa("out", "4096", R"(, "encap": {"dport": 31000})"));
  ASSERT_TRUE(e.ok()) << all(e);
  EXPECT_EQ(e.config->dataplane.static_sas[0].encap->sport, 4500);
  EXPECT_EQ(e.config->dataplane.static_sas[0].encap->dport, 31000);
}

TEST(StaticSa, AlgorithmsAndTheirKeys) {
  const auto r = load_sas(
      R"({"spi": 300, "direction": "out", "local": "2001:db8::1", "remote": "2001:db8::2", "mode": "transport",
          "proposal": "chacha20poly1305", "key": "0x)" + std::string(72, 'a') + R"("},
         {"spi": 301, "direction": "out", "local": "192.0.2.1", "remote": "192.0.2.2", "mode": "transport",
          "proposal": "aes192ctr-sha384", "key": ")" + std::string(56, 'b') + R"(", "integ_key": ")" +
      std::string(96, 'c') + R"("},
         {"spi": 302, "direction": "out", "local": "192.0.2.1", "remote": "192.0.2.3", "mode": "transport",
          "proposal": "null-sha256", "integ_key": ")" + kSha256Key + R"("},
         {"spi": 303, "direction": "out", "local": "192.0.2.1", "remote": "192.0.2.4", "mode": "transport",
          "proposal": "aes256gmac", "key": ")" + std::string(72, 'd') + R"("},
         {"spi": 304, "direction": "out", "local": "192.0.2.1", "remote": "192.0.2.5", "mode": "transport",
          "proposal": "aes128-aesxcbc", "key": ")" + std::string(32, 'e') + R"(", "integ_key": ")" +
      std::string(32, 'f') + R"("})");
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& s = r.config->dataplane.static_sas;
  EXPECT_EQ(s[0].key.size(), 36u);  // RFC 7634: 32-byte key + 4-byte salt
  EXPECT_EQ(s[0].local_ts[0].to_string(), "2001:db8::1/128");
  EXPECT_EQ(s[1].key.size(), 28u);  // RFC 3686: 24-byte key + 4-byte nonce
  EXPECT_EQ(s[1].integ_key.size(), 48u);
  EXPECT_TRUE(s[2].key.empty());
  EXPECT_EQ(s[3].key.size(), 36u);  // RFC 4543: 32-byte key + 4-byte salt
  EXPECT_EQ(s[4].integ_key.size(), 16u);  // RFC 3566
}

TEST(StaticSa, SpiErrors) {
  const auto r = load_sas(gcm_sa("in", "255") + "," + gcm_sa("in", "0") + "," + gcm_sa("in", R"("0x1g")") + "," +
                          gcm_sa("in", "-1") + "," + gcm_sa("in", "4294967296") + "," + gcm_sa("in", R"("0x")") +
                          "," + gcm_sa("in", "true") + "," + gcm_sa("in", R"("0x100000000")") + "," +
                          R"({"direction": "in"})" + "," + gcm_sa("in", R"("0XfFfFfFfF")") + "," +
                          gcm_sa("in", R"("65536")"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/0/spi"),
            "SPI 255 is reserved (0 for local use, 1-255 by IANA, RFC 4303 §2.1): use 256 (0x100) or above");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/1/spi"),
            "SPI 0 is reserved (0 for local use, 1-255 by IANA, RFC 4303 §2.1): use 256 (0x100) or above");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/2/spi"),
            "must be an SPI: a number or a hex string such as \"0x1000\" (got \"0x1g\")");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/3/spi"),
            "must be an SPI: a number or a hex string such as \"0x1000\" (got -1)");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/4/spi"), "an SPI has 32 bits: 4294967296 is too large");
  EXPECT_TRUE(find(r, "/dataplane/static_sas/5/spi"));
  EXPECT_TRUE(find(r, "/dataplane/static_sas/6/spi"));
  EXPECT_TRUE(find(r, "/dataplane/static_sas/7/spi"));  // nine hex digits
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/8"), "static SA needs \"spi\", e.g. \"0x1000\"");
  EXPECT_FALSE(find(r, "/dataplane/static_sas/9/spi"));
  EXPECT_FALSE(find(r, "/dataplane/static_sas/10/spi"));
}

TEST(StaticSa, EndpointAndShapeErrors) {
  const auto r = load_sas(
      R"({"spi": 256, "direction": "sideways", "protocol": "gre", "mode": "tunel", "local": "192.0.2.1",
          "remote": "198.51.100.2", "proposal": "aes128gcm16", "key": ")" + std::string(kGcm128Key) + R"("},
         {"spi": 257, "local": "192.0.2.300", "remote": "224.0.0.1", "proposal": "aes128gcm16",
          "key": ")" + kGcm128Key2 + R"(", "local_ts": "10.1.0.0/24", "remote_ts": "10.2.0.0/24"},
         {"spi": 258, "direction": "out", "local": "192.0.2.1", "remote": "2001:db8::2", "proposal": "aes128gcm16"},
         {"spi": 259, "direction": "out", "local": "192.0.2.1", "remote": "192.0.2.1", "proposal": "aes128gcm16"},
         {"spi": 260, "direction": "out", "proposal": "aes128gcm16"},
         {"spi": 261, "direction": "out", "local": "192.0.2.1", "remote": "192.0.2.9", "proposal": "aes128gcm16",
          "key": ")" + kGcm128Key + R"(", "mode": "transport", "df": "copy"},
         "not an object")");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/0/direction"), "must be one of in, out (got 'sideways')");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/0/protocol"), "must be one of esp, ah (got 'gre')");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/0/mode"), "must be one of tunnel, transport (got 'tunel')");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/1"), "static SA needs \"direction\": in or out");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/1/local"), "not an IP address: 192.0.2.300");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/1/remote"), "an SA endpoint is a unicast address: 224.0.0.1");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/2/remote"),
            "remote is IPv6 but local is IPv4: an SA's outer header has one family");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/3/remote"), "remote is the same address as local");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/4"), "static SA needs \"local\": this gateway's IP address");
  EXPECT_TRUE(has(r, "/dataplane/static_sas/4", "static SA needs \"remote\": the peer's IP address"));
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/5/df"), "unknown key 'df'");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/6"), "must be an object, not a string");
  EXPECT_EQ(message_at(load(R"({"dataplane": {"static_sas": {}}})"), "/dataplane/static_sas"),
            "must be an array of static SAs {spi, direction, local, remote, proposal, key, ...}, not an object");
}

TEST(StaticSa, ProposalErrors) {
  const auto sa = [](const std::string& proposal, const std::string& extra = "") {
    return R"({"spi": 256, "direction": "out", "local": "192.0.2.1", "remote": "192.0.2.2", "mode": "transport",
               "proposal": ")" + proposal + "\"" + extra + "}";
  };
  const auto r = load_sas(sa("default") + "," + sa("aes128gcm16-aes256gcm16") + "," + sa("aes128-sha256-sha384") +
                          "," + sa("aes128gcm16-ecp256") + "," + sa("aes128gcm16-esn") + "," + sa("3des-sha256") + "," +
                          sa("aes257") + "," + sa("aes128", R"(, "protocol": "ah")") + "," +
                          sa("aes128gcm16-noesn") + "," + R"({"spi": 256, "direction": "out"})" + "," +
                          sa("aes128ccm16"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/0/proposal"),
            "'default' stands for a list of proposals to negotiate; a static SA needs its one set of algorithms, "
            "e.g. \"aes128gcm16\"");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/1/proposal"),
            "a static SA uses one encryption algorithm; the proposal lists 2 (aes128gcm16, aes256gcm16)");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/2/proposal"),
            "a static SA uses one integrity algorithm; the proposal lists 2 (sha256, sha384)");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/3/proposal"),
            "'ecp256' is a key exchange method, which only IKE performs: a static SA's keys are given, remove it");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/4/proposal"),
            "'esn': a static SA takes extended sequence numbers from \"esn\": true or false, not from its proposal");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/5/proposal"),
            "'3des-sha256': '3des' (ENCR_3DES) is weak (RFC 8221): set allow_weak to use it");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/6/proposal"),
            "'aes257': unknown algorithm keyword 'aes257' at column 1");
  EXPECT_NE(message_at(r, "/dataplane/static_sas/7/proposal").find("AH only authenticates"), std::string::npos);
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/8/proposal"),
            "'noesn': a static SA takes extended sequence numbers from \"esn\": true or false, not from its proposal");
  EXPECT_TRUE(has(r, "/dataplane/static_sas/9",
                  "static SA needs \"proposal\": its algorithms in strongSwan's syntax, e.g. \"aes128gcm16\" or "
                  "\"aes256-sha256\"")) << all(r);
  EXPECT_NE(message_at(r, "/dataplane/static_sas/10/proposal").find("does not implement"), std::string::npos);

  // allow_weak opts in, per SA, as for connections.
  const auto weak = load_sas(sa("3des-sha256", R"(, "allow_weak": true, "key": ")" + std::string(48, '1') +
                                                   R"(", "integ_key": ")" + kSha256Key + "\""));
  EXPECT_TRUE(weak.ok()) << all(weak);
}

TEST(StaticSa, KeyErrorsNeverShowTheKey) {
  const auto sa = [](const std::string& proposal, const std::string& keys, const std::string& extra = "") {
    return R"({"spi": 256, "direction": "out", "local": "192.0.2.1", "remote": "192.0.2.2", "mode": "transport",
               "proposal": ")" + proposal + "\"" + keys + extra + "}";
  };
  const std::string secret16 = "5ec7e75ec7e75ec7e75ec7e75ec7e75e";  // 16 bytes, searched for below
  const auto r = load_sas(
      sa("aes128gcm16", "") + "," + sa("aes128gcm16", R"(, "key": ")" + secret16 + "\"") + "," +
      sa("aes128gcm16", R"(, "key": "0x5ec7e7zz")") + "," + sa("aes128gcm16", R"(, "key": "5ec7e")") + "," +
      sa("aes128gcm16", R"(, "key": 1234)") + "," +
      sa("null-sha256", R"(, "key": ")" + secret16 + R"(", "integ_key": ")" + kSha256Key + "\"") + "," +
      sa("aes128gcm16", R"(, "key": ")" + std::string(kGcm128Key) + R"(", "integ_key": ")" + kSha256Key + "\"") + "," +
      sa("aes256-sha256", R"(, "key": ")" + std::string(64, 'a') + "\"") + "," +
      sa("aes256-sha256", R"(, "key": ")" + std::string(64, 'a') + R"(", "integ_key": ")" + secret16 + "\"") + "," +
      sa("sha256", R"(, "key": ")" + secret16 + R"(", "integ_key": ")" + kSha256Key + "\"", R"(, "protocol": "ah")") +
      "," + sa("aes256ctr-sha256", R"(, "key": ")" + std::string(64, 'a') + R"(", "integ_key": ")" + kSha256Key + "\"") +
      "," + sa("aes128gcm16", R"(, "key": "0x0000000000000000000000000000000000000000")"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/0"),
            "static SA needs \"key\": 20 bytes (40 hex digits) for aes128gcm16: the 16-byte key followed by the "
            "4-byte salt (RFC 4106 §8.1)");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/1/key"),
            "must be 20 bytes (40 hex digits) for aes128gcm16: the 16-byte key followed by the 4-byte salt (RFC 4106 "
            "§8.1); got 16 bytes");
  const std::string not_hex =
      "must be an even number of hex digits, optionally after 0x (the value is not shown: it is a key)";
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/2/key"), not_hex);
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/3/key"), not_hex);
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/4/key"), "must be a hex string, not an integer");
  // A malformed key is reported once, not also as missing.
  EXPECT_FALSE(find(r, "/dataplane/static_sas/2"));
  EXPECT_FALSE(find(r, "/dataplane/static_sas/4"));
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/5/key"), "null encryption takes no key: remove \"key\"");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/6/integ_key"),
            "aes128gcm16 authenticates with its own key: remove \"integ_key\"");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/7"),
            "static SA needs \"integ_key\": 32 bytes (64 hex digits) for sha256");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/8/integ_key"),
            "must be 32 bytes (64 hex digits) for sha256; got 16 bytes");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/9/key"), "AH does not encrypt: give its key as \"integ_key\"");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/10/key"),
            "must be 36 bytes (72 hex digits) for aes256ctr: the 32-byte key followed by the 4-byte nonce (RFC 3686 "
            "§5.1); got 32 bytes");
  const auto* zero = find(r, "/dataplane/static_sas/11/key");
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->severity, Severity::warning);
  EXPECT_EQ(zero->message, "is all zero bytes: a placeholder? Use random keys, e.g. from `openssl rand -hex 20`");
  for (const auto& d : r.diagnostics.items()) {
    EXPECT_EQ(d.message.find("5ec7e"), std::string::npos) << d.to_string();
    EXPECT_EQ(d.message.find("0a0b0c0d"), std::string::npos) << d.to_string();
  }
}

TEST(StaticSa, EncapReplayAndEsnErrors) {
  const auto r = load_sas(
      R"({"spi": 256, "direction": "out", "local": "192.0.2.1", "remote": "192.0.2.2", "mode": "transport",
          "protocol": "ah", "proposal": "sha256", "integ_key": ")" + std::string(kSha256Key) + R"(",
          "encap": {"sport": 4500, "dport": 4500}},)" +
      gcm_sa("out", "257", R"(, "encap": {"sport": 0, "dport": 70000, "port": 1})") + "," +
      gcm_sa("out", "258", R"(, "encap": true)") + "," + gcm_sa("out", "259", R"(, "replay_window": 64)") + "," +
      gcm_sa("in", "260", R"(, "replay_window": 16385)") + "," + gcm_sa("in", "261", R"(, "esn": "maybe")"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/0/encap"),
            "AH cannot be UDP-encapsulated: it authenticates the IP addresses a NAT rewrites (RFC 3948 covers ESP "
            "only)");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/1/encap/sport"), "must be 1..65535 (got 0)");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/1/encap/dport"), "must be 1..65535 (got 70000)");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/1/encap/port"), "unknown key 'port', did you mean 'sport'?");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/2/encap"), "must be an object, not a boolean");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/3/replay_window"),
            "replay_window applies to inbound SAs: the receiver checks for replays (RFC 4303 §3.4.3)");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/4/replay_window"), "must be 0..16384 (got 16385)");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/5/esn"), "must be true or false, not \"maybe\"");
}

TEST(StaticSa, SelectorErrors) {
  const auto sa = [](const std::string& spi, const std::string& rest) {
    return R"({"spi": )" + spi + R"(, "direction": "out", "local": "192.0.2.1", "remote": "192.0.2.2",
               "proposal": "aes128gcm16", "key": ")" + std::string(kGcm128Key) + "\"" + rest + "}";
  };
  const auto r = load_sas(
      sa("256", "") + "," + sa("257", R"(, "local_ts": ["10.1.0.0/24"])") + "," +
      sa("258", R"(, "local_ts": ["10.1.0.1/24", "10.1.0.0/33", "10.3.0.0/16", "10.3.0.0/16"], "remote_ts": [])") + "," +
      sa("259", R"(, "local_ts": ["10.1.0.0/24", "2001:db8::/32"], "remote_ts": ["10.2.0.0/24"])") + "," +
      sa("260", R"(, "local_ts": ["2001:db8::/32"], "remote_ts": ["10.2.0.0/24"])") + "," +
      sa("261", R"(, "mode": "transport", "local_ts": ["192.0.2.0/24", "10.0.0.0/8"], "remote_ts": "192.0.2.3")"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/0"),
            "tunnel mode needs \"local_ts\": the subnets behind this gateway whose traffic the SA carries, e.g. "
            "[\"10.1.0.0/16\"]");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/1"),
            "tunnel mode needs \"remote_ts\": the subnets behind the peer whose traffic the SA carries, e.g. "
            "[\"10.1.0.0/16\"]");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/2/local_ts/0"), "host bits set in 10.1.0.1/24, did you mean 10.1.0.0/24?");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/2/local_ts/1"),
            "not a CIDR: 10.1.0.0/33 (prefix length must be 0..32: 10.1.0.0/33)");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/2/local_ts/3"), "10.3.0.0/16 is listed twice");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/2/remote_ts"), "must list at least one prefix, e.g. 10.1.0.0/16");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/3/remote_ts"),
            "IPv6 prefixes appear in local_ts only: a packet needs a source and a destination of its own family");
  EXPECT_TRUE(find(r, "/dataplane/static_sas/4/remote_ts"));  // IPv6 in local_ts only
  EXPECT_TRUE(find(r, "/dataplane/static_sas/4/local_ts"));   // IPv4 in remote_ts only
  EXPECT_FALSE(find(r, "/dataplane/static_sas/5/local_ts/0"));
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/5/local_ts/1"),
            "transport mode carries only packets of the SA's endpoints: this selector does not contain local "
            "192.0.2.1");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/5/remote_ts"),
            "transport mode carries only packets of the SA's endpoints: this selector does not contain remote "
            "192.0.2.2");
}

TEST(StaticSa, ChecksBetweenSas) {
  const auto r = load(
      (R"({"dataplane": {
      "ports": [{"name": "net_null0", "role": "protected", "address": "10.1.0.1/24"},
                {"name": "net_null1", "role": "unprotected", "address": "192.0.2.1/24"}],
      "static_sas": [)" +
       gcm_sa("in", "4096") + "," +
       // Same inbound SPI from another peer: the SAD keys on (protocol, SPI).
       R"({"spi": 4096, "direction": "in", "local": "192.0.2.1", "remote": "203.0.113.9", "proposal": "aes128gcm16",
           "key": ")" + kGcm128Key2 + R"(", "local_ts": ["10.1.0.0/24"], "remote_ts": ["10.3.0.0/24"]},)" +
       // Outbound with the inbound's SPI: a different SA.
       R"({"spi": 4096, "direction": "out", "local": "192.0.2.1", "remote": "198.51.100.2", "proposal": "aes256-sha256",
           "key": ")" + std::string(64, 'a') + R"(", "integ_key": ")" + std::string(64, 'b') + R"(",
           "local_ts": ["10.1.0.0/24"], "remote_ts": ["10.2.0.0/24"]},)" +
       // Same outbound SPI and peer; same selectors; a CBC key used twice is not refused.
       R"({"spi": 4096, "direction": "out", "local": "192.0.2.1", "remote": "198.51.100.2", "proposal": "aes256-sha256",
           "key": ")" + std::string(64, 'a') + R"(", "integ_key": ")" + std::string(64, 'c') + R"(",
           "local_ts": ["10.1.0.0/24"], "remote_ts": ["10.2.0.0/24"]},)" +
       // Same outbound SPI to another peer: fine. Same GCM key as entry 0: refused.
       R"({"spi": 4096, "direction": "out", "local": "192.0.2.1", "remote": "203.0.113.9", "proposal": "aes128gcm16",
           "key": ")" + kGcm128Key + R"(", "local_ts": ["10.1.0.0/24"], "remote_ts": ["10.3.0.0/24"]},)" +
       // A local address no port has.
       R"({"spi": 5000, "direction": "in", "local": "192.0.2.77", "remote": "203.0.113.9", "proposal": "aes128gcm16",
           "key": "0x0102030405060708090a0b0c0d0e0f1011121314", "local_ts": ["10.1.0.0/24"], "remote_ts": ["10.4.0.0/24"]}
      ]}})")
          .c_str());
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(find(r, "/dataplane/static_sas/0/spi"));
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/1/spi"),
            "inbound ESP SPI 0x00001000 is also /dataplane/static_sas/0's: an arriving packet is matched to its SA by "
            "protocol and SPI");
  EXPECT_FALSE(find(r, "/dataplane/static_sas/2/spi"));
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/3/spi"),
            "outbound ESP SPI 0x00001000 to 198.51.100.2 is also /dataplane/static_sas/2's");
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/3/local_ts"),
            "traffic 10.1.0.0/24 -> 10.2.0.0/24 is also carried by /dataplane/static_sas/2: outbound packets would "
            "match two SAs");
  EXPECT_FALSE(find(r, "/dataplane/static_sas/3/key"));
  EXPECT_FALSE(find(r, "/dataplane/static_sas/4/spi"));
  EXPECT_EQ(message_at(r, "/dataplane/static_sas/4/key"),
            "the same key as /dataplane/static_sas/0: aes128gcm16 builds its nonces from the key's salt and the "
            "sequence number, which every SA counts from 1, so two SAs under one key repeat nonces: give each SA its "
            "own key");
  const auto* foreign = find(r, "/dataplane/static_sas/5/local");
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->severity, Severity::warning);
  EXPECT_EQ(foreign->message,
            "192.0.2.77 is not the address of any port: the gateway answers ARP/ND only for its ports' addresses");
  EXPECT_EQ(r.diagnostics.error_count(), 4u) << all(r);
}

channel::SaRecord record_of(const StaticSaConfig& sa, std::uint64_t id) {
  std::string why;
  auto r = to_sa_record(sa, id, &why);
  EXPECT_TRUE(r) << why;
  return r.value_or(channel::SaRecord{});
}

TEST(StaticSaRecord, OutboundAndInboundGcmWithKnownKeys) {
  const auto r = load_sas(gcm_sa("out", R"("0x1001")", R"(, "esn": true)") + "," +
                          gcm({.direction = "in",
                               .spi = R"("0x2001")",
                               .extra = R"(, "replay_window": 1024, "encap": {"sport": 4501, "dport": 4500})",
                               .key = kGcm128Key2}));
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& s = r.config->dataplane.static_sas;

  const auto out = record_of(s[0], 7);
  EXPECT_EQ(out.sa_id, 7u);
  EXPECT_EQ(out.spi, 0x1001u);
  EXPECT_EQ(out.direction, channel::Direction::outbound);
  EXPECT_EQ(out.protocol, channel::IpsecProtocol::esp);
  EXPECT_EQ(out.mode, channel::Mode::tunnel);
  EXPECT_EQ(out.ip_version, channel::IpVersion::v4);
  EXPECT_EQ(out.outer_src, (std::array<std::uint8_t, 16>{192, 0, 2, 1}));
  EXPECT_EQ(out.outer_dst, (std::array<std::uint8_t, 16>{198, 51, 100, 2}));
  EXPECT_FALSE(out.udp_encap);
  EXPECT_EQ(out.encap_src_port, 0);
  EXPECT_EQ(out.encap_dst_port, 0);
  EXPECT_EQ(out.encryption_id, static_cast<std::uint16_t>(iana::EncrId::aes_gcm_16));
  EXPECT_EQ(out.encryption_key_bits, 128);
  EXPECT_EQ(out.integrity_id, 0);
  const auto key = bytes(kGcm128Key);
  EXPECT_EQ(std::vector<std::uint8_t>(out.encryption_key.view().begin(), out.encryption_key.view().end()), key);
  EXPECT_EQ(out.integrity_key.length, 0);
  EXPECT_EQ(out.replay_window, 0u);  // the sender keeps none
  EXPECT_TRUE(out.esn);
  EXPECT_EQ(out.soft, channel::Lifetime{});
  EXPECT_EQ(out.hard, channel::Lifetime{});
  EXPECT_EQ(out.df, channel::DfMode::copy);
  EXPECT_TRUE(out.dscp_copy);
  EXPECT_TRUE(out.ecn_propagate);
  EXPECT_EQ(out.worker_hint, 0);

  // Inbound: the outer header as it arrives, peer -> us; the SAD matches its destination.
  const auto in = record_of(s[1], 8);
  EXPECT_EQ(in.direction, channel::Direction::inbound);
  EXPECT_EQ(in.spi, 0x2001u);
  EXPECT_EQ(in.outer_src, (std::array<std::uint8_t, 16>{198, 51, 100, 2}));
  EXPECT_EQ(in.outer_dst, (std::array<std::uint8_t, 16>{192, 0, 2, 1}));
  EXPECT_TRUE(in.udp_encap);
  EXPECT_EQ(in.encap_src_port, 4501);
  EXPECT_EQ(in.encap_dst_port, 4500);
  EXPECT_EQ(std::vector<std::uint8_t>(in.encryption_key.view().begin(), in.encryption_key.view().end()),
            bytes(kGcm128Key2));
  EXPECT_EQ(in.replay_window, 1024u);
  EXPECT_FALSE(in.esn);
  EXPECT_EQ(channel::validate(in).code, channel::ResultCode::ok);
}

TEST(StaticSaRecord, CbcAhChachaAndV6) {
  const auto r = load_sas(
      R"({"spi": 512, "direction": "in", "local": "2001:db8::1", "remote": "2001:db8::2", "mode": "transport",
          "proposal": "aes256-sha384", "key": ")" + std::string(64, 'a') + R"(", "integ_key": ")" +
      std::string(96, 'b') + R"(", "replay_window": 0},
         {"spi": 513, "direction": "out", "protocol": "ah", "local": "192.0.2.1", "remote": "192.0.2.2",
          "proposal": "sha256", "integ_key": ")" + kSha256Key + R"(", "local_ts": "10.1.0.0/24", "remote_ts": "10.2.0.0/24"},
         {"spi": 514, "direction": "out", "local": "192.0.2.1", "remote": "192.0.2.2", "mode": "transport",
          "proposal": "chacha20poly1305", "key": ")" + std::string(72, 'c') + R"("})");
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& s = r.config->dataplane.static_sas;
  const auto cbc = record_of(s[0], 1);
  EXPECT_EQ(cbc.ip_version, channel::IpVersion::v6);
  EXPECT_EQ(cbc.mode, channel::Mode::transport);
  EXPECT_EQ(cbc.outer_dst[15], 1);  // 2001:db8::1, us
  EXPECT_EQ(cbc.outer_src[15], 2);
  EXPECT_EQ(cbc.encryption_id, static_cast<std::uint16_t>(iana::EncrId::aes_cbc));
  EXPECT_EQ(cbc.encryption_key_bits, 256);
  EXPECT_EQ(cbc.encryption_key.length, 32);
  EXPECT_EQ(cbc.integrity_id, static_cast<std::uint16_t>(iana::IntegId::hmac_sha2_384_192));
  EXPECT_EQ(std::vector<std::uint8_t>(cbc.integrity_key.view().begin(), cbc.integrity_key.view().end()),
            bytes(std::string(96, 'b')));
  EXPECT_EQ(cbc.replay_window, 0u);

  const auto ah = record_of(s[1], 2);
  EXPECT_EQ(ah.protocol, channel::IpsecProtocol::ah);
  EXPECT_EQ(ah.encryption_id, 0);
  EXPECT_EQ(ah.encryption_key.length, 0);
  EXPECT_EQ(ah.integrity_id, static_cast<std::uint16_t>(iana::IntegId::hmac_sha2_256_128));
  EXPECT_EQ(std::vector<std::uint8_t>(ah.integrity_key.view().begin(), ah.integrity_key.view().end()), bytes(kSha256Key));

  const auto chacha = record_of(s[2], 3);
  EXPECT_EQ(chacha.encryption_id, static_cast<std::uint16_t>(iana::EncrId::chacha20_poly1305));
  EXPECT_EQ(chacha.encryption_key_bits, 0);  // RFC 7634: no Key Length attribute
  EXPECT_EQ(chacha.encryption_key.length, 36);
}

TEST(StaticSaRecord, RefusesWhatTheChannelWouldRefuse) {
  const auto r = load_sas(gcm_sa("out", "4096"));
  ASSERT_TRUE(r.ok()) << all(r);
  StaticSaConfig sa = r.config->dataplane.static_sas[0];
  std::string why;
  EXPECT_FALSE(to_sa_record(sa, 0, &why));
  EXPECT_EQ(why, "SA id 0 is reserved");

  sa.spi = 100;  // only a hand-built config gets here
  EXPECT_FALSE(to_sa_record(sa, 1, &why));
  EXPECT_EQ(why, "the SA channel refuses the record: field out of range (spi)");

  sa = r.config->dataplane.static_sas[0];
  sa.remote = *net::IpAddress::parse("2001:db8::2");
  EXPECT_FALSE(to_sa_record(sa, 1, &why));
  EXPECT_EQ(why, "local and remote addresses are of different families");

  sa = r.config->dataplane.static_sas[0];
  sa.key = SecretBytes(std::vector<std::uint8_t>(40, 1));
  EXPECT_FALSE(to_sa_record(sa, 1, &why));
  EXPECT_EQ(why, "encryption key longer than the SA channel carries");
}

TEST(StaticSaSelectors, OrientedByDirectionAndPairedByFamily) {
  const auto r = load_sas(
      gcm({.direction = "out",
           .spi = "4096",
           .extra = "",
           .selectors = R"("local_ts": ["10.1.0.0/24", "2001:db8:1::/48", "10.5.0.0/16"],
                           "remote_ts": ["2001:db8:2::/48", "10.2.0.0/24"])"}) +
      "," + gcm({.direction = "in", .spi = "4097", .extra = "", .key = kGcm128Key2}));
  ASSERT_TRUE(r.ok()) << all(r);
  const auto p = [](const char* text) { return *net::Prefix::parse(text); };
  EXPECT_EQ(packet_selectors(r.config->dataplane.static_sas[0]),
            (std::vector<SelectorPair>{{p("10.1.0.0/24"), p("10.2.0.0/24")},
                                       {p("2001:db8:1::/48"), p("2001:db8:2::/48")},
                                       {p("10.5.0.0/16"), p("10.2.0.0/24")}}));
  // Inbound packets come from the peer's side to ours.
  EXPECT_EQ(packet_selectors(r.config->dataplane.static_sas[1]),
            (std::vector<SelectorPair>{{p("10.2.0.0/24"), p("10.1.0.0/24")}}));
}

TEST(StaticSaKeyLengths, FollowTheRfcs) {
  using iana::TransformType;
  const auto enc = [](iana::EncrId id, std::uint16_t bits) {
    return encryption_key_length(Transform{TransformType::encryption, static_cast<std::uint16_t>(id), bits});
  };
  EXPECT_EQ(enc(iana::EncrId::aes_gcm_16, 256)->total(), 36u);
  EXPECT_EQ(enc(iana::EncrId::aes_gcm_16, 128)->salt_bytes, 4u);
  EXPECT_EQ(enc(iana::EncrId::aes_cbc, 192)->total(), 24u);
  EXPECT_EQ(enc(iana::EncrId::triple_des, 0)->total(), 24u);
  EXPECT_EQ(enc(iana::EncrId::chacha20_poly1305, 256)->total(), 36u);
  EXPECT_FALSE(enc(iana::EncrId::aes_cbc, 64));
  EXPECT_FALSE(enc(iana::EncrId::chacha20_poly1305, 128));
  EXPECT_FALSE(enc(iana::EncrId::camellia_cbc, 128));
  EXPECT_FALSE(encryption_key_length(Transform{TransformType::integrity, 12, 0}));
  const auto integ = [](iana::IntegId id) {
    return integrity_key_length(Transform{TransformType::integrity, static_cast<std::uint16_t>(id), 0});
  };
  EXPECT_EQ(integ(iana::IntegId::hmac_sha1_96), 20u);
  EXPECT_EQ(integ(iana::IntegId::hmac_sha2_512_256), 64u);
  EXPECT_FALSE(integ(iana::IntegId::aes_cmac_96));
}

}  // namespace
}  // namespace corridor::config
