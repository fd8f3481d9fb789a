// Certificate authentication (control/ike/pubkey_auth.h) against a PKI
// built at test time with OpenSSL and written as PEM/DER to a temp dir:
//
//   Root CA (RSA-2048) --+-- gw-rsa.example   (RSA-3072)
//                        +-- gw-p256.example  (P-256)
//                        +-- gw-p521.example  (P-521)
//                        +-- ku-encipher.example (P-256, keyUsage keyAgreement only)
//                        +-- Intermediate CA (P-256, pathlen 0) -- gw-p384.example (P-384)
//   Other CA (P-256)                                   (trusted by nobody here)
//                        +-- not-a-ca.example (P-256, CA:FALSE but keyCertSign) -- bogus-leaf.example
//
// Besides OpenSSL's own verification, the RFC 7427 AlgorithmIdentifiers are
// compared with the DER of RFC 7427 Appendix A / RFC 5758 §3.2, and when
// /usr/bin/python3 has `cryptography` an independent script parses the AUTH
// data by hand and verifies it (RSA PKCS#1 v1.5, RSA-PSS, ECDSA in method
// 14, ECDSA r|s in method 9, RSA method 1) and recomputes the CERTREQ hash.
#include "control/ike/pubkey_auth.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>
#include <memory>
#include <string>
#include <vector>

#include "common/ike/keys.h"
#include "control/ike/credentials.h"
#include "control/ikev2/auth.h"
#include "control/ike/identity.h"
#include "tests/unit/support/x509_factory.h"

namespace {

using namespace corridor;                 // NOLINT: test brevity
using namespace corridor::control::ike;  // NOLINT
using corridor::control::ike::to_wire;
using Bytes = std::vector<std::uint8_t>;
using WireMethod = iana::AuthMethod;
using namespace corridor::test_support;  // NOLINT: Pkey, Cert, CertSpec, make_cert, kDay

Bytes hex(std::string_view h) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string to_hex(const Bytes& b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (auto v : b) {
    out += kDigits[v >> 4];
    out += kDigits[v & 15];
  }
  return out;
}

// RFC 7427 Appendix A (and RFC 5758 §3.2 for ECDSA: parameters absent).
const Bytes kSha256WithRsa = hex("300d06092a864886f70d01010b0500");
const Bytes kSha384WithRsa = hex("300d06092a864886f70d01010c0500");
const Bytes kSha512WithRsa = hex("300d06092a864886f70d01010d0500");
const Bytes kEcdsaWithSha256 = hex("300a06082a8648ce3d040302");
const Bytes kEcdsaWithSha384 = hex("300a06082a8648ce3d040303");
const Bytes kEcdsaWithSha512 = hex("300a06082a8648ce3d040304");
// id-RSASSA-PSS { hashAlgorithm sha256 NULL, maskGenAlgorithm mgf1 { sha256
// NULL }, saltLength 32 }, trailerField (DEFAULT 1) left out as DER asks.
const Bytes kRsaPssSha256 = hex(
    "3041"
    "06092a864886f70d01010a"
    "3034"
    "a00f300d06096086480165030402010500"
    "a11c301a06092a864886f70d010108300d06096086480165030402010500"
    "a203020120");
// The same with trailerField 1 written out (the RFC 7427 A.4.3 layout):
// BER-ish but seen on the wire; a verifier should take it.
const Bytes kRsaPssSha256ExplicitTrailer = hex(
    "3046"
    "06092a864886f70d01010a"
    "3039"
    "a00f300d06096086480165030402010500"
    "a11c301a06092a864886f70d010108300d06096086480165030402010500"
    "a203020120"
    "a303020101");

void write_file(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string cert_pem(X509* x) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  return bio_string(bio);
}

enum class KeyFormat { pem, pem_encrypted, der };

std::string key_bytes(EVP_PKEY* key, KeyFormat format, const std::string& pass = "") {
  BIO* bio = BIO_new(BIO_s_mem());
  switch (format) {
    case KeyFormat::pem: PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); break;
    case KeyFormat::pem_encrypted:
      PEM_write_bio_PrivateKey(bio, key, EVP_aes_256_cbc(), reinterpret_cast<const unsigned char*>(pass.data()),
                               static_cast<int>(pass.size()), nullptr, nullptr);
      break;
    case KeyFormat::der: i2d_PrivateKey_bio(bio, key); break;
  }
  return bio_string(bio);
}

Bytes sha1_of_public_key(EVP_PKEY* key) {
  // Independently of the certificate: the SubjectPublicKeyInfo as OpenSSL's
  // key encoder writes it.
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  Bytes md(20);
  unsigned int n = 0;
  EVP_Digest(der, static_cast<std::size_t>(len), md.data(), &n, EVP_sha1(), nullptr);
  OPENSSL_free(der);
  return md;
}

config::SecretBytes secret(const std::string& s) { return config::SecretBytes(Bytes(s.begin(), s.end())); }

config::Identity id(const std::string& text) {
  auto i = config::Identity::parse(text);
  EXPECT_TRUE(i.has_value()) << text;
  return i.value_or(config::Identity{});
}

// Split the RFC 7427 AUTH data into AlgorithmIdentifier and signature.
std::pair<Bytes, Bytes> split_auth(const Bytes& data) {
  const std::size_t n = data.at(0);
  return {Bytes(data.begin() + 1, data.begin() + 1 + static_cast<std::ptrdiff_t>(n)),
          Bytes(data.begin() + 1 + static_cast<std::ptrdiff_t>(n), data.end())};
}

