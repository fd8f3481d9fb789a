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

namespace corridor::control::ike {


// Gives verify_peer() the store without making it part of the public API.
struct TrustStoreAccess {
  static X509_STORE* store(const TrustStore& t) { return t.store_.get(); }
};

namespace {

using Bytes = std::vector<std::uint8_t>;
using WireMethod = iana::AuthMethod;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using X509Own = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PkeyOwn = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using MdCtxOwn = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using AlgorOwn = std::unique_ptr<X509_ALGOR, Deleter<X509_ALGOR, X509_ALGOR_free>>;
using PssOwn = std::unique_ptr<RSA_PSS_PARAMS, Deleter<RSA_PSS_PARAMS, RSA_PSS_PARAMS_free>>;
using EcSigOwn = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
using NameOwn = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using StoreCtxOwn = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
using BioOwn = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using DecoderOwn = std::unique_ptr<OSSL_DECODER_CTX, Deleter<OSSL_DECODER_CTX, OSSL_DECODER_CTX_free>>;
using GeneralNamesOwn = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;

struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }  // elements are owned elsewhere
};
using X509StackOwn = std::unique_ptr<STACK_OF(X509), StackFree>;

std::shared_ptr<X509> share(X509Own x) { return std::shared_ptr<X509>(x.release(), X509_free); }

// OpenSSL leaves reasons in its thread-local error queue; nothing here
// reports through it, so every public entry point leaves it empty.
struct ErrorQueueGuard {
  ~ErrorQueueGuard() { ERR_clear_error(); }
};

