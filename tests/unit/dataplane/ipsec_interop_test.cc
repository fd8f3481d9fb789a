// Corridor's ESP and AH against an independent implementation: scapy
// (through tests/interop/ipsec_scapy.py) decrypts/verifies every packet
// Corridor protects, and Corridor every packet scapy protects, for every
// algorithm x tunnel/transport x outer IPv4/IPv6 (inner IPv4 and IPv6 in
// tunnel mode) x NAT-T on/off (ESP) x ESN on/off. Inner packets are compared
// byte for byte. AH adds transport packets with IPv4 options and IPv6
// Hop-by-Hop options, and scapy's packets with their mutable fields changed
// as routers would, to cross-check the mutable-field rules.
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

#include "dataplane/ipsec/ip.h"
#include "tests/unit/dataplane/esp_fixture.h"

namespace corridor::dataplane::ipsec::testing {
namespace {

using channel::Direction;
using nlohmann::json;

json sa_json(const AlgorithmCase& a, const SaShape& s, const Keys& k, std::uint32_t spi) {
  std::string why;
  const auto alg = crypto::esp_algorithm(static_cast<std::uint16_t>(a.encr), a.bits, static_cast<std::uint16_t>(a.integ),
                                         &why);
  json sa = {{"proto", "esp"},
             {"spi", spi},
             {"mode", s.tunnel ? "tunnel" : "transport"},
             {"crypt_algo", a.scapy_crypt},
             {"crypt_key", hex(k.encryption)},
             {"auth_algo", a.scapy_auth ? json(a.scapy_auth) : json(nullptr)},
             {"auth_key", a.scapy_auth ? json(hex(k.integrity)) : json(nullptr)},
             {"icv_size", alg ? alg->icv_bytes : 0},
             {"esn", s.esn},
             {"nat_t", s.udp ? json{{"sport", 4500}, {"dport", 4500}} : json(nullptr)}};
  if (s.tunnel) {
    sa["tunnel_src"] = s.outer_v6 ? "2001:db8:ffff::1" : "192.0.2.1";
    sa["tunnel_dst"] = s.outer_v6 ? "2001:db8:ffff::2" : "192.0.2.2";
  }
  return sa;
}

// Runs the oracle on `request` and checks that it answered every case.
json run_oracle(const json& request) {
  const char* oracle = std::getenv("CORRIDOR_SCAPY_ORACLE");
  if (oracle == nullptr) {
    ADD_FAILURE() << "CORRIDOR_SCAPY_ORACLE is not set (meson sets it)";
    return {};
  }
  const std::string dir = ::testing::TempDir();
  const std::string req = dir + "/ipsec_interop_request.json", resp = dir + "/ipsec_interop_response.json";
  std::ofstream(req) << request.dump();
  const std::string cmd = std::string("/usr/bin/python3 ") + oracle + " " + req + " " + resp;
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << cmd;
  std::ifstream in(resp);
  json response = json::parse(in, nullptr, false);
  EXPECT_TRUE(response.contains("cases")) << response.dump().substr(0, 500);
  if (!response.contains("cases") || response["cases"].size() != request["cases"].size()) {
    ADD_FAILURE() << "the oracle answered " << (response.contains("cases") ? response["cases"].size() : 0) << " of "
                  << request["cases"].size() << " cases";
    return {};
  }
  return response;
}

struct Case {
  std::string name;
  std::vector<Bytes> clear;
  std::vector<std::uint64_t> seqs;
};

class IpsecInterop : public ::testing::Test {
 protected:
  crypto::IpsecMbBackend backend_;
  Worker worker_{backend_};
};

std::vector<SaShape> all_shapes() {
  std::vector<SaShape> shapes;
  for (bool tunnel : {true, false})
    for (bool v6 : {false, true})
      for (bool udp : {false, true})
        for (bool esn : {false, true}) shapes.push_back({tunnel, v6, udp, esn});
  return shapes;
}

std::vector<Bytes> clear_packets(const SaShape& s) {
  std::vector<Bytes> out;
  std::vector<bool> families = s.tunnel ? std::vector<bool>{false, true} : std::vector<bool>{s.outer_v6};
  for (bool v6 : families) {
    for (std::size_t size : {0u, 1u, 2u, 3u, 77u, 1000u}) out.push_back(udp_packet(v6, size, 0, false, static_cast<std::uint8_t>(size * 3)));
  }
  return out;
}

TEST_F(IpsecInterop, ScapyDecryptsWhatCorridorEncrypts) {
  json request = {{"cases", json::array()}};
  std::vector<Case> cases;
  std::uint32_t spi = 0x2000;
  for (const auto& a : algorithm_cases()) {
    for (const SaShape& s : all_shapes()) {
      const Keys keys = make_keys(a, spi);
      auto out = make_sa(backend_, make_record(a, s, keys, Direction::outbound, spi));
      ASSERT_TRUE(out);
      // With ESN, start beyond 2^32 so that the high half is not zero and
      // really has to enter the ICV.
      if (s.esn) out->runtime().seq = (std::uint64_t{5} << 32) - 3;
      Case c{describe(a, s), clear_packets(s), {}};
      json packets = json::array();
      for (const Bytes& clear : c.clear) {
        const auto p = run_one(worker_, *out, clear);
        ASSERT_TRUE(p) << c.name;
        packets.push_back({{"seq", out->runtime().seq}, {"hex", hex(*p)}});
      }
      request["cases"].push_back({{"name", c.name}, {"op", "decrypt"}, {"sa", sa_json(a, s, keys, spi)}, {"packets", packets}});
      cases.push_back(std::move(c));
      ++spi;
    }
  }
  const json response = run_oracle(request);
  ASSERT_FALSE(response.is_null());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& got = response["cases"][i]["packets"];
    ASSERT_EQ(got.size(), cases[i].clear.size()) << cases[i].name;
    for (std::size_t k = 0; k < got.size(); ++k) {
      ASSERT_TRUE(got[k].contains("hex")) << cases[i].name << " packet " << k << ": " << got[k].dump();
      EXPECT_EQ(got[k]["hex"].get<std::string>(), hex(cases[i].clear[k])) << cases[i].name << " packet " << k;
    }
  }
}

TEST_F(IpsecInterop, CorridorDecryptsWhatScapyEncrypts) {
  json request = {{"cases", json::array()}};
  std::vector<Case> cases;
  std::vector<channel::SaRecord> records;
  std::uint32_t spi = 0x3000;
  for (const auto& a : algorithm_cases()) {
    for (const SaShape& s : all_shapes()) {
      const Keys keys = make_keys(a, spi);
      Case c{describe(a, s), clear_packets(s), {}};
      json packets = json::array();
      for (std::size_t k = 0; k < c.clear.size(); ++k) {
        // ESN: cross the 2^32 boundary, from a receiver that walks there
        // (Appendix A infers the high half from what it has seen).
        std::uint64_t seq = k + 1;
        if (s.esn && k >= 2) seq = k < 4 ? 0x80000000ull + k : 0xfffffff8ull + (k - 4) * 8;
        c.seqs.push_back(seq);
        packets.push_back({{"seq", seq}, {"hex", hex(c.clear[k])}});
      }
      request["cases"].push_back({{"name", c.name}, {"op", "encrypt"}, {"sa", sa_json(a, s, keys, spi)}, {"packets", packets}});
      records.push_back(make_record(a, s, keys, Direction::inbound, spi));
      cases.push_back(std::move(c));
      ++spi;
    }
  }
  const json response = run_oracle(request);
  ASSERT_FALSE(response.is_null());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto in = make_sa(backend_, records[i]);
    ASSERT_TRUE(in);
    const auto& got = response["cases"][i]["packets"];
    ASSERT_EQ(got.size(), cases[i].clear.size()) << cases[i].name;
    for (std::size_t k = 0; k < got.size(); ++k) {
      ASSERT_TRUE(got[k].contains("hex")) << cases[i].name << " packet " << k << ": " << got[k].dump();
      const auto clear = run_one(worker_, *in, unhex(got[k]["hex"].get<std::string>()));
      ASSERT_TRUE(clear) << cases[i].name << " packet " << k << " seq " << cases[i].seqs[k];
      EXPECT_EQ(hex(*clear), hex(cases[i].clear[k])) << cases[i].name << " packet " << k;
    }
    if (cases[i].name.find(" esn") != std::string::npos) {
      EXPECT_GE(in->runtime().replay->highest(), std::uint64_t{1} << 32) << cases[i].name;
    }
  }
}

