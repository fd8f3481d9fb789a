#include "dataplane/forward/path_mtu.h"

#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "dataplane/ipsec/ip.h"
#include "dataplane/net/proxy_neighbor.h"

namespace corridor::dataplane::forward {
namespace {

using ipsec::load_be16;
using ipsec::store_be16;
using ipsec::store_be32;

constexpr std::uint8_t kProtoIcmp = 1;
constexpr std::uint8_t kProtoIcmpv6 = 58;
constexpr std::uint32_t kIcmpHeaderLen = 8;
constexpr std::uint32_t kIpv4ErrorMax = 576;   // RFC 1812 §4.3.2.3
constexpr std::uint32_t kIpv6ErrorMax = 1280;  // RFC 4443 §2.4(c)
constexpr std::uint32_t kIpv6MinMtu = 1280;    // RFC 8200 §5
constexpr std::uint16_t kDontFragment = 0x4000;
constexpr std::uint16_t kMoreFragments = 0x2000;
constexpr std::uint16_t kOffsetMask = 0x1fff;
constexpr std::uint8_t kErrorTtl = 64;

void free_all(rte_mbuf** out, std::uint16_t n) {
  for (std::uint16_t i = 0; i < n; ++i) rte_pktmbuf_free(out[i]);
}

// A source an error may go to: one host (RFC 1812 §4.3.2.7, §5.3.7).
bool single_host_v4(const std::uint8_t* a) {
  return a[0] != 0 && a[0] != 127 && a[0] < 224;  // not "this network", loopback, multicast, class E/broadcast
}
bool single_host_v6(const std::uint8_t* a) {
  static constexpr std::array<std::uint8_t, 16> kUnspecified{};
  static constexpr std::array<std::uint8_t, 16> kLoopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return a[0] != 0xff && std::memcmp(a, kUnspecified.data(), 16) != 0 && std::memcmp(a, kLoopback.data(), 16) != 0;
}

// ICMPv4 messages that are errors (RFC 792, RFC 1812 §4.3.2.7): never
// answered with another error. Queries (echo, timestamp, ...) may be.
bool icmpv4_error(std::uint8_t type) { return type == 3 || type == 4 || type == 5 || type == 11 || type == 12; }

}  // namespace

bool may_fragment(const std::uint8_t* ip) { return (ip[0] >> 4) == 4 && (load_be16(ip + 6) & kDontFragment) == 0; }

std::uint16_t fragment_ipv4(const rte_mbuf* m, std::uint32_t max_len, rte_mempool* pool, rte_mbuf** out,
                            std::uint16_t cap) {
  const auto* ip = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const std::uint32_t ihl = (ip[0] & 0x0f) * 4u;
  const std::uint32_t total = load_be16(ip + 2);
  const std::uint16_t flags = load_be16(ip + 6);
  if ((flags & kDontFragment) != 0 || total <= ihl || total > m->data_len) return 0;
  // A datagram that would end past 65535 bytes has no offsets for its pieces.
  const std::uint32_t base = (flags & kOffsetMask) * 8u;
  if (base + total - ihl > 0xffff) return 0;

  // RFC 791 §3.2: options with the copied flag go in every fragment, the
  // others (and NOPs) in the first only; the rest of the header is padded
  // with End of Option List.
  std::array<std::uint8_t, 40> copied{};
  std::uint32_t copied_len = 0;
  for (std::uint32_t i = ipsec::kIpv4HeaderLen; i < ihl;) {
    const std::uint8_t type = ip[i];
    if (type == 0) break;  // End of Option List
    if (type == 1) {       // No Operation
      ++i;
      continue;
    }
    if (i + 1 >= ihl || ip[i + 1] < 2 || i + ip[i + 1] > ihl) return 0;
    const std::uint8_t len = ip[i + 1];
    if ((type & 0x80) != 0) {
      std::memcpy(copied.data() + copied_len, ip + i, len);
      copied_len += len;
    }
    i += len;
  }
  const std::uint32_t later_ihl = ipsec::kIpv4HeaderLen + ((copied_len + 3) & ~3u);
  if (max_len < std::max(ihl, later_ihl) + 8) return 0;

  const bool more_after = (flags & kMoreFragments) != 0;
  const std::uint32_t data_len = total - ihl;
  std::uint16_t n = 0;
  for (std::uint32_t at = 0; at < data_len;) {
    const std::uint32_t hdr = n == 0 ? ihl : later_ihl;
    std::uint32_t chunk = data_len - at;
    const bool last = chunk <= max_len - hdr;
    if (!last) chunk = (max_len - hdr) & ~7u;  // all but the last carry multiples of 8
    rte_mbuf* f = n < cap ? rte_pktmbuf_alloc(pool) : nullptr;
    auto* p = f ? reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(f, static_cast<std::uint16_t>(hdr + chunk)))
                : nullptr;
    if (p == nullptr) {
      if (f) rte_pktmbuf_free(f);
      free_all(out, n);
      return 0;
    }
    if (n == 0) {
      std::memcpy(p, ip, ihl);
    } else {
      std::memcpy(p, ip, ipsec::kIpv4HeaderLen);
      std::memcpy(p + ipsec::kIpv4HeaderLen, copied.data(), copied_len);
      std::memset(p + ipsec::kIpv4HeaderLen + copied_len, 0, hdr - ipsec::kIpv4HeaderLen - copied_len);
      p[0] = static_cast<std::uint8_t>(0x40 | hdr / 4);
    }
    std::memcpy(p + hdr, ip + ihl + at, chunk);
    store_be16(p + 2, static_cast<std::uint16_t>(hdr + chunk));
    const std::uint16_t offset = static_cast<std::uint16_t>((base + at) / 8);
    store_be16(p + 6, static_cast<std::uint16_t>(offset | ((last && !more_after) ? 0 : kMoreFragments)));
    ipsec::set_ipv4_checksum(p);
    f->port = m->port;
    out[n++] = f;
    at += chunk;
  }
  return n;
}

