// IKEv2 message fragmentation (RFC 7383): splitting a protected message
// into Encrypted Fragment (SKF) messages, and putting the peer's fragments
// back together.
//
// Sending (§2.5). Each fragment is a complete IKE message: the original
// IKE header unchanged except for Length and Next Payload (53, SKF) — same
// SPIs, exchange, flags and Message ID — followed by one SKF payload and
// nothing else:
//
//   IKE header (28) | SKF header: Next Payload, C, RESERVED, Payload Length,
//                     Fragment Number, Total Fragments (8) | IV | ciphertext | ICV
//
// The plaintext (the serialised inner payload chain that would have gone
// into SK) is cut into chunks as a binary blob, without regard for payload
// boundaries (§2.5), and every chunk is sealed on its own exactly as SK
// content is (RFC 7296 §3.14, RFC 5282 §5.1): the associated data is that
// fragment's own first 36 bytes, i.e. its IKE header (with this fragment's
// Length and Next Payload 53) and its SKF header including Fragment Number
// and Total Fragments. For AES-CBC+HMAC the ICV covers the same bytes plus
// IV and ciphertext. Next Payload of the SKF is the first inner payload's
// type in fragment 1 and 0 in the others (§2.5, the SKF field
// description). No unprotected payload goes with the SKF (§2.5.3 would put
// such payloads in fragment 1 only; no IKEv2 exchange has any).
//
// Receiving (§2.6). Reassembly keeps, per IKE SA, one message in
// reassembly for each direction (requests from the peer, responses to our
// requests: their Message IDs are separate counters, RFC 7296 §2.2). Every
// fragment is authenticated (SkCrypto::open) BEFORE it changes any state,
// so a forged fragment can neither be stored nor discard what was
// collected (§2.6: fragments are checked one by one, never the
// reassembled message). See Reassembly::add() for the rules.
//
// Nothing here does I/O, keeps time or logs; the Manager decides when to
// fragment (fragmentation_wanted()) and counts the drops
// (Reassembly::last_reject()).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/model.h"
#include "common/iana/ikev2_message.h"
#include "common/ike/message.h"
#include "common/ike/sk_crypto.h"
#include "common/net/address.h"

