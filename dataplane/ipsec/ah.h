// AH (RFC 4302) outbound and inbound burst stages, and the mutable-field
// rules both sides apply to the IP header before computing the ICV.
//
//   tunnel:    [outer IP][AH: nh | len | 0 | SPI | seq | ICV (+pad)][inner IP packet]
//   transport: [IP (+ IPv6 ext hdrs)][AH][upper layer]
//
// The ICV covers the whole IP packet with the mutable fields of the IP
// header (and IPv4 options / IPv6 extension headers) and the ICV field
// taken as zero, and with ESN the high half of the sequence number
// appended after the packet (RFC 4302 §3.3.3.1, §2.5.1). AH is never
// UDP-encapsulated (RFC 3948 covers ESP only), so it cannot cross a NAT.
#pragma once

#include <cstdint>

#include "dataplane/crypto/algorithm.h"
#include "dataplane/ipsec/sa.h"

namespace corridor::dataplane::ipsec {

inline constexpr std::uint32_t kAhFixedLen = 12;  // next header, length, reserved, SPI, sequence number

// The AH header length for an ICV: a multiple of 4 bytes over IPv4 and of
// 8 over IPv6, the padding at the end of the ICV field (RFC 4302 §2.6,
// §3.3.3.2.1).
constexpr std::uint32_t ah_header_len(std::uint32_t icv_bytes, bool v6) {
  const std::uint32_t len = kAhFixedLen + icv_bytes;
  const std::uint32_t align = v6 ? 8 : 4;
  return (len + align - 1) / align * align;
}

enum class MutableFields : std::uint8_t {
  zeroed,       // the header is ready for the ICV computation
  malformed,    // an IPv4 option or IPv6 extension header runs past its end
  unsupported,  // an IPv6 routing header with segments left: its addresses would need reordering
};

// Zeroes, in place, the fields of the `header_len`-byte IP header in front
// of AH that may change in transit (RFC 4302 §3.3.3.1):
//   IPv4: TOS, flags and fragment offset, TTL, header checksum, and every
//         option but EOL, NOP, Security, Extended Security, Commercial
//         Security, Router Alert and SDMDD (Appendix A.1);
//   IPv6: traffic class, flow label, hop limit, and the data of
//         Hop-by-Hop and Destination options whose type has the "may
//         change en route" bit (0x20) set (Appendix A.2).
MutableFields zero_mutable_fields(std::uint8_t* ip, std::uint32_t header_len);

// The outbound / inbound burst function for an AH SA's shape.
BurstFn ah_outbound_fn(bool tunnel, bool outer_v6);
BurstFn ah_inbound_fn(bool tunnel, bool outer_v6);

}  // namespace corridor::dataplane::ipsec
