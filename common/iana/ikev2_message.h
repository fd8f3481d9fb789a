// IKEv2 message constants (RFC 7296 §3 and the IANA "Internet Key Exchange
// Version 2 (IKEv2) Parameters" registry): payload types, exchange types,
// Notify Message Types, ID types, authentication methods, certificate
// encodings, Traffic Selector types, Protocol IDs. Names follow the RFC's
// words; numbers come from the standards only.
#pragma once

#include <cstdint>
#include <string_view>

namespace corridor::iana {

// RFC 7296 §3.2 "Payload Type Values"; SKF from RFC 7383 §2.5.
enum class PayloadType : std::uint8_t {
  no_next_payload = 0,
  security_association = 33,       // SA
  key_exchange = 34,               // KE
  identification_initiator = 35,   // IDi
  identification_responder = 36,   // IDr
  certificate = 37,                // CERT
  certificate_request = 38,        // CERTREQ
  authentication = 39,             // AUTH
  nonce = 40,                      // Ni, Nr
  notify = 41,                     // N
  delete_ = 42,                    // D
  vendor_id = 43,                  // V
  traffic_selector_initiator = 44, // TSi
  traffic_selector_responder = 45, // TSr
  encrypted_and_authenticated = 46, // SK
  configuration = 47,              // CP
  extensible_authentication = 48,  // EAP
  generic_secure_password = 49,    // GSPM (RFC 6467)
  encrypted_fragment = 53,         // SKF (RFC 7383)
};

// Short notation of RFC 7296 §1.2 ("SA", "KE", "IDi", "SK", "SKF", ...);
// "UNKNOWN" for anything else (a log line should print the number too).
std::string_view payload_type_name(PayloadType type);

// RFC 7296 §3.1 "Exchange Type"; IKE_INTERMEDIATE from RFC 9242.
enum class ExchangeType : std::uint8_t {
  ike_sa_init = 34,
  ike_auth = 35,
  create_child_sa = 36,
  informational = 37,
  ike_session_resume = 38,  // RFC 5723
  ike_intermediate = 43,    // RFC 9242
};

// "IKE_SA_INIT", "IKE_AUTH", ...; "UNKNOWN" otherwise.
std::string_view exchange_type_name(ExchangeType type);

// RFC 7296 §3.1 flags of the IKE header.
inline constexpr std::uint8_t kFlagInitiator = 0x08;  // I
inline constexpr std::uint8_t kFlagVersion = 0x10;    // V
inline constexpr std::uint8_t kFlagResponse = 0x20;   // R

// RFC 7296 §3.3.1 Protocol ID (also the Notify and Delete payloads').
enum class ProtocolId : std::uint8_t {
  none = 0,  // Notify without SPI: "MUST be sent as zero"
  ike = 1,
  ah = 2,
  esp = 3,
};

// RFC 7296 §3.3.5 Transform Attribute Types.
inline constexpr std::uint16_t kAttributeKeyLength = 14;

// RFC 7296 §3.5 ID Type.
enum class IdType : std::uint8_t {
  id_ipv4_addr = 1,
  id_fqdn = 2,
  id_rfc822_addr = 3,
  id_ipv6_addr = 5,
  id_der_asn1_dn = 9,
  id_der_asn1_gn = 10,
  id_key_id = 11,
  id_fc_name = 12,  // RFC 4595
  id_null = 13,     // RFC 7619
};

// RFC 7296 §3.6 Certificate Encoding.
enum class CertEncoding : std::uint8_t {
  pkcs7_wrapped_x509 = 1,
  pgp = 2,
  dns_signed_key = 3,
  x509_signature = 4,
  kerberos_token = 6,
  crl = 7,
  arl = 8,
  spki = 9,
  x509_attribute = 10,
  raw_rsa_key = 11,  // deprecated by RFC 7296
  hash_and_url_x509 = 12,
  hash_and_url_x509_bundle = 13,
  ocsp_content = 14,    // RFC 4806
  raw_public_key = 15,  // RFC 7670
};

// RFC 7296 §3.8 Auth Method; 9-11 RFC 4754, 12 RFC 6467, 13 RFC 7619,
// 14 RFC 7427.
enum class AuthMethod : std::uint8_t {
  rsa_digital_signature = 1,
  shared_key_message_integrity_code = 2,
  dss_digital_signature = 3,
  ecdsa_sha256_p256 = 9,
  ecdsa_sha384_p384 = 10,
  ecdsa_sha512_p521 = 11,
  generic_secure_password = 12,
  null_authentication = 13,
  digital_signature = 14,
};

// RFC 7296 §3.13.1 TS Type.
enum class TsType : std::uint8_t {
  ts_ipv4_addr_range = 7,
  ts_ipv6_addr_range = 8,
  ts_fc_addr_range = 9,  // RFC 4595
};

// RFC 7296 §3.10.1 Notify Message Types and the IANA registry. Error types
// are below 16384, status types from 16384 on.
enum class NotifyType : std::uint16_t {
  // Error types.
  unsupported_critical_payload = 1,
  invalid_ike_spi = 4,
  invalid_major_version = 5,
  invalid_syntax = 7,
  invalid_message_id = 9,
  invalid_spi = 11,
  no_proposal_chosen = 14,
  invalid_ke_payload = 17,
  authentication_failed = 24,
  single_pair_required = 34,
  no_additional_sas = 35,
  internal_address_failure = 36,
  failed_cp_required = 37,
  ts_unacceptable = 38,
  invalid_selectors = 39,
  temporary_failure = 43,
  child_sa_not_found = 44,
  // Status types.
  initial_contact = 16384,
  set_window_size = 16385,
  additional_ts_possible = 16386,
  ipcomp_supported = 16387,
  nat_detection_source_ip = 16388,
  nat_detection_destination_ip = 16389,
  cookie = 16390,
  use_transport_mode = 16391,
  http_cert_lookup_supported = 16392,
  rekey_sa = 16393,
  esp_tfc_padding_not_supported = 16394,
  non_first_fragments_also = 16395,
  mobike_supported = 16396,           // RFC 4555
  additional_ip4_address = 16397,
  additional_ip6_address = 16398,
  no_additional_addresses = 16399,
  update_sa_addresses = 16400,
  cookie2 = 16401,
  no_nats_allowed = 16402,
  auth_lifetime = 16403,              // RFC 4478
  multiple_auth_supported = 16404,    // RFC 4739
  another_auth_follows = 16405,
  redirect_supported = 16406,         // RFC 5685
  redirect = 16407,
  redirected_from = 16408,
  eap_only_authentication = 16417,    // RFC 5998
  childless_ikev2_supported = 16418,  // RFC 6023
  ikev2_message_id_sync_supported = 16420,  // RFC 6311
  ikev2_fragmentation_supported = 16430,    // RFC 7383
  signature_hash_algorithms = 16431,        // RFC 7427
  intermediate_exchange_supported = 16438,  // RFC 9242
};

inline constexpr std::uint16_t kFirstStatusNotifyType = 16384;
constexpr bool notify_is_error(std::uint16_t type) { return type < kFirstStatusNotifyType; }

// "NO_PROPOSAL_CHOSEN", "NAT_DETECTION_SOURCE_IP", ...; "UNKNOWN" otherwise.
std::string_view notify_type_name(NotifyType type);

}  // namespace corridor::iana
