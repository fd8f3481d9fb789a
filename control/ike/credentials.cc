#include "control/ike/credentials.h"

#include <sys/stat.h>

#include "common/log/log.h"

namespace corridor::control::ike {

std::vector<std::int64_t> file_stamps(const std::vector<std::string>& files) {
  std::vector<std::int64_t> out;
  out.reserve(files.size());
  for (const auto& f : files) {
    struct stat st {};
    out.push_back(::stat(f.c_str(), &st) == 0
                      ? static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec
                      : -1);
  }
  return out;
}

Credentials Credentials::load(const config::ConnectionConfig& conn, const std::vector<config::Secret>& secrets) {
  Credentials c;
  if (conn.local.auth != config::AuthMethod::psk) {
    c.local = LocalCredential::load(conn.local.certs, secrets, &c.local_error);
    if (!c.local) log::error("cfg", "connection " + conn.name + ": our certificate: " + c.local_error);
    else log::info("cfg", "connection " + conn.name + ": certificate '" + c.local->subject().value + "' with " +
                              c.local->key_description() + " key");
  }
  if (conn.remote.auth != config::AuthMethod::psk) {
    c.crl_stamps = file_stamps(conn.remote.crls);
    c.trust = TrustStore::load(conn.remote.cacerts, conn.remote.crls, conn.remote.revocation, &c.trust_error);
    if (!c.trust) log::error("cfg", "connection " + conn.name + ": trusted CAs: " + c.trust_error);
    else if (c.trust->crl_count() != 0 || conn.remote.revocation != config::Revocation::relaxed)
      log::info("cfg", "connection " + conn.name + ": " + std::to_string(c.trust->crl_count()) +
                           " CRL(s), revocation " + std::string(config::to_string(conn.remote.revocation)));
  }
  return c;
}

bool Credentials::crls_changed(const config::ConnectionConfig& conn) const {
  return conn.remote.auth != config::AuthMethod::psk && !conn.remote.crls.empty() &&
         file_stamps(conn.remote.crls) != crl_stamps;
}

}  // namespace corridor::control::ike
