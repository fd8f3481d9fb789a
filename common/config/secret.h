// The `secrets` section: pre-shared keys and private key files, keyed as in
// swanctl.conf ("ike-<suffix>", "private-<suffix>", "rsa-<suffix>",
// "ecdsa-<suffix>").
//
// Secret bytes live in SecretBytes, which wipes its memory when it goes away
// and cannot be streamed or formatted: nothing that logs a config can leak a
// key by accident.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/identity.h"

namespace corridor::config {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::vector<std::uint8_t> bytes) : bytes_(std::move(bytes)) {}
  SecretBytes(const SecretBytes& other) : bytes_(other.bytes_) {}
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {}
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  const std::uint8_t* data() const { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

  // Constant-time in the contents (the length is not secret).
  bool equals(const SecretBytes& other) const;

 private:
  void wipe();
  std::vector<std::uint8_t> bytes_;
};

// strongSwan's secret encodings: "0x..." hex, "0s..." base64, otherwise the
// literal string. nullopt (and `error`) if an encoded form does not decode.
std::optional<SecretBytes> decode_secret(std::string_view text, std::string* error = nullptr);

enum class SecretType : std::uint8_t { ike, private_key, rsa, ecdsa };
std::string_view to_string(SecretType t);

struct Secret {
  std::string name;             // the section key, e.g. "ike-site-b"
  SecretType type = SecretType::ike;
  std::vector<Identity> ids;    // ike: the identities it is for; empty matches any
  SecretBytes secret;           // ike: the PSK; key types: the file's passphrase (may be empty)
  std::string file;             // key types: PEM/DER private key file
};

}  // namespace corridor::config
