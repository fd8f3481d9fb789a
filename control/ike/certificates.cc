// Certificates and keys: loading, path validation, the identities a certificate
// certifies (pubkey_auth.h, checks 1-4), shared by both IKE versions.
#include "control/ike/pubkey_auth.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "common/net/address.h"
#include "control/ike/identity.h"
#include "control/ike/openssl_support.h"

namespace corridor::control::ike {

using namespace openssl_support;  // NOLINT: the plumbing of this module

namespace openssl_support {

KeyKind key_kind(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")) return KeyKind::rsa;
  if (EVP_PKEY_is_a(key, "EC")) return KeyKind::ec;
  return KeyKind::other;
}

int curve_nid(const EVP_PKEY* key) {
  char name[80];
  std::size_t len = 0;
  if (EVP_PKEY_get_group_name(key, name, sizeof name, &len) != 1) return NID_undef;
  int nid = OBJ_sn2nid(name);
  if (nid == NID_undef) nid = EC_curve_nist2nid(name);
  return nid;
}

std::string describe_key(const EVP_PKEY* key) {
  switch (key_kind(key)) {
    case KeyKind::rsa:
      return std::string(EVP_PKEY_is_a(key, "RSA-PSS") ? "RSA-PSS-" : "RSA-") + std::to_string(EVP_PKEY_get_bits(key));
    case KeyKind::ec: {
      const int nid = curve_nid(key);
      const char* nist = nid == NID_undef ? nullptr : EC_curve_nid2nist(nid);
      const char* sn = nid == NID_undef ? nullptr : OBJ_nid2sn(nid);
      return std::string("ECDSA ") + (nist ? nist : sn ? sn : "on an unknown curve");
    }
    case KeyKind::other: break;
  }
  const char* type = EVP_PKEY_get0_type_name(key);
  return type ? type : "unknown";
}

// DER ECDSA-Sig-Value -> r|s, each `field` octets (RFC 4754 §7).
std::optional<Bytes> der_to_rs(const Bytes& der, std::size_t field) {
  const unsigned char* p = der.data();
  EcSigOwn sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  Bytes out(2 * field);
  if (BN_bn2binpad(r, out.data(), static_cast<int>(field)) < 0 ||
      BN_bn2binpad(s, out.data() + field, static_cast<int>(field)) < 0) {
    return std::nullopt;
  }
  return out;
}

std::optional<Bytes> rs_to_der(std::span<const std::uint8_t> rs) {
  const int half = static_cast<int>(rs.size() / 2);
  EcSigOwn sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(rs.data(), half, nullptr);
  BIGNUM* s = BN_bin2bn(rs.data() + half, half, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::nullopt;
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace openssl_support

namespace {

// File contents, wiped when they go (they may be a private key).
struct FileBytes {
  Bytes bytes;
  FileBytes() = default;
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  ~FileBytes() {
    if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
  }
};

bool read_file(const std::string& path, FileBytes& out, std::string* why) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return fail(why, std::strerror(errno));
  std::uint8_t buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.bytes.insert(out.bytes.end(), buf, buf + n);
  const bool error = std::ferror(f) != 0;
  std::fclose(f);
  OPENSSL_cleanse(buf, sizeof buf);
  if (error) return fail(why, "read error");
  return true;
}

bool contains(const Bytes& data, std::string_view needle) {
  return std::search(data.begin(), data.end(), needle.begin(), needle.end()) != data.end();
}

// Every PEM object of one kind in `data` (read_pem), or `data` as one DER
// object (read_der) when it holds no PEM at all: certificates and CRLs
// come in either form.
template <typename Own, typename Object>
std::vector<Own> parse_pem_or_der(const Bytes& data, Object* (*read_pem)(BIO*, Object**, pem_password_cb*, void*),
                                  Object* (*read_der)(Object**, const unsigned char**, long)) {
  std::vector<Own> out;
  BioOwn bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return out;
  while (Object* o = read_pem(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(o);
  if (out.empty() && !contains(data, "-----BEGIN")) {
    const unsigned char* p = data.data();
    Own o(read_der(nullptr, &p, static_cast<long>(data.size())));
    if (o && p == data.data() + data.size()) out.push_back(std::move(o));
  }
  ERR_clear_error();  // the PEM reader ends on "no start line"
  return out;
}

std::vector<X509Own> parse_certificates(const Bytes& data) {
  return parse_pem_or_der<X509Own, X509>(data, PEM_read_bio_X509, d2i_X509);
}

std::vector<CrlOwn> parse_crls(const Bytes& data) {
  return parse_pem_or_der<CrlOwn, X509_CRL>(data, PEM_read_bio_X509_CRL, d2i_X509_CRL);
}

bool load_certificate_files(const std::vector<std::string>& files, const char* what,
                            std::vector<std::shared_ptr<X509>>& out, std::string* why) {
  for (const auto& file : files) {
    FileBytes data;
    std::string reason;
    if (!read_file(file, data, &reason)) return fail(why, std::string(what) + " file '" + file + "': " + reason);
    auto certs = parse_certificates(data.bytes);
    if (certs.empty()) return fail(why, std::string(what) + " file '" + file + "' holds no PEM or DER X.509 certificate");
    for (auto& c : certs) out.push_back(share(std::move(c)));
  }
  return true;
}

// ---------------------------------------------------------------------------
// Names and identities.

// strongSwan's spelling of a DN ("C=CH, O=Corp, CN=gw"), as from_wire()
// writes it, so that messages and subject() agree with the config's form.
std::string name_text(const X509_NAME* name) {
  unsigned char* der = nullptr;
  const int len = i2d_X509_NAME(name, &der);
  if (len > 0) {
    corridor::ike::Identification id{iana::IdType::id_der_asn1_dn, Bytes(der, der + len)};
    OPENSSL_free(der);
    if (auto text = from_wire(id)) return text->value;
  }
  BioOwn bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "?";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

std::string cert_label(const X509* x) { return name_text(X509_get_subject_name(x)); }

config::Identity subject_identity(const X509* x) {
  return config::Identity{config::IdType::der_asn1_dn, cert_label(x)};
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string asn1_text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
}

GeneralNamesOwn subject_alt_names(const X509* x) {
  return GeneralNamesOwn(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr)));
}

// "DNS:gw.example, IP:192.0.2.1, email:a@b", for messages.
std::string describe_alt_names(const X509* x) {
  const auto names = subject_alt_names(x);
  if (!names || sk_GENERAL_NAME_num(names.get()) == 0) return "no subjectAltName";
  std::string out = "subjectAltName: ";
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names.get(), i);
    if (i > 0) out += ", ";
    switch (g->type) {
      case GEN_DNS: out += "DNS:" + asn1_text(g->d.dNSName); break;
      case GEN_EMAIL: out += "email:" + asn1_text(g->d.rfc822Name); break;
      case GEN_URI: out += "URI:" + asn1_text(g->d.uniformResourceIdentifier); break;
      case GEN_DIRNAME: out += "dirName:" + name_text(g->d.directoryName); break;
      case GEN_IPADD: {
        const int len = ASN1_STRING_length(g->d.iPAddress);
        if (len == 4 || len == 16) {
          const auto addr = net::IpAddress::from_bytes(len == 4 ? net::Family::ipv4 : net::Family::ipv6,
                                                       ASN1_STRING_get0_data(g->d.iPAddress));
          out += "IP:" + addr.to_string();
        } else {
          out += "IP:?";
        }
        break;
      }
      default: out += "other"; break;
    }
  }
  return out;
}

Bytes sha1(const unsigned char* data, std::size_t len) {
  Bytes md(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  if (EVP_Digest(data, len, md.data(), &n, EVP_sha1(), nullptr) != 1) return {};
  md.resize(n);
  return md;
}

Bytes spki_der(const X509* x) {
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
  if (len <= 0) return {};
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

bool certificate_certifies(const X509* x, const config::Identity& id) {
  using config::IdType;
  if (id.type == IdType::any) return false;
  if (id.type == IdType::der_asn1_dn || id.type == IdType::key_id) {
    const auto wire = to_wire(id);
    if (!wire || wire->data.empty()) return false;
    const Bytes& data = wire->data;
    if (id.type == IdType::der_asn1_dn) {
      const unsigned char* p = data.data();
      NameOwn name(d2i_X509_NAME(nullptr, &p, static_cast<long>(data.size())));
      return name && X509_NAME_cmp(name.get(), X509_get_subject_name(x)) == 0;
    }
    // ID_KEY_ID: the subjectKeyIdentifier or a SHA-1 key id.
    // (X509_get0_subject_key_id only reads, but is declared non-const.)
    if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(const_cast<X509*>(x))) {
      const auto* p = ASN1_STRING_get0_data(ski);
      if (Bytes(p, p + ASN1_STRING_length(ski)) == data) return true;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (X509_pubkey_digest(x, EVP_sha1(), md, &n) == 1 && Bytes(md, md + n) == data) return true;
    const Bytes spki = spki_der(x);
    return !spki.empty() && sha1(spki.data(), spki.size()) == data;
  }
  const auto names = subject_alt_names(x);
  if (!names) return false;
  std::optional<net::IpAddress> addr;
  if (id.type == IdType::ipv4_addr || id.type == IdType::ipv6_addr) {
    addr = net::IpAddress::parse(id.value);
    if (!addr) return false;
  }
  const std::string wanted = lower(id.value);
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names.get(), i);
    switch (id.type) {
      case IdType::fqdn:
        if (g->type == GEN_DNS && !wanted.empty() && lower(asn1_text(g->d.dNSName)) == wanted) return true;
        break;
      case IdType::rfc822_addr:
        if (g->type == GEN_EMAIL && !wanted.empty() && lower(asn1_text(g->d.rfc822Name)) == wanted) return true;
        break;
      case IdType::ipv4_addr:
      case IdType::ipv6_addr:
        if (g->type == GEN_IPADD && static_cast<std::size_t>(ASN1_STRING_length(g->d.iPAddress)) == addr->byte_length() &&
            std::equal(addr->bytes().begin(), addr->bytes().begin() + static_cast<std::ptrdiff_t>(addr->byte_length()),
                       ASN1_STRING_get0_data(g->d.iPAddress))) {
          return true;
        }
        break;
      default: break;
    }
  }
  return false;
}

std::string time_text(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}


// ---------------------------------------------------------------------------
// Private keys.

PkeyOwn decode_private_key(const Bytes& data, const config::SecretBytes& passphrase) {
  EVP_PKEY* key = nullptr;
  DecoderOwn dctx(OSSL_DECODER_CTX_new_for_pkey(&key, nullptr, nullptr, nullptr, EVP_PKEY_KEYPAIR, nullptr, nullptr));
  if (!dctx) return nullptr;
  // Without a passphrase no callback is set either: OpenSSL cannot prompt.
  if (!passphrase.empty() && OSSL_DECODER_CTX_set_passphrase(dctx.get(), passphrase.data(), passphrase.size()) != 1) {
    return nullptr;
  }
  const unsigned char* p = data.data();
  std::size_t len = data.size();
  if (OSSL_DECODER_from_data(dctx.get(), &p, &len) != 1) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return PkeyOwn(key);
}

std::shared_ptr<EVP_PKEY> load_private_key(const std::string& file, const config::SecretBytes& passphrase,
                                           std::string* why) {
  FileBytes data;
  std::string reason;
  if (!read_file(file, data, &reason)) {
    fail(why, "private key file '" + file + "': " + reason);
    return nullptr;
  }
  PkeyOwn key = decode_private_key(data.bytes, passphrase);
  ERR_clear_error();
  if (!key) {
    const bool encrypted = contains(data.bytes, "ENCRYPTED");
    if (encrypted && passphrase.empty()) {
      fail(why, "private key file '" + file + "' is encrypted and no passphrase is configured");
    } else if (!passphrase.empty()) {
      fail(why, "private key file '" + file + "' cannot be decoded (wrong passphrase, or not a private key)");
    } else {
      fail(why, "private key file '" + file + "' holds no PEM or DER private key");
    }
    return nullptr;
  }
  if (key_kind(key.get()) == KeyKind::other) {
    fail(why, "private key file '" + file + "' holds an " + describe_key(key.get()) + " key; only RSA and ECDSA keys are supported");
    return nullptr;
  }
  return std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
}

bool key_matches(const X509* cert, const EVP_PKEY* key) {
  const EVP_PKEY* pub = X509_get0_pubkey(cert);
  const bool eq = pub && EVP_PKEY_eq(pub, key) == 1;
  ERR_clear_error();
  return eq;
}

// ---------------------------------------------------------------------------
// Verification steps.

// Verify callback of the revocation check (RFC 5280 §6.3), which OpenSSL
// runs on every certificate of the path (X509_V_FLAG_CRL_CHECK_ALL); the
// connection's remote.revocation rides in the context's app data. It
// forgives, per certificate:
//  - no CRL of its issuer: under relaxed; under ifuri when the certificate
//    names no CRL distribution point; never under strict;
//  - a CRL past its nextUpdate (or before its thisUpdate): under relaxed,
//    which still looks the certificate up in it;
//  - either, for the trust anchor itself, which is trusted as configured.
// A listed certificate (X509_V_ERR_CERT_REVOKED) is never forgiven.
int revocation_verify_cb(int ok, X509_STORE_CTX* ctx) {
  if (ok) return ok;
  const auto mode = *static_cast<const config::Revocation*>(X509_STORE_CTX_get_app_data(ctx));
  const int err = X509_STORE_CTX_get_error(ctx);
  const STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx);
  const bool anchor = chain && X509_STORE_CTX_get_error_depth(ctx) == sk_X509_num(chain) - 1;
  X509* cur = X509_STORE_CTX_get_current_cert(ctx);
  switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
      if (anchor || mode == config::Revocation::relaxed) return 1;
      if (mode == config::Revocation::ifuri)
        return cur && X509_get_ext_by_NID(cur, NID_crl_distribution_points, -1) >= 0 ? 0 : 1;
      return 0;
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
      return anchor || mode == config::Revocation::relaxed ? 1 : 0;
    default:
      return 0;
  }
}

std::string chain_error(X509_STORE_CTX* ctx, const X509* leaf) {
  const int err = X509_STORE_CTX_get_error(ctx);
  const X509* cur = X509_STORE_CTX_get_current_cert(ctx);
  if (!cur) cur = leaf;
  const std::string label = "'" + cert_label(cur) + "'";
  const std::string in_chain = cur == leaf ? "" : " in the chain of '" + cert_label(leaf) + "'";
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "certificate " + label + in_chain + " expired on " + time_text(X509_get0_notAfter(cur));
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "certificate " + label + in_chain + " is not valid before " + time_text(X509_get0_notBefore(cur));
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return "no trusted CA for " + label + in_chain + " (issuer '" + name_text(X509_get_issuer_name(cur)) + "')";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return "certificate " + label + in_chain + " has an invalid signature (issuer '" +
             name_text(X509_get_issuer_name(cur)) + "')";
    case X509_V_ERR_INVALID_CA:
      return "certificate " + label + in_chain + " is not a CA (basicConstraints or keyUsage) but issued a certificate";
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
      return "certificate path of '" + cert_label(leaf) + "' exceeds the pathLenConstraint of " + label;
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
      return "certificate path of '" + cert_label(leaf) + "' is longer than 8 certificates";
    case X509_V_ERR_CERT_REVOKED:
      return "certificate " + label + in_chain + " is revoked (CRL of '" + name_text(X509_get_issuer_name(cur)) + "')";
    case X509_V_ERR_UNABLE_TO_GET_CRL:
      return "no CRL of '" + name_text(X509_get_issuer_name(cur)) + "' to check certificate " + label + in_chain +
             " against (remote.revocation)";
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return "the CRL of '" + name_text(X509_get_issuer_name(cur)) + "' is out of date (nextUpdate passed): " +
             "certificate " + label + in_chain + " cannot be checked (remote.revocation)";
    case X509_V_ERR_CRL_NOT_YET_VALID:
      return "the CRL of '" + name_text(X509_get_issuer_name(cur)) + "' is not valid yet (thisUpdate ahead)";
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
      return "the CRL of '" + name_text(X509_get_issuer_name(cur)) + "' has an invalid signature";
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
      return "the CRL of '" + name_text(X509_get_issuer_name(cur)) + "' is not signed by a CA allowed to sign CRLs";
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
      return "certificate " + label + in_chain + " has an unsupported critical extension";
    default:
      return "certificate " + label + in_chain + " rejected: " + X509_verify_cert_error_string(err);
  }
}

}  // namespace