class PubkeyAuth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/corridor-pubkey-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    now_ = std::time(nullptr);

    auto& k = keys();
    k["root"] = Pkey(EVP_RSA_gen(2048));
    k["other"] = Pkey(EVP_EC_gen("P-256"));
    k["inter"] = Pkey(EVP_EC_gen("P-256"));
    k["rsa"] = Pkey(EVP_RSA_gen(3072));
    k["p256"] = Pkey(EVP_EC_gen("P-256"));
    k["p384"] = Pkey(EVP_EC_gen("P-384"));
    k["p521"] = Pkey(EVP_EC_gen("P-521"));
    k["kuenc"] = Pkey(EVP_EC_gen("P-256"));
    k["notca"] = Pkey(EVP_EC_gen("P-256"));
    k["bogus"] = Pkey(EVP_EC_gen("P-256"));
    k["cdp"] = Pkey(EVP_EC_gen("P-256"));
    for (const auto& [name, key] : k) ASSERT_NE(key, nullptr) << name;

    auto& c = certs();
    const std::vector<std::pair<std::string, std::string>> org = {{"C", "CH"}, {"O", "Corridor Test"}};
    auto with = [&](const std::string& cn) {
      auto s = org;
      s.emplace_back("CN", cn);
      return s;
    };
    c["root"] = make_cert({with("Root CA"), k["root"].get(), nullptr, nullptr, true, -1,
                           "critical,keyCertSign,cRLSign", "", -kDay, 3650 * kDay},
                          now_);
    c["other"] = make_cert({with("Other CA"), k["other"].get(), nullptr, nullptr, true, -1,
                            "critical,keyCertSign,cRLSign", "", -kDay, 3650 * kDay},
                           now_);
    c["inter"] = make_cert({with("Intermediate CA"), k["inter"].get(), c["root"].get(), k["root"].get(), true, 0,
                            "critical,keyCertSign,cRLSign", "", -kDay, 3650 * kDay},
                           now_);
    CertSpec rsa{with("gw-rsa.example"), k["rsa"].get(), c["root"].get(), k["root"].get()};
    rsa.san = "DNS:gw-rsa.example,IP:192.0.2.1,email:vpn@example.com";
    c["rsa"] = make_cert(rsa, now_);
    CertSpec p256{with("gw-p256.example"), k["p256"].get(), c["root"].get(), k["root"].get()};
    p256.san = "DNS:gw-p256.example,IP:2001:db8::1";
    c["p256"] = make_cert(p256, now_);
    CertSpec p384{with("gw-p384.example"), k["p384"].get(), c["inter"].get(), k["inter"].get()};
    p384.san = "DNS:gw-p384.example";
    c["p384"] = make_cert(p384, now_);
    CertSpec p521{with("gw-p521.example"), k["p521"].get(), c["root"].get(), k["root"].get()};
    p521.san = "DNS:gw-p521.example";
    c["p521"] = make_cert(p521, now_);
    CertSpec kuenc{with("ku-encipher.example"), k["kuenc"].get(), c["root"].get(), k["root"].get()};
    kuenc.key_usage = "critical,keyAgreement";
    kuenc.san = "DNS:ku-encipher.example";
    c["kuenc"] = make_cert(kuenc, now_);
    CertSpec notca{with("not-a-ca.example"), k["notca"].get(), c["root"].get(), k["root"].get()};
    notca.key_usage = "critical,digitalSignature,keyCertSign";
    c["notca"] = make_cert(notca, now_);
    CertSpec bogus{with("bogus-leaf.example"), k["bogus"].get(), c["notca"].get(), k["notca"].get()};
    bogus.san = "DNS:bogus-leaf.example";
    c["bogus"] = make_cert(bogus, now_);
    CertSpec cdp{with("gw-cdp.example"), k["cdp"].get(), c["root"].get(), k["root"].get()};
    cdp.san = "DNS:gw-cdp.example";
    cdp.crl_distribution_point = "URI:http://ca.corridor.test/root.crl";
    c["cdp"] = make_cert(cdp, now_);
    for (const auto& [name, cert] : c) {
      ASSERT_NE(cert, nullptr) << name;
      write_file(path(name + ".pem"), cert_pem(cert.get()));
    }
    for (const auto& name : {"rsa", "p521", "kuenc", "bogus", "root", "other", "cdp"}) {
      write_file(path(std::string(name) + ".key"), key_bytes(k[name].get(), KeyFormat::pem));
    }
    write_file(path("p256.key"), key_bytes(k["p256"].get(), KeyFormat::pem_encrypted, "s3cret pass"));
    write_file(path("p384.der"), key_bytes(k["p384"].get(), KeyFormat::der));
    write_file(path("roots.pem"), cert_pem(c["root"].get()) + cert_pem(c["other"].get()));
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

  static LocalCredential credential(const std::string& name) {
    std::string why;
    std::optional<LocalCredential> c;
    if (name == "p256") {
      c = LocalCredential::load({path("p256.pem")}, path("p256.key"), secret("s3cret pass"), &why);
    } else if (name == "p384") {
      c = LocalCredential::load({path("p384.pem"), path("inter.pem")}, path("p384.der"), {}, &why);
    } else {
      c = LocalCredential::load({path(name + ".pem")}, path(name + ".key"), {}, &why);
    }
    EXPECT_TRUE(c.has_value()) << why;
    return c.value_or(LocalCredential{});
  }

  static TrustStore trust(const std::vector<std::string>& names) {
    std::vector<std::string> files;
    for (const auto& n : names) files.push_back(path(n + ".pem"));
    std::string why;
    auto t = TrustStore::load(files, &why);
    EXPECT_TRUE(t.has_value()) << why;
    return t.value_or(TrustStore{});
  }

  // Signed octets as IKE_AUTH builds them (RFC 7296 §2.15).
  static Bytes octets(const config::Identity& who) {
    const Bytes message(300, 0x5a);
    const Bytes nonce(32, 0x11);
    const config::SecretBytes sk_p(Bytes(32, 0x22));
    const auto wire = to_wire(who);
    EXPECT_TRUE(wire.has_value());
    auto out = control::ikev2::signed_octets(iana::PrfId::hmac_sha2_256, message, nonce, sk_p, *wire);
    EXPECT_TRUE(out.ok());
    return *out;
  }

  static inline std::string dir_;
  static inline std::time_t now_ = 0;
};

struct RoundTrip {
  std::string cred;
  std::string claimed;
  std::vector<std::uint16_t> peer_hashes;
  SignOptions sign;
  WireMethod method;
  std::string algorithm;  // expected VerifyResult::algorithm
  std::size_t classic_size = 0;
};

TEST_F(PubkeyAuth, NotifyDataAnnouncesSha2Only) {
  EXPECT_EQ(signature_hash_algorithms_notify_data(), (Bytes{0, 2, 0, 3, 0, 4}));
  EXPECT_EQ(parse_signature_hash_algorithms(signature_hash_algorithms_notify_data()),
            (std::vector<std::uint16_t>{2, 3, 4}));
  const Bytes odd{0, 1, 0, 5, 0x80, 0x00, 0x07};
  EXPECT_EQ(parse_signature_hash_algorithms(odd), (std::vector<std::uint16_t>{1, 5, 0x8000}));
  EXPECT_TRUE(parse_signature_hash_algorithms({}).empty());
}

TEST_F(PubkeyAuth, AlgorithmIdentifiersAreThoseOfRfc7427AppendixA) {
  const Bytes o = octets(id("gw-rsa.example"));
  std::string why;
  struct Case {
    std::string cred;
    std::vector<std::uint16_t> hashes;
    bool pss;
    Bytes aid;
  };
  const std::vector<Case> cases = {
      {"rsa", {1, 2, 3, 4, 5}, false, kSha256WithRsa},  // RSA prefers SHA2-256
      {"rsa", {3}, false, kSha384WithRsa},
      {"rsa", {3, 4}, false, kSha512WithRsa},  // else the strongest
      {"rsa", {2, 3, 4}, true, kRsaPssSha256},
      {"p256", {4, 3, 2}, false, kEcdsaWithSha256},  // the curve's hash
      {"p256", {3, 4}, false, kEcdsaWithSha512},     // else the strongest
      {"p384", {2, 3, 4}, false, kEcdsaWithSha384},
      {"p521", {2, 3, 4}, false, kEcdsaWithSha512},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.cred + " pss=" + std::to_string(c.pss) + " aid=" + to_hex(c.aid));
    const auto auth = credential(c.cred).sign(o, c.hashes, SignOptions{c.pss, false}, &why);
    ASSERT_TRUE(auth.has_value()) << why;
    EXPECT_EQ(auth->method, WireMethod::digital_signature);
    EXPECT_EQ(auth->data[0], c.aid.size());
    EXPECT_EQ(to_hex(split_auth(auth->data).first), to_hex(c.aid));
  }
}

