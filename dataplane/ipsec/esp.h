// ESP (RFC 4303) outbound and inbound burst stages. Packets are mbufs whose
// data starts at the IP header (the L2 header already stripped on input, to
// be added by the route/transmit stage on output).
//
// Outbound takes clear packets of one SA and returns them protected:
//   tunnel:    [outer IP][UDP if NAT-T][ESP][IV][inner IP packet][pad][pad len][next hdr][ICV]
//   transport: [IP (+ IPv6 ext hdrs)][UDP if NAT-T][ESP][IV][upper layer][pad][pad len][nh][ICV]
// Inbound takes protected packets the SAD found for one SA and returns the
// inner packet (tunnel) or the IP packet with ESP removed (transport).
//
// The functions are chosen per SA (RuntimeSa::process, set by Sa::create);
// these declarations are for it.
#pragma once

#include "dataplane/crypto/algorithm.h"
#include "dataplane/ipsec/sa.h"

namespace corridor::dataplane::ipsec {

// The outbound / inbound burst function for an SA's shape.
BurstFn esp_outbound_fn(bool tunnel, bool outer_v6, bool udp_encap, const crypto::Algorithm& algorithm);
BurstFn esp_inbound_fn(bool tunnel, bool outer_v6, bool udp_encap, const crypto::Algorithm& algorithm);

// How the ICV is computed, which decides where the authenticated bytes are.
enum class IcvKind : std::uint8_t {
  aead,  // AES-GCM, ChaCha20-Poly1305: AAD = SPI | [seq hi] | seq lo
  gmac,  // AES-GMAC: AAD = ESP header .. trailer, ESN high half after the SPI
  hmac,  // cipher + HMAC: ESP header .. trailer, then the ESN high half
};
inline IcvKind icv_kind(const crypto::Algorithm& a) {
  if (a.cipher == crypto::Cipher::aes_gmac) return IcvKind::gmac;
  return a.combined() ? IcvKind::aead : IcvKind::hmac;
}

}  // namespace corridor::dataplane::ipsec
