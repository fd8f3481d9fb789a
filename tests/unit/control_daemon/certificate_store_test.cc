// CertificateStore: certificates made here with OpenSSL are stored in
// x509/ and x509ca/, described field by field (against what the test put
// in them), refused when they are no certificate, a private key, a chain
// or (as an authority) no CA, and kept while a connection uses them.
#include "control/daemon/certificate_store.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/unit/support/x509_factory.h"

namespace corridor::control {
namespace {

using namespace corridor::test_support;  // NOLINT: Pkey, Cert, make_cert, pem_of
namespace stdfs = std::filesystem;

std::string key_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string utc(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm));
}

unsigned mode_of(const stdfs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

class CertificateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = stdfs::temp_directory_path() / ("corridor-cert-store-" + std::to_string(::getpid()));
    stdfs::remove_all(dir_);
    stdfs::create_directories(dir_);
    ca_key_.reset(EVP_RSA_gen(2048));
    gw_key_.reset(EVP_EC_gen("P-256"));
    ca_ = make_cert({{{"O", "Corridor Test"}, {"CN", "Test Root CA"}}, ca_key_.get(), nullptr, nullptr, true, -1,
                     "critical,keyCertSign,cRLSign", "", -kDay, 3650 * kDay},
                    now_);
    CertSpec gw{{{"O", "Corridor Test"}, {"CN", "gw-a.example"}}, gw_key_.get(), ca_.get(), ca_key_.get()};
    gw.san = "DNS:gw-a.example,IP:192.0.2.1,IP:2001:db8::1,email:ops@example.net";
    gw_ = make_cert(gw, now_);
  }
  void TearDown() override { stdfs::remove_all(dir_); }

  // A config whose connection "gw" names `cert` as its own and `ca` as
  // its trust anchor (absolute paths, as the loader leaves them).
  config::Config config_naming(const std::string& cert, const std::string& ca) const {
    config::Config c;
    config::ConnectionConfig conn;
    conn.name = "gw";
    if (!cert.empty()) conn.local.certs.push_back(cert);
    if (!ca.empty()) conn.remote.cacerts.push_back(ca);
    c.connections.push_back(conn);
    return c;
  }

  std::string read(const stdfs::path& p) const {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  stdfs::path dir_;
  std::time_t now_ = std::time(nullptr);
  Pkey ca_key_, gw_key_;
  Cert ca_, gw_;
  config::Config empty_;
};

TEST_F(CertificateStoreTest, StoresAndDescribesACertificate) {
  CertificateStore store(dir_.string(), CertificateRole::end_entity);
  EXPECT_EQ(store.directory(), (dir_ / "x509").string());
  EXPECT_EQ(store.config_prefix(), "x509/");
  EXPECT_TRUE(store.list(empty_).empty()) << "no directory yet: nothing listed, no error";

  // Text around the PEM block is not stored: the file is the certificate.
  const auto put = store.put("gw-a", "issued by the test CA\n" + pem_of(gw_.get()), empty_);
  ASSERT_EQ(put.error, CertificateStore::Error::none) << put.detail;
  EXPECT_TRUE(put.created);
  const auto file = dir_ / "x509" / "gw-a.pem";
  EXPECT_EQ(read(file), pem_of(gw_.get()));
  EXPECT_EQ(mode_of(file), 0644u);
  EXPECT_EQ(mode_of(dir_ / "x509"), 0755u);

  const auto& i = put.info;
  EXPECT_EQ(i.name, "gw-a");
  EXPECT_EQ(i.path, file.string());
  EXPECT_TRUE(i.managed);
  EXPECT_TRUE(i.error.empty());
  EXPECT_EQ(i.subject, "CN=gw-a.example,O=Corridor Test");  // RFC 2253: most specific first
  EXPECT_EQ(i.issuer, "CN=Test Root CA,O=Corridor Test");
  EXPECT_EQ(i.not_before, utc(now_ - kDay));
  EXPECT_EQ(i.not_after, utc(now_ + 365 * kDay));
  EXPECT_TRUE(i.valid_now);
  EXPECT_EQ(i.key, "EC P-256");
  EXPECT_FALSE(i.ca);
  EXPECT_FALSE(i.self_signed);
  EXPECT_EQ(i.subject_alt_names, (std::vector<std::string>{"DNS:gw-a.example", "IP:192.0.2.1", "IP:2001:db8::1",
                                                            "email:ops@example.net"}));
  const long serial = ASN1_INTEGER_get(X509_get0_serialNumber(gw_.get()));
  char serial_hex[8];
  std::snprintf(serial_hex, sizeof serial_hex, "%02lX", serial);
  EXPECT_EQ(i.serial, serial_hex);
  // 32 bytes of SHA-256 as AA:BB:..., and over the DER, as `openssl x509
  // -fingerprint -sha256` prints it.
  unsigned char md[32];
  unsigned int n = 0;
  ASSERT_EQ(X509_digest(gw_.get(), EVP_sha256(), md, &n), 1);
  char first[3];
  std::snprintf(first, sizeof first, "%02X", md[0]);
  EXPECT_EQ(i.fingerprint_sha256.size(), 32u * 3 - 1);
  EXPECT_EQ(i.fingerprint_sha256.substr(0, 2), first);

  const auto listed = store.list(empty_);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].fingerprint_sha256, i.fingerprint_sha256);
  ASSERT_TRUE(store.find("gw-a", empty_));
  EXPECT_FALSE(store.find("gw-b", empty_));
  EXPECT_FALSE(store.find("../x509/gw-a", empty_)) << "a name is never a path";

  const auto again = store.put("gw-a", pem_of(gw_.get()), empty_);
  ASSERT_EQ(again.error, CertificateStore::Error::none);
  EXPECT_FALSE(again.created) << "the same name again replaces the file";
}

