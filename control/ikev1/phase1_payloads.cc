#include "control/ikev1/phase1_payloads.h"

#include <algorithm>

#include "control/ike/identity.h"
#include "control/ikev1/fragmentation.h"
#include "control/ikev1/isakmp_sa.h"
#include "control/ikev1/nat_t.h"

namespace corridor::control::ikev1 {

using codec::Payload;
using v1::PayloadType;

bool has_vendor_id(const std::vector<Payload>& payloads, std::span<const std::uint8_t> id) {
  for (const auto& p : payloads) {
    const auto* v = std::get_if<codec::VendorId>(&p.body);
    if (v && v->data.size() == id.size() && std::equal(id.begin(), id.end(), v->data.begin())) return true;
  }
  return false;
}

bool announces_fragmentation(const config::ConnectionConfig& conn) {
  return conn.fragmentation != config::Fragmentation::no;
}

bool has_fragmentation_vendor_id(const std::vector<Payload>& payloads) {
  for (const auto& p : payloads) {
    const auto* v = std::get_if<codec::VendorId>(&p.body);
    if (v && is_fragmentation_vendor_id(v->data)) return true;
  }
  return false;
}

std::vector<Payload> vendor_ids(bool nat_t, bool fragmentation) {
  std::vector<Payload> out;
  if (nat_t) {
    const auto id = rfc3947_vendor_id();
    out.push_back(Payload{PayloadType::vendor_id, codec::VendorId{Bytes(id.begin(), id.end())}});
  }
  const auto dpd = dpd_vendor_id();
  out.push_back(Payload{PayloadType::vendor_id, codec::VendorId{Bytes(dpd.begin(), dpd.end())}});
  if (fragmentation) {
    const auto frag = fragmentation_vendor_id();
    out.push_back(Payload{PayloadType::vendor_id, codec::VendorId{Bytes(frag.begin(), frag.end())}});
  }
  return out;
}

std::uint32_t phase1_lifetime(const config::ConnectionConfig& conn) {
  const auto soft = std::max(conn.rekey_time, conn.reauth_time);
  return static_cast<std::uint32_t>((soft + conn.over_time).count());
}

std::optional<config::Identity> identity_of(const codec::Identification& id, std::string* why) {
  corridor::ike::Identification v2;
  v2.id_type = static_cast<iana::IdType>(id.id_type);
  v2.data = id.data;
  return ike::from_wire(v2, why);
}

std::optional<codec::Identification> wire_identity(const config::Identity& id, std::string* why) {
  auto v2 = ike::to_wire(id, why);
  if (!v2) return std::nullopt;
  codec::Identification out;
  out.id_type = static_cast<v1::IdType>(v2->id_type);
  out.data = v2->data;
  return out;
}

}  // namespace corridor::control::ikev1