// The first queued OpenSSL reason, for messages about OpenSSL failures.
std::string openssl_reason() {
  const unsigned long e = ERR_peek_error();
  if (e == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(e);
  return reason ? reason : "OpenSSL error " + std::to_string(e);
}

bool fail(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return false;
}

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

// Every PEM certificate in `data`, or `data` as one DER certificate.
std::vector<X509Own> parse_certificates(const Bytes& data) {
  std::vector<X509Own> out;
  BioOwn bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return out;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  if (out.empty() && !contains(data, "-----BEGIN")) {
    const unsigned char* p = data.data();
    X509Own x(d2i_X509(nullptr, &p, static_cast<long>(data.size())));
    if (x && p == data.data() + data.size()) out.push_back(std::move(x));
  }
  ERR_clear_error();  // PEM_read_bio_X509 ends on "no start line"
  return out;
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
// Keys and algorithms.

enum class KeyKind : std::uint8_t { rsa, ec, other };

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

struct HashInfo {
  SignatureHash id;
  const char* label;
  int digest_nid;
  int rsa_nid;    // <hash>WithRSAEncryption
  int ecdsa_nid;  // ecdsa-with-<hash>
  const EVP_MD* (*md)();
};

constexpr HashInfo kHashes[] = {
    {SignatureHash::sha1, "SHA-1", NID_sha1, NID_sha1WithRSAEncryption, NID_ecdsa_with_SHA1, EVP_sha1},
    {SignatureHash::sha2_256, "SHA2-256", NID_sha256, NID_sha256WithRSAEncryption, NID_ecdsa_with_SHA256, EVP_sha256},
    {SignatureHash::sha2_384, "SHA2-384", NID_sha384, NID_sha384WithRSAEncryption, NID_ecdsa_with_SHA384, EVP_sha384},
    {SignatureHash::sha2_512, "SHA2-512", NID_sha512, NID_sha512WithRSAEncryption, NID_ecdsa_with_SHA512, EVP_sha512},
};

const HashInfo& hash_info(SignatureHash h) {
  for (const auto& i : kHashes) {
    if (i.id == h) return i;
  }
  return kHashes[1];
}

const HashInfo* hash_by_digest_nid(int nid) {
  for (const auto& i : kHashes) {
    if (i.digest_nid == nid) return &i;
  }
  return nullptr;
}

// RFC 4754 §3: the classic ECDSA methods, each tied to one curve and hash.
struct ClassicEcdsa {
  WireMethod method;
  int curve;
  SignatureHash hash;
  std::size_t field;  // octets of r and of s (§7)
  const char* curve_label;
};

constexpr ClassicEcdsa kClassicEcdsa[] = {
    {WireMethod::ecdsa_sha256_p256, NID_X9_62_prime256v1, SignatureHash::sha2_256, 32, "P-256"},
    {WireMethod::ecdsa_sha384_p384, NID_secp384r1, SignatureHash::sha2_384, 48, "P-384"},
    {WireMethod::ecdsa_sha512_p521, NID_secp521r1, SignatureHash::sha2_512, 66, "P-521"},
};

const ClassicEcdsa* classic_by_curve(int nid) {
  for (const auto& c : kClassicEcdsa) {
    if (c.curve == nid) return &c;
  }
  return nullptr;
}

const ClassicEcdsa* classic_by_method(WireMethod m) {
  for (const auto& c : kClassicEcdsa) {
    if (c.method == m) return &c;
  }
  return nullptr;
}

// The hash of an EC key of `bits` (its curve's, for the NIST curves).
SignatureHash ec_hash(int bits) {
  if (bits > 384) return SignatureHash::sha2_512;
  if (bits > 256) return SignatureHash::sha2_384;
  return SignatureHash::sha2_256;
}

// RFC 7427 §4: among the SHA-2 hashes the peer announced, the one for this key.
std::optional<SignatureHash> choose_hash(const EVP_PKEY* key, std::span<const std::uint16_t> peer) {
  auto offered = [&](SignatureHash h) {
    return std::find(peer.begin(), peer.end(), static_cast<std::uint16_t>(h)) != peer.end();
  };
  std::vector<SignatureHash> order;
  if (key_kind(key) == KeyKind::ec) order.push_back(ec_hash(EVP_PKEY_get_bits(key)));
  for (auto h : {SignatureHash::sha2_256, SignatureHash::sha2_512, SignatureHash::sha2_384}) {
    if (std::find(order.begin(), order.end(), h) == order.end()) order.push_back(h);
  }
  if (key_kind(key) == KeyKind::ec) {
    // After the curve's own hash: strongest first.
    std::sort(order.begin() + 1, order.end(), [](SignatureHash a, SignatureHash b) { return a > b; });
  }
  for (auto h : order) {
    if (offered(h)) return h;
  }
  return std::nullopt;
}

// A hash's AlgorithmIdentifier with NULL parameters (RFC 4055 §2.1 asks
// for NULL inside RSASSA-PSS-params).
X509_ALGOR* hash_algor(const HashInfo& h) {
  X509_ALGOR* a = X509_ALGOR_new();
  if (a && X509_ALGOR_set0(a, OBJ_nid2obj(h.digest_nid), V_ASN1_NULL, nullptr) != 1) {
    X509_ALGOR_free(a);
    return nullptr;
  }
  return a;
}

// The DER AlgorithmIdentifier of RFC 7427 §3 for this key, hash and padding.
std::optional<Bytes> signature_algorithm_identifier(KeyKind kind, bool pss, const HashInfo& h) {
  AlgorOwn alg(X509_ALGOR_new());
  if (!alg) return std::nullopt;
  if (kind == KeyKind::ec) {
    if (X509_ALGOR_set0(alg.get(), OBJ_nid2obj(h.ecdsa_nid), V_ASN1_UNDEF, nullptr) != 1) return std::nullopt;
  } else if (!pss) {
    if (X509_ALGOR_set0(alg.get(), OBJ_nid2obj(h.rsa_nid), V_ASN1_NULL, nullptr) != 1) return std::nullopt;
  } else {
    PssOwn params(RSA_PSS_PARAMS_new());
    if (!params) return std::nullopt;
    params->hashAlgorithm = hash_algor(h);
    AlgorOwn mgf_hash(hash_algor(h));
    if (!params->hashAlgorithm || !mgf_hash) return std::nullopt;
    ASN1_STRING* mgf_params = ASN1_item_pack(mgf_hash.get(), ASN1_ITEM_rptr(X509_ALGOR), nullptr);
    params->maskGenAlgorithm = X509_ALGOR_new();
    if (!mgf_params || !params->maskGenAlgorithm ||
        X509_ALGOR_set0(params->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1), V_ASN1_SEQUENCE, mgf_params) != 1) {
      ASN1_STRING_free(mgf_params);
      return std::nullopt;
    }
    const int salt = EVP_MD_get_size(h.md());
    if (salt != 20) {  // 20 is the DEFAULT, left out in DER
      params->saltLength = ASN1_INTEGER_new();
      if (!params->saltLength || ASN1_INTEGER_set(params->saltLength, salt) != 1) return std::nullopt;
    }
    ASN1_STRING* packed = ASN1_item_pack(params.get(), ASN1_ITEM_rptr(RSA_PSS_PARAMS), nullptr);
    if (!packed || X509_ALGOR_set0(alg.get(), OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE, packed) != 1) {
      ASN1_STRING_free(packed);
      return std::nullopt;
    }
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509_ALGOR(alg.get(), &der);
  if (len <= 0) return std::nullopt;
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

struct Pss {
  int salt = 0;
  const EVP_MD* mgf1 = nullptr;
};

bool configure_pss(EVP_PKEY_CTX* pctx, const Pss& pss) {
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss.salt) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, pss.mgf1) == 1;
}

std::optional<Bytes> evp_sign(EVP_PKEY* key, const EVP_MD* md, const std::optional<Pss>& pss,
                              std::span<const std::uint8_t> data) {
  MdCtxOwn ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key) != 1) return std::nullopt;
  if (pss && !configure_pss(pctx, *pss)) return std::nullopt;
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()) != 1) return std::nullopt;
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()) != 1) return std::nullopt;
  sig.resize(len);
  return sig;
}

