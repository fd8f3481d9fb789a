#include "control/ikev2/cookie.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

namespace corridor::control::ikev2 {

CookieJar::CookieJar(std::span<const std::uint8_t> first_secret) {
  std::copy_n(first_secret.begin(), std::min(first_secret.size(), current_.bytes.size()), current_.bytes.begin());
  current_.version = 1;
}

void CookieJar::rotate(std::span<const std::uint8_t> new_secret) {
  previous_ = current_;
  has_previous_ = true;
  current_.version = previous_.version + 1;
  current_.bytes.fill(0);
  std::copy_n(new_secret.begin(), std::min(new_secret.size(), current_.bytes.size()), current_.bytes.begin());
}

std::vector<std::uint8_t> CookieJar::compute(const Secret& secret, std::span<const std::uint8_t> nonce_i,
                                             const net::IpAddress& initiator,
                                             const std::array<std::uint8_t, 8>& spi_i) {
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(secret.version >> 24),
                                static_cast<std::uint8_t>(secret.version >> 16),
                                static_cast<std::uint8_t>(secret.version >> 8), static_cast<std::uint8_t>(secret.version)};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, nonce_i.data(), nonce_i.size()) == 1 &&
                  EVP_DigestUpdate(ctx, initiator.bytes().data(), initiator.byte_length()) == 1 &&
                  EVP_DigestUpdate(ctx, spi_i.data(), spi_i.size()) == 1 &&
                  EVP_DigestUpdate(ctx, secret.bytes.data(), secret.bytes.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, digest, &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return {};  // never equal to a received cookie: refused, not crashed
  out.insert(out.end(), digest, digest + len);
  return out;
}

std::vector<std::uint8_t> CookieJar::make(std::span<const std::uint8_t> nonce_i, const net::IpAddress& initiator,
                                          const std::array<std::uint8_t, 8>& spi_i) const {
  return compute(current_, nonce_i, initiator, spi_i);
}

bool CookieJar::valid(std::span<const std::uint8_t> cookie, std::span<const std::uint8_t> nonce_i,
                      const net::IpAddress& initiator, const std::array<std::uint8_t, 8>& spi_i) const {
  if (cookie.size() < 4) return false;
  const std::uint32_t version = std::uint32_t{cookie[0]} << 24 | std::uint32_t{cookie[1]} << 16 |
                                std::uint32_t{cookie[2]} << 8 | cookie[3];
  const Secret* secret = version == current_.version                   ? &current_
                         : has_previous_ && version == previous_.version ? &previous_
                                                                         : nullptr;
  if (!secret) return false;
  const auto expected = compute(*secret, nonce_i, initiator, spi_i);
  return !expected.empty() && expected.size() == cookie.size() &&
         CRYPTO_memcmp(expected.data(), cookie.data(), cookie.size()) == 0;
}

}  // namespace corridor::control::ikev2