TEST_F(PubkeyAuth, SignVerifyRoundTripsForEveryMethod) {
  const std::vector<RoundTrip> cases = {
      {"rsa", "gw-rsa.example", {2, 3, 4}, {}, WireMethod::digital_signature, "RSA PKCS#1 v1.5 SHA2-256 (method 14)"},
      {"rsa", "gw-rsa.example", {2, 3, 4}, {true, false}, WireMethod::digital_signature,
       "RSASSA-PSS SHA2-256 (method 14)"},
      {"rsa", "gw-rsa.example", {4}, {true, false}, WireMethod::digital_signature, "RSASSA-PSS SHA2-512 (method 14)"},
      {"p256", "gw-p256.example", {2, 3, 4}, {}, WireMethod::digital_signature, "ECDSA SHA2-256 (method 14)"},
      {"p384", "gw-p384.example", {2, 3, 4}, {}, WireMethod::digital_signature, "ECDSA SHA2-384 (method 14)"},
      {"p521", "gw-p521.example", {2, 3, 4}, {}, WireMethod::digital_signature, "ECDSA SHA2-512 (method 14)"},
      // No N(SIGNATURE_HASH_ALGORITHMS) from the peer.
      {"rsa", "gw-rsa.example", {}, {false, true}, WireMethod::rsa_digital_signature,
       "RSA PKCS#1 v1.5 SHA-1 (method 1)", 384},
      {"rsa", "gw-rsa.example", {}, {}, WireMethod::digital_signature, "RSA PKCS#1 v1.5 SHA2-256 (method 14)"},
      {"rsa", "gw-rsa.example", {1, 5}, {}, WireMethod::digital_signature, "RSA PKCS#1 v1.5 SHA2-256 (method 14)"},
      {"p256", "gw-p256.example", {}, {}, WireMethod::ecdsa_sha256_p256, "ECDSA P-256 SHA2-256 (method 9)", 64},
      {"p384", "gw-p384.example", {}, {}, WireMethod::ecdsa_sha384_p384, "ECDSA P-384 SHA2-384 (method 10)", 96},
      {"p521", "gw-p521.example", {}, {}, WireMethod::ecdsa_sha512_p521, "ECDSA P-521 SHA2-512 (method 11)", 132},
  };
  const TrustStore store = trust({"root"});
  for (const auto& c : cases) {
    SCOPED_TRACE(c.algorithm);
    const LocalCredential cred = credential(c.cred);
    const auto claimed = id(c.claimed);
    const Bytes o = octets(claimed);
    std::string why;
    const auto auth = cred.sign(o, c.peer_hashes, c.sign, &why);
    ASSERT_TRUE(auth.has_value()) << why;
    EXPECT_EQ(auth->method, c.method);
    if (c.classic_size) {
      EXPECT_EQ(auth->data.size(), c.classic_size);
    }
    const auto certs = cred.cert_payloads();
    VerifyOptions options;
    options.allow_sha1 = c.method == WireMethod::rsa_digital_signature;
    const auto r = verify_peer(store, certs, claimed, *auth, o, now_, options);
    EXPECT_TRUE(r.ok) << r.why;
    EXPECT_EQ(r.algorithm, c.algorithm);
    EXPECT_EQ(r.subject, cred.subject());

    // One flipped bit in the octets, or in the signature, and it fails.
    Bytes tampered = o;
    tampered[tampered.size() / 2] ^= 0x01;
    const auto t = verify_peer(store, certs, claimed, *auth, tampered, now_, options);
    EXPECT_FALSE(t.ok);
    EXPECT_NE(t.why.find("signature does not verify"), std::string::npos) << t.why;
    auto bad_sig = *auth;
    bad_sig.data.back() ^= 0x80;
    const auto s = verify_peer(store, certs, claimed, bad_sig, o, now_, options);
    EXPECT_FALSE(s.ok);
    EXPECT_NE(s.why.find("signature does not verify"), std::string::npos) << s.why;
  }
}

TEST_F(PubkeyAuth, Sha1IsRefusedUnlessAllowed) {
  const auto cred = credential("rsa");
  const auto claimed = id("gw-rsa.example");
  const Bytes o = octets(claimed);
  std::string why;
  const auto auth = cred.sign(o, {}, SignOptions{false, true}, &why);
  ASSERT_TRUE(auth.has_value()) << why;
  ASSERT_EQ(auth->method, WireMethod::rsa_digital_signature);
  const auto r = verify_peer(trust({"root"}), cred.cert_payloads(), claimed, *auth, o, now_, {});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.why.find("SHA-1"), std::string::npos) << r.why;
  EXPECT_NE(r.why.find("allow_sha1"), std::string::npos) << r.why;
}

TEST_F(PubkeyAuth, ExplicitPssTrailerFieldIsAccepted) {
  const auto cred = credential("rsa");
  const auto claimed = id("gw-rsa.example");
  const Bytes o = octets(claimed);
  std::string why;
  const auto auth = cred.sign(o, std::vector<std::uint16_t>{2}, SignOptions{true, false}, &why);
  ASSERT_TRUE(auth.has_value()) << why;
  auto [aid, sig] = split_auth(auth->data);
  ASSERT_EQ(aid, kRsaPssSha256);
  corridor::ike::Authentication variant{WireMethod::digital_signature, {}};
  variant.data.push_back(static_cast<std::uint8_t>(kRsaPssSha256ExplicitTrailer.size()));
  variant.data.insert(variant.data.end(), kRsaPssSha256ExplicitTrailer.begin(), kRsaPssSha256ExplicitTrailer.end());
  variant.data.insert(variant.data.end(), sig.begin(), sig.end());
  const auto r = verify_peer(trust({"root"}), cred.cert_payloads(), claimed, variant, o, now_, {});
  EXPECT_TRUE(r.ok) << r.why;
}

TEST_F(PubkeyAuth, UntrustedCaIsRejected) {
  const auto cred = credential("rsa");
  const auto claimed = id("gw-rsa.example");
  const Bytes o = octets(claimed);
  std::string why;
  const auto auth = cred.sign(o, std::vector<std::uint16_t>{2}, {}, &why);
  ASSERT_TRUE(auth.has_value()) << why;
  const auto r = verify_peer(trust({"other"}), cred.cert_payloads(), claimed, *auth, o, now_, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.why,
            "no trusted CA for 'C=CH, O=Corridor Test, CN=gw-rsa.example' (issuer 'C=CH, O=Corridor Test, CN=Root CA')");
  // With both roots in one file it is trusted again.
  std::string err;
  const auto both = TrustStore::load({path("roots.pem")}, &err);
  ASSERT_TRUE(both.has_value()) << err;
  EXPECT_EQ(both->size(), 2u);
  EXPECT_TRUE(verify_peer(*both, cred.cert_payloads(), claimed, *auth, o, now_, {}).ok);
}

// Certificate revocation lists (remote.crls) and remote.revocation.
class Revocation : public PubkeyAuth {
 protected:
  // A CRL of `issuer` listing `revoked`, written to `file`; nextUpdate
  // `next_update` seconds from now.
  static std::string crl_file(const std::string& file, const std::string& issuer, const std::vector<std::string>& revoked,
                              long next_update = 7 * kDay, const std::string& signer = "", bool der = false) {
    std::vector<const X509*> listed;
    for (const auto& r : revoked) listed.push_back(certs()[r].get());
    auto crl = make_crl(certs()[issuer].get(), keys()[signer.empty() ? issuer : signer].get(), listed, now_, -3600,
                        next_update);
    write_file(path(file), der ? der_of(crl.get()) : pem_of(crl.get()));
    return path(file);
  }
  static TrustStore store(const std::vector<std::string>& crls, config::Revocation mode) {
    std::string why;
    auto t = TrustStore::load({path("root.pem")}, crls, mode, &why);
    EXPECT_TRUE(t.has_value()) << why;
    return t.value_or(TrustStore{});
  }
  // verify_peer for certificate `name` (its own key signs), through `trust`.
  static VerifyResult check(const std::string& name, const TrustStore& trust) {
    const auto cred = credential(name);
    const auto claimed = id("gw-" + name + ".example");
    const Bytes o = octets(claimed);
    std::string why;
    const auto auth = cred.sign(o, std::vector<std::uint16_t>{2}, {}, &why);
    EXPECT_TRUE(auth.has_value()) << why;
    return verify_peer(trust, cred.cert_payloads(), claimed, *auth, o, now_, {});
  }
};

