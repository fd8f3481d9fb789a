// Tests of RFC 7383 fragmentation (control/ikev2/fragmentation.h).
//
// Round trips through fragment_message() and Reassembly with AES-GCM-16
// and AES-CBC + HMAC-SHA2-256-128, every plaintext size from 0 to 5000
// bytes at 576- and 1280-byte limits; the wire layout of each fragment is
// checked byte by byte and decrypted with OpenSSL directly (not through
// SkCrypto), so the associated data is shown to be exactly the fragment's
// IKE header + SKF header with Fragment Number and Total Fragments
// (RFC 7383 §2.5). Then the reassembly rules of §2.6: any order,
// duplicates, a missing fragment, every single-byte forgery, Total
// Fragments changes, bad numbers, limits, Message ID changes.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "common/ike/message.h"
#include "common/ike/payload_rules.h"
#include "common/ike/sk_crypto.h"
#include "control/ikev2/fragmentation.h"

namespace {

namespace codec = corridor::ike;
namespace iana = corridor::iana;
namespace config = corridor::config;
namespace net = corridor::net;
using corridor::control::ikev2::fragment_capacity;
using corridor::control::ikev2::fragment_datagram_limit;
using corridor::control::ikev2::fragment_message;
using corridor::control::ikev2::kFragmentAadSize;
using corridor::control::ikev2::kMaxFragments;
using corridor::control::ikev2::kMaxReassembledSize;
using corridor::control::ikev2::Reassembly;
using Bytes = std::vector<std::uint8_t>;
using Status = Reassembly::Status;
using Reject = Reassembly::Reject;
using iana::PayloadType;

Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(seed + i * 7 + (i >> 8));
  return out;
}

// One suite's keys; `out` seals, `in` is a second SkCrypto on the same keys
// (the peer's inbound side).
struct Suite {
  const char* name;
  codec::IkeSuite suite;
  Bytes sk_e;
  Bytes sk_a;
  bool aead;
};

Suite gcm() {
  codec::IkeSuite s;
  s.encryption = static_cast<std::uint16_t>(iana::EncrId::aes_gcm_16);
  s.key_bits = 256;
  s.integrity = static_cast<std::uint16_t>(iana::IntegId::none);
  return {"aes256gcm16", s, pattern(36, 0x11), {}, true};
}

Suite cbc() {
  codec::IkeSuite s;
  s.encryption = static_cast<std::uint16_t>(iana::EncrId::aes_cbc);
  s.key_bits = 256;
  s.integrity = static_cast<std::uint16_t>(iana::IntegId::hmac_sha2_256_128);
  return {"aes256-sha256", s, pattern(32, 0x22), pattern(32, 0x33), false};
}

codec::SkCrypto make(const Suite& s) {
  auto sk = codec::SkCrypto::create(s.suite, codec::SecretBytes(s.sk_e), codec::SecretBytes(s.sk_a));
  EXPECT_TRUE(sk.ok()) << s.name;
  return std::move(*sk);
}

codec::Header header(std::uint32_t message_id, bool response = false) {
  codec::Header h;
  for (std::uint8_t i = 0; i < 8; ++i) {
    h.spi_i[i] = static_cast<std::uint8_t>(0xa0 + i);
    h.spi_r[i] = static_cast<std::uint8_t>(0xb0 + i);
  }
  h.exchange = iana::ExchangeType::ike_auth;
  h.initiator = !response;
  h.response = response;
  h.message_id = message_id;
  return h;
}

struct Fragment {
  Bytes datagram;
  codec::Header header;
  codec::EncryptedFragment skf;
};

std::vector<Fragment> parsed(const std::vector<Bytes>& datagrams) {
  std::vector<Fragment> out;
  for (const auto& d : datagrams) {
    auto m = codec::parse_message(d);
    EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
    if (!m.ok()) return {};
    EXPECT_EQ(m->payloads.size(), 1u);
    out.push_back({d, m->header, std::get<codec::EncryptedFragment>(m->payloads.back().body)});
  }
  return out;
}

