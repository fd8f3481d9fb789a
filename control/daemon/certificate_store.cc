#include "control/daemon/certificate_store.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <system_error>

#include "common/fs/atomic_file.h"

namespace corridor::control {

namespace {

namespace stdfs = std::filesystem;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;

std::string normal(const std::string& path) { return stdfs::absolute(path).lexically_normal().string(); }

std::string hex_colons(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ':';
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

std::string name_text(const X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "?";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string time_text(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[32];
  return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm));
}

std::string serial_text(const X509* x) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr), BN_free);
  char* digits = bn ? BN_bn2hex(bn.get()) : nullptr;
  if (!digits) return "?";
  std::string hex(digits);
  OPENSSL_free(digits);
  if (!hex.empty() && hex.front() == '-') hex.erase(0, 1);  // RFC 5280 forbids it; shown as its magnitude
  if (hex.size() % 2) hex.insert(0, "0");
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) out += (i ? ":" : "") + hex.substr(i, 2);
  return out;
}

std::string key_text(const X509* x) {
  EVP_PKEY* key = X509_get0_pubkey(x);
  if (!key) return "?";
  const int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      return "RSA " + std::to_string(bits);
    case EVP_PKEY_EC: {
      char group[64] = {};
      std::size_t len = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) return "EC " + std::to_string(bits);
      const char* nist = EC_curve_nid2nist(OBJ_sn2nid(group));
      return std::string("EC ") + (nist ? nist : group);
    }
    case EVP_PKEY_ED25519:
      return "ED25519";
    case EVP_PKEY_ED448:
      return "ED448";
    default:
      return std::string(OBJ_nid2sn(EVP_PKEY_get_base_id(key))) + " " + std::to_string(bits);
  }
}

std::vector<std::string> alt_names(const X509* x) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    auto text = [](const ASN1_STRING* s) {
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<std::size_t>(ASN1_STRING_length(s)));
    };
    switch (g->type) {
      case GEN_DNS:
        out.push_back("DNS:" + text(g->d.dNSName));
        break;
      case GEN_EMAIL:
        out.push_back("email:" + text(g->d.rfc822Name));
        break;
      case GEN_URI:
        out.push_back("URI:" + text(g->d.uniformResourceIdentifier));
        break;
      case GEN_IPADD: {
        const int len = ASN1_STRING_length(g->d.iPAddress);
        char buf[INET6_ADDRSTRLEN] = {};
        const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
        if (family && inet_ntop(family, ASN1_STRING_get0_data(g->d.iPAddress), buf, sizeof buf))
          out.push_back(std::string("IP:") + buf);
        break;
      }
      case GEN_DIRNAME:
        out.push_back("dirName:" + name_text(g->d.directoryName));
        break;
      default:
        break;  // otherName, x400Address, ediPartyName, registeredID: IKE identities never match them
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

// PEM first, then DER: a config may name either.
Cert read_certificate(const std::string& bytes) {
  Bio bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  if (!bio) return nullptr;
  if (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) return Cert(x);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  return Cert(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())));
}

void fill(CertificateInfo& info, const X509* x) {
  info.subject = name_text(X509_get_subject_name(x));
  info.issuer = name_text(X509_get_issuer_name(x));
  info.serial = serial_text(x);
  info.not_before = time_text(X509_get0_notBefore(x));
  info.not_after = time_text(X509_get0_notAfter(x));
  info.valid_now = X509_cmp_current_time(X509_get0_notBefore(x)) < 0 && X509_cmp_current_time(X509_get0_notAfter(x)) > 0;
  info.key = key_text(x);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(x, EVP_sha256(), md, &md_len) == 1) info.fingerprint_sha256 = hex_colons(md, md_len);
  info.subject_alt_names = alt_names(x);
  // X509_get_extension_flags caches the extensions (and is not const in
  // its signature); the certificate itself is not changed.
  X509* mx = const_cast<X509*>(x);
  info.ca = (X509_get_extension_flags(mx) & EXFLAG_CA) != 0;
  info.self_signed = X509_self_signed(mx, 1) == 1;
}

}  // namespace

bool valid_certificate_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

CertificateStore::CertificateStore(const std::string& config_dir, CertificateRole role)
    : directory_(normal((stdfs::path(config_dir) / (role == CertificateRole::authority ? "x509ca" : "x509")).string())),
      role_(role) {}

std::string CertificateStore::config_prefix() const {
  return role_ == CertificateRole::authority ? "x509ca/" : "x509/";
}

std::vector<std::string> CertificateStore::files_named(const config::Config& running) const {
  std::set<std::string> files;
  for (const auto& conn : running.connections) {
    const auto& list = role_ == CertificateRole::authority ? conn.remote.cacerts : conn.local.certs;
    for (const auto& f : list) files.insert(normal(f));
  }
  return {files.begin(), files.end()};
}

