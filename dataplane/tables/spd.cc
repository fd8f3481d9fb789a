#include "dataplane/tables/spd.h"

#include <rte_acl.h>
#include <rte_errno.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <numeric>

namespace corridor::dataplane::tables {

namespace {

constexpr unsigned kV4Fields = 5;   // protocol, src, dst, src port, dst port
constexpr unsigned kV6Fields = 11;  // protocol, 4 x src word, 4 x dst word, src port, dst port
RTE_ACL_RULE_DEF(AclRuleV4, kV4Fields);
RTE_ACL_RULE_DEF(AclRuleV6, kV6Fields);
static_assert(sizeof(AclRuleV4) == RTE_ACL_RULE_SZ(kV4Fields));
static_assert(sizeof(AclRuleV6) == RTE_ACL_RULE_SZ(kV6Fields));

// Keys classified per rte_acl_classify call; bursts are 32, so one call per
// family and burst in practice.
constexpr std::uint32_t kChunk = 64;

rte_acl_field_def field(std::uint8_t type, std::uint8_t size, std::uint8_t index, std::size_t offset) {
  // rte_acl reads the first (one-byte) field alone, then one 4-byte group
  // per input_index; every field after the first is a group of its own.
  return rte_acl_field_def{type, size, index, index, static_cast<std::uint32_t>(offset)};
}

rte_acl_config acl_config(IpVersion family) {
  rte_acl_config cfg{};
  cfg.num_categories = 1;
  cfg.max_size = 0;  // no limit beyond available memory
  cfg.defs[0] = field(RTE_ACL_FIELD_TYPE_BITMASK, 1, 0, KeyLayout::kProtocol);
  if (family == IpVersion::v4) {
    cfg.num_fields = kV4Fields;
    cfg.defs[1] = field(RTE_ACL_FIELD_TYPE_MASK, 4, 1, KeyLayout::kSrc);
    cfg.defs[2] = field(RTE_ACL_FIELD_TYPE_MASK, 4, 2, KeyLayout::kV4Dst);
    cfg.defs[3] = field(RTE_ACL_FIELD_TYPE_RANGE, 4, 3, KeyLayout::kV4SrcPort);
    cfg.defs[4] = field(RTE_ACL_FIELD_TYPE_RANGE, 4, 4, KeyLayout::kV4DstPort);
  } else {
    cfg.num_fields = kV6Fields;
    for (std::uint8_t w = 0; w < 4; ++w) {
      cfg.defs[1 + w] = field(RTE_ACL_FIELD_TYPE_MASK, 4, static_cast<std::uint8_t>(1 + w), KeyLayout::kSrc + 4u * w);
      cfg.defs[5 + w] = field(RTE_ACL_FIELD_TYPE_MASK, 4, static_cast<std::uint8_t>(5 + w), KeyLayout::kV6Dst + 4u * w);
    }
    cfg.defs[9] = field(RTE_ACL_FIELD_TYPE_RANGE, 4, 9, KeyLayout::kV6SrcPort);
    cfg.defs[10] = field(RTE_ACL_FIELD_TYPE_RANGE, 4, 10, KeyLayout::kV6DstPort);
  }
  return cfg;
}

std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

// A port range in the key's encoding (port + 1; OPAQUE is 0): ANY covers the
// whole 32-bit space so that it, and only it, contains OPAQUE.
struct SelectorRange {
  std::uint32_t low, high;
};
SelectorRange selector_range(const PortRange& r) {
  if (r.low == 0 && r.high == 65535) return {0, UINT32_MAX};
  return {std::uint32_t{r.low} + 1, std::uint32_t{r.high} + 1};
}

// rte_acl MASK fields over one 32-bit word of a prefix: word `w` gets the
// bits of the prefix length that fall inside it.
void set_prefix_words(rte_acl_field* fields, const Prefix& p, unsigned words) {
  for (unsigned w = 0; w < words; ++w) {
    const int bits = std::clamp(int{p.length} - 32 * static_cast<int>(w), 0, 32);
    fields[w].value.u32 = load_be32(p.address.data() + 4 * w);  // host order, as rte_acl_add_rules wants
    fields[w].mask_range.u32 = static_cast<std::uint32_t>(bits);
  }
}

template <typename AclRule>
AclRule acl_rule(const Selector& s, unsigned words, std::int32_t priority, std::uint32_t userdata) {
  AclRule r{};
  r.data.category_mask = 1;
  r.data.priority = priority;
  r.data.userdata = userdata;
  r.field[0].value.u8 = s.ip_protocol;
  r.field[0].mask_range.u8 = s.ip_protocol == 0 ? 0 : 0xff;  // 0 = ANY
  set_prefix_words(&r.field[1], s.src, words);
  set_prefix_words(&r.field[1 + words], s.dst, words);
  const SelectorRange sp = selector_range(s.src_ports);
  const SelectorRange dp = selector_range(s.dst_ports);
  r.field[1 + 2 * words].value.u32 = sp.low;
  r.field[1 + 2 * words].mask_range.u32 = sp.high;
  r.field[2 + 2 * words].value.u32 = dp.low;
  r.field[2 + 2 * words].mask_range.u32 = dp.high;
  return r;
}

struct AclDeleter {
  void operator()(rte_acl_ctx* ctx) const { rte_acl_free(ctx); }
};
using AclPtr = std::unique_ptr<rte_acl_ctx, AclDeleter>;

// rte_acl_create hands back an existing context of the same name, and an
// old table lives on until its grace period ends: every context gets a
// name of its own.
std::string next_context_name(IpVersion family) {
  static std::atomic<std::uint32_t> generation{0};
  char name[RTE_ACL_NAMESIZE];
  std::snprintf(name, sizeof(name), "corridor_spd%c_%u", family == IpVersion::v4 ? '4' : '6',
                generation.fetch_add(1, std::memory_order_relaxed));
  return name;
}

template <typename AclRule>
AclPtr build_context(IpVersion family, const std::vector<AclRule>& rules, int socket_id, std::string& error) {
  const std::string name = next_context_name(family);
  rte_acl_param param{};
  param.name = name.c_str();
  param.socket_id = socket_id;
  param.rule_size = sizeof(AclRule);
  param.max_rule_num = static_cast<std::uint32_t>(rules.size());
  AclPtr ctx(rte_acl_create(&param));
  if (!ctx) {
    error = "rte_acl_create: " + std::string(rte_strerror(rte_errno));
    return nullptr;
  }
  // rte_acl_rule is the fields-less header of every RTE_ACL_RULE_DEF struct:
  // this cast is how the DPDK API is meant to be called.
  int rc = rte_acl_add_rules(ctx.get(), reinterpret_cast<const rte_acl_rule*>(rules.data()),
                             static_cast<std::uint32_t>(rules.size()));
  if (rc != 0) {
    error = "rte_acl_add_rules: " + std::string(rte_strerror(-rc));
    return nullptr;
  }
  const rte_acl_config cfg = acl_config(family);
  rc = rte_acl_build(ctx.get(), &cfg);
  if (rc != 0) {
    error = "rte_acl_build: " + std::string(rte_strerror(-rc));
    return nullptr;
  }
  return ctx;
}

bool host_bits_clear(const Prefix& p) {
  const unsigned bytes = p.family == IpVersion::v4 ? 4 : 16;
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned first_bit = 8 * i;
    std::uint8_t allowed = 0;  // network bits of this byte
    if (i < bytes && p.length > first_bit) {
      const unsigned n = std::min(8u, p.length - first_bit);
      allowed = static_cast<std::uint8_t>(0xff00u >> n);
    }
    if ((p.address[i] & ~allowed) != 0) return false;
  }
  return true;
}

std::string check_prefix(const Prefix& p, const char* which) {
  if (p.family != IpVersion::v4 && p.family != IpVersion::v6) return std::string(which) + ": unknown address family";
  if (p.length > (p.family == IpVersion::v4 ? 32 : 128)) return std::string(which) + ": prefix length too long";
  if (!host_bits_clear(p)) return std::string(which) + ": host bits set";
  return {};
}

}  // namespace

