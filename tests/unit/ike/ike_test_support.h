// Helpers for the IKE codec tests: hex byte strings written from the RFC
// 7296 §3 diagrams, and a strongSwan 5.9.8-style IKE_SA_INIT request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corridor::ike::test {

// "01 02 0a" -> {1, 2, 10}; spaces and '|' ignored (they mark fields).
inline std::vector<std::uint8_t> from_hex(std::string_view text) {
  std::vector<std::uint8_t> out;
  int high = -1;
  for (char c : text) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else continue;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  return out;
}

inline std::string repeat(std::string_view byte_hex, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += byte_hex;
  return s;
}

// What strongSwan 5.9.8 sends as initiator (/work/shared/PEERS.md):
// SA KE Ni N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)
// N(IKEV2_FRAGMENTATION_SUPPORTED) N(SIGNATURE_HASH_ALGORITHMS)
// N(REDIRECT_SUPPORTED), with one proposal aes256-sha256-prfsha256-ecp256.
// Offsets: header 0, SA 28, KE 76, Ni 148, N 184, N 212, N 240, N 248, N 264;
// total 272 bytes.
inline std::string strongswan_init_request_hex() {
  return
      // IKE header (§3.1): SPIi, SPIr 0, Next Payload SA(33), Version 2.0,
      // IKE_SA_INIT(34), flags I, Message ID 0, Length 272.
      "0102030405060708 0000000000000000 21 20 22 08 00000000 00000110"
      // SA (§3.3): next KE(34), length 48; proposal: last, length 44, #1,
      // IKE, SPI size 0, 4 transforms.
      "22 00 0030 | 00 00 002c 01 01 00 04"
      //   ENCR AES_CBC (12) with Key Length (TV, 14) 256
      "03 00 000c 01 00 000c 800e 0100"
      //   INTEG AUTH_HMAC_SHA2_256_128 (12)
      "03 00 0008 03 00 000c"
      //   PRF PRF_HMAC_SHA2_256 (5)
      "03 00 0008 02 00 0005"
      //   KE ECP_256 (19), last
      "00 00 0008 04 00 0013"
      // KE (§3.4): next Nonce(40), length 72, group 19, 64 bytes (x | y)
      "28 00 0048 0013 0000" +
      repeat("a1", 64) +
      // Nonce (§3.9): next N(41), length 36, 32 bytes
      "29 00 0024" + repeat("b2", 32) +
      // N(NAT_DETECTION_SOURCE_IP = 16388): SHA-1 hash
      "29 00 001c 00 00 4004" + repeat("c3", 20) +
      // N(NAT_DETECTION_DESTINATION_IP = 16389)
      "29 00 001c 00 00 4005" + repeat("d4", 20) +
      // N(IKEV2_FRAGMENTATION_SUPPORTED = 16430), no data
      "29 00 0008 00 00 402e"
      // N(SIGNATURE_HASH_ALGORITHMS = 16431): SHA2-256, SHA2-384, SHA2-512, Identity
      "29 00 0010 00 00 402f 0002 0003 0004 0005"
      // N(REDIRECT_SUPPORTED = 16406), last payload
      "00 00 0008 00 00 4016";
}

}  // namespace corridor::ike::test