std::vector<Fragment> fragments_of(const codec::Header& h, PayloadType first, const Bytes& plaintext,
                                   codec::SkCrypto& out, std::size_t limit) {
  std::string why;
  auto datagrams = fragment_message(h, first, plaintext, out, limit, &why);
  EXPECT_TRUE(datagrams.has_value()) << why;
  if (!datagrams) return {};
  return parsed(*datagrams);
}

Status add(Reassembly& r, const Fragment& f, const codec::SkCrypto& in, std::string* why = nullptr) {
  return r.add(f.header, f.skf, f.datagram, in, why);
}

std::uint16_t be16(const Bytes& b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}
std::uint32_t be32(const Bytes& b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) << 24 | static_cast<std::uint32_t>(b[at + 1]) << 16 |
         static_cast<std::uint32_t>(b[at + 2]) << 8 | b[at + 3];
}

// Decrypts one fragment with OpenSSL, from the RFC layout alone: AAD (GCM)
// or HMAC input prefix (CBC) is datagram[0..36). Returns the chunk.
std::optional<Bytes> independent_open(const Suite& s, const Bytes& d) {
  if (s.aead) {
    // RFC 5282: key | salt(4); nonce = salt | IV(8); tag 16.
    const std::size_t key = s.sk_e.size() - 4;
    if (d.size() < kFragmentAadSize + 8 + 16) return std::nullopt;
    Bytes nonce(s.sk_e.begin() + static_cast<std::ptrdiff_t>(key), s.sk_e.end());
    nonce.insert(nonce.end(), d.begin() + kFragmentAadSize, d.begin() + kFragmentAadSize + 8);
    const std::size_t ct_at = kFragmentAadSize + 8;
    const std::size_t ct_len = d.size() - ct_at - 16;
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    Bytes out(ct_len + 16);
    int len = 0;
    int fin = 0;
    bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
              EVP_DecryptInit_ex(ctx, nullptr, nullptr, s.sk_e.data(), nonce.data()) == 1 &&
              EVP_DecryptUpdate(ctx, nullptr, &len, d.data(), static_cast<int>(kFragmentAadSize)) == 1 &&
              EVP_DecryptUpdate(ctx, out.data(), &len, d.data() + ct_at, static_cast<int>(ct_len)) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16,
                                  const_cast<std::uint8_t*>(d.data() + d.size() - 16)) == 1 &&
              EVP_DecryptFinal_ex(ctx, out.data() + len, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok || ct_len == 0) return std::nullopt;
    out.resize(ct_len);
    const std::uint8_t pad = out.back();  // AEAD: Pad Length 0 expected
    if (pad != 0) return std::nullopt;
    out.pop_back();
    return out;
  }
  // CBC + HMAC-SHA-256-128: ICV over everything before it (RFC 7296 §3.14).
  const std::size_t icv = 16;
  if (d.size() < kFragmentAadSize + 16 + 16 + icv) return std::nullopt;
  std::uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned mac_len = 0;
  HMAC(EVP_sha256(), s.sk_a.data(), static_cast<int>(s.sk_a.size()), d.data(), d.size() - icv, mac, &mac_len);
  if (!std::equal(mac, mac + icv, d.end() - static_cast<std::ptrdiff_t>(icv))) return std::nullopt;
  const std::size_t ct_at = kFragmentAadSize + 16;
  const std::size_t ct_len = d.size() - ct_at - icv;
  if (ct_len % 16 != 0) return std::nullopt;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  Bytes out(ct_len + 16);
  int len = 0;
  int fin = 0;
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, s.sk_e.data(), d.data() + kFragmentAadSize) == 1 &&
            EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
            EVP_DecryptUpdate(ctx, out.data(), &len, d.data() + ct_at, static_cast<int>(ct_len)) == 1 &&
            EVP_DecryptFinal_ex(ctx, out.data() + len, &fin) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return std::nullopt;
  out.resize(ct_len);
  const std::size_t pad = out.back();
  if (pad + 1 > out.size()) return std::nullopt;
  out.resize(out.size() - 1 - pad);
  return out;
}

// --- Sizes and policy ------------------------------------------------------------