SpdRule rule_from(const channel::PolicyRecord& policy, std::uint32_t sa_index) {
  SpdRule r;
  r.policy_id = policy.policy_id;
  r.priority = policy.priority;
  r.selector = Selector{policy.src, policy.dst, policy.ip_protocol, policy.src_ports, policy.dst_ports};
  r.action = policy.action;
  r.sa_index = policy.action == PolicyAction::protect ? sa_index : 0;
  return r;
}

std::string check(const Selector& s) {
  if (auto e = check_prefix(s.src, "src"); !e.empty()) return e;
  if (auto e = check_prefix(s.dst, "dst"); !e.empty()) return e;
  if (s.src.family != s.dst.family) return "src and dst prefixes are of different address families";
  if (s.src_ports.low > s.src_ports.high) return "src port range is reversed";
  if (s.dst_ports.low > s.dst_ports.high) return "dst port range is reversed";
  return {};
}

std::unique_ptr<SpdTable> SpdTable::build(std::span<const SpdRule> rules, std::string& error, int socket_id) {
  error.clear();
  // Precedence as rte_acl sees it: one distinct priority per rule, highest
  // for the rule that wins, so ties never reach rte_acl (it leaves them
  // unspecified). Rank rules by (priority, policy_id), lowest first.
  const std::size_t max_rules = RTE_ACL_MAX_PRIORITY - RTE_ACL_MIN_PRIORITY + 1;
  if (rules.size() > max_rules) {
    error = "too many rules for one table";
    return nullptr;
  }
  // policy_id breaks ties, so it must be unique.
  std::vector<std::uint64_t> ids;
  ids.reserve(rules.size());
  for (const auto& r : rules) ids.push_back(r.policy_id);
  std::sort(ids.begin(), ids.end());
  if (auto dup = std::adjacent_find(ids.begin(), ids.end()); dup != ids.end()) {
    error = "policy " + std::to_string(*dup) + ": policy_id appears twice";
    return nullptr;
  }
  std::vector<std::size_t> order(rules.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (rules[a].priority != rules[b].priority) return rules[a].priority < rules[b].priority;
    return rules[a].policy_id < rules[b].policy_id;
  });

  std::unique_ptr<SpdTable> table(new SpdTable());
  table->decisions_.reserve(rules.size());
  std::vector<AclRuleV4> v4_rules;
  std::vector<AclRuleV6> v6_rules;
  for (std::size_t rank = 0; rank < order.size(); ++rank) {
    const SpdRule& rule = rules[order[rank]];
    auto refuse = [&](const std::string& why) {
      error = "policy " + std::to_string(rule.policy_id) + ": " + why;
      return nullptr;
    };
    if (auto e = check(rule.selector); !e.empty()) return refuse(e);
    SpdVerdict verdict;
    switch (rule.action) {
      case PolicyAction::protect: verdict = SpdVerdict::protect; break;
      case PolicyAction::bypass: verdict = SpdVerdict::bypass; break;
      case PolicyAction::discard: verdict = SpdVerdict::discard; break;
      case PolicyAction::trap: verdict = SpdVerdict::trap; break;
      default: return refuse("unknown action");
    }
    table->decisions_.push_back(
        {verdict, verdict == SpdVerdict::protect ? rule.sa_index : 0, rule.policy_id});
    const auto priority = static_cast<std::int32_t>(RTE_ACL_MAX_PRIORITY - rank);
    const auto userdata = static_cast<std::uint32_t>(table->decisions_.size());  // index + 1
    if (rule.selector.src.family == IpVersion::v4) {
      v4_rules.push_back(acl_rule<AclRuleV4>(rule.selector, 1, priority, userdata));
    } else {
      v6_rules.push_back(acl_rule<AclRuleV6>(rule.selector, 4, priority, userdata));
    }
  }
  AclPtr v4, v6;
  if (!v4_rules.empty() && !(v4 = build_context(IpVersion::v4, v4_rules, socket_id, error))) return nullptr;
  if (!v6_rules.empty() && !(v6 = build_context(IpVersion::v6, v6_rules, socket_id, error))) return nullptr;
  table->v4_ = v4.release();
  table->v6_ = v6.release();
  table->v4_rules_ = v4_rules.size();
  table->v6_rules_ = v6_rules.size();
  return table;
}

