// Names of IKEv1 numbers for logs, spelled as RFC 2408/2409 and the IANA
// registries spell them (ISAKMP notifications use hyphens, as in the RFC).
#include "common/iana/ikev1.h"

namespace corridor::iana::ikev1 {

std::string_view payload_type_name(PayloadType type) {
  switch (type) {
    case PayloadType::none: return "NONE";
    case PayloadType::sa: return "SA";
    case PayloadType::proposal: return "P";
    case PayloadType::transform: return "T";
    case PayloadType::key_exchange: return "KE";
    case PayloadType::id: return "ID";
    case PayloadType::cert: return "CERT";
    case PayloadType::cert_request: return "CR";
    case PayloadType::hash: return "HASH";
    case PayloadType::sig: return "SIG";
    case PayloadType::nonce: return "NONCE";
    case PayloadType::notification: return "N";
    case PayloadType::delete_: return "D";
    case PayloadType::vendor_id: return "VID";
    case PayloadType::nat_d: return "NAT-D";
    case PayloadType::nat_oa: return "NAT-OA";
    case PayloadType::nat_d_draft: return "NAT-D (draft)";
    case PayloadType::nat_oa_draft: return "NAT-OA (draft)";
  }
  return "UNKNOWN";
}

std::string_view exchange_type_name(ExchangeType type) {
  switch (type) {
    case ExchangeType::none: return "NONE";
    case ExchangeType::base: return "BASE";
    case ExchangeType::identity_protection: return "ID_PROT";
    case ExchangeType::authentication_only: return "AUTH_ONLY";
    case ExchangeType::aggressive: return "AGGRESSIVE";
    case ExchangeType::informational: return "INFORMATIONAL";
    case ExchangeType::quick_mode: return "QUICK_MODE";
    case ExchangeType::new_group_mode: return "NEW_GROUP_MODE";
  }
  return "UNKNOWN";
}

std::string_view notify_type_name(NotifyType type) {
  switch (type) {
    case NotifyType::invalid_payload_type: return "INVALID-PAYLOAD-TYPE";
    case NotifyType::doi_not_supported: return "DOI-NOT-SUPPORTED";
    case NotifyType::situation_not_supported: return "SITUATION-NOT-SUPPORTED";
    case NotifyType::invalid_cookie: return "INVALID-COOKIE";
    case NotifyType::invalid_major_version: return "INVALID-MAJOR-VERSION";
    case NotifyType::invalid_minor_version: return "INVALID-MINOR-VERSION";
    case NotifyType::invalid_exchange_type: return "INVALID-EXCHANGE-TYPE";
    case NotifyType::invalid_flags: return "INVALID-FLAGS";
    case NotifyType::invalid_message_id: return "INVALID-MESSAGE-ID";
    case NotifyType::invalid_protocol_id: return "INVALID-PROTOCOL-ID";
    case NotifyType::invalid_spi: return "INVALID-SPI";
    case NotifyType::invalid_transform_id: return "INVALID-TRANSFORM-ID";
    case NotifyType::attributes_not_supported: return "ATTRIBUTES-NOT-SUPPORTED";
    case NotifyType::no_proposal_chosen: return "NO-PROPOSAL-CHOSEN";
    case NotifyType::bad_proposal_syntax: return "BAD-PROPOSAL-SYNTAX";
    case NotifyType::payload_malformed: return "PAYLOAD-MALFORMED";
    case NotifyType::invalid_key_information: return "INVALID-KEY-INFORMATION";
    case NotifyType::invalid_id_information: return "INVALID-ID-INFORMATION";
    case NotifyType::invalid_cert_encoding: return "INVALID-CERT-ENCODING";
    case NotifyType::invalid_certificate: return "INVALID-CERTIFICATE";
    case NotifyType::cert_type_unsupported: return "CERT-TYPE-UNSUPPORTED";
    case NotifyType::invalid_cert_authority: return "INVALID-CERT-AUTHORITY";
    case NotifyType::invalid_hash_information: return "INVALID-HASH-INFORMATION";
    case NotifyType::authentication_failed: return "AUTHENTICATION-FAILED";
    case NotifyType::invalid_signature: return "INVALID-SIGNATURE";
    case NotifyType::address_notification: return "ADDRESS-NOTIFICATION";
    case NotifyType::notify_sa_lifetime: return "NOTIFY-SA-LIFETIME";
    case NotifyType::certificate_unavailable: return "CERTIFICATE-UNAVAILABLE";
    case NotifyType::unsupported_exchange_type: return "UNSUPPORTED-EXCHANGE-TYPE";
    case NotifyType::unequal_payload_lengths: return "UNEQUAL-PAYLOAD-LENGTHS";
    case NotifyType::connected: return "CONNECTED";
    case NotifyType::responder_lifetime: return "RESPONDER-LIFETIME";
    case NotifyType::replay_status: return "REPLAY-STATUS";
    case NotifyType::initial_contact: return "INITIAL-CONTACT";
    case NotifyType::r_u_there: return "R-U-THERE";
    case NotifyType::r_u_there_ack: return "R-U-THERE-ACK";
  }
  return "UNKNOWN";
}

std::string_view protocol_name(ProtocolId protocol) {
  switch (protocol) {
    case ProtocolId::none: return "NONE";
    case ProtocolId::isakmp: return "ISAKMP";
    case ProtocolId::ah: return "AH";
    case ProtocolId::esp: return "ESP";
    case ProtocolId::ipcomp: return "IPCOMP";
  }
  return "UNKNOWN";
}

std::string_view phase1_auth_name(Phase1Auth auth) {
  // strongSwan's words for these methods (auth_method_names).
  switch (auth) {
    case Phase1Auth::pre_shared_key: return "PRE_SHARED_KEY";
    case Phase1Auth::dss_signatures: return "DSS_SIG";
    case Phase1Auth::rsa_signatures: return "RSA_SIG";
    case Phase1Auth::rsa_encryption: return "RSA_ENC";
    case Phase1Auth::rsa_revised_encryption: return "RSA_ENC_REV";
    case Phase1Auth::ecdsa_sha256_p256: return "ECDSA_256";
    case Phase1Auth::ecdsa_sha384_p384: return "ECDSA_384";
    case Phase1Auth::ecdsa_sha512_p521: return "ECDSA_521";
  }
  return "UNKNOWN";
}

}  // namespace corridor::iana::ikev1
