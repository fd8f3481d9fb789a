// Traffic selector conversion, narrowing and subset checks as boxes of
// three closed ranges (addresses, protocol, ports).
#include "control/ike/ts_narrow.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace corridor::control::ike {
namespace {

namespace wire = corridor::ike;
using net::IpAddress;

constexpr int kOpaque = -1;  // the port value OPAQUE stands for
constexpr int kMaxPort = 65535;
constexpr int kMaxProtocol = 255;

// A selector as a box. Protocol "any" is [0, 255], a protocol p is [p, p].
// Ports: ANY is [OPAQUE, 65535] (it includes OPAQUE), OPAQUE is
// [OPAQUE, OPAQUE], a range a-b is [a, b]. Internal pieces made by
// subtraction may hold ranges no selector can express; they never leave
// this file.
struct Box {
  IpAddress lo, hi;
  int protocol_lo = 0, protocol_hi = kMaxProtocol;
  int port_lo = kOpaque, port_hi = kMaxPort;

  bool empty() const {
    return lo.family() != hi.family() || hi < lo || protocol_hi < protocol_lo || port_hi < port_lo;
  }
};

std::optional<Box> to_box(const net::TrafficSelector& ts) {
  if (ts.dynamic) return std::nullopt;
  Box box;
  box.lo = ts.start;
  box.hi = ts.end;
  if (ts.protocol != 0) box.protocol_lo = box.protocol_hi = ts.protocol;
  if (ts.port_start == 0 && ts.port_end == kMaxPort) {
    box.port_lo = kOpaque;
    box.port_hi = kMaxPort;
  } else if (ts.port_start == kMaxPort && ts.port_end == 0) {
    box.port_lo = box.port_hi = kOpaque;
  } else {
    box.port_lo = ts.port_start;
    box.port_hi = ts.port_end;  // backwards (invalid) ranges make an empty box
  }
  return box;
}

// Only for boxes made of intersections of selectors, which are expressible.
net::TrafficSelector from_box(const Box& box) {
  net::TrafficSelector ts;
  ts.start = box.lo;
  ts.end = box.hi;
  ts.protocol = box.protocol_lo == 0 && box.protocol_hi == kMaxProtocol
                    ? std::uint8_t{0}
                    : static_cast<std::uint8_t>(box.protocol_lo);
  if (box.port_lo == kOpaque && box.port_hi == kMaxPort) {
    ts.port_start = 0;
    ts.port_end = kMaxPort;
  } else if (box.port_lo == kOpaque) {
    ts.port_start = kMaxPort;  // OPAQUE
    ts.port_end = 0;
  } else {
    ts.port_start = static_cast<std::uint16_t>(box.port_lo);
    ts.port_end = static_cast<std::uint16_t>(box.port_hi);
  }
  return ts;
}

std::optional<Box> intersect(const Box& a, const Box& b) {
  if (a.lo.family() != b.lo.family()) return std::nullopt;
  Box out;
  out.lo = std::max(a.lo, b.lo);
  out.hi = std::min(a.hi, b.hi);
  out.protocol_lo = std::max(a.protocol_lo, b.protocol_lo);
  out.protocol_hi = std::min(a.protocol_hi, b.protocol_hi);
  out.port_lo = std::max(a.port_lo, b.port_lo);
  out.port_hi = std::min(a.port_hi, b.port_hi);
  if (out.empty()) return std::nullopt;
  return out;
}

bool contains(const Box& outer, const Box& inner) {
  return outer.lo.family() == inner.lo.family() && outer.lo <= inner.lo && inner.hi <= outer.hi &&
         outer.protocol_lo <= inner.protocol_lo && inner.protocol_hi <= outer.protocol_hi &&
         outer.port_lo <= inner.port_lo && inner.port_hi <= outer.port_hi;
}

// The address one above / below; the caller knows there is one.
IpAddress step(const IpAddress& address, bool up) {
  auto bytes = address.bytes();
  for (std::size_t i = address.byte_length(); i-- > 0;) {
    if (up) {
      if (++bytes[i] != 0) break;
    } else {
      if (bytes[i]-- != 0) break;
    }
  }
  return IpAddress::from_bytes(address.family(), bytes.data());
}

// a \ b as disjoint boxes (at most six).
void subtract(const Box& a, const Box& b, std::vector<Box>* out) {
  const auto common = intersect(a, b);
  if (!common) {
    out->push_back(a);
    return;
  }
  Box rest = a;
  if (rest.lo < b.lo) {
    Box piece = rest;
    piece.hi = step(b.lo, false);
    out->push_back(piece);
  }
  if (b.hi < rest.hi) {
    Box piece = rest;
    piece.lo = step(b.hi, true);
    out->push_back(piece);
  }
  rest.lo = common->lo;
  rest.hi = common->hi;
  if (rest.protocol_lo < b.protocol_lo) {
    Box piece = rest;
    piece.protocol_hi = b.protocol_lo - 1;
    out->push_back(piece);
  }
  if (b.protocol_hi < rest.protocol_hi) {
    Box piece = rest;
    piece.protocol_lo = b.protocol_hi + 1;
    out->push_back(piece);
  }
  rest.protocol_lo = common->protocol_lo;
  rest.protocol_hi = common->protocol_hi;
  if (rest.port_lo < b.port_lo) {
    Box piece = rest;
    piece.port_hi = b.port_lo - 1;
    out->push_back(piece);
  }
  if (b.port_hi < rest.port_hi) {
    Box piece = rest;
    piece.port_lo = b.port_hi + 1;
    out->push_back(piece);
  }
}

net::TrafficSelector resolved(const net::TrafficSelector& ts, const IpAddress& ike_address) {
  if (!ts.dynamic) return ts;
  net::TrafficSelector out = ts;
  out.dynamic = false;
  out.start = ike_address;
  out.end = ike_address;
  return out;
}

std::string list_text(std::span<const net::TrafficSelector> list) {
  std::string text;
  for (const auto& ts : list) {
    if (!text.empty()) text += ", ";
    text += ts.to_string();
  }
  return text.empty() ? std::string("nothing") : text;
}

}  // namespace

