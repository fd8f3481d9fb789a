// Why the packet engine dropped (or diverted) a packet. Every packet that
// does not come out of a stage is counted under exactly one of these, per SA
// where the SA is known and per lcore otherwise; the names are what the API
// and the metrics show.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace corridor::dataplane::ipsec {

enum class Drop : std::uint8_t {
  too_short,         // a header or the ESP/AH trailer runs past the packet's end
  bad_ip_header,     // version, header length or total length do not add up
  unsupported_header,  // AH: an IPv6 routing header with segments left, or over 128 bytes of IP header in front of AH
  fragment,          // an IP fragment reached the engine (the forwarder reassembles ESP/AH first)
  multi_segment,     // chained mbuf: the engine works on contiguous packets
  no_room,           // no head- or tailroom for the headers and trailer
  no_sa,             // inbound: no SA for the SPI (or the SPI is not this SA's)
  wrong_destination, // inbound: the SA exists for another gateway address
  encap_mismatch,    // inbound: UDP-encapsulated ESP on a plain SA, or the reverse
  bad_length,        // ESP payload not a whole number of cipher blocks / 4 bytes
  replay,            // anti-replay: already received (RFC 4303 §3.4.3)
  replay_too_old,    // anti-replay: left of the window
  icv_failure,       // integrity check failed: forged, corrupted or wrong key
  bad_padding,       // pad length too long or padding bytes not 1, 2, 3...
  bad_next_header,   // next header not what the mode allows
  dummy_packet,      // next header 59: TFC dummy packet (RFC 4303 §2.6), discarded by design
  bad_inner_packet,  // tunnel mode: the decrypted inner packet is not a valid IP packet
  ecn_ce_not_ect,    // RFC 6040 §4.2: outer CE on a Not-ECT inner packet cannot be passed on
  policy_mismatch,   // inbound: inner packet outside the SA's traffic selectors (RFC 4301 §5.2)
  seq_overflow,      // outbound: sequence number space used up (RFC 4303 §3.3.3)
  sa_expired,        // hard lifetime reached: the SA carries no more traffic
  oversize,          // the protected packet would exceed 65535 bytes (IPv4 / IPv6 payload)
  crypto_failed,     // the crypto backend refused the job
  count_,
};

inline constexpr std::size_t kDropReasons = static_cast<std::size_t>(Drop::count_);

constexpr std::string_view to_string(Drop d) {
  switch (d) {
    case Drop::too_short: return "too_short";
    case Drop::bad_ip_header: return "bad_ip_header";
    case Drop::unsupported_header: return "unsupported_header";
    case Drop::fragment: return "fragment";
    case Drop::multi_segment: return "multi_segment";
    case Drop::no_room: return "no_room";
    case Drop::no_sa: return "no_sa";
    case Drop::wrong_destination: return "wrong_destination";
    case Drop::encap_mismatch: return "encap_mismatch";
    case Drop::bad_length: return "bad_length";
    case Drop::replay: return "replay";
    case Drop::replay_too_old: return "replay_too_old";
    case Drop::icv_failure: return "icv_failure";
    case Drop::bad_padding: return "bad_padding";
    case Drop::bad_next_header: return "bad_next_header";
    case Drop::dummy_packet: return "dummy_packet";
    case Drop::bad_inner_packet: return "bad_inner_packet";
    case Drop::ecn_ce_not_ect: return "ecn_ce_not_ect";
    case Drop::policy_mismatch: return "policy_mismatch";
    case Drop::seq_overflow: return "seq_overflow";
    case Drop::sa_expired: return "sa_expired";
    case Drop::oversize: return "oversize";
    case Drop::crypto_failed: return "crypto_failed";
    case Drop::count_: break;
  }
  return "?";
}

// Counters of one SA, written by the one worker that owns it and read by
// the main lcore (aligned 64-bit stores are not torn on x86-64).
struct SaCounters {
  std::uint64_t packets = 0;  // processed successfully
  std::uint64_t bytes = 0;    // of the clear (inner) packets: what lifetimes count
  std::array<std::uint64_t, kDropReasons> drops{};

  void drop(Drop d) { ++drops[static_cast<std::size_t>(d)]; }
  std::uint64_t dropped(Drop d) const { return drops[static_cast<std::size_t>(d)]; }
};

}  // namespace corridor::dataplane::ipsec
