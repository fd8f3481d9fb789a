// IKEv1 Phase 1 with certificates (control/ikev1/authentication.cc): two
// Corridor peers in one process, each with a certificate from a test CA
// and that CA as its only trust anchor. Main Mode and Aggressive Mode with
// RSA (method 3) and ECDSA (RFC 4754 methods 9-11) signatures, what goes
// on the wire (CERTREQ with KE, CERT and SIG with the ID, no HASH), and
// every refusal: an untrusted CA, an identity the certificate does not
// hold, different kinds of key, a forged signature.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/ikev1/message.h"
#include "control/ikev1/manager.h"
#include "tests/unit/ikev1/pair.h"
#include "tests/unit/support/x509_factory.h"

namespace {

using namespace corridor;                 // NOLINT: test brevity
using namespace corridor::control::ikev1;  // NOLINT
using namespace corridor::ikev1_test;      // NOLINT
using namespace corridor::test_support;    // NOLINT: Pkey, Cert, CertSpec, make_cert, kDay

class Ikev1Certificates : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/corridor-ikev1-certs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    const std::time_t now = std::time(nullptr);
    auto& k = keys();
    k["ca"] = Pkey(EVP_EC_gen("P-256"));
    k["rogue-ca"] = Pkey(EVP_EC_gen("P-256"));
    k["a-rsa"] = Pkey(EVP_RSA_gen(2048));
    k["b-rsa"] = Pkey(EVP_RSA_gen(2048));
    k["a-p256"] = Pkey(EVP_EC_gen("P-256"));
    k["b-p256"] = Pkey(EVP_EC_gen("P-256"));
    k["a-p384"] = Pkey(EVP_EC_gen("P-384"));
    k["b-p384"] = Pkey(EVP_EC_gen("P-384"));
    k["a-rogue"] = Pkey(EVP_RSA_gen(2048));
    for (const auto& [name, key] : k) ASSERT_NE(key, nullptr) << name;

    auto subject = [](const std::string& cn) {
      return std::vector<std::pair<std::string, std::string>>{{"C", "CH"}, {"O", "Corridor Test"}, {"CN", cn}};
    };
    auto& c = certs();
    c["ca"] = make_cert({subject("IKEv1 Test CA"), k["ca"].get(), nullptr, nullptr, true, -1,
                         "critical,keyCertSign,cRLSign", "", -kDay, 3650 * kDay},
                        now);
    c["rogue-ca"] = make_cert({subject("Rogue CA"), k["rogue-ca"].get(), nullptr, nullptr, true, -1,
                               "critical,keyCertSign,cRLSign", "", -kDay, 3650 * kDay},
                              now);
    for (const std::string kind : {"rsa", "p256", "p384"}) {
      for (const std::string end : {"a", "b"}) {
        CertSpec spec{subject(end + ".example.net"), k[end + "-" + kind].get(), c["ca"].get(), k["ca"].get()};
        spec.san = "DNS:" + end + ".example.net";
        c[end + "-" + kind] = make_cert(spec, now);
      }
    }
    // A's name, issued by a CA that B does not trust.
    CertSpec rogue{subject("a.example.net"), k["a-rogue"].get(), c["rogue-ca"].get(), k["rogue-ca"].get()};
    rogue.san = "DNS:a.example.net";
    c["a-rogue"] = make_cert(rogue, now);
    for (const auto& [name, cert] : c) {
      ASSERT_NE(cert, nullptr) << name;
      write(name + ".pem", pem_of(cert.get()));
    }
    for (const auto& [name, key] : k) write(name + ".key", key_pem(key.get()));
  }

  static void TearDownTestSuite() {
    keys().clear();
    certs().clear();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static std::map<std::string, Pkey>& keys() {
    static std::map<std::string, Pkey> k;
    return k;
  }
  static std::map<std::string, Cert>& certs() {
    static std::map<std::string, Cert> c;
    return c;
  }
  static std::string path(const std::string& name) { return dir_ + "/" + name; }
  static void write(const std::string& name, const std::string& text) { std::ofstream(path(name)) << text; }
  static std::string key_pem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return out;
  }

  // One end's spec: its certificate and key `cert` (e.g. "a-rsa"), trusting `ca`.
  static Spec with_cert(const std::string& cert, const std::string& ca = "ca", Spec s = {}) {
    s.local_auth = R"("auth": "pubkey", "certs": [")" + path(cert + ".pem") + R"("])";
    s.remote_auth = R"("auth": "pubkey", "cacerts": [")" + path(ca + ".pem") + R"("])";
    s.secrets = R"("private-legacy": { "file": ")" + path(cert + ".key") + R"(" })";
    return s;
  }
  static Spec aggressive(Spec s) {
    s.aggressive = true;
    return s;
  }

  static inline std::string dir_;
};

