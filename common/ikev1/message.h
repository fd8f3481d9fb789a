// ISAKMP message codec for IKEv1 (RFC 2408 §3, the IPsec DOI of RFC 2407
// §4.6, NAT-D/NAT-OA of RFC 3947 §3.2 and §5.2).
//
// An ISAKMP datagram is a 28-byte header and a chain of payloads linked by
// their Next Payload fields; when the header's E flag is set everything
// after the header is ciphertext (RFC 2409 Appendix B, ikev1/cipher.h). So
// parsing is two steps: parse_header() checks the header against the
// datagram, then parse_payloads() decodes the chain (the datagram's body,
// or the plaintext of an encrypted one, which may end in padding).
//
// Proposal and Transform payloads appear only nested in an SA payload, with
// their own "more/last" Next Payload values (2 and 3, or 0). What the wire
// derives from the structure (lengths, counts, Next Payload chains) is
// checked on parsing and recomputed on serialising, so a parsed chain
// serialises back to a chain that parses to the same payloads.
//
// The HASH and signature computations of RFC 2409 cover payload bodies as
// they were on the wire (SAi_b, IDii_b, "the rest of the message" after
// HASH(1)): walk_payloads() gives each payload's place in the bytes.
//
// Nothing throws across this API: each failure is an Error whose code maps
// to the ISAKMP notification to answer with (notify_for) and whose message
// names the payload and its offset in the datagram.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/channel/result.h"
#include "common/iana/ikev1.h"

namespace corridor::ikev1 {

using Bytes = std::vector<std::uint8_t>;

enum class Errc : std::uint8_t {
  truncated_header,          // fewer than 28 bytes
  invalid_major_version,     // Major Version != 1
  length_mismatch,           // header Length != datagram size
  truncated_payload_header,  // fewer than 4 bytes left for a generic payload header
  payload_overrun,           // Payload Length runs past the message
  payload_too_short,         // Payload Length below the payload's minimum
  trailing_data,             // bytes after the last payload of a clear message
  invalid_payload_type,      // a reserved payload type, or P/T outside an SA
  doi_not_supported,         // SA payload DOI other than IPsec (1)
  situation_not_supported,   // Situation other than SIT_IDENTITY_ONLY
  sa_without_proposal,
  proposal_bad_next,         // Proposal's Next Payload neither P (2) nor NONE
  proposal_bad_length,
  proposal_bad_number,       // Proposal numbers decreasing (RFC 2408 §4.2)
  proposal_bad_protocol,
  proposal_bad_spi_size,
  proposal_bad_transform_count,
  transform_bad_next,        // Transform's Next Payload neither T (3) nor NONE
  transform_bad_length,
  attribute_bad_length,      // attribute runs past its transform
  nonce_bad_size,            // outside 8..256 bytes (RFC 2409 §5)
  id_bad_length,             // address data of the wrong size for its ID type
  notify_bad_spi_size,       // SPI Size past the payload
  delete_bad_length,         // # of SPIs x SPI Size disagrees with the payload
  nat_oa_bad_length,         // NAT-OA address of the wrong size for its ID type
  encrypted_message,         // parse_message() on a datagram with the E flag
  // Serialising only.
  body_type_mismatch,        // Payload::type disagrees with its body
  field_too_large,           // does not fit its length field
};

std::string_view to_string(Errc code);

struct Error {
  Errc code = Errc::truncated_header;
  std::uint8_t payload = 0;  // the payload type being parsed (0: the header)
  std::size_t offset = 0;    // absolute offset in the datagram of the faulty field
  std::string message;       // names the payload and the offset
};

// The notification a parse error is answered with (RFC 2408 §5):
// INVALID-PAYLOAD-TYPE, INVALID-MAJOR-VERSION, DOI-NOT-SUPPORTED,
// SITUATION-NOT-SUPPORTED, BAD-PROPOSAL-SYNTAX for a malformed SA,
// PAYLOAD-MALFORMED otherwise.
iana::ikev1::NotifyType notify_for(const Error& error);

template <typename T>
using Expected = channel::Expected<T, Error>;

// RFC 2408 §3.3 Data Attribute: basic (TV, the AF bit set, value in `value`)
// or variable (TLV, bytes in `data`).
struct Attribute {
  std::uint16_t type = 0;
  bool tv = true;
  std::uint16_t value = 0;
  Bytes data;

  // The value as an unsigned integer: a TV value, or a TLV of 1..8 bytes
  // read big-endian (Life Duration is often a 4-byte TLV).
  std::optional<std::uint64_t> integer() const;
  friend bool operator==(const Attribute&, const Attribute&) = default;
};

// Basic when the value fits 16 bits, otherwise a variable attribute of the
// shortest length that holds it (4 or 8 bytes), as RFC 2409 Appendix A asks
// for Life Duration.
Attribute make_attribute(std::uint16_t type, std::uint64_t value);

// RFC 2408 §3.6.
struct Transform {
  std::uint8_t number = 1;
  std::uint8_t id = 0;  // KEY_IKE (Phase 1), an ESP/AH transform ID (Quick Mode)
  std::vector<Attribute> attributes;

