#include "common/ike/key_exchange.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

namespace corridor::ike {

using iana::KeId;

namespace {

enum class Kind : std::uint8_t { modp, ecp, montgomery };

struct Group {
  Kind kind;
  // OpenSSL's name: DH named group ("modp_2048"; nullptr for MODP 1024,
  // which OpenSSL 3.0 does not name), EC curve, or key type (X25519/X448).
  const char* ossl_name;
  int nid;           // ECP only
  std::size_t size;  // public value bytes on the wire
};

std::optional<Group> group_info(KeId g) {
  switch (g) {
    case KeId::modp1024: return Group{Kind::modp, nullptr, 0, 128};
    case KeId::modp1536: return Group{Kind::modp, "modp_1536", 0, 192};
    case KeId::modp2048: return Group{Kind::modp, "modp_2048", 0, 256};
    case KeId::modp3072: return Group{Kind::modp, "modp_3072", 0, 384};
    case KeId::modp4096: return Group{Kind::modp, "modp_4096", 0, 512};
    case KeId::ecp256: return Group{Kind::ecp, "P-256", NID_X9_62_prime256v1, 64};
    case KeId::ecp384: return Group{Kind::ecp, "P-384", NID_secp384r1, 96};
    case KeId::ecp521: return Group{Kind::ecp, "P-521", NID_secp521r1, 132};
    case KeId::curve25519: return Group{Kind::montgomery, "X25519", 0, 32};
    case KeId::curve448: return Group{Kind::montgomery, "X448", 0, 56};
    default: return std::nullopt;
  }
}

std::string name(KeId g) {
  return std::string(iana::transform_name(iana::TransformType::key_exchange, static_cast<std::uint16_t>(g)));
}

KeyError unsupported(KeId g) {
  return {KeyErrc::unsupported_group,
          "key exchange group " + name(g) + " (" + std::to_string(static_cast<unsigned>(g)) +
              ") is not implemented (MODP 1024/1536/2048/3072/4096, ECP 256/384/521, Curve25519, Curve448 are)"};
}

KeyError failure(const char* what) { return {KeyErrc::crypto_failure, std::string("OpenSSL failed: ") + what}; }

KeyError invalid(KeId g, const std::string& reason) {
  return {KeyErrc::invalid_public_value, name(g) + " public value refused: " + reason};
}

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
  void operator()(BN_CTX* p) const { BN_CTX_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(EC_GROUP* p) const { EC_GROUP_free(p); }
  void operator()(EC_POINT* p) const { EC_POINT_clear_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

// The prime of a MODP group, from OpenSSL's copies of RFC 2409 §6.2 and
// RFC 3526 (the generator is 2 for all of them).
Owned<BIGNUM> modp_prime(KeId g) {
  switch (g) {
    case KeId::modp1024: return Owned<BIGNUM>(BN_get_rfc2409_prime_1024(nullptr));
    case KeId::modp1536: return Owned<BIGNUM>(BN_get_rfc3526_prime_1536(nullptr));
    case KeId::modp2048: return Owned<BIGNUM>(BN_get_rfc3526_prime_2048(nullptr));
    case KeId::modp3072: return Owned<BIGNUM>(BN_get_rfc3526_prime_3072(nullptr));
    case KeId::modp4096: return Owned<BIGNUM>(BN_get_rfc3526_prime_4096(nullptr));
    default: return nullptr;
  }
}

// Pushes the domain parameters of a group: its name, or for MODP 1024
// explicit p and g = 2. (Not q: OpenSSL 3.0 then refuses to generate keys
// for an unnamed group. Its private exponent is full-length, and peer
// values get the range check of RFC 6989 §2.1, enough for a safe prime.)
bool push_domain(OSSL_PARAM_BLD* bld, KeId g, const Group& info, std::vector<Owned<BIGNUM>>& keep) {
  if (info.ossl_name != nullptr) {
    return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, info.ossl_name, 0) == 1;
  }
  Owned<BIGNUM> p = modp_prime(g);
  Owned<BIGNUM> gen(BN_new());
  if (!p || !gen || BN_set_word(gen.get(), 2) != 1) return false;
  const bool ok = OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p.get()) == 1 &&
                  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, gen.get()) == 1;
  // The builder refers to the BIGNUMs until to_param(): keep them alive.
  keep.push_back(std::move(p));
  keep.push_back(std::move(gen));
  return ok;
}

const char* key_type(const Group& info) {
  switch (info.kind) {
    case Kind::modp: return "DH";
    case Kind::ecp: return "EC";
    case Kind::montgomery: return info.ossl_name;
  }
  return "";
}

// An EVP_PKEY from domain parameters plus whatever `add` pushes.
template <typename Add>
Owned<EVP_PKEY> from_data(KeId g, const Group& info, int selection, Add add) {
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  std::vector<Owned<BIGNUM>> keep;
  if (!bld || !push_domain(bld.get(), g, info, keep) || !add(bld.get())) return nullptr;
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, key_type(info), nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, selection, params.get()) != 1) {
    return nullptr;
  }
  return Owned<EVP_PKEY>(key);
}

