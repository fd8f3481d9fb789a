// A connection's certificate credentials, as both IKE versions use them:
// our certificate and key (local.certs and the secrets) and the peer's
// trust anchors with their CRLs (remote.cacerts, remote.crls,
// remote.revocation). Loaded on first use and kept; the CRL files are
// looked at again (their modification times) before each use, so a CRL
// the operator replaces -- CAs publish a new one every day or week -- is
// read without a config change.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config/model.h"
#include "control/ike/pubkey_auth.h"

namespace corridor::control::ike {

struct Credentials {
  std::optional<LocalCredential> local;  // unset with local.auth psk, or when loading failed
  std::optional<TrustStore> trust;       // unset with remote.auth psk, or when loading failed
  std::string local_error;
  std::string trust_error;
  std::vector<std::int64_t> crl_stamps;  // modification times (ns) of remote.crls as loaded; -1: unreadable

  // Loads what `conn` names, logging what it loaded or why it could not.
  static Credentials load(const config::ConnectionConfig& conn, const std::vector<config::Secret>& secrets);
  // True when a CRL file changed since load(): load again.
  bool crls_changed(const config::ConnectionConfig& conn) const;
};

// Modification times (ns since the epoch) of `files`, -1 for one that
// cannot be read.
std::vector<std::int64_t> file_stamps(const std::vector<std::string>& files);

}  // namespace corridor::control::ike
