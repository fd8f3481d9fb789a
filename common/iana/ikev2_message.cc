#include "common/iana/ikev2_message.h"

namespace corridor::iana {

std::string_view payload_type_name(PayloadType type) {
  switch (type) {
    case PayloadType::no_next_payload: return "NONE";
    case PayloadType::security_association: return "SA";
    case PayloadType::key_exchange: return "KE";
    case PayloadType::identification_initiator: return "IDi";
    case PayloadType::identification_responder: return "IDr";
    case PayloadType::certificate: return "CERT";
    case PayloadType::certificate_request: return "CERTREQ";
    case PayloadType::authentication: return "AUTH";
    case PayloadType::nonce: return "Nonce";
    case PayloadType::notify: return "N";
    case PayloadType::delete_: return "D";
    case PayloadType::vendor_id: return "V";
    case PayloadType::traffic_selector_initiator: return "TSi";
    case PayloadType::traffic_selector_responder: return "TSr";
    case PayloadType::encrypted_and_authenticated: return "SK";
    case PayloadType::configuration: return "CP";
    case PayloadType::extensible_authentication: return "EAP";
    case PayloadType::generic_secure_password: return "GSPM";
    case PayloadType::encrypted_fragment: return "SKF";
  }
  return "UNKNOWN";
}

std::string_view exchange_type_name(ExchangeType type) {
  switch (type) {
    case ExchangeType::ike_sa_init: return "IKE_SA_INIT";
    case ExchangeType::ike_auth: return "IKE_AUTH";
    case ExchangeType::create_child_sa: return "CREATE_CHILD_SA";
    case ExchangeType::informational: return "INFORMATIONAL";
    case ExchangeType::ike_session_resume: return "IKE_SESSION_RESUME";
    case ExchangeType::ike_intermediate: return "IKE_INTERMEDIATE";
  }
  return "UNKNOWN";
}

std::string_view notify_type_name(NotifyType type) {
  switch (type) {
    case NotifyType::unsupported_critical_payload: return "UNSUPPORTED_CRITICAL_PAYLOAD";
    case NotifyType::invalid_ike_spi: return "INVALID_IKE_SPI";
    case NotifyType::invalid_major_version: return "INVALID_MAJOR_VERSION";
    case NotifyType::invalid_syntax: return "INVALID_SYNTAX";
    case NotifyType::invalid_message_id: return "INVALID_MESSAGE_ID";
    case NotifyType::invalid_spi: return "INVALID_SPI";
    case NotifyType::no_proposal_chosen: return "NO_PROPOSAL_CHOSEN";
    case NotifyType::invalid_ke_payload: return "INVALID_KE_PAYLOAD";
    case NotifyType::authentication_failed: return "AUTHENTICATION_FAILED";
    case NotifyType::single_pair_required: return "SINGLE_PAIR_REQUIRED";
    case NotifyType::no_additional_sas: return "NO_ADDITIONAL_SAS";
    case NotifyType::internal_address_failure: return "INTERNAL_ADDRESS_FAILURE";
    case NotifyType::failed_cp_required: return "FAILED_CP_REQUIRED";
    case NotifyType::ts_unacceptable: return "TS_UNACCEPTABLE";
    case NotifyType::invalid_selectors: return "INVALID_SELECTORS";
    case NotifyType::temporary_failure: return "TEMPORARY_FAILURE";
    case NotifyType::child_sa_not_found: return "CHILD_SA_NOT_FOUND";
    case NotifyType::initial_contact: return "INITIAL_CONTACT";
    case NotifyType::set_window_size: return "SET_WINDOW_SIZE";
    case NotifyType::additional_ts_possible: return "ADDITIONAL_TS_POSSIBLE";
    case NotifyType::ipcomp_supported: return "IPCOMP_SUPPORTED";
    case NotifyType::nat_detection_source_ip: return "NAT_DETECTION_SOURCE_IP";
    case NotifyType::nat_detection_destination_ip: return "NAT_DETECTION_DESTINATION_IP";
    case NotifyType::cookie: return "COOKIE";
    case NotifyType::use_transport_mode: return "USE_TRANSPORT_MODE";
    case NotifyType::http_cert_lookup_supported: return "HTTP_CERT_LOOKUP_SUPPORTED";
    case NotifyType::rekey_sa: return "REKEY_SA";
    case NotifyType::esp_tfc_padding_not_supported: return "ESP_TFC_PADDING_NOT_SUPPORTED";
    case NotifyType::non_first_fragments_also: return "NON_FIRST_FRAGMENTS_ALSO";
    case NotifyType::mobike_supported: return "MOBIKE_SUPPORTED";
    case NotifyType::additional_ip4_address: return "ADDITIONAL_IP4_ADDRESS";
    case NotifyType::additional_ip6_address: return "ADDITIONAL_IP6_ADDRESS";
    case NotifyType::no_additional_addresses: return "NO_ADDITIONAL_ADDRESSES";
    case NotifyType::update_sa_addresses: return "UPDATE_SA_ADDRESSES";
    case NotifyType::cookie2: return "COOKIE2";
    case NotifyType::no_nats_allowed: return "NO_NATS_ALLOWED";
    case NotifyType::auth_lifetime: return "AUTH_LIFETIME";
    case NotifyType::multiple_auth_supported: return "MULTIPLE_AUTH_SUPPORTED";
    case NotifyType::another_auth_follows: return "ANOTHER_AUTH_FOLLOWS";
    case NotifyType::redirect_supported: return "REDIRECT_SUPPORTED";
    case NotifyType::redirect: return "REDIRECT";
    case NotifyType::redirected_from: return "REDIRECTED_FROM";
    case NotifyType::eap_only_authentication: return "EAP_ONLY_AUTHENTICATION";
    case NotifyType::childless_ikev2_supported: return "CHILDLESS_IKEV2_SUPPORTED";
    case NotifyType::ikev2_message_id_sync_supported: return "IKEV2_MESSAGE_ID_SYNC_SUPPORTED";
    case NotifyType::ikev2_fragmentation_supported: return "IKEV2_FRAGMENTATION_SUPPORTED";
    case NotifyType::signature_hash_algorithms: return "SIGNATURE_HASH_ALGORITHMS";
    case NotifyType::intermediate_exchange_supported: return "INTERMEDIATE_EXCHANGE_SUPPORTED";
  }
  return "UNKNOWN";
}

}  // namespace corridor::iana
