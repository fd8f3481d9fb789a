// The crypto seam of the packet engine: the ESP and AH code describes each
// packet's cryptographic work as an Op and hands a burst of them to a
// Backend; it never calls a crypto library itself. IPsec-MB (ipsec_mb.h) is
// the backend today; a DPDK cryptodev backend (QAT, ...) implements the
// same two calls without the ESP code changing.
//
// A Session holds one SA's expanded keys, made once when the SA is
// installed (on the main lcore) and read by any worker afterwards. A
// Backend instance belongs to one lcore (IPsec-MB keeps per-lcore job
// queues), so it is never shared between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "dataplane/crypto/algorithm.h"

namespace corridor::dataplane::crypto {

class Session {
 public:
  explicit Session(const Algorithm& algorithm) : algorithm_(algorithm) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  virtual ~Session() = default;  // derived sessions wipe their key material

  const Algorithm& algorithm() const { return algorithm_; }

 private:
  Algorithm algorithm_;
};

enum class OpStatus : std::uint8_t {
  ok,
  icv_mismatch,  // inbound: the ICV did not verify (constant-time comparison)
  failed,        // the backend refused the job (a length it cannot process)
};

// One packet's crypto work. All pointers are into the packet (or the
// caller's per-op scratch) and stay valid until the burst call returns.
//
//   ESP, AEAD (GCM, ChaCha20-Poly1305):  aad = SPI|[seq hi]|seq lo, payload = plaintext/ciphertext
//   ESP, AES-GMAC (RFC 4543):            auth = SPI..end of padding trailer (IV included), payload empty
//   ESP, cipher + HMAC, and AH:          auth = bytes the HMAC covers, payload = bytes the cipher covers
//
// The authenticated region must be contiguous: where RFC 4303 §2.2.1 puts
// bytes the packet does not carry (the ESN high half) into it, the ESP code
// places them there before the call.
struct Op {
  const Session* session = nullptr;
  std::uint8_t* payload = nullptr;  // transformed in place
  std::uint32_t payload_len = 0;
  std::uint8_t* iv = nullptr;  // the explicit IV in the packet (Algorithm::iv_bytes)
  const std::uint8_t* aad = nullptr;
  std::uint32_t aad_len = 0;
  const std::uint8_t* auth = nullptr;
  std::uint32_t auth_len = 0;
  // Outbound: where the ICV is written. Inbound: the received ICV, compared
  // with the computed one. May point into `auth`'s tail only outbound.
  std::uint8_t* icv = nullptr;
  // Outbound: a value never used twice under the SA's key (the sequence
  // number); the backend derives the explicit IV from it and writes `iv`.
  std::uint64_t iv_seed = 0;
  OpStatus status = OpStatus::ok;
  // Backend scratch, kept in the op so a burst needs no allocation: the
  // nonce block (salt | IV | counter) and the ICV computed on input.
  alignas(16) std::uint8_t nonce[16];
  alignas(16) std::uint8_t computed_icv[32];
};

class Backend {
 public:
  Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
  virtual ~Backend() = default;

  virtual std::string_view name() const = 0;

  // Expands the keys of one SA. `encryption_key` is the ENCR keying
  // material (key then salt, Algorithm::encryption_key_bytes long);
  // `integrity_key` the INTEG key (empty for combined modes). Returns null
  // with `error` set if the lengths do not match the algorithm.
  virtual std::unique_ptr<Session> create_session(const Algorithm& algorithm,
                                                  std::span<const std::uint8_t> encryption_key,
                                                  std::span<const std::uint8_t> integrity_key,
                                                  std::string* error) = 0;

  // Outbound: writes each op's explicit IV, encrypts, computes the ICV.
  // The IV is written before anything is computed, so an `auth` or payload
  // region that covers it protects the IV the backend chose.
  virtual void encrypt(std::span<Op> ops) = 0;
  // Inbound: verifies each op's ICV and decrypts. status says which passed;
  // the payload of a failed op is garbage and must be dropped.
  virtual void decrypt(std::span<Op> ops) = 0;
};

// Compares two byte strings in time that depends on their length only.
inline bool constant_time_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) {
  std::uint8_t diff = 0;
  for (std::size_t i = 0; i < n; ++i) diff = static_cast<std::uint8_t>(diff | (a[i] ^ b[i]));
  // Keep the compiler from turning the loop into an early-exit memcmp.
  asm volatile("" : "+r"(diff));
  return diff == 0;
}

}  // namespace corridor::dataplane::crypto