SpdTable::~SpdTable() {
  rte_acl_free(v4_);
  rte_acl_free(v6_);
}

void SpdTable::classify_family(rte_acl_ctx* ctx, const std::uint8_t** data, std::uint32_t n,
                               const std::uint32_t* where, SpdDecision* out) const {
  if (n == 0) return;
  std::uint32_t results[kChunk];
  if (ctx == nullptr) {
    std::fill_n(results, n, 0u);
  } else {
    // Arguments are valid by construction (one category, n <= kChunk), so
    // the only error rte_acl_classify reports (-EINVAL) cannot happen.
    rte_acl_classify(ctx, data, results, n, 1);
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    out[where[i]] = results[i] == 0 ? SpdDecision{} : decisions_[results[i] - 1];
  }
}

void SpdTable::classify_burst(const PacketKey* keys, std::uint32_t n, SpdDecision* out) const {
  for (std::uint32_t base = 0; base < n; base += kChunk) {
    const std::uint32_t count = std::min(kChunk, n - base);
    const std::uint8_t* data4[kChunk];
    const std::uint8_t* data6[kChunk];
    std::uint32_t where4[kChunk];
    std::uint32_t where6[kChunk];
    std::uint32_t n4 = 0, n6 = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
      const PacketKey& k = keys[base + i];
      if (k.family() == IpVersion::v4) {
        data4[n4] = k.acl_input();
        where4[n4++] = base + i;
      } else {
        data6[n6] = k.acl_input();
        where6[n6++] = base + i;
      }
    }
    classify_family(v4_, data4, n4, where4, out);
    classify_family(v6_, data6, n6, where6, out);
  }
}

