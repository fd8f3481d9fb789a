// The X.509 certificates an operator manages through the API, in the
// directories swanctl keeps them in, beside the config file:
//
//   <config dir>/x509/NAME.pem     our certificates (local.certs)
//   <config dir>/x509ca/NAME.pem   trust anchors (remote.cacerts)
//
// A config names them like any file, relative to its own directory
// ("x509/gw-a.pem"). The store reads and writes these files and describes
// each certificate (subject, issuer, validity, key, fingerprint, which
// connections use it); private keys are secrets and never pass through
// here. Certificates that the running config names outside the directory
// are listed too (`managed` false), read-only.
//
// A certificate in use by a running connection cannot be removed (the
// next negotiation would fail); replacing it is allowed, and the IKE
// manager reloads its credentials so the next authentication uses it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/model.h"

namespace corridor::control {

enum class CertificateRole : std::uint8_t {
  end_entity,  // /certificates, x509/, local.certs
  authority,   // /authorities, x509ca/, remote.cacerts
};

struct CertificateInfo {
  std::string name;  // file name without ".pem" in the store; the path outside it
  std::string path;  // absolute
  bool managed = false;  // in the store's directory: the API may replace or remove it
  // The rest is set only when the file holds a certificate; otherwise
  // `error` says why not (a file named by the config that is gone, say).
  std::string error;
  std::string subject;  // RFC 2253 string, as IKE's ID_DER_ASN1_DN shows it
  std::string issuer;
  std::string serial;       // hex, colon-separated
  std::string not_before;   // ISO 8601 UTC
  std::string not_after;
  bool valid_now = false;   // not_before <= now <= not_after
  std::string key;          // "RSA 3072", "EC P-256", "ED25519"
  std::string fingerprint_sha256;  // hex, colon-separated, of the DER
  std::vector<std::string> subject_alt_names;  // "DNS:gw.example.net", "IP:192.0.2.1", "email:..."
  bool ca = false;           // basicConstraints cA
  bool self_signed = false;  // issuer = subject and its own key verifies it
  std::vector<std::string> used_by;  // running connections that name the file
};

class CertificateStore {
 public:
  enum class Error : std::uint8_t {
    none,
    invalid,    // bad name or PEM: the client's to fix (400)
    not_found,  // no such certificate in the store (404)
    in_use,     // a running connection names it (409)
    io,         // the directory or file could not be written (500)
  };
  struct Outcome {
    Error error = Error::none;
    std::string detail;  // why, for the problem document; the info's name otherwise
    bool created = false;  // put(): a new file rather than a replaced one
    CertificateInfo info;  // put(): what was stored
  };

  // `config_dir`: the directory of the config file (relative names in the
  // config resolve against it).
  CertificateStore(const std::string& config_dir, CertificateRole role);

  CertificateRole role() const { return role_; }
  const std::string& directory() const { return directory_; }
  // "x509/" or "x509ca/": how a config in config_dir names a stored file.
  std::string config_prefix() const;

  // Every *.pem of the directory (sorted by name), then each file the
  // running config names for this role outside it.
  std::vector<CertificateInfo> list(const config::Config& running) const;
  std::optional<CertificateInfo> find(std::string_view name, const config::Config& running) const;

  // Stores `pem` (exactly one PEM certificate; for an authority one with
  // basicConstraints cA) as NAME.pem, atomically, mode 0644; the directory
  // is made (0755) when missing.
  Outcome put(std::string_view name, std::string_view pem, const config::Config& running) const;
  // Removes NAME.pem unless a running connection names it.
  Outcome remove(std::string_view name, const config::Config& running) const;

 private:
  std::vector<std::string> files_named(const config::Config& running) const;
  CertificateInfo describe(const std::string& name, const std::string& path, bool managed,
                           const config::Config& running) const;

  std::string directory_;
  CertificateRole role_;
};

// A name the store takes: 1-64 of [A-Za-z0-9._-], not starting with '.'.
bool valid_certificate_name(std::string_view name);

}  // namespace corridor::control