namespace corridor::control::ikev2 {

// SKF payload header: generic header (4) + Fragment Number (2) + Total
// Fragments (2). A fragment's associated data is kHeaderSize + this.
inline constexpr std::size_t kSkfHeaderSize = 8;
inline constexpr std::size_t kFragmentAadSize = corridor::ike::kHeaderSize + kSkfHeaderSize;

// --- Fragment size (§2.5.1) ----------------------------------------------------
//
// The IP datagram carrying a fragment is kept within 1280 bytes for IPv4
// and IPv6 alike: strongSwan's default `charon.fragment_size` (1280, used
// for both families), the IPv6 minimum MTU (RFC 8200 §5) and what §2.5.1
// recommends for IPv6. §2.5.1 recommends 576 for IPv4 when the path MTU is
// unknown; pass 576 as ip_datagram_size for that. The IKE message limit is
// then what is left after the IP header (IPv4 20 bytes, no options; IPv6
// 40, no extension headers), UDP (8) and, on the NAT-T port, the non-ESP
// marker (4, RFC 3948 §2.2) that the socket layer adds:
//
//                 port 500   port 4500
//   IPv4, 1280      1252       1248
//   IPv6, 1280      1232       1228
//   IPv4,  576       548        544
//
// The result is the `max_datagram` of fragment_message(): a bound on the
// IKE message as parse_message() sees it (without the non-ESP marker).
inline constexpr std::size_t kFragmentIpDatagramSize = 1280;
std::size_t fragment_datagram_limit(net::Family family, bool nat_t_port,
                                    std::size_t ip_datagram_size = kFragmentIpDatagramSize);

// --- Policy (§2.3, §2.4; the connection's `fragmentation`, strongSwan's meaning) ---
//
//   yes     announce IKEV2_FRAGMENTATION_SUPPORTED; send fragments once the
//           peer announced it too and a message does not fit
//   accept  announce it (so the peer may fragment towards us) but never
//           send fragments ourselves
//   force   as yes: strongSwan's "fragment the first message" applies to
//           IKEv1 only; IKE_SA_INIT is never fragmented (§2.5: only
//           messages with SK are)
//   no      do not announce it, never send fragments
//
// As responder the notification goes in the IKE_SA_INIT response only if
// the request carried it (§2.3).
bool announce_fragmentation(config::Fragmentation setting);
// True when a protected message that does not fit one datagram is sent in
// fragments: the setting allows it (yes/force) and the peer announced
// support in IKE_SA_INIT (both sides, §2.3; §2.4: never before that).
bool fragmentation_wanted(config::Fragmentation setting, bool peer_announced);

// --- Sending (§2.5) --------------------------------------------------------------

// The fragments of one protected message, in order (Fragment Number 1..N),
// each a whole datagram of at most max_datagram bytes that parse_message()
// accepts. `header`: the message's header as it would be sent unfragmented
// (Length and Next Payload are computed); `first_inner`: the type of the
// first payload of `plaintext` (no_next_payload when empty); `plaintext`:
// serialise_payloads() of the inner payloads. Each fragment carries as
// much plaintext as fits, the last one the rest; an empty plaintext gives
// one fragment (1 of 1).
//
// nullopt (and *why, if given) when max_datagram leaves no room for a
// byte of plaintext next to the headers, IV, padding and ICV, when more
// than 65535 fragments would be needed, or when sealing fails (AEAD IV
// counter exhausted). `out` is the SA's outbound SkCrypto: every fragment
// consumes one AEAD IV. Retransmit the datagrams returned, never
// fragment the message again for a retransmission (RFC 7296 §2.1, §2.6.1
// of RFC 7383: a retransmission is the same bytes).
std::optional<std::vector<std::vector<std::uint8_t>>> fragment_message(const corridor::ike::Header& header,
                                                                      iana::PayloadType first_inner,
                                                                      std::span<const std::uint8_t> plaintext,
                                                                      corridor::ike::SkCrypto& out,
                                                                      std::size_t max_datagram, std::string* why);

// The plaintext bytes one fragment of at most max_datagram bytes can carry
// with this SkCrypto (0: none).
std::size_t fragment_capacity(const corridor::ike::SkCrypto& crypto, std::size_t max_datagram);

// --- Receiving (§2.6) -------------------------------------------------------------

// Limits of one message in reassembly. strongSwan splits an IKE_AUTH with
// an RSA-3072 certificate chain into a handful of fragments; 64 fragments
// of at least ~500 bytes is well above any message we accept, and 64 KiB
// of plaintext is about what one SK payload could carry unfragmented (its
// Payload Length has 16 bits).
inline constexpr std::size_t kMaxFragments = 64;
inline constexpr std::size_t kMaxReassembledSize = 64 * 1024;

class Reassembly {
 public:
  struct Result {
    iana::PayloadType first_inner = iana::PayloadType::no_next_payload;  // from fragment 1
    std::vector<std::uint8_t> plaintext;  // for parse_payloads(first_inner, plaintext)
  };
  enum class Status : std::uint8_t { incomplete, complete, rejected };

  // Why add() said rejected; to_string() gives the drop counter's name.
  enum class Reject : std::uint8_t {
    none,
    bad_fragment_number,   // Fragment Number 0 or above Total Fragments, Total 0
    too_many_fragments,    // Total Fragments above kMaxFragments
    not_fragment_only,     // the datagram is not IKE header + SKF (bytes before the SKF header)
    integrity_failed,      // open() refused: forged, damaged or not under this SA's key
    stale_message_id,      // an older Message ID than the one in reassembly, or one already reassembled
    total_mismatch,        // Total Fragments below what this message's earlier fragments said
    header_mismatch,       // exchange type or I flag differs from this message's earlier fragments
    duplicate,             // a Fragment Number already held (a retransmission)
    too_large,             // the plaintext collected would exceed kMaxReassembledSize
  };