TEST(FragmentSize, LimitsForIpVersionAndPort) {
  EXPECT_EQ(fragment_datagram_limit(net::Family::ipv4, false), 1252u);
  EXPECT_EQ(fragment_datagram_limit(net::Family::ipv4, true), 1248u);
  EXPECT_EQ(fragment_datagram_limit(net::Family::ipv6, false), 1232u);
  EXPECT_EQ(fragment_datagram_limit(net::Family::ipv6, true), 1228u);
  EXPECT_EQ(fragment_datagram_limit(net::Family::ipv4, false, 576), 548u);
  EXPECT_EQ(fragment_datagram_limit(net::Family::ipv4, true, 576), 544u);
  EXPECT_EQ(fragment_datagram_limit(net::Family::ipv6, true, 40), 0u);
}

TEST(FragmentPolicy, FollowsTheConnectionSetting) {
  using F = config::Fragmentation;
  using corridor::control::ikev2::announce_fragmentation;
  using corridor::control::ikev2::fragmentation_wanted;
  EXPECT_TRUE(announce_fragmentation(F::yes));
  EXPECT_TRUE(announce_fragmentation(F::accept));
  EXPECT_TRUE(announce_fragmentation(F::force));
  EXPECT_FALSE(announce_fragmentation(F::no));
  EXPECT_TRUE(fragmentation_wanted(F::yes, true));
  EXPECT_TRUE(fragmentation_wanted(F::force, true));
  EXPECT_FALSE(fragmentation_wanted(F::accept, true));
  EXPECT_FALSE(fragmentation_wanted(F::no, true));
  for (F f : {F::yes, F::no, F::accept, F::force}) EXPECT_FALSE(fragmentation_wanted(f, false));
}

TEST(FragmentSize, CapacityIsTheLargestChunkThatFits) {
  for (const Suite& s : {gcm(), cbc()}) {
    auto out = make(s);
    for (std::size_t limit : {100u, 576u, 1228u, 1280u, 4000u}) {
      const std::size_t cap = fragment_capacity(out, limit);
      ASSERT_GT(cap, 0u) << s.name << " " << limit;
      EXPECT_LE(kFragmentAadSize + out.sealed_size(cap), limit);
      EXPECT_GT(kFragmentAadSize + out.sealed_size(cap + 1), limit);
    }
    // No room for a byte of plaintext (CBC: one byte takes a whole block).
    EXPECT_EQ(fragment_capacity(out, kFragmentAadSize + out.sealed_size(1) - 1), 0u) << s.name;
    EXPECT_EQ(fragment_capacity(out, kFragmentAadSize + out.sealed_size(1)), s.aead ? 1u : 15u) << s.name;
    std::string why;
    EXPECT_FALSE(fragment_message(header(1), PayloadType::notify, pattern(10, 1), out, 60, &why));
    EXPECT_NE(why.find("no room"), std::string::npos) << why;
  }
}

// --- Round trips ------------------------------------------------------------------