bool may_answer_with_error(const std::uint8_t* ip, std::uint32_t len) {
  if (len < 1) return false;
  if ((ip[0] >> 4) == 4) {
    const std::uint32_t ihl = (ip[0] & 0x0f) * 4u;
    if (len < ipsec::kIpv4HeaderLen || ihl < ipsec::kIpv4HeaderLen || len < ihl) return false;
    if ((load_be16(ip + 6) & kOffsetMask) != 0) return false;  // only the first fragment
    if (!single_host_v4(ip + 12) || ip[16] >= 224) return false;  // nor to/from multicast or broadcast
    if (ip[9] == kProtoIcmp && (len <= ihl || icmpv4_error(ip[ihl]))) return false;
    return true;
  }
  if ((ip[0] >> 4) != 6 || len < ipsec::kIpv6HeaderLen) return false;
  if (!single_host_v6(ip + 8)) return false;
  // A "packet too big" may answer a multicast destination (RFC 4443
  // §2.4(e.3)), so only the source and the message itself are checked.
  std::uint32_t offset = 0, proto_at = 0;
  std::uint8_t proto = 0;
  if (!ipsec::ipv6_skip_extensions(ip, len, offset, proto, proto_at)) return false;
  if (proto == ipsec::kIpv6Fragment) return offset + 4 <= len && (load_be16(ip + offset + 2) & 0xfff8) == 0;
  if (proto == kProtoIcmpv6) return offset < len && ip[offset] >= 128;  // 0-127 are errors (RFC 4443 §2.1)
  return true;
}

rte_mbuf* too_big_message(const std::uint8_t* ip, std::uint32_t len, std::uint32_t mtu, const std::uint8_t* source,
                          rte_mempool* pool) {
  if (!may_answer_with_error(ip, len)) return nullptr;
  const bool v6 = (ip[0] >> 4) == 6;
  const std::uint32_t header = v6 ? ipsec::kIpv6HeaderLen : ipsec::kIpv4HeaderLen;
  const std::uint32_t quoted = std::min(len, (v6 ? kIpv6ErrorMax : kIpv4ErrorMax) - header - kIcmpHeaderLen);
  const std::uint32_t total = header + kIcmpHeaderLen + quoted;
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  auto* p = m ? reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(total))) : nullptr;
  if (p == nullptr) {
    if (m) rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memset(p, 0, header + kIcmpHeaderLen);
  std::uint8_t* icmp = p + header;
  std::memcpy(icmp + kIcmpHeaderLen, ip, quoted);
  if (v6) {
    p[0] = 0x60;
    store_be16(p + 4, static_cast<std::uint16_t>(kIcmpHeaderLen + quoted));
    p[6] = kProtoIcmpv6;
    p[7] = kErrorTtl;
    std::memcpy(p + 8, source, 16);
    std::memcpy(p + 24, ip + 8, 16);  // to the sender
    icmp[0] = 2;                      // Packet Too Big, code 0
    store_be32(icmp + 4, std::max(mtu, kIpv6MinMtu));
    store_be16(icmp + 2, net::icmpv6_checksum(p, icmp, kIcmpHeaderLen + quoted));
  } else {
    p[0] = 0x45;
    p[1] = 0xc0;  // precedence "internetwork control", as routers send their errors
    store_be16(p + 2, static_cast<std::uint16_t>(total));
    p[8] = kErrorTtl;
    p[9] = kProtoIcmp;
    std::memcpy(p + 12, source, 4);
    std::memcpy(p + 16, ip + 12, 4);  // to the sender
    ipsec::set_ipv4_checksum(p);
    icmp[0] = 3;  // Destination Unreachable
    icmp[1] = 4;  // fragmentation needed and DF set
    store_be16(icmp + 6, static_cast<std::uint16_t>(std::min<std::uint32_t>(mtu, 0xffff)));  // RFC 1191 §4
    store_be16(icmp + 2, corridor::net::internet_checksum(icmp, kIcmpHeaderLen + quoted));
  }
  return m;
}

}  // namespace corridor::dataplane::forward
