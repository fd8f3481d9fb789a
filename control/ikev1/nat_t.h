// IKEv1 NAT traversal (RFC 3947) and Dead Peer Detection (RFC 3706)
// announcements.
//
// Both ends send the RFC 3947 vendor ID in Main Mode messages 1/2
// (Aggressive Mode 1/2); if both did, messages 3/4 carry NAT-D payloads:
// first the hash of the receiver's address as the sender sees it, then one
// per address of the sender:
//
//   HASH = hash(CKY-I | CKY-R | IP | Port)    (the negotiated Phase 1 hash)
//
// A received hash that matches no address of the packet's source says the
// peer is behind a NAT; a first hash that does not match our address says
// we are. Either way the initiator moves to port 4500 from Main Mode
// message 5 (Aggressive Mode 3) on, with the non-ESP marker (RFC 3948).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/iana/ikev2.h"
#include "common/ike/keys.h"
#include "common/net/address.h"

namespace corridor::control::ikev1 {

// MD5("RFC 3947") (RFC 3947 §3.1).
std::span<const std::uint8_t> rfc3947_vendor_id();
// RFC 3706 §3: the DPD vendor ID (version 1.0).
std::span<const std::uint8_t> dpd_vendor_id();

corridor::ike::KeyExpected<std::vector<std::uint8_t>> nat_d_hash(iana::PrfId prf, std::span<const std::uint8_t> cky_i,
                                                                 std::span<const std::uint8_t> cky_r,
                                                                 const net::SocketAddress& address);

}  // namespace corridor::control::ikev1