wire::TrafficSelectors to_wire(std::span<const net::TrafficSelector> config, const IpAddress& ike_address) {
  wire::TrafficSelectors out;
  for (const auto& original : config) {
    const net::TrafficSelector ts = resolved(original, ike_address);
    wire::TrafficSelector selector;
    selector.type = ts.start.is_v4() ? iana::TsType::ts_ipv4_addr_range : iana::TsType::ts_ipv6_addr_range;
    selector.ip_protocol = ts.protocol;
    selector.start_port = ts.port_start;
    selector.end_port = ts.port_end;
    selector.start_address.assign(ts.start.bytes().begin(), ts.start.bytes().begin() + ts.start.byte_length());
    selector.end_address.assign(ts.end.bytes().begin(), ts.end.bytes().begin() + ts.end.byte_length());
    out.selectors.push_back(std::move(selector));
  }
  return out;
}

std::vector<net::TrafficSelector> from_wire(const wire::TrafficSelectors& selectors) {
  std::vector<net::TrafficSelector> out;
  for (const auto& selector : selectors.selectors) {
    net::Family family{};
    std::size_t size = 0;
    if (selector.type == iana::TsType::ts_ipv4_addr_range) {
      family = net::Family::ipv4;
      size = 4;
    } else if (selector.type == iana::TsType::ts_ipv6_addr_range) {
      family = net::Family::ipv6;
      size = 16;
    } else {
      continue;
    }
    if (selector.start_address.size() != size || selector.end_address.size() != size) continue;
    net::TrafficSelector ts;
    ts.start = IpAddress::from_bytes(family, selector.start_address.data());
    ts.end = IpAddress::from_bytes(family, selector.end_address.data());
    ts.protocol = selector.ip_protocol;
    ts.port_start = selector.start_port;
    ts.port_end = selector.end_port;
    out.push_back(ts);
  }
  return out;
}

corridor::ike::TrafficSelectors initiator_selectors(std::span<const net::TrafficSelector> configured,
                                                    const IpAddress& ike_address,
                                                    const std::optional<net::TrafficSelector>& first) {
  if (!first) return to_wire(configured, ike_address);
  std::vector<net::TrafficSelector> all;
  all.reserve(configured.size() + 1);
  all.push_back(*first);
  all.insert(all.end(), configured.begin(), configured.end());
  return to_wire(all, ike_address);
}

std::vector<net::TrafficSelector> resolve_dynamic(std::span<const net::TrafficSelector> config,
                                                  const IpAddress& ike_address) {
  std::vector<net::TrafficSelector> out;
  out.reserve(config.size());
  for (const auto& ts : config) out.push_back(resolved(ts, ike_address));
  return out;
}

std::vector<net::TrafficSelector> narrow(std::span<const net::TrafficSelector> proposed,
                                         std::span<const net::TrafficSelector> configured) {
  std::vector<Box> boxes;
  for (const auto& p : proposed) {
    const auto pb = to_box(p);
    if (!pb || pb->empty()) continue;
    for (const auto& c : configured) {
      const auto cb = to_box(c);
      if (!cb) continue;
      if (const auto common = intersect(*pb, *cb)) boxes.push_back(*common);
    }
  }
  // Drop results contained in another; of equal ones keep the first.
  std::vector<net::TrafficSelector> out;
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    bool redundant = false;
    for (std::size_t j = 0; j < boxes.size() && !redundant; ++j) {
      if (i == j || !contains(boxes[j], boxes[i])) continue;
      redundant = !contains(boxes[i], boxes[j]) || j < i;
    }
    if (!redundant) out.push_back(from_box(boxes[i]));
  }
  return out;
}

bool is_subset(std::span<const net::TrafficSelector> response, std::span<const net::TrafficSelector> proposed,
               std::string* why) {
  for (const auto& r : response) {
    const auto rb = to_box(r);
    bool covered = false;
    if (rb) {
      std::vector<Box> left;
      if (!rb->empty()) left.push_back(*rb);
      for (const auto& p : proposed) {
        const auto pb = to_box(p);
        if (!pb || left.empty()) continue;
        std::vector<Box> next;
        for (const auto& piece : left) subtract(piece, *pb, &next);
        left = std::move(next);
      }
      covered = left.empty();
    }
    if (!covered) {
      if (why) {
        *why = "traffic selector " + r.to_string() + " in the response is not within what was proposed (" +
               list_text(proposed) + ")";
      }
      return false;
    }
  }
  return true;
}

std::vector<net::Prefix> to_prefixes(const net::TrafficSelector& ts) {
  std::vector<net::Prefix> out;
  if (ts.dynamic || ts.start.family() != ts.end.family() || ts.end < ts.start) return out;
  const unsigned bits = ts.start.bit_length();
  IpAddress current = ts.start;
  for (;;) {
    // The shortest prefix that starts at `current` and stays within the range.
    unsigned length = 0;
    while (length < bits && (current.masked(length) != current || ts.end < current.last_in(length))) ++length;
    out.push_back(net::Prefix{current, static_cast<std::uint8_t>(length)});
    const IpAddress last = current.last_in(length);
    if (last == ts.end) break;
    current = step(last, true);
  }
  return out;
}

}  // namespace corridor::control::ike
