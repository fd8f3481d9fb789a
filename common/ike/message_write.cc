// Serialising side of the IKEv2 codec: Next Payload chain, lengths, counts
// and "last/more" markers are computed from the structure; reserved fields
// and the critical bit of known payloads are written as zero (RFC 7296 §3.2).
#include <limits>
#include <string>
#include <type_traits>

#include "common/ike/bytes.h"
#include "common/ike/message.h"

namespace corridor::ike {

using iana::PayloadType;

namespace {

Error fail(Errc code, PayloadType type, std::size_t offset, const std::string& what) {
  return Error{code, type, offset,
               std::string(iana::payload_type_name(type)) + " payload at offset " + std::to_string(offset) + ": " + what};
}

template <typename Body>
bool body_fits(PayloadType type) {
  switch (type) {
    case PayloadType::security_association: return std::is_same_v<Body, SecurityAssociation>;
    case PayloadType::key_exchange: return std::is_same_v<Body, KeyExchange>;
    case PayloadType::identification_initiator:
    case PayloadType::identification_responder: return std::is_same_v<Body, Identification>;
    case PayloadType::certificate: return std::is_same_v<Body, Certificate>;
    case PayloadType::certificate_request: return std::is_same_v<Body, CertificateRequest>;
    case PayloadType::authentication: return std::is_same_v<Body, Authentication>;
    case PayloadType::nonce: return std::is_same_v<Body, Nonce>;
    case PayloadType::notify: return std::is_same_v<Body, Notify>;
    case PayloadType::delete_: return std::is_same_v<Body, Delete>;
    case PayloadType::vendor_id: return std::is_same_v<Body, VendorId>;
    case PayloadType::traffic_selector_initiator:
    case PayloadType::traffic_selector_responder: return std::is_same_v<Body, TrafficSelectors>;
    case PayloadType::encrypted_and_authenticated: return std::is_same_v<Body, Encrypted>;
    case PayloadType::encrypted_fragment: return std::is_same_v<Body, EncryptedFragment>;
    case PayloadType::configuration: return std::is_same_v<Body, Configuration>;
    case PayloadType::extensible_authentication: return std::is_same_v<Body, Eap>;
    default: return std::is_same_v<Body, UnknownPayload>;
  }
}

class BodyWriter {
 public:
  explicit BodyWriter(Writer& w) : w_(w) {}

  // Returns false if a count or length does not fit its field.
  bool operator()(const SecurityAssociation& sa) {
    for (std::size_t i = 0; i < sa.proposals.size(); ++i) {
      const Proposal& p = sa.proposals[i];
      if (p.spi.size() > 255 || p.transforms.size() > 255) return false;
      const std::size_t p_at = w_.size();
      w_.u8(i + 1 == sa.proposals.size() ? 0 : 2);
      w_.u8(0);
      w_.u16(0);
      w_.u8(p.number);
      w_.u8(static_cast<std::uint8_t>(p.protocol));
      w_.u8(static_cast<std::uint8_t>(p.spi.size()));
      w_.u8(static_cast<std::uint8_t>(p.transforms.size()));
      w_.bytes(p.spi);
      for (std::size_t j = 0; j < p.transforms.size(); ++j) {
        const Transform& t = p.transforms[j];
        const std::size_t t_at = w_.size();
        w_.u8(j + 1 == p.transforms.size() ? 0 : 3);
        w_.u8(0);
        w_.u16(0);
        w_.u8(static_cast<std::uint8_t>(t.type));
        w_.u8(0);
        w_.u16(t.id);
        for (const TransformAttribute& a : t.attributes) {
          if (a.type > 0x7fff) return false;
          if (a.tv) {
            w_.u16(static_cast<std::uint16_t>(0x8000 | a.type));
            w_.u16(a.value);
          } else {
            if (a.data.size() > 0xffff) return false;
            w_.u16(a.type);
            w_.u16(static_cast<std::uint16_t>(a.data.size()));
            w_.bytes(a.data);
          }
        }
        if (!patch_length(t_at)) return false;
      }
      if (!patch_length(p_at)) return false;
    }
    return true;
  }
  bool operator()(const KeyExchange& ke) {
    w_.u16(ke.group);
    w_.u16(0);
    w_.bytes(ke.data);
    return true;
  }
  bool operator()(const Identification& id) {
    w_.u8(static_cast<std::uint8_t>(id.id_type));
    w_.zeros(3);
    w_.bytes(id.data);
    return true;
  }
  bool operator()(const Certificate& c) {
    w_.u8(static_cast<std::uint8_t>(c.encoding));
    w_.bytes(c.data);
    return true;
  }
  bool operator()(const CertificateRequest& c) {
    w_.u8(static_cast<std::uint8_t>(c.encoding));
    w_.bytes(c.authority);
    return true;
  }
  bool operator()(const Authentication& a) {
    w_.u8(static_cast<std::uint8_t>(a.method));
    w_.zeros(3);
    w_.bytes(a.data);
    return true;
  }
  bool operator()(const Nonce& n) {
    w_.bytes(n.data);
    return true;
  }
  bool operator()(const Notify& n) {
    if (n.spi.size() > 255) return false;
    w_.u8(static_cast<std::uint8_t>(n.protocol));
    w_.u8(static_cast<std::uint8_t>(n.spi.size()));
    w_.u16(static_cast<std::uint16_t>(n.type));
    w_.bytes(n.spi);
    w_.bytes(n.data);
    return true;
  }
  bool operator()(const Delete& d) {
    if (d.spis.size() > 0xffff) return false;
    w_.u8(static_cast<std::uint8_t>(d.protocol));
    w_.u8(d.protocol == iana::ProtocolId::ike ? 0 : 4);
    w_.u16(static_cast<std::uint16_t>(d.spis.size()));
    for (std::uint32_t spi : d.spis) w_.u32(spi);
    return true;
  }
  bool operator()(const VendorId& v) {
    w_.bytes(v.data);
    return true;
  }
  bool operator()(const TrafficSelectors& ts) {
    if (ts.selectors.size() > 255) return false;
    w_.u8(static_cast<std::uint8_t>(ts.selectors.size()));
    w_.zeros(3);
    for (const TrafficSelector& s : ts.selectors) {
      if (s.start_address.size() > 0xfff0 || s.end_address.size() > 0xfff0) return false;
      w_.u8(static_cast<std::uint8_t>(s.type));
      w_.u8(s.ip_protocol);
      w_.u16(static_cast<std::uint16_t>(8 + s.start_address.size() + s.end_address.size()));
      w_.u16(s.start_port);
      w_.u16(s.end_port);
      w_.bytes(s.start_address);
      w_.bytes(s.end_address);
    }
    return true;
  }
  bool operator()(const Encrypted& e) {
    w_.bytes(e.data);
    return true;
  }
  bool operator()(const EncryptedFragment& f) {
    w_.u16(f.number);
    w_.u16(f.total);
    w_.bytes(f.data);
    return true;
  }
  bool operator()(const Configuration& c) {
    w_.u8(c.cfg_type);
    w_.zeros(3);
    w_.bytes(c.attributes);
    return true;
  }
  bool operator()(const Eap& e) {
    w_.bytes(e.message);
    return true;
  }
  bool operator()(const UnknownPayload& u) {
    w_.bytes(u.data);
    return true;
  }

