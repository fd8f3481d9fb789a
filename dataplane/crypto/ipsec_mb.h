// The Intel IPsec-MB backend: one IMB_MGR per lcore, driven through the
// job API (jobs are queued into the library's multi-buffer lanes and come
// back in submission order, so a burst of N packets fills the SIMD lanes).
//
// Sessions hold keys expanded for the code path init_mb_mgr_auto() picks
// on this CPU (AVX-512/VAES, AVX2, AVX or SSE). Every IpsecMbBackend in the
// process picks the same path, so a session made by the main lcore's
// backend is valid in every worker's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/crypto/backend.h"

struct IMB_MGR;  // from intel-ipsec-mb.h, kept out of this header

namespace corridor::dataplane::crypto {

class IpsecMbBackend final : public Backend {
 public:
  // Throws std::runtime_error if the library cannot set up a manager.
  IpsecMbBackend();
  ~IpsecMbBackend() override;

  std::string_view name() const override { return "ipsec-mb"; }
  // The code path in use: "avx512", "avx2", "avx", "sse" or "no-aesni".
  std::string_view arch() const { return arch_; }

  std::unique_ptr<Session> create_session(const Algorithm& algorithm, std::span<const std::uint8_t> encryption_key,
                                          std::span<const std::uint8_t> integrity_key,
                                          std::string* error) override;
  void encrypt(std::span<Op> ops) override;
  void decrypt(std::span<Op> ops) override;

 private:
  void generate_cbc_ivs(std::span<Op> ops);
  void run(std::span<Op> ops, bool outbound);

  IMB_MGR* mgr_ = nullptr;
  std::string arch_;
};

}  // namespace corridor::dataplane::crypto
