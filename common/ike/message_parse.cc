// Parsing side of the IKEv2 codec (RFC 7296 §3, RFC 7383 §2.5).
#include <string>
#include <utility>

#include "common/ike/bytes.h"
#include "common/ike/message.h"

namespace corridor::ike {

using iana::PayloadType;

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::truncated_header: return "truncated_header";
    case Errc::invalid_major_version: return "invalid_major_version";
    case Errc::length_mismatch: return "length_mismatch";
    case Errc::truncated_payload_header: return "truncated_payload_header";
    case Errc::payload_overrun: return "payload_overrun";
    case Errc::payload_too_short: return "payload_too_short";
    case Errc::trailing_data: return "trailing_data";
    case Errc::unsupported_critical_payload: return "unsupported_critical_payload";
    case Errc::sk_not_last: return "sk_not_last";
    case Errc::sa_without_proposal: return "sa_without_proposal";
    case Errc::proposal_bad_marker: return "proposal_bad_marker";
    case Errc::proposal_bad_length: return "proposal_bad_length";
    case Errc::proposal_bad_number: return "proposal_bad_number";
    case Errc::proposal_bad_protocol: return "proposal_bad_protocol";
    case Errc::proposal_bad_spi_size: return "proposal_bad_spi_size";
    case Errc::proposal_bad_transform_count: return "proposal_bad_transform_count";
    case Errc::transform_bad_marker: return "transform_bad_marker";
    case Errc::transform_bad_length: return "transform_bad_length";
    case Errc::attribute_bad_length: return "attribute_bad_length";
    case Errc::key_length_not_tv: return "key_length_not_tv";
    case Errc::nonce_bad_size: return "nonce_bad_size";
    case Errc::id_bad_length: return "id_bad_length";
    case Errc::notify_bad_spi_size: return "notify_bad_spi_size";
    case Errc::delete_bad_spi: return "delete_bad_spi";
    case Errc::delete_bad_length: return "delete_bad_length";
    case Errc::ts_bad_count: return "ts_bad_count";
    case Errc::ts_bad_length: return "ts_bad_length";
    case Errc::ts_unknown_type: return "ts_unknown_type";
    case Errc::ts_start_after_end: return "ts_start_after_end";
    case Errc::ts_port_start_after_end: return "ts_port_start_after_end";
    case Errc::skf_bad_fragment_number: return "skf_bad_fragment_number";
    case Errc::body_type_mismatch: return "body_type_mismatch";
    case Errc::field_too_large: return "field_too_large";
  }
  return "unknown";
}

iana::NotifyType notify_for(const Error& error) {
  switch (error.code) {
    case Errc::unsupported_critical_payload: return iana::NotifyType::unsupported_critical_payload;
    case Errc::invalid_major_version: return iana::NotifyType::invalid_major_version;
    default: return iana::NotifyType::invalid_syntax;
  }
}

std::optional<std::uint16_t> Transform::key_length() const {
  for (const auto& a : attributes) {
    if (a.tv && a.type == iana::kAttributeKeyLength) return a.value;
  }
  return std::nullopt;
}

namespace {

constexpr std::uint8_t kCriticalBit = 0x80;
constexpr std::uint8_t kMoreProposals = 2;   // RFC 7296 §3.3.1 "last or more"
constexpr std::uint8_t kMoreTransforms = 3;  // §3.3.2
constexpr std::uint16_t kAttributeFormatTv = 0x8000;  // AF bit, §3.3.5

Error error(Errc code, PayloadType payload, std::size_t offset, const std::string& what) {
  std::string name(iana::payload_type_name(payload));
  if (payload == PayloadType::no_next_payload) name = "IKE header";
  else name += " payload";
  return Error{code, payload, offset, name + " at offset " + std::to_string(offset) + ": " + what};
}

bool known_type(std::uint8_t t) { return codec_knows(static_cast<PayloadType>(t)); }

}  // namespace

bool codec_knows(PayloadType type) {
  switch (type) {
    case PayloadType::security_association:
    case PayloadType::key_exchange:
    case PayloadType::identification_initiator:
    case PayloadType::identification_responder:
    case PayloadType::certificate:
    case PayloadType::certificate_request:
    case PayloadType::authentication:
    case PayloadType::nonce:
    case PayloadType::notify:
    case PayloadType::delete_:
    case PayloadType::vendor_id:
    case PayloadType::traffic_selector_initiator:
    case PayloadType::traffic_selector_responder:
    case PayloadType::encrypted_and_authenticated:
    case PayloadType::configuration:
    case PayloadType::extensible_authentication:
    case PayloadType::encrypted_fragment:
      return true;
    default:
      return false;
  }
}

