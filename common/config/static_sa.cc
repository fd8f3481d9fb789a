#include "common/config/static_sa.h"

#include <span>

#include "common/iana/ikev2.h"

namespace corridor::config {
namespace {

using iana::EncrId;
using iana::IntegId;

void put_address(const net::IpAddress& a, std::array<std::uint8_t, 16>& out) {
  out.fill(0);
  for (std::size_t i = 0; i < a.byte_length(); ++i) out[i] = a.bytes()[i];
}

}  // namespace

std::optional<EncryptionKeyLength> encryption_key_length(const Transform& t) {
  if (t.type != iana::TransformType::encryption) return std::nullopt;
  const std::size_t aes = t.key_bits / 8;
  const bool aes_size = t.key_bits == 128 || t.key_bits == 192 || t.key_bits == 256;
  switch (static_cast<EncrId>(t.id)) {
    case EncrId::null: return EncryptionKeyLength{0, 0, "RFC 2410"};
    case EncrId::des: return EncryptionKeyLength{8, 0, "RFC 2405"};
    case EncrId::triple_des: return EncryptionKeyLength{24, 0, "RFC 2451"};
    case EncrId::aes_cbc:
      if (!aes_size) return std::nullopt;
      return EncryptionKeyLength{aes, 0, "RFC 3602"};
    case EncrId::aes_ctr:
      if (!aes_size) return std::nullopt;
      return EncryptionKeyLength{aes, 4, "RFC 3686 §5.1"};  // the last 4 bytes are the nonce
    case EncrId::aes_gcm_8:
    case EncrId::aes_gcm_12:
    case EncrId::aes_gcm_16:
      if (!aes_size) return std::nullopt;
      return EncryptionKeyLength{aes, 4, "RFC 4106 §8.1"};
    case EncrId::null_auth_aes_gmac:
      if (!aes_size) return std::nullopt;
      return EncryptionKeyLength{aes, 4, "RFC 4543"};
    case EncrId::chacha20_poly1305:
      // No Key Length attribute (RFC 7634), or 256 from strongSwan's "compat" keyword.
      if (t.key_bits != 0 && t.key_bits != 256) return std::nullopt;
      return EncryptionKeyLength{32, 4, "RFC 7634"};
    default: return std::nullopt;
  }
}

std::optional<std::size_t> integrity_key_length(const Transform& t) {
  if (t.type != iana::TransformType::integrity) return std::nullopt;
  switch (static_cast<IntegId>(t.id)) {
    case IntegId::hmac_md5_96: return 16;        // RFC 2403
    case IntegId::hmac_sha1_96: return 20;       // RFC 2404
    case IntegId::aes_xcbc_96: return 16;        // RFC 3566
    case IntegId::hmac_sha2_256_128: return 32;  // RFC 4868 §2.1.1: the key is as long as the hash
    case IntegId::hmac_sha2_384_192: return 48;
    case IntegId::hmac_sha2_512_256: return 64;
    default: return std::nullopt;
  }
}

std::optional<channel::SaRecord> to_sa_record(const StaticSaConfig& sa, std::uint64_t sa_id, std::string* why) {
  auto refuse = [&](std::string text) -> std::optional<channel::SaRecord> {
    if (why) *why = std::move(text);
    return std::nullopt;
  };
  if (sa_id == 0) return refuse("SA id 0 is reserved");
  if (sa.local.family() != sa.remote.family()) return refuse("local and remote addresses are of different families");
  channel::SaRecord r;
  r.sa_id = sa_id;
  r.spi = sa.spi;
  const bool inbound = sa.direction == SaDirection::in;
  r.direction = inbound ? channel::Direction::inbound : channel::Direction::outbound;
  r.protocol = sa.protocol == SaProtocol::esp ? channel::IpsecProtocol::esp : channel::IpsecProtocol::ah;
  r.mode = sa.mode == ChildMode::tunnel ? channel::Mode::tunnel : channel::Mode::transport;
  r.ip_version = sa.local.is_v4() ? channel::IpVersion::v4 : channel::IpVersion::v6;
  // The outer header as the packet carries it (docs/sa-channel.md §3.2):
  // the inbound SAD matches its destination, which is us.
  put_address(inbound ? sa.remote : sa.local, r.outer_src);
  put_address(inbound ? sa.local : sa.remote, r.outer_dst);
  if (sa.encap) {
    r.udp_encap = true;
    r.encap_src_port = sa.encap->sport;
    r.encap_dst_port = sa.encap->dport;
  }

  if (sa.proposal.encryption.size() > 1 || sa.proposal.integrity.size() > 1)
    return refuse("a static SA has one encryption and at most one integrity algorithm");
  if (!sa.proposal.encryption.empty()) {
    r.encryption_id = sa.proposal.encryption.front().id;
    r.encryption_key_bits = sa.proposal.encryption.front().key_bits;
  }
  if (!sa.proposal.integrity.empty()) r.integrity_id = sa.proposal.integrity.front().id;
  if (!r.encryption_key.assign(std::span(sa.key.data(), sa.key.size())))
    return refuse("encryption key longer than the SA channel carries");
  if (!r.integrity_key.assign(std::span(sa.integ_key.data(), sa.integ_key.size())))
    return refuse("integrity key longer than the SA channel carries");
  r.esn = sa.esn;
  // Only the receiver keeps a replay window (RFC 4303 §3.4.3).
  r.replay_window = inbound ? sa.replay_window : 0;
  // soft/hard stay 0: a manually keyed SA has no lifetime, nothing would
  // rekey it. df, dscp_copy and ecn_propagate keep the record's defaults.

  if (const auto error = channel::validate(r); error.code != channel::ResultCode::ok)
    return refuse("the SA channel refuses the record: " + std::string(channel::to_string(error.code)) + " (" +
                  std::string(channel::to_string(error.field)) + ")");
  return r;
}

std::vector<SelectorPair> packet_selectors(const StaticSaConfig& sa) {
  std::vector<SelectorPair> out;
  for (const auto& l : sa.local_ts)
    for (const auto& r : sa.remote_ts) {
      if (l.address.family() != r.address.family()) continue;
      if (sa.direction == SaDirection::out) out.push_back({l, r});
      else out.push_back({r, l});
    }
  return out;
}

}  // namespace corridor::config
