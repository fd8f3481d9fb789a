// Shared by the ESP engine tests: EAL and a mempool for the whole test
// binary, clear packets to protect, SA records for every algorithm, and
// moving bytes in and out of mbufs.
#pragma once

#include <gtest/gtest.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/channel/records.h"
#include "common/iana/ikev2.h"
#include "dataplane/crypto/ipsec_mb.h"
#include "dataplane/ipsec/sa.h"
#include "dataplane/ipsec/worker.h"
#include "tests/unit/dataplane/eal_environment.h"

namespace corridor::dataplane::ipsec::testing {

using Bytes = std::vector<std::uint8_t>;

inline rte_mempool* g_pool = nullptr;

// EAL (eal_environment.h) and a mempool for the whole test binary.
class EngineEnvironment : public dataplane::testing::EalEnvironment {
 public:
  EngineEnvironment() : EalEnvironment("esp_test") {}
  void SetUp() override {
    EalEnvironment::SetUp();
    g_pool = rte_pktmbuf_pool_create("esp_test_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ASSERT_NE(g_pool, nullptr) << rte_strerror(rte_errno);
  }
  void TearDown() override {
    rte_mempool_free(g_pool);
    EalEnvironment::TearDown();
  }
};

inline rte_mbuf* to_mbuf(const Bytes& b) {
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
  EXPECT_NE(m, nullptr);
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(b.size())));
  std::memcpy(p, b.data(), b.size());
  return m;
}

inline Bytes bytes_of(const rte_mbuf* m) {
  const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
  return Bytes(p, p + m->data_len);
}

inline std::string hex(const Bytes& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto x : b) {
    s += d[x >> 4];
    s += d[x & 15];
  }
  return s;
}

inline Bytes unhex(std::string_view s) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

