#include "control/ikev1/proxy_id.h"

#include <algorithm>

namespace corridor::control::ikev1 {

namespace v1 = iana::ikev1;
namespace codec = corridor::ikev1;

namespace {

codec::Bytes address_bytes(const net::IpAddress& a) {
  const auto& b = a.bytes();
  return codec::Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(a.byte_length()));
}

std::optional<net::IpAddress> address_from(std::span<const std::uint8_t> b) {
  if (b.size() == 4) return net::IpAddress::from_bytes(net::Family::ipv4, b.data());
  if (b.size() == 16) return net::IpAddress::from_bytes(net::Family::ipv6, b.data());
  return std::nullopt;
}

}  // namespace

net::TrafficSelector host_selector(const net::IpAddress& address) {
  net::TrafficSelector ts;
  ts.start = address;
  ts.end = address;
  return ts;
}

codec::Identification to_proxy_id(const net::TrafficSelector& ts) {
  codec::Identification id;
  const bool v4 = ts.start.is_v4();
  id.protocol = ts.protocol;
  id.port = ts.port_start == ts.port_end ? ts.port_start : 0;
  if (ts.start == ts.end) {
    id.id_type = v4 ? v1::IdType::ipv4_addr : v1::IdType::ipv6_addr;
    id.data = address_bytes(ts.start);
  } else if (const auto prefix = ts.as_prefix()) {
    id.id_type = v4 ? v1::IdType::ipv4_addr_subnet : v1::IdType::ipv6_addr_subnet;
    id.data = address_bytes(prefix->address);
    codec::Bytes mask(ts.start.byte_length(), 0);
    for (unsigned bit = 0; bit < prefix->length; ++bit) mask[bit / 8] |= static_cast<std::uint8_t>(0x80 >> (bit % 8));
    id.data.insert(id.data.end(), mask.begin(), mask.end());
  } else {
    id.id_type = v4 ? v1::IdType::ipv4_addr_range : v1::IdType::ipv6_addr_range;
    id.data = address_bytes(ts.start);
    const auto end = address_bytes(ts.end);
    id.data.insert(id.data.end(), end.begin(), end.end());
  }
  return id;
}

std::optional<net::TrafficSelector> from_proxy_id(const codec::Identification& id, std::string* why) {
  net::TrafficSelector ts;
  ts.protocol = id.protocol;
  ts.port_start = id.port;
  ts.port_end = id.port == 0 ? 65535 : id.port;
  const std::span<const std::uint8_t> d(id.data);
  const std::size_t half = d.size() / 2;
  switch (id.id_type) {
    case v1::IdType::ipv4_addr:
    case v1::IdType::ipv6_addr: {
      auto a = address_from(d);
      if (!a) break;
      ts.start = ts.end = *a;
      return ts;
    }
    case v1::IdType::ipv4_addr_subnet:
    case v1::IdType::ipv6_addr_subnet: {
      auto a = address_from(d.first(half));
      auto m = address_from(d.subspan(half));
      if (!a || !m) break;
      // The mask must be contiguous ones: its length is its leading ones.
      unsigned length = 0;
      bool zero_seen = false, contiguous = true;
      for (auto byte : d.subspan(half)) {
        for (int bit = 7; bit >= 0; --bit) {
          const bool one = (byte >> bit) & 1;
          if (one && zero_seen) contiguous = false;
          if (one) ++length;
          else zero_seen = true;
        }
      }
      if (!contiguous) {
        if (why) *why = "subnet mask " + m->to_string() + " is not contiguous";
        return std::nullopt;
      }
      ts.start = a->masked(length);
      ts.end = a->last_in(length);
      return ts;
    }
    case v1::IdType::ipv4_addr_range:
    case v1::IdType::ipv6_addr_range: {
      auto s = address_from(d.first(half));
      auto e = address_from(d.subspan(half));
      if (!s || !e) break;
      if (*e < *s) {
        if (why) *why = "range " + s->to_string() + "-" + e->to_string() + " ends before it starts";
        return std::nullopt;
      }
      ts.start = *s;
      ts.end = *e;
      return ts;
    }
    default:
      if (why) *why = "ID type " + std::to_string(static_cast<int>(id.id_type)) + " is not an address proxy identity";
      return std::nullopt;
  }
  if (why) *why = "proxy identity of " + std::to_string(d.size()) + " bytes does not fit its type";
  return std::nullopt;
}

bool covers(const net::TrafficSelector& outer, const net::TrafficSelector& inner) {
  if (outer.family() != inner.family()) return false;
  if (inner.start < outer.start || outer.end < inner.end) return false;
  if (outer.protocol != 0 && outer.protocol != inner.protocol) return false;
  return outer.port_start <= inner.port_start && inner.port_end <= outer.port_end;
}

}  // namespace corridor::control::ikev1