 private:
  // Writes the length of the structure starting at `at` into its bytes 2..3.
  bool patch_length(std::size_t at) {
    const std::size_t length = w_.size() - at;
    if (length > 0xffff) return false;
    w_.patch_u16(at + 2, static_cast<std::uint16_t>(length));
    return true;
  }
  Writer& w_;
};

std::uint8_t next_type(const Payload& p) {
  if (const auto* u = std::get_if<UnknownPayload>(&p.body)) return u->type;
  return static_cast<std::uint8_t>(p.type);
}

std::uint8_t inner_type(const Payload& p) {
  if (const auto* e = std::get_if<Encrypted>(&p.body)) return static_cast<std::uint8_t>(e->first_inner);
  if (const auto* f = std::get_if<EncryptedFragment>(&p.body)) return static_cast<std::uint8_t>(f->first_inner);
  return 0;
}

Expected<std::monostate> write_chain(Writer& w, std::span<const Payload> payloads) {
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const Payload& p = payloads[i];
    const std::size_t at = w.size();
    const bool fits = std::visit([&](const auto& body) { return body_fits<std::decay_t<decltype(body)>>(p.type); },
                                 p.body);
    if (!fits) return fail(Errc::body_type_mismatch, p.type, at, "body does not match the payload type");
    const bool encrypted = std::holds_alternative<Encrypted>(p.body) || std::holds_alternative<EncryptedFragment>(p.body);
    if (encrypted && i + 1 != payloads.size()) {
      return fail(Errc::sk_not_last, p.type, at, "the encrypted payload must be the last one");
    }
    w.u8(encrypted ? inner_type(p) : (i + 1 < payloads.size() ? next_type(payloads[i + 1]) : 0));
    w.u8(0);  // critical bit and RESERVED: zero for the types this codec knows
    w.u16(0);
    if (!std::visit(BodyWriter(w), p.body)) return fail(Errc::field_too_large, p.type, at, "a field overflows");
    const std::size_t length = w.size() - at;
    if (length > 0xffff) return fail(Errc::field_too_large, p.type, at, "payload longer than 65535 bytes");
    w.patch_u16(at + 2, static_cast<std::uint16_t>(length));
  }
  return std::monostate{};
}

}  // namespace

Expected<Bytes> serialise_payloads(std::span<const Payload> payloads) {
  Writer w;
  auto ok = write_chain(w, payloads);
  if (!ok) return ok.error();
  return w.take();
}

Expected<Bytes> serialise_message(const Message& message) {
  const Header& h = message.header;
  Writer w;
  w.bytes(h.spi_i);
  w.bytes(h.spi_r);
  w.u8(message.payloads.empty() ? 0 : next_type(message.payloads.front()));
  w.u8(static_cast<std::uint8_t>((h.major_version << 4) | (h.minor_version & 0x0f)));
  w.u8(static_cast<std::uint8_t>(h.exchange));
  w.u8(static_cast<std::uint8_t>((h.initiator ? iana::kFlagInitiator : 0) | (h.version ? iana::kFlagVersion : 0) |
                                 (h.response ? iana::kFlagResponse : 0)));
  w.u32(h.message_id);
  w.u32(0);
  auto ok = write_chain(w, message.payloads);
  if (!ok) return ok.error();
  w.patch_u32(24, static_cast<std::uint32_t>(w.size()));
  return w.take();
}

}  // namespace corridor::ike