bool LocalCredential::load_certs(const std::vector<std::string>& cert_files, std::string* why) {
  if (cert_files.empty()) {
    fail(why, "no certificate configured (local.certs)");
    return false;
  }
  return load_certificate_files(cert_files, "certificate", certs_, why);
}

std::optional<LocalCredential> LocalCredential::load(const std::vector<std::string>& cert_files,
                                                     const std::string& key_file,
                                                     const config::SecretBytes& passphrase, std::string* why) {
  ErrorQueueGuard guard;
  LocalCredential c;
  if (!c.load_certs(cert_files, why)) return std::nullopt;
  c.key_ = load_private_key(key_file, passphrase, why);
  if (!c.key_) return std::nullopt;
  if (!key_matches(c.certs_.front().get(), c.key_.get())) {
    fail(why, "private key file '" + key_file + "' does not belong to certificate '" + cert_label(c.certs_.front().get()) +
                  "' ('" + cert_files.front() + "')");
    return std::nullopt;
  }
  return c;
}

std::optional<LocalCredential> LocalCredential::load(const std::vector<std::string>& cert_files,
                                                     std::span<const config::Secret> secrets, std::string* why) {
  ErrorQueueGuard guard;
  LocalCredential c;
  if (!c.load_certs(cert_files, why)) return std::nullopt;
  std::vector<std::string> problems;
  for (const auto& s : secrets) {
    if (s.type == config::SecretType::ike) continue;
    std::string reason;
    auto key = load_private_key(s.file, s.secret, &reason);
    if (!key) {
      problems.push_back("secret '" + s.name + "': " + reason);
      continue;
    }
    const KeyKind kind = key_kind(key.get());
    if ((s.type == config::SecretType::rsa && kind != KeyKind::rsa) ||
        (s.type == config::SecretType::ecdsa && kind != KeyKind::ec)) {
      problems.push_back("secret '" + s.name + "' is " + std::string(config::to_string(s.type)) + " but holds an " +
                         describe_key(key.get()) + " key");
      continue;
    }
    if (key_matches(c.certs_.front().get(), key.get())) {
      c.key_ = std::move(key);
      return c;
    }
  }
  std::string text = "no private key among the secrets belongs to certificate '" + cert_label(c.certs_.front().get()) +
                     "' ('" + cert_files.front() + "')";
  for (const auto& p : problems) text += "; " + p;
  fail(why, std::move(text));
  return std::nullopt;
}

