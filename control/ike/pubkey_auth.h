// Certificate (public key) authentication for both IKE versions: the
// certificates and keys, path validation and identity checks (RFC 4945
// profile) they share; IKEv2's AUTH payload (RFC 7296 §2.15 and §3.6-3.8,
// RFC 7427 Digital Signature, AUTH method 14, and the
// SIGNATURE_HASH_ALGORITHMS notify, RFC 4754 ECDSA methods 9-11); and
// IKEv1's SIG payload (RFC 2409 §5.1, see DigestSignature). OpenSSL 3 only;
// nothing here logs or returns key material.
//
// IKEv2: what is signed is always the <SignedOctets> of RFC 7296 §2.15 (see
// signed_octets() in auth.h): the same octets PSK authentication MACs.
//
// Sending (LocalCredential::sign), decided per AUTH payload:
//
//   peer sent N(SIGNATURE_HASH_ALGORITHMS) with SHA2-256/384/512 in it
//     -> method 14 (RFC 7427 §3). AUTH data = one octet, the length of the
//        AlgorithmIdentifier; the DER AlgorithmIdentifier; the signature.
//        RSA:   sha{256,384,512}WithRSAEncryption (PKCS#1 v1.5, parameters
//               NULL, RFC 4055 §5), or with rsa_pss id-RSASSA-PSS with
//               RSASSA-PSS-params {hash, MGF1 with the same hash, salt
//               length = hash length, trailer field 1 left out as DER
//               demands for a DEFAULT} (RFC 4055 §3.1, RFC 7427 §A.4).
//        ECDSA: ecdsa-with-SHA{256,384,512}, parameters absent (RFC 5758
//               §3.2); the signature is the DER ECDSA-Sig-Value (RFC 7427
//               §3, as PKIX carries it), not r|s.
//        Hash: ECDSA takes its curve's hash (P-256 -> SHA2-256, P-384 ->
//        SHA2-384, P-521 -> SHA2-512) when the peer announced it, otherwise
//        the strongest SHA-2 the peer announced; RSA takes SHA2-256 when
//        announced, otherwise the strongest SHA-2 announced. SHA-1 and
//        Identity (5, for EdDSA, RFC 8420) are never chosen.
//   no such notify (or one without any SHA-2)
//     -> RSA: method 1 (RFC 7296 §3.8: RSASSA-PKCS1-v1_5; SHA-1 as every
//        implementation uses it, RFC 7427 §1) when SignOptions::allow_sha1,
//        else method 14 with SHA2-256 anyway: a peer that cannot verify it
//        fails the exchange rather than us signing with SHA-1. rsa_pss
//        always means method 14 (method 1 has no PSS).
//        ECDSA on P-256/P-384/P-521: method 9/10/11 (RFC 4754 §3, §7),
//        hash fixed by the curve, signature r|s, each zero-padded to the
//        curve's field size (32/48/66 octets). Other curves: method 14
//        with SHA2-256.
//
// Receiving (verify_peer), in this order, each failure saying which check:
//   1. CERT payloads (RFC 7296 §3.6): the first one carries the key that
//      signed AUTH and must be X.509 Certificate - Signature (4), DER. Later
//      encoding-4 payloads are untrusted intermediates for path building;
//      CERT payloads of other encodings after the first (CRLs, hash and
//      URL, ...) are ignored.
//   2. Path validation (RFC 5280 §6, OpenSSL's X509_verify_cert) to one of
//      the connection's `cacerts` at the given time: validity periods,
//      signatures, basicConstraints cA and pathLenConstraint and keyCertSign
//      of every issuer, unknown critical extensions refused. Every cacert is
//      a trust anchor, self-signed or not (X509_V_FLAG_PARTIAL_CHAIN), the
//      way strongSwan treats a configured CA certificate. Depth is at most
//      8. No purpose / extendedKeyUsage check (RFC 4945 §5.1.3.12 leaves
//      EKU to local policy and strongSwan does not check it). No revocation
//      checking (no CRL, no OCSP).
//   3. keyUsage of the end entity, when the extension is present, must
//      have digitalSignature or nonRepudiation (RFC 4945 §5.1.3.2).
//   4. The claimed identity (IDi/IDr, RFC 7296 §3.5) must be certified by
//      the end entity, see certifies() below.
//   5. AUTH (RFC 7296 §3.8) verifies over the octets with the end entity's
//      public key: method 14 with any SHA-2 and PKCS#1 v1.5, RSASSA-PSS
//      (any salt length; the parameters as sent, trailer field 1 explicit
//      or absent; MGF1 with a SHA-2) or ECDSA (DER signature; any SHA-2 on
//      any curve, RFC 7427 ties no hash to a curve); method 1 (RSA PKCS#1
//      v1.5 SHA-1); methods 9/10/11 (key on exactly P-256/P-384/P-521).
//      SHA-1, in method 1 or inside method 14, only with allow_sha1.
//      PSK, NULL, DSS and EdDSA AUTH are refused here.
//
// Identities a certificate certifies (certifies(), RFC 4945 §3.1.*, as
// strongSwan matches them):
//   ID_DER_ASN1_DN    the subject DN, compared as X509_NAME_cmp does
//                     (RFC 5280 §7.1 canonical form: string types and case
//                     of printable text do not matter).
//   ID_FQDN           a subjectAltName dNSName, without regard to case; no
//                     wildcard matching, and never the CN.
//   ID_RFC822_ADDR    a subjectAltName rfc822Name, without regard to case.
//   ID_IPV4/IPV6_ADDR a subjectAltName iPAddress of the same bytes.
//   ID_KEY_ID         the subjectKeyIdentifier, or the SHA-1 of the
//                     subjectPublicKey bits, or of the whole
//                     SubjectPublicKeyInfo (strongSwan's key ids).
//   %any              nothing (it is a pattern, not an identity).
//
// Every object here is immutable after loading and may be shared between
// threads; copies share the underlying OpenSSL objects.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/identity.h"
#include "common/config/model.h"
#include "common/config/secret.h"
#include "common/ike/message.h"

