// OpenSSL plumbing shared by the certificate code (certificates.cc), the
// IKEv2 AUTH formats (pubkey_auth.cc) and the IKEv1 signatures
// (signatures_v1.cc): owners for OpenSSL objects, the error queue, and
// what a key is. Internal to control/ike; the API is pubkey_auth.h.
#pragma once

#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "control/ike/pubkey_auth.h"

namespace corridor::control::ike {

// Gives the certificate checks the store without making it part of the public API.
struct TrustStoreAccess {
  static X509_STORE* store(const TrustStore& t) { return t.store_.get(); }
  static config::Revocation revocation(const TrustStore& t) { return t.revocation_; }
};

namespace openssl_support {

using Bytes = std::vector<std::uint8_t>;
using WireMethod = iana::AuthMethod;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using X509Own = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using CrlOwn = std::unique_ptr<X509_CRL, Deleter<X509_CRL, X509_CRL_free>>;
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

inline 
std::shared_ptr<X509> share(X509Own x) { return std::shared_ptr<X509>(x.release(), X509_free); }

// OpenSSL leaves reasons in its thread-local error queue; nothing here
// reports through it, so every public entry point leaves it empty.
struct ErrorQueueGuard {
  ~ErrorQueueGuard() { ERR_clear_error(); }
};

// The first queued OpenSSL reason, for messages about OpenSSL failures.

// The first queued OpenSSL reason, for messages about OpenSSL failures.
inline std::string openssl_reason() {
  const unsigned long e = ERR_peek_error();
  if (e == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(e);
  return reason ? reason : "OpenSSL error " + std::to_string(e);
}

inline bool fail(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return false;
}

enum class KeyKind : std::uint8_t { rsa, ec, other };

KeyKind key_kind(const EVP_PKEY* key);
int curve_nid(const EVP_PKEY* key);  // NID_undef if not an EC key on a named curve
std::string describe_key(const EVP_PKEY* key);  // "RSA-3072", "ECDSA P-256"

// DER ECDSA-Sig-Value -> r|s, each `field` octets (RFC 4754 §7), and back.
std::optional<Bytes> der_to_rs(const Bytes& der, std::size_t field);
std::optional<Bytes> rs_to_der(std::span<const std::uint8_t> rs);

}  // namespace openssl_support
}  // namespace corridor::control::ike
