// common/ikev1 against strongSwan: a real IKEv1 Main Mode (PSK) and Quick
// Mode (PFS) between two strongSwan 5.9.8 charons, recorded by
// capture_strongswan_vectors.py (datagrams from the wire, and what the
// initiating charon logged at level 4: g^xy, SKEYID..., HASH_I/R,
// Hash(1..3), the ESP keys). Corridor's codec, key derivation, IV chain
// and cipher must reproduce every value from the public datagrams plus
// g^xy and the PSK, as strongSwan's peer did.
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/config/proposal.h"
#include "common/ikev1/cipher.h"
#include "common/ikev1/keys.h"
#include "common/ikev1/message.h"
#include "control/ikev1/nat_t.h"
#include "control/ikev1/proposal.h"
#include "tests/unit/ike/ike_test_support.h"

namespace {

using namespace corridor::ikev1;  // NOLINT: test brevity
namespace v1 = corridor::iana::ikev1;
namespace p = corridor::control::ikev1;
namespace net = corridor::net;
using corridor::iana::PrfId;
using corridor::ike::test::from_hex;
using Bytes = std::vector<std::uint8_t>;

Bytes bytes(const SecretBytes& s) { return {s.data(), s.data() + s.size()}; }
Bytes slice(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

class StrongswanVectors : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(CORRIDOR_IKEV1_VECTORS);
    ASSERT_TRUE(in) << "cannot open " << CORRIDOR_IKEV1_VECTORS;
    v_ = nlohmann::json::parse(in);
    for (const auto& d : v_["datagrams"]) grams_.push_back(from_hex(d["hex"].get<std::string>()));
    ASSERT_EQ(grams_.size(), 9u);  // Main Mode 1-6, Quick Mode 1-3
  }
  Bytes logged(const char* label) { return from_hex(v_["strongswan_a"][label].at(0).get<std::string>()); }

  // The payloads of a clear datagram with their spans.
  struct Clear {
    ParsedHeader header;
    std::vector<Payload> payloads;
    std::vector<PayloadSpan> spans;
    std::span<const std::uint8_t> body;
  };
  Clear clear(std::size_t i) {
    Clear c;
    auto h = parse_header(grams_[i]);
    EXPECT_TRUE(h.ok());
    c.header = *h;
    c.body = std::span(grams_[i]).subspan(kHeaderSize);
    auto payloads = parse_payloads(h->first_payload, c.body, false);
    EXPECT_TRUE(payloads.ok()) << payloads.error().message;
    c.payloads = *payloads;
    c.spans = *walk_payloads(h->first_payload, c.body, false);
    return c;
  }
  // Decrypts datagram i with the chain's IV, advances the chain.
  struct Plain {
    ParsedHeader header;
    Bytes plaintext;
    std::vector<Payload> payloads;
    std::vector<PayloadSpan> spans;
  };
  Plain open(std::size_t i, const Phase1Cipher& cipher, IvChain& chain) {
    Plain out;
    auto h = parse_header(grams_[i]);
    EXPECT_TRUE(h.ok() && h->header.encrypted());
    out.header = *h;
    const auto ct = std::span(grams_[i]).subspan(kHeaderSize);
    auto pt = cipher.decrypt(chain.iv(), ct);
    EXPECT_TRUE(pt.ok());
    out.plaintext = *pt;
    chain.advance(ct);
    auto payloads = parse_payloads(h->first_payload, out.plaintext, true);
    EXPECT_TRUE(payloads.ok()) << payloads.error().message;
    out.payloads = *payloads;
    out.spans = *walk_payloads(h->first_payload, out.plaintext, true);
    return out;
  }
  template <typename T>
  static const T& body_of(const std::vector<Payload>& payloads, v1::PayloadType type, int nth = 0) {
    for (const auto& pl : payloads) {
      if (pl.type == type && nth-- == 0) return std::get<T>(pl.body);
    }
    throw std::runtime_error("payload missing");
  }
  static std::size_t index_of(const std::vector<PayloadSpan>& spans, v1::PayloadType type, int nth = 0) {
    for (std::size_t i = 0; i < spans.size(); ++i) {
      if (spans[i].type == type && nth-- == 0) return i;
    }
    throw std::runtime_error("payload missing");
  }
  // Everything after payload `k` to the end of the last payload (padding excluded).
  static Bytes after(const Plain& m, std::size_t k) {
    const auto& last = m.spans.back();
    const auto from = m.spans[k].offset + m.spans[k].length;
    return Bytes(m.plaintext.begin() + static_cast<std::ptrdiff_t>(from),
                 m.plaintext.begin() + static_cast<std::ptrdiff_t>(last.offset + last.length));
  }

  nlohmann::json v_;
  std::vector<Bytes> grams_;
};