// The payload types of a clear message.
std::vector<v1::PayloadType> types(const Datagram& d) {
  std::vector<v1::PayloadType> out;
  for (const auto& p : parse(d).payloads) out.push_back(p.type);
  return out;
}

bool has(const std::vector<v1::PayloadType>& t, v1::PayloadType want) {
  return std::find(t.begin(), t.end(), want) != t.end();
}

// Main Mode with RSA signatures: CERTREQ travels with KE both ways, both
// ends agree on RSA_SIG, and the IPsec SAs are installed.
TEST_F(Ikev1Certificates, MainModeWithRsaSignatures) {
  Pair p(with_cert("a-rsa"), with_cert("b-rsa", "ca", Spec{}.mirrored()));
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  const auto m1 = parse(p.wire_a.queue.front());
  const auto& transform = std::get<codec::SecurityAssociation>(m1.payloads.at(0).body).proposals.at(0).transforms.at(0);
  bool rsa_sig = false;
  for (const auto& attr : transform.attributes) {
    if (attr.type == static_cast<std::uint16_t>(v1::Phase1Attribute::authentication_method))
      rsa_sig = attr.value == static_cast<std::uint16_t>(v1::Phase1Auth::rsa_signatures);
  }
  EXPECT_TRUE(rsa_sig) << "Main Mode 1 does not offer RSA_SIG";
  ASSERT_TRUE(p.a_to_b());  // 1
  ASSERT_TRUE(p.b_to_a());  // 2
  const auto m3 = types(p.wire_a.queue.front());
  EXPECT_TRUE(has(m3, v1::PayloadType::cert_request));
  ASSERT_TRUE(p.a_to_b());  // 3
  const auto m4 = types(p.wire_b.queue.front());
  EXPECT_TRUE(has(m4, v1::PayloadType::cert_request));
  const auto m4_message = parse(p.wire_b.queue.front());
  for (const auto& pl : m4_message.payloads) {
    if (pl.type != v1::PayloadType::cert_request) continue;
    // The CA by its DER subject (RFC 4945 §3.2.7.1).
    const auto& req = std::get<codec::CertificateRequest>(pl.body);
    const unsigned char* d = req.authority.data();
    X509_NAME* name = d2i_X509_NAME(nullptr, &d, static_cast<long>(req.authority.size()));
    ASSERT_NE(name, nullptr);
    EXPECT_EQ(X509_NAME_cmp(name, X509_get_subject_name(certs()["ca"].get())), 0);
    X509_NAME_free(name);
  }
  ASSERT_TRUE(p.b_to_a());  // 4
  ASSERT_TRUE(p.a_to_b());  // 5
  ASSERT_TRUE(p.b_to_a());  // 6
  ASSERT_TRUE(p.a_to_b());  // Quick Mode 1
  ASSERT_TRUE(p.b_to_a());  // 2
  ASSERT_TRUE(p.a_to_b());  // 3
  ASSERT_EQ(p.a.list().size(), 1u);
  ASSERT_EQ(p.b.list().size(), 1u);
  EXPECT_EQ(p.a.list()[0].state, "MM_DONE");
  EXPECT_EQ(p.b.list()[0].state, "MM_DONE");
  EXPECT_EQ(p.a.list()[0].remote_id, "b.example.net");
  EXPECT_EQ(p.b.list()[0].remote_id, "a.example.net");
  expect_mirrored(p.dp_a, p.dp_b);
}

