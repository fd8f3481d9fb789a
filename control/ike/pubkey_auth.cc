// IKEv2 AUTH with certificates (pubkey_auth.h): RFC 7427 digital signatures,
// RFC 4754 ECDSA methods, classic RSA; the hash the peer announced.
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

namespace {

using WireMethod = iana::AuthMethod;


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
}  // namespace corridor::control::ike
