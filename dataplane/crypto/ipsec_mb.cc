#include "dataplane/crypto/ipsec_mb.h"

#include <intel-ipsec-mb.h>
#include <sys/random.h>

#include <array>
#include <cstring>
#include <stdexcept>

#include "common/channel/records.h"  // secure_zero

namespace corridor::dataplane::crypto {
namespace {

// Expanded keys of one SA. Only the members its algorithm uses are filled.
class IpsecMbSession final : public Session {
 public:
  explicit IpsecMbSession(const Algorithm& a) : Session(a) {}
  ~IpsecMbSession() override {
    channel::secure_zero(&gcm, sizeof gcm);
    channel::secure_zero(enc_keys.data(), sizeof enc_keys);
    channel::secure_zero(dec_keys.data(), sizeof dec_keys);
    channel::secure_zero(iv_keys.data(), sizeof iv_keys);
    channel::secure_zero(chacha_key.data(), sizeof chacha_key);
    channel::secure_zero(ipad.data(), sizeof ipad);
    channel::secure_zero(opad.data(), sizeof opad);
    channel::secure_zero(salt.data(), sizeof salt);
  }

  alignas(64) gcm_key_data gcm;                      // AES-GCM, AES-GMAC
  alignas(16) std::array<std::uint8_t, 16 * 15> enc_keys{};  // AES-CBC/CTR round keys
  alignas(16) std::array<std::uint8_t, 16 * 15> dec_keys{};
  // AES-CBC only: a random AES-128 key that turns sequence numbers into
  // unpredictable IVs (RFC 3602 §2.1; NIST SP 800-38A Appendix C).
  alignas(16) std::array<std::uint8_t, 16 * 11> iv_keys{};
  alignas(16) std::array<std::uint8_t, 32> chacha_key{};
  // HMAC: the hash state after the first block of (key ^ ipad) and
  // (key ^ opad), so each packet costs no key setup (RFC 2104).
  alignas(16) std::array<std::uint8_t, 64> ipad{};
  alignas(16) std::array<std::uint8_t, 64> opad{};
  std::array<std::uint8_t, 4> salt{};
  IMB_HASH_ALG hmac = IMB_AUTH_NULL;
};

IMB_HASH_ALG hmac_alg(Integrity i) {
  switch (i) {
    case Integrity::hmac_sha2_256_128: return IMB_AUTH_HMAC_SHA_256;
    case Integrity::hmac_sha2_384_192: return IMB_AUTH_HMAC_SHA_384;
    case Integrity::hmac_sha2_512_256: return IMB_AUTH_HMAC_SHA_512;
    case Integrity::none: break;
  }
  return IMB_AUTH_NULL;
}

IMB_KEY_SIZE_BYTES aes_key_size(std::uint8_t bytes) {
  switch (bytes) {
    case 16: return IMB_KEY_128_BYTES;
    case 24: return IMB_KEY_192_BYTES;
    default: return IMB_KEY_256_BYTES;
  }
}

void expand_aes(IMB_MGR* mgr, const std::uint8_t* key, std::uint8_t bytes, void* enc, void* dec) {
  switch (bytes) {
    case 16: IMB_AES_KEYEXP_128(mgr, key, enc, dec); break;
    case 24: IMB_AES_KEYEXP_192(mgr, key, enc, dec); break;
    default: IMB_AES_KEYEXP_256(mgr, key, enc, dec); break;
  }
}

void precompute_gcm(IMB_MGR* mgr, const std::uint8_t* key, std::uint8_t bytes, gcm_key_data* out) {
  switch (bytes) {
    case 16: IMB_AES128_GCM_PRE(mgr, key, out); break;
    case 24: IMB_AES192_GCM_PRE(mgr, key, out); break;
    default: IMB_AES256_GCM_PRE(mgr, key, out); break;
  }
}

void precompute_hmac(IMB_MGR* mgr, Integrity integrity, std::span<const std::uint8_t> key, IpsecMbSession& s) {
  const bool sha256 = integrity == Integrity::hmac_sha2_256_128;
  const std::size_t block = sha256 ? 64 : 128;  // SHA-256 / SHA-384,512 block size
  // Keys are never longer than the block here (RFC 4868 keys are as long as
  // the hash output), so no pre-hashing (RFC 2104 §2) is needed.
  alignas(16) std::array<std::uint8_t, 128> buf{};
  for (std::uint8_t pad : {std::uint8_t{0x36}, std::uint8_t{0x5c}}) {
    buf.fill(0);
    std::memcpy(buf.data(), key.data(), key.size());
    for (std::size_t i = 0; i < block; ++i) buf[i] ^= pad;
    std::uint8_t* out = pad == 0x36 ? s.ipad.data() : s.opad.data();
    switch (integrity) {
      case Integrity::hmac_sha2_256_128: IMB_SHA256_ONE_BLOCK(mgr, buf.data(), out); break;
      case Integrity::hmac_sha2_384_192: IMB_SHA384_ONE_BLOCK(mgr, buf.data(), out); break;
      case Integrity::hmac_sha2_512_256: IMB_SHA512_ONE_BLOCK(mgr, buf.data(), out); break;
      case Integrity::none: break;
    }
  }
  channel::secure_zero(buf.data(), buf.size());
}

void store_be64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

std::string_view arch_name(IMB_ARCH arch) {
  switch (arch) {
    case IMB_ARCH_NOAESNI: return "no-aesni";
    case IMB_ARCH_SSE: return "sse";
    case IMB_ARCH_AVX: return "avx";
    case IMB_ARCH_AVX2: return "avx2";
    case IMB_ARCH_AVX512: return "avx512";
    default: return "unknown";
  }
}

// AEAD jobs (AES-GCM, ChaCha20-Poly1305): the payload is both encrypted and
// authenticated in place, with the 12-byte salt | IV nonce.
void set_aead_regions(IMB_JOB* job, Op& op) {
  job->src = job->dst = op.payload;
  job->cipher_start_src_offset_in_bytes = 0;
  job->msg_len_to_cipher_in_bytes = op.payload_len;
  job->hash_start_src_offset_in_bytes = 0;
  job->msg_len_to_hash_in_bytes = op.payload_len;
  job->iv = op.nonce;
  job->iv_len_in_bytes = 12;
}

// Fills the cipher and hash fields of `job` for `op`. Outbound sets the
// explicit IV and nonce first (encrypt()), so here both are in place.
void fill_job(IMB_JOB* job, Op& op, const IpsecMbSession& s, bool outbound) {
  const Algorithm& a = s.algorithm();
  job->cipher_direction = outbound ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
  job->chain_order = outbound ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
  job->auth_tag_output = outbound ? op.icv : op.computed_icv;
  job->auth_tag_output_len_in_bytes = a.icv_bytes;
  job->user_data = &op;

  switch (a.cipher) {
    case Cipher::aes_gcm:
      job->cipher_mode = IMB_CIPHER_GCM;
      job->hash_alg = IMB_AUTH_AES_GMAC;
      job->enc_keys = job->dec_keys = &s.gcm;
      job->key_len_in_bytes = aes_key_size(a.key_bytes);
      set_aead_regions(job, op);
      job->u.GCM.aad = op.aad;
      job->u.GCM.aad_len_in_bytes = op.aad_len;
      return;
    case Cipher::chacha20_poly1305:
      job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
      job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
      job->enc_keys = job->dec_keys = s.chacha_key.data();
      job->key_len_in_bytes = IMB_KEY_256_BYTES;
      set_aead_regions(job, op);
      job->u.CHACHA20_POLY1305.aad = op.aad;
      job->u.CHACHA20_POLY1305.aad_len_in_bytes = op.aad_len;
      return;
    case Cipher::aes_gmac: {
      // RFC 4543: nothing is encrypted; GMAC over the whole region as AAD.
      static constexpr IMB_HASH_ALG kGmac[] = {IMB_AUTH_AES_GMAC_128, IMB_AUTH_AES_GMAC_192, IMB_AUTH_AES_GMAC_256};
      job->cipher_mode = IMB_CIPHER_NULL;
      job->hash_alg = kGmac[(a.key_bytes - 16) / 8];
      job->src = job->dst = const_cast<std::uint8_t*>(op.auth);
      job->cipher_start_src_offset_in_bytes = 0;
      job->msg_len_to_cipher_in_bytes = 0;
      job->hash_start_src_offset_in_bytes = 0;
      job->msg_len_to_hash_in_bytes = op.auth_len;
      job->u.GMAC._key = &s.gcm;
      job->u.GMAC._iv = op.nonce;
      job->u.GMAC.iv_len_in_bytes = 12;
      return;
    }
    case Cipher::aes_cbc:
    case Cipher::aes_ctr:
    case Cipher::null:
      break;
  }

  // Cipher + HMAC (and NULL + HMAC, and AH). src is the start of the
  // authenticated region; the cipher region lies inside it.
  const std::uint8_t* base = op.auth;
  job->src = base;
  job->dst = op.payload;
  job->cipher_start_src_offset_in_bytes = static_cast<std::uint64_t>(op.payload - base);
  job->msg_len_to_cipher_in_bytes = op.payload_len;
  job->hash_start_src_offset_in_bytes = 0;
  job->msg_len_to_hash_in_bytes = op.auth_len;
  job->hash_alg = s.hmac;
  job->u.HMAC._hashed_auth_key_xor_ipad = s.ipad.data();
  job->u.HMAC._hashed_auth_key_xor_opad = s.opad.data();
  switch (a.cipher) {
    case Cipher::aes_cbc:
      job->cipher_mode = IMB_CIPHER_CBC;
      job->enc_keys = s.enc_keys.data();
      job->dec_keys = s.dec_keys.data();
      job->key_len_in_bytes = aes_key_size(a.key_bytes);
      job->iv = op.iv;
      job->iv_len_in_bytes = 16;
      break;
    case Cipher::aes_ctr:
      // RFC 3686 §4: counter block = nonce | IV | 1; IPsec-MB appends the
      // 32-bit block counter (starting at 1) to a 12-byte IV.
      job->cipher_mode = IMB_CIPHER_CNTR;
      job->enc_keys = job->dec_keys = s.enc_keys.data();
      job->key_len_in_bytes = aes_key_size(a.key_bytes);
      job->iv = op.nonce;
      job->iv_len_in_bytes = 12;
      break;
    default:
      job->cipher_mode = IMB_CIPHER_NULL;
      job->key_len_in_bytes = 0;
      job->iv = nullptr;
      job->iv_len_in_bytes = 0;
      break;
  }
}

void finish(IMB_JOB* job, bool outbound) {
  Op& op = *static_cast<Op*>(job->user_data);
  if (job->status != IMB_STATUS_COMPLETED) {
    op.status = OpStatus::failed;
    return;
  }
  if (outbound) {
    op.status = OpStatus::ok;
    return;
  }
  const auto& a = op.session->algorithm();
  op.status = constant_time_equal(op.computed_icv, op.icv, a.icv_bytes) ? OpStatus::ok : OpStatus::icv_mismatch;
}

}  // namespace

IpsecMbBackend::IpsecMbBackend() {
  mgr_ = alloc_mb_mgr(0);
  if (mgr_ == nullptr) throw std::runtime_error("IPsec-MB: cannot allocate a multi-buffer manager");
  IMB_ARCH arch = IMB_ARCH_NONE;
  init_mb_mgr_auto(mgr_, &arch);
  if (const int err = imb_get_errno(mgr_); err != 0) {
    free_mb_mgr(mgr_);
    throw std::runtime_error(std::string("IPsec-MB: ") + imb_get_strerror(err));
  }
  arch_ = arch_name(arch);
}

IpsecMbBackend::~IpsecMbBackend() { free_mb_mgr(mgr_); }

std::unique_ptr<Session> IpsecMbBackend::create_session(const Algorithm& a,
                                                        std::span<const std::uint8_t> encryption_key,
                                                        std::span<const std::uint8_t> integrity_key,
                                                        std::string* error) {
  auto fail = [&](const char* why) -> std::unique_ptr<Session> {
    if (error) *error = why;
    return nullptr;
  };
  if (encryption_key.size() != a.encryption_key_bytes()) return fail("encryption key length does not match the algorithm");
  if (integrity_key.size() != a.integrity_key_bytes) return fail("integrity key length does not match the algorithm");

  auto s = std::make_unique<IpsecMbSession>(a);
  const std::uint8_t* key = encryption_key.data();
  if (a.salt_bytes != 0) std::memcpy(s->salt.data(), key + a.key_bytes, a.salt_bytes);
  switch (a.cipher) {
    case Cipher::aes_gcm:
    case Cipher::aes_gmac:
      precompute_gcm(mgr_, key, a.key_bytes, &s->gcm);
      break;
    case Cipher::chacha20_poly1305:
      std::memcpy(s->chacha_key.data(), key, 32);
      break;
    case Cipher::aes_cbc: {
      expand_aes(mgr_, key, a.key_bytes, s->enc_keys.data(), s->dec_keys.data());
      std::array<std::uint8_t, 16> iv_key{};
      if (getrandom(iv_key.data(), iv_key.size(), 0) != static_cast<ssize_t>(iv_key.size())) {
        return fail("getrandom() failed: no IV key for AES-CBC");
      }
      alignas(16) std::array<std::uint8_t, 16 * 11> unused_dec{};
      IMB_AES_KEYEXP_128(mgr_, iv_key.data(), s->iv_keys.data(), unused_dec.data());
      channel::secure_zero(iv_key.data(), iv_key.size());
      channel::secure_zero(unused_dec.data(), unused_dec.size());
      break;
    }
    case Cipher::aes_ctr:
      expand_aes(mgr_, key, a.key_bytes, s->enc_keys.data(), s->dec_keys.data());
      break;
    case Cipher::null:
      break;
  }
  if (!a.combined()) {
    s->hmac = hmac_alg(a.integrity);
    precompute_hmac(mgr_, a.integrity, integrity_key, *s);
  }
  return s;
}

// AES-CBC IVs: AES-128-ECB of the sequence number under the session's
// random IV key. Run as its own pass, flushed before the packets' jobs, so
// every IV is in the packet before a job that reads it is queued.
void IpsecMbBackend::generate_cbc_ivs(std::span<Op> ops) {
  bool any = false;
  for (Op& op : ops) {
    if (op.session->algorithm().cipher != Cipher::aes_cbc) continue;
    any = true;
    const auto& s = static_cast<const IpsecMbSession&>(*op.session);
    std::memset(op.nonce, 0, sizeof op.nonce);
    store_be64(op.nonce, op.iv_seed);
    IMB_JOB* job = IMB_GET_NEXT_JOB(mgr_);
    job->cipher_mode = IMB_CIPHER_ECB;
    job->cipher_direction = IMB_DIR_ENCRYPT;
    job->chain_order = IMB_ORDER_CIPHER_HASH;
    job->hash_alg = IMB_AUTH_NULL;
    job->enc_keys = job->dec_keys = s.iv_keys.data();
    job->key_len_in_bytes = IMB_KEY_128_BYTES;
    job->src = op.nonce;
    job->dst = op.iv;
    job->cipher_start_src_offset_in_bytes = 0;
    job->msg_len_to_cipher_in_bytes = 16;
    job->iv = nullptr;
    job->iv_len_in_bytes = 0;
    job->user_data = &op;
    for (IMB_JOB* done = IMB_SUBMIT_JOB(mgr_); done != nullptr; done = IMB_GET_COMPLETED_JOB(mgr_)) {
      if (done->status != IMB_STATUS_COMPLETED) static_cast<Op*>(done->user_data)->status = OpStatus::failed;
    }
  }
  if (!any) return;
  while (IMB_JOB* done = IMB_FLUSH_JOB(mgr_)) {
    if (done->status != IMB_STATUS_COMPLETED) static_cast<Op*>(done->user_data)->status = OpStatus::failed;
  }
}

void IpsecMbBackend::encrypt(std::span<Op> ops) {
  for (Op& op : ops) {
    op.status = OpStatus::ok;
    const Algorithm& a = op.session->algorithm();
    if (a.cipher == Cipher::aes_cbc || a.iv_bytes == 0) continue;
    // Counter-based modes need a unique IV, not an unpredictable one
    // (RFC 4106 §3.1, RFC 3686 §3, RFC 7634 §2): the sequence number.
    store_be64(op.iv, op.iv_seed);
    const auto& s = static_cast<const IpsecMbSession&>(*op.session);
    std::memcpy(op.nonce, s.salt.data(), 4);
    std::memcpy(op.nonce + 4, op.iv, 8);
  }
  generate_cbc_ivs(ops);
  run(ops, true);
}

void IpsecMbBackend::decrypt(std::span<Op> ops) {
  for (Op& op : ops) {
    op.status = OpStatus::ok;
    const Algorithm& a = op.session->algorithm();
    if (a.salt_bytes == 0) continue;
    const auto& s = static_cast<const IpsecMbSession&>(*op.session);
    std::memcpy(op.nonce, s.salt.data(), 4);
    std::memcpy(op.nonce + 4, op.iv, 8);
  }
  run(ops, false);
}

void IpsecMbBackend::run(std::span<Op> ops, bool outbound) {
  for (Op& op : ops) {
    if (op.status != OpStatus::ok) continue;  // its IV could not be made
    IMB_JOB* job = IMB_GET_NEXT_JOB(mgr_);
    fill_job(job, op, static_cast<const IpsecMbSession&>(*op.session), outbound);
    for (IMB_JOB* done = IMB_SUBMIT_JOB(mgr_); done != nullptr; done = IMB_GET_COMPLETED_JOB(mgr_)) {
      finish(done, outbound);
    }
  }
  while (IMB_JOB* done = IMB_FLUSH_JOB(mgr_)) finish(done, outbound);
}

}  // namespace corridor::dataplane::crypto
