// IKEv2 message codec (RFC 7296 §3; SKF from RFC 7383 §2.5).
//
// parse_message() turns a datagram into a Message: the IKE header and the
// payloads in the order they came, each decoded into a typed body. What the
// wire derives from the structure (Next Payload chain, lengths, counts,
// "last/more" markers, reserved bits, the critical bit of known payloads)
// is checked on parsing and recomputed on serialising, so a parsed message
// serialises to bytes that parse back to the same Message.
//
// Unknown payload types without the critical bit are kept as
// UnknownPayload (handlers ignore them, RFC 7296 §2.5); with the critical
// bit the whole message is rejected with Errc::unsupported_critical_payload,
// whose Error::payload is the type to put in UNSUPPORTED_CRITICAL_PAYLOAD.
// The SK and SKF payloads stay opaque here: after decryption the caller
// parses their content with parse_payloads().
//
// Nothing throws across this API: every failure is an Error with a code of
// its own and a message that names the payload and its offset.
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
#include "common/iana/ikev2.h"
#include "common/iana/ikev2_message.h"

namespace corridor::ike {

using Bytes = std::vector<std::uint8_t>;

enum class Errc : std::uint8_t {
  truncated_header,              // fewer than 28 bytes
  invalid_major_version,         // Major Version != 2: answer INVALID_MAJOR_VERSION
  length_mismatch,               // IKE header Length != datagram size
  truncated_payload_header,      // fewer than 4 bytes left for a generic payload header
  payload_overrun,               // Payload Length runs past the message
  payload_too_short,             // Payload Length below the payload's minimum
  trailing_data,                 // bytes after the last payload
  unsupported_critical_payload,  // unknown type with the critical bit: answer UNSUPPORTED_CRITICAL_PAYLOAD
  sk_not_last,                   // SK/SKF followed by more bytes
  sa_without_proposal,
  proposal_bad_marker,           // "last/more" byte not 0 on the last or 2 on the others
  proposal_bad_length,           // Proposal Length outside the SA payload or too short
  proposal_bad_number,           // first not 1, or not consecutive
  proposal_bad_protocol,         // Protocol ID not IKE, AH or ESP
  proposal_bad_spi_size,         // SPI Size inconsistent with the Protocol ID
  proposal_bad_transform_count,  // # of Transforms disagrees with the transforms
  transform_bad_marker,          // "last/more" byte not 0 on the last or 3 on the others
  transform_bad_length,          // Transform Length below 8 or past the proposal
  attribute_bad_length,          // attribute runs past its transform
  key_length_not_tv,             // Key Length attribute in TLV form (RFC 7296 §3.3.5: TV)
  nonce_bad_size,                // outside 16..256 bytes (RFC 7296 §2.10)
  id_bad_length,                 // ID_IPV4_ADDR not 4 bytes, ID_IPV6_ADDR not 16
  notify_bad_spi_size,           // SPI Size other than 0, or 4 with AH/ESP
  delete_bad_spi,                // SPI Size/protocol inconsistent (IKE: 0, AH/ESP: 4)
  delete_bad_length,             // # of SPIs disagrees with the payload length
  ts_bad_count,                  // Number of TSs zero or disagreeing with the selectors
  ts_bad_length,                 // Selector Length wrong for its type or past the payload
  ts_unknown_type,               // TS Type neither IPv4 nor IPv6 range
  ts_start_after_end,            // Starting Address above Ending Address
  ts_port_start_after_end,       // Start Port above End Port (and not OPAQUE 65535..0)
  skf_bad_fragment_number,       // Fragment Number 0 or above Total Fragments
  // Serialising only.
  body_type_mismatch,            // Payload::type disagrees with its body
  field_too_large,               // does not fit its length field
};

std::string_view to_string(Errc code);

struct Error {
  Errc code = Errc::truncated_header;
  // The payload being parsed (the unknown type for unsupported_critical_payload).
  iana::PayloadType payload = iana::PayloadType::no_next_payload;
  std::size_t offset = 0;  // absolute offset in the message of the faulty field
  std::string message;     // names the payload and the offset
};

// The notification the receiver of a request answers a parse error with
// (RFC 7296 §2.5, §3.10.1): UNSUPPORTED_CRITICAL_PAYLOAD (data: the payload
// type octet), INVALID_MAJOR_VERSION, otherwise INVALID_SYNTAX.
iana::NotifyType notify_for(const Error& error);

template <typename T>
using Expected = channel::Expected<T, Error>;

// RFC 7296 §3.3.5. TV form when tv (value in `value`), TLV otherwise (`data`).
struct TransformAttribute {
  std::uint16_t type = 0;
  bool tv = true;
  std::uint16_t value = 0;
  Bytes data;
  friend bool operator==(const TransformAttribute&, const TransformAttribute&) = default;
};

// RFC 7296 §3.3.2.
struct Transform {
  iana::TransformType type{};
  std::uint16_t id = 0;
  std::vector<TransformAttribute> attributes;
  // The Key Length attribute in bits, if present.
  std::optional<std::uint16_t> key_length() const;
  friend bool operator==(const Transform&, const Transform&) = default;
};

// RFC 7296 §3.3.1.
struct Proposal {
  std::uint8_t number = 1;
  iana::ProtocolId protocol = iana::ProtocolId::ike;
  Bytes spi;  // IKE: empty (IKE_SA_INIT) or 8 bytes (rekey); AH/ESP: 4 bytes
  std::vector<Transform> transforms;
  friend bool operator==(const Proposal&, const Proposal&) = default;
};

struct SecurityAssociation {
  std::vector<Proposal> proposals;
  friend bool operator==(const SecurityAssociation&, const SecurityAssociation&) = default;
};

struct KeyExchange {  // §3.4
  std::uint16_t group = 0;  // iana::KeId
  Bytes data;
  friend bool operator==(const KeyExchange&, const KeyExchange&) = default;
};

struct Identification {  // §3.5, IDi and IDr
  iana::IdType id_type{};
  Bytes data;
  friend bool operator==(const Identification&, const Identification&) = default;
};

struct Certificate {  // §3.6
  iana::CertEncoding encoding{};
  Bytes data;
  friend bool operator==(const Certificate&, const Certificate&) = default;
};

struct CertificateRequest {  // §3.7
  iana::CertEncoding encoding{};
  Bytes authority;  // X.509: concatenated SHA-1 hashes of CA public keys
  friend bool operator==(const CertificateRequest&, const CertificateRequest&) = default;
};

struct Authentication {  // §3.8
  iana::AuthMethod method{};
  Bytes data;
  friend bool operator==(const Authentication&, const Authentication&) = default;
};

struct Nonce {  // §3.9
  Bytes data;
  friend bool operator==(const Nonce&, const Nonce&) = default;
};

struct Notify {  // §3.10
  iana::ProtocolId protocol = iana::ProtocolId::none;
  iana::NotifyType type{};
  Bytes spi;
  Bytes data;
  friend bool operator==(const Notify&, const Notify&) = default;
};

struct Delete {  // §3.11
  iana::ProtocolId protocol = iana::ProtocolId::ike;
  std::vector<std::uint32_t> spis;  // AH/ESP; empty for the IKE SA
  friend bool operator==(const Delete&, const Delete&) = default;
};

struct VendorId {  // §3.12
  Bytes data;
  friend bool operator==(const VendorId&, const VendorId&) = default;
};

// §3.13.1. Addresses are 4 bytes for TS_IPV4_ADDR_RANGE, 16 for IPv6.
struct TrafficSelector {
  iana::TsType type = iana::TsType::ts_ipv4_addr_range;
  std::uint8_t ip_protocol = 0;  // 0: any
  std::uint16_t start_port = 0;
  std::uint16_t end_port = 65535;
  Bytes start_address;
  Bytes end_address;
  friend bool operator==(const TrafficSelector&, const TrafficSelector&) = default;
};

struct TrafficSelectors {  // §3.13, TSi and TSr
  std::vector<TrafficSelector> selectors;
  friend bool operator==(const TrafficSelectors&, const TrafficSelectors&) = default;
};

// §3.14: Next Payload names the first inner payload; IV, ciphertext,
// padding and ICV stay opaque here.
struct Encrypted {
  iana::PayloadType first_inner = iana::PayloadType::no_next_payload;
  Bytes data;
  friend bool operator==(const Encrypted&, const Encrypted&) = default;
};

// RFC 7383 §2.5. first_inner is meaningful in fragment 1 only (0 elsewhere).
struct EncryptedFragment {
  std::uint16_t number = 1;
  std::uint16_t total = 1;
  iana::PayloadType first_inner = iana::PayloadType::no_next_payload;
  Bytes data;
  friend bool operator==(const EncryptedFragment&, const EncryptedFragment&) = default;
};

struct Configuration {  // §3.15, attributes kept opaque
  std::uint8_t cfg_type = 0;
  Bytes attributes;
  friend bool operator==(const Configuration&, const Configuration&) = default;
};

struct Eap {  // §3.16, the EAP message opaque
  Bytes message;
  friend bool operator==(const Eap&, const Eap&) = default;
};

// A non-critical payload of a type this codec does not know.
struct UnknownPayload {
  std::uint8_t type = 0;
  Bytes data;
  friend bool operator==(const UnknownPayload&, const UnknownPayload&) = default;
};

using PayloadBody = std::variant<SecurityAssociation, KeyExchange, Identification, Certificate,
                                 CertificateRequest, Authentication, Nonce, Notify, Delete, VendorId,
                                 TrafficSelectors, Encrypted, EncryptedFragment, Configuration, Eap,
                                 UnknownPayload>;

struct Payload {
  // Which payload this is; it decides IDi vs IDr and TSi vs TSr, which
  // share a body type. For UnknownPayload it equals the body's type.
  iana::PayloadType type{};
  PayloadBody body;
  friend bool operator==(const Payload&, const Payload&) = default;
};

// RFC 7296 §3.1, minus Next Payload and Length (derived from the payloads).
struct Header {
  std::array<std::uint8_t, 8> spi_i{};
  std::array<std::uint8_t, 8> spi_r{};
  std::uint8_t major_version = 2;
  std::uint8_t minor_version = 0;
  iana::ExchangeType exchange{};
  bool initiator = false;  // I
  bool version = false;    // V
  bool response = false;   // R
  std::uint32_t message_id = 0;
  friend bool operator==(const Header&, const Header&) = default;
};

struct Message {
  Header header;
  std::vector<Payload> payloads;
  friend bool operator==(const Message&, const Message&) = default;
};

inline constexpr std::size_t kHeaderSize = 28;
inline constexpr std::size_t kGenericPayloadHeaderSize = 4;
inline constexpr std::size_t kMinNonceSize = 16;   // RFC 7296 §2.10
inline constexpr std::size_t kMaxNonceSize = 256;

// True for the payload types this codec decodes; others arrive as
// UnknownPayload (or, with the critical bit, as an error).
bool codec_knows(iana::PayloadType type);

// The header alone, without the version check: a dispatcher uses it to
// route IKEv1 (major 1) and IKEv2 (major 2) and to answer
// INVALID_MAJOR_VERSION. Fails only if fewer than 28 bytes.
struct ParsedHeader {
  Header header;
  iana::PayloadType first_payload{};
  std::uint32_t length = 0;
};
Expected<ParsedHeader> parse_header(std::span<const std::uint8_t> datagram);

// A whole IKEv2 message (the datagram without the non-ESP marker).
Expected<Message> parse_message(std::span<const std::uint8_t> datagram);

// A payload chain starting with `first` that fills `bytes` exactly: the
// decrypted content of SK (or reassembled SKF). base_offset is where
// `bytes` starts, for error messages.
Expected<std::vector<Payload>> parse_payloads(iana::PayloadType first, std::span<const std::uint8_t> bytes,
                                              std::size_t base_offset = 0);

// The bytes of a message; the header's Next Payload and Length are
// computed. Fails if a body does not match its Payload::type or a field
// overflows; contents are written as given (a Nonce of 3 bytes is written,
// and the receiver's parser rejects it).
Expected<Bytes> serialise_message(const Message& message);

// The bytes of a payload chain (the plaintext of an SK payload, without
// padding); the first payload's type goes in the SK header's Next Payload.
Expected<Bytes> serialise_payloads(std::span<const Payload> payloads);

}  // namespace corridor::ike
