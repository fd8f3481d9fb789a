// Parsing side of the ISAKMP codec (RFC 2408 §3, RFC 2407 §4.6, RFC 3947).
#include <string>
#include <utility>

#include "common/ike/bytes.h"
#include "common/ikev1/message.h"

namespace corridor::ikev1 {

using iana::ikev1::PayloadType;
using ike::Reader;

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::truncated_header: return "truncated_header";
    case Errc::invalid_major_version: return "invalid_major_version";
    case Errc::length_mismatch: return "length_mismatch";
    case Errc::truncated_payload_header: return "truncated_payload_header";
    case Errc::payload_overrun: return "payload_overrun";
    case Errc::payload_too_short: return "payload_too_short";
    case Errc::trailing_data: return "trailing_data";
    case Errc::invalid_payload_type: return "invalid_payload_type";
    case Errc::doi_not_supported: return "doi_not_supported";
    case Errc::situation_not_supported: return "situation_not_supported";
    case Errc::sa_without_proposal: return "sa_without_proposal";
    case Errc::proposal_bad_next: return "proposal_bad_next";
    case Errc::proposal_bad_length: return "proposal_bad_length";
    case Errc::proposal_bad_number: return "proposal_bad_number";
    case Errc::proposal_bad_protocol: return "proposal_bad_protocol";
    case Errc::proposal_bad_spi_size: return "proposal_bad_spi_size";
    case Errc::proposal_bad_transform_count: return "proposal_bad_transform_count";
    case Errc::transform_bad_next: return "transform_bad_next";
    case Errc::transform_bad_length: return "transform_bad_length";
    case Errc::attribute_bad_length: return "attribute_bad_length";
    case Errc::nonce_bad_size: return "nonce_bad_size";
    case Errc::id_bad_length: return "id_bad_length";
    case Errc::notify_bad_spi_size: return "notify_bad_spi_size";
    case Errc::delete_bad_length: return "delete_bad_length";
    case Errc::nat_oa_bad_length: return "nat_oa_bad_length";
    case Errc::encrypted_message: return "encrypted_message";
    case Errc::body_type_mismatch: return "body_type_mismatch";
    case Errc::field_too_large: return "field_too_large";
  }
  return "unknown";
}

iana::ikev1::NotifyType notify_for(const Error& error) {
  switch (error.code) {
    case Errc::invalid_payload_type: return iana::ikev1::NotifyType::invalid_payload_type;
    case Errc::invalid_major_version: return iana::ikev1::NotifyType::invalid_major_version;
    case Errc::doi_not_supported: return iana::ikev1::NotifyType::doi_not_supported;
    case Errc::situation_not_supported: return iana::ikev1::NotifyType::situation_not_supported;
    case Errc::sa_without_proposal:
    case Errc::proposal_bad_next:
    case Errc::proposal_bad_length:
    case Errc::proposal_bad_number:
    case Errc::proposal_bad_protocol:
    case Errc::proposal_bad_spi_size:
    case Errc::proposal_bad_transform_count:
    case Errc::transform_bad_next:
    case Errc::transform_bad_length:
    case Errc::attribute_bad_length: return iana::ikev1::NotifyType::bad_proposal_syntax;
    default: return iana::ikev1::NotifyType::payload_malformed;
  }
}

std::optional<std::uint64_t> Attribute::integer() const {
  if (tv) return value;
  if (data.empty() || data.size() > 8) return std::nullopt;
  std::uint64_t v = 0;
  for (auto b : data) v = (v << 8) | b;
  return v;
}

Attribute make_attribute(std::uint16_t type, std::uint64_t value) {
  Attribute a;
  a.type = type;
  if (value <= 0xffff) {
    a.value = static_cast<std::uint16_t>(value);
    return a;
  }
  a.tv = false;
  const std::size_t n = value <= 0xffffffffULL ? 4 : 8;
  for (std::size_t i = 0; i < n; ++i) a.data.push_back(static_cast<std::uint8_t>(value >> (8 * (n - 1 - i))));
  return a;
}

const Attribute* Transform::find(std::uint16_t type) const {
  for (const auto& a : attributes) {
    if (a.type == type) return &a;
  }
  return nullptr;
}

