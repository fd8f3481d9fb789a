// Static SAs against the packet engine itself: the config's key layouts
// (common/config/static_sa.cc) agree with the engine's algorithm table for
// every algorithm both know, and the example gateway's SAs, made into SA
// channel records, protect packets that a mirrored peer opens (and open the
// peer's). Starts EAL with --no-huge (esp_main.cc).
#include "common/config/loader.h"
#include "common/config/proposal_keywords.h"
#include "common/config/static_sa.h"
#include "dataplane/crypto/algorithm.h"
#include "tests/unit/dataplane/esp_fixture.h"

namespace corridor::config {
namespace {

namespace crypto = dataplane::crypto;
using dataplane::ipsec::Sa;
using dataplane::ipsec::Worker;
using dataplane::ipsec::testing::Bytes;
using dataplane::ipsec::testing::make_sa;
using dataplane::ipsec::testing::run_one;
using dataplane::ipsec::testing::udp_packet;

TEST(StaticSaKeyLayouts, MatchThePacketEngine) {
  std::vector<const ProposalKeyword*> ciphers, integrities, ah_integrities;
  for (const auto& k : proposal_keywords()) {
    if (!k.in_iana_registry()) continue;
    if (k.type == iana::TransformType::encryption && k.supported_for(ProposalKind::esp)) ciphers.push_back(&k);
    if (k.type == iana::TransformType::integrity && k.supported_for(ProposalKind::esp)) integrities.push_back(&k);
    if (k.type == iana::TransformType::integrity && k.supported_for(ProposalKind::ah)) ah_integrities.push_back(&k);
  }
  int compared = 0;
  for (const auto* cipher : ciphers) {
    std::vector<const ProposalKeyword*> with = integrities;
    if (iana::encryption_is_aead(cipher->id)) with = {nullptr};  // AEAD: no integrity transform
    for (const auto* integrity : with) {
      SCOPED_TRACE(std::string(cipher->keyword) + (integrity ? "-" + std::string(integrity->keyword) : ""));
      std::string why;
      const auto engine = crypto::esp_algorithm(cipher->id, cipher->key_bits, integrity ? integrity->id : 0, &why);
      if (!engine) continue;  // DES, SHA-1, ...: the engine refuses them when installing, nothing to agree on
      const auto length = encryption_key_length(cipher->transform());
      ASSERT_TRUE(length) << "the engine runs it, so a static SA must be able to key it";
      EXPECT_EQ(length->total(), engine->encryption_key_bytes());
      EXPECT_EQ(length->salt_bytes, engine->salt_bytes);
      if (integrity) {
        EXPECT_EQ(integrity_key_length(integrity->transform()), engine->integrity_key_bytes);
      }
      ++compared;
    }
  }
  for (const auto* integrity : ah_integrities) {
    std::string why;
    const auto engine = crypto::ah_algorithm(integrity->id, &why);
    if (!engine) continue;
    EXPECT_EQ(integrity_key_length(integrity->transform()), engine->integrity_key_bytes) << integrity->keyword;
    ++compared;
  }
  // AES-CBC/CTR and NULL with three HMAC-SHA-2 spellings each, GCM, GMAC,
  // ChaCha20-Poly1305, and AH: the loop must have found them.
  EXPECT_GE(compared, 60);
}

// The peer's copy of one of our SAs: the same SPI, algorithms and keys for
// the same packets, seen from the other end. The UDP ports are the packets'
// own, so they stay as they are.
StaticSaConfig mirrored(StaticSaConfig sa) {
  sa.direction = sa.direction == SaDirection::out ? SaDirection::in : SaDirection::out;
  std::swap(sa.local, sa.remote);
  std::swap(sa.local_ts, sa.remote_ts);
  return sa;
}

Bytes address_bytes(const net::IpAddress& a) { return Bytes(a.bytes().begin(), a.bytes().begin() + 4); }

class StaticSaEngine : public ::testing::Test {
 protected:
  std::unique_ptr<Sa> install(const StaticSaConfig& config) {
    std::string why;
    const auto record = to_sa_record(config, ++next_id_, &why);
    EXPECT_TRUE(record) << why;
    return record ? make_sa(backend_, *record) : nullptr;
  }

  crypto::IpsecMbBackend backend_;
  Worker worker_{backend_};
  std::uint64_t next_id_ = 0;
};

TEST_F(StaticSaEngine, ExampleGatewayAndItsMirrorExchangePackets) {
  const auto r = load_config_file(std::string(CORRIDOR_SOURCE_DIR) + "/conf/static-sa-gateway.json");
  ASSERT_TRUE(r.ok());
  const auto& sas = r.config->dataplane.static_sas;
  ASSERT_EQ(sas.size(), 2u);
  ASSERT_EQ(sas[0].direction, SaDirection::out);
  ASSERT_EQ(sas[1].direction, SaDirection::in);
  auto our_out = install(sas[0]);
  auto our_in = install(sas[1]);
  auto their_in = install(mirrored(sas[0]));
  auto their_out = install(mirrored(sas[1]));
  ASSERT_TRUE(our_out && our_in && their_in && their_out);

  const Bytes clear = udp_packet(false, 100);
  // Ours to theirs: outer header 192.0.2.1 -> 198.51.100.2, ESP with our SPI.
  const auto sent = run_one(worker_, *our_out, clear);
  ASSERT_TRUE(sent);
  EXPECT_EQ(Bytes(sent->begin() + 12, sent->begin() + 16), address_bytes(sas[0].local));
  EXPECT_EQ(Bytes(sent->begin() + 16, sent->begin() + 20), address_bytes(sas[0].remote));
  EXPECT_EQ((*sent)[9], 50);  // ESP
  EXPECT_EQ(Bytes(sent->begin() + 20, sent->begin() + 24), (Bytes{0x00, 0x00, 0x10, 0x01}));
  const auto opened = run_one(worker_, *their_in, *sent);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, clear);
  // Each direction has its own key: our inbound SA cannot open our own output.
  EXPECT_FALSE(run_one(worker_, *our_in, *sent));

  // Theirs to ours.
  const auto received = run_one(worker_, *their_out, clear);
  ASSERT_TRUE(received);
  EXPECT_EQ(Bytes(received->begin() + 12, received->begin() + 16), address_bytes(sas[1].remote));
  EXPECT_EQ(Bytes(received->begin() + 16, received->begin() + 20), address_bytes(sas[1].local));
  EXPECT_EQ(Bytes(received->begin() + 20, received->begin() + 24), (Bytes{0x00, 0x00, 0x20, 0x01}));
  const auto delivered = run_one(worker_, *our_in, *received);
  ASSERT_TRUE(delivered);
  EXPECT_EQ(*delivered, clear);
  // The replay window of our inbound SA (1024 in the example) is in force.
  EXPECT_FALSE(run_one(worker_, *our_in, *received));
}

}  // namespace
}  // namespace corridor::config
