#include "common/config/secret.h"

#include <openssl/crypto.h>

namespace corridor::config {

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    wipe();
    bytes_ = other.bytes_;
  }
  return *this;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::move(other.bytes_);
  }
  return *this;
}

SecretBytes::~SecretBytes() { wipe(); }

void SecretBytes::wipe() {
  // OPENSSL_cleanse is not optimised away, unlike a memset before free.
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

bool SecretBytes::equals(const SecretBytes& other) const {
  if (bytes_.size() != other.bytes_.size()) return false;
  if (bytes_.empty()) return true;
  return CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), bytes_.size()) == 0;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::optional<SecretBytes> decode_secret(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<SecretBytes> {
    if (error) *error = why;  // never echo the secret itself
    return std::nullopt;
  };
  std::vector<std::uint8_t> out;
  if (text.starts_with("0x")) {
    const auto hex = text.substr(2);
    if (hex.empty() || hex.size() % 2) return fail("hex secret (0x...) needs an even number of hex digits");
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
      const int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
      if (hi < 0 || lo < 0) {
        OPENSSL_cleanse(out.data(), out.size());
        return fail("hex secret (0x...) has a character that is not a hex digit");
      }
      out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
  } else if (text.starts_with("0s")) {
    const auto b64 = text.substr(2);
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t padding = 0;
    for (char c : b64) {
      if (c == '=') {
        ++padding;
        continue;
      }
      const int v = base64_value(c);
      if (v < 0 || padding) {
        OPENSSL_cleanse(out.data(), out.size());
        return fail("base64 secret (0s...) has an invalid character");
      }
      acc = acc << 6 | static_cast<std::uint32_t>(v);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push_back(static_cast<std::uint8_t>(acc >> bits));
      }
    }
    acc = 0;
    if (out.empty() || padding > 2) return fail("base64 secret (0s...) is empty or malformed");
  } else {
    out.assign(text.begin(), text.end());
  }
  return SecretBytes(std::move(out));
}

std::string_view to_string(SecretType t) {
  switch (t) {
    case SecretType::ike: return "ike";
    case SecretType::private_key: return "private";
    case SecretType::rsa: return "rsa";
    case SecretType::ecdsa: return "ecdsa";
  }
  return "unknown";
}

}  // namespace corridor::config