namespace {

// Smallest Payload Length of each known type (generic header included).
std::size_t minimum_length(PayloadType t) {
  switch (t) {
    case PayloadType::security_association: return 4;  // the SA parser names a missing proposal
    case PayloadType::key_exchange: return 4 + 4 + 1;            // group, reserved, data
    case PayloadType::identification_initiator:
    case PayloadType::identification_responder: return 4 + 4 + 1;
    case PayloadType::certificate:
    case PayloadType::certificate_request: return 4 + 1;
    case PayloadType::authentication: return 4 + 4 + 1;
    case PayloadType::nonce: return 4;  // the size check names the nonce
    case PayloadType::notify: return 4 + 4;
    case PayloadType::delete_: return 4 + 4;
    case PayloadType::traffic_selector_initiator:
    case PayloadType::traffic_selector_responder: return 4 + 4;
    case PayloadType::encrypted_fragment: return 4 + 4;
    case PayloadType::configuration: return 4 + 4;
    default: return 4;
  }
}

class PayloadParser {
 public:
  PayloadParser(PayloadType type, Reader body, std::size_t payload_offset)
      : type_(type), r_(body), at_(payload_offset) {}

  Expected<PayloadBody> parse() {
    switch (type_) {
      case PayloadType::security_association: return security_association();
      case PayloadType::key_exchange: {
        KeyExchange ke;
        ke.group = *r_.u16();
        r_.skip(2);
        ke.data = r_.rest();
        return PayloadBody(std::move(ke));
      }
      case PayloadType::identification_initiator:
      case PayloadType::identification_responder: return identification();
      case PayloadType::certificate: {
        Certificate c;
        c.encoding = static_cast<iana::CertEncoding>(*r_.u8());
        c.data = r_.rest();
        return PayloadBody(std::move(c));
      }
      case PayloadType::certificate_request: {
        CertificateRequest c;
        c.encoding = static_cast<iana::CertEncoding>(*r_.u8());
        c.authority = r_.rest();
        return PayloadBody(std::move(c));
      }
      case PayloadType::authentication: {
        Authentication a;
        a.method = static_cast<iana::AuthMethod>(*r_.u8());
        r_.skip(3);
        a.data = r_.rest();
        return PayloadBody(std::move(a));
      }
      case PayloadType::nonce: {
        if (r_.remaining() < kMinNonceSize || r_.remaining() > kMaxNonceSize) {
          return fail(Errc::nonce_bad_size, at_, "nonce of " + std::to_string(r_.remaining()) +
                                                     " bytes, RFC 7296 §2.10 allows 16..256");
        }
        return PayloadBody(Nonce{r_.rest()});
      }
      case PayloadType::notify: return notify();
      case PayloadType::delete_: return delete_payload();
      case PayloadType::vendor_id: return PayloadBody(VendorId{r_.rest()});
      case PayloadType::traffic_selector_initiator:
      case PayloadType::traffic_selector_responder: return traffic_selectors();
      case PayloadType::configuration: {
        Configuration c;
        c.cfg_type = *r_.u8();
        r_.skip(3);
        c.attributes = r_.rest();
        return PayloadBody(std::move(c));
      }
      case PayloadType::extensible_authentication: return PayloadBody(Eap{r_.rest()});
      default: break;  // SK, SKF and unknown types are handled by the chain walker
    }
    return fail(Errc::body_type_mismatch, at_, "no parser for this payload type");
  }

 private:
  Error fail(Errc code, std::size_t offset, const std::string& what) const {
    return error(code, type_, offset, what);
  }

  Expected<PayloadBody> identification() {
    Identification id;
    id.id_type = static_cast<iana::IdType>(*r_.u8());
    r_.skip(3);
    const std::size_t data_at = r_.offset();
    id.data = r_.rest();
    const bool v4 = id.id_type == iana::IdType::id_ipv4_addr;
    const bool v6 = id.id_type == iana::IdType::id_ipv6_addr;
    if ((v4 && id.data.size() != 4) || (v6 && id.data.size() != 16)) {
      return fail(Errc::id_bad_length, data_at,
                  std::string(v4 ? "ID_IPV4_ADDR" : "ID_IPV6_ADDR") + " of " + std::to_string(id.data.size()) +
                      " bytes, needs " + (v4 ? "4" : "16"));
    }
    return PayloadBody(std::move(id));
  }

