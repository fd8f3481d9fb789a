// An SA as the packet engine holds it.
//
// RuntimeSa is what a worker touches per packet: two cache lines, laid out
// so that the first holds everything the inbound and outbound paths read for
// every packet. Sa owns it together with what the fast path only points to
// (the crypto session with the expanded keys, the anti-replay window, the
// counters) and the control-plane view without keys (channel::SaSummary).
//
// The burst function is chosen here, once, from the direction, mode, outer
// address family, encapsulation and algorithm family, so the per-packet
// code does not branch on them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/channel/records.h"
#include "dataplane/crypto/backend.h"
#include "dataplane/ipsec/drop.h"
#include "dataplane/ipsec/replay.h"
#include "dataplane/tables/spd.h"

struct rte_mbuf;

namespace corridor::dataplane::ipsec {

class Worker;
struct RuntimeSa;

// Processes a burst of packets of one SA. Returns how many succeeded; those
// come first in `pkts` (order kept), the failed ones after them, each
// counted in the SA's counters under its Drop reason. The caller frees the
// failed ones.
using BurstFn = std::uint16_t (*)(Worker& worker, RuntimeSa& sa, rte_mbuf** pkts, std::uint16_t n);

// Events the worker raises on an SA for the main lcore to report over the
// SA channel (once each).
enum SaEvent : std::uint8_t {
  kSoftLifetime = 1 << 0,
  kHardLifetime = 1 << 1,
  kSeqOverflow = 1 << 2,
};

enum SaFlag : std::uint8_t {
  kEsn = 1 << 0,            // 64-bit sequence numbers
  kUdpEncap = 1 << 1,       // RFC 3948
  kTunnel = 1 << 2,         // tunnel mode (else transport)
  kOuterV6 = 1 << 3,        // outer header is IPv6
  kDscpCopy = 1 << 4,       // copy inner DSCP to the outer header
  kEcnPropagate = 1 << 5,   // RFC 6040 normal mode (else outer ECN Not-ECT)
  kAh = 1 << 6,             // AH (else ESP); the burst function knows, overhead.h asks
};

struct alignas(64) RuntimeSa {
  // Cache line 0: read for every packet.
  BurstFn process = nullptr;
  const crypto::Session* session = nullptr;
  SaCounters* counters = nullptr;
  ReplayWindow* replay = nullptr;  // inbound only
  // Inbound: the traffic selectors decrypted packets must match (RFC 4301
  // §5.2); null when the SA has none installed (then nothing is checked).
  // Replaced by the main lcore on a live SA: read with selector_set().
  const tables::SelectorSet* selectors = nullptr;
  std::uint64_t seq = 0;  // outbound: the last sequence number sent
  std::uint64_t bytes_hard = 0;    // lifetimes; UINT64_MAX when unlimited
  std::uint32_t spi = 0;           // host order
  std::uint8_t iv_bytes = 0;
  std::uint8_t icv_bytes = 0;
  std::uint8_t block_bytes = 4;
  std::uint8_t flags = 0;  // SaFlag
  // Cache line 1: lifetimes, outer header construction.
  std::uint64_t bytes_soft = 0;
  std::uint64_t packets_soft = 0;
  std::uint64_t packets_hard = 0;
  std::uint8_t outer_src[16] = {};  // IPv4 in the first 4 bytes
  std::uint8_t outer_dst[16] = {};
  std::uint16_t encap_sport = 0;  // host order
  std::uint16_t encap_dport = 0;
  channel::DfMode df = channel::DfMode::copy;
  std::uint8_t outer_ttl = 64;
  std::atomic<std::uint8_t> events{0};  // SaEvent bits, set by the worker

  bool has(SaFlag f) const { return (flags & f) != 0; }
  const tables::SelectorSet* selector_set() {
    return std::atomic_ref<const tables::SelectorSet*>(selectors).load(std::memory_order_acquire);
  }
  // RFC 4303 §3.3.3: the last sequence number that may be sent.
  std::uint64_t seq_limit() const {
    return has(kEsn) ? ~std::uint64_t{0} : std::uint64_t{0xffffffff};
  }
  // A plain load first: once a limit is crossed every packet calls this,
  // and a locked read-modify-write per packet would cost more than the check.
  void raise(SaEvent e) {
    if ((events.load(std::memory_order_relaxed) & e) == 0) {
      events.fetch_or(e, std::memory_order_relaxed);
      sa_events_raised.fetch_add(1, std::memory_order_release);
    }
  }
  // Counts every raise() in the process, so the main lcore looks for raised
  // events (a walk over every SA) only when there are some: a walk per
  // main-loop turn cost the forwarding lcore three quarters of its time
  // with 2,000 SAs. Its release pairs with the reader's acquire: whoever
  // sees the count sees the bit.
  static inline std::atomic<std::uint64_t> sa_events_raised{0};
};
static_assert(sizeof(RuntimeSa) == 128, "RuntimeSa is two cache lines: keep hot fields in the first");
static_assert(offsetof(RuntimeSa, bytes_soft) == 64, "the per-packet fields must fit the first cache line");

class Sa {
 public:
  // Builds the engine's SA from a channel record: maps the transforms,
  // expands the keys with `backend`, sets up the replay window and picks
  // the burst function. Null with `why` set if the engine cannot run it.
  static std::unique_ptr<Sa> create(const channel::SaRecord& record, crypto::Backend& backend, std::string* why);

  RuntimeSa& runtime() { return runtime_; }
  const RuntimeSa& runtime() const { return runtime_; }
  const SaCounters& counters() const { return counters_; }
  const channel::SaSummary& summary() const { return summary_; }
  // Inbound: the selectors of the policies that name this SA (RFC 4301
  // §5.2). Returns the previous set, which a worker may still be reading:
  // on a live SA, free it only after a grace period.
  std::unique_ptr<tables::SelectorSet> set_selectors(tables::SelectorSet selectors);
  // Carries the traffic state of `old` (the SA this one replaces with the
  // same keys) over: the outbound sequence number, so that no sequence
  // number and no counter-mode IV is ever used twice under the key; the
  // inbound replay window; counters and raised events. Called by the
  // thread that owns both, between bursts.
  void continue_from(const Sa& old);
  const crypto::Algorithm& algorithm() const { return session_->algorithm(); }

 private:
  Sa() = default;
  RuntimeSa runtime_;
  channel::SaSummary summary_;
  std::unique_ptr<crypto::Session> session_;
  std::unique_ptr<ReplayWindow> replay_;
  std::unique_ptr<tables::SelectorSet> selectors_;
  SaCounters counters_;
};

}  // namespace corridor::dataplane::ipsec