bool evp_verify(EVP_PKEY* key, const EVP_MD* md, const std::optional<Pss>& pss, std::span<const std::uint8_t> data,
                std::span<const std::uint8_t> sig) {
  MdCtxOwn ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1) return false;
  if (pss && !configure_pss(pctx, *pss)) return false;
  return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
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
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
      return "certificate " + label + in_chain + " has an unsupported critical extension";
    default:
      return "certificate " + label + in_chain + " rejected: " + X509_verify_cert_error_string(err);
  }
}

struct AuthCheck {
  bool ok = false;
  std::string why;
  std::string algorithm;
};

AuthCheck auth_fail(std::string why) { return AuthCheck{false, std::move(why), {}}; }

// AlgorithmIdentifier parameters that must be absent or NULL (RFC 4055 §5,
// RFC 5758 §3.2; accepted either way, RFC 4055 §2.1).
bool absent_or_null(int ptype) { return ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL; }

AlgorOwn unpack_algor(int ptype, const void* pval) {
  if (ptype != V_ASN1_SEQUENCE) return nullptr;
  return AlgorOwn(static_cast<X509_ALGOR*>(
      ASN1_item_unpack(static_cast<const ASN1_STRING*>(pval), ASN1_ITEM_rptr(X509_ALGOR))));
}