  Expected<PayloadBody> security_association() {
    SecurityAssociation sa;
    bool last_seen = false;
    while (!r_.empty()) {
      const std::size_t p_at = r_.offset();
      if (last_seen) return fail(Errc::proposal_bad_marker, p_at, "proposal after one marked last");
      if (r_.remaining() < 8) {
        return fail(Errc::proposal_bad_length, p_at, "proposal header needs 8 bytes, " +
                                                         std::to_string(r_.remaining()) + " left");
      }
      const std::uint8_t marker = *r_.u8();
      r_.skip(1);
      const std::uint16_t length = *r_.u16();
      if (length < 8 || length > r_.remaining() + 4) {
        return fail(Errc::proposal_bad_length, p_at,
                    "Proposal Length " + std::to_string(length) + " outside 8.." + std::to_string(r_.remaining() + 4));
      }
      Reader p = *r_.sub(length - 4u);
      if (marker == 0) {
        last_seen = true;
      } else if (marker != kMoreProposals) {
        return fail(Errc::proposal_bad_marker, p_at, "last/more byte " + std::to_string(marker) + ", must be 0 or 2");
      }
      auto proposal = parse_proposal(p, p_at);
      if (!proposal) return proposal.error();
      const std::uint8_t expected = sa.proposals.empty() ? 1 : static_cast<std::uint8_t>(sa.proposals.back().number + 1);
      // A response carries the one accepted proposal with its original number.
      const bool single_accepted = sa.proposals.empty() && last_seen && proposal->number != 0;
      if (proposal->number != expected && !single_accepted) {
        return fail(Errc::proposal_bad_number, p_at + 4,
                    "Proposal Num " + std::to_string(proposal->number) + ", expected " + std::to_string(expected));
      }
      sa.proposals.push_back(std::move(*proposal));
    }
    if (sa.proposals.empty()) return fail(Errc::sa_without_proposal, at_, "no proposal");
    if (!last_seen) return fail(Errc::proposal_bad_marker, at_, "last proposal marked 'more'");
    return PayloadBody(std::move(sa));
  }

