// Security Policy Database of the packet engine (RFC 4301 §4.4.1).
//
// Outbound: every clear packet leaving the protected side is classified
// against the outbound policies; the winning policy says protect (with
// which SA), bypass or discard. The rules are compiled into two DPDK rte_acl
// contexts, one per address family, inside an immutable SpdTable. A policy
// change builds a whole new SpdTable on the main lcore; the engine publishes
// the new pointer to the workers and frees the old table after an RCU grace
// period (rte_rcu_qsbr), so classification never takes a lock.
//
// Inbound (RFC 4301 §5.2 step 4): after an inbound SA decrypts a packet, the
// inner packet must fall inside that SA's traffic selectors. The policies
// naming the SA (usually one or two) are kept beside the SA as a
// SelectorSet, and selectors_match() scans them.
//
// Matching rules, shared by both paths:
//   - prefixes: the packet address lies in the prefix (/0 matches all);
//   - ip_protocol: 0 is ANY, otherwise equal to the packet's next layer
//     protocol (spd_key.h explains IPv6 extension headers and OPAQUE);
//   - port ranges: inclusive; 0-65535 is ANY and is the only range that
//     matches an OPAQUE port (ICMP type/code sit in the source port, see
//     spd_key.h).
//   - precedence: the lowest `priority` wins, as in strongSwan and XFRM;
//     among equal priorities the lowest policy_id wins. Control allocates
//     policy ids in increasing order, so this is the kernel's
//     first-installed-wins, and it does not depend on the order in which
//     the caller hands over the rules.
//
// No match gives SpdVerdict::no_policy. RFC 4301 §5.1 says to discard such
// a packet; the engine's configured default decides (discard, or bypass as
// the Linux kernel does when no XFRM policy matches), so the SPD only
// reports it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <rte_memory.h>

#include "common/channel/records.h"
#include "dataplane/tables/spd_key.h"

struct rte_acl_ctx;

namespace corridor::dataplane::tables {

using channel::PolicyAction;
using channel::PortRange;
using channel::Prefix;

// The match part of a policy: RFC 4301 §4.4.1.1 selectors. src and dst are
// the packet's source and destination (for an outbound policy, the local
// and remote traffic selectors; for an inbound one, remote and local).
struct Selector {
  Prefix src;
  Prefix dst;
  std::uint8_t ip_protocol = 0;  // 0 = ANY
  PortRange src_ports;           // 0-65535 = ANY
  PortRange dst_ports;
  friend bool operator==(const Selector&, const Selector&) = default;
};

struct SpdRule {
  std::uint64_t policy_id = 0;  // unique within one table
  std::uint32_t priority = 0;   // lower value wins
  Selector selector;
  PolicyAction action = PolicyAction::discard;
  std::uint32_t sa_index = 0;  // protect: the engine's SA slot; otherwise unused
};

// The rule for a channel PolicyRecord; `sa_index` is the engine's slot for
// the record's sa_id (protect only).
SpdRule rule_from(const channel::PolicyRecord& policy, std::uint32_t sa_index);

// Checks one selector: families agree, prefix lengths fit the family, host
// bits are clear, port ranges are ordered. Empty string when valid,
// otherwise what is wrong.
std::string check(const Selector& selector);

// trap: drop and report an acquire (channel::PolicyAction::trap).
enum class SpdVerdict : std::uint8_t { protect, bypass, discard, trap, no_policy };

struct SpdDecision {
  SpdVerdict verdict = SpdVerdict::no_policy;
  std::uint32_t sa_index = 0;   // protect only
  std::uint64_t policy_id = 0;  // the winning policy; 0 with no_policy
  friend bool operator==(const SpdDecision&, const SpdDecision&) = default;
};

// One immutable compiled rule set. Built on the main lcore; classified
// concurrently by any number of workers; destroyed after a grace period.
class SpdTable {
 public:
  // Compiles `rules` (any order). Returns nullptr and sets `error` (naming
  // the policy_id) when a rule is invalid or a policy_id repeats, or when
  // rte_acl cannot build (out of memory: the message says so). Needs EAL:
  // rte_acl allocates from DPDK memory on `socket_id`.
  static std::unique_ptr<SpdTable> build(std::span<const SpdRule> rules, std::string& error,
                                         int socket_id = SOCKET_ID_ANY);

  SpdTable(const SpdTable&) = delete;
  SpdTable& operator=(const SpdTable&) = delete;
  ~SpdTable();

  // Classifies `n` keys (any mix of families, any n) into out[0..n).
  void classify_burst(const PacketKey* keys, std::uint32_t n, SpdDecision* out) const;
  SpdDecision classify(const PacketKey& key) const;

  std::size_t rule_count(IpVersion family) const {
    return family == IpVersion::v4 ? v4_rules_ : v6_rules_;
  }

 private:
  SpdTable() = default;
  void classify_family(rte_acl_ctx* ctx, const std::uint8_t** data, std::uint32_t n, const std::uint32_t* where,
                       SpdDecision* out) const;

  rte_acl_ctx* v4_ = nullptr;  // nullptr when no rule of that family
  rte_acl_ctx* v6_ = nullptr;
  std::size_t v4_rules_ = 0;
  std::size_t v6_rules_ = 0;
  // rte_acl userdata is an index + 1 into this (0 means no match).
  std::vector<SpdDecision> decisions_;
};

// Selectors of one inbound SA, compiled for a linear scan. Built on the
// main lcore with the SA; read by the SA's worker.
class SelectorSet {
 public:
  // Returns check(selector)'s error, or empty when added.
  std::string add(const Selector& selector);
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  struct Compiled {
    IpVersion family;
    std::uint8_t ip_protocol;
    std::array<std::uint8_t, 16> src;  // masked address
    std::array<std::uint8_t, 16> src_mask;
    std::array<std::uint8_t, 16> dst;
    std::array<std::uint8_t, 16> dst_mask;
    // In the key's encoding: port + 1, and 0..UINT32_MAX for ANY, so that
    // OPAQUE (0) falls only inside ANY.
    std::uint32_t src_port_low, src_port_high;
    std::uint32_t dst_port_low, dst_port_high;
  };
  std::span<const Compiled> entries() const { return entries_; }

 private:
  std::vector<Compiled> entries_;
};

// True when `key` matches at least one selector of `set` (RFC 4301 §5.2:
// otherwise the decrypted packet is dropped and counted).
bool selectors_match(const SelectorSet& set, const PacketKey& key);

}  // namespace corridor::dataplane::tables