  // The first attribute of a class, or nullptr.
  const Attribute* find(std::uint16_t type) const;
  friend bool operator==(const Transform&, const Transform&) = default;
};

// RFC 2408 §3.5. Proposals sharing a number form one bundle (AH and ESP
// together); distinct numbers are alternatives.
struct Proposal {
  std::uint8_t number = 1;
  iana::ikev1::ProtocolId protocol = iana::ikev1::ProtocolId::isakmp;
  Bytes spi;  // ISAKMP: empty (or 16 bytes); AH/ESP: 4 bytes; IPCOMP: 2 or 4
  std::vector<Transform> transforms;
  friend bool operator==(const Proposal&, const Proposal&) = default;
};

// RFC 2408 §3.4 with the IPsec DOI (RFC 2407 §4.6.1): only
// SIT_IDENTITY_ONLY, so no labeled domain or secrecy fields follow.
struct SecurityAssociation {
  std::uint32_t doi = iana::ikev1::kDoiIpsec;
  std::uint32_t situation = iana::ikev1::kSituationIdentityOnly;
  std::vector<Proposal> proposals;
  friend bool operator==(const SecurityAssociation&, const SecurityAssociation&) = default;
};

struct KeyExchange {  // §3.7
  Bytes data;
  friend bool operator==(const KeyExchange&, const KeyExchange&) = default;
};

// RFC 2407 §4.6.2: Phase 1 identities and Quick Mode proxy identities.
struct Identification {
  iana::ikev1::IdType id_type = iana::ikev1::IdType::ipv4_addr;
  std::uint8_t protocol = 0;  // IP protocol, 0: any
  std::uint16_t port = 0;     // 0: any
  Bytes data;
  friend bool operator==(const Identification&, const Identification&) = default;
};

struct Certificate {  // §3.9
  iana::ikev1::CertEncoding encoding = iana::ikev1::CertEncoding::x509_signature;
  Bytes data;
  friend bool operator==(const Certificate&, const Certificate&) = default;
};

struct CertificateRequest {  // §3.10
  iana::ikev1::CertEncoding encoding = iana::ikev1::CertEncoding::x509_signature;
  Bytes authority;  // a DER Distinguished Name, or empty for any CA
  friend bool operator==(const CertificateRequest&, const CertificateRequest&) = default;
};

struct Hash {  // §3.11
  Bytes data;
  friend bool operator==(const Hash&, const Hash&) = default;
};

struct Signature {  // §3.12
  Bytes data;
  friend bool operator==(const Signature&, const Signature&) = default;
};

struct Nonce {  // §3.13
  Bytes data;
  friend bool operator==(const Nonce&, const Nonce&) = default;
};

struct Notification {  // §3.14
  std::uint32_t doi = iana::ikev1::kDoiIpsec;
  iana::ikev1::ProtocolId protocol = iana::ikev1::ProtocolId::isakmp;
  iana::ikev1::NotifyType type = iana::ikev1::NotifyType::invalid_payload_type;
  Bytes spi;  // ISAKMP: the cookie pair (16) or empty; AH/ESP: 4 bytes
  Bytes data;
  friend bool operator==(const Notification&, const Notification&) = default;
};

struct Delete {  // §3.15
  std::uint32_t doi = iana::ikev1::kDoiIpsec;
  iana::ikev1::ProtocolId protocol = iana::ikev1::ProtocolId::isakmp;
  std::uint8_t spi_size = 16;  // ISAKMP: 16 (the cookie pair); AH/ESP: 4
  std::vector<Bytes> spis;     // each spi_size bytes
  friend bool operator==(const Delete&, const Delete&) = default;
};

struct VendorId {  // §3.16
  Bytes data;
  friend bool operator==(const VendorId&, const VendorId&) = default;
};

struct NatDiscovery {  // RFC 3947 §3.2 (NAT-D and its draft number)
  Bytes hash;
  friend bool operator==(const NatDiscovery&, const NatDiscovery&) = default;
};

struct NatOriginalAddress {  // RFC 3947 §5.2
  iana::ikev1::IdType id_type = iana::ikev1::IdType::ipv4_addr;  // IPV4_ADDR or IPV6_ADDR
  Bytes address;
  friend bool operator==(const NatOriginalAddress&, const NatOriginalAddress&) = default;
};

// A payload of the private-use range (128-255) this codec does not know;
// handlers ignore it.
struct UnknownPayload {
  std::uint8_t type = 0;
  Bytes data;
  friend bool operator==(const UnknownPayload&, const UnknownPayload&) = default;
};

using PayloadBody = std::variant<SecurityAssociation, KeyExchange, Identification, Certificate, CertificateRequest,
                                 Hash, Signature, Nonce, Notification, Delete, VendorId, NatDiscovery,
                                 NatOriginalAddress, UnknownPayload>;

struct Payload {
  // Which payload this is; NAT-D shares its body with its draft number, and
  // UnknownPayload carries its own type here too.
  iana::ikev1::PayloadType type = iana::ikev1::PayloadType::none;
  PayloadBody body;
  friend bool operator==(const Payload&, const Payload&) = default;
};

// RFC 2408 §3.1, minus Next Payload and Length (derived from the payloads).
struct Header {
  std::array<std::uint8_t, 8> cookie_i{};
  std::array<std::uint8_t, 8> cookie_r{};
  std::uint8_t major_version = 1;
  std::uint8_t minor_version = 0;
  iana::ikev1::ExchangeType exchange = iana::ikev1::ExchangeType::identity_protection;
  std::uint8_t flags = 0;  // iana::ikev1::kFlagEncryption | kFlagCommit | kFlagAuthenticationOnly
  std::uint32_t message_id = 0;

