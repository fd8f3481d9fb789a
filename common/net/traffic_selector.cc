#include "common/net/traffic_selector.h"

#include <array>
#include <charconv>

namespace corridor::net {
namespace {

struct ProtocolName {
  std::string_view name;
  std::uint8_t number;
};

// IANA protocol numbers, with the names /etc/protocols (and so strongSwan) uses.
constexpr std::array kProtocols{
    ProtocolName{"icmp", 1},   ProtocolName{"igmp", 2},       ProtocolName{"ipencap", 4},
    ProtocolName{"tcp", 6},    ProtocolName{"udp", 17},       ProtocolName{"ipv6", 41},
    ProtocolName{"gre", 47},   ProtocolName{"esp", 50},       ProtocolName{"ah", 51},
    ProtocolName{"ipv6-icmp", 58}, ProtocolName{"icmpv6", 58}, ProtocolName{"ospf", 89},
    ProtocolName{"pim", 103},  ProtocolName{"vrrp", 112},     ProtocolName{"l2tp", 115},
    ProtocolName{"sctp", 132},
};

bool parse_number(std::string_view s, unsigned max, unsigned& out) {
  if (s.empty() || s.size() > 5) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size() && out <= max;
}

}  // namespace

std::optional<std::uint8_t> parse_ip_protocol(std::string_view text) {
  for (const auto& p : kProtocols)
    if (p.name == text) return p.number;
  unsigned n = 0;
  if (parse_number(text, 255, n)) return static_cast<std::uint8_t>(n);
  return std::nullopt;
}

std::string ip_protocol_name(std::uint8_t protocol) {
  for (const auto& p : kProtocols)
    if (p.number == protocol) return std::string(p.name);
  return std::to_string(protocol);
}

std::optional<TrafficSelector> TrafficSelector::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<TrafficSelector> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  TrafficSelector ts;

  std::string_view addr = text;
  std::string_view restriction;
  if (const auto open = text.find('['); open != std::string_view::npos) {
    if (text.back() != ']') return fail("protocol/port restriction must end with ']'");
    addr = text.substr(0, open);
    restriction = text.substr(open + 1, text.size() - open - 2);
  }

  if (addr == "dynamic") {
    ts.dynamic = true;
  } else if (addr.empty()) {
    // "[tcp/80]" alone means any address; strongSwan takes it as 0.0.0.0/0.
    ts.start = IpAddress::any(Family::ipv4);
    ts.end = ts.start.last_in(0);
  } else if (const auto dash = addr.find('-'); dash != std::string_view::npos) {
    const auto from = IpAddress::parse(addr.substr(0, dash));
    const auto to = IpAddress::parse(addr.substr(dash + 1));
    if (!from || !to) return fail("not an address range: " + std::string(addr));
    if (from->family() != to->family()) return fail("address range mixes IPv4 and IPv6: " + std::string(addr));
    if (*to < *from) return fail("address range runs backwards: " + std::string(addr));
    ts.start = *from;
    ts.end = *to;
  } else {
    std::string why;
    const auto prefix = Prefix::parse(addr, &why);
    if (!prefix) return fail("not a CIDR: " + std::string(addr) + (why.empty() ? "" : " (" + why + ")"));
    if (!prefix->host_bits_clear())
      return fail("host bits set in " + std::string(addr) + ", did you mean " + prefix->network().to_string() + "?");
    ts.start = prefix->address;
    ts.end = prefix->address.last_in(prefix->length);
  }

  if (!restriction.empty()) {
    const auto slash = restriction.find('/');
    const auto proto = restriction.substr(0, slash);
    if (!proto.empty() && proto != "%any") {
      const auto number = parse_ip_protocol(proto);
      if (!number) return fail("unknown IP protocol '" + std::string(proto) + "'");
      ts.protocol = *number;
    }
    if (slash != std::string_view::npos) {
      const auto ports = restriction.substr(slash + 1);
      if (ports == "opaque") {
        // RFC 7296 §3.13.1: OPAQUE is start 65535, end 0.
        ts.port_start = 65535;
        ts.port_end = 0;
      } else if (!ports.empty() && ports != "%any") {
        const auto dash = ports.find('-');
        unsigned lo = 0, hi = 0;
        if (!parse_number(ports.substr(0, dash), 65535, lo)) return fail("port must be 0..65535: " + std::string(ports));
        hi = lo;
        if (dash != std::string_view::npos && !parse_number(ports.substr(dash + 1), 65535, hi))
          return fail("port must be 0..65535: " + std::string(ports));
        if (hi < lo) return fail("port range runs backwards: " + std::string(ports));
        if (ts.protocol == 0) return fail("a port needs a protocol, e.g. [tcp/" + std::string(ports) + "]");
        ts.port_start = static_cast<std::uint16_t>(lo);
        ts.port_end = static_cast<std::uint16_t>(hi);
      }
    }
  }
  return ts;
}

std::optional<Prefix> TrafficSelector::as_prefix() const {
  if (dynamic) return std::nullopt;
  for (unsigned length = 0; length <= start.bit_length(); ++length) {
    if (start.masked(length) == start && start.last_in(length) == end)
      return Prefix{start, static_cast<std::uint8_t>(length)};
  }
  return std::nullopt;
}

std::string TrafficSelector::to_string() const {
  std::string out;
  if (dynamic) {
    out = "dynamic";
  } else if (const auto prefix = as_prefix()) {
    out = prefix->to_string();
  } else {
    out = start.to_string() + "-" + end.to_string();
  }
  const bool any_port = port_start == 0 && port_end == 65535;
  if (protocol != 0 || !any_port) {
    out += "[" + (protocol ? ip_protocol_name(protocol) : std::string()) ;
    if (port_start == 65535 && port_end == 0) {
      out += "/opaque";
    } else if (!any_port) {
      out += "/" + std::to_string(port_start);
      if (port_end != port_start) out += "-" + std::to_string(port_end);
    }
    out += "]";
  }
  return out;
}

}  // namespace corridor::net