SpdDecision SpdTable::classify(const PacketKey& key) const {
  SpdDecision d;
  classify_burst(&key, 1, &d);
  return d;
}

std::string SelectorSet::add(const Selector& s) {
  if (auto e = check(s); !e.empty()) return e;
  Compiled c{};
  c.family = s.src.family;
  c.ip_protocol = s.ip_protocol;
  auto mask = [](const Prefix& p, std::array<std::uint8_t, 16>& addr, std::array<std::uint8_t, 16>& m) {
    for (unsigned i = 0; i < 16; ++i) {
      const unsigned first_bit = 8 * i;
      const unsigned n = p.length > first_bit ? std::min(8u, p.length - first_bit) : 0;
      m[i] = static_cast<std::uint8_t>(0xff00u >> n);
      addr[i] = p.address[i] & m[i];
    }
  };
  mask(s.src, c.src, c.src_mask);
  mask(s.dst, c.dst, c.dst_mask);
  const SelectorRange sp = selector_range(s.src_ports);
  const SelectorRange dp = selector_range(s.dst_ports);
  c.src_port_low = sp.low;
  c.src_port_high = sp.high;
  c.dst_port_low = dp.low;
  c.dst_port_high = dp.high;
  entries_.push_back(c);
  return {};
}

namespace {

bool address_in(std::span<const std::uint8_t> a, const std::array<std::uint8_t, 16>& net,
                const std::array<std::uint8_t, 16>& mask) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if ((a[i] & mask[i]) != net[i]) return false;
  }
  return true;
}

}  // namespace

bool selectors_match(const SelectorSet& set, const PacketKey& key) {
  const std::uint32_t sport = key.src_port_selector();
  const std::uint32_t dport = key.dst_port_selector();
  for (const auto& c : set.entries()) {
    if (c.family != key.family()) continue;
    if (c.ip_protocol != 0 && c.ip_protocol != key.protocol()) continue;
    if (sport < c.src_port_low || sport > c.src_port_high) continue;
    if (dport < c.dst_port_low || dport > c.dst_port_high) continue;
    if (!address_in(key.src_address(), c.src, c.src_mask)) continue;
    if (!address_in(key.dst_address(), c.dst, c.dst_mask)) continue;
    return true;
  }
  return false;
}

}  // namespace corridor::dataplane::tables