// ECDSA on each NIST curve, Main Mode; the method follows from the key.
TEST_F(Ikev1Certificates, MainModeWithEcdsaSignatures) {
  for (const std::string curve : {"p256", "p384"}) {
    SCOPED_TRACE(curve);
    Pair p(with_cert("a-" + curve), with_cert("b-" + curve, "ca", Spec{}.mirrored()));
    establish(p);
    ASSERT_EQ(p.a.list().size(), 1u);
    EXPECT_EQ(p.a.list()[0].state, "MM_DONE");
    EXPECT_EQ(p.b.list()[0].state, "MM_DONE");
    EXPECT_EQ(p.a.stats().phase1_established, 1u);
    EXPECT_EQ(p.b.stats().phase1_established, 1u);
    expect_mirrored(p.dp_a, p.dp_b);
  }
}

// Aggressive Mode with certificates needs no allow_aggressive_psk: CERT and
// SIG_R in message 2, CERT and SIG_I (encrypted) in message 3.
TEST_F(Ikev1Certificates, AggressiveModeWithSignatures) {
  Pair p(aggressive(with_cert("a-p256")), aggressive(with_cert("b-p256", "ca", Spec{}.mirrored())));
  ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
  const auto m1 = types(p.wire_a.queue.front());
  EXPECT_TRUE(has(m1, v1::PayloadType::cert_request));
  EXPECT_FALSE(has(m1, v1::PayloadType::sig));
  ASSERT_TRUE(p.a_to_b());  // 1
  const auto m2 = types(p.wire_b.queue.front());
  EXPECT_TRUE(has(m2, v1::PayloadType::cert));
  EXPECT_TRUE(has(m2, v1::PayloadType::sig));
  EXPECT_FALSE(has(m2, v1::PayloadType::hash));
  ASSERT_TRUE(p.b_to_a());  // 2
  ASSERT_TRUE(p.a_to_b());  // 3
  EXPECT_EQ(p.a.list().at(0).state, "AM_DONE");
  EXPECT_EQ(p.b.list().at(0).state, "AM_DONE");
  ASSERT_TRUE(p.a_to_b());  // Quick Mode 1
  ASSERT_TRUE(p.b_to_a());  // 2
  ASSERT_TRUE(p.a_to_b());  // 3
  expect_mirrored(p.dp_a, p.dp_b);
}

// A certificate from a CA that B does not trust: B refuses message 5 with
// AUTHENTICATION-FAILED and says why.
TEST_F(Ikev1Certificates, AnUntrustedCaFailsAuthentication) {
  std::vector<std::string> warnings;
  log::set_listener([&](log::Level, std::string_view, std::string_view m) { warnings.emplace_back(m); });
  Pair p(with_cert("a-rogue"), with_cert("b-rsa", "ca", Spec{}.mirrored()));
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.b_to_a());
  }
  ASSERT_TRUE(p.a_to_b());  // 5
  log::set_listener(nullptr);
  EXPECT_EQ(p.b.sa_count(), 0u);
  EXPECT_EQ(p.b.stats().phase1_failed, 1u);
  EXPECT_EQ(p.b.stats().notifies_sent.at("AUTHENTICATION-FAILED"), 1u);
  EXPECT_TRUE(std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) {
    return w.find("no trusted CA for 'C=CH, O=Corridor Test, CN=a.example.net'") != std::string::npos;
  }));
}

