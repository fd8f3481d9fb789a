// IKEv2 message constants against RFC 7296 §3 and the IANA registry,
// written out as literals here (not taken from the header under test).
#include <gtest/gtest.h>

#include "common/iana/ikev2_message.h"

namespace {

using namespace corridor::iana;  // NOLINT: test brevity

unsigned v(auto e) { return static_cast<unsigned>(e); }

TEST(IanaIkev2Message, PayloadAndExchangeTypes) {
  EXPECT_EQ(v(PayloadType::security_association), 33U);
  EXPECT_EQ(v(PayloadType::nonce), 40U);
  EXPECT_EQ(v(PayloadType::notify), 41U);
  EXPECT_EQ(v(PayloadType::traffic_selector_responder), 45U);
  EXPECT_EQ(v(PayloadType::encrypted_and_authenticated), 46U);
  EXPECT_EQ(v(PayloadType::extensible_authentication), 48U);
  EXPECT_EQ(v(PayloadType::encrypted_fragment), 53U);
  EXPECT_EQ(payload_type_name(PayloadType::identification_initiator), "IDi");
  EXPECT_EQ(payload_type_name(static_cast<PayloadType>(99)), "UNKNOWN");
  EXPECT_EQ(v(ExchangeType::ike_sa_init), 34U);
  EXPECT_EQ(v(ExchangeType::informational), 37U);
  EXPECT_EQ(exchange_type_name(ExchangeType::create_child_sa), "CREATE_CHILD_SA");
  EXPECT_EQ(kFlagInitiator, 0x08);
  EXPECT_EQ(kFlagVersion, 0x10);
  EXPECT_EQ(kFlagResponse, 0x20);
}

TEST(IanaIkev2Message, NotifyTypesStrongSwanSends) {
  EXPECT_EQ(v(NotifyType::unsupported_critical_payload), 1U);
  EXPECT_EQ(v(NotifyType::invalid_major_version), 5U);
  EXPECT_EQ(v(NotifyType::invalid_syntax), 7U);
  EXPECT_EQ(v(NotifyType::no_proposal_chosen), 14U);
  EXPECT_EQ(v(NotifyType::invalid_ke_payload), 17U);
  EXPECT_EQ(v(NotifyType::authentication_failed), 24U);
  EXPECT_EQ(v(NotifyType::ts_unacceptable), 38U);
  EXPECT_EQ(v(NotifyType::initial_contact), 16384U);
  EXPECT_EQ(v(NotifyType::nat_detection_source_ip), 16388U);
  EXPECT_EQ(v(NotifyType::nat_detection_destination_ip), 16389U);
  EXPECT_EQ(v(NotifyType::cookie), 16390U);
  EXPECT_EQ(v(NotifyType::rekey_sa), 16393U);
  EXPECT_EQ(v(NotifyType::mobike_supported), 16396U);
  EXPECT_EQ(v(NotifyType::additional_ip4_address), 16397U);
  EXPECT_EQ(v(NotifyType::multiple_auth_supported), 16404U);
  EXPECT_EQ(v(NotifyType::redirect_supported), 16406U);
  EXPECT_EQ(v(NotifyType::eap_only_authentication), 16417U);
  EXPECT_EQ(v(NotifyType::ikev2_message_id_sync_supported), 16420U);
  EXPECT_EQ(v(NotifyType::ikev2_fragmentation_supported), 16430U);
  EXPECT_EQ(v(NotifyType::signature_hash_algorithms), 16431U);
  EXPECT_EQ(v(NotifyType::intermediate_exchange_supported), 16438U);
  EXPECT_TRUE(notify_is_error(14));
  EXPECT_FALSE(notify_is_error(16384));
  EXPECT_EQ(notify_type_name(NotifyType::signature_hash_algorithms), "SIGNATURE_HASH_ALGORITHMS");
  EXPECT_EQ(notify_type_name(static_cast<NotifyType>(12345)), "UNKNOWN");
}

TEST(IanaIkev2Message, IdAuthTsProtocol) {
  EXPECT_EQ(v(IdType::id_ipv4_addr), 1U);
  EXPECT_EQ(v(IdType::id_fqdn), 2U);
  EXPECT_EQ(v(IdType::id_rfc822_addr), 3U);
  EXPECT_EQ(v(IdType::id_ipv6_addr), 5U);
  EXPECT_EQ(v(IdType::id_der_asn1_dn), 9U);
  EXPECT_EQ(v(IdType::id_key_id), 11U);
  EXPECT_EQ(v(AuthMethod::rsa_digital_signature), 1U);
  EXPECT_EQ(v(AuthMethod::shared_key_message_integrity_code), 2U);
  EXPECT_EQ(v(AuthMethod::ecdsa_sha256_p256), 9U);
  EXPECT_EQ(v(AuthMethod::ecdsa_sha512_p521), 11U);
  EXPECT_EQ(v(AuthMethod::digital_signature), 14U);
  EXPECT_EQ(v(TsType::ts_ipv4_addr_range), 7U);
  EXPECT_EQ(v(TsType::ts_ipv6_addr_range), 8U);
  EXPECT_EQ(v(ProtocolId::ike), 1U);
  EXPECT_EQ(v(ProtocolId::ah), 2U);
  EXPECT_EQ(v(ProtocolId::esp), 3U);
  EXPECT_EQ(v(CertEncoding::x509_signature), 4U);
  EXPECT_EQ(kAttributeKeyLength, 14U);
}

}  // namespace