TEST_F(StrongswanVectors, MainModeAndQuickModeReproduceStrongswan) {
  const auto prf = PrfId::hmac_sha2_256;
  // Main Mode 1 and 2: the proposal, and what Corridor would choose of it.
  auto mm1 = clear(0);
  auto mm2 = clear(1);
  EXPECT_EQ(mm1.header.header.exchange, v1::ExchangeType::identity_protection);
  const auto& offer = body_of<SecurityAssociation>(mm1.payloads, v1::PayloadType::sa);
  auto configured = p::phase1_suites(
      corridor::config::parse_proposal("aes256-sha256-modp2048", corridor::config::ProposalKind::ike).proposals,
      v1::Phase1Auth::pre_shared_key, 0);
  ASSERT_TRUE(configured.ok());
  auto chosen = p::select_phase1(offer, *configured);
  ASSERT_TRUE(chosen.ok()) << chosen.error().message;
  auto agreed = p::accept_phase1_reply(body_of<SecurityAssociation>(mm2.payloads, v1::PayloadType::sa), *configured);
  ASSERT_TRUE(agreed.ok()) << agreed.error().message;
  EXPECT_EQ(agreed->to_string(), "IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048");
  const auto sai_b = slice(mm1.spans[index_of(mm1.spans, v1::PayloadType::sa)].body(mm1.body));
  const auto& cky_i = mm2.header.header.cookie_i;
  const auto& cky_r = mm2.header.header.cookie_r;

  // Main Mode 3 and 4: KE and nonces.
  auto mm3 = clear(2);
  auto mm4 = clear(3);
  const auto g_xi = body_of<KeyExchange>(mm3.payloads, v1::PayloadType::key_exchange).data;
  const auto g_xr = body_of<KeyExchange>(mm4.payloads, v1::PayloadType::key_exchange).data;
  const auto ni = body_of<Nonce>(mm3.payloads, v1::PayloadType::nonce).data;
  const auto nr = body_of<Nonce>(mm4.payloads, v1::PayloadType::nonce).data;
  EXPECT_EQ(g_xi.size(), 256u);
  const auto g_xy = logged("shared Diffie Hellman secret");
  // NAT-D (RFC 3947 §3.2): each side's first hash is of the address it sends
  // to (the harness's 192.0.2.1 and 192.0.2.2, port 500). strongSwan's
  // kernel-libipsec fakes the second (its own) to force encapsulation.
  const auto natd_a = body_of<NatDiscovery>(mm3.payloads, v1::PayloadType::nat_d).hash;
  const auto natd_b = body_of<NatDiscovery>(mm4.payloads, v1::PayloadType::nat_d).hash;
  const net::SocketAddress addr_a{*net::IpAddress::parse("192.0.2.1"), 500};
  const net::SocketAddress addr_b{*net::IpAddress::parse("192.0.2.2"), 500};
  EXPECT_EQ(*p::nat_d_hash(prf, cky_i, cky_r, addr_b), natd_a);
  EXPECT_EQ(*p::nat_d_hash(prf, cky_i, cky_r, addr_a), natd_b);

  const auto psk = from_hex(v_["psk"].get<std::string>());
  auto skeyid = skeyid_psk(prf, psk, ni, nr);
  ASSERT_TRUE(skeyid.ok());
  EXPECT_EQ(bytes(*skeyid), logged("SKEYID"));
  auto keys = derive_phase1_keys(agreed->keys(), *skeyid, g_xy, cky_i, cky_r, g_xi, g_xr);
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(bytes(keys->skeyid_d), logged("SKEYID_d"));
  EXPECT_EQ(bytes(keys->skeyid_a), logged("SKEYID_a"));
  EXPECT_EQ(bytes(keys->skeyid_e), logged("SKEYID_e"));
  EXPECT_EQ(bytes(keys->encryption_key), logged("encryption key Ka"));
  EXPECT_EQ(keys->iv, logged("initial IV"));

  // Main Mode 5 and 6, encrypted: identities and HASH_I / HASH_R.
  auto cipher = Phase1Cipher::create(agreed->keys(), keys->encryption_key);
  ASSERT_TRUE(cipher.ok());
  IvChain phase1(keys->iv);
  auto mm5 = open(4, *cipher, phase1);
  auto mm6 = open(5, *cipher, phase1);
  const auto& idi = body_of<Identification>(mm5.payloads, v1::PayloadType::id);
  EXPECT_EQ(idi.id_type, v1::IdType::fqdn);
  EXPECT_EQ(std::string(idi.data.begin(), idi.data.end()), "left.corridor.test");
  const Phase1Transcript t{g_xi, g_xr, cky_i, cky_r, sai_b};
  const auto idii_b = slice(mm5.spans[index_of(mm5.spans, v1::PayloadType::id)].body(mm5.plaintext));
  const auto idir_b = slice(mm6.spans[index_of(mm6.spans, v1::PayloadType::id)].body(mm6.plaintext));
  auto hi = hash_i(prf, keys->skeyid, t, idii_b);
  auto hr = hash_r(prf, keys->skeyid, t, idir_b);
  EXPECT_EQ(*hi, logged("HASH_I"));
  EXPECT_EQ(*hi, body_of<Hash>(mm5.payloads, v1::PayloadType::hash).data);
  EXPECT_EQ(*hr, logged("HASH_R"));
  EXPECT_EQ(*hr, body_of<Hash>(mm6.payloads, v1::PayloadType::hash).data);

  // Quick Mode: its own IV chain from the last Phase 1 block and the M-ID.
  const auto mid = parse_header(grams_[6])->header.message_id;
  ASSERT_NE(mid, 0u);
  auto qm_iv = phase2_iv(prf, phase1.iv(), mid, cipher->block_size());
  ASSERT_TRUE(qm_iv.ok());
  IvChain quick(*qm_iv);
  auto qm1 = open(6, *cipher, quick);
  auto qm2 = open(7, *cipher, quick);
  auto qm3 = open(8, *cipher, quick);
  EXPECT_EQ(qm1.header.header.exchange, v1::ExchangeType::quick_mode);
  const auto qni = body_of<Nonce>(qm1.payloads, v1::PayloadType::nonce).data;
  const auto qnr = body_of<Nonce>(qm2.payloads, v1::PayloadType::nonce).data;
  ASSERT_EQ(qm1.spans[0].type, v1::PayloadType::hash);
  auto h1 = hash_1(prf, keys->skeyid_a, mid, after(qm1, 0));
  auto h2 = hash_2(prf, keys->skeyid_a, mid, qni, after(qm2, 0));
  auto h3 = hash_3(prf, keys->skeyid_a, mid, qni, qnr);
  EXPECT_EQ(*h1, logged("Hash(1)"));
  EXPECT_EQ(*h1, body_of<Hash>(qm1.payloads, v1::PayloadType::hash).data);
  EXPECT_EQ(*h2, logged("Hash(2)"));
  EXPECT_EQ(*h2, body_of<Hash>(qm2.payloads, v1::PayloadType::hash).data);
  EXPECT_EQ(*h3, logged("Hash(3)"));
  EXPECT_EQ(*h3, body_of<Hash>(qm3.payloads, v1::PayloadType::hash).data);

  // The Quick Mode SA: Corridor's choice, and the ESP keys of both SAs.
  corridor::config::ChildConfig child;
  child.esp_proposals =
      corridor::config::parse_proposal("aes128-sha256-modp2048", corridor::config::ProposalKind::esp).proposals;
  auto suites = p::phase2_suites(child, true);  // strongSwan's kernel-libipsec always encapsulates
  ASSERT_TRUE(suites.ok());
  const auto& qm_offer = body_of<SecurityAssociation>(qm1.payloads, v1::PayloadType::sa);
  auto selected = p::select_phase2(qm_offer, *suites);
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  auto accepted = p::accept_phase2_reply(body_of<SecurityAssociation>(qm2.payloads, v1::PayloadType::sa), *suites);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->suite.to_string(), "ESP:AES_CBC_128/HMAC_SHA2_256_128/MODP_2048/NO_EXT_SEQ");
  const auto keymat_size = *accepted->suite.keymat_size();
  EXPECT_EQ(keymat_size, 48u);
  const auto g_qm = logged("DH secret");
  // Each SA's KEYMAT takes the SPI its receiver chose: the SA carrying the
  // initiator's traffic (strongSwan's "initiator key") has the responder's
  // SPI from Quick Mode 2, and the other the initiator's from Quick Mode 1.
  const auto spi_i = qm_offer.proposals[0].spi;
  const auto spi_r = body_of<SecurityAssociation>(qm2.payloads, v1::PayloadType::sa).proposals[0].spi;
  auto km_i = keymat(prf, keys->skeyid_d, g_qm, v1::ProtocolId::esp, spi_r, qni, qnr, keymat_size);
  auto km_r = keymat(prf, keys->skeyid_d, g_qm, v1::ProtocolId::esp, spi_i, qni, qnr, keymat_size);
  ASSERT_TRUE(km_i.ok() && km_r.ok());
  Bytes want_i = logged("encryption initiator key");
  for (auto b : logged("integrity initiator key")) want_i.push_back(b);
  Bytes want_r = logged("encryption responder key");
  for (auto b : logged("integrity responder key")) want_r.push_back(b);
  EXPECT_EQ(bytes(*km_i), want_i);
  EXPECT_EQ(bytes(*km_r), want_r);
}

TEST_F(StrongswanVectors, EveryDatagramRoundTripsThroughTheCodec) {
  for (std::size_t i = 0; i < 4; ++i) {  // the clear ones
    auto m = parse_message(grams_[i]);
    ASSERT_TRUE(m.ok()) << i << ": " << m.error().message;
    auto again = serialise_message(*m);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, grams_[i]) << "datagram " << i;
  }
}

}  // namespace