TEST_F(Revocation, ARevokedCertificateIsRefusedByEveryPolicy) {
  const auto crl = crl_file("root-revokes-rsa.crl", "root", {"rsa"});
  for (const auto mode : {config::Revocation::relaxed, config::Revocation::ifuri, config::Revocation::strict}) {
    SCOPED_TRACE(std::string(config::to_string(mode)));
    const auto trust = store({crl}, mode);
    EXPECT_EQ(trust.crl_count(), 1u);
    const auto r = check("rsa", trust);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.why, "certificate 'C=CH, O=Corridor Test, CN=gw-rsa.example' is revoked (CRL of 'C=CH, O=Corridor "
                     "Test, CN=Root CA')");
    EXPECT_TRUE(check("p521", trust).ok) << "another certificate of the same CA is not on the list";
  }
}

TEST_F(Revocation, WithoutACrlRelaxedAcceptsStrictRefusesIfuriLooksForADistributionPoint) {
  const auto relaxed = store({}, config::Revocation::relaxed);
  EXPECT_TRUE(check("rsa", relaxed).ok);
  EXPECT_TRUE(check("cdp", relaxed).ok);
  // strict: a CRL of another CA does not vouch for the Root CA's certificates.
  const auto other = crl_file("other.crl", "other", {});
  const auto strict = store({other}, config::Revocation::strict);
  const auto r = check("rsa", strict);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.why, "no CRL of 'C=CH, O=Corridor Test, CN=Root CA' to check certificate 'C=CH, O=Corridor Test, "
                   "CN=gw-rsa.example' against (remote.revocation)");
  const auto ifuri = store({}, config::Revocation::ifuri);
  EXPECT_TRUE(check("rsa", ifuri).ok) << "no distribution point, nothing to look for";
  const auto c = check("cdp", ifuri);
  EXPECT_FALSE(c.ok) << "it names a CRL that is not loaded";
  EXPECT_NE(c.why.find("no CRL of"), std::string::npos) << c.why;
  // With the Root CA's CRL (DER this time), strict and ifuri are content.
  const auto root = crl_file("root.der", "root", {}, 7 * kDay, "", true);
  EXPECT_TRUE(check("rsa", store({root}, config::Revocation::strict)).ok);
  EXPECT_TRUE(check("cdp", store({root}, config::Revocation::ifuri)).ok);
}

TEST_F(Revocation, AStaleCrlStillRevokesButVouchesOnlyUnderRelaxed) {
  const auto stale = crl_file("stale.crl", "root", {"rsa"}, -60);  // nextUpdate a minute ago
  const auto relaxed = store({stale}, config::Revocation::relaxed);
  EXPECT_FALSE(check("rsa", relaxed).ok) << "listed: revoked whatever the CRL's age";
  EXPECT_TRUE(check("p521", relaxed).ok);
  const auto r = check("p521", store({stale}, config::Revocation::strict));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.why.find("is out of date"), std::string::npos) << r.why;
}

// RFC 5280 §6.3 asks it of every certificate of the path: a revoked
// intermediate CA takes its end entities with it, and strict wants a CRL
// of each issuer below the trust anchor (gw-p384 <- Intermediate CA <- Root CA).
TEST_F(Revocation, IntermediateCasAreCheckedToo) {
  const auto root_revokes_inter = crl_file("root-revokes-inter.crl", "root", {"inter"});
  for (const auto mode : {config::Revocation::relaxed, config::Revocation::ifuri, config::Revocation::strict}) {
    SCOPED_TRACE(std::string(config::to_string(mode)));
    const auto r = check("p384", store({root_revokes_inter}, mode));
    EXPECT_FALSE(r.ok);
    // The path is checked from the end entity up: strict stops first at
    // gw-p384, for which no CRL of the Intermediate CA is loaded.
    EXPECT_EQ(r.why, mode == config::Revocation::strict
                         ? "no CRL of 'C=CH, O=Corridor Test, CN=Intermediate CA' to check certificate 'C=CH, "
                           "O=Corridor Test, CN=gw-p384.example' against (remote.revocation)"
                         : "certificate 'C=CH, O=Corridor Test, CN=Intermediate CA' in the chain of 'C=CH, O=Corridor "
                           "Test, CN=gw-p384.example' is revoked (CRL of 'C=CH, O=Corridor Test, CN=Root CA')");
    EXPECT_TRUE(check("rsa", store({root_revokes_inter}, mode)).ok) << "the Root CA's own end entities are not";
  }
  // The Intermediate CA's CRL lists the end entity.
  const auto root_clean = crl_file("root-clean.crl", "root", {});
  const auto inter_revokes = crl_file("inter-revokes-p384.crl", "inter", {"p384"});
  const auto revoked = check("p384", store({root_clean, inter_revokes}, config::Revocation::relaxed));
  EXPECT_FALSE(revoked.ok);
  EXPECT_EQ(revoked.why, "certificate 'C=CH, O=Corridor Test, CN=gw-p384.example' is revoked (CRL of 'C=CH, "
                         "O=Corridor Test, CN=Intermediate CA')");
  // strict: the Root CA's CRL vouches for the Intermediate CA, but nothing
  // vouches for gw-p384 until the Intermediate CA's CRL is there too.
  const auto missing = check("p384", store({root_clean}, config::Revocation::strict));
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.why, "no CRL of 'C=CH, O=Corridor Test, CN=Intermediate CA' to check certificate 'C=CH, "
                         "O=Corridor Test, CN=gw-p384.example' against (remote.revocation)");
  const auto inter_clean = crl_file("inter-clean.crl", "inter", {});
  EXPECT_TRUE(check("p384", store({root_clean, inter_clean}, config::Revocation::strict)).ok);
  // Only the Intermediate CA's: the Intermediate CA itself goes unchecked,
  // which strict refuses and relaxed and ifuri (no distribution point) accept.
  const auto no_root = check("p384", store({inter_clean}, config::Revocation::strict));
  EXPECT_FALSE(no_root.ok);
  EXPECT_NE(no_root.why.find("no CRL of 'C=CH, O=Corridor Test, CN=Root CA' to check certificate 'C=CH, O=Corridor "
                             "Test, CN=Intermediate CA' in the chain of"),
            std::string::npos)
      << no_root.why;
  EXPECT_TRUE(check("p384", store({inter_clean}, config::Revocation::relaxed)).ok);
  EXPECT_TRUE(check("p384", store({inter_clean}, config::Revocation::ifuri)).ok);
  // The trust anchor needs no CRL of its own: the Root CA's CRL, about the
  // certificates it issued, is all strict asks for gw-rsa.
  EXPECT_TRUE(check("rsa", store({root_clean}, config::Revocation::strict)).ok);
}