AuthCheck check_auth(EVP_PKEY* key, const corridor::ike::Authentication& auth, std::span<const std::uint8_t> octets,
                     const VerifyOptions& options, const std::string& cert) {
  using config::AuthMethod;
  const KeyKind kind = key_kind(key);
  const std::string key_text = describe_key(key);
  const std::string method_text = "AUTH method " + std::to_string(static_cast<int>(auth.method));
  const std::string in_cert = "certificate '" + cert + "'";
  auto wrong_key = [&](const char* needs) {
    return auth_fail(method_text + " needs " + needs + ", " + in_cert + " has an " + key_text + " key");
  };
  auto check_accept = [&](bool rsa, bool pss) -> std::optional<std::string> {
    switch (options.accept) {
      case AuthMethod::pubkey: return std::nullopt;
      case AuthMethod::rsa:
        if (rsa) return std::nullopt;
        return "remote auth is rsa but the peer signed with ECDSA";
      case AuthMethod::rsa_pss:
        if (rsa && pss) return std::nullopt;
        return rsa ? "remote auth is rsa/pss but the peer signed with RSA PKCS#1 v1.5"
                   : "remote auth is rsa/pss but the peer signed with ECDSA";
      case AuthMethod::ecdsa:
        if (!rsa) return std::nullopt;
        return "remote auth is ecdsa but the peer signed with RSA";
      case AuthMethod::psk: return "remote auth is psk, not a certificate";
    }
    return "unknown remote auth";
  };
  auto verified = [&](const EVP_MD* md, const std::optional<Pss>& pss, std::span<const std::uint8_t> sig,
                      std::string algorithm) {
    if (!evp_verify(key, md, pss, octets, sig)) {
      return auth_fail("signature does not verify (" + algorithm + ", " + in_cert + ")");
    }
    return AuthCheck{true, {}, std::move(algorithm)};
  };

  switch (auth.method) {
    case WireMethod::rsa_digital_signature: {
      if (kind != KeyKind::rsa) return wrong_key("an RSA key");
      if (auto e = check_accept(true, false)) return auth_fail(*e);
      if (!options.allow_sha1) return auth_fail("peer signed with SHA-1 (AUTH method 1, RSA), not allowed without allow_sha1");
      return verified(EVP_sha1(), std::nullopt, auth.data, "RSA PKCS#1 v1.5 SHA-1 (method 1)");
    }
    case WireMethod::ecdsa_sha256_p256:
    case WireMethod::ecdsa_sha384_p384:
    case WireMethod::ecdsa_sha512_p521: {
      const ClassicEcdsa& c = *classic_by_method(auth.method);
      if (kind != KeyKind::ec || curve_nid(key) != c.curve) {
        return wrong_key((std::string("an ECDSA ") + c.curve_label + " key").c_str());
      }
      if (auto e = check_accept(false, false)) return auth_fail(*e);
      if (auth.data.size() != 2 * c.field) {
        return auth_fail(method_text + " signature is " + std::to_string(auth.data.size()) + " octets, not " +
                         std::to_string(2 * c.field));
      }
      const auto der = rs_to_der(auth.data);
      if (!der) return auth_fail(method_text + " signature cannot be decoded");
      const HashInfo& h = hash_info(c.hash);
      return verified(h.md(), std::nullopt, *der,
                      std::string("ECDSA ") + c.curve_label + " " + h.label + " (method " +
                          std::to_string(static_cast<int>(auth.method)) + ")");
    }
    case WireMethod::digital_signature: break;
    case WireMethod::shared_key_message_integrity_code:
      return auth_fail("peer authenticated with a pre-shared key (AUTH method 2) where a certificate signature is expected");
    default: return auth_fail(method_text + " is not supported for certificate authentication");
  }

  // RFC 7427 §3: length octet, AlgorithmIdentifier, signature.
  const auto& data = auth.data;
  if (data.empty() || std::size_t{data[0]} + 1 >= data.size()) {
    return auth_fail("AUTH method 14 data is malformed (AlgorithmIdentifier length runs past the payload)");
  }
  const std::size_t alg_len = data[0];
  const unsigned char* p = data.data() + 1;
  AlgorOwn alg(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(alg_len)));
  if (!alg || p != data.data() + 1 + alg_len) return auth_fail("AUTH method 14 AlgorithmIdentifier is not valid DER");
  const auto sig = std::span<const std::uint8_t>(data).subspan(1 + alg_len);

  const ASN1_OBJECT* obj = nullptr;
  int ptype = V_ASN1_UNDEF;
  const void* pval = nullptr;
  X509_ALGOR_get0(&obj, &ptype, &pval, alg.get());
  const int nid = OBJ_obj2nid(obj);
  auto oid_text = [&] {
    char buf[128];
    OBJ_obj2txt(buf, sizeof buf, obj, 0);
    return std::string(buf);
  };
  auto refuse_sha1 = [&](const HashInfo& h) -> std::optional<AuthCheck> {
    if (h.id == SignatureHash::sha1 && !options.allow_sha1) {
      return auth_fail("peer signed with SHA-1 (" + oid_text() + "), not allowed without allow_sha1");
    }
    return std::nullopt;
  };

  for (const auto& h : kHashes) {
    if (nid == h.rsa_nid) {
      if (!absent_or_null(ptype)) return auth_fail("AUTH AlgorithmIdentifier " + oid_text() + " has parameters other than NULL");
      if (kind != KeyKind::rsa) return wrong_key("an RSA key");
      if (auto e = check_accept(true, false)) return auth_fail(*e);
      if (auto e = refuse_sha1(h)) return *e;
      return verified(h.md(), std::nullopt, sig, std::string("RSA PKCS#1 v1.5 ") + h.label + " (method 14)");
    }
    if (nid == h.ecdsa_nid) {
      if (!absent_or_null(ptype)) return auth_fail("AUTH AlgorithmIdentifier " + oid_text() + " has parameters");
      if (kind != KeyKind::ec) return wrong_key("an ECDSA key");
      if (auto e = check_accept(false, false)) return auth_fail(*e);
      if (auto e = refuse_sha1(h)) return *e;
      return verified(h.md(), std::nullopt, sig, std::string("ECDSA ") + h.label + " (method 14)");
    }
  }
  if (nid != NID_rsassaPss) return auth_fail("AUTH signature algorithm " + oid_text() + " is not supported");

  // RSASSA-PSS-params (RFC 4055 §3.1); absent fields take their DEFAULTs.
  if (kind != KeyKind::rsa) return wrong_key("an RSA key");
  if (auto e = check_accept(true, true)) return auth_fail(*e);
  if (ptype != V_ASN1_SEQUENCE) return auth_fail("AUTH RSASSA-PSS AlgorithmIdentifier has no parameters");
  PssOwn params(static_cast<RSA_PSS_PARAMS*>(
      ASN1_item_unpack(static_cast<const ASN1_STRING*>(pval), ASN1_ITEM_rptr(RSA_PSS_PARAMS))));
  if (!params) return auth_fail("AUTH RSASSA-PSS parameters are not valid DER");
  const HashInfo* hash = hash_by_digest_nid(params->hashAlgorithm ? OBJ_obj2nid(params->hashAlgorithm->algorithm) : NID_sha1);
  if (!hash) return auth_fail("AUTH RSASSA-PSS hash is not SHA-1 or SHA-2");
  const HashInfo* mgf_hash = &hash_info(SignatureHash::sha1);
  if (params->maskGenAlgorithm) {
    const ASN1_OBJECT* mobj = nullptr;
    int mtype = V_ASN1_UNDEF;
    const void* mval = nullptr;
    X509_ALGOR_get0(&mobj, &mtype, &mval, params->maskGenAlgorithm);
    if (OBJ_obj2nid(mobj) != NID_mgf1) return auth_fail("AUTH RSASSA-PSS mask generation function is not MGF1");
    const AlgorOwn mgf_alg = unpack_algor(mtype, mval);
    if (!mgf_alg) return auth_fail("AUTH RSASSA-PSS MGF1 parameters are not valid DER");
    mgf_hash = hash_by_digest_nid(OBJ_obj2nid(mgf_alg->algorithm));
    if (!mgf_hash) return auth_fail("AUTH RSASSA-PSS MGF1 hash is not SHA-1 or SHA-2");
  }
  const long salt = params->saltLength ? ASN1_INTEGER_get(params->saltLength) : 20;
  if (salt < 0 || salt > EVP_PKEY_get_size(key)) return auth_fail("AUTH RSASSA-PSS salt length is invalid");
  if (params->trailerField && ASN1_INTEGER_get(params->trailerField) != 1) {
    return auth_fail("AUTH RSASSA-PSS trailer field is not 1");
  }
  if (auto e = refuse_sha1(*hash)) return *e;
  if (auto e = refuse_sha1(*mgf_hash)) return *e;
  std::string algorithm = std::string("RSASSA-PSS ") + hash->label;
  if (mgf_hash != hash) algorithm += std::string(" MGF1-") + mgf_hash->label;
  return verified(hash->md(), Pss{static_cast<int>(salt), mgf_hash->md()}, sig, algorithm + " (method 14)");
}

}  // namespace

