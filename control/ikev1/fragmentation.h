// IKEv1 fragmentation: the proprietary extension Cisco, strongSwan,
// libreswan and racoon share (no RFC; RFC 7383 is IKEv2's). Certificates
// make Main Mode 5/6 and Aggressive Mode 2/3 larger than a path without IP
// fragments carries, and many firewalls drop IP fragments.
//
//   Support is announced by VID "FRAGMENTATION": MD5("FRAGMENTATION"),
//   16 bytes, which strongSwan follows with capability flags 0x80000000
//   (Cisco with 0xc0000000); received, the first 16 bytes are matched.
//
//   A datagram too large (as it would be sent: header, encrypted body and
//   all) is cut into pieces, each sent as its own ISAKMP message with the
//   original cookies, exchange type ID_PROT (AGGRESSIVE for an Aggressive
//   Mode SA, even for Quick Mode), Message ID 0, no flags, and one payload
//   of type 132:
//
//     Next Payload (0) | RESERVED | Payload Length (2)
//     Fragment ID (2)  | Fragment Number (1, from 1) | Flags (1, 0x01 last)
//     the piece
//
//   strongSwan always uses Fragment ID 1; so do we. The receiver joins the
//   pieces in number order and handles the result as the datagram it is.
//
// Fragments are accepted whatever `fragmentation` says (as strongSwan
// does); `no` stops the VID, `accept` announces without sending fragments,
// `yes` sends them to a peer that announced support, `force` to any peer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/iana/ikev1.h"

namespace corridor::control::ikev1 {

inline constexpr std::uint8_t kFragmentPayload = 132;
inline constexpr std::size_t kFragmentHeaderSize = 8;
// What a reassembled message may come to: strongSwan's charon.max_packet.
inline constexpr std::size_t kMaxReassembled = 10000;
// More pieces than this are refused (16 of the smallest useful size hold
// kMaxReassembled; strongSwan sends far fewer).
inline constexpr std::size_t kMaxFragments = 64;
// What all SAs together may hold in unfinished messages: fragments reach
// SAs before their peer is authenticated, so one budget for the manager
// keeps a flood of half-open SAs from buying memory (about 50 messages).
inline constexpr std::size_t kMaxReassemblyBudget = 512 * 1024;

// The VID we send (20 bytes), and whether a received one is it.
std::span<const std::uint8_t> fragmentation_vendor_id();
bool is_fragmentation_vendor_id(std::span<const std::uint8_t> data);

// The largest ISAKMP datagram we send whole, from strongSwan's default
// charon.fragment_size (1280 bytes of IP datagram): less the IP and UDP
// headers and, on port 4500, the non-ESP marker.
std::size_t max_datagram(bool ipv6, bool nat_t_port, std::size_t ip_datagram_size = 1280);

struct Fragment {
  std::uint16_t id = 0;
  std::uint8_t number = 0;
  bool last = false;
  std::span<const std::uint8_t> data;  // into the datagram
};

// The fragment payload of a datagram whose header names payload 132 as
// its first; nullopt and `why` if it is malformed (short, a length that
// disagrees with the datagram, number 0, another payload after it, an
// empty piece).
std::optional<Fragment> parse_fragment(std::span<const std::uint8_t> datagram, std::string* why);

// `datagram` cut into fragment messages of at most `max_size` bytes each
// (the original's cookies, `exchange`, Message ID 0). Empty if it fits.
std::vector<std::vector<std::uint8_t>> fragment_datagram(std::span<const std::uint8_t> datagram, std::size_t max_size,
                                                         iana::ikev1::ExchangeType exchange);

// The pieces of one message as they arrive, in any order, repeats ignored.
class Reassembly {
 public:
  enum class Result { incomplete, complete, rejected };
  // `why` says what was wrong when rejected (the pieces so far are dropped).
  Result add(const Fragment& f, std::string* why);
  // The joined message, once add() said complete; the buffer starts afresh.
  std::vector<std::uint8_t> take();
  bool empty() const { return pieces_.empty(); }
  std::size_t bytes() const { return bytes_; }

 private:
  std::uint16_t id_ = 0;
  std::uint8_t last_ = 0;  // the number of the last piece, 0 until it came
  std::size_t bytes_ = 0;
  std::map<std::uint8_t, std::vector<std::uint8_t>> pieces_;
};

}  // namespace corridor::control::ikev1
