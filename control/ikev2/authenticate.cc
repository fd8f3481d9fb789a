// Who we are and whether the peer is who it says (RFC 7296 §2.15), by
// pre-shared key or by certificate (RFC 7427 digital signatures, RFC 4754
// ECDSA, classic RSA), for both IKE_AUTH roles:
//
//   our AUTH    over our IKE_SA_INIT message | the peer's nonce | prf(our SK_p, our ID)
//   peer's AUTH over its IKE_SA_INIT message | our nonce | prf(its SK_p, its ID)
//
// Certificates and keys are loaded once per connection, on first use.
#include <ctime>

#include "common/log/log.h"
#include "control/ikev2/auth.h"
#include "control/ike/identity.h"
#include "control/ikev2/manager.h"

namespace corridor::control::ikev2 {

using ike::to_wire;
using ike::find_psk;

namespace {

bool uses_psk(config::AuthMethod m) { return m == config::AuthMethod::psk; }

}  // namespace

const Manager::Credentials& Manager::credentials(const config::ConnectionConfig& conn) {
  auto it = credentials_.find(&conn);
  if (it != credentials_.end() && !it->second.crls_changed(conn)) return it->second;
  if (it != credentials_.end()) {
    log::info("cfg", "connection " + conn.name + ": a CRL file changed, loading the trusted CAs and CRLs again");
    credentials_.erase(it);
  }
  return credentials_.emplace(&conn, Credentials::load(conn, config_->secrets)).first->second;
}

config::Identity Manager::local_identity(const config::ConnectionConfig& conn, const net::SocketAddress& local) {
  if (conn.local.id && conn.local.id->type != config::IdType::any) return *conn.local.id;
  if (!uses_psk(conn.local.auth)) {
    if (const auto& cred = credentials(conn).local) return cred->subject();
  }
  // swanctl's default for a PSK: our IKE address.
  return config::Identity{local.address.is_v4() ? config::IdType::ipv4_addr : config::IdType::ipv6_addr,
                          local.address.to_string()};
}

std::optional<Manager::OwnAuth> Manager::authenticate_self(IkeSa& sa, const config::ConnectionConfig& conn,
                                                           const config::Identity& peer_id, std::string* why) {
  OwnAuth out;
  out.id = local_identity(conn, sa.local);
  const auto id_payload = to_wire(out.id, why);
  if (!id_payload) return std::nullopt;
  out.id_payload = *id_payload;
  const auto prf = *sa.proposal->prf;
  auto octets = signed_octets(prf, sa.initiator ? sa.init_request : sa.init_response,
                              sa.initiator ? sa.nonce_r : sa.nonce_i, sa.initiator ? sa.keys.sk_pi : sa.keys.sk_pr,
                              out.id_payload);
  if (!octets.ok()) {
    *why = octets.error().message;
    return std::nullopt;
  }
  if (uses_psk(conn.local.auth)) {
    const auto* psk = find_psk(*config_, out.id, peer_id);
    if (!psk) {
      *why = "no pre-shared key in `secrets` for " + out.id.to_string() + " - " + peer_id.to_string();
      return std::nullopt;
    }
    auto mac = psk_auth(prf, psk->secret, *octets);
    if (!mac.ok()) {
      *why = mac.error().message;
      return std::nullopt;
    }
    out.auth = {iana::AuthMethod::shared_key_message_integrity_code, Bytes(mac->data(), mac->data() + mac->size())};
    return out;
  }
  const auto& cred = credentials(conn).local;
  if (!cred) {
    *why = "no usable certificate: " + credentials(conn).local_error;
    return std::nullopt;
  }
  if (!cred->certifies(out.id)) {
    *why = "our certificate '" + cred->subject().value + "' does not contain our identity " + out.id.to_string();
    return std::nullopt;
  }
  SignOptions options;
  options.rsa_pss = conn.local.auth == config::AuthMethod::rsa_pss;
  options.allow_sha1 = conn.allow_weak;
  auto signature = cred->sign(*octets, sa.peer_signature_hashes, options, why);
  if (!signature) return std::nullopt;
  out.auth = std::move(*signature);
  out.certs = cred->cert_payloads();
  return out;
}

bool Manager::verify_peer_auth(IkeSa& sa, const config::ConnectionConfig& conn,
                               const codec::Identification& id_payload, const config::Identity& peer_id,
                               const codec::Authentication& auth, const std::vector<codec::Payload>& payloads,
                               std::string* why) {
  const auto prf = *sa.proposal->prf;
  auto octets = signed_octets(prf, sa.initiator ? sa.init_response : sa.init_request,
                              sa.initiator ? sa.nonce_i : sa.nonce_r, sa.initiator ? sa.keys.sk_pr : sa.keys.sk_pi,
                              id_payload);
  if (!octets.ok()) {
    *why = octets.error().message;
    return false;
  }
  if (uses_psk(conn.remote.auth)) {
    if (auth.method != iana::AuthMethod::shared_key_message_integrity_code) {
      *why = "peer " + peer_id.to_string() + " signs (auth method " + std::to_string(static_cast<int>(auth.method)) +
             "), connection " + conn.name + " expects a pre-shared key";
      return false;
    }
    const auto ours = local_identity(conn, sa.local);
    const auto* psk = find_psk(*config_, ours, peer_id);
    if (!psk) {
      *why = "no pre-shared key in `secrets` for " + ours.to_string() + " - " + peer_id.to_string();
      return false;
    }
    auto expected = psk_auth(prf, psk->secret, *octets);
    if (!expected.ok()) {
      *why = expected.error().message;
      return false;
    }
    if (!auth_equal(auth.data, *expected)) {
      *why = "pre-shared key of " + peer_id.to_string() + " does not match (secret " + psk->name + ")";
      return false;
    }
    return true;
  }
  if (auth.method == iana::AuthMethod::shared_key_message_integrity_code) {
    *why = "peer " + peer_id.to_string() + " uses a pre-shared key, connection " + conn.name + " expects certificates";
    return false;
  }
  const auto& trust = credentials(conn).trust;
  if (!trust) {
    *why = "no trusted CA for connection " + conn.name + ": " + credentials(conn).trust_error;
    return false;
  }
  std::vector<codec::Certificate> certs;
  for (const auto& p : payloads)
    if (const auto* c = std::get_if<codec::Certificate>(&p.body)) certs.push_back(*c);
  VerifyOptions options;
  options.allow_sha1 = conn.allow_weak;
  options.accept = conn.remote.auth;
  const auto result = verify_peer(*trust, certs, peer_id, auth, *octets, std::time(nullptr), options);
  if (!result.ok) {
    *why = result.why;
    return false;
  }
  log::info("ike", sa.name() + " authenticated '" + result.subject.value + "' with " + result.algorithm);
  return true;
}

}  // namespace corridor::control::ikev2
