// Serialising side of the ISAKMP codec: Next Payload chains, lengths and
// counts are computed from the structure, never taken from the caller.
#include <algorithm>
#include <string>
#include <type_traits>

#include "common/ike/bytes.h"
#include "common/ikev1/message.h"

namespace corridor::ikev1 {

using iana::ikev1::PayloadType;
using ike::Writer;

namespace {

constexpr std::uint16_t kAttributeFormatTv = 0x8000;

Error too_large(std::uint8_t payload, const std::string& what) {
  return Error{Errc::field_too_large, payload, 0, what + " does not fit its length field"};
}

bool write_attributes(Writer& w, const std::vector<Attribute>& attributes) {
  for (const auto& a : attributes) {
    if (a.type > 0x7fff) return false;
    if (a.tv) {
      w.u16(static_cast<std::uint16_t>(a.type | kAttributeFormatTv));
      w.u16(a.value);
    } else {
      if (a.data.size() > 0xffff) return false;
      w.u16(a.type);
      w.u16(static_cast<std::uint16_t>(a.data.size()));
      w.bytes(a.data);
    }
  }
  return true;
}

// Writes a body after a generic header whose Length is patched later.
class BodyWriter {
 public:
  explicit BodyWriter(Writer& w) : w_(w) {}

  Expected<bool> operator()(const SecurityAssociation& sa) {
    w_.u32(sa.doi);
    w_.u32(sa.situation);
    for (std::size_t i = 0; i < sa.proposals.size(); ++i) {
      const auto& p = sa.proposals[i];
      const std::size_t p_start = w_.size();
      w_.u8(i + 1 < sa.proposals.size() ? static_cast<std::uint8_t>(PayloadType::proposal) : 0);
      w_.u8(0);
      w_.u16(0);  // Proposal Length, patched
      w_.u8(p.number);
      w_.u8(static_cast<std::uint8_t>(p.protocol));
      if (p.spi.size() > 0xff || p.transforms.size() > 0xff) return too_large(1, "Proposal SPI or transform count");
      w_.u8(static_cast<std::uint8_t>(p.spi.size()));
      w_.u8(static_cast<std::uint8_t>(p.transforms.size()));
      w_.bytes(p.spi);
      for (std::size_t j = 0; j < p.transforms.size(); ++j) {
        const auto& t = p.transforms[j];
        const std::size_t t_start = w_.size();
        w_.u8(j + 1 < p.transforms.size() ? static_cast<std::uint8_t>(PayloadType::transform) : 0);
        w_.u8(0);
        w_.u16(0);  // Transform Length, patched
        w_.u8(t.number);
        w_.u8(t.id);
        w_.u16(0);
        if (!write_attributes(w_, t.attributes)) return too_large(1, "Transform attribute");
        if (w_.size() - t_start > 0xffff) return too_large(1, "Transform");
        w_.patch_u16(t_start + 2, static_cast<std::uint16_t>(w_.size() - t_start));
      }
      if (w_.size() - p_start > 0xffff) return too_large(1, "Proposal");
      w_.patch_u16(p_start + 2, static_cast<std::uint16_t>(w_.size() - p_start));
    }
    return true;
  }
  Expected<bool> operator()(const KeyExchange& ke) { return raw(ke.data); }
  Expected<bool> operator()(const Identification& id) {
    w_.u8(static_cast<std::uint8_t>(id.id_type));
    w_.u8(id.protocol);
    w_.u16(id.port);
    return raw(id.data);
  }
  Expected<bool> operator()(const Certificate& c) {
    w_.u8(static_cast<std::uint8_t>(c.encoding));
    return raw(c.data);
  }
  Expected<bool> operator()(const CertificateRequest& c) {
    w_.u8(static_cast<std::uint8_t>(c.encoding));
    return raw(c.authority);
  }
  Expected<bool> operator()(const Hash& h) { return raw(h.data); }
  Expected<bool> operator()(const Signature& s) { return raw(s.data); }
  Expected<bool> operator()(const Nonce& n) { return raw(n.data); }
  Expected<bool> operator()(const Notification& n) {
    if (n.spi.size() > 0xff) return too_large(11, "Notification SPI");
    w_.u32(n.doi);
    w_.u8(static_cast<std::uint8_t>(n.protocol));
    w_.u8(static_cast<std::uint8_t>(n.spi.size()));
    w_.u16(static_cast<std::uint16_t>(n.type));
    w_.bytes(n.spi);
    return raw(n.data);
  }
  Expected<bool> operator()(const Delete& d) {
    if (d.spis.size() > 0xffff) return too_large(12, "# of SPIs");
    w_.u32(d.doi);
    w_.u8(static_cast<std::uint8_t>(d.protocol));
    w_.u8(d.spi_size);
    w_.u16(static_cast<std::uint16_t>(d.spis.size()));
    for (const auto& spi : d.spis) {
      if (spi.size() != d.spi_size) {
        return Error{Errc::body_type_mismatch, 12, 0, "Delete SPI of " + std::to_string(spi.size()) +
                                                          " bytes with SPI Size " + std::to_string(d.spi_size)};
      }
      w_.bytes(spi);
    }
    return true;
  }
  Expected<bool> operator()(const VendorId& v) { return raw(v.data); }
  Expected<bool> operator()(const NatDiscovery& n) { return raw(n.hash); }
  Expected<bool> operator()(const NatOriginalAddress& oa) {
    w_.u8(static_cast<std::uint8_t>(oa.id_type));
    w_.zeros(3);
    return raw(oa.address);
  }
  Expected<bool> operator()(const UnknownPayload& u) { return raw(u.data); }