  Expected<Proposal> parse_proposal(Reader& p, std::size_t p_at) {
    Proposal proposal;
    proposal.number = *p.u8();
    proposal.protocol = static_cast<iana::ProtocolId>(*p.u8());
    const std::uint8_t spi_size = *p.u8();
    const std::uint8_t count = *p.u8();
    switch (proposal.protocol) {
      case iana::ProtocolId::ike:
        if (spi_size != 0 && spi_size != 8) {
          return fail(Errc::proposal_bad_spi_size, p_at + 6,
                      "IKE proposal with SPI Size " + std::to_string(spi_size) + ", must be 0 or 8");
        }
        break;
      case iana::ProtocolId::ah:
      case iana::ProtocolId::esp:
        if (spi_size != 4) {
          return fail(Errc::proposal_bad_spi_size, p_at + 6,
                      "AH/ESP proposal with SPI Size " + std::to_string(spi_size) + ", must be 4");
        }
        break;
      default:
        return fail(Errc::proposal_bad_protocol, p_at + 5,
                    "Protocol ID " + std::to_string(static_cast<unsigned>(proposal.protocol)) + " not IKE, AH or ESP");
    }
    auto spi = p.bytes(spi_size);
    if (!spi) return fail(Errc::proposal_bad_length, p_at, "SPI runs past the proposal");
    proposal.spi.assign(spi->begin(), spi->end());
    bool last_seen = false;
    while (!p.empty()) {
      const std::size_t t_at = p.offset();
      if (last_seen) return fail(Errc::transform_bad_marker, t_at, "transform after one marked last");
      if (p.remaining() < 8) {
        return fail(Errc::transform_bad_length, t_at, "transform needs 8 bytes, " + std::to_string(p.remaining()) + " left");
      }
      const std::uint8_t marker = *p.u8();
      p.skip(1);
      const std::uint16_t length = *p.u16();
      if (length < 8 || length > p.remaining() + 4) {
        return fail(Errc::transform_bad_length, t_at,
                    "Transform Length " + std::to_string(length) + " outside 8.." + std::to_string(p.remaining() + 4));
      }
      Reader t = *p.sub(length - 4u);
      if (marker == 0) {
        last_seen = true;
      } else if (marker != kMoreTransforms) {
        return fail(Errc::transform_bad_marker, t_at, "last/more byte " + std::to_string(marker) + ", must be 0 or 3");
      }
      Transform transform;
      transform.type = static_cast<iana::TransformType>(*t.u8());
      t.skip(1);
      transform.id = *t.u16();
      while (!t.empty()) {
        const std::size_t a_at = t.offset();
        if (t.remaining() < 4) return fail(Errc::attribute_bad_length, a_at, "attribute header runs past the transform");
        TransformAttribute a;
        const std::uint16_t type_field = *t.u16();
        a.tv = (type_field & kAttributeFormatTv) != 0;
        a.type = type_field & static_cast<std::uint16_t>(~kAttributeFormatTv);
        if (a.tv) {
          a.value = *t.u16();
        } else {
          if (a.type == iana::kAttributeKeyLength) {
            return fail(Errc::key_length_not_tv, a_at, "Key Length attribute in TLV form, RFC 7296 §3.3.5 requires TV");
          }
          const std::uint16_t alen = *t.u16();
          auto value = t.bytes(alen);
          if (!value) {
            return fail(Errc::attribute_bad_length, a_at,
                        "attribute length " + std::to_string(alen) + " runs past the transform");
          }
          a.data.assign(value->begin(), value->end());
        }
        transform.attributes.push_back(std::move(a));
      }
      proposal.transforms.push_back(std::move(transform));
    }
    if (!proposal.transforms.empty() && !last_seen) {
      return fail(Errc::transform_bad_marker, p_at, "last transform marked 'more'");
    }
    if (proposal.transforms.size() != count) {
      return fail(Errc::proposal_bad_transform_count, p_at + 7,
                  "# of Transforms " + std::to_string(count) + " but " + std::to_string(proposal.transforms.size()) +
                      " present");
    }
    return proposal;
  }

  Expected<PayloadBody> notify() {
    Notify n;
    n.protocol = static_cast<iana::ProtocolId>(*r_.u8());
    const std::size_t size_at = r_.offset();
    const std::uint8_t spi_size = *r_.u8();
    n.type = static_cast<iana::NotifyType>(*r_.u16());
    // §3.10: zero for the IKE SA (Protocol ID then ignored), 4 for AH/ESP.
    const bool child = n.protocol == iana::ProtocolId::ah || n.protocol == iana::ProtocolId::esp;
    if (spi_size != 0 && !(spi_size == 4 && child)) {
      return fail(Errc::notify_bad_spi_size, size_at,
                  "SPI Size " + std::to_string(spi_size) + " with Protocol ID " +
                      std::to_string(static_cast<unsigned>(n.protocol)) + ", must be 0, or 4 with AH/ESP");
    }
    auto spi = r_.bytes(spi_size);
    if (!spi) return fail(Errc::payload_too_short, size_at, "SPI runs past the payload");
    n.spi.assign(spi->begin(), spi->end());
    n.data = r_.rest();
    return PayloadBody(std::move(n));
  }

  Expected<PayloadBody> delete_payload() {
    Delete d;
    d.protocol = static_cast<iana::ProtocolId>(*r_.u8());
    const std::size_t size_at = r_.offset();
    const std::uint8_t spi_size = *r_.u8();
    const std::uint16_t count = *r_.u16();
    const bool ike = d.protocol == iana::ProtocolId::ike;
    const bool child = d.protocol == iana::ProtocolId::ah || d.protocol == iana::ProtocolId::esp;
    // §3.11: the IKE SA is named by the header's SPIs (SPI Size 0, no SPIs).
    if (!(ike && spi_size == 0 && count == 0) && !(child && spi_size == 4)) {
      return fail(Errc::delete_bad_spi, size_at - 1,
                  "Protocol ID " + std::to_string(static_cast<unsigned>(d.protocol)) + " with SPI Size " +
                      std::to_string(spi_size) + " and " + std::to_string(count) +
                      " SPIs; IKE needs 0/0, AH/ESP SPI Size 4");
    }
    if (r_.remaining() != static_cast<std::size_t>(count) * spi_size) {
      return fail(Errc::delete_bad_length, size_at + 1,
                  std::to_string(count) + " SPIs need " + std::to_string(count * spi_size) + " bytes, payload has " +
                      std::to_string(r_.remaining()));
    }
    if (child && count == 0) return fail(Errc::delete_bad_length, size_at + 1, "AH/ESP delete without SPI");
    for (std::uint16_t i = 0; i < count; ++i) d.spis.push_back(*r_.u32());
    return PayloadBody(std::move(d));
  }