// ---------------------------------------------------------------------------

std::vector<std::uint8_t> signature_hash_algorithms_notify_data() {
  std::vector<std::uint8_t> out;
  for (auto h : {SignatureHash::sha2_256, SignatureHash::sha2_384, SignatureHash::sha2_512}) {
    const auto v = static_cast<std::uint16_t>(h);
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
  }
  return out;
}

std::vector<std::uint16_t> parse_signature_hash_algorithms(std::span<const std::uint8_t> notify_data) {
  std::vector<std::uint16_t> out;
  for (std::size_t i = 0; i + 1 < notify_data.size(); i += 2) {
    out.push_back(static_cast<std::uint16_t>((notify_data[i] << 8) | notify_data[i + 1]));
  }
  return out;
}

std::optional<LocalCredential> LocalCredential::load(const std::vector<std::string>& cert_files,
                                                     const std::string& key_file,
                                                     const config::SecretBytes& passphrase, std::string* why) {
  ErrorQueueGuard guard;
  if (cert_files.empty()) {
    fail(why, "no certificate configured (local.certs)");
    return std::nullopt;
  }
  LocalCredential c;
  if (!load_certificate_files(cert_files, "certificate", c.certs_, why)) return std::nullopt;
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
  if (cert_files.empty()) {
    fail(why, "no certificate configured (local.certs)");
    return std::nullopt;
  }
  LocalCredential c;
  if (!load_certificate_files(cert_files, "certificate", c.certs_, why)) return std::nullopt;
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

std::optional<corridor::ike::Authentication> LocalCredential::sign(std::span<const std::uint8_t> octets,
                                                                   std::span<const std::uint16_t> peer_hashes,
                                                                   const SignOptions& options, std::string* why) const {
  ErrorQueueGuard guard;
  if (!key_) {
    fail(why, "no private key loaded");
    return std::nullopt;
  }
  EVP_PKEY* key = key_.get();
  const KeyKind kind = key_kind(key);
  if (kind == KeyKind::ec && options.rsa_pss) {
    fail(why, "rsa/pss needs an RSA key, the certificate has an " + describe_key(key) + " key");
    return std::nullopt;
  }
  const bool pss = kind == KeyKind::rsa && (options.rsa_pss || EVP_PKEY_is_a(key, "RSA-PSS"));
  auto openssl_failed = [&](const char* what) -> std::optional<corridor::ike::Authentication> {
    fail(why, std::string(what) + " with the " + describe_key(key) + " key failed: " + openssl_reason());
    return std::nullopt;
  };

  auto hash = choose_hash(key, peer_hashes);
  if (!hash) {
    // No RFC 7427 hashes from the peer: the classic methods where we may.
    if (kind == KeyKind::rsa && !pss && options.allow_sha1) {
      auto sig = evp_sign(key, EVP_sha1(), std::nullopt, octets);
      if (!sig) return openssl_failed("RSA PKCS#1 v1.5 SHA-1 signing");
      return corridor::ike::Authentication{WireMethod::rsa_digital_signature, std::move(*sig)};
    }
    if (kind == KeyKind::ec) {
      if (const ClassicEcdsa* c = classic_by_curve(curve_nid(key))) {
        auto der = evp_sign(key, hash_info(c->hash).md(), std::nullopt, octets);
        if (!der) return openssl_failed("ECDSA signing");
        auto rs = der_to_rs(*der, c->field);
        if (!rs) return openssl_failed("ECDSA signature conversion");
        return corridor::ike::Authentication{c->method, std::move(*rs)};
      }
      hash = ec_hash(EVP_PKEY_get_bits(key));
    } else {
      hash = SignatureHash::sha2_256;
    }
  }
  const HashInfo& h = hash_info(*hash);
  const auto alg = signature_algorithm_identifier(kind, pss, h);
  if (!alg || alg->size() > 255) return openssl_failed("encoding the AlgorithmIdentifier");
  std::optional<Pss> pss_params;
  if (pss) pss_params = Pss{EVP_MD_get_size(h.md()), h.md()};
  auto sig = evp_sign(key, h.md(), pss_params, octets);
  if (!sig) return openssl_failed("signing");
  corridor::ike::Authentication auth{WireMethod::digital_signature, {}};
  auth.data.reserve(1 + alg->size() + sig->size());
  auth.data.push_back(static_cast<std::uint8_t>(alg->size()));
  auth.data.insert(auth.data.end(), alg->begin(), alg->end());
  auth.data.insert(auth.data.end(), sig->begin(), sig->end());
  return auth;
}

std::optional<TrustStore> TrustStore::load(const std::vector<std::string>& cacert_files, std::string* why) {
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

VerifyResult verify_peer(const TrustStore& trust, std::span<const corridor::ike::Certificate> certs,
                         const config::Identity& claimed, const corridor::ike::Authentication& auth,
                         std::span<const std::uint8_t> octets, std::time_t now, const VerifyOptions& options) {
  VerifyResult r;
  const PeerCertificate cert = validate_peer_certificate(trust, certs, claimed, now);
  r.subject = cert.subject;
  if (!cert.ok) {
    r.why = cert.why;
    return r;
  }
  // 5. The AUTH payload (RFC 7296 §3.8, RFC 7427 §3, RFC 4754 §7).
  ErrorQueueGuard guard;
  auto check = check_auth(X509_get0_pubkey(cert.leaf.get()), auth, octets, options, cert.label);
  if (!check.ok) {
    r.why = std::move(check.why);
    return r;
  }
  r.ok = true;
  r.algorithm = std::move(check.algorithm);
  return r;
}

// ---------------------------------------------------------------------------
// IKEv1 signatures over HASH_I / HASH_R (RFC 2409 §5.1, RFC 4754 §5).

namespace {

struct DigestScheme {
  DigestSignature scheme;
  const char* label;
  int curve;          // NID_undef for RSA
  std::size_t field;  // ECDSA: octets of r and of s
};

constexpr DigestScheme kDigestSchemes[] = {
    {DigestSignature::rsa, "RSA", NID_undef, 0},
    {DigestSignature::ecdsa_p256, "ECDSA P-256", NID_X9_62_prime256v1, 32},
    {DigestSignature::ecdsa_p384, "ECDSA P-384", NID_secp384r1, 48},
    {DigestSignature::ecdsa_p521, "ECDSA P-521", NID_secp521r1, 66},
};

const DigestScheme& digest_scheme(DigestSignature s) {
  for (const auto& d : kDigestSchemes) {
    if (d.scheme == s) return d;
  }
  return kDigestSchemes[0];
}

std::optional<DigestSignature> digest_signature_of(const EVP_PKEY* key) {
  switch (key_kind(key)) {
    case KeyKind::rsa: return DigestSignature::rsa;
    case KeyKind::ec:
      for (const auto& d : kDigestSchemes) {
        if (d.curve != NID_undef && d.curve == curve_nid(key)) return d.scheme;
      }
      return std::nullopt;
    case KeyKind::other: break;
  }
  return std::nullopt;
}

// A signature of the digest as given (no hash applied): for RSA a PKCS#1
// v1.5 type 1 block without DigestInfo, for ECDSA the DER ECDSA-Sig-Value.
using PkeyCtxOwn = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;

std::optional<Bytes> raw_sign(EVP_PKEY* key, std::span<const std::uint8_t> digest) {
  PkeyCtxOwn ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1) return std::nullopt;
  if (key_kind(key) == KeyKind::rsa && EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) return std::nullopt;
  std::size_t len = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), digest.size()) != 1) return std::nullopt;
  Bytes sig(len);
  if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest.data(), digest.size()) != 1) return std::nullopt;
  sig.resize(len);
  return sig;
}