// An end whose certificate does not hold the identity it would claim does
// not sign: A carries B's certificate while its local id is a.example.net.
TEST_F(Ikev1Certificates, AnIdentityTheCertificateDoesNotHoldIsNotSigned) {
  std::vector<std::string> errors;
  log::set_listener([&](log::Level, std::string_view, std::string_view m) { errors.emplace_back(m); });
  Pair p(with_cert("b-rsa"), with_cert("b-rsa", "ca", Spec{}.mirrored()));
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.b_to_a());
  }
  log::set_listener(nullptr);
  EXPECT_TRUE(p.wire_a.queue.empty()) << "A sent message 5 for an identity its certificate does not hold";
  EXPECT_EQ(p.a.sa_count(), 0u);
  EXPECT_EQ(p.a.stats().phase1_failed, 1u);
  EXPECT_TRUE(std::any_of(errors.begin(), errors.end(), [](const std::string& e) {
    return e.find("does not contain our identity a.example.net") != std::string::npos;
  }));
}

// Aggressive Mode 2 carries SIG_R in the clear: one flipped bit in it and
// the initiator refuses the responder.
TEST_F(Ikev1Certificates, AForgedSignatureFailsAuthentication) {
  std::vector<std::string> warnings;
  log::set_listener([&](log::Level, std::string_view, std::string_view m) { warnings.emplace_back(m); });
  Pair p(aggressive(with_cert("a-p384")), aggressive(with_cert("b-p384", "ca", Spec{}.mirrored())));
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  ASSERT_TRUE(p.a_to_b());  // 1
  auto m2 = parse(p.wire_b.queue.front());
  bool forged = false;
  for (auto& pl : m2.payloads) {
    if (auto* sig = std::get_if<codec::Signature>(&pl.body)) {
      sig->data.at(10) ^= 0x01;
      forged = true;
    }
  }
  ASSERT_TRUE(forged);
  auto bytes = codec::serialise_message(m2);
  ASSERT_TRUE(bytes.ok());
  p.wire_b.queue.front().bytes = *bytes;
  ASSERT_TRUE(p.b_to_a());  // 2, forged
  log::set_listener(nullptr);
  EXPECT_EQ(p.a.sa_count(), 0u);
  EXPECT_EQ(p.a.stats().phase1_failed, 1u);
  EXPECT_TRUE(std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) {
    return w.find("signature of 'b.example.net': signature does not verify (ECDSA P-384") != std::string::npos;
  }));
}

// RSA at one end, ECDSA at the other: the methods differ, so B answers
// NO-PROPOSAL-CHOSEN and names the methods.
TEST_F(Ikev1Certificates, DifferentKindsOfKeyShareNoMethod) {
  std::vector<std::string> warnings;
  log::set_listener([&](log::Level, std::string_view, std::string_view m) { warnings.emplace_back(m); });
  Pair p(with_cert("a-rsa"), with_cert("b-p256", "ca", Spec{}.mirrored()));
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  ASSERT_TRUE(p.a_to_b());
  log::set_listener(nullptr);
  EXPECT_EQ(p.b.sa_count(), 0u);
  EXPECT_EQ(p.b.stats().notifies_sent.at("NO-PROPOSAL-CHOSEN"), 1u);
  EXPECT_TRUE(std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) {
    return w.find("authentication method: received RSA_SIG, configured ECDSA_256") != std::string::npos;
  })) << "no line names the methods";
}

// PSK at one end, certificates at the other: no transform in common either.
TEST_F(Ikev1Certificates, PskAgainstCertificatesIsNoProposalChosen) {
  Pair p({}, with_cert("b-rsa", "ca", Spec{}.mirrored()));
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  ASSERT_TRUE(p.a_to_b());
  EXPECT_EQ(p.b.sa_count(), 0u);
  EXPECT_EQ(p.b.stats().notifies_sent.at("NO-PROPOSAL-CHOSEN"), 1u);
}