  Expected<PayloadBody> traffic_selectors() {
    TrafficSelectors ts;
    const std::size_t count_at = r_.offset();
    const std::uint8_t count = *r_.u8();
    r_.skip(3);
    if (count == 0) return fail(Errc::ts_bad_count, count_at, "Number of TSs is 0");
    while (!r_.empty()) {
      const std::size_t s_at = r_.offset();
      if (r_.remaining() < 4) return fail(Errc::ts_bad_length, s_at, "selector header runs past the payload");
      TrafficSelector s;
      s.type = static_cast<iana::TsType>(*r_.u8());
      s.ip_protocol = *r_.u8();
      const std::uint16_t length = *r_.u16();
      std::size_t address_size = 0;
      if (s.type == iana::TsType::ts_ipv4_addr_range) address_size = 4;
      else if (s.type == iana::TsType::ts_ipv6_addr_range) address_size = 16;
      else return fail(Errc::ts_unknown_type, s_at, "TS Type " + std::to_string(static_cast<unsigned>(s.type)));
      if (length != 8 + 2 * address_size) {
        return fail(Errc::ts_bad_length, s_at + 2,
                    "Selector Length " + std::to_string(length) + ", must be " + std::to_string(8 + 2 * address_size));
      }
      if (r_.remaining() < length - 4u) return fail(Errc::ts_bad_length, s_at, "selector runs past the payload");
      s.start_port = *r_.u16();
      s.end_port = *r_.u16();
      auto start = *r_.bytes(address_size);
      auto end = *r_.bytes(address_size);
      s.start_address.assign(start.begin(), start.end());
      s.end_address.assign(end.begin(), end.end());
      // §3.13.1: start 65535, end 0 means OPAQUE ports.
      const bool opaque = s.start_port == 65535 && s.end_port == 0;
      if (s.start_port > s.end_port && !opaque) {
        return fail(Errc::ts_port_start_after_end, s_at + 4,
                    "Start Port " + std::to_string(s.start_port) + " above End Port " + std::to_string(s.end_port));
      }
      if (s.start_address > s.end_address) {
        return fail(Errc::ts_start_after_end, s_at + 8, "Starting Address above Ending Address");
      }
      ts.selectors.push_back(std::move(s));
    }
    if (ts.selectors.size() != count) {
      return fail(Errc::ts_bad_count, count_at,
                  "Number of TSs " + std::to_string(count) + " but " + std::to_string(ts.selectors.size()) + " present");
    }
    return PayloadBody(std::move(ts));
  }