bool raw_verify(EVP_PKEY* key, std::span<const std::uint8_t> digest, std::span<const std::uint8_t> sig) {
  PkeyCtxOwn ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1) return false;
  if (key_kind(key) == KeyKind::rsa && EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) return false;
  return EVP_PKEY_verify(ctx.get(), sig.data(), sig.size(), digest.data(), digest.size()) == 1;
}

}  // namespace

std::string_view to_string(DigestSignature s) { return digest_scheme(s).label; }

std::optional<DigestSignature> LocalCredential::digest_signature() const {
  ErrorQueueGuard guard;
  return key_ ? digest_signature_of(key_.get()) : std::nullopt;
}

std::optional<std::vector<std::uint8_t>> LocalCredential::sign_digest(std::span<const std::uint8_t> digest,
                                                                      std::string* why) const {
  ErrorQueueGuard guard;
  if (!key_) {
    fail(why, "no private key loaded");
    return std::nullopt;
  }
  const auto scheme = digest_signature_of(key_.get());
  if (!scheme) {
    fail(why, "IKEv1 signs with RSA or ECDSA on P-256/P-384/P-521, the certificate has an " +
                  describe_key(key_.get()) + " key");
    return std::nullopt;
  }
  if (EVP_PKEY_is_a(key_.get(), "RSA-PSS")) {
    fail(why, "IKEv1 has no RSASSA-PSS signatures, the certificate has an " + describe_key(key_.get()) + " key");
    return std::nullopt;
  }
  auto sig = raw_sign(key_.get(), digest);
  if (!sig) {
    fail(why, "IKEv1 " + std::string(to_string(*scheme)) + " signing failed: " + openssl_reason());
    return std::nullopt;
  }
  if (*scheme == DigestSignature::rsa) return sig;
  auto rs = der_to_rs(*sig, digest_scheme(*scheme).field);
  if (!rs) fail(why, "ECDSA signature conversion failed: " + openssl_reason());
  return rs;
}

