// IKEv1 signatures over HASH_I / HASH_R (RFC 2409 §5.1, RFC 4754 §5), see
// DigestSignature in pubkey_auth.h.
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
