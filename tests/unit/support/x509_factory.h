// X.509 certificates made at test time with OpenSSL (header-only, for the
// tests that need a PKI: certificate authentication, the certificate
// store). Every certificate is v3 with basicConstraints, keyUsage and
// subjectKeyIdentifier; SHA-256 signatures.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace corridor::test_support {

inline constexpr long kDay = 24 * 3600;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

struct CertSpec {
  std::vector<std::pair<std::string, std::string>> subject;
  EVP_PKEY* key = nullptr;
  X509* issuer = nullptr;  // nullptr: self-signed
  EVP_PKEY* issuer_key = nullptr;
  bool ca = false;
  int pathlen = -1;
  std::string key_usage = "critical,digitalSignature";
  std::string san{};
  long not_before = -kDay;  // seconds relative to the suite's base time
  long not_after = 365 * kDay;
  std::string crl_distribution_point{};  // e.g. "URI:http://ca.example/root.crl"; empty: none
};

inline void add_ext(X509* x, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  ASSERT_NE(ext, nullptr) << value;
  ASSERT_EQ(X509_add_ext(x, ext, -1), 1);
  X509_EXTENSION_free(ext);
}

inline Cert make_cert(const CertSpec& s, std::time_t base) {
  static long serial = 1;
  Cert x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial++);
  X509_time_adj_ex(X509_getm_notBefore(x.get()), 0, s.not_before, &base);
  X509_time_adj_ex(X509_getm_notAfter(x.get()), 0, s.not_after, &base);
  X509_NAME* name = X509_get_subject_name(x.get());
  for (const auto& [attr, value] : s.subject) {
    X509_NAME_add_entry_by_txt(name, attr.c_str(), MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.c_str()),
                               -1, -1, 0);
  }
  X509_set_issuer_name(x.get(), s.issuer ? X509_get_subject_name(s.issuer) : name);
  X509_set_pubkey(x.get(), s.key);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, s.issuer ? s.issuer : x.get(), x.get(), nullptr, nullptr, 0);
  std::string bc = s.ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (s.ca && s.pathlen >= 0) bc += ",pathlen:" + std::to_string(s.pathlen);
  add_ext(x.get(), &ctx, NID_basic_constraints, bc);
  if (!s.key_usage.empty()) add_ext(x.get(), &ctx, NID_key_usage, s.key_usage);
  add_ext(x.get(), &ctx, NID_subject_key_identifier, "hash");
  if (s.issuer) add_ext(x.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  if (!s.san.empty()) add_ext(x.get(), &ctx, NID_subject_alt_name, s.san);
  if (!s.crl_distribution_point.empty()) add_ext(x.get(), &ctx, NID_crl_distribution_points, s.crl_distribution_point);
  EXPECT_GT(X509_sign(x.get(), s.issuer_key ? s.issuer_key : s.key, EVP_sha256()), 0);
  return x;
}

// The certificate as PEM text.
inline std::string pem_of(X509* x) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

struct CrlFree {
  void operator()(X509_CRL* c) const { X509_CRL_free(c); }
};
using Crl = std::unique_ptr<X509_CRL, CrlFree>;

// A v2 CRL of `issuer` signed with `key` (SHA-256), listing `revoked`
// (serial numbers); thisUpdate/nextUpdate in seconds relative to `base`.
inline Crl make_crl(X509* issuer, EVP_PKEY* key, const std::vector<const X509*>& revoked, std::time_t base,
                    long this_update = -3600, long next_update = 7 * kDay) {
  Crl crl(X509_CRL_new());
  X509_CRL_set_version(crl.get(), 1);
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer));
  ASN1_TIME* t = ASN1_TIME_adj(nullptr, base, 0, this_update);
  X509_CRL_set1_lastUpdate(crl.get(), t);
  ASN1_TIME_adj(t, base, 0, next_update);
  X509_CRL_set1_nextUpdate(crl.get(), t);
  for (const X509* cert : revoked) {
    X509_REVOKED* r = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(r, const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(cert)));
    ASN1_TIME_adj(t, base, 0, -7200);
    X509_REVOKED_set_revocationDate(r, t);
    X509_CRL_add0_revoked(crl.get(), r);
  }
  ASN1_TIME_free(t);
  X509_CRL_sort(crl.get());
  EXPECT_GT(X509_CRL_sign(crl.get(), key, EVP_sha256()), 0);
  return crl;
}

inline std::string pem_of(X509_CRL* c) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_CRL(bio, c);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

inline std::string der_of(X509_CRL* c) {
  unsigned char* der = nullptr;
  const int n = i2d_X509_CRL(c, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n > 0 ? n : 0));
  OPENSSL_free(der);
  return out;
}

}  // namespace corridor::test_support