// The wire form of a key's public half (see public_value_size).
std::optional<std::vector<std::uint8_t>> wire_public(const EVP_PKEY* key, const Group& info) {
  std::vector<std::uint8_t> out(info.size);
  switch (info.kind) {
    case Kind::modp: {
      BIGNUM* raw = nullptr;
      if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PUB_KEY, &raw) != 1) return std::nullopt;
      Owned<BIGNUM> pub(raw);
      // RFC 7296 §2.14: left-padded with zeros to the prime's length.
      if (BN_bn2binpad(pub.get(), out.data(), static_cast<int>(out.size())) < 0) return std::nullopt;
      return out;
    }
    case Kind::ecp: {
      // SEC1 uncompressed 0x04 | x | y; RFC 5903 §7 drops the 0x04.
      std::vector<std::uint8_t> sec1(info.size + 1);
      std::size_t n = 0;
      if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, sec1.data(), sec1.size(), &n) !=
              1 ||
          n != sec1.size() || sec1[0] != 0x04) {
        return std::nullopt;
      }
      std::copy(sec1.begin() + 1, sec1.end(), out.begin());
      return out;
    }
    case Kind::montgomery: {
      std::size_t n = out.size();
      if (EVP_PKEY_get_raw_public_key(key, out.data(), &n) != 1 || n != out.size()) return std::nullopt;
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace

bool key_exchange_supported(KeId group) { return group_info(group).has_value(); }

KeyExpected<std::size_t> public_value_size(KeId group) {
  auto info = group_info(group);
  if (!info) return unsupported(group);
  return info->size;
}

DiffieHellman::DiffieHellman(DiffieHellman&& other) noexcept
    : group_(other.group_), key_(std::exchange(other.key_, nullptr)), public_(std::move(other.public_)) {}

DiffieHellman& DiffieHellman::operator=(DiffieHellman&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(key_);
    group_ = other.group_;
    key_ = std::exchange(other.key_, nullptr);
    public_ = std::move(other.public_);
  }
  return *this;
}

DiffieHellman::~DiffieHellman() { EVP_PKEY_free(key_); }

KeyExpected<DiffieHellman> DiffieHellman::generate(KeId group) {
  auto info = group_info(group);
  if (!info) return unsupported(group);
  Owned<EVP_PKEY_CTX> ctx;
  if (info->kind == Kind::modp && info->ossl_name == nullptr) {
    // MODP 1024: generate from explicit domain parameters.
    Owned<EVP_PKEY> domain = from_data(group, *info, EVP_PKEY_KEY_PARAMETERS, [](OSSL_PARAM_BLD*) { return true; });
    if (!domain) return failure("MODP 1024 domain parameters");
    ctx.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, domain.get(), nullptr));
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) return failure("key generation setup");
  } else {
    ctx.reset(EVP_PKEY_CTX_new_from_name(nullptr, key_type(*info), nullptr));
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) return failure("key generation setup");
    if (info->kind != Kind::montgomery) {
      OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(info->ossl_name), 0),
          OSSL_PARAM_construct_end(),
      };
      if (EVP_PKEY_CTX_set_params(ctx.get(), params) != 1) return failure(info->ossl_name);
    }
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) return failure("key generation");
  Owned<EVP_PKEY> key(raw);
  auto pub = wire_public(key.get(), *info);
  if (!pub) return failure("public value export");
  return DiffieHellman(group, key.release(), std::move(*pub));
}