TEST_F(Revocation, ACrlNotSignedByItsIssuerIsRefused) {
  const auto forged = crl_file("forged.crl", "root", {}, 7 * kDay, "other");  // Root CA's name, another key
  const auto r = check("rsa", store({forged}, config::Revocation::relaxed));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.why, "the CRL of 'C=CH, O=Corridor Test, CN=Root CA' has an invalid signature");
}

TEST_F(Revocation, LoadingReportsFileAndReason) {
  std::string why;
  EXPECT_FALSE(TrustStore::load({path("root.pem")}, {path("absent.crl")}, config::Revocation::relaxed, &why));
  EXPECT_NE(why.find("CRL file '" + path("absent.crl") + "'"), std::string::npos) << why;
  EXPECT_FALSE(TrustStore::load({path("root.pem")}, {path("root.pem")}, config::Revocation::relaxed, &why));
  EXPECT_EQ(why, "CRL file '" + path("root.pem") + "' holds no PEM or DER X.509 CRL");
}

TEST_F(Revocation, CredentialsReloadWhenACrlFileChanges) {
  config::ConnectionConfig conn;
  conn.name = "gw";
  conn.local.auth = config::AuthMethod::psk;
  conn.remote.auth = config::AuthMethod::pubkey;
  conn.remote.cacerts = {path("root.pem")};
  conn.remote.crls = {crl_file("rolling.crl", "root", {})};
  const auto first = Credentials::load(conn, {});
  ASSERT_TRUE(first.trust.has_value()) << first.trust_error;
  EXPECT_FALSE(first.crls_changed(conn));
  EXPECT_TRUE(check("rsa", *first.trust).ok);
  // The CA publishes a new CRL that lists gw-rsa.
  crl_file("rolling.crl", "root", {"rsa"});
  struct timespec later[2] = {{0, UTIME_OMIT}, {now_ + 5, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, conn.remote.crls[0].c_str(), later, 0), 0);
  EXPECT_TRUE(first.crls_changed(conn));
  const auto second = Credentials::load(conn, {});
  ASSERT_TRUE(second.trust.has_value());
  EXPECT_FALSE(check("rsa", *second.trust).ok);
}

TEST_F(PubkeyAuth, ValidityPeriodIsChecked) {
  const auto cred = credential("p256");
  const auto claimed = id("gw-p256.example");
  const Bytes o = octets(claimed);
  std::string why;
  const auto auth = cred.sign(o, std::vector<std::uint16_t>{2}, {}, &why);
  ASSERT_TRUE(auth.has_value()) << why;
  const auto store = trust({"root"});
  const auto expired = verify_peer(store, cred.cert_payloads(), claimed, *auth, o, now_ + 2 * 365 * kDay, {});
  EXPECT_FALSE(expired.ok);
  EXPECT_EQ(expired.why.rfind("certificate 'C=CH, O=Corridor Test, CN=gw-p256.example' expired on 20", 0), 0u)
      << expired.why;
  EXPECT_NE(expired.why.find(" UTC"), std::string::npos) << expired.why;
  const auto early = verify_peer(store, cred.cert_payloads(), claimed, *auth, o, now_ - 10 * kDay, {});
  EXPECT_FALSE(early.ok);
  EXPECT_NE(early.why.find("is not valid before"), std::string::npos) << early.why;
}

TEST_F(PubkeyAuth, IdentityMustBeCertified) {
  const auto cred = credential("rsa");
  const auto store = trust({"root"});
  std::string why;
  // Accepted: the SAN dNSName (any case), iPAddress, rfc822Name, the
  // subject DN however it is spaced, key ids.
  for (const auto* text : {"gw-rsa.example", "GW-RSA.Example", "192.0.2.1", "vpn@example.com",
                           "C=CH, O=Corridor Test, CN=gw-rsa.example", "C=CH,O=Corridor Test,CN=gw-rsa.example",
                           "C=ch, O=corridor  TEST, CN=GW-RSA.example"}) {
    SCOPED_TRACE(text);
    const auto claimed = id(text);
    EXPECT_TRUE(cred.certifies(claimed));
    const Bytes o = octets(claimed);
    const auto auth = cred.sign(o, std::vector<std::uint16_t>{2}, {}, &why);
    ASSERT_TRUE(auth.has_value()) << why;
    const auto r = verify_peer(store, cred.cert_payloads(), claimed, *auth, o, now_, {});
    EXPECT_TRUE(r.ok) << r.why;
  }
  // The SHA-1 of the SubjectPublicKeyInfo as a key id.
  EXPECT_TRUE(cred.certifies(config::Identity{config::IdType::key_id, to_hex(sha1_of_public_key(keys()["rsa"].get()))}));

  // Refused: names the certificate does not hold, the CN as an FQDN, %any.
  for (const auto* text : {"gw-p256.example", "192.0.2.2", "other@example.com", "C=CH, O=Corridor Test, CN=other",
                           "@#00112233", "%any"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(cred.certifies(id(text)));
  }
  const auto claimed = id("gw.example");
  const Bytes o = octets(claimed);
  const auto auth = cred.sign(o, std::vector<std::uint16_t>{2}, {}, &why);
  ASSERT_TRUE(auth.has_value()) << why;
  const auto r = verify_peer(store, cred.cert_payloads(), claimed, *auth, o, now_, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.why,
            "peer identity 'gw.example' not in certificate 'C=CH, O=Corridor Test, CN=gw-rsa.example' "
            "(subjectAltName: DNS:gw-rsa.example, IP:192.0.2.1, email:vpn@example.com)");
  const auto dn = id("C=CH, O=Corridor Test, CN=gw-p256.example");
  const auto r2 = verify_peer(store, cred.cert_payloads(), dn, *auth, o, now_, {});
  EXPECT_FALSE(r2.ok);
  EXPECT_NE(r2.why.find("is not the subject of certificate"), std::string::npos) << r2.why;

  EXPECT_EQ(cred.subject(), (config::Identity{config::IdType::der_asn1_dn, "C=CH, O=Corridor Test, CN=gw-rsa.example"}));
  EXPECT_TRUE(credential("p256").certifies(id("2001:db8::1")));
}

TEST_F(PubkeyAuth, IntermediateChains) {
  const auto cred = credential("p384");  // issued by the intermediate, sent along
  const auto payloads = cred.cert_payloads();
  ASSERT_EQ(payloads.size(), 2u);
  for (const auto& p : payloads) EXPECT_EQ(p.encoding, iana::CertEncoding::x509_signature);
  const auto claimed = id("gw-p384.example");
  const Bytes o = octets(claimed);
  std::string why;
  const auto auth = cred.sign(o, std::vector<std::uint16_t>{2, 3, 4}, {}, &why);
  ASSERT_TRUE(auth.has_value()) << why;

  EXPECT_TRUE(verify_peer(trust({"root"}), payloads, claimed, *auth, o, now_, {}).ok);
  // The intermediate itself as the configured anchor.
  EXPECT_TRUE(verify_peer(trust({"inter"}), std::span(payloads).first(1), claimed, *auth, o, now_, {}).ok);
  // Without the intermediate the root cannot be reached.
  const auto r = verify_peer(trust({"root"}), std::span(payloads).first(1), claimed, *auth, o, now_, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.why,
            "no trusted CA for 'C=CH, O=Corridor Test, CN=gw-p384.example' (issuer 'C=CH, O=Corridor Test, "
            "CN=Intermediate CA')");
  // A CERT payload of another encoding after the first is ignored.
  auto with_crl = payloads;
  with_crl.insert(with_crl.begin() + 1, corridor::ike::Certificate{iana::CertEncoding::crl, Bytes{1, 2, 3}});
  EXPECT_TRUE(verify_peer(trust({"root"}), with_crl, claimed, *auth, o, now_, {}).ok);
}

TEST_F(PubkeyAuth, BasicConstraintsAndKeyUsageAreRespected) {
  std::string why;
  const auto store = trust({"root"});
  {
    // Issued by not-a-ca.example: keyCertSign, but basicConstraints CA:FALSE.
    const auto cred = LocalCredential::load({path("bogus.pem"), path("notca.pem")}, path("bogus.key"), {}, &why);
    ASSERT_TRUE(cred.has_value()) << why;
    const auto claimed = id("bogus-leaf.example");
    const Bytes o = octets(claimed);
    const auto auth = cred->sign(o, std::vector<std::uint16_t>{2}, {}, &why);
    ASSERT_TRUE(auth.has_value()) << why;
    const auto r = verify_peer(store, cred->cert_payloads(), claimed, *auth, o, now_, {});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.why,
              "certificate 'C=CH, O=Corridor Test, CN=not-a-ca.example' in the chain of 'C=CH, O=Corridor Test, "
              "CN=bogus-leaf.example' is not a CA (basicConstraints or keyUsage) but issued a certificate");
  }
  {
    const auto cred = credential("kuenc");
    const auto claimed = id("ku-encipher.example");
    const Bytes o = octets(claimed);
    const auto auth = cred.sign(o, std::vector<std::uint16_t>{2}, {}, &why);
    ASSERT_TRUE(auth.has_value()) << why;
    const auto r = verify_peer(store, cred.cert_payloads(), claimed, *auth, o, now_, {});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.why,
              "certificate 'C=CH, O=Corridor Test, CN=ku-encipher.example' keyUsage allows neither digitalSignature "
              "nor nonRepudiation");
  }
}

