#include "common/ike/keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <vector>

namespace corridor::ike {

using iana::EncrId;
using iana::IntegId;
using iana::PrfId;

std::string_view to_string(KeyErrc code) {
  switch (code) {
    case KeyErrc::unsupported_prf: return "unsupported_prf";
    case KeyErrc::unsupported_encryption: return "unsupported_encryption";
    case KeyErrc::unsupported_integrity: return "unsupported_integrity";
    case KeyErrc::bad_key_length: return "bad_key_length";
    case KeyErrc::aead_with_integrity: return "aead_with_integrity";
    case KeyErrc::missing_integrity: return "missing_integrity";
    case KeyErrc::output_too_long: return "output_too_long";
    case KeyErrc::crypto_failure: return "crypto_failure";
    case KeyErrc::unsupported_group: return "unsupported_group";
    case KeyErrc::invalid_public_value: return "invalid_public_value";
    case KeyErrc::icv_mismatch: return "icv_mismatch";
    case KeyErrc::bad_padding: return "bad_padding";
    case KeyErrc::sealed_too_short: return "sealed_too_short";
  }
  return "unknown";
}

namespace {

// A buffer wiped on every exit path (intermediate prf+ blocks, KEYMAT).
class Scratch {
 public:
  explicit Scratch(std::size_t n) : bytes_(n) {}
  ~Scratch() {
    if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::uint8_t* data() { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  void resize(std::size_t n) { bytes_.resize(n); }
  SecretBytes take(std::size_t from, std::size_t n) const {
    return SecretBytes(std::vector<std::uint8_t>(bytes_.begin() + static_cast<std::ptrdiff_t>(from),
                                                 bytes_.begin() + static_cast<std::ptrdiff_t>(from + n)));
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

const EVP_MD* prf_digest(PrfId prf) {
  switch (prf) {
    case PrfId::hmac_sha1: return EVP_sha1();
    case PrfId::hmac_sha2_256: return EVP_sha256();
    case PrfId::hmac_sha2_384: return EVP_sha384();
    case PrfId::hmac_sha2_512: return EVP_sha512();
    default: return nullptr;
  }
}

KeyError unsupported_prf(PrfId prf) {
  return {KeyErrc::unsupported_prf,
          "PRF " + std::string(iana::transform_name(iana::TransformType::prf, static_cast<std::uint16_t>(prf))) +
              " is not implemented (HMAC-SHA1 and HMAC-SHA2-256/384/512 are)"};
}

// prf over the concatenation of parts, into out (prf_size bytes).
bool hmac(const EVP_MD* md, ByteView key, std::initializer_list<ByteView> parts, std::uint8_t* out) {
  // OpenSSL refuses a null key pointer even with length 0.
  static const std::uint8_t kEmpty = 0;
  // Fetched once: an EVP_MAC is immutable and shared safely across threads.
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return false;
  EVP_MAC_CTX* mctx = EVP_MAC_CTX_new(mac);
  if (mctx == nullptr) return false;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>(EVP_MD_get0_name(md)), 0),
      OSSL_PARAM_construct_end(),
  };
  bool ok = EVP_MAC_init(mctx, key.empty() ? &kEmpty : key.data(), key.size(), params) == 1;
  for (ByteView part : parts) {
    if (ok && !part.empty()) ok = EVP_MAC_update(mctx, part.data(), part.size()) == 1;
  }
  std::size_t written = 0;
  if (ok) ok = EVP_MAC_final(mctx, out, &written, static_cast<std::size_t>(EVP_MD_get_size(md))) == 1;
  EVP_MAC_CTX_free(mctx);
  return ok;
}

ByteView view(const SecretBytes& s) { return {s.data(), s.size()}; }

// Concatenation of public inputs (nonces, SPIs) for a prf+ seed.
std::vector<std::uint8_t> concat(std::initializer_list<ByteView> parts) {
  std::vector<std::uint8_t> out;
  for (ByteView p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

KeyExpected<std::size_t> prf_size(PrfId prf) {
  const EVP_MD* md = prf_digest(prf);
  if (md == nullptr) return unsupported_prf(prf);
  return static_cast<std::size_t>(EVP_MD_get_size(md));
}

KeyExpected<SecretBytes> prf(PrfId prf_id, ByteView key, ByteView data) {
  const EVP_MD* md = prf_digest(prf_id);
  if (md == nullptr) return unsupported_prf(prf_id);
  Scratch out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  if (!hmac(md, key, {data}, out.data())) return KeyError{KeyErrc::crypto_failure, "HMAC failed in OpenSSL"};
  return out.take(0, out.size());
}

KeyExpected<SecretBytes> prf_plus(PrfId prf_id, ByteView key, ByteView seed, std::size_t length) {
  const EVP_MD* md = prf_digest(prf_id);
  if (md == nullptr) return unsupported_prf(prf_id);
  const auto block = static_cast<std::size_t>(EVP_MD_get_size(md));
  // RFC 7296 §2.13: the counter is one octet, so at most 255 blocks.
  if (length > 255 * block) {
    return KeyError{KeyErrc::output_too_long, "prf+ of " + std::to_string(length) + " bytes exceeds 255 blocks of " +
                                                  std::to_string(block)};
  }
  const std::size_t blocks = (length + block - 1) / block;
  Scratch out(blocks * block);
  for (std::size_t n = 1; n <= blocks; ++n) {
    const std::uint8_t counter = static_cast<std::uint8_t>(n);
    const ByteView previous = n == 1 ? ByteView{} : ByteView(out.data() + (n - 2) * block, block);
    if (!hmac(md, key, {previous, seed, ByteView(&counter, 1)}, out.data() + (n - 1) * block)) {
      return KeyError{KeyErrc::crypto_failure, "HMAC failed in OpenSSL"};
    }
  }
  return out.take(0, length);
}

KeyExpected<std::size_t> encryption_key_size(std::uint16_t encr_id, std::uint16_t key_bits) {
  auto aes = [&](std::size_t salt) -> KeyExpected<std::size_t> {
    if (key_bits != 128 && key_bits != 192 && key_bits != 256) {
      return KeyError{KeyErrc::bad_key_length,
                      std::string(iana::transform_name(iana::TransformType::encryption, encr_id)) +
                          " needs a Key Length attribute of 128, 192 or 256, got " + std::to_string(key_bits)};
    }
    return key_bits / 8u + salt;
  };
  auto fixed = [&](std::size_t bytes) -> KeyExpected<std::size_t> {
    if (key_bits != 0 && key_bits != bytes * 8) {
      return KeyError{KeyErrc::bad_key_length,
                      std::string(iana::transform_name(iana::TransformType::encryption, encr_id)) +
                          " has a fixed key size; Key Length " + std::to_string(key_bits) + " is invalid"};
    }
    return bytes;
  };
  switch (static_cast<EncrId>(encr_id)) {
    case EncrId::aes_cbc: return aes(0);  // RFC 3602
    case EncrId::aes_ctr: return aes(4);  // RFC 5930 §2: 4-byte nonce
    case EncrId::aes_gcm_8:
    case EncrId::aes_gcm_12:
    case EncrId::aes_gcm_16:
    case EncrId::null_auth_aes_gmac: return aes(4);  // RFC 4106 §8.1, RFC 5282 §7.1, RFC 4543
    case EncrId::aes_ccm_8:
    case EncrId::aes_ccm_12:
    case EncrId::aes_ccm_16: return aes(3);  // RFC 4309 §7.1, RFC 5282 §7.1
    case EncrId::chacha20_poly1305: {        // RFC 7634 §3: 256-bit key + 4-byte salt
      auto key = fixed(32);
      if (!key) return key.error();
      return *key + 4;
    }
    case EncrId::triple_des: return fixed(24);
    case EncrId::null: return fixed(0);
    default:
      return KeyError{KeyErrc::unsupported_encryption,
                      "no key size known for " +
                          std::string(iana::transform_name(iana::TransformType::encryption, encr_id))};
  }
}

KeyExpected<std::size_t> integrity_key_size(std::uint16_t integ_id) {
  switch (static_cast<IntegId>(integ_id)) {
    case IntegId::none: return std::size_t{0};
    case IntegId::hmac_md5_96: return std::size_t{16};   // RFC 2403
    case IntegId::hmac_sha1_96: return std::size_t{20};  // RFC 2404
    case IntegId::aes_xcbc_96: return std::size_t{16};   // RFC 3566
    case IntegId::aes_cmac_96: return std::size_t{16};   // RFC 4494
    case IntegId::hmac_sha2_256_128: return std::size_t{32};  // RFC 4868 §2.1
    case IntegId::hmac_sha2_384_192: return std::size_t{48};
    case IntegId::hmac_sha2_512_256: return std::size_t{64};
    default:
      return KeyError{KeyErrc::unsupported_integrity,
                      "no key size known for " +
                          std::string(iana::transform_name(iana::TransformType::integrity, integ_id))};
  }
}

namespace {

struct Sizes {
  std::size_t encryption = 0;
  std::size_t integrity = 0;
};

KeyExpected<Sizes> suite_sizes(std::uint16_t encr, std::uint16_t key_bits, std::uint16_t integ, bool ike) {
  // A Child SA with no encryption transform is AH (RFC 7296 §3.3.3: AH
  // proposals carry integrity and ESN only); its KEYMAT is the integrity
  // keys alone (§2.17). ESP and IKE proposals without one never get here:
  // proposal selection refuses them.
  if (!ike && encr == 0) {
    if (integ == 0)
      return KeyError{KeyErrc::missing_integrity, "a Child SA with neither encryption nor integrity (AH needs integrity)"};
    auto i = integrity_key_size(integ);
    if (!i) return i.error();
    return Sizes{0, *i};
  }
  auto e = encryption_key_size(encr, key_bits);
  if (!e) return e.error();
  auto i = integrity_key_size(integ);
  if (!i) return i.error();
  const bool aead = iana::encryption_is_aead(encr);
  if (aead && integ != 0) {
    return KeyError{KeyErrc::aead_with_integrity,
                    std::string(iana::transform_name(iana::TransformType::encryption, encr)) +
                        " is a combined mode and takes no integrity algorithm (RFC 7296 §3.3)"};
  }
  if (ike && !aead && integ == 0) {
    return KeyError{KeyErrc::missing_integrity,
                    std::string(iana::transform_name(iana::TransformType::encryption, encr)) +
                        " needs an integrity algorithm for the IKE SA"};
  }
  return Sizes{*e, *i};
}

}  // namespace

KeyExpected<SecretBytes> skeyseed(PrfId prf_id, ByteView ni, ByteView nr, ByteView g_ir) {
  // §2.14: the key is Ni | Nr (HMAC takes keys of any length).
  Scratch key(ni.size() + nr.size());
  std::copy(ni.begin(), ni.end(), key.data());
  std::copy(nr.begin(), nr.end(), key.data() + ni.size());
  return prf(prf_id, ByteView(key.data(), key.size()), g_ir);
}

KeyExpected<SecretBytes> rekeyed_skeyseed(PrfId old_prf, const SecretBytes& old_sk_d, ByteView g_ir_new, ByteView ni,
                                          ByteView nr) {
  Scratch data(g_ir_new.size() + ni.size() + nr.size());
  std::copy(g_ir_new.begin(), g_ir_new.end(), data.data());
  std::copy(ni.begin(), ni.end(), data.data() + g_ir_new.size());
  std::copy(nr.begin(), nr.end(), data.data() + g_ir_new.size() + ni.size());
  return prf(old_prf, view(old_sk_d), ByteView(data.data(), data.size()));
}

KeyExpected<IkeSaKeys> ike_sa_keys(const IkeSuite& suite, const SecretBytes& seed_key, ByteView ni, ByteView nr,
                                   ByteView spi_i, ByteView spi_r) {
  auto p = prf_size(suite.prf);
  if (!p) return p.error();
  auto sizes = suite_sizes(suite.encryption, suite.key_bits, suite.integrity, true);
  if (!sizes) return sizes.error();
  const std::size_t d = *p, a = sizes->integrity, e = sizes->encryption;
  const std::vector<std::uint8_t> seed = concat({ni, nr, spi_i, spi_r});
  auto keymat = prf_plus(suite.prf, view(seed_key), seed, 3 * d + 2 * a + 2 * e);
  if (!keymat) return keymat.error();
  // §2.14 order: SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr.
  auto take = [&, at = std::size_t{0}](std::size_t n) mutable {
    SecretBytes k(std::vector<std::uint8_t>(keymat->data() + at, keymat->data() + at + n));
    at += n;
    return k;
  };
  IkeSaKeys keys;
  keys.sk_d = take(d);
  keys.sk_ai = take(a);
  keys.sk_ar = take(a);
  keys.sk_ei = take(e);
  keys.sk_er = take(e);
  keys.sk_pi = take(d);
  keys.sk_pr = take(d);
  return keys;
}

KeyExpected<IkeSaKeys> derive_ike_sa_keys(const IkeSuite& suite, ByteView ni, ByteView nr, ByteView g_ir,
                                          ByteView spi_i, ByteView spi_r) {
  auto seed_key = skeyseed(suite.prf, ni, nr, g_ir);
  if (!seed_key) return seed_key.error();
  return ike_sa_keys(suite, *seed_key, ni, nr, spi_i, spi_r);
}

KeyExpected<IkeSaKeys> derive_rekeyed_ike_sa_keys(PrfId old_prf, const SecretBytes& old_sk_d,
                                                  const IkeSuite& new_suite, ByteView g_ir_new, ByteView ni,
                                                  ByteView nr, ByteView spi_i, ByteView spi_r) {
  auto seed_key = rekeyed_skeyseed(old_prf, old_sk_d, g_ir_new, ni, nr);
  if (!seed_key) return seed_key.error();
  return ike_sa_keys(new_suite, *seed_key, ni, nr, spi_i, spi_r);
}

KeyExpected<ChildSaKeys> derive_child_sa_keys(PrfId prf_id, const SecretBytes& sk_d, const ChildSuite& suite,
                                              ByteView g_ir_new, ByteView ni, ByteView nr) {
  auto sizes = suite_sizes(suite.encryption, suite.key_bits, suite.integrity, false);
  if (!sizes) return sizes.error();
  Scratch seed(g_ir_new.size() + ni.size() + nr.size());
  std::copy(g_ir_new.begin(), g_ir_new.end(), seed.data());
  std::copy(ni.begin(), ni.end(), seed.data() + g_ir_new.size());
  std::copy(nr.begin(), nr.end(), seed.data() + g_ir_new.size() + ni.size());
  const std::size_t e = sizes->encryption, a = sizes->integrity;
  auto keymat = prf_plus(prf_id, view(sk_d), ByteView(seed.data(), seed.size()), 2 * (e + a));
  if (!keymat) return keymat.error();
  // §2.17: initiator->responder keys first; within a direction ESP takes
  // the encryption key, then the integrity key.
  auto at = [&](std::size_t from, std::size_t n) {
    return SecretBytes(std::vector<std::uint8_t>(keymat->data() + from, keymat->data() + from + n));
  };
  ChildSaKeys keys;
  keys.encryption_i = at(0, e);
  keys.integrity_i = at(e, a);
  keys.encryption_r = at(e + a, e);
  keys.integrity_r = at(2 * e + a, a);
  return keys;
}

}  // namespace corridor::ike
