// RFC 4302 §3.3.3.1 and Appendix A: which bits of the IP header AH leaves
// out of the ICV because routers may change them.
#include "dataplane/ipsec/ah.h"

#include <cstring>

#include "dataplane/ipsec/ip.h"

namespace corridor::dataplane::ipsec {
namespace {

// Appendix A.1: the IPv4 options that are immutable, by option number (the
// low five bits of the type; the copied flag and class do not matter).
bool immutable_ipv4_option(std::uint8_t type) {
  switch (type & 0x1f) {
    case 0:   // End of Options List
    case 1:   // No Operation
    case 2:   // Security
    case 5:   // Extended Security
    case 6:   // Commercial Security
    case 20:  // Router Alert
    case 21:  // Sender Directed Multi-Destination Delivery
      return true;
    default:
      return false;
  }
}

MutableFields zero_ipv4(std::uint8_t* ip, std::uint32_t header_len) {
  ip[1] = 0;             // TOS (DSCP, ECN)
  ip[6] = ip[7] = 0;     // flags, fragment offset
  ip[8] = 0;             // TTL
  ip[10] = ip[11] = 0;   // header checksum
  for (std::uint32_t at = kIpv4HeaderLen; at < header_len;) {
    const std::uint8_t type = ip[at];
    if (type == 0) break;  // End of Options List: the rest is padding
    if (type == 1) {
      ++at;
      continue;
    }
    if (at + 2 > header_len) return MutableFields::malformed;
    const std::uint32_t len = ip[at + 1];
    if (len < 2 || at + len > header_len) return MutableFields::malformed;
    // A mutable option is zeroed whole, type and length included.
    if (!immutable_ipv4_option(type)) std::memset(ip + at, 0, len);
    at += len;
  }
  return MutableFields::zeroed;
}

// The TLV options of a Hop-by-Hop or Destination Options header.
bool zero_ipv6_options(std::uint8_t* opts, std::uint32_t len) {
  for (std::uint32_t at = 0; at < len;) {
    const std::uint8_t type = opts[at];
    if (type == 0) {  // Pad1
      ++at;
      continue;
    }
    if (at + 2 > len) return false;
    const std::uint32_t data_len = opts[at + 1];
    if (at + 2 + data_len > len) return false;
    if (type & 0x20) std::memset(opts + at + 2, 0, data_len);  // RFC 8200 §4.2: may change en route
    at += 2 + data_len;
  }
  return true;
}

MutableFields zero_ipv6(std::uint8_t* ip, std::uint32_t header_len) {
  ip[0] &= 0xf0;          // traffic class (high half) ...
  ip[1] = ip[2] = ip[3] = 0;  // ... its low half and the flow label
  ip[7] = 0;              // hop limit
  std::uint8_t next = ip[6];
  for (std::uint32_t at = kIpv6HeaderLen; at < header_len;) {
    if (at + 8 > header_len) return MutableFields::malformed;
    const std::uint32_t len = (ip[at + 1] + 1u) * 8u;
    if (at + len > header_len) return MutableFields::malformed;
    switch (next) {
      case kIpv6HopByHop:
      case kIpv6DestOpts:
        if (!zero_ipv6_options(ip + at + 2, len - 2)) return MutableFields::malformed;
        break;
      case kIpv6Routing:
        // Segments left 0: the header already reads as the receiver sees
        // it. Otherwise the sender would have to compute over the final
        // destination and the reordered address list.
        if (ip[at + 3] != 0) return MutableFields::unsupported;
        break;
      default:
        return MutableFields::malformed;  // only these three may precede AH here
    }
    next = ip[at];
    at += len;
  }
  return MutableFields::zeroed;
}

}  // namespace

MutableFields zero_mutable_fields(std::uint8_t* ip, std::uint32_t header_len) {
  return (ip[0] >> 4) == 4 ? zero_ipv4(ip, header_len) : zero_ipv6(ip, header_len);
}

}  // namespace corridor::dataplane::ipsec