void round_trip(const Suite& s, std::size_t limit, std::size_t size, codec::SkCrypto& out,
                const codec::SkCrypto& in) {
  SCOPED_TRACE(std::string(s.name) + " limit " + std::to_string(limit) + " size " + std::to_string(size));
  const auto h = header(static_cast<std::uint32_t>(size + 1));
  const Bytes plaintext = pattern(size, static_cast<std::uint8_t>(size));
  const PayloadType first = size ? PayloadType::identification_initiator : PayloadType::no_next_payload;
  std::string why;
  auto datagrams = fragment_message(h, first, plaintext, out, limit, &why);
  ASSERT_TRUE(datagrams.has_value()) << why;
  const std::size_t cap = fragment_capacity(out, limit);
  const std::size_t expected = std::max<std::size_t>(1, (size + cap - 1) / cap);
  ASSERT_EQ(datagrams->size(), expected);

  Reassembly r;
  for (std::size_t i = 0; i < datagrams->size(); ++i) {
    const Bytes& d = (*datagrams)[i];
    ASSERT_LE(d.size(), limit);
    auto m = codec::parse_message(d);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->header, h);  // SPIs, exchange, flags, Message ID kept (§2.5)
    ASSERT_EQ(m->payloads.size(), 1u);
    EXPECT_EQ(m->payloads[0].type, PayloadType::encrypted_fragment);
    const PayloadType types[] = {PayloadType::encrypted_fragment};
    EXPECT_FALSE(codec::check_payloads(h.exchange, true, types).has_value());
    const auto& skf = std::get<codec::EncryptedFragment>(m->payloads[0].body);
    EXPECT_EQ(skf.number, i + 1);
    EXPECT_EQ(skf.total, expected);
    EXPECT_EQ(skf.first_inner, i == 0 ? first : PayloadType::no_next_payload);
    // Every fragment but the last is full.
    const std::size_t chunk = i + 1 < expected ? cap : size - i * cap;
    EXPECT_EQ(d.size(), kFragmentAadSize + out.sealed_size(chunk));

    // Wire layout (RFC 7296 §3.1, RFC 7383 §2.5), read from the bytes.
    EXPECT_EQ(d[16], 53);                                       // IKE header Next Payload: SKF
    EXPECT_EQ(be32(d, 24), d.size());                           // IKE header Length
    EXPECT_EQ(d[28], i == 0 ? static_cast<std::uint8_t>(first) : 0);  // SKF Next Payload
    EXPECT_EQ(d[29], 0);                                        // C + RESERVED
    EXPECT_EQ(be16(d, 30), d.size() - 28);                      // SKF Payload Length
    EXPECT_EQ(be16(d, 32), i + 1);                              // Fragment Number
    EXPECT_EQ(be16(d, 34), expected);                           // Total Fragments

    // Independent decryption with the AAD of §2.5.
    const auto independent = independent_open(s, d);
    ASSERT_TRUE(independent.has_value());
    EXPECT_TRUE(std::equal(independent->begin(), independent->end(),
                           plaintext.begin() + static_cast<std::ptrdiff_t>(i * cap)));
    EXPECT_EQ(independent->size(), chunk);

    const Status st = r.add(m->header, skf, d, in, &why);
    ASSERT_EQ(st, i + 1 == expected ? Status::complete : Status::incomplete) << why;
  }
  auto result = r.take();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->first_inner, first);
  EXPECT_EQ(result->plaintext, plaintext);
  EXPECT_FALSE(r.take().has_value());
  EXPECT_EQ(r.held_bytes(), 0u);
}

class RoundTrip : public ::testing::TestWithParam<std::size_t> {};

TEST_P(RoundTrip, AesGcmEverySize) {
  const Suite s = gcm();
  auto out = make(s);
  const auto in = make(s);
  for (std::size_t size = 0; size <= 5000; ++size) {
    round_trip(s, GetParam(), size, out, in);
    if (HasFatalFailure()) return;
  }
}