  bool encrypted() const { return (flags & iana::ikev1::kFlagEncryption) != 0; }
  friend bool operator==(const Header&, const Header&) = default;
};

struct Message {
  Header header;
  std::vector<Payload> payloads;
  friend bool operator==(const Message&, const Message&) = default;
};

inline constexpr std::size_t kHeaderSize = 28;
inline constexpr std::size_t kGenericPayloadHeaderSize = 4;
inline constexpr std::size_t kMinNonceSize = 8;  // RFC 2409 §5
inline constexpr std::size_t kMaxNonceSize = 256;

struct ParsedHeader {
  Header header;
  iana::ikev1::PayloadType first_payload = iana::ikev1::PayloadType::none;
  std::uint32_t length = 0;
};

// The header of an ISAKMP datagram (without the non-ESP marker): fails if
// fewer than 28 bytes, Major Version is not 1, or Length is not the
// datagram's size.
Expected<ParsedHeader> parse_header(std::span<const std::uint8_t> datagram);

// Where each payload of a chain is, relative to the start of `bytes`:
// `offset` is the generic header, the body follows it.
struct PayloadSpan {
  iana::ikev1::PayloadType type = iana::ikev1::PayloadType::none;
  std::size_t offset = 0;
  std::size_t length = 0;  // Payload Length (generic header included)
  std::span<const std::uint8_t> body(std::span<const std::uint8_t> bytes) const {
    return bytes.subspan(offset + kGenericPayloadHeaderSize, length - kGenericPayloadHeaderSize);
  }
};

// Follows a chain's Next Payload and Payload Length fields only. `padded`
// (decrypted content) lets bytes follow the last payload; otherwise they
// are an error. base_offset: where `bytes` starts in the datagram, for error
// messages.
Expected<std::vector<PayloadSpan>> walk_payloads(iana::ikev1::PayloadType first, std::span<const std::uint8_t> bytes,
                                                 bool padded, std::size_t base_offset = kHeaderSize);

// The payloads of a chain, each decoded and checked.
Expected<std::vector<Payload>> parse_payloads(iana::ikev1::PayloadType first, std::span<const std::uint8_t> bytes,
                                              bool padded, std::size_t base_offset = kHeaderSize);

// A whole unencrypted datagram; Errc::encrypted_message if the E flag is set
// (use parse_header, decrypt, then parse_payloads).
Expected<Message> parse_message(std::span<const std::uint8_t> datagram);

// The 28 header bytes with the given Next Payload and Length.
std::array<std::uint8_t, kHeaderSize> serialise_header(const Header& header, iana::ikev1::PayloadType first_payload,
                                                       std::uint32_t length);

// The bytes of a payload chain, Next Payload fields linked; the first
// payload's type goes in the header (or is `first` of parse_payloads).
Expected<Bytes> serialise_payloads(std::span<const Payload> payloads);

// The bytes of one payload's body (what follows its generic header), as it
// would be sent: SAi_b and IDii_b of RFC 2409 §5 for messages we build.
Expected<Bytes> serialise_body(const Payload& payload);

// An unencrypted datagram: header and payloads, Length computed.
Expected<Bytes> serialise_message(const Message& message);

// A bare list of data attributes (RFC 2408 §3.3), as the RESPONDER-LIFETIME
// notification carries it (RFC 2407 §4.6.3.1).
Expected<std::vector<Attribute>> parse_attributes(std::span<const std::uint8_t> bytes);
Expected<Bytes> serialise_attributes(const std::vector<Attribute>& attributes);

}  // namespace corridor::ikev1