namespace {

constexpr std::uint16_t kAttributeFormatTv = 0x8000;  // AF bit, RFC 2408 §3.3

std::string payload_name(std::uint8_t type) {
  if (type == 0) return "ISAKMP header";
  const auto name = iana::ikev1::payload_type_name(static_cast<PayloadType>(type));
  if (name == "UNKNOWN") return "payload type " + std::to_string(type);
  return std::string(name) + " payload";
}

Error error(Errc code, std::uint8_t payload, std::size_t offset, const std::string& what) {
  return Error{code, payload, offset, payload_name(payload) + " at offset " + std::to_string(offset) + ": " + what};
}

// Data attributes (RFC 2408 §3.3) up to the end of `r`; the first problem
// (code, absolute offset, what) otherwise.
struct AttributeError {
  Errc code;
  std::size_t offset;
  std::string message;
};
std::optional<AttributeError> read_attributes(ike::Reader& r, std::vector<Attribute>& out, const char* container) {
  while (!r.empty()) {
    const std::size_t a_at = r.offset();
    auto type = r.u16();
    auto value = r.u16();
    if (!type || !value) return AttributeError{Errc::attribute_bad_length, a_at, "attribute truncated"};
    Attribute a;
    a.type = static_cast<std::uint16_t>(*type & ~kAttributeFormatTv);
    a.tv = (*type & kAttributeFormatTv) != 0;
    if (a.tv) {
      a.value = *value;
    } else {
      auto data = r.bytes(*value);
      if (!data) {
        return AttributeError{Errc::attribute_bad_length, a_at,
                              "attribute " + std::to_string(a.type) + " of " + std::to_string(*value) +
                                  " bytes runs past " + container};
      }
      a.data.assign(data->begin(), data->end());
    }
    out.push_back(std::move(a));
  }
  return std::nullopt;
}

// Payload types a chain may carry (P and T only inside an SA).
bool chain_type_known(std::uint8_t t) {
  switch (static_cast<PayloadType>(t)) {
    case PayloadType::sa:
    case PayloadType::key_exchange:
    case PayloadType::id:
    case PayloadType::cert:
    case PayloadType::cert_request:
    case PayloadType::hash:
    case PayloadType::sig:
    case PayloadType::nonce:
    case PayloadType::notification:
    case PayloadType::delete_:
    case PayloadType::vendor_id:
    case PayloadType::nat_d:
    case PayloadType::nat_oa:
    case PayloadType::nat_d_draft:
    case PayloadType::nat_oa_draft:
      return true;
    default:
      return false;
  }
}

// RFC 2408 §3.1: 128-255 are for private use; such payloads are kept as
// UnknownPayload. Reserved numbers (14-19, 22-127) and P/T at the top level
// are INVALID-PAYLOAD-TYPE.
bool private_use(std::uint8_t t) { return t >= 128; }

// Smallest body (after the generic header) of each type.
std::size_t minimum_body(PayloadType t) {
  switch (t) {
    case PayloadType::sa: return 8;             // DOI, Situation
    case PayloadType::id: return 4;             // type, protocol, port
    case PayloadType::cert:
    case PayloadType::cert_request: return 1;   // encoding
    case PayloadType::notification: return 8;   // DOI, protocol, SPI size, type
    case PayloadType::delete_: return 8;        // DOI, protocol, SPI size, count
    case PayloadType::nat_oa:
    case PayloadType::nat_oa_draft: return 4;   // ID type, reserved
    default: return 0;
  }
}

std::size_t id_address_size(iana::ikev1::IdType type) {
  switch (type) {
    case iana::ikev1::IdType::ipv4_addr: return 4;
    case iana::ikev1::IdType::ipv6_addr: return 16;
    case iana::ikev1::IdType::ipv4_addr_subnet:
    case iana::ikev1::IdType::ipv4_addr_range: return 8;
    case iana::ikev1::IdType::ipv6_addr_subnet:
    case iana::ikev1::IdType::ipv6_addr_range: return 32;
    default: return 0;  // names: any length
  }
}

class BodyParser {
 public:
  BodyParser(std::uint8_t type, Reader body, std::size_t payload_offset)
      : type_(type), r_(body), at_(payload_offset) {}

