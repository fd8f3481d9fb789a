// Phase 1 authentication (RFC 2409 §5), for Main and Aggressive Mode alike.
// The SA's Authentication Method attribute decides it for both ends:
//
//   PRE_SHARED_KEY      SKEYID = prf(pre-shared key, Ni_b | Nr_b)
//                       proof: HASH_I / HASH_R
//   RSA_SIGNATURES,     SKEYID = prf(Ni_b | Nr_b, g^xy)              (§5.1)
//   ECDSA_SHA*_P*       proof: CERT payloads (end entity first), then SIG,
//   (RFC 4754)          the signature over HASH_I / HASH_R itself
//                       (control/ike/pubkey_auth.h, DigestSignature)
//
// Which signature method we use follows from our key: RSA_SIGNATURES for
// RSA, ECDSA_SHA256_P256 / _SHA384_P384 / _SHA512_P521 for an EC key on
// that curve, the way strongSwan picks it. The peer must sign the same way.
//
// CERTREQ: strongSwan sends its certificate only when asked (send_cert =
// ifasked), so with signatures we send one CERTREQ per trusted CA, naming
// it by subject DN (RFC 4945 §3.2.7.1), with our KE (Main Mode 3/4,
// Aggressive Mode 1/2). Our own certificates always go with our SIG.
//
// The peer's certificate is checked as in IKEv2 (pubkey_auth.h): a path to
// one of the connection's `remote.cacerts`, validity now, keyUsage, and
// the ID payload certified by it (subject DN or subjectAltName).
#include <openssl/crypto.h>

#include <ctime>

#include "common/log/log.h"
#include "control/ike/identity.h"
#include "control/ikev1/manager.h"
#include "control/ikev1/phase1_payloads.h"

