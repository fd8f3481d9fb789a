// IKEv1 specification constants: ISAKMP (RFC 2408) payload, exchange and
// notification numbers, the IKE Phase 1 attribute classes and values
// (RFC 2409 Appendix A), the IPsec Domain of Interpretation (RFC 2407) and
// the NAT traversal and DPD additions (RFC 3947, RFC 3706). Numbers here come
// from the standards and the IANA "Internet Key Exchange (IKE) Attributes"
// and "Magic Numbers for ISAKMP Protocol" registries only; what Corridor
// implements is decided elsewhere.
#pragma once

#include <cstdint>
#include <string_view>

namespace corridor::iana::ikev1 {

// RFC 2408 §3.1: Next Payload types. 20/21 are RFC 3947's NAT-D and NAT-OA;
// 130/131 are the numbers of the drafts before it, still sent by old peers.
enum class PayloadType : std::uint8_t {
  none = 0,
  sa = 1,
  proposal = 2,
  transform = 3,
  key_exchange = 4,
  id = 5,
  cert = 6,
  cert_request = 7,
  hash = 8,
  sig = 9,
  nonce = 10,
  notification = 11,
  delete_ = 12,
  vendor_id = 13,
  nat_d = 20,
  nat_oa = 21,
  nat_d_draft = 130,
  nat_oa_draft = 131,
};

// RFC 2408 §3.1 and RFC 2409 §4: Exchange Type.
enum class ExchangeType : std::uint8_t {
  none = 0,
  base = 1,
  identity_protection = 2,  // IKE Main Mode
  authentication_only = 3,
  aggressive = 4,           // IKE Aggressive Mode
  informational = 5,
  quick_mode = 32,          // RFC 2409 §5.5
  new_group_mode = 33,
};

// RFC 2408 §3.1 Flags.
inline constexpr std::uint8_t kFlagEncryption = 0x01;
inline constexpr std::uint8_t kFlagCommit = 0x02;
inline constexpr std::uint8_t kFlagAuthenticationOnly = 0x04;

// RFC 2407 §4.2: the IPsec DOI, and §4.2 Situation.
inline constexpr std::uint32_t kDoiIpsec = 1;
inline constexpr std::uint32_t kSituationIdentityOnly = 0x01;
inline constexpr std::uint32_t kSituationSecrecy = 0x02;
inline constexpr std::uint32_t kSituationIntegrity = 0x04;

// RFC 2407 §4.4.1: Protocol IDs of proposals, notifications and deletes.
enum class ProtocolId : std::uint8_t {
  none = 0,  // notifications about no SA in particular
  isakmp = 1,
  ah = 2,
  esp = 3,
  ipcomp = 4,
};

// RFC 2407 §4.4.2: the only ISAKMP transform ID.
inline constexpr std::uint8_t kTransformKeyIke = 1;

// RFC 2407 §4.4.3 AH transform IDs (RFC 4868 for SHA-2).
enum class AhTransform : std::uint8_t {
  md5 = 2,
  sha = 3,
  des = 4,
  sha2_256 = 5,
  sha2_384 = 6,
  sha2_512 = 7,
};

// RFC 2407 §4.4.4 ESP transform IDs; the AES numbers equal the IKEv2 ENCR
// IDs (RFC 3602, RFC 4106).
enum class EspTransform : std::uint8_t {
  des_iv64 = 1,
  des = 2,
  triple_des = 3,
  rc5 = 4,
  idea = 5,
  cast = 6,
  blowfish = 7,
  triple_idea = 8,
  des_iv32 = 9,
  rc4 = 10,
  null = 11,
  aes_cbc = 12,
  aes_ctr = 13,
  aes_ccm_8 = 14,
  aes_ccm_12 = 15,
  aes_ccm_16 = 16,
  aes_gcm_8 = 18,
  aes_gcm_12 = 19,
  aes_gcm_16 = 20,
  null_auth_aes_gmac = 23,  // RFC 4543 (differs from IKEv2's 21)
};

// RFC 2409 Appendix A: IKE Phase 1 attribute classes. "V" classes take a
// variable-length (TLV) value, the others a basic (TV) one.
enum class Phase1Attribute : std::uint16_t {
  encryption_algorithm = 1,
  hash_algorithm = 2,
  authentication_method = 3,
  group_description = 4,
  group_type = 5,
  group_prime = 6,       // V
  group_generator_one = 7,  // V
  group_generator_two = 8,  // V
  group_curve_a = 9,     // V
  group_curve_b = 10,    // V
  life_type = 11,
  life_duration = 12,    // V
  prf = 13,
  key_length = 14,
  field_size = 15,
  group_order = 16,      // V
};

// Phase 1 Encryption Algorithm values (7: RFC 3602 / IANA).
enum class Phase1Encryption : std::uint16_t {
  des_cbc = 1,
  idea_cbc = 2,
  blowfish_cbc = 3,
  rc5_r16_b64_cbc = 4,
  triple_des_cbc = 5,
  cast_cbc = 6,
  aes_cbc = 7,
  camellia_cbc = 8,
};

// Phase 1 Hash Algorithm values (4-6: RFC 4868 §2 / IANA).
enum class Phase1Hash : std::uint16_t {
  md5 = 1,
  sha1 = 2,
  tiger = 3,
  sha2_256 = 4,
  sha2_384 = 5,
  sha2_512 = 6,
};

// Phase 1 Authentication Method values (9-11: RFC 4754; 14: RFC 7427 is
// IKEv2 only and has no IKEv1 number; XAUTH's private numbers are not here).
enum class Phase1Auth : std::uint16_t {
  pre_shared_key = 1,
  dss_signatures = 2,
  rsa_signatures = 3,
  rsa_encryption = 4,
  rsa_revised_encryption = 5,
  ecdsa_sha256_p256 = 9,
  ecdsa_sha384_p384 = 10,
  ecdsa_sha512_p521 = 11,
};

// Life Type values, shared by Phase 1 (RFC 2409) and IPsec (RFC 2407).
enum class LifeType : std::uint16_t {
  seconds = 1,
  kilobytes = 2,
};

// RFC 2407 §4.5: IPsec SA attribute classes (all basic except Life Duration).
enum class IpsecAttribute : std::uint16_t {
  life_type = 1,
  life_duration = 2,   // V
  group_description = 3,
  encapsulation_mode = 4,
  authentication_algorithm = 5,
  key_length = 6,
  key_rounds = 7,
  compress_dictionary_size = 8,
  compress_private_algorithm = 9,
  ecn_tunnel = 10,              // RFC 3168
  extended_sequence_number = 11,  // RFC 4304: value 1 = 64-bit
};

// Encapsulation Mode values: RFC 2407 and RFC 3947 §5 (61443/61444: the
// draft numbers strongSwan and old peers still recognise).
enum class EncapsulationMode : std::uint16_t {
  tunnel = 1,
  transport = 2,
  udp_tunnel = 3,
  udp_transport = 4,
  udp_tunnel_draft = 61443,
  udp_transport_draft = 61444,
};

// RFC 2407 §4.5 Authentication Algorithm values (RFC 4868 for SHA-2).
enum class IpsecAuth : std::uint16_t {
  hmac_md5 = 1,
  hmac_sha = 2,
  des_mac = 3,
  kpdk = 4,
  hmac_sha2_256 = 5,
  hmac_sha2_384 = 6,
  hmac_sha2_512 = 7,
};

// RFC 2407 §4.6.2.1 Identification Type values.
enum class IdType : std::uint8_t {
  ipv4_addr = 1,
  fqdn = 2,
  user_fqdn = 3,
  ipv4_addr_subnet = 4,
  ipv6_addr = 5,
  ipv6_addr_subnet = 6,
  ipv4_addr_range = 7,
  ipv6_addr_range = 8,
  der_asn1_dn = 9,
  der_asn1_gn = 10,
  key_id = 11,
};

// RFC 2408 §3.9 Certificate Encoding (the numbers IKEv2 kept).
enum class CertEncoding : std::uint8_t {
  pkcs7_wrapped_x509 = 1,
  pgp = 2,
  dns_signed_key = 3,
  x509_signature = 4,
  x509_key_exchange = 5,
  kerberos_tokens = 6,
  crl = 7,
  arl = 8,
  spki = 9,
  x509_attribute = 10,
};

// RFC 2408 §3.14.1 Notify Message Types (errors 1-8191), RFC 2407 §4.6.3
// status types, RFC 3706 DPD.
enum class NotifyType : std::uint16_t {
  invalid_payload_type = 1,
  doi_not_supported = 2,
  situation_not_supported = 3,
  invalid_cookie = 4,
  invalid_major_version = 5,
  invalid_minor_version = 6,
  invalid_exchange_type = 7,
  invalid_flags = 8,
  invalid_message_id = 9,
  invalid_protocol_id = 10,
  invalid_spi = 11,
  invalid_transform_id = 12,
  attributes_not_supported = 13,
  no_proposal_chosen = 14,
  bad_proposal_syntax = 15,
  payload_malformed = 16,
  invalid_key_information = 17,
  invalid_id_information = 18,
  invalid_cert_encoding = 19,
  invalid_certificate = 20,
  cert_type_unsupported = 21,
  invalid_cert_authority = 22,
  invalid_hash_information = 23,
  authentication_failed = 24,
  invalid_signature = 25,
  address_notification = 26,
  notify_sa_lifetime = 27,
  certificate_unavailable = 28,
  unsupported_exchange_type = 29,
  unequal_payload_lengths = 30,
  connected = 16384,
  responder_lifetime = 24576,  // RFC 2407 §4.6.3.1
  replay_status = 24577,
  initial_contact = 24578,
  r_u_there = 36136,  // RFC 3706 §5
  r_u_there_ack = 36137,
};

// True for error notifications (RFC 2408 §3.14.1: types below 8192).
constexpr bool notify_is_error(NotifyType type) { return static_cast<std::uint16_t>(type) < 8192; }

std::string_view payload_type_name(PayloadType type);      // "SA", "NAT-D", ... "UNKNOWN"
std::string_view exchange_type_name(ExchangeType type);    // "ID_PROT" (Main Mode), "AGGRESSIVE", "QUICK_MODE", ...
std::string_view notify_type_name(NotifyType type);        // "NO-PROPOSAL-CHOSEN", "R-U-THERE", ...
std::string_view protocol_name(ProtocolId protocol);       // "ISAKMP", "ESP", ...
std::string_view phase1_auth_name(Phase1Auth auth);        // "PRE_SHARED_KEY", "RSA_SIG", "ECDSA_256", ...

}  // namespace corridor::iana::ikev1