 private:
  Expected<bool> raw(const Bytes& b) {
    w_.bytes(b);
    return true;
  }
  Writer& w_;
};

// The body type each payload type carries.
bool body_matches(PayloadType type, const PayloadBody& body) {
  switch (type) {
    case PayloadType::sa: return std::holds_alternative<SecurityAssociation>(body);
    case PayloadType::key_exchange: return std::holds_alternative<KeyExchange>(body);
    case PayloadType::id: return std::holds_alternative<Identification>(body);
    case PayloadType::cert: return std::holds_alternative<Certificate>(body);
    case PayloadType::cert_request: return std::holds_alternative<CertificateRequest>(body);
    case PayloadType::hash: return std::holds_alternative<Hash>(body);
    case PayloadType::sig: return std::holds_alternative<Signature>(body);
    case PayloadType::nonce: return std::holds_alternative<Nonce>(body);
    case PayloadType::notification: return std::holds_alternative<Notification>(body);
    case PayloadType::delete_: return std::holds_alternative<Delete>(body);
    case PayloadType::vendor_id: return std::holds_alternative<VendorId>(body);
    case PayloadType::nat_d:
    case PayloadType::nat_d_draft: return std::holds_alternative<NatDiscovery>(body);
    case PayloadType::nat_oa:
    case PayloadType::nat_oa_draft: return std::holds_alternative<NatOriginalAddress>(body);
    default: {
      const auto* u = std::get_if<UnknownPayload>(&body);
      return u != nullptr && u->type == static_cast<std::uint8_t>(type) && u->type >= 128;
    }
  }
}

Expected<bool> write_body(Writer& w, const Payload& p) {
  if (!body_matches(p.type, p.body)) {
    return Error{Errc::body_type_mismatch, static_cast<std::uint8_t>(p.type), 0,
                 "payload type " + std::to_string(static_cast<int>(p.type)) + " does not match its body"};
  }
  BodyWriter bw(w);
  return std::visit(bw, p.body);
}

}  // namespace

std::array<std::uint8_t, kHeaderSize> serialise_header(const Header& header, PayloadType first_payload,
                                                       std::uint32_t length) {
  Writer w;
  w.bytes(header.cookie_i);
  w.bytes(header.cookie_r);
  w.u8(static_cast<std::uint8_t>(first_payload));
  w.u8(static_cast<std::uint8_t>((header.major_version << 4) | (header.minor_version & 0x0f)));
  w.u8(static_cast<std::uint8_t>(header.exchange));
  w.u8(header.flags);
  w.u32(header.message_id);
  w.u32(length);
  const auto bytes = w.take();
  std::array<std::uint8_t, kHeaderSize> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

Expected<Bytes> serialise_payloads(std::span<const Payload> payloads) {
  Writer w;
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const std::size_t start = w.size();
    w.u8(i + 1 < payloads.size() ? static_cast<std::uint8_t>(payloads[i + 1].type) : 0);
    w.u8(0);
    w.u16(0);  // Payload Length, patched
    auto ok = write_body(w, payloads[i]);
    if (!ok) return ok.error();
    if (w.size() - start > 0xffff) return too_large(static_cast<std::uint8_t>(payloads[i].type), "payload");
    w.patch_u16(start + 2, static_cast<std::uint16_t>(w.size() - start));
  }
  return w.take();
}

Expected<Bytes> serialise_body(const Payload& payload) {
  Writer w;
  auto ok = write_body(w, payload);
  if (!ok) return ok.error();
  return w.take();
}

Expected<Bytes> serialise_attributes(const std::vector<Attribute>& attributes) {
  Writer w;
  if (!write_attributes(w, attributes)) return too_large(0, "an attribute");
  return w.take();
}

Expected<Bytes> serialise_message(const Message& message) {
  auto body = serialise_payloads(message.payloads);
  if (!body) return body.error();
  const auto first = message.payloads.empty() ? PayloadType::none : message.payloads.front().type;
  const auto header = serialise_header(message.header, first, static_cast<std::uint32_t>(kHeaderSize + body->size()));
  Bytes out(header.begin(), header.end());
  out.insert(out.end(), body->begin(), body->end());
  return out;
}

}  // namespace corridor::ikev1