KeyExpected<DiffieHellman> DiffieHellman::from_private(KeId group, ByteView private_key) {
  auto info = group_info(group);
  if (!info) return unsupported(group);
  Owned<EVP_PKEY> key;
  if (info->kind == Kind::montgomery) {
    if (private_key.size() != info->size) {
      return KeyError{KeyErrc::bad_key_length, name(group) + " private key must be " + std::to_string(info->size) +
                                                   " bytes, got " + std::to_string(private_key.size())};
    }
    key.reset(EVP_PKEY_new_raw_private_key_ex(nullptr, info->ossl_name, nullptr, private_key.data(),
                                              private_key.size()));
  } else {
    const std::size_t max = info->kind == Kind::modp ? info->size : info->size / 2;
    Owned<BIGNUM> priv(BN_bin2bn(private_key.data(), static_cast<int>(private_key.size()), nullptr));
    if (!priv) return failure("BN_bin2bn");
    if (private_key.size() > max || BN_is_zero(priv.get())) {
      return KeyError{KeyErrc::bad_key_length, name(group) + " private key must be 1.." + std::to_string(max) +
                                                   " bytes and non-zero, got " + std::to_string(private_key.size())};
    }
    // OpenSSL 3.0 does not derive the public half on import: compute it.
    Owned<BN_CTX> bn(BN_CTX_new());
    if (!bn) return failure("BN_CTX_new");
    if (info->kind == Kind::modp) {
      Owned<BIGNUM> p = modp_prime(group);
      Owned<BIGNUM> gen(BN_new());
      Owned<BIGNUM> pub(BN_new());
      if (!p || !gen || !pub || BN_set_word(gen.get(), 2) != 1 ||
          BN_mod_exp_mont_consttime(pub.get(), gen.get(), priv.get(), p.get(), bn.get(), nullptr) != 1) {
        return failure("modular exponentiation");
      }
      key = from_data(group, *info, EVP_PKEY_KEYPAIR, [&](OSSL_PARAM_BLD* bld) {
        return OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, pub.get()) == 1 &&
               OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) == 1;
      });
    } else {
      Owned<EC_GROUP> curve(EC_GROUP_new_by_curve_name(info->nid));
      Owned<EC_POINT> point(curve ? EC_POINT_new(curve.get()) : nullptr);
      std::vector<std::uint8_t> sec1(info->size + 1);
      if (!point || EC_POINT_mul(curve.get(), point.get(), priv.get(), nullptr, nullptr, bn.get()) != 1 ||
          EC_POINT_point2oct(curve.get(), point.get(), POINT_CONVERSION_UNCOMPRESSED, sec1.data(), sec1.size(),
                             bn.get()) != sec1.size()) {
        return failure("EC point multiplication");
      }
      key = from_data(group, *info, EVP_PKEY_KEYPAIR, [&](OSSL_PARAM_BLD* bld) {
        return OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, sec1.data(), sec1.size()) == 1 &&
               OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) == 1;
      });
    }
  }
  if (!key) return failure("private key import");
  auto pub = wire_public(key.get(), *info);
  if (!pub) return failure("public value export");
  return DiffieHellman(group, key.release(), std::move(*pub));
}