// A certificate that will not load stops initiation with the reason.
TEST_F(Ikev1Certificates, AMissingCertificateRefusesToInitiate) {
  Spec broken = with_cert("a-rsa");
  broken.local_auth = R"("auth": "pubkey", "certs": [")" + path("nowhere.pem") + R"("])";
  Pair p(broken, with_cert("b-rsa", "ca", Spec{}.mirrored()));
  std::string why;
  EXPECT_FALSE(p.a.initiate("legacy", "", p.now, &why));
  EXPECT_NE(why.find("nowhere.pem"), std::string::npos) << why;
  EXPECT_TRUE(p.wire_a.queue.empty());
}

// Certificates make Main Mode 5/6 larger than a small path MTU: both ends
// announced FRAGMENTATION, so each sends them in fragments the other
// joins. With `fragmentation: no` at B, B announces nothing and A sends
// whole messages; B still accepts fragments (as strongSwan does).
TEST_F(Ikev1Certificates, LargeMessagesTravelInFragments) {
  ManagerOptions small;
  small.fragment_size = 576;
  {
    Pair p(with_cert("a-rsa"), with_cert("b-rsa", "ca", Spec{}.mirrored()), small, small);
    ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
    p.settle();  // fragments travel one datagram at a time
    EXPECT_EQ(p.a.list().at(0).state, "MM_DONE");
    EXPECT_EQ(p.b.list().at(0).state, "MM_DONE");
    EXPECT_GE(p.a.stats().fragments_sent, 2u);
    EXPECT_GE(p.b.stats().fragments_sent, 2u);
    EXPECT_GE(p.a.stats().messages_reassembled, 1u);
    EXPECT_GE(p.b.stats().messages_reassembled, 1u);
    EXPECT_EQ(p.a.stats().fragments_received, p.b.stats().fragments_sent);
    for (const auto* w : {&p.wire_a, &p.wire_b}) EXPECT_TRUE(w->queue.empty());
    expect_mirrored(p.dp_a, p.dp_b);
  }
  {
    Spec b = with_cert("b-rsa", "ca", Spec{}.mirrored());
    b.connection_extra = R"("fragmentation": "no")";
    Pair p(with_cert("a-rsa"), b, small, small);
    ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
    p.settle();  // fragments travel one datagram at a time
    EXPECT_EQ(p.a.stats().fragments_sent, 0u) << "B did not announce fragmentation";
    EXPECT_EQ(p.b.stats().fragments_sent, 0u);
    EXPECT_EQ(p.b.list().at(0).state, "MM_DONE");
  }
  {
    // force: A fragments without waiting for B's VID; B, set to no, still joins them.
    Spec a = with_cert("a-rsa");
    a.connection_extra = R"("fragmentation": "force")";
    Spec b = with_cert("b-rsa", "ca", Spec{}.mirrored());
    b.connection_extra = R"("fragmentation": "no")";
    Pair p(a, b, small, small);
    ASSERT_TRUE(p.a.initiate("legacy", "office", p.now));
    p.settle();  // fragments travel one datagram at a time
    EXPECT_GE(p.a.stats().fragments_sent, 2u);
    EXPECT_GE(p.b.stats().messages_reassembled, 1u);
    EXPECT_EQ(p.b.list().at(0).state, "MM_DONE");
  }
}