TEST_F(PubkeyAuth, CertreqHoldsSha1OfEachCaPublicKey) {
  const auto one = trust({"root"});
  EXPECT_EQ(to_hex(one.certreq_authorities()), to_hex(sha1_of_public_key(keys()["root"].get())));
  // In file order, each key once.
  const auto two = trust({"root", "inter", "root"});
  Bytes expected = sha1_of_public_key(keys()["root"].get());
  const Bytes inter = sha1_of_public_key(keys()["inter"].get());
  expected.insert(expected.end(), inter.begin(), inter.end());
  EXPECT_EQ(to_hex(two.certreq_authorities()), to_hex(expected));
}

TEST_F(PubkeyAuth, AuthConstraintsAndMismatches) {
  const auto store = trust({"root"});
  std::string why;
  const auto rsa = credential("rsa");
  const auto rsa_id = id("gw-rsa.example");
  const Bytes o = octets(rsa_id);
  const auto v15 = rsa.sign(o, std::vector<std::uint16_t>{2}, {}, &why);
  ASSERT_TRUE(v15.has_value()) << why;
  VerifyOptions only_ecdsa;
  only_ecdsa.accept = config::AuthMethod::ecdsa;
  EXPECT_EQ(verify_peer(store, rsa.cert_payloads(), rsa_id, *v15, o, now_, only_ecdsa).why,
            "remote auth is ecdsa but the peer signed with RSA");
  VerifyOptions only_pss;
  only_pss.accept = config::AuthMethod::rsa_pss;
  EXPECT_FALSE(verify_peer(store, rsa.cert_payloads(), rsa_id, *v15, o, now_, only_pss).ok);
  const auto pss = rsa.sign(o, std::vector<std::uint16_t>{2}, SignOptions{true, false}, &why);
  ASSERT_TRUE(pss.has_value()) << why;
  EXPECT_TRUE(verify_peer(store, rsa.cert_payloads(), rsa_id, *pss, o, now_, only_pss).ok);

  // A method-9 AUTH against a P-384 certificate.
  const auto p256 = credential("p256");
  const auto m9 = p256.sign(o, {}, {}, &why);
  ASSERT_TRUE(m9.has_value()) << why;
  ASSERT_EQ(m9->method, WireMethod::ecdsa_sha256_p256);
  const auto p384 = credential("p384");
  const auto r = verify_peer(store, p384.cert_payloads(), id("gw-p384.example"), *m9, o, now_, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.why,
            "AUTH method 9 needs an ECDSA P-256 key, certificate 'C=CH, O=Corridor Test, CN=gw-p384.example' has an "
            "ECDSA P-384 key");

  // Malformed or non-signature AUTH payloads.
  const auto payloads = rsa.cert_payloads();
  corridor::ike::Authentication bad{WireMethod::digital_signature, Bytes{40, 0x30, 0x00}};
  EXPECT_NE(verify_peer(store, payloads, rsa_id, bad, o, now_, {}).why.find("malformed"), std::string::npos);
  bad.data = {2, 0x05, 0x00, 0x01};
  EXPECT_NE(verify_peer(store, payloads, rsa_id, bad, o, now_, {}).why.find("not valid DER"), std::string::npos);
  corridor::ike::Authentication psk{WireMethod::shared_key_message_integrity_code, Bytes(32, 1)};
  EXPECT_NE(verify_peer(store, payloads, rsa_id, psk, o, now_, {}).why.find("pre-shared key"), std::string::npos);
  EXPECT_EQ(verify_peer(store, {}, rsa_id, *v15, o, now_, {}).why, "peer sent no certificate (CERT payload)");
  std::vector<corridor::ike::Certificate> junk{{iana::CertEncoding::x509_signature, Bytes{0x30, 0x03, 1, 2, 3}}};
  EXPECT_EQ(verify_peer(store, junk, rsa_id, *v15, o, now_, {}).why, "first CERT payload is not a DER X.509 certificate");

  // rsa/pss asked of an EC key.
  EXPECT_FALSE(p256.sign(o, std::vector<std::uint16_t>{2}, SignOptions{true, false}, &why).has_value());
  EXPECT_NE(why.find("rsa/pss needs an RSA key"), std::string::npos) << why;
}