  Expected<PayloadBody> parse() {
    switch (static_cast<PayloadType>(type_)) {
      case PayloadType::sa: return security_association();
      case PayloadType::key_exchange: return PayloadBody(KeyExchange{r_.rest()});
      case PayloadType::id: return identification();
      case PayloadType::cert: {
        Certificate c;
        c.encoding = static_cast<iana::ikev1::CertEncoding>(*r_.u8());
        c.data = r_.rest();
        return PayloadBody(std::move(c));
      }
      case PayloadType::cert_request: {
        CertificateRequest c;
        c.encoding = static_cast<iana::ikev1::CertEncoding>(*r_.u8());
        c.authority = r_.rest();
        return PayloadBody(std::move(c));
      }
      case PayloadType::hash: return PayloadBody(Hash{r_.rest()});
      case PayloadType::sig: return PayloadBody(Signature{r_.rest()});
      case PayloadType::nonce: {
        if (r_.remaining() < kMinNonceSize || r_.remaining() > kMaxNonceSize) {
          return fail(Errc::nonce_bad_size, at_, "nonce of " + std::to_string(r_.remaining()) +
                                                     " bytes, RFC 2409 §5 allows 8..256");
        }
        return PayloadBody(Nonce{r_.rest()});
      }
      case PayloadType::notification: return notification();
      case PayloadType::delete_: return delete_payload();
      case PayloadType::vendor_id: return PayloadBody(VendorId{r_.rest()});
      case PayloadType::nat_d:
      case PayloadType::nat_d_draft: return PayloadBody(NatDiscovery{r_.rest()});
      case PayloadType::nat_oa:
      case PayloadType::nat_oa_draft: return nat_oa();
      default: break;
    }
    return PayloadBody(UnknownPayload{type_, r_.rest()});
  }

 private:
  Error fail(Errc code, std::size_t offset, const std::string& what) const { return error(code, type_, offset, what); }

  Expected<PayloadBody> identification() {
    Identification id;
    id.id_type = static_cast<iana::ikev1::IdType>(*r_.u8());
    id.protocol = *r_.u8();
    id.port = *r_.u16();
    const std::size_t want = id_address_size(id.id_type);
    if (want != 0 && r_.remaining() != want) {
      return fail(Errc::id_bad_length, r_.offset(), "ID type " + std::to_string(static_cast<int>(id.id_type)) +
                                                        " needs " + std::to_string(want) + " bytes of data, got " +
                                                        std::to_string(r_.remaining()));
    }
    id.data = r_.rest();
    return PayloadBody(std::move(id));
  }

  Expected<PayloadBody> notification() {
    Notification n;
    n.doi = *r_.u32();
    n.protocol = static_cast<iana::ikev1::ProtocolId>(*r_.u8());
    const std::size_t spi_at = r_.offset();
    const std::uint8_t spi_size = *r_.u8();
    n.type = static_cast<iana::ikev1::NotifyType>(*r_.u16());
    auto spi = r_.bytes(spi_size);
    if (!spi) {
      return fail(Errc::notify_bad_spi_size, spi_at,
                  "SPI Size " + std::to_string(spi_size) + " runs past the payload");
    }
    n.spi.assign(spi->begin(), spi->end());
    n.data = r_.rest();
    return PayloadBody(std::move(n));
  }

  Expected<PayloadBody> delete_payload() {
    Delete d;
    d.doi = *r_.u32();
    d.protocol = static_cast<iana::ikev1::ProtocolId>(*r_.u8());
    const std::size_t at = r_.offset();
    d.spi_size = *r_.u8();
    const std::uint16_t count = *r_.u16();
    if (d.spi_size == 0 || static_cast<std::size_t>(count) * d.spi_size != r_.remaining()) {
      return fail(Errc::delete_bad_length, at,
                  std::to_string(count) + " SPIs of " + std::to_string(d.spi_size) + " bytes in " +
                      std::to_string(r_.remaining()) + " bytes");
    }
    for (std::uint16_t i = 0; i < count; ++i) {
      auto spi = r_.bytes(d.spi_size);
      d.spis.emplace_back(spi->begin(), spi->end());
    }
    return PayloadBody(std::move(d));
  }

  Expected<PayloadBody> nat_oa() {
    NatOriginalAddress oa;
    oa.id_type = static_cast<iana::ikev1::IdType>(*r_.u8());
    r_.skip(3);
    const std::size_t want = oa.id_type == iana::ikev1::IdType::ipv4_addr   ? 4
                             : oa.id_type == iana::ikev1::IdType::ipv6_addr ? 16
                                                                     : 0;
    if (want == 0 || r_.remaining() != want) {
      return fail(Errc::nat_oa_bad_length, at_, "NAT-OA needs an IPV4_ADDR (4 bytes) or IPV6_ADDR (16 bytes)");
    }
    oa.address = r_.rest();
    return PayloadBody(std::move(oa));
  }

