#include "control/ikev2/auth.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <string_view>

namespace corridor::control::ikev2 {

using corridor::ike::KeyExpected;

std::vector<std::uint8_t> rest_of_id_payload(const corridor::ike::Identification& id) {
  std::vector<std::uint8_t> out(4 + id.data.size(), 0);
  out[0] = static_cast<std::uint8_t>(id.id_type);
  std::copy(id.data.begin(), id.data.end(), out.begin() + 4);
  return out;
}

KeyExpected<std::vector<std::uint8_t>> signed_octets(iana::PrfId prf, std::span<const std::uint8_t> real_message,
                                                     std::span<const std::uint8_t> peer_nonce,
                                                     const config::SecretBytes& sk_p,
                                                     const corridor::ike::Identification& id) {
  const auto rest = rest_of_id_payload(id);
  auto maced_id = corridor::ike::prf(prf, {sk_p.data(), sk_p.size()}, rest);
  if (!maced_id.ok()) return maced_id.error();
  std::vector<std::uint8_t> out(real_message.begin(), real_message.end());
  out.insert(out.end(), peer_nonce.begin(), peer_nonce.end());
  out.insert(out.end(), maced_id->data(), maced_id->data() + maced_id->size());
  return out;
}

KeyExpected<config::SecretBytes> psk_auth(iana::PrfId prf, const config::SecretBytes& psk,
                                          std::span<const std::uint8_t> octets) {
  static constexpr std::string_view kKeyPad = "Key Pad for IKEv2";  // RFC 7296 §2.15, no NUL
  const auto pad = std::span(reinterpret_cast<const std::uint8_t*>(kKeyPad.data()), kKeyPad.size());
  auto inner = corridor::ike::prf(prf, {psk.data(), psk.size()}, pad);
  if (!inner.ok()) return inner.error();
  return corridor::ike::prf(prf, {inner->data(), inner->size()}, octets);
}

bool auth_equal(std::span<const std::uint8_t> received, const config::SecretBytes& expected) {
  if (received.size() != expected.size()) return false;  // the length is public: the PRF's output size
  return CRYPTO_memcmp(received.data(), expected.data(), received.size()) == 0;
}

}  // namespace corridor::control::ikev2