TEST_F(PubkeyAuth, LoadingReportsFileAndReason) {
  std::string why;
  EXPECT_FALSE(LocalCredential::load({path("missing.pem")}, path("rsa.key"), {}, &why));
  EXPECT_NE(why.find(path("missing.pem")), std::string::npos) << why;
  EXPECT_NE(why.find("No such file"), std::string::npos) << why;

  EXPECT_FALSE(LocalCredential::load({path("rsa.key")}, path("rsa.key"), {}, &why));
  EXPECT_NE(why.find("holds no PEM or DER X.509 certificate"), std::string::npos) << why;

  EXPECT_FALSE(LocalCredential::load({path("rsa.pem")}, path("p521.key"), {}, &why));
  EXPECT_EQ(why, "private key file '" + path("p521.key") +
                     "' does not belong to certificate 'C=CH, O=Corridor Test, CN=gw-rsa.example' ('" + path("rsa.pem") +
                     "')");

  EXPECT_FALSE(LocalCredential::load({path("p256.pem")}, path("p256.key"), {}, &why));
  EXPECT_NE(why.find("is encrypted and no passphrase is configured"), std::string::npos) << why;
  EXPECT_FALSE(LocalCredential::load({path("p256.pem")}, path("p256.key"), secret("wrong"), &why));
  EXPECT_NE(why.find("wrong passphrase"), std::string::npos) << why;

  EXPECT_FALSE(TrustStore::load({path("nope.pem")}, &why));
  EXPECT_NE(why.find("CA certificate file '" + path("nope.pem") + "'"), std::string::npos) << why;

  // DER key (p384.der) loads; so does a DER certificate.
  {
    std::FILE* f = std::fopen(path("p384.crt.der").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    i2d_X509_fp(f, certs()["p384"].get());
    std::fclose(f);
  }
  const auto der = LocalCredential::load({path("p384.crt.der")}, path("p384.der"), {}, &why);
  ASSERT_TRUE(der.has_value()) << why;
  EXPECT_EQ(der->key_description(), "ECDSA P-384");
  EXPECT_EQ(credential("rsa").key_description(), "RSA-3072");
}

TEST_F(PubkeyAuth, KeyIsFoundAmongTheSecrets) {
  auto key_secret = [](std::string name, config::SecretType type, std::string file, std::string pass = "") {
    config::Secret s;
    s.name = std::move(name);
    s.type = type;
    s.file = std::move(file);
    s.secret = secret(pass);
    return s;
  };
  std::vector<config::Secret> secrets;
  secrets.push_back(key_secret("ike-psk", config::SecretType::ike, ""));
  secrets.push_back(key_secret("rsa-wrong-type", config::SecretType::rsa, path("p521.key")));
  secrets.push_back(key_secret("private-other", config::SecretType::private_key, path("kuenc.key")));
  secrets.push_back(key_secret("ecdsa-gw", config::SecretType::ecdsa, path("p256.key"), "s3cret pass"));
  std::string why;
  const auto cred = LocalCredential::load({path("p256.pem")}, secrets, &why);
  ASSERT_TRUE(cred.has_value()) << why;
  EXPECT_EQ(cred->key_description(), "ECDSA P-256");

  const auto none = LocalCredential::load({path("rsa.pem")}, secrets, &why);
  EXPECT_FALSE(none.has_value());
  EXPECT_NE(why.find("no private key among the secrets belongs to certificate 'C=CH, O=Corridor Test, CN=gw-rsa.example'"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("secret 'rsa-wrong-type' is rsa but holds an ECDSA P-521 key"), std::string::npos) << why;
}

// An implementation independent of Corridor's: parses the RFC 7427 AUTH data
// itself and verifies with python3-cryptography. Exit 77: not available.
// IKEv1 signatures (RFC 2409 §5.1): each key signs HASH_I as it is and the
// signature verifies with the certificate; a changed digest, another key, a
// method that does not fit the key, or a `remote.auth` that excludes it fail
// with a reason.
TEST_F(PubkeyAuth, Ikev1DigestSignaturesRoundTrip) {
  const auto roots = trust({"root"});
  struct Case {
    std::string cred, claimed;
    DigestSignature scheme;
    std::size_t size;  // 0: the RSA modulus size
  };
  for (const auto& c : std::vector<Case>{{"rsa", "gw-rsa.example", DigestSignature::rsa, 384},
                                         {"p256", "gw-p256.example", DigestSignature::ecdsa_p256, 64},
                                         {"p384", "gw-p384.example", DigestSignature::ecdsa_p384, 96},
                                         {"p521", "gw-p521.example", DigestSignature::ecdsa_p521, 132}}) {
    SCOPED_TRACE(c.cred);
    const auto cred = credential(c.cred);
    ASSERT_EQ(cred.digest_signature(), c.scheme);
    const Bytes digest(32, 0x3c);
    std::string why;
    const auto sig = cred.sign_digest(digest, &why);
    ASSERT_TRUE(sig.has_value()) << why;
    EXPECT_EQ(sig->size(), c.size);
    const auto wire = cred.cert_payloads();
    const auto peer = validate_peer_certificate(roots, wire, id(c.claimed), now_);
    ASSERT_TRUE(peer.ok) << peer.why;
    EXPECT_TRUE(verify_digest_signature(peer, c.scheme, digest, *sig, config::AuthMethod::pubkey, &why)) << why;

    Bytes changed = digest;
    changed[5] ^= 0x80;
    EXPECT_FALSE(verify_digest_signature(peer, c.scheme, changed, *sig, config::AuthMethod::pubkey, &why));
    EXPECT_NE(why.find("signature does not verify"), std::string::npos) << why;

    const DigestSignature other = c.scheme == DigestSignature::rsa ? DigestSignature::ecdsa_p256 : DigestSignature::rsa;
    EXPECT_FALSE(verify_digest_signature(peer, other, digest, *sig, config::AuthMethod::pubkey, &why));
    EXPECT_NE(why.find("the Phase 1 method is"), std::string::npos) << why;

    const auto exclude = c.scheme == DigestSignature::rsa ? config::AuthMethod::ecdsa : config::AuthMethod::rsa;
    EXPECT_FALSE(verify_digest_signature(peer, c.scheme, digest, *sig, exclude, &why));
    EXPECT_NE(why.find("remote auth is"), std::string::npos) << why;
    EXPECT_FALSE(verify_digest_signature(peer, c.scheme, digest, *sig, config::AuthMethod::rsa_pss, &why));
  }
  // A signature by another key of the same kind.
  const auto p256 = credential("p256");
  const Bytes digest(32, 0x3c);
  std::string why;
  const auto sig = credential("kuenc").sign_digest(digest, &why);
  ASSERT_TRUE(sig.has_value()) << why;
  const auto peer = validate_peer_certificate(roots, p256.cert_payloads(), id("gw-p256.example"), now_);
  ASSERT_TRUE(peer.ok) << peer.why;
  EXPECT_FALSE(verify_digest_signature(peer, DigestSignature::ecdsa_p256, digest, *sig, config::AuthMethod::pubkey, &why));
  // A truncated ECDSA signature is refused by its size.
  const auto own = p256.sign_digest(digest, &why);
  ASSERT_TRUE(own.has_value()) << why;
  const Bytes truncated(own->begin(), own->end() - 1);
  EXPECT_FALSE(verify_digest_signature(peer, DigestSignature::ecdsa_p256, digest, truncated, config::AuthMethod::pubkey, &why));
  EXPECT_NE(why.find("63 octets, not 64"), std::string::npos) << why;
}

// The IKEv1 CERTREQ names each CA by its DER subject (RFC 4945 §3.2.7.1).
TEST_F(PubkeyAuth, Ikev1CertreqNamesEachCaSubject) {
  const auto names = trust({"roots", "root"}).certreq_names();
  ASSERT_EQ(names.size(), 2u);  // root twice counts once
  for (std::size_t i = 0; i < names.size(); ++i) {
    const unsigned char* p = names[i].data();
    const std::unique_ptr<X509_NAME, decltype(&X509_NAME_free)> name(
        d2i_X509_NAME(nullptr, &p, static_cast<long>(names[i].size())), X509_NAME_free);
    ASSERT_NE(name, nullptr);
    EXPECT_EQ(X509_NAME_cmp(name.get(), X509_get_subject_name(certs()[i == 0 ? "root" : "other"].get())), 0);
  }
}

constexpr const char* kCrossCheck = R"PY(
import sys, hashlib
try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
except Exception:
    sys.exit(77)

AIDS = {
    '300d06092a864886f70d01010b0500': ('pkcs1', hashes.SHA256),
    '300d06092a864886f70d01010c0500': ('pkcs1', hashes.SHA384),
    '300d06092a864886f70d01010d0500': ('pkcs1', hashes.SHA512),
    '300a06082a8648ce3d040302': ('ecdsa', hashes.SHA256),
    '300a06082a8648ce3d040303': ('ecdsa', hashes.SHA384),
    '300a06082a8648ce3d040304': ('ecdsa', hashes.SHA512),
    '304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120': ('pss', hashes.SHA256),
}
CLASSIC = {9: hashes.SHA256, 10: hashes.SHA384, 11: hashes.SHA512}

def verify(cert, octets, method, auth):
    key = cert.public_key()
    if method == 14:
        n = auth[0]
        kind, h = AIDS[auth[1:1 + n].hex()]
        sig = auth[1 + n:]
        if kind == 'pkcs1':
            key.verify(sig, octets, padding.PKCS1v15(), h())
        elif kind == 'pss':
            key.verify(sig, octets, padding.PSS(mgf=padding.MGF1(h()), salt_length=h.digest_size), h())
        else:
            key.verify(sig, octets, ec.ECDSA(h()))
    elif method in CLASSIC:
        half = len(auth) // 2
        der = utils.encode_dss_signature(int.from_bytes(auth[:half], 'big'), int.from_bytes(auth[half:], 'big'))
        key.verify(der, octets, ec.ECDSA(CLASSIC[method]()))
    elif method == 1:
        key.verify(auth, octets, padding.PKCS1v15(), hashes.SHA1())
    else:
        raise ValueError('method %d' % method)

def verify_v1(cert, digest, scheme, sig):
    # IKEv1 (RFC 2409 5.1): HASH_I/HASH_R signed as it is, no hash applied.
    key = cert.public_key()
    if scheme == 'rsa':
        # PKCS#1 v1.5 block type 1 around the bare hash, no DigestInfo.
        if key.recover_data_from_signature(sig, padding.PKCS1v15(), None) != digest:
            raise InvalidSignature()
    else:
        half = len(sig) // 2
        der = utils.encode_dss_signature(int.from_bytes(sig[:half], 'big'), int.from_bytes(sig[half:], 'big'))
        h = {32: hashes.SHA256, 48: hashes.SHA384, 64: hashes.SHA512}[len(digest)]
        key.verify(der, digest, ec.ECDSA(utils.Prehashed(h())))

failures = 0
for line in open(sys.argv[1]):
    f = line.split()
    cert = x509.load_pem_x509_certificate(open(f[1], 'rb').read())
    if f[0] == 'v1sig':
        digest, sig, expect = open(f[2], 'rb').read(), open(f[4], 'rb').read(), f[5]
        try:
            verify_v1(cert, digest, f[3], sig)
            ok = True
        except (InvalidSignature, ValueError):
            ok = False
        if ok != (expect == 'good'):
            print('%s: expected %s' % (f[4], expect)); failures += 1
        continue
    if f[0] == 'certreq':
        spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        got = hashlib.sha1(spki).hexdigest()
        if got != f[2]:
            print('certreq mismatch for %s: %s != %s' % (f[1], got, f[2])); failures += 1
        continue
    octets, auth, expect = open(f[2], 'rb').read(), open(f[4], 'rb').read(), f[5]
    try:
        verify(cert, octets, int(f[3]), auth)
        ok = True
    except InvalidSignature:
        ok = False
    if ok != (expect == 'good'):
        print('%s: expected %s' % (f[4], expect)); failures += 1
print('checked')
sys.exit(1 if failures else 0)
)PY";

TEST_F(PubkeyAuth, IndependentImplementationAgrees) {
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  write_file(path("crosscheck.py"), kCrossCheck);
  std::string manifest;
  int n = 0;
  auto add = [&](const std::string& cred_name, const std::string& claimed, std::vector<std::uint16_t> hashes,
                 SignOptions options) {
    const auto cred = credential(cred_name);
    Bytes o = octets(id(claimed));
    std::string why;
    const auto auth = cred.sign(o, hashes, options, &why);
    ASSERT_TRUE(auth.has_value()) << why;
    const std::string base = path("x" + std::to_string(n++));
    write_file(base + ".octets", std::string(o.begin(), o.end()));
    write_file(base + ".auth", std::string(auth->data.begin(), auth->data.end()));
    const std::string method = std::to_string(static_cast<int>(auth->method));
    manifest += "auth " + path(cred_name + ".pem") + " " + base + ".octets " + method + " " + base + ".auth good\n";
    o[0] ^= 1;  // the checker must also be able to say no
    write_file(base + ".bad", std::string(o.begin(), o.end()));
    manifest += "auth " + path(cred_name + ".pem") + " " + base + ".bad " + method + " " + base + ".auth bad\n";
  };
  add("rsa", "gw-rsa.example", {2, 3, 4}, {});
  add("rsa", "gw-rsa.example", {2, 3, 4}, {true, false});
  add("rsa", "gw-rsa.example", {}, {false, true});
  add("p256", "gw-p256.example", {2, 3, 4}, {});
  add("p384", "gw-p384.example", {2, 3, 4}, {});
  add("p256", "gw-p256.example", {}, {});
  add("p521", "gw-p521.example", {}, {});
  manifest += "certreq " + path("root.pem") + " " + to_hex(trust({"root"}).certreq_authorities()) + "\n";
  // IKEv1 SIG payloads over a HASH_I of each PRF length.
  for (const auto& [cred_name, scheme, digest_len] : std::vector<std::tuple<std::string, std::string, std::size_t>>{
           {"rsa", "rsa", 32}, {"rsa", "rsa", 64}, {"p256", "ecdsa", 32}, {"p384", "ecdsa", 48}, {"p521", "ecdsa", 64}}) {
    const auto cred = credential(cred_name);
    Bytes digest(digest_len);
    for (std::size_t i = 0; i < digest.size(); ++i) digest[i] = static_cast<std::uint8_t>(i * 7 + n);
    std::string why;
    const auto sig = cred.sign_digest(digest, &why);
    ASSERT_TRUE(sig.has_value()) << why;
    const std::string base = path("x" + std::to_string(n++));
    write_file(base + ".digest", std::string(digest.begin(), digest.end()));
    write_file(base + ".sig", std::string(sig->begin(), sig->end()));
    manifest += "v1sig " + path(cred_name + ".pem") + " " + base + ".digest " + scheme + " " + base + ".sig good\n";
    digest.back() ^= 1;
    write_file(base + ".bad", std::string(digest.begin(), digest.end()));
    manifest += "v1sig " + path(cred_name + ".pem") + " " + base + ".bad " + scheme + " " + base + ".sig bad\n";
  }
  write_file(path("manifest"), manifest);

  const std::string cmd =
      "/usr/bin/python3 " + path("crosscheck.py") + " " + path("manifest") + " > " + path("crosscheck.out") + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(path("crosscheck.out"));
  const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status)) << output;
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "python3-cryptography is not installed";
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  EXPECT_NE(output.find("checked"), std::string::npos) << output;
}

}  // namespace