bool LocalCredential::certifies(const config::Identity& id) const {
  ErrorQueueGuard guard;
  return !certs_.empty() && certificate_certifies(certs_.front().get(), id);
}

config::Identity LocalCredential::subject() const {
  ErrorQueueGuard guard;
  if (certs_.empty()) return {};
  return subject_identity(certs_.front().get());
}

std::vector<corridor::ike::Certificate> LocalCredential::cert_payloads() const {
  std::vector<corridor::ike::Certificate> out;
  for (const auto& x : certs_) {
    unsigned char* der = nullptr;
    const int len = i2d_X509(x.get(), &der);
    if (len <= 0) continue;
    out.push_back({iana::CertEncoding::x509_signature, Bytes(der, der + len)});
    OPENSSL_free(der);
  }
  ERR_clear_error();
  return out;
}

std::string LocalCredential::key_description() const { return key_ ? describe_key(key_.get()) : "no key"; }

std::optional<TrustStore> TrustStore::load(const std::vector<std::string>& cacert_files, std::string* why) {
  return load(cacert_files, {}, config::Revocation::relaxed, why);
}

std::optional<TrustStore> TrustStore::load(const std::vector<std::string>& cacert_files,
                                           const std::vector<std::string>& crl_files, config::Revocation revocation,
                                           std::string* why) {
  ErrorQueueGuard guard;
  if (cacert_files.empty()) {
    fail(why, "no CA certificate configured (remote.cacerts)");
    return std::nullopt;
  }
  TrustStore t;
  if (!load_certificate_files(cacert_files, "CA certificate", t.anchors_, why)) return std::nullopt;
  t.store_ = std::shared_ptr<X509_STORE>(X509_STORE_new(), X509_STORE_free);
  if (!t.store_) {
    fail(why, "cannot create a certificate store: " + openssl_reason());
    return std::nullopt;
  }
  for (const auto& a : t.anchors_) {
    if (X509_STORE_add_cert(t.store_.get(), a.get()) != 1) {
      fail(why, "cannot add CA certificate '" + cert_label(a.get()) + "': " + openssl_reason());
      return std::nullopt;
    }
  }
  t.revocation_ = revocation;
  for (const auto& file : crl_files) {
    FileBytes data;
    std::string reason;
    if (!read_file(file, data, &reason)) {
      fail(why, "CRL file '" + file + "': " + reason);
      return std::nullopt;
    }
    auto crls = parse_crls(data.bytes);
    if (crls.empty()) {
      fail(why, "CRL file '" + file + "' holds no PEM or DER X.509 CRL");
      return std::nullopt;
    }
    for (auto& crl : crls) {
      // The store keeps its own reference; its signature, issuer and
      // validity are checked when a certificate is (RFC 5280 §6.3).
      if (X509_STORE_add_crl(t.store_.get(), crl.get()) != 1) {
        fail(why, "cannot add the CRL of '" + name_text(X509_CRL_get_issuer(crl.get())) + "' from '" + file +
                      "': " + openssl_reason());
        return std::nullopt;
      }
      ++t.crl_count_;
    }
  }
  return t;
}