KeyExpected<SecretBytes> DiffieHellman::shared_secret(ByteView peer_public) const {
  auto info = group_info(group_);
  if (!info) return unsupported(group_);
  if (key_ == nullptr) return failure("use of a moved-from DiffieHellman");
  if (peer_public.size() != info->size) {
    return invalid(group_, std::to_string(peer_public.size()) + " bytes, the group's public value is " +
                               std::to_string(info->size) + " bytes (RFC 7296 §3.4)");
  }

  Owned<EVP_PKEY> peer;
  switch (info->kind) {
    case Kind::modp: {
      // RFC 6989 §2.1: 1 < y < p-1 (0, 1 and p-1 would force g^ir into a
      // set of at most two values).
      Owned<BIGNUM> y(BN_bin2bn(peer_public.data(), static_cast<int>(peer_public.size()), nullptr));
      Owned<BIGNUM> p_minus_1 = modp_prime(group_);
      if (!y || !p_minus_1 || BN_sub_word(p_minus_1.get(), 1) != 1) return failure("BIGNUM");
      if (BN_is_zero(y.get()) || BN_is_one(y.get())) return invalid(group_, "value is 0 or 1 (RFC 6989 §2.1)");
      if (BN_cmp(y.get(), p_minus_1.get()) >= 0) return invalid(group_, "value is p-1 or larger (RFC 6989 §2.1)");
      peer = from_data(group_, *info, EVP_PKEY_PUBLIC_KEY, [&](OSSL_PARAM_BLD* bld) {
        return OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y.get()) == 1;
      });
      if (!peer) return failure("peer public value import");
      break;
    }
    case Kind::ecp: {
      // RFC 5903 §7: x | y; OpenSSL takes SEC1 0x04 | x | y and refuses a
      // point that is not on the curve (RFC 6989 §2.3).
      std::vector<std::uint8_t> sec1(peer_public.size() + 1, 0x04);
      std::copy(peer_public.begin(), peer_public.end(), sec1.begin() + 1);
      peer = from_data(group_, *info, EVP_PKEY_PUBLIC_KEY, [&](OSSL_PARAM_BLD* bld) {
        return OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, sec1.data(), sec1.size()) == 1;
      });
      if (!peer) return invalid(group_, "not a point on the curve (RFC 5903 §7, RFC 6989 §2.3)");
      break;
    }
    case Kind::montgomery:
      peer.reset(EVP_PKEY_new_raw_public_key_ex(nullptr, info->ossl_name, nullptr, peer_public.data(),
                                                peer_public.size()));
      if (!peer) return failure("peer public value import");
      break;
  }

  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_, nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) return failure("derive setup");
  if (info->kind == Kind::modp) {
    // RFC 7296 §2.14: g^ir keeps its leading zeros (the prime's length).
    unsigned int pad = 1;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_uint(OSSL_EXCHANGE_PARAM_PAD, &pad), OSSL_PARAM_construct_end()};
    if (EVP_PKEY_CTX_set_params(ctx.get(), params) != 1) return failure("DH padding");
  }
  // set_peer also runs OpenSSL's public key check: for the named MODP
  // groups the subgroup test y^q = 1 (RFC 6989 §2.1 allows it; honest
  // values always pass, as g = 2 generates the order-q subgroup of these
  // safe primes).
  if (EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1) {
    if (info->kind == Kind::modp) return invalid(group_, "not in the prime-order subgroup (RFC 6989 §2.1)");
    if (info->kind == Kind::ecp) return invalid(group_, "not a point on the curve (RFC 6989 §2.3)");
    return failure("derive peer");
  }
  // ECP: the x coordinate only (RFC 5903 §7); MODP and Curve25519/448:
  // as long as the public value.
  const std::size_t expected = info->kind == Kind::ecp ? info->size / 2 : info->size;
  std::size_t n = 0;
  if (EVP_PKEY_derive(ctx.get(), nullptr, &n) != 1 || n == 0) return failure("derive size");
  std::vector<std::uint8_t> out(std::max(n, expected));
  auto wipe = [&] { OPENSSL_cleanse(out.data(), out.size()); };
  if (EVP_PKEY_derive(ctx.get(), out.data(), &n) != 1) {
    wipe();
    // OpenSSL's X25519/X448 refuse the all-zero output of a low-order point.
    if (info->kind == Kind::montgomery) {
      return invalid(group_, "the shared secret is all zero (low-order point, RFC 7748 §6.1, RFC 8031 §2.3)");
    }
    return failure("derive");
  }
  if (n > expected) {
    wipe();
    return failure("derive gave more bytes than the group's size");
  }
  // Left-pad to the prime / coordinate length should OpenSSL have trimmed.
  if (n < expected) {
    std::move_backward(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n),
                       out.begin() + static_cast<std::ptrdiff_t>(expected));
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(expected - n), 0);
  }
  if (out.size() > expected) OPENSSL_cleanse(out.data() + expected, out.size() - expected);
  out.resize(expected);
  if (info->kind == Kind::montgomery && std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0; })) {
    return invalid(group_, "the shared secret is all zero (low-order point, RFC 7748 §6.1, RFC 8031 §2.3)");
  }
  return SecretBytes(std::move(out));
}

}  // namespace corridor::ike