namespace corridor::control::ike {

// RFC 7427 §4 / IANA "IKEv2 Hash Algorithms".
enum class SignatureHash : std::uint16_t {
  sha1 = 1,
  sha2_256 = 2,
  sha2_384 = 3,
  sha2_512 = 4,
  identity = 5,
};

// The notify data of the N(SIGNATURE_HASH_ALGORITHMS) we send in IKE_SA_INIT
// (RFC 7427 §4): SHA2-256, SHA2-384, SHA2-512 as 16-bit network-order
// values. Not SHA-1 (even with allow_sha1 we do not ask for it), not
// Identity (we have no EdDSA).
std::vector<std::uint8_t> signature_hash_algorithms_notify_data();

// The hash algorithm identifiers of a received SIGNATURE_HASH_ALGORITHMS
// notify, in the order sent, unknown values included (callers ignore them).
// A trailing odd octet is ignored, as strongSwan does.
std::vector<std::uint16_t> parse_signature_hash_algorithms(std::span<const std::uint8_t> notify_data);

// IKEv1 signatures (RFC 2409 §5.1): what is signed is HASH_I or HASH_R
// itself, and it is not hashed again (it already is a PRF output):
//   rsa    Phase 1 method 3 (RSA signatures): a PKCS#1 v1.5 signature block
//          (type 1) around the bare hash, no DigestInfo, as RFC 2409 §5.1
//          and every IKEv1 implementation (strongSwan's
//          SIGN_RSA_EMSA_PKCS1_NULL) do.
//   ecdsa  methods 9/10/11 (RFC 4754 §5): the hash signed as the digest by a
//          key on P-256/P-384/P-521; the signature r|s, each the curve's
//          field size (32/48/66 octets, §7).
// The method is one SA attribute for both directions, so both ends sign
// with the same kind of key.
enum class DigestSignature : std::uint8_t { rsa, ecdsa_p256, ecdsa_p384, ecdsa_p521 };
std::string_view to_string(DigestSignature s);  // "RSA", "ECDSA P-256", ...

struct SignOptions {
  bool rsa_pss = false;     // RSA keys sign RSASSA-PSS (config `auth: rsa/pss`); method 14 always
  bool allow_sha1 = false;  // without peer hashes, RSA may use method 1 (SHA-1)
};

// Our end-entity certificate (+ the intermediates sent along with it) and
// its private key. Load once with the config; then cheap to copy.
class LocalCredential {
 public:
  // cert_files: PEM files (several certificates per file allowed; a file
  // holding no PEM certificate is read as one DER certificate); the first
  // certificate is the end entity, the rest are sent as CERT payloads after
  // it in the order given. key_file: the private key, PEM or DER, PKCS#8 or
  // traditional, encrypted when `passphrase` is non-empty (never prompts).
  // The key must be RSA or EC and must be the end entity's. nullopt and
  // `why` (naming the file and the reason) otherwise.
  static std::optional<LocalCredential> load(const std::vector<std::string>& cert_files,
                                             const std::string& key_file,
                                             const config::SecretBytes& passphrase, std::string* why);