// Fragments for no SA, malformed ones, and pieces that do not join into a
// message of the SA they came for are dropped by name.
TEST_F(Ikev1Certificates, BadFragmentsAreDroppedByName) {
  ManagerOptions small;
  small.fragment_size = 576;
  Pair p(with_cert("a-rsa"), with_cert("b-rsa", "ca", Spec{}.mirrored()), small, small);
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(p.a_to_b());
    ASSERT_TRUE(p.b_to_a());
  }
  // A's message 5 now waits on the wire in fragments.
  ASSERT_GE(p.wire_a.queue.size(), 2u);
  auto first = p.wire_a.queue.front().bytes;
  // For no SA: other cookies.
  auto stray = first;
  stray[0] ^= 0xff;
  p.b.receive(p.wire_a.queue.front().remote, p.wire_a.queue.front().local, stray, p.now);
  EXPECT_EQ(p.b.stats().drops.at("fragment_without_sa"), 1u);
  // Malformed: a Payload Length that disagrees with the datagram.
  auto bad = first;
  bad[28 + 3] ^= 0x01;
  p.b.receive(p.wire_a.queue.front().remote, p.wire_a.queue.front().local, bad, p.now);
  EXPECT_EQ(p.b.stats().drops.at("fragment_malformed"), 1u);
  // From another address than the peer's.
  const net::SocketAddress elsewhere{*net::IpAddress::parse("203.0.113.66"), 4500};
  p.b.receive(p.wire_a.queue.front().remote, elsewhere, first, p.now);
  EXPECT_EQ(p.b.stats().drops.at("fragment_rejected"), 1u);
  // A one-piece "message" that is not an ISAKMP message of this SA.
  auto alone = first;
  alone[28 + 7] = 0x01;  // the first piece claims to be the last
  p.b.receive(p.wire_a.queue.front().remote, p.wire_a.queue.front().local, alone, p.now);
  EXPECT_EQ(p.b.stats().drops.at("fragment_rejected"), 2u);
  // The genuine fragments still complete the exchange.
  p.settle();
  EXPECT_EQ(p.a.list().at(0).state, "MM_DONE");
  EXPECT_EQ(p.b.list().at(0).state, "MM_DONE");
}

// Half-open SAs cannot buy unbounded memory with unfinished fragments:
// past kMaxReassemblyBudget for all SAs together, pieces are dropped.
TEST_F(Ikev1Certificates, UnfinishedFragmentsOfAllSasShareOneBudget) {
  Pair p(with_cert("a-rsa"), with_cert("b-rsa", "ca", Spec{}.mirrored()));
  ASSERT_TRUE(p.a.initiate("legacy", "", p.now));
  const Datagram m1 = p.wire_a.queue.front();
  const std::vector<std::uint8_t> piece(9000, 0x5a);
  for (int i = 0; i < 64; ++i) {
    auto mm1 = m1.bytes;
    mm1[0] = static_cast<std::uint8_t>(i);  // another initiator cookie: another half-open SA at B
    mm1[1] = 0xee;
    p.b.receive(m1.remote, m1.local, mm1, p.now);
    ASSERT_FALSE(p.wire_b.queue.empty());
    const auto reply = p.wire_b.queue.back().bytes;
    p.wire_b.queue.clear();
    // One big first piece for that SA, never finished.
    corridor::ikev1::Header h;
    std::copy_n(reply.begin(), 8, h.cookie_i.begin());
    std::copy_n(reply.begin() + 8, 8, h.cookie_r.begin());
    const auto header = corridor::ikev1::serialise_header(h, static_cast<v1::PayloadType>(kFragmentPayload),
                                                          static_cast<std::uint32_t>(28 + 8 + piece.size()));
    std::vector<std::uint8_t> frag(header.begin(), header.end());
    const std::size_t len = 8 + piece.size();
    for (std::uint8_t b : {std::uint8_t{0}, std::uint8_t{0}, static_cast<std::uint8_t>(len >> 8),
                           static_cast<std::uint8_t>(len), std::uint8_t{0}, std::uint8_t{1}, std::uint8_t{1},
                           std::uint8_t{0}})
      frag.push_back(b);
    frag.insert(frag.end(), piece.begin(), piece.end());
    p.b.receive(m1.remote, m1.local, frag, p.now);
  }
  EXPECT_EQ(p.b.sa_count(), 64u);
  EXPECT_EQ(p.b.stats().fragments_received, 64u);
  ASSERT_TRUE(p.b.stats().drops.count("fragment_budget"));
  EXPECT_GE(p.b.stats().drops.at("fragment_budget"), 64u - kMaxReassemblyBudget / piece.size());
}

}  // namespace