  PayloadType type_;
  Reader r_;
  std::size_t at_;
};

// Walks a Next Payload chain that must fill `r` exactly.
Expected<std::vector<Payload>> parse_chain(std::uint8_t first, Reader r) {
  std::vector<Payload> payloads;
  std::uint8_t next = first;
  while (next != 0) {
    const PayloadType type = static_cast<PayloadType>(next);
    const std::size_t at = r.offset();
    if (r.remaining() < kGenericPayloadHeaderSize) {
      return error(Errc::truncated_payload_header, type, at,
                   "generic payload header needs 4 bytes, " + std::to_string(r.remaining()) + " left");
    }
    const std::uint8_t following = *r.u8();
    const bool critical = (*r.u8() & kCriticalBit) != 0;
    const std::uint16_t length = *r.u16();
    if (length > r.remaining() + kGenericPayloadHeaderSize) {
      return error(Errc::payload_overrun, type, at,
                   "Payload Length " + std::to_string(length) + " but " +
                       std::to_string(r.remaining() + kGenericPayloadHeaderSize) + " bytes left in the message");
    }
    if (!known_type(next)) {
      if (length < kGenericPayloadHeaderSize) {
        return error(Errc::payload_too_short, type, at, "Payload Length " + std::to_string(length) + " below 4");
      }
      if (critical) {
        Error e = error(Errc::unsupported_critical_payload, type, at,
                        "unknown payload type " + std::to_string(next) + " with the critical bit set");
        return e;
      }
      payloads.push_back({type, UnknownPayload{next, r.sub(length - 4u)->rest()}});
      next = following;
      continue;
    }
    if (length < minimum_length(type)) {
      return error(Errc::payload_too_short, type, at,
                   "Payload Length " + std::to_string(length) + " below the minimum " +
                       std::to_string(minimum_length(type)));
    }
    Reader body = *r.sub(length - 4u);
    if (type == PayloadType::encrypted_and_authenticated || type == PayloadType::encrypted_fragment) {
      // The chain continues inside the ciphertext (§3.14): nothing may follow.
      if (!r.empty()) {
        return error(Errc::sk_not_last, type, r.offset(),
                     std::to_string(r.remaining()) + " bytes follow the encrypted payload");
      }
      if (type == PayloadType::encrypted_and_authenticated) {
        payloads.push_back({type, Encrypted{static_cast<PayloadType>(following), body.rest()}});
      } else {
        EncryptedFragment f;
        f.number = *body.u16();
        f.total = *body.u16();
        if (f.number == 0 || f.total == 0 || f.number > f.total) {
          return error(Errc::skf_bad_fragment_number, type, at + 4,
                       "Fragment Number " + std::to_string(f.number) + " of Total Fragments " +
                           std::to_string(f.total));
        }
        f.first_inner = static_cast<PayloadType>(following);
        f.data = body.rest();
        payloads.push_back({type, std::move(f)});
      }
      return payloads;
    }
    auto parsed = PayloadParser(type, body, at).parse();
    if (!parsed) return parsed.error();
    payloads.push_back({type, std::move(*parsed)});
    next = following;
  }
  if (!r.empty()) {
    return error(Errc::trailing_data, PayloadType::no_next_payload, r.offset(),
                 std::to_string(r.remaining()) + " bytes after the last payload");
  }
  return payloads;
}

}  // namespace

Expected<ParsedHeader> parse_header(std::span<const std::uint8_t> datagram) {
  Reader r(datagram);
  if (r.remaining() < kHeaderSize) {
    return error(Errc::truncated_header, PayloadType::no_next_payload, 0,
                 "message of " + std::to_string(datagram.size()) + " bytes, the header needs 28");
  }
  ParsedHeader h;
  auto spi_i = *r.bytes(8);
  auto spi_r = *r.bytes(8);
  std::copy(spi_i.begin(), spi_i.end(), h.header.spi_i.begin());
  std::copy(spi_r.begin(), spi_r.end(), h.header.spi_r.begin());
  h.first_payload = static_cast<PayloadType>(*r.u8());
  const std::uint8_t version = *r.u8();
  h.header.major_version = version >> 4;
  h.header.minor_version = version & 0x0f;
  h.header.exchange = static_cast<iana::ExchangeType>(*r.u8());
  const std::uint8_t flags = *r.u8();
  h.header.initiator = (flags & iana::kFlagInitiator) != 0;
  h.header.version = (flags & iana::kFlagVersion) != 0;
  h.header.response = (flags & iana::kFlagResponse) != 0;
  h.header.message_id = *r.u32();
  h.length = *r.u32();
  return h;
}

Expected<Message> parse_message(std::span<const std::uint8_t> datagram) {
  auto h = parse_header(datagram);
  if (!h) return h.error();
  if (h->header.major_version != 2) {
    return error(Errc::invalid_major_version, PayloadType::no_next_payload, 17,
                 "Major Version " + std::to_string(h->header.major_version) + ", this is IKEv2 (2)");
  }
  if (h->length != datagram.size()) {
    return error(Errc::length_mismatch, PayloadType::no_next_payload, 24,
                 "Length " + std::to_string(h->length) + " but the datagram has " + std::to_string(datagram.size()) +
                     " bytes");
  }
  auto payloads = parse_chain(static_cast<std::uint8_t>(h->first_payload),
                              Reader(datagram.subspan(kHeaderSize), kHeaderSize));
  if (!payloads) return payloads.error();
  return Message{h->header, std::move(*payloads)};
}

Expected<std::vector<Payload>> parse_payloads(PayloadType first, std::span<const std::uint8_t> bytes,
                                              std::size_t base_offset) {
  return parse_chain(static_cast<std::uint8_t>(first), Reader(bytes, base_offset));
}

}  // namespace corridor::ike