  // As load(), with the private key found among the `private-*`, `rsa-*`
  // and `ecdsa-*` secrets: the one whose public key is the end entity's
  // (strongSwan finds keys the same way). `rsa-*` must hold an RSA key,
  // `ecdsa-*` an EC key. Secrets that fail to load are reported in `why`
  // only if none matches.
  static std::optional<LocalCredential> load(const std::vector<std::string>& cert_files,
                                             std::span<const config::Secret> secrets, std::string* why);

  // True if the end entity certifies `id` (see the table at the top).
  bool certifies(const config::Identity& id) const;
  // The end entity's subject, as ID_DER_ASN1_DN: what to send as IDi/IDr
  // when the config has no `local.id`.
  config::Identity subject() const;
  // One CERT payload per certificate, X.509 Certificate - Signature (4),
  // DER; end entity first (RFC 7296 §3.6).
  std::vector<corridor::ike::Certificate> cert_payloads() const;
  // "RSA-3072", "ECDSA P-256": for logs.
  std::string key_description() const;

  // IKEv1: the signature scheme of our key (see DigestSignature below);
  // nullopt for an EC key on a curve other than P-256/P-384/P-521.
  std::optional<DigestSignature> digest_signature() const;
  // IKEv1: the SIG payload data over HASH_I/HASH_R. nullopt and `why` if
  // OpenSSL fails or the key has no digest_signature().
  std::optional<std::vector<std::uint8_t>> sign_digest(std::span<const std::uint8_t> digest, std::string* why) const;

  // The AUTH payload over `octets` (see the top of this file for the method
  // and hash). `peer_hashes`: parse_signature_hash_algorithms() of the
  // peer's notify, empty if it sent none. nullopt and `why` only if OpenSSL
  // fails or rsa_pss is asked of an EC key.
  std::optional<corridor::ike::Authentication> sign(std::span<const std::uint8_t> octets,
                                                    std::span<const std::uint16_t> peer_hashes,
                                                    const SignOptions& options, std::string* why) const;

 private:
  // What both load()s begin with: local.certs, end entity first, or false
  // with the reason.
  bool load_certs(const std::vector<std::string>& cert_files, std::string* why);

  std::vector<std::shared_ptr<X509>> certs_;  // end entity first
  std::shared_ptr<EVP_PKEY> key_;
};

// The trust anchors of one connection (`remote.cacerts`).
class TrustStore {
 public:
  // PEM files, several certificates per file allowed (or one DER
  // certificate per file). nullopt and `why` if a file cannot be read or
  // holds no certificate.
  static std::optional<TrustStore> load(const std::vector<std::string>& cacert_files, std::string* why);
  // The same with the connection's CRLs (PEM, several per file, or one DER
  // CRL per file) and its revocation policy (config::Revocation): a peer
  // certificate a CRL of its issuer lists is refused, and, by the policy,
  // one without such a CRL. Only the end entity is checked against CRLs.
  // nullopt and `why` if a file cannot be read or holds no CRL.
  static std::optional<TrustStore> load(const std::vector<std::string>& cacert_files,
                                        const std::vector<std::string>& crl_files, config::Revocation revocation,
                                        std::string* why);