  Expected<PayloadBody> security_association() {
    SecurityAssociation sa;
    sa.doi = *r_.u32();
    if (sa.doi != iana::ikev1::kDoiIpsec) {
      return fail(Errc::doi_not_supported, at_ + 4, "DOI " + std::to_string(sa.doi) + " is not IPsec (1)");
    }
    sa.situation = *r_.u32();
    if (sa.situation != iana::ikev1::kSituationIdentityOnly) {
      return fail(Errc::situation_not_supported, at_ + 8,
                  "Situation " + std::to_string(sa.situation) + " is not SIT_IDENTITY_ONLY");
    }
    if (r_.empty()) return fail(Errc::sa_without_proposal, r_.offset(), "no Proposal payload");
    std::uint8_t next = static_cast<std::uint8_t>(PayloadType::proposal);
    while (next != 0) {
      const std::size_t p_at = r_.offset();
      if (r_.remaining() < 8) return fail(Errc::proposal_bad_length, p_at, "Proposal payload truncated");
      next = *r_.u8();
      if (next != 0 && next != static_cast<std::uint8_t>(PayloadType::proposal)) {
        return fail(Errc::proposal_bad_next, p_at, "Proposal followed by payload type " + std::to_string(next));
      }
      r_.skip(1);
      const std::uint16_t length = *r_.u16();
      if (length < 8 || length - 4u > r_.remaining()) {
        return fail(Errc::proposal_bad_length, p_at, "Proposal Length " + std::to_string(length));
      }
      auto body = r_.sub(length - 4u);
      auto proposal = parse_proposal(*body, p_at);
      if (!proposal) return proposal.error();
      if (!sa.proposals.empty() && proposal->number < sa.proposals.back().number) {
        return fail(Errc::proposal_bad_number, p_at,
                    "Proposal #" + std::to_string(proposal->number) + " after #" +
                        std::to_string(sa.proposals.back().number));
      }
      sa.proposals.push_back(std::move(*proposal));
    }
    if (!r_.empty()) {
      return fail(Errc::proposal_bad_length, r_.offset(), std::to_string(r_.remaining()) +
                                                              " bytes after the last Proposal");
    }
    return PayloadBody(std::move(sa));
  }

  Expected<Proposal> parse_proposal(Reader& r, std::size_t p_at) {
    Proposal p;
    p.number = *r.u8();
    const auto protocol = *r.u8();
    p.protocol = static_cast<iana::ikev1::ProtocolId>(protocol);
    const std::uint8_t spi_size = *r.u8();
    const std::uint8_t count = *r.u8();
    bool spi_ok = false;
    switch (p.protocol) {
      case iana::ikev1::ProtocolId::isakmp: spi_ok = spi_size == 0 || spi_size == 16; break;
      case iana::ikev1::ProtocolId::ah:
      case iana::ikev1::ProtocolId::esp: spi_ok = spi_size == 4; break;
      case iana::ikev1::ProtocolId::ipcomp: spi_ok = spi_size == 2 || spi_size == 4; break;
      default:
        return fail(Errc::proposal_bad_protocol, p_at + 5, "Protocol-Id " + std::to_string(protocol));
    }
    if (!spi_ok) {
      return fail(Errc::proposal_bad_spi_size, p_at + 6,
                  "SPI Size " + std::to_string(spi_size) + " for " +
                      std::string(iana::ikev1::protocol_name(p.protocol)));
    }
    auto spi = r.bytes(spi_size);
    if (!spi) return fail(Errc::proposal_bad_length, p_at, "SPI runs past the Proposal");
    p.spi.assign(spi->begin(), spi->end());
    if (count == 0) return fail(Errc::proposal_bad_transform_count, p_at + 7, "no Transform payload");
    std::uint8_t next = 0;
    do {
      const std::size_t t_at = r.offset();
      if (r.remaining() < 8) return fail(Errc::transform_bad_length, t_at, "Transform payload truncated");
      next = *r.u8();
      if (next != 0 && next != static_cast<std::uint8_t>(PayloadType::transform)) {
        return fail(Errc::transform_bad_next, t_at, "Transform followed by payload type " + std::to_string(next));
      }
      r.skip(1);
      const std::uint16_t length = *r.u16();
      if (length < 8 || length - 4u > r.remaining()) {
        return fail(Errc::transform_bad_length, t_at, "Transform Length " + std::to_string(length));
      }
      auto body = r.sub(length - 4u);
      Transform t;
      t.number = *body->u8();
      t.id = *body->u8();
      body->skip(2);
      if (auto e = read_attributes(*body, t.attributes, "its Transform")) return fail(e->code, e->offset, e->message);
      p.transforms.push_back(std::move(t));
    } while (next != 0);
    if (p.transforms.size() != count || !r.empty()) {
      return fail(Errc::proposal_bad_transform_count, p_at + 7,
                  "# of Transforms " + std::to_string(count) + " but " + std::to_string(p.transforms.size()) +
                      " Transform payloads" + (r.empty() ? "" : " and trailing bytes"));
    }
    return p;
  }

  std::uint8_t type_;
  Reader r_;
  std::size_t at_;
};

}  // namespace