TEST_P(RoundTrip, AesCbcHmacEverySize) {
  const Suite s = cbc();
  auto out = make(s);
  const auto in = make(s);
  for (std::size_t size = 0; size <= 5000; ++size) {
    round_trip(s, GetParam(), size, out, in);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Limits, RoundTrip, ::testing::Values(576u, 1280u));

TEST(RoundTrip, AeadIvsNeverRepeatAcrossFragments) {
  const Suite s = gcm();
  auto out = make(s);
  auto frags = fragments_of(header(1), PayloadType::notify, pattern(3000, 9), out, 576);
  ASSERT_GT(frags.size(), 3u);
  std::vector<Bytes> ivs;
  for (const auto& f : frags) ivs.emplace_back(f.datagram.begin() + 36, f.datagram.begin() + 44);
  std::sort(ivs.begin(), ivs.end());
  EXPECT_EQ(std::adjacent_find(ivs.begin(), ivs.end()), ivs.end());
}

// An IKE_AUTH request as a strongSwan initiator with an RSA-3072 chain sends
// it: the inner payloads survive fragmentation and reassembly.
TEST(RoundTrip, RealInnerPayloads) {
  std::vector<codec::Payload> payloads;
  payloads.push_back({PayloadType::identification_initiator,
                      codec::Identification{iana::IdType::id_fqdn, Bytes{'m', 'o', 'o', 'n'}}});
  payloads.push_back({PayloadType::certificate, codec::Certificate{iana::CertEncoding::x509_signature, pattern(1400, 3)}});
  payloads.push_back({PayloadType::certificate, codec::Certificate{iana::CertEncoding::x509_signature, pattern(1300, 4)}});
  payloads.push_back({PayloadType::notify, codec::Notify{iana::ProtocolId::none,
                                                         iana::NotifyType::initial_contact, {}, {}}});
  payloads.push_back({PayloadType::authentication,
                      codec::Authentication{iana::AuthMethod::rsa_digital_signature, pattern(384, 5)}});
  auto plaintext = codec::serialise_payloads(payloads);
  ASSERT_TRUE(plaintext.ok());
  for (const Suite& s : {gcm(), cbc()}) {
    auto out = make(s);
    const auto in = make(s);
    auto frags = fragments_of(header(1), payloads.front().type, *plaintext, out, 1248);
    ASSERT_EQ(frags.size(), 3u) << s.name;
    Reassembly r;
    for (const auto& f : frags) add(r, f, in);
    auto result = r.take();
    ASSERT_TRUE(result.has_value());
    auto inner = codec::parse_payloads(result->first_inner, result->plaintext);
    ASSERT_TRUE(inner.ok()) << inner.error().message;
    EXPECT_EQ(*inner, payloads);
  }
}

// --- Reassembly (§2.6) --------------------------------------------------------------

class ReassemblyTest : public ::testing::Test {
 protected:
  ReassemblyTest() : suite_(gcm()), out_(make(suite_)), in_(make(suite_)) {}

  std::vector<Fragment> split(std::uint32_t id, std::size_t size = 4000, std::size_t limit = 576,
                              bool response = false) {
    plaintext_ = pattern(size, static_cast<std::uint8_t>(id));
    return fragments_of(header(id, response), PayloadType::identification_initiator, plaintext_, out_, limit);
  }
  void expect_result(Reassembly& r, const Bytes& plaintext) {
    auto result = r.take();
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->first_inner, PayloadType::identification_initiator);
    EXPECT_EQ(result->plaintext, plaintext);
  }

  Suite suite_;
  codec::SkCrypto out_;
  codec::SkCrypto in_;
  Bytes plaintext_;
};