inline std::uint16_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2) sum += static_cast<std::uint32_t>(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// A UDP datagram in IPv4 (with a valid header checksum) or IPv6, `payload`
// bytes long, from 10.0.0.1/2001:db8::1 to 10.0.1.1/2001:db8:1::1.
inline Bytes udp_packet(bool v6, std::size_t payload, std::uint8_t tc = 0, bool df = false, std::uint8_t fill = 0) {
  Bytes p;
  const std::size_t udp_len = 8 + payload;
  if (!v6) {
    const std::size_t total = 20 + udp_len;
    p = {0x45, tc, static_cast<std::uint8_t>(total >> 8), static_cast<std::uint8_t>(total), 0x12, 0x34,
         static_cast<std::uint8_t>(df ? 0x40 : 0), 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 1, 1};
    const std::uint16_t c = static_cast<std::uint16_t>(~sum16(p.data(), 20));
    p[10] = static_cast<std::uint8_t>(c >> 8);
    p[11] = static_cast<std::uint8_t>(c);
  } else {
    p = {static_cast<std::uint8_t>(0x60 | tc >> 4), static_cast<std::uint8_t>((tc & 0x0f) << 4), 0, 0,
         static_cast<std::uint8_t>(udp_len >> 8), static_cast<std::uint8_t>(udp_len), 17, 64};
    const Bytes src = unhex("20010db8000000000000000000000001"), dst = unhex("20010db8000100000000000000000001");
    p.insert(p.end(), src.begin(), src.end());
    p.insert(p.end(), dst.begin(), dst.end());
  }
  const Bytes udp = {0x30, 0x39, 0x00, 0x35, static_cast<std::uint8_t>(udp_len >> 8), static_cast<std::uint8_t>(udp_len),
                     0, 0};
  p.insert(p.end(), udp.begin(), udp.end());
  for (std::size_t i = 0; i < payload; ++i) p.push_back(static_cast<std::uint8_t>(fill + i));
  return p;
}

struct AlgorithmCase {
  const char* name;        // as in swanctl proposals
  const char* scapy_crypt; // the oracle's names
  const char* scapy_auth;
  iana::EncrId encr;
  std::uint16_t bits;
  iana::IntegId integ;
};

inline const std::vector<AlgorithmCase>& algorithm_cases() {
  using iana::EncrId;
  using iana::IntegId;
  static const std::vector<AlgorithmCase> cases = {
      {"aes128gcm16", "AES-GCM", nullptr, EncrId::aes_gcm_16, 128, IntegId::none},
      {"aes256gcm16", "AES-GCM", nullptr, EncrId::aes_gcm_16, 256, IntegId::none},
      {"chacha20poly1305", "CHACHA20-POLY1305", nullptr, EncrId::chacha20_poly1305, 256, IntegId::none},
      {"aes128gmac", "AES-NULL-GMAC", nullptr, EncrId::null_auth_aes_gmac, 128, IntegId::none},
      {"aes256gmac", "AES-NULL-GMAC", nullptr, EncrId::null_auth_aes_gmac, 256, IntegId::none},
      {"aes128-sha256", "AES-CBC", "HMAC-SHA2-256-128", EncrId::aes_cbc, 128, IntegId::hmac_sha2_256_128},
      {"aes256-sha384", "AES-CBC", "HMAC-SHA2-384-192", EncrId::aes_cbc, 256, IntegId::hmac_sha2_384_192},
      {"aes256-sha512", "AES-CBC", "HMAC-SHA2-512-256", EncrId::aes_cbc, 256, IntegId::hmac_sha2_512_256},
      {"aes128ctr-sha256", "AES-CTR", "HMAC-SHA2-256-128", EncrId::aes_ctr, 128, IntegId::hmac_sha2_256_128},
      {"aes256ctr-sha512", "AES-CTR", "HMAC-SHA2-512-256", EncrId::aes_ctr, 256, IntegId::hmac_sha2_512_256},
      {"null-sha256", "NULL", "HMAC-SHA2-256-128", EncrId::null, 0, IntegId::hmac_sha2_256_128},
  };
  return cases;
}

struct SaShape {
  bool tunnel = true;
  bool outer_v6 = false;
  bool udp = false;
  bool esn = false;
};

inline std::string describe(const AlgorithmCase& a, const SaShape& s) {
  return std::string(a.name) + (s.tunnel ? " tunnel" : " transport") + (s.outer_v6 ? " outer-v6" : " outer-v4") +
         (s.udp ? " nat-t" : "") + (s.esn ? " esn" : "");
}

// Key material for an SA of `a`, deterministic per seed.
struct Keys {
  Bytes encryption, integrity;
};
inline Keys make_keys(const AlgorithmCase& a, std::uint64_t seed) {
  std::string why;
  const auto alg = crypto::esp_algorithm(static_cast<std::uint16_t>(a.encr), a.bits, static_cast<std::uint16_t>(a.integ),
                                         &why);
  EXPECT_TRUE(alg) << why;
  std::mt19937_64 rng(seed);
  Keys k;
  k.encryption.resize(alg->encryption_key_bytes());
  k.integrity.resize(alg->integrity_key_bytes);
  for (auto& b : k.encryption) b = static_cast<std::uint8_t>(rng());
  for (auto& b : k.integrity) b = static_cast<std::uint8_t>(rng());
  return k;
}

inline channel::SaRecord make_record(const AlgorithmCase& a, const SaShape& s, const Keys& k, channel::Direction dir,
                                     std::uint32_t spi = 0x1000, std::uint32_t replay_window = 64) {
  channel::SaRecord r;
  r.sa_id = spi;
  r.spi = spi;
  r.direction = dir;
  r.mode = s.tunnel ? channel::Mode::tunnel : channel::Mode::transport;
  r.ip_version = s.outer_v6 ? channel::IpVersion::v6 : channel::IpVersion::v4;
  if (s.outer_v6) {
    const Bytes src = unhex("20010db8ffff00000000000000000001"), dst = unhex("20010db8ffff00000000000000000002");
    std::copy(src.begin(), src.end(), r.outer_src.begin());
    std::copy(dst.begin(), dst.end(), r.outer_dst.begin());
  } else {
    r.outer_src = {192, 0, 2, 1};
    r.outer_dst = {192, 0, 2, 2};
  }
  r.udp_encap = s.udp;
  r.encap_src_port = s.udp ? 4500 : 0;
  r.encap_dst_port = s.udp ? 4500 : 0;
  r.encryption_id = static_cast<std::uint16_t>(a.encr);
  r.encryption_key_bits = a.bits;
  r.integrity_id = static_cast<std::uint16_t>(a.integ);
  r.encryption_key.assign(k.encryption);
  r.integrity_key.assign(k.integrity);
  r.replay_window = dir == channel::Direction::inbound ? replay_window : 0;
  r.esn = s.esn;
  return r;
}

inline std::unique_ptr<Sa> make_sa(crypto::Backend& backend, const channel::SaRecord& r) {
  std::string why;
  auto sa = Sa::create(r, backend, &why);
  EXPECT_NE(sa, nullptr) << why;
  return sa;
}

// AH (RFC 4302) integrity algorithms, with the oracle's names.
struct AhCase {
  const char* name;
  const char* scapy_auth;
  iana::IntegId integ;
};
inline const std::vector<AhCase>& ah_cases() {
  static const std::vector<AhCase> cases = {
      {"sha256", "HMAC-SHA2-256-128", iana::IntegId::hmac_sha2_256_128},
      {"sha384", "HMAC-SHA2-384-192", iana::IntegId::hmac_sha2_384_192},
      {"sha512", "HMAC-SHA2-512-256", iana::IntegId::hmac_sha2_512_256},
  };
  return cases;
}

inline Bytes make_ah_key(const AhCase& a, std::uint64_t seed) {
  std::string why;
  const auto alg = crypto::ah_algorithm(static_cast<std::uint16_t>(a.integ), &why);
  EXPECT_TRUE(alg) << why;
  std::mt19937_64 rng(seed);
  Bytes key(alg ? alg->integrity_key_bytes : 0);
  for (auto& b : key) b = static_cast<std::uint8_t>(rng());
  return key;
}

// An AH SA record: the ESP record's addresses and shape, no encryption.
inline channel::SaRecord make_ah_record(const AhCase& a, const SaShape& s, const Bytes& key, channel::Direction dir,
                                        std::uint32_t spi = 0x5000, std::uint32_t replay_window = 64) {
  const AlgorithmCase none{"", "", nullptr, iana::EncrId::null, 0, a.integ};
  channel::SaRecord r = make_record(none, s, {Bytes{}, key}, dir, spi, replay_window);
  r.protocol = channel::IpsecProtocol::ah;
  r.encryption_id = 0;
  return r;
}

// Runs one packet through an SA's burst function. Returns the output bytes,
// or nothing (and the mbuf freed) when the engine dropped it.
inline std::optional<Bytes> run_one(Worker& w, Sa& sa, const Bytes& in) {
  rte_mbuf* m = to_mbuf(in);
  rte_mbuf* burst[1] = {m};
  const auto ok = sa.runtime().process(w, sa.runtime(), burst, 1);
  Bytes out = bytes_of(burst[0]);
  rte_pktmbuf_free(burst[0]);
  if (ok != 1) return std::nullopt;
  return out;
}

}  // namespace corridor::dataplane::ipsec::testing