std::vector<std::uint8_t> TrustStore::certreq_authorities() const {
  std::vector<std::uint8_t> out;
  for (const auto& a : anchors_) {
    const Bytes spki = spki_der(a.get());
    if (spki.empty()) continue;
    const Bytes hash = sha1(spki.data(), spki.size());
    bool seen = false;
    for (std::size_t i = 0; i + hash.size() <= out.size(); i += hash.size()) {
      if (std::equal(hash.begin(), hash.end(), out.begin() + static_cast<std::ptrdiff_t>(i))) seen = true;
    }
    if (!seen) out.insert(out.end(), hash.begin(), hash.end());
  }
  ERR_clear_error();
  return out;
}

PeerCertificate validate_peer_certificate(const TrustStore& trust, std::span<const corridor::ike::Certificate> certs,
                                          const config::Identity& claimed, std::time_t now) {
  ErrorQueueGuard guard;
  PeerCertificate r;
  auto failed = [&](std::string why) {
    r.ok = false;
    r.why = std::move(why);
    return r;
  };

  // 1. CERT payloads (RFC 7296 §3.6, RFC 4945 §3.3).
  if (certs.empty()) return failed("peer sent no certificate (CERT payload)");
  auto parse = [](const corridor::ike::Certificate& c) {
    const unsigned char* p = c.data.data();
    X509Own x(d2i_X509(nullptr, &p, static_cast<long>(c.data.size())));
    if (x && p != c.data.data() + c.data.size()) x.reset();
    return x;
  };
  if (certs[0].encoding != iana::CertEncoding::x509_signature) {
    return failed("first CERT payload has encoding " + std::to_string(static_cast<int>(certs[0].encoding)) +
                  ", not X.509 Certificate - Signature (4)");
  }
  X509Own leaf = parse(certs[0]);
  if (!leaf) return failed("first CERT payload is not a DER X.509 certificate");
  r.subject = subject_identity(leaf.get());
  r.label = cert_label(leaf.get());
  std::vector<X509Own> intermediates;
  X509StackOwn untrusted(sk_X509_new_null());
  if (!untrusted) return failed("out of memory");
  for (std::size_t i = 1; i < certs.size(); ++i) {
    if (certs[i].encoding != iana::CertEncoding::x509_signature) continue;
    auto x = parse(certs[i]);
    if (!x) return failed("CERT payload " + std::to_string(i + 1) + " is not a DER X.509 certificate");
    if (sk_X509_push(untrusted.get(), x.get()) <= 0) return failed("out of memory");
    intermediates.push_back(std::move(x));
  }

  // 2. Path validation to the connection's trust anchors (RFC 5280 §6).
  X509_STORE* store = TrustStoreAccess::store(trust);
  if (!store) return failed("no trusted CA configured for this peer");
  StoreCtxOwn ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store, leaf.get(), untrusted.get()) != 1) {
    return failed("cannot set up certificate validation: " + openssl_reason());
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, now);
  X509_VERIFY_PARAM_set_depth(param, 8);
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  // Revocation (RFC 5280 §6.3) of the end entity and of every CA below the
  // trust anchor, by the CRLs loaded and the connection's policy
  // (revocation_verify_cb). relaxed without a CRL has nothing to check.
  const auto revocation = TrustStoreAccess::revocation(trust);
  if (trust.crl_count() != 0 || revocation != config::Revocation::relaxed) {
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    X509_STORE_CTX_set_app_data(ctx.get(), const_cast<config::Revocation*>(&revocation));
    X509_STORE_CTX_set_verify_cb(ctx.get(), revocation_verify_cb);
  }
  if (X509_verify_cert(ctx.get()) != 1) return failed(chain_error(ctx.get(), leaf.get()));

  // 3. keyUsage (RFC 4945 §5.1.3.2).
  if ((X509_get_extension_flags(leaf.get()) & EXFLAG_KUSAGE) != 0 &&
      (X509_get_key_usage(leaf.get()) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0) {
    return failed("certificate '" + r.label + "' keyUsage allows neither digitalSignature nor nonRepudiation");
  }

  // 4. The claimed identity (RFC 4945 §3.1).
  if (!certificate_certifies(leaf.get(), claimed)) {
    if (claimed.type == config::IdType::der_asn1_dn) {
      return failed("peer identity '" + claimed.value + "' is not the subject of certificate '" + r.label + "'");
    }
    return failed("peer identity '" + claimed.to_string() + "' not in certificate '" + r.label + "' (" +
                  describe_alt_names(leaf.get()) + ")");
  }
  if (!X509_get0_pubkey(leaf.get())) return failed("certificate '" + r.label + "' has a public key OpenSSL cannot read");
  r.leaf = share(std::move(leaf));
  r.ok = true;
  return r;
}
}  // namespace corridor::control::ike