// AH: the oracle's SA for an integrity algorithm and shape.
json ah_sa_json(const AhCase& a, const SaShape& s, const Bytes& key, std::uint32_t spi) {
  json sa = {{"proto", "ah"},          {"spi", spi},
             {"mode", s.tunnel ? "tunnel" : "transport"},
             {"crypt_algo", nullptr},  {"crypt_key", nullptr},
             {"auth_algo", a.scapy_auth}, {"auth_key", hex(key)},
             {"esn", s.esn},           {"nat_t", nullptr}};
  if (s.tunnel) {
    sa["tunnel_src"] = s.outer_v6 ? "2001:db8:ffff::1" : "192.0.2.1";
    sa["tunnel_dst"] = s.outer_v6 ? "2001:db8:ffff::2" : "192.0.2.2";
  }
  return sa;
}

std::vector<SaShape> ah_shapes() {
  std::vector<SaShape> shapes;
  for (bool tunnel : {true, false})
    for (bool v6 : {false, true})
      for (bool esn : {false, true}) shapes.push_back({tunnel, v6, false, esn});
  return shapes;
}

// Transport packets whose own headers carry what the mutable-field rules
// are about: IPv4 options (Router Alert kept, Timestamp zeroed) and an IPv6
// Hop-by-Hop header with an option that may change en route and one that
// may not.
std::vector<Bytes> ah_clear_packets(const SaShape& s) {
  std::vector<Bytes> out = clear_packets(s);
  for (std::size_t size : {0u, 41u}) {
    Bytes p = udp_packet(s.outer_v6, size, 0x48, false, static_cast<std::uint8_t>(size));
    if (!s.outer_v6) {
      const Bytes options = {0x94, 0x04, 0x00, 0x00, 0x44, 0x0c, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
      p.insert(p.begin() + 20, options.begin(), options.end());
      p[0] = 0x49;
      store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
      set_ipv4_checksum(p.data());
    } else {
      const Bytes hbh = {kProtoUdp, 1, 0x3e, 4, 0xaa, 0xbb, 0xcc, 0xdd, 0x1e, 4, 0x11, 0x22, 0x33, 0x44, 0x01, 0x00};
      p.insert(p.begin() + 40, hbh.begin(), hbh.end());
      p[6] = kIpv6HopByHop;
      store_be16(&p[4], static_cast<std::uint16_t>(p.size() - 40));
    }
    if (!s.tunnel || size == 0) out.push_back(p);  // tunnel mode: one such inner packet is enough
  }
  return out;
}

// What a router does to a packet in transit: the TTL / hop limit goes
// down, DSCP is rewritten, the flow label set; the ICV must still verify.
Bytes route(Bytes b) {
  if ((b[0] >> 4) == 4) {
    b[8] = static_cast<std::uint8_t>(b[8] - 1);
    b[1] = 0x28;
    set_ipv4_checksum(b.data());
  } else {
    b[7] = static_cast<std::uint8_t>(b[7] - 1);
    b[0] = 0x60 | 0x02;
    b[1] = 0x8a;
    b[3] = 0x17;
  }
  return b;
}

TEST_F(IpsecInterop, ScapyVerifiesWhatCorridorSignsWithAh) {
  json request = {{"cases", json::array()}};
  std::vector<Case> cases;
  std::uint32_t spi = 0x6000;
  for (const auto& a : ah_cases()) {
    for (const SaShape& s : ah_shapes()) {
      const Bytes key = make_ah_key(a, spi);
      auto out = make_sa(backend_, make_ah_record(a, s, key, Direction::outbound, spi));
      ASSERT_TRUE(out);
      if (s.esn) out->runtime().seq = (std::uint64_t{5} << 32) - 3;
      Case c{"ah " + std::string(a.name) + (s.tunnel ? " tunnel" : " transport") + (s.outer_v6 ? " v6" : " v4") +
                 (s.esn ? " esn" : ""),
             ah_clear_packets(s), {}};
      json packets = json::array();
      for (std::size_t k = 0; k < c.clear.size(); ++k) {
        const auto p = run_one(worker_, *out, c.clear[k]);
        ASSERT_TRUE(p) << c.name;
        // Every other packet is routed on the way: scapy must not care.
        packets.push_back({{"seq", out->runtime().seq}, {"hex", hex(k % 2 ? route(*p) : *p)}});
      }
      request["cases"].push_back({{"name", c.name}, {"op", "decrypt"}, {"sa", ah_sa_json(a, s, key, spi)}, {"packets", packets}});
      cases.push_back(std::move(c));
      ++spi;
    }
  }
  const json response = run_oracle(request);
  ASSERT_FALSE(response.is_null());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& got = response["cases"][i]["packets"];
    ASSERT_EQ(got.size(), cases[i].clear.size()) << cases[i].name;
    for (std::size_t k = 0; k < got.size(); ++k) {
      ASSERT_TRUE(got[k].contains("hex")) << cases[i].name << " packet " << k << ": " << got[k].dump();
      // Transport mode passes the header on as received: routed packets
      // come out routed.
      const Bytes want = cases[i].name.find("transport") != std::string::npos && k % 2 ? route(cases[i].clear[k])
                                                                                      : cases[i].clear[k];
      EXPECT_EQ(got[k]["hex"].get<std::string>(), hex(want)) << cases[i].name << " packet " << k;
    }
  }
}