  // One fragment as received. `header`: its parsed IKE header; `fragment`:
  // its SKF body (from parse_message); `datagram`: the whole message
  // without the non-ESP marker; `in`: the SA's inbound SkCrypto.
  //
  // Call it after the Manager's Message ID checks (window, retransmitted
  // request: §2.6.1, answer the cached response on fragment 1 only, without
  // reassembling) and before anything else looks at the content.
  //
  //   1. Fragment Number 1..Total, Total at most kMaxFragments, and the
  //      datagram is IKE header + SKF header + sealed chunk: else rejected.
  //   2. Per direction (the R flag): a Message ID below the one in
  //      reassembly, or at or below the last one reassembled or seen
  //      whole, is stale. Same Message ID: Total Fragments below the one
  //      seen is rejected (total_mismatch), so is another exchange type
  //      or I flag (header_mismatch: §2.5 copies the header into every
  //      fragment), and a Fragment Number already held with the same
  //      Total is a duplicate (the first copy stays).
  //      These checks change nothing, so they come before the crypto.
  //   3. Authenticated and decrypted with `in` (associated data: the
  //      datagram's first 36 bytes). A failure is rejected and changes
  //      nothing (§2.6: each fragment is checked on its own; a forged one
  //      must not disturb the reassembly of the genuine ones).
  //   4. Only then the state moves: a higher Message ID discards the
  //      message in reassembly and starts anew (the peer moved on; RFC
  //      7296 §2.3 window of 1); the same Message ID with a higher Total
  //      Fragments discards the fragments held and starts anew with this
  //      one (§2.5.2, §2.6: the sender re-fragmented smaller, e.g. after
  //      PMTU discovery).
  //   5. Past kMaxReassembledSize the whole message is discarded
  //      (too_large).
  //   6. Fragment 1's Next Payload is the first inner payload; the
  //      others' are ignored (§2.5: the sender sets 0 there).
  //
  // complete: take() gives the message, the direction's state is cleared
  // and its Message ID remembered as reassembled.
  Status add(const corridor::ike::Header& header, const corridor::ike::EncryptedFragment& fragment,
             std::span<const std::uint8_t> datagram, const corridor::ike::SkCrypto& in, std::string* why);

  // The reassembled message after add() returned complete; nullopt
  // otherwise, or when it was taken already.
  std::optional<Result> take();

  // A message with this header arrived whole (SK, authenticated): any
  // reassembly of the same direction at or below its Message ID is
  // discarded (the peer sent it unfragmented after all, §2.6). Also marks
  // the ID as done, so late fragments of it are stale.
  void unfragmented(const corridor::ike::Header& header);

  // Forget everything (the IKE SA is rekeyed or deleted).
  void reset();

  // Why the latest add() rejected (Reject::none after any other outcome).
  Reject last_reject() const { return last_reject_; }
  // Bytes of plaintext held, both directions (for tests and diagnostics).
  std::size_t held_bytes() const;
  // Fragments held for the direction of `response`.
  std::size_t held_fragments(bool response) const;

 private:
  struct Pending {
    bool active = false;
    std::uint32_t message_id = 0;
    std::uint16_t total = 0;
    iana::ExchangeType exchange{};
    bool initiator = false;
    std::size_t count = 0;  // fragments held
    std::size_t bytes = 0;  // plaintext held
    iana::PayloadType first_inner = iana::PayloadType::no_next_payload;
    std::vector<std::optional<std::vector<std::uint8_t>>> chunks;  // index: Fragment Number - 1
    std::optional<std::uint32_t> last_done;                        // last Message ID reassembled or seen whole
    void clear();
  };
  Status reject(Reject reason, std::string message, std::string* why);

  std::array<Pending, 2> pending_{};  // [0]: requests from the peer, [1]: responses to ours
  std::optional<Result> ready_;
  Reject last_reject_ = Reject::none;
};

std::string_view to_string(Reassembly::Reject reason);

}  // namespace corridor::control::ikev2