CertificateInfo CertificateStore::describe(const std::string& name, const std::string& path, bool managed,
                                           const config::Config& running) const {
  CertificateInfo info;
  info.name = name;
  info.path = path;
  info.managed = managed;
  for (const auto& conn : running.connections) {
    const auto& list = role_ == CertificateRole::authority ? conn.remote.cacerts : conn.local.certs;
    if (std::any_of(list.begin(), list.end(), [&](const std::string& f) { return normal(f) == path; }))
      info.used_by.push_back(conn.name);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    info.error = "cannot read the file";
    return info;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const Cert x = read_certificate(bytes);
  if (!x) {
    info.error = "no PEM or DER X.509 certificate in the file";
    return info;
  }
  fill(info, x.get());
  return info;
}

std::vector<CertificateInfo> CertificateStore::list(const config::Config& running) const {
  std::vector<std::string> names;
  std::error_code ec;
  for (stdfs::directory_iterator it(directory_, ec), end; !ec && it != end; it.increment(ec)) {
    const auto& p = it->path();
    if (p.extension() == ".pem" && valid_certificate_name(p.stem().string()) && it->is_regular_file(ec))
      names.push_back(p.stem().string());
  }
  std::sort(names.begin(), names.end());
  std::vector<CertificateInfo> out;
  for (const auto& n : names) out.push_back(describe(n, directory_ + "/" + n + ".pem", true, running));
  for (const auto& f : files_named(running)) {
    if (stdfs::path(f).parent_path() == stdfs::path(directory_) && f.ends_with(".pem")) continue;  // listed above
    out.push_back(describe(f, f, false, running));
  }
  return out;
}

std::optional<CertificateInfo> CertificateStore::find(std::string_view name, const config::Config& running) const {
  if (valid_certificate_name(name)) {
    const std::string path = directory_ + "/" + std::string(name) + ".pem";
    std::error_code ec;
    if (stdfs::is_regular_file(path, ec)) return describe(std::string(name), path, true, running);
  }
  return std::nullopt;
}

CertificateStore::Outcome CertificateStore::put(std::string_view name, std::string_view pem,
                                                const config::Config& running) const {
  Outcome out;
  auto refuse = [&](Error e, std::string detail) {
    out.error = e;
    out.detail = std::move(detail);
    return out;
  };
  if (!valid_certificate_name(name))
    return refuse(Error::invalid, "a certificate name is 1-64 of A-Z a-z 0-9 . _ - and does not start with '.'");
  // Refused outright, so that a key pasted by mistake is never written
  // where certificates (world-readable) live.
  if (pem.find("PRIVATE KEY-----") != std::string_view::npos)
    return refuse(Error::invalid,
                  "the PEM holds a private key: keys are secrets (POST /secrets, a private-* entry naming a key file)");
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert x(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!x) return refuse(Error::invalid, "no PEM certificate (-----BEGIN CERTIFICATE-----) could be read");
  if (Cert more{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)})
    return refuse(Error::invalid, "more than one certificate: store one per name (intermediates each under their own)");
  CertificateInfo info;
  fill(info, x.get());
  if (role_ == CertificateRole::authority && !info.ca)
    return refuse(Error::invalid, "'" + info.subject + "' is no CA certificate (basicConstraints cA is not set)");

  // Stored as OpenSSL writes it back: the certificate alone, no text
  // around it.
  Bio outbio(BIO_new(BIO_s_mem()));
  if (!outbio || PEM_write_bio_X509(outbio.get(), x.get()) != 1) return refuse(Error::io, "cannot encode the certificate");
  char* data = nullptr;
  const long n = BIO_get_mem_data(outbio.get(), &data);
  const std::string text(data, static_cast<std::size_t>(n));

  std::error_code ec;
  if (!stdfs::is_directory(directory_, ec)) {
    stdfs::create_directories(directory_, ec);
    if (ec) return refuse(Error::io, "cannot create " + directory_ + ": " + ec.message());
    stdfs::permissions(directory_, stdfs::perms(0755), ec);
  }
  const std::string path = directory_ + "/" + std::string(name) + ".pem";
  out.created = !stdfs::exists(path, ec);
  std::string why;
  if (!fs::write_file_atomic(path, text, &why, 0644)) return refuse(Error::io, why);
  out.info = describe(std::string(name), path, true, running);
  out.detail = out.info.name;
  return out;
}

CertificateStore::Outcome CertificateStore::remove(std::string_view name, const config::Config& running) const {
  Outcome out;
  const auto info = find(name, running);
  if (!info) {
    out.error = Error::not_found;
    out.detail = "no certificate '" + std::string(name) + "' in " + directory_;
    return out;
  }
  if (!info->used_by.empty()) {
    std::string conns;
    for (const auto& c : info->used_by) conns += (conns.empty() ? "" : ", ") + c;
    out.error = Error::in_use;
    out.detail = "certificate '" + info->name + "' is used by connection(s) " + conns +
                 ": change or remove them first";
    return out;
  }
  std::error_code ec;
  if (!stdfs::remove(info->path, ec) || ec) {
    out.error = Error::io;
    out.detail = "cannot remove " + info->path + ": " + (ec ? ec.message() : "it is gone");
    return out;
  }
  out.info = *info;
  out.detail = info->name;
  return out;
}

}  // namespace corridor::control