TEST_F(ReassemblyTest, AnyOrder) {
  auto frags = split(1);
  ASSERT_GE(frags.size(), 8u);
  std::vector<std::size_t> order(frags.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(7383);
  for (int round = 0; round < 20; ++round) {
    std::shuffle(order.begin(), order.end(), rng);
    if (round == 0) std::reverse(order.begin(), order.end());
    Reassembly r;
    for (std::size_t k = 0; k < order.size(); ++k) {
      std::string why;
      const Status st = add(r, frags[order[k]], in_, &why);
      ASSERT_EQ(st, k + 1 == order.size() ? Status::complete : Status::incomplete) << why;
    }
    expect_result(r, plaintext_);
  }
}

TEST_F(ReassemblyTest, DuplicatesAreRejectedAndHarmless) {
  auto frags = split(1);
  Reassembly r;
  EXPECT_EQ(add(r, frags[0], in_), Status::incomplete);
  EXPECT_EQ(add(r, frags[1], in_), Status::incomplete);
  std::string why;
  EXPECT_EQ(add(r, frags[1], in_, &why), Status::rejected);
  EXPECT_EQ(r.last_reject(), Reject::duplicate);
  EXPECT_EQ(corridor::control::ikev2::to_string(r.last_reject()), "fragment_duplicate");
  EXPECT_NE(why.find("fragment 2/"), std::string::npos) << why;
  EXPECT_EQ(add(r, frags[0], in_), Status::rejected);
  EXPECT_EQ(r.held_fragments(false), 2u);
  for (std::size_t i = 2; i < frags.size(); ++i) add(r, frags[i], in_);
  expect_result(r, plaintext_);
}

TEST_F(ReassemblyTest, OneMissingStaysIncomplete) {
  auto frags = split(1);
  for (std::size_t missing = 0; missing < frags.size(); ++missing) {
    Reassembly r;
    for (std::size_t i = 0; i < frags.size(); ++i) {
      if (i != missing) {
        EXPECT_EQ(add(r, frags[i], in_), Status::incomplete);
      }
    }
    EXPECT_FALSE(r.take().has_value());
    EXPECT_EQ(r.held_fragments(false), frags.size() - 1);
    EXPECT_EQ(add(r, frags[missing], in_), Status::complete);
    expect_result(r, plaintext_);
  }
}

// Every single-byte change of an authentic fragment is refused (by the
// parser or by add()) and leaves what was collected untouched.
TEST_F(ReassemblyTest, EveryForgedByteIsRejected) {
  for (const Suite& s : {gcm(), cbc()}) {
    auto out = make(s);
    const auto in = make(s);
    const Bytes plaintext = pattern(1500, 0x5a);
    auto frags = fragments_of(header(4), PayloadType::identification_initiator, plaintext, out, 576);
    ASSERT_GE(frags.size(), 3u);
    Reassembly r;
    ASSERT_EQ(add(r, frags[0], in), Status::incomplete);
    const Bytes& genuine = frags[1].datagram;
    std::size_t parsed_forgeries = 0;
    for (std::size_t at = 0; at < genuine.size(); ++at) {
      for (std::uint8_t flip : {0x01, 0x80}) {
        Bytes forged = genuine;
        forged[at] ^= flip;
        auto m = codec::parse_message(forged);
        if (!m.ok() || m->payloads.size() != 1 ||
            m->payloads[0].type != PayloadType::encrypted_fragment)
          continue;
        ++parsed_forgeries;
        const auto& skf = std::get<codec::EncryptedFragment>(m->payloads[0].body);
        ASSERT_EQ(r.add(m->header, skf, forged, in, nullptr), Status::rejected) << s.name << " byte " << at;
        ASSERT_EQ(r.held_fragments(false), 1u);
        ASSERT_EQ(r.held_fragments(true), 0u);
      }
    }
    EXPECT_GT(parsed_forgeries, genuine.size());  // most forgeries get past the parser
    for (std::size_t i = 1; i < frags.size(); ++i) add(r, frags[i], in);
    auto result = r.take();
    ASSERT_TRUE(result.has_value()) << s.name;
    EXPECT_EQ(result->plaintext, plaintext);
  }
}

TEST_F(ReassemblyTest, ForgedFragmentOfANewerMessageDiscardsNothing) {
  auto frags = split(1);
  Reassembly r;
  add(r, frags[0], in_);
  auto newer = split(2);
  Fragment forged = newer[0];
  forged.datagram.back() ^= 1;
  forged.skf.data.back() ^= 1;
  EXPECT_EQ(add(r, forged, in_), Status::rejected);
  EXPECT_EQ(r.last_reject(), Reject::integrity_failed);
  EXPECT_EQ(r.held_fragments(false), 1u);
}

TEST_F(ReassemblyTest, WrongKeyIsAnIntegrityFailure) {
  auto frags = split(1);
  Suite other = gcm();
  other.sk_e[0] ^= 0xff;
  const auto wrong = make(other);
  Reassembly r;
  EXPECT_EQ(add(r, frags[0], wrong), Status::rejected);
  EXPECT_EQ(r.last_reject(), Reject::integrity_failed);
}

TEST_F(ReassemblyTest, FragmentMustBeTheOnlyPayload) {
  auto frags = split(1);
  Reassembly r;
  Fragment f = frags[0];
  f.datagram.insert(f.datagram.begin() + 28, {0, 0, 0, 4});  // a payload header's worth before SKF
  EXPECT_EQ(add(r, f, in_), Status::rejected);
  EXPECT_EQ(r.last_reject(), Reject::not_fragment_only);
}

TEST_F(ReassemblyTest, FragmentNumberZeroOrAboveTotal) {
  auto frags = split(1);
  Reassembly r;
  for (auto [number, total] : {std::pair<int, int>{0, 3}, {4, 3}, {0, 0}, {1, 0}}) {
    Fragment f = frags[0];
    f.skf.number = static_cast<std::uint16_t>(number);
    f.skf.total = static_cast<std::uint16_t>(total);
    EXPECT_EQ(add(r, f, in_), Status::rejected) << number << "/" << total;
    EXPECT_EQ(r.last_reject(), Reject::bad_fragment_number);
  }
  EXPECT_EQ(r.held_fragments(false), 0u);
  // The parser refuses them on the wire already (RFC 7383 §2.5).
  Bytes d = frags[0].datagram;
  d[32] = 0;
  d[33] = 0;
  EXPECT_FALSE(codec::parse_message(d).ok());
  d[33] = static_cast<std::uint8_t>(frags[0].skf.total + 1);
  EXPECT_FALSE(codec::parse_message(d).ok());
}

// §2.5.2 / §2.6: a higher Total Fragments means the sender re-fragmented the
// message smaller: start anew. A lower one is from the older, larger split.
TEST_F(ReassemblyTest, TotalFragmentsChange) {
  const Bytes plaintext = pattern(4000, 0x77);
  const auto h = header(3);
  auto coarse = fragments_of(h, PayloadType::identification_initiator, plaintext, out_, 1280);
  auto fine = fragments_of(h, PayloadType::identification_initiator, plaintext, out_, 576);
  ASSERT_LT(coarse.size(), fine.size());

  {  // Lower total after a higher one: rejected.
    Reassembly r;
    EXPECT_EQ(add(r, fine[0], in_), Status::incomplete);
    std::string why;
    EXPECT_EQ(add(r, coarse[1], in_, &why), Status::rejected);
    EXPECT_EQ(r.last_reject(), Reject::total_mismatch);
    EXPECT_NE(why.find("said " + std::to_string(fine.size())), std::string::npos) << why;
    for (std::size_t i = 1; i < fine.size(); ++i) add(r, fine[i], in_);
    expect_result(r, plaintext);
  }
  {  // Higher total after a lower one: the held fragments go, reassembly restarts.
    Reassembly r;
    EXPECT_EQ(add(r, coarse[0], in_), Status::incomplete);
    EXPECT_EQ(add(r, coarse[1], in_), Status::incomplete);
    EXPECT_EQ(add(r, fine[2], in_), Status::incomplete);
    EXPECT_EQ(r.held_fragments(false), 1u);
    for (std::size_t i = 0; i < fine.size(); ++i)
      if (i != 2) add(r, fine[i], in_);
    expect_result(r, plaintext);
  }
}

// §2.5: every fragment carries the original header; an authentic fragment
// with the same Message ID but another exchange is not part of the message.
TEST_F(ReassemblyTest, HeaderMustMatchEarlierFragments) {
  auto frags = split(7);
  auto h = header(7);
  h.exchange = iana::ExchangeType::informational;
  auto other = fragments_of(h, PayloadType::notify, pattern(4000, 1), out_, 576);
  Reassembly r;
  EXPECT_EQ(add(r, frags[0], in_), Status::incomplete);
  EXPECT_EQ(add(r, other[1], in_), Status::rejected);
  EXPECT_EQ(r.last_reject(), Reject::header_mismatch);
  for (std::size_t i = 1; i < frags.size(); ++i) add(r, frags[i], in_);
  expect_result(r, plaintext_);
}

TEST_F(ReassemblyTest, TooManyFragments) {
  auto frags = split(1, 40000, 576);
  ASSERT_GT(frags.size(), kMaxFragments);
  Reassembly r;
  EXPECT_EQ(add(r, frags[0], in_), Status::rejected);
  EXPECT_EQ(r.last_reject(), Reject::too_many_fragments);
  EXPECT_EQ(r.held_bytes(), 0u);

  // Exactly the limit is fine.
  const std::size_t cap = fragment_capacity(out_, 576);
  auto at_limit = split(2, cap * kMaxFragments, 576);
  ASSERT_EQ(at_limit.size(), kMaxFragments);
  for (const auto& f : at_limit) add(r, f, in_);
  expect_result(r, plaintext_);
}

TEST_F(ReassemblyTest, TooLargeIsDiscarded) {
  auto frags = split(1, kMaxReassembledSize + 1000, 9000);
  ASSERT_LE(frags.size(), kMaxFragments);
  Reassembly r;
  Status last = Status::incomplete;
  std::size_t i = 0;
  for (; i < frags.size() && last == Status::incomplete; ++i) last = add(r, frags[i], in_);
  EXPECT_EQ(last, Status::rejected);
  EXPECT_EQ(r.last_reject(), Reject::too_large);
  EXPECT_EQ(r.held_bytes(), 0u);
  EXPECT_EQ(r.held_fragments(false), 0u);
}

TEST_F(ReassemblyTest, NewerMessageIdResetsOlderIsStale) {
  auto first = split(1);
  const Bytes first_plaintext = plaintext_;
  auto second = split(2);
  const Bytes second_plaintext = plaintext_;
  Reassembly r;
  EXPECT_EQ(add(r, first[0], in_), Status::incomplete);
  EXPECT_EQ(add(r, first[1], in_), Status::incomplete);
  // The peer moved on to message 2: message 1's fragments go.
  EXPECT_EQ(add(r, second[1], in_), Status::incomplete);
  EXPECT_EQ(r.held_fragments(false), 1u);
  EXPECT_EQ(add(r, first[2], in_), Status::rejected);
  EXPECT_EQ(r.last_reject(), Reject::stale_message_id);
  for (std::size_t i = 0; i < second.size(); ++i)
    if (i != 1) add(r, second[i], in_);
  expect_result(r, second_plaintext);
  // Late fragments of a reassembled message are stale, not a new reassembly.
  EXPECT_EQ(add(r, second[0], in_), Status::rejected);
  EXPECT_EQ(r.last_reject(), Reject::stale_message_id);
  EXPECT_EQ(r.held_bytes(), 0u);
  (void)first_plaintext;
}

TEST_F(ReassemblyTest, UnfragmentedMessageDiscardsReassembly) {
  auto frags = split(5);
  Reassembly r;
  EXPECT_EQ(add(r, frags[0], in_), Status::incomplete);
  r.unfragmented(header(5));
  EXPECT_EQ(r.held_fragments(false), 0u);
  EXPECT_EQ(add(r, frags[1], in_), Status::rejected);
  EXPECT_EQ(r.last_reject(), Reject::stale_message_id);
  // A response with the same ID is the other direction: untouched.
  auto responses = split(6, 4000, 576, true);
  EXPECT_EQ(add(r, responses[0], in_), Status::incomplete);
  r.unfragmented(header(6));  // request 6 arrived whole
  EXPECT_EQ(r.held_fragments(true), 1u);
  for (std::size_t i = 1; i < responses.size(); ++i) add(r, responses[i], in_);
  expect_result(r, plaintext_);
}

TEST_F(ReassemblyTest, DirectionsAreIndependent) {
  auto requests = split(2, 3000, 576, false);
  const Bytes request_plaintext = plaintext_;
  auto responses = split(2, 2500, 576, true);
  const Bytes response_plaintext = plaintext_;
  Reassembly r;
  for (std::size_t i = 0; i + 1 < requests.size(); ++i) EXPECT_EQ(add(r, requests[i], in_), Status::incomplete);
  for (std::size_t i = 0; i + 1 < responses.size(); ++i) EXPECT_EQ(add(r, responses[i], in_), Status::incomplete);
  EXPECT_EQ(add(r, requests.back(), in_), Status::complete);
  expect_result(r, request_plaintext);
  EXPECT_EQ(add(r, responses.back(), in_), Status::complete);
  expect_result(r, response_plaintext);
}

TEST_F(ReassemblyTest, ResetForgetsEverything) {
  auto frags = split(1);
  Reassembly r;
  for (std::size_t i = 0; i < frags.size(); ++i) add(r, frags[i], in_);
  r.reset();
  EXPECT_FALSE(r.take().has_value());
  // After reset even message 1 is new again (a fresh IKE SA would start over).
  for (std::size_t i = 0; i < frags.size(); ++i) add(r, frags[i], in_);
  expect_result(r, plaintext_);
}

}  // namespace