namespace corridor::control::ikev1 {

using codec::Payload;
using v1::PayloadType;

namespace {

bool uses_psk(config::AuthMethod m) { return m == config::AuthMethod::psk; }

v1::Phase1Auth method_of(ike::DigestSignature s) {
  switch (s) {
    case ike::DigestSignature::rsa: return v1::Phase1Auth::rsa_signatures;
    case ike::DigestSignature::ecdsa_p256: return v1::Phase1Auth::ecdsa_sha256_p256;
    case ike::DigestSignature::ecdsa_p384: return v1::Phase1Auth::ecdsa_sha384_p384;
    case ike::DigestSignature::ecdsa_p521: return v1::Phase1Auth::ecdsa_sha512_p521;
  }
  return v1::Phase1Auth::rsa_signatures;
}

std::optional<ike::DigestSignature> scheme_of(v1::Phase1Auth m) {
  switch (m) {
    case v1::Phase1Auth::rsa_signatures: return ike::DigestSignature::rsa;
    case v1::Phase1Auth::ecdsa_sha256_p256: return ike::DigestSignature::ecdsa_p256;
    case v1::Phase1Auth::ecdsa_sha384_p384: return ike::DigestSignature::ecdsa_p384;
    case v1::Phase1Auth::ecdsa_sha512_p521: return ike::DigestSignature::ecdsa_p521;
    default: return std::nullopt;
  }
}

template <typename T>
const T* first_of(const std::vector<Payload>& payloads, PayloadType type) {
  for (const auto& p : payloads) {
    if (p.type == type) return std::get_if<T>(&p.body);
  }
  return nullptr;
}

}  // namespace

// --- Credentials -------------------------------------------------------------------

const Manager::Credentials& Manager::credentials(const config::ConnectionConfig& conn) const {
  auto it = credentials_.find(&conn);
  if (it != credentials_.end() && !it->second.crls_changed(conn)) return it->second;
  if (it != credentials_.end()) {
    log::info("cfg", "connection " + conn.name + ": a CRL file changed, loading the trusted CAs and CRLs again");
    credentials_.erase(it);
  }
  return credentials_.emplace(&conn, Credentials::load(conn, config_->secrets)).first->second;
}

std::optional<v1::Phase1Auth> Manager::phase1_method(const config::ConnectionConfig& conn, std::string* why) const {
  auto refuse = [&](std::string text) -> std::optional<v1::Phase1Auth> {
    if (why) *why = std::move(text);
    return std::nullopt;
  };
  if (uses_psk(conn.local.auth) && uses_psk(conn.remote.auth)) return v1::Phase1Auth::pre_shared_key;
  if (uses_psk(conn.local.auth) || uses_psk(conn.remote.auth))
    return refuse("IKEv1 authenticates both ends by one method: local.auth and remote.auth must both be psk or both "
                  "certificates");
  const auto& c = credentials(conn);
  if (!c.local) return refuse("no usable certificate: " + c.local_error);
  if (!c.trust) return refuse("no usable trusted CA: " + c.trust_error);
  const auto scheme = c.local->digest_signature();
  if (!scheme) return refuse("IKEv1 signs with RSA or ECDSA on P-256/P-384/P-521, not an " + c.local->key_description() + " key");
  if (conn.local.auth == config::AuthMethod::rsa && *scheme != ike::DigestSignature::rsa)
    return refuse("local auth is rsa but the certificate has an " + c.local->key_description() + " key");
  if (conn.local.auth == config::AuthMethod::ecdsa && *scheme == ike::DigestSignature::rsa)
    return refuse("local auth is ecdsa but the certificate has an " + c.local->key_description() + " key");
  return method_of(*scheme);
}

config::Identity Manager::local_identity(const IsakmpSa& sa) const {
  const auto& conn = *sa.connection;
  if (conn.local.id && conn.local.id->type != config::IdType::any) return *conn.local.id;
  if (!uses_psk(conn.local.auth)) {
    if (const auto& cred = credentials(conn).local) return cred->subject();
  }
  // swanctl's default for a PSK: our IKE address.
  return config::Identity{sa.local.address.is_v4() ? config::IdType::ipv4_addr : config::IdType::ipv6_addr,
                          sa.local.address.to_string()};
}

const config::Secret* Manager::psk_for(const IsakmpSa& sa) const {
  // Main Mode hides identities until message 5, but SKEYID needs the PSK at
  // message 4: it is chosen by the connection's configured identities (the
  // peer's address when none is configured), as strongSwan does.
  config::Identity remote{sa.remote.address.is_v4() ? config::IdType::ipv4_addr : config::IdType::ipv6_addr,
                          sa.remote.address.to_string()};
  if (sa.connection->remote.id && sa.connection->remote.id->type != config::IdType::any)
    remote = *sa.connection->remote.id;
  return ike::find_psk(*config_, local_identity(sa), remote);
}

std::vector<Payload> Manager::certificate_requests(const IsakmpSa& sa) const {
  std::vector<Payload> out;
  if (!sa.suite || sa.suite->auth == v1::Phase1Auth::pre_shared_key) return out;
  const auto& trust = credentials(*sa.connection).trust;
  if (!trust) return out;
  for (auto& name : trust->certreq_names()) {
    out.push_back(Payload{PayloadType::cert_request,
                          codec::CertificateRequest{v1::CertEncoding::x509_signature, std::move(name)}});
  }
  return out;
}

// --- SKEYID --------------------------------------------------------------------------

std::optional<config::SecretBytes> Manager::skeyid(IsakmpSa& sa, std::span<const std::uint8_t> g_xy) {
  const auto prf = sa.suite->keys().prf;
  if (sa.suite->auth == v1::Phase1Auth::pre_shared_key) {
    const auto* secret = psk_for(sa);
    if (!secret) {
      fail(sa, "no pre-shared key");
      return std::nullopt;
    }
    auto out = corridor::ikev1::skeyid_psk(prf, {secret->secret.data(), secret->secret.size()}, sa.ni_b, sa.nr_b);
    if (!out.ok()) {
      fail(sa, out.error().message);
      return std::nullopt;
    }
    return std::move(*out);
  }
  if (!scheme_of(sa.suite->auth)) {
    fail(sa, "Authentication Method " + std::to_string(static_cast<int>(sa.suite->auth)) + " is not implemented");
    return std::nullopt;
  }
  auto out = corridor::ikev1::skeyid_signature(prf, sa.ni_b, sa.nr_b, g_xy);
  if (!out.ok()) {
    fail(sa, out.error().message);
    return std::nullopt;
  }
  return std::move(*out);
}

// --- Our identity and its proof ------------------------------------------------------

std::optional<Payload> Manager::own_identification(IsakmpSa& sa) {
  std::string why;
  const auto me = local_identity(sa);
  auto id = wire_identity(me, &why);
  if (!id) {
    log::error("ike", sa.name() + " our identity " + me.value + ": " + why);
    return std::nullopt;
  }
  sa.local_id = me.value;
  return Payload{PayloadType::id, *id};
}

std::optional<std::vector<Payload>> Manager::proof_payloads(IsakmpSa& sa, const Payload& id_payload) {
  auto id_b = codec::serialise_body(id_payload);
  if (!id_b.ok() || !sa.keys) return std::nullopt;
  const corridor::ikev1::Phase1Transcript t{sa.g_xi, sa.g_xr, sa.cookie_i, sa.cookie_r, sa.sai_b};
  const auto prf = sa.suite->keys().prf;
  auto hash = sa.initiator() ? corridor::ikev1::hash_i(prf, sa.keys->skeyid, t, *id_b)
                             : corridor::ikev1::hash_r(prf, sa.keys->skeyid, t, *id_b);
  if (!hash.ok()) return std::nullopt;
  if (sa.suite->auth == v1::Phase1Auth::pre_shared_key)
    return std::vector<Payload>{Payload{PayloadType::hash, codec::Hash{std::move(*hash)}}};

  const auto& cred = credentials(*sa.connection).local;
  if (!cred) {
    log::error("ike", sa.name() + " no usable certificate: " + credentials(*sa.connection).local_error);
    return std::nullopt;
  }
  const auto me = local_identity(sa);
  if (!cred->certifies(me)) {
    log::error("ike", sa.name() + " our certificate '" + cred->subject().value + "' does not contain our identity " +
                          me.to_string());
    return std::nullopt;
  }
  std::string why;
  auto sig = cred->sign_digest(*hash, &why);
  if (!sig) {
    log::error("ike", sa.name() + " " + why);
    return std::nullopt;
  }
  std::vector<Payload> out;
  for (auto& c : cred->cert_payloads()) {
    out.push_back(Payload{PayloadType::cert, codec::Certificate{v1::CertEncoding::x509_signature, std::move(c.data)}});
  }
  out.push_back(Payload{PayloadType::sig, codec::Signature{std::move(*sig)}});
  return out;
}

std::optional<std::vector<Payload>> Manager::identity_payloads(IsakmpSa& sa) {
  auto id = own_identification(sa);
  if (!id) return std::nullopt;
  auto proof = proof_payloads(sa, *id);
  if (!proof) return std::nullopt;
  std::vector<Payload> out{std::move(*id)};
  for (auto& p : *proof) out.push_back(std::move(p));
  return out;
}

// --- The peer's identity and its proof -------------------------------------------------

bool Manager::verify_identity(IsakmpSa& sa, const Opened& message) {
  const codec::PayloadSpan* id_span = nullptr;
  const codec::Identification* id = nullptr;
  for (std::size_t i = 0; i < message.payloads.size() && !id; ++i) {
    if (message.payloads[i].type == PayloadType::id) {
      id = std::get_if<codec::Identification>(&message.payloads[i].body);
      id_span = &message.spans[i];
    }
  }
  if (!id) {
    fail(sa, "identity message without an ID payload");
    return false;
  }
  std::string why;
  const auto peer = identity_of(*id, &why);
  if (!peer) {
    fail(sa, "peer's identity: " + why);
    return false;
  }
  const auto& expected = sa.connection->remote.id;
  if (expected && !ike::matches(*expected, *peer)) {
    fail(sa, "peer identity '" + peer->value + "' is not the configured '" + expected->value + "'");
    return false;
  }
  if (!verify_proof(sa, message.payloads, id_span->body(message.plaintext), *peer)) return false;
  sa.remote_id = peer->value;
  return true;
}

bool Manager::verify_proof(IsakmpSa& sa, const std::vector<Payload>& payloads, std::span<const std::uint8_t> id_b,
                           const config::Identity& peer) {
  const char* what = sa.initiator() ? "HASH_R" : "HASH_I";
  const corridor::ikev1::Phase1Transcript t{sa.g_xi, sa.g_xr, sa.cookie_i, sa.cookie_r, sa.sai_b};
  const auto prf = sa.suite->keys().prf;
  auto want = sa.initiator() ? corridor::ikev1::hash_r(prf, sa.keys->skeyid, t, id_b)
                             : corridor::ikev1::hash_i(prf, sa.keys->skeyid, t, id_b);
  if (!want.ok()) {
    fail(sa, want.error().message);
    return false;
  }

  if (sa.suite->auth == v1::Phase1Auth::pre_shared_key) {
    const auto* hash = first_of<codec::Hash>(payloads, PayloadType::hash);
    if (!hash) {
      fail(sa, std::string("no ") + what + " (HASH payload) from '" + peer.value + "'");
      return false;
    }
    if (want->size() != hash->data.size() || CRYPTO_memcmp(want->data(), hash->data.data(), want->size()) != 0) {
      fail(sa, std::string(what) + " of '" + peer.value +
                   "' does not verify: the pre-shared keys differ (AUTHENTICATION-FAILED)");
      return false;
    }
    log::info("ike", sa.name() + " '" + peer.value + "' authenticated with the pre-shared key");
    return true;
  }

  const auto* sig = first_of<codec::Signature>(payloads, PayloadType::sig);
  if (!sig) {
    fail(sa, "no signature (SIG payload) from '" + peer.value + "' (AUTHENTICATION-FAILED)");
    return false;
  }
  std::vector<corridor::ike::Certificate> certs;
  for (const auto& p : payloads) {
    if (const auto* c = std::get_if<codec::Certificate>(&p.body); c && p.type == PayloadType::cert)
      certs.push_back({static_cast<iana::CertEncoding>(c->encoding), c->data});
  }
  const auto& trust = credentials(*sa.connection).trust;
  if (!trust) {
    fail(sa, "no usable trusted CA: " + credentials(*sa.connection).trust_error);
    return false;
  }
  const auto cert = ike::validate_peer_certificate(*trust, certs, peer, std::time(nullptr));
  if (!cert.ok) {
    fail(sa, "certificate of '" + peer.value + "': " + cert.why + " (AUTHENTICATION-FAILED)");
    return false;
  }
  const auto scheme = scheme_of(sa.suite->auth);
  std::string why;
  if (!scheme || !ike::verify_digest_signature(cert, *scheme, *want, sig->data, sa.connection->remote.auth, &why)) {
    fail(sa, "signature of '" + peer.value + "': " + (scheme ? why : std::string("unsupported method")) +
                 " (AUTHENTICATION-FAILED)");
    return false;
  }
  log::info("ike", sa.name() + " '" + peer.value + "' authenticated with an " + std::string(ike::to_string(*scheme)) +
                       " signature, certificate '" + cert.label + "'");
  return true;
}

}  // namespace corridor::control::ikev1