TEST_F(CertificateStoreTest, RefusesWhatIsNoSingleCertificate) {
  CertificateStore store(dir_.string(), CertificateRole::end_entity);
  const std::string pem = pem_of(gw_.get());
  struct Case {
    std::string name, pem, why;
  };
  const Case cases[] = {
      {"", pem, "name"},
      {".hidden", pem, "name"},
      {"a/b", pem, "name"},
      {"../escape", pem, "name"},
      {std::string(65, 'x'), pem, "name"},
      {"gw", "", "no PEM certificate"},
      {"gw", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", "no PEM certificate"},
      {"gw", pem + pem_of(ca_.get()), "more than one certificate"},
      {"gw", pem + key_pem(gw_key_.get()), "private key"},
      {"gw", key_pem(gw_key_.get()), "private key"},
  };
  for (const auto& c : cases) {
    const auto out = store.put(c.name, c.pem, empty_);
    EXPECT_EQ(out.error, CertificateStore::Error::invalid) << c.name << " / " << c.why;
    EXPECT_NE(out.detail.find(c.why), std::string::npos) << out.detail;
  }
  EXPECT_FALSE(stdfs::exists(dir_ / "x509")) << "nothing refused is written, not even the directory";
  EXPECT_TRUE(valid_certificate_name("gw-a.example_2"));
}

TEST_F(CertificateStoreTest, AuthoritiesMustBeCaCertificates) {
  CertificateStore store(dir_.string(), CertificateRole::authority);
  EXPECT_EQ(store.config_prefix(), "x509ca/");
  const auto refused = store.put("gw", pem_of(gw_.get()), empty_);
  EXPECT_EQ(refused.error, CertificateStore::Error::invalid);
  EXPECT_NE(refused.detail.find("no CA certificate"), std::string::npos) << refused.detail;

  const auto put = store.put("root", pem_of(ca_.get()), empty_);
  ASSERT_EQ(put.error, CertificateStore::Error::none) << put.detail;
  EXPECT_EQ(put.info.path, (dir_ / "x509ca" / "root.pem").string());
  EXPECT_TRUE(put.info.ca);
  EXPECT_TRUE(put.info.self_signed);
  EXPECT_EQ(put.info.key, "RSA 2048");
  EXPECT_EQ(put.info.subject, put.info.issuer);
}

TEST_F(CertificateStoreTest, ACertificateInUseStays) {
  CertificateStore certs(dir_.string(), CertificateRole::end_entity);
  CertificateStore cas(dir_.string(), CertificateRole::authority);
  ASSERT_EQ(certs.put("gw-a", pem_of(gw_.get()), empty_).error, CertificateStore::Error::none);
  ASSERT_EQ(cas.put("root", pem_of(ca_.get()), empty_).error, CertificateStore::Error::none);
  // The loader makes paths absolute but not necessarily normal.
  const auto running = config_naming((dir_ / "." / "x509" / "gw-a.pem").string(), (dir_ / "x509ca/root.pem").string());

  const auto listed = certs.list(running);
  ASSERT_EQ(listed.size(), 1u) << "a stored file the config names is listed once";
  EXPECT_EQ(listed[0].used_by, std::vector<std::string>{"gw"});
  EXPECT_EQ(cas.find("root", running)->used_by, std::vector<std::string>{"gw"});

  const auto refused = certs.remove("gw-a", running);
  EXPECT_EQ(refused.error, CertificateStore::Error::in_use);
  EXPECT_NE(refused.detail.find("gw"), std::string::npos);
  EXPECT_TRUE(stdfs::exists(dir_ / "x509" / "gw-a.pem"));
  EXPECT_EQ(cas.remove("root", running).error, CertificateStore::Error::in_use);

  const auto removed = certs.remove("gw-a", empty_);
  ASSERT_EQ(removed.error, CertificateStore::Error::none) << removed.detail;
  EXPECT_EQ(removed.info.subject, "CN=gw-a.example,O=Corridor Test");
  EXPECT_FALSE(stdfs::exists(dir_ / "x509" / "gw-a.pem"));
  EXPECT_EQ(certs.remove("gw-a", empty_).error, CertificateStore::Error::not_found);
}

TEST_F(CertificateStoreTest, FilesTheConfigNamesElsewhereAreListedReadOnly) {
  CertificateStore store(dir_.string(), CertificateRole::end_entity);
  const auto elsewhere = dir_ / "pki" / "gw.der";
  stdfs::create_directories(elsewhere.parent_path());
  {
    // DER, as a config may name it.
    unsigned char* der = nullptr;
    const int len = i2d_X509(gw_.get(), &der);
    ASSERT_GT(len, 0);
    std::ofstream(elsewhere, std::ios::binary).write(reinterpret_cast<char*>(der), len);
    OPENSSL_free(der);
  }
  const auto gone = dir_ / "pki" / "gone.pem";
  auto running = config_naming(elsewhere.string(), "");
  running.connections[0].local.certs.push_back(gone.string());

  const auto listed = store.list(running);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, gone.string());
  EXPECT_FALSE(listed[0].managed);
  EXPECT_EQ(listed[0].error, "cannot read the file");
  EXPECT_EQ(listed[1].name, elsewhere.string());
  EXPECT_TRUE(listed[1].error.empty()) << listed[1].error;
  EXPECT_EQ(listed[1].subject, "CN=gw-a.example,O=Corridor Test");
  EXPECT_EQ(listed[1].used_by, std::vector<std::string>{"gw"});
  EXPECT_FALSE(store.find(elsewhere.string(), running)) << "only stored certificates are found by name";
  EXPECT_EQ(store.remove("gw", running).error, CertificateStore::Error::not_found);
  EXPECT_TRUE(stdfs::exists(elsewhere));
}

TEST_F(CertificateStoreTest, AnExpiredCertificateIsShownAsSuch) {
  CertificateStore store(dir_.string(), CertificateRole::end_entity);
  CertSpec old{{{"CN", "old.example"}}, gw_key_.get(), ca_.get(), ca_key_.get()};
  old.not_before = -30 * kDay;
  old.not_after = -kDay;
  const Cert expired = make_cert(old, now_);
  const auto put = store.put("old", pem_of(expired.get()), empty_);
  ASSERT_EQ(put.error, CertificateStore::Error::none) << "stored: replacing it is the operator's next step";
  EXPECT_FALSE(put.info.valid_now);
  EXPECT_EQ(put.info.not_after, utc(now_ - kDay));
}

}  // namespace
}  // namespace corridor::control