std::vector<std::vector<std::uint8_t>> TrustStore::certreq_names() const {
  std::vector<Bytes> out;
  for (const auto& a : anchors_) {
    unsigned char* der = nullptr;
    const int len = i2d_X509_NAME(X509_get_subject_name(a.get()), &der);
    if (len <= 0) continue;
    Bytes name(der, der + len);
    OPENSSL_free(der);
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  ERR_clear_error();
  return out;
}

bool verify_digest_signature(const PeerCertificate& cert, DigestSignature scheme, std::span<const std::uint8_t> digest,
                             std::span<const std::uint8_t> signature, config::AuthMethod accept, std::string* why) {
  ErrorQueueGuard guard;
  if (!cert.ok || !cert.leaf) return fail(why, "no validated certificate");
  EVP_PKEY* key = X509_get0_pubkey(cert.leaf.get());
  if (!key) return fail(why, "certificate '" + cert.label + "' has a public key OpenSSL cannot read");
  const DigestScheme& want = digest_scheme(scheme);
  const bool rsa = scheme == DigestSignature::rsa;
  switch (accept) {
    case config::AuthMethod::pubkey: break;
    case config::AuthMethod::rsa:
      if (!rsa) return fail(why, std::string("remote auth is rsa but the peer signs with ") + want.label);
      break;
    case config::AuthMethod::ecdsa:
      if (rsa) return fail(why, "remote auth is ecdsa but the peer signs with RSA");
      break;
    case config::AuthMethod::rsa_pss: return fail(why, "remote auth is rsa/pss, which IKEv1 does not have");
    case config::AuthMethod::psk: return fail(why, "remote auth is psk, not a certificate");
  }
  if (digest_signature_of(key) != scheme) {
    return fail(why, std::string("the Phase 1 method is ") + want.label + " signatures, certificate '" + cert.label +
                         "' has an " + describe_key(key) + " key");
  }
  std::optional<Bytes> der;
  std::span<const std::uint8_t> sig = signature;
  if (!rsa) {
    if (signature.size() != 2 * want.field) {
      return fail(why, std::string(want.label) + " signature is " + std::to_string(signature.size()) + " octets, not " +
                           std::to_string(2 * want.field));
    }
    der = rs_to_der(signature);
    if (!der) return fail(why, std::string(want.label) + " signature cannot be decoded");
    sig = *der;
  }
  if (!raw_verify(key, digest, sig)) {
    return fail(why, std::string("signature does not verify (") + want.label + ", certificate '" + cert.label + "')");
  }
  return true;
}

}  // namespace corridor::control::ike
