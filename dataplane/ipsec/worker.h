// One worker lcore's packet-engine context: its crypto backend (IPsec-MB
// keeps per-lcore job queues), the per-burst scratch the stages use instead
// of allocating, and counters for drops that belong to no SA.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dataplane/crypto/backend.h"
#include "dataplane/ipsec/drop.h"
#include "dataplane/ipsec/sa.h"

struct rte_mbuf;

namespace corridor::dataplane::ipsec {

// The most packets one burst call works on; longer bursts are processed in
// slices of this size.
inline constexpr std::uint16_t kMaxBurst = 64;

// The longest IP header (with IPv4 options or IPv6 extension headers) in
// front of AH that the engine keeps a copy of while the ICV is computed
// over its zeroed mutable fields (PacketScratch::ip_header).
inline constexpr std::uint32_t kMaxSavedIpHeader = 128;

// Per-packet state carried from before the crypto call to after it.
struct PacketScratch {
  std::uint64_t seq = 0;            // full (ESN) sequence number
  std::uint8_t* esp = nullptr;      // ESP (or AH) header in the packet
  std::uint32_t payload_len = 0;    // ESP payload: data + padding + 2
  std::uint16_t l4_offset = 0;      // bytes before the UDP/ESP/AH header (inbound; AH both ways)
  std::uint16_t next_header_at = 0;  // inbound: offset of the byte naming ESP/UDP (restored in transport mode)
  bool restore_gmac_esn = false;    // ESN with AES-GMAC: bytes before the ESP header were borrowed
  std::uint8_t outer_ecn = 0;       // inbound tunnel: ECN of the outer header (RFC 6040)
  std::uint32_t inner_len = 0;      // outbound: clear bytes (lifetime accounting)
  alignas(4) std::uint8_t aad[12] = {};   // SPI | seq hi | seq lo (RFC 4106 §5, ESN)
  alignas(4) std::uint8_t saved[4] = {};  // bytes borrowed in front of the ESP header
  alignas(16) std::uint8_t icv[32] = {};  // inbound: the received ICV (ESN with HMAC, AH); AH outbound: the computed one
  // AH: the IP header as sent/received, restored after the ICV was computed
  // over a copy with the mutable fields zeroed. Last, as ESP never reads it.
  alignas(16) std::uint8_t ip_header[kMaxSavedIpHeader];
};

class Worker {
 public:
  explicit Worker(crypto::Backend& backend) : backend_(backend) {}
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  crypto::Backend& backend() { return backend_; }

  // Drops of packets that reached no SA (set by the SAD and classify stages).
  SaCounters& unattributed() { return unattributed_; }

  // IPv4 Identification for outer headers this lcore builds (RFC 6864:
  // unique per source, destination and protocol within the MSL, which a
  // per-lcore counter gives for the rates one lcore sends at).
  std::uint16_t next_ipv4_id() { return ipv4_id_++; }

  std::array<crypto::Op, kMaxBurst> ops;
  std::array<PacketScratch, kMaxBurst> scratch;

 private:
  crypto::Backend& backend_;
  SaCounters unattributed_;
  std::uint16_t ipv4_id_ = 1;
};

// Runs `slice(pkts, len)` over a burst in slices of at most kMaxBurst and
// keeps the burst contract across them: successes first (in order), then
// the failed packets (in order). Returns the number of successes.
template <typename Slice>
std::uint16_t in_slices(rte_mbuf** pkts, std::uint16_t n, Slice&& slice) {
  if (n <= kMaxBurst) return slice(pkts, n);
  std::uint16_t good = 0;
  for (std::uint16_t done = 0; done < n;) {
    const auto len = static_cast<std::uint16_t>(std::min<int>(kMaxBurst, n - done));
    const std::uint16_t ok = slice(pkts + done, len);
    std::rotate(pkts + good, pkts + done, pkts + done + ok);  // earlier failures move behind
    good = static_cast<std::uint16_t>(good + ok);
    done = static_cast<std::uint16_t>(done + len);
  }
  return good;
}

// The crypto verdict of an op as the stage's drop reason.
inline bool crypto_ok(const crypto::Op& op, Drop& why) {
  switch (op.status) {
    case crypto::OpStatus::ok: return true;
    case crypto::OpStatus::icv_mismatch: return why = Drop::icv_failure, false;
    case crypto::OpStatus::failed: break;
  }
  return why = Drop::crypto_failed, false;
}

// One slice (at most kMaxBurst packets) of a burst through a stage:
//   prepare(m, op, scratch, why) -> bool   headers and the packet's crypto op
//   crypto(ops)                             one backend call for the slice
//   finish(m, op, scratch, why) -> bool    everything after the crypto
// A packet that fails either step is counted under `why` on the SA and
// moved behind the successes, order kept on both sides.
template <typename Prepare, typename Crypto, typename Finish>
std::uint16_t run_slice(Worker& w, RuntimeSa& sa, rte_mbuf** pkts, std::uint16_t n, Prepare&& prepare,
                        Crypto&& crypto, Finish&& finish) {
  std::array<std::uint8_t, kMaxBurst> op_of{};  // packet -> op index; kMaxBurst: dropped before the crypto
  std::array<Drop, kMaxBurst> why{};
  std::uint16_t nops = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    // The next packet's headers while this one is prepared: its first data
    // line and, for the outer headers outbound prepends, the line before.
    if (i + 1 < n) {
      const auto* next = rte_pktmbuf_mtod(pkts[i + 1], const char*);
      rte_prefetch0(next);
      rte_prefetch0(next - RTE_CACHE_LINE_SIZE);
    }
    if (prepare(pkts[i], w.ops[nops], w.scratch[nops], why[i])) {
      op_of[i] = static_cast<std::uint8_t>(nops++);
    } else {
      op_of[i] = kMaxBurst;
    }
  }
  crypto(std::span<crypto::Op>(w.ops.data(), nops));

  std::array<rte_mbuf*, kMaxBurst> failed;
  std::uint16_t good = 0, bad = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const std::uint8_t k = op_of[i];
    if (k != kMaxBurst && finish(m, w.ops[k], w.scratch[k], why[i])) {
      pkts[good++] = m;
      continue;
    }
    sa.counters->drop(why[i]);
    failed[bad++] = m;
  }
  std::copy_n(failed.begin(), bad, pkts + good);
  return good;
}

}  // namespace corridor::dataplane::ipsec