  // The Certification Authority field of our CERTREQ payload (RFC 7296
  // §3.7, encoding 4): the concatenated SHA-1 hashes of each anchor's
  // SubjectPublicKeyInfo DER, in file order, each key once.
  std::vector<std::uint8_t> certreq_authorities() const;

  // IKEv1 CERTREQ payloads (RFC 2408 §3.10, RFC 4945 §3.2.7.1): one per
  // anchor, the Certificate Authority field its DER subject name.
  std::vector<std::vector<std::uint8_t>> certreq_names() const;

  std::size_t size() const { return anchors_.size(); }
  std::size_t crl_count() const { return crl_count_; }

 private:
  friend struct TrustStoreAccess;
  std::vector<std::shared_ptr<X509>> anchors_;
  std::shared_ptr<X509_STORE> store_;
  std::size_t crl_count_ = 0;  // CRLs loaded into store_
  config::Revocation revocation_ = config::Revocation::relaxed;
};

struct VerifyOptions {
  bool allow_sha1 = false;  // accept method 1 and SHA-1 inside method 14
  // The config's `remote.auth`: pubkey takes any key and scheme; rsa an RSA
  // key (PKCS#1 v1.5 or PSS); rsa_pss RSASSA-PSS only; ecdsa an EC key;
  // psk refuses everything.
  config::AuthMethod accept = config::AuthMethod::pubkey;
};

struct VerifyResult {
  bool ok = false;
  // When !ok, which check failed, in operator words, e.g.
  //   certificate 'CN=x' expired on 2026-01-01 00:00:00 UTC
  //   no trusted CA for 'CN=x' (issuer 'CN=y')
  //   peer identity 'gw.example' not in certificate 'CN=z' (subjectAltName: DNS:a.example)
  //   signature does not verify (RSASSA-PSS SHA2-256, certificate 'CN=z')
  std::string why;
  config::Identity subject;  // the end entity's subject DN (set once the certificate parsed)
  std::string algorithm;     // when ok: e.g. "ECDSA SHA2-384 (method 14)"
};

// Checks 1-4 at the top of this file: the peer's certificate, without its
// AUTH. IKEv1 then checks the signature with verify_digest_signature().
struct PeerCertificate {
  bool ok = false;
  std::string why;           // as VerifyResult::why
  config::Identity subject;  // the end entity's subject DN
  std::string label;         // the subject, for logs
  std::shared_ptr<X509> leaf;
};
PeerCertificate validate_peer_certificate(const TrustStore& trust, std::span<const corridor::ike::Certificate> certs,
                                          const config::Identity& claimed, std::time_t now);

// IKEv1: `signature` (SIG payload data) over `digest` (HASH_I/HASH_R) by the
// key of a validated certificate, in `scheme` (from the Phase 1 method).
// `accept`: the config's `remote.auth` (rsa/ecdsa narrow it; rsa/pss cannot
// be met in IKEv1). false and `why` on any mismatch.
bool verify_digest_signature(const PeerCertificate& cert, DigestSignature scheme, std::span<const std::uint8_t> digest,
                             std::span<const std::uint8_t> signature, config::AuthMethod accept, std::string* why);

// The checks listed at the top of this file. `certs`: the peer's CERT
// payloads in the order received; `claimed`: its IDi/IDr (from_wire());
// `octets`: the peer's signed octets; `now`: the validation time.
VerifyResult verify_peer(const TrustStore& trust, std::span<const corridor::ike::Certificate> certs,
                         const config::Identity& claimed, const corridor::ike::Authentication& auth,
                         std::span<const std::uint8_t> octets, std::time_t now, const VerifyOptions& options);

}  // namespace corridor::control::ike