Expected<std::vector<Attribute>> parse_attributes(std::span<const std::uint8_t> bytes) {
  ike::Reader r(bytes);
  std::vector<Attribute> out;
  if (auto e = read_attributes(r, out, "the attribute list")) {
    return Error{e->code, 0, e->offset, "attribute list at offset " + std::to_string(e->offset) + ": " + e->message};
  }
  return out;
}

Expected<ParsedHeader> parse_header(std::span<const std::uint8_t> datagram) {
  if (datagram.size() < kHeaderSize) {
    return error(Errc::truncated_header, 0, 0, std::to_string(datagram.size()) + " bytes, the header needs 28");
  }
  Reader r(datagram);
  ParsedHeader out;
  for (auto& b : out.header.cookie_i) b = *r.u8();
  for (auto& b : out.header.cookie_r) b = *r.u8();
  out.first_payload = static_cast<PayloadType>(*r.u8());
  const std::uint8_t version = *r.u8();
  out.header.major_version = version >> 4;
  out.header.minor_version = version & 0x0f;
  if (out.header.major_version != 1) {
    return error(Errc::invalid_major_version, 0, 17,
                 "Major Version " + std::to_string(out.header.major_version) + ", IKEv1 is 1");
  }
  out.header.exchange = static_cast<iana::ikev1::ExchangeType>(*r.u8());
  out.header.flags = *r.u8();
  out.header.message_id = *r.u32();
  out.length = *r.u32();
  if (out.length != datagram.size()) {
    return error(Errc::length_mismatch, 0, 24,
                 "Length " + std::to_string(out.length) + " but the datagram has " +
                     std::to_string(datagram.size()) + " bytes");
  }
  return out;
}

Expected<std::vector<PayloadSpan>> walk_payloads(PayloadType first, std::span<const std::uint8_t> bytes, bool padded,
                                                 std::size_t base_offset) {
  std::vector<PayloadSpan> spans;
  Reader r(bytes, base_offset);
  auto type = static_cast<std::uint8_t>(first);
  while (type != 0) {
    const std::size_t at = r.offset();
    if (!chain_type_known(type) && !private_use(type)) {
      return error(Errc::invalid_payload_type, type, at,
                   "payload type " + std::to_string(type) + " is reserved or not allowed here");
    }
    if (r.remaining() < kGenericPayloadHeaderSize) {
      return error(Errc::truncated_payload_header, type, at,
                   std::to_string(r.remaining()) + " bytes left for a 4-byte generic header");
    }
    const std::uint8_t next = *r.u8();
    r.skip(1);  // RESERVED: ignored on receipt
    const std::uint16_t length = *r.u16();
    const std::size_t min = kGenericPayloadHeaderSize + minimum_body(static_cast<PayloadType>(type));
    if (length < min) {
      return error(Errc::payload_too_short, type, at,
                   "Payload Length " + std::to_string(length) + ", at least " + std::to_string(min));
    }
    if (length - kGenericPayloadHeaderSize > r.remaining()) {
      return error(Errc::payload_overrun, type, at,
                   "Payload Length " + std::to_string(length) + " runs past the message");
    }
    r.skip(length - kGenericPayloadHeaderSize);
    spans.push_back(PayloadSpan{static_cast<PayloadType>(type), at - base_offset, length});
    type = next;
  }
  if (!r.empty() && !padded) {
    return error(Errc::trailing_data, 0, r.offset(), std::to_string(r.remaining()) + " bytes after the last payload");
  }
  return spans;
}

Expected<std::vector<Payload>> parse_payloads(PayloadType first, std::span<const std::uint8_t> bytes, bool padded,
                                              std::size_t base_offset) {
  auto spans = walk_payloads(first, bytes, padded, base_offset);
  if (!spans) return spans.error();
  std::vector<Payload> out;
  out.reserve(spans->size());
  for (const auto& s : *spans) {
    const auto at = base_offset + s.offset;
    BodyParser parser(static_cast<std::uint8_t>(s.type), Reader(s.body(bytes), at + kGenericPayloadHeaderSize), at);
    auto body = parser.parse();
    if (!body) return body.error();
    out.push_back(Payload{s.type, std::move(*body)});
  }
  return out;
}

Expected<Message> parse_message(std::span<const std::uint8_t> datagram) {
  auto header = parse_header(datagram);
  if (!header) return header.error();
  if (header->header.encrypted()) {
    return error(Errc::encrypted_message, 0, 19, "the E flag is set: decrypt before parsing the payloads");
  }
  auto payloads = parse_payloads(header->first_payload, datagram.subspan(kHeaderSize), false);
  if (!payloads) return payloads.error();
  return Message{header->header, std::move(*payloads)};
}

}  // namespace corridor::ikev1