TEST_F(IpsecInterop, CorridorVerifiesWhatScapySignsWithAh) {
  json request = {{"cases", json::array()}};
  std::vector<Case> cases;
  std::vector<channel::SaRecord> records;
  std::uint32_t spi = 0x7000;
  for (const auto& a : ah_cases()) {
    for (const SaShape& s : ah_shapes()) {
      const Bytes key = make_ah_key(a, spi);
      Case c{"ah " + std::string(a.name) + (s.tunnel ? " tunnel" : " transport") + (s.outer_v6 ? " v6" : " v4") +
                 (s.esn ? " esn" : ""),
             ah_clear_packets(s), {}};
      json packets = json::array();
      for (std::size_t k = 0; k < c.clear.size(); ++k) {
        std::uint64_t seq = k + 1;
        if (s.esn && k >= 2) seq = k < 4 ? 0x80000000ull + k : 0xfffffff8ull + (k - 4) * 8;
        c.seqs.push_back(seq);
        packets.push_back({{"seq", seq}, {"hex", hex(c.clear[k])}});
      }
      request["cases"].push_back({{"name", c.name}, {"op", "encrypt"}, {"sa", ah_sa_json(a, s, key, spi)}, {"packets", packets}});
      records.push_back(make_ah_record(a, s, key, Direction::inbound, spi));
      cases.push_back(std::move(c));
      ++spi;
    }
  }
  const json response = run_oracle(request);
  ASSERT_FALSE(response.is_null());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto in = make_sa(backend_, records[i]);
    ASSERT_TRUE(in);
    const bool transport = cases[i].name.find("transport") != std::string::npos;
    const auto& got = response["cases"][i]["packets"];
    ASSERT_EQ(got.size(), cases[i].clear.size()) << cases[i].name;
    for (std::size_t k = 0; k < got.size(); ++k) {
      ASSERT_TRUE(got[k].contains("hex")) << cases[i].name << " packet " << k << ": " << got[k].dump();
      const Bytes signed_pkt = unhex(got[k]["hex"].get<std::string>());
      const auto clear = run_one(worker_, *in, k % 2 ? route(signed_pkt) : signed_pkt);
      ASSERT_TRUE(clear) << cases[i].name << " packet " << k << " seq " << cases[i].seqs[k];
      const Bytes want = transport && k % 2 ? route(cases[i].clear[k]) : cases[i].clear[k];
      EXPECT_EQ(hex(*clear), hex(want)) << cases[i].name << " packet " << k;
    }
    if (cases[i].name.find(" esn") != std::string::npos) {
      EXPECT_GE(in->runtime().replay->highest(), std::uint64_t{1} << 32) << cases[i].name;
    }
  }
}

}  // namespace
}  // namespace corridor::dataplane::ipsec::testing
