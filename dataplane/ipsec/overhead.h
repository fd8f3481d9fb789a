// How long a clear packet becomes once an SA protects it, and the longest
// clear packet that still fits a path MTU: what the forwarder decides
// before the engine runs (fragment first, or answer "too big"), so that
// nothing it sends needs fragmenting after encryption (RFC 4301 §8.1).
//
// The same arithmetic as esp_outbound.cc and ah_outbound.cc; the engine
// tests check every algorithm and shape against what the engine produces.
#pragma once

#include <cstdint>

#include "dataplane/ipsec/ah.h"
#include "dataplane/ipsec/ip.h"
#include "dataplane/ipsec/sa.h"

namespace corridor::dataplane::ipsec {

// What protection puts in front of the protected data: the outer IP header
// (tunnel mode), the UDP header (RFC 3948), the ESP header and IV or the AH
// header. Transport mode keeps the packet's own `keep` header bytes in front.
inline std::uint32_t header_overhead(const RuntimeSa& sa) {
  const bool v6 = sa.has(kOuterV6);
  const std::uint32_t outer = sa.has(kTunnel) ? (v6 ? kIpv6HeaderLen : kIpv4HeaderLen) : 0;
  if (sa.has(kAh)) return outer + ah_header_len(sa.icv_bytes, v6);
  return outer + (sa.has(kUdpEncap) ? kUdpHeaderLen : 0) + kEspHeaderLen + sa.iv_bytes;
}

// The length of the packet protecting a clear IP packet of `len` bytes
// makes. `keep`: in transport mode the bytes of IP header (and IPv6
// extension headers) that stay in front; ignored in tunnel mode, which
// protects the whole packet.
inline std::uint32_t protected_length(const RuntimeSa& sa, std::uint32_t len, std::uint32_t keep) {
  const std::uint32_t data = sa.has(kTunnel) ? len : len - keep;
  const std::uint32_t front = header_overhead(sa) + (sa.has(kTunnel) ? 0 : keep);
  if (sa.has(kAh)) return front + data;
  // RFC 4303 §2.4: data, padding, pad length and next header aligned to
  // the block (a power of two, Sa::create), then the ICV.
  const std::uint32_t payload = (data + 2 + sa.block_bytes - 1u) & ~(sa.block_bytes - 1u);
  return front + payload + sa.icv_bytes;
}

// The longest clear packet protected_length() keeps within `mtu`; 0 when
// not even an empty one fits. This is the MTU the "too big" answers report.
inline std::uint32_t max_clear_length(const RuntimeSa& sa, std::uint32_t mtu, std::uint32_t keep) {
  const std::uint32_t front = header_overhead(sa) + (sa.has(kTunnel) ? 0 : keep);
  const std::uint32_t fixed = front + (sa.has(kAh) ? 0 : sa.icv_bytes);
  if (mtu <= fixed) return 0;
  std::uint32_t data = mtu - fixed;
  if (!sa.has(kAh)) {
    const std::uint32_t payload = data & ~(sa.block_bytes - 1u);  // the longest aligned payload that fits
    if (payload < 2) return 0;
    data = payload - 2;
  }
  return sa.has(kTunnel) ? data : data + keep;
}

}  // namespace corridor::dataplane::ipsec
