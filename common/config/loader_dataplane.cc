// The "dataplane" section: the appliance's ports, routes, static neighbors,
// lcores (and static SAs, read in loader_static_sas.cc).
#include <algorithm>
#include <cctype>

#include "common/config/loader_internal.h"

namespace corridor::config::detail {
namespace {

// DPDK's maximum lcore id in Debian's build (RTE_MAX_LCORE = 128).
constexpr unsigned kMaxLcore = 127;
// RTE_DEV_NAME_MAX_LEN is 64 with the terminating NUL.
constexpr std::size_t kMaxDeviceName = 63;
// RFC 8200 §5: every link that carries IPv6 has an MTU of at least 1280.
constexpr std::int64_t kMinIpv6Mtu = 1280;

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A vdev name is its driver's name and an instance suffix ("net_pcap0"):
// EAL finds the driver by prefix, so only letters, digits and '_' occur.
bool valid_vdev_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxDeviceName || !std::isalpha(static_cast<unsigned char>(s.front()))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// The device EAL means by a port name: PCI addresses with their domain and
// in lowercase, as EAL names them; vdev names as they are.
std::string device_identity(const std::string& name) {
  if (!is_pci_address(name)) return name;
  return lowercase(std::count(name.begin(), name.end(), ':') == 1 ? "0000:" + name : name);
}

// EAL's devargs: "key=value" items separated by ','.
void check_devargs(const std::string& devargs, const std::string& port_name, const std::string& pointer,
                   const Context& ctx) {
  if (devargs.empty()) {
    ctx.diag.error(pointer, "must not be empty: leave devargs out when the EAL arguments create the device");
    return;
  }
  for (char c : devargs)
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) {
      ctx.diag.error(pointer, "devargs must not contain spaces or control characters: " + devargs);
      return;
    }
  std::size_t start = 0;
  while (start <= devargs.size()) {
    auto end = devargs.find(',', start);
    if (end == std::string::npos) end = devargs.size();
    const auto item = devargs.substr(start, end - start);
    if (item.empty()) {
      ctx.diag.error(pointer, "empty item in devargs (two ',' in a row, or a leading or trailing ','): " + devargs);
      return;
    }
    if (start == 0 && device_identity(item) == device_identity(port_name)) {
      ctx.diag.error(pointer, "devargs hold only the device's arguments; the device name is \"name\": remove '" +
                                  item + ",'");
      return;
    }
    start = end + 1;
  }
}

// fe80::/10: reachable on the link without a configured subnet (RFC 4291 §2.5.6).
bool is_ipv6_link_local(const net::IpAddress& a) {
  return !a.is_v4() && a.bytes()[0] == 0xfe && (a.bytes()[1] & 0xc0) == 0x80;
}

void read_interface_address(const ListItem& item, PortConfig& port, const Context& ctx) {
  std::string why;
  const auto prefix = net::Prefix::parse(item.value, &why);
  if (!prefix) {
    ctx.diag.error(item.pointer, why);
    return;
  }
  const unsigned bits = prefix->address.bit_length();
  if (item.value.find('/') == std::string::npos) {
    ctx.diag.error(item.pointer, "interface address needs its prefix length, e.g. " + item.value +
                                     (prefix->address.is_v4() ? "/24" : "/64"));
  } else if (!is_unicast(prefix->address)) {
    ctx.diag.error(item.pointer, "not a unicast address: " + item.value);
  } else if (prefix->host_bits_clear() && prefix->length < bits - 1) {
    // RFC 3021 /31 and host routes have no network address to mistake.
    ctx.diag.error(item.pointer, "this is a network address, not an interface address: " + item.value);
  } else if (prefix->address.is_v4() && prefix->length < bits - 1 &&
             prefix->address == prefix->address.last_in(prefix->length)) {
    ctx.diag.error(item.pointer, "this is the subnet's broadcast address, not an interface address: " + item.value);
  } else if (std::any_of(port.addresses.begin(), port.addresses.end(),
                         [&](const net::Prefix& p) { return p.address.family() == prefix->address.family(); })) {
    ctx.diag.error(item.pointer, std::string("a port has at most one IPv4 and one IPv6 address; this is a second ") +
                                     (prefix->address.is_v4() ? "IPv4" : "IPv6") + " address");
  } else {
    port.addresses.push_back(*prefix);
  }
}

// nullopt when the entry is too broken to take part in the section's
// cross-checks (no usable name).
// "02:00:00:00:00:01": six colon-separated pairs of hex digits.
std::optional<std::array<std::uint8_t, 6>> parse_mac(std::string_view s) {
  if (s.size() != 17) return std::nullopt;
  std::array<std::uint8_t, 6> mac{};
  for (std::size_t i = 0; i < 6; ++i) {
    const auto pair = s.substr(i * 3, 2);
    if (!std::isxdigit(static_cast<unsigned char>(pair[0])) || !std::isxdigit(static_cast<unsigned char>(pair[1])))
      return std::nullopt;
    if (i < 5 && s[i * 3 + 2] != ':') return std::nullopt;
    mac[i] = static_cast<std::uint8_t>(std::stoi(std::string(pair), nullptr, 16));
  }
  return mac;
}

std::optional<PortConfig> read_port(const nlohmann::ordered_json& value, const std::string& pointer,
                                    const Context& ctx) {
  PortConfig p;
  ObjectReader r(value, pointer, ctx.diag);
  bool named = false;
  if (const auto name = r.string("name")) {
    if (name->size() >= kMaxPortNameLength + 1) {
      // DPDK's RTE_DEV_NAME_MAX_LEN, NUL included; also what PORT_STATS carries.
      ctx.diag.error(r.pointer_of("name"), "a DPDK device name has at most " + std::to_string(kMaxPortNameLength) +
                                               " characters (got " + std::to_string(name->size()) + ")");
    } else if (is_pci_address(*name) || valid_vdev_name(*name)) {
      p.name = *name;
      named = true;
    } else if (name->find(',') != std::string::npos) {
      ctx.diag.error(r.pointer_of("name"), "the device's arguments go in \"devargs\": \"name\": \"" +
                                               name->substr(0, name->find(',')) + "\", \"devargs\": \"" +
                                               name->substr(name->find(',') + 1) + "\"");
    } else {
      ctx.diag.error(r.pointer_of("name"), "not a DPDK device name: a PCI address such as 0000:3b:00.0, or a virtual "
                                           "device such as net_af_packet0 or net_pcap0 (got '" + *name + "')");
    }
  } else if (r.valid()) {
    ctx.diag.error(pointer, "a port needs \"name\": its DPDK device, e.g. 0000:3b:00.0 or net_af_packet0");
  }
  // The form before ports became a list: say where its values went.
  for (const char* old_key : {"pci", "vdev"})
    if (r.get(old_key))
      ctx.diag.error(r.pointer_of(old_key), std::string("'") + old_key + "' is not a port key: the device goes in "
                                            "\"name\" and its arguments in \"devargs\", e.g. {\"name\": "
                                            "\"net_af_packet0\", \"devargs\": \"iface=eth1\"}");
  if (const auto devargs = r.string("devargs")) {
    check_devargs(*devargs, p.name, r.pointer_of("devargs"), ctx);
    p.devargs = *devargs;
  }
  const auto role = r.choice<PortRole>("role", {{"protected", PortRole::protected_side}, {"unprotected", PortRole::unprotected_side}});
  if (role) p.role = *role;
  else if (r.valid() && !r.get("role")) ctx.diag.error(r.pointer_of("role"), "required: protected (clear LAN side) or unprotected (WAN side)");
  if (const auto addresses = r.string_list("address")) {
    if (addresses->empty()) ctx.diag.error(r.pointer_of("address"), "must list at least one address, or be left out");
    for (const auto& a : *addresses) read_interface_address(a, p, ctx);
  }
  if (const auto mtu = r.integer("mtu", 576, 9216)) {
    p.mtu = static_cast<std::uint16_t>(*mtu);
    const bool has_v6 = std::any_of(p.addresses.begin(), p.addresses.end(), [](const net::Prefix& a) { return !a.address.is_v4(); });
    if (has_v6 && *mtu < kMinIpv6Mtu)
      ctx.diag.error(r.pointer_of("mtu"), "a port with an IPv6 address needs an MTU of at least 1280 (RFC 8200 §5)");
  }
  if (const auto mac = r.string("mac")) {
    const auto m = parse_mac(*mac);
    if (!m)
      ctx.diag.error(r.pointer_of("mac"), "not a MAC address (six hex pairs separated by ':', e.g. 02:00:00:00:00:01): " + *mac);
    else if ((*m)[0] & 1)
      ctx.diag.error(r.pointer_of("mac"), "a port's MAC address must be unicast (first octet even): " + *mac);
    else if (*m == std::array<std::uint8_t, 6>{})
      ctx.diag.error(r.pointer_of("mac"), "the all-zero MAC address cannot be a port's");
    else
      p.mac = *m;
  }
  r.finish();
  if (!named) return std::nullopt;
  return p;
}

void read_ports(const nlohmann::ordered_json& ports, const std::string& pointer, DataplaneConfig& d, const Context& ctx) {
  if (!ports.is_array()) {
    ctx.diag.error(pointer, "must be an array of ports {name, role, address, mtu}, not " + json_type_name(ports));
    return;
  }
  if (ports.size() > kMaxPorts)
    ctx.diag.error(pointer, "at most " + std::to_string(kMaxPorts) + " ports (DPDK's RTE_MAX_ETHPORTS); got " +
                                std::to_string(ports.size()));
  std::vector<std::string> where;  // pointer of each port in d.ports
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const auto p = json_pointer_append(pointer, std::to_string(i));
    auto port = read_port(ports[i], p, ctx);
    if (!port) continue;
    for (std::size_t j = 0; j < d.ports.size(); ++j)
      if (device_identity(d.ports[j].name) == device_identity(port->name))
        ctx.diag.error(p + "/name", "device '" + port->name + "' is already port " + where[j]);
    for (std::size_t a = 0; a < port->addresses.size(); ++a)
      for (std::size_t j = 0; j < d.ports.size(); ++j)
        for (const auto& other : d.ports[j].addresses)
          if (other.address == port->addresses[a].address)
            ctx.diag.error(p + "/address", "address " + other.address.to_string() + " is also on port '" +
                                               d.ports[j].name + "'");
    d.ports.push_back(std::move(*port));
    where.push_back(p);
  }
  if (!d.ports.empty()) {
    const auto has = [&](PortRole role) {
      return std::any_of(d.ports.begin(), d.ports.end(), [&](const PortConfig& port) { return port.role == role; });
    };
    if (!has(PortRole::protected_side) || !has(PortRole::unprotected_side))
      ctx.diag.error(pointer, "a gateway needs at least one protected and one unprotected port");
  }
}

// A next hop must be on one of the port's subnets: the dataplane resolves
// it with ARP/ND from the port's address.
void check_next_hop(const net::IpAddress& via, const PortConfig& port, const std::string& pointer, const Context& ctx) {
  if (!is_unicast(via)) {
    ctx.diag.error(pointer, "next hop must be a unicast address: " + via.to_string());
    return;
  }
  const net::Prefix* own = nullptr;
  for (const auto& a : port.addresses)
    if (a.address.family() == via.family()) own = &a;
  if (own && own->address == via) {
    ctx.diag.error(pointer, "next hop " + via.to_string() + " is the address of port '" + port.name + "' itself");
  } else if (is_ipv6_link_local(via)) {
    return;
  } else if (!own) {
    ctx.diag.error(pointer, "port '" + port.name + "' has no " + (via.is_v4() ? "IPv4" : "IPv6") +
                                " address, so next hop " + via.to_string() + " cannot be resolved on it");
  } else if (!own->contains(via)) {
    ctx.diag.error(pointer, "next hop " + via.to_string() + " is not in the subnet of port '" + port.name + "' (" +
                                own->network().to_string() + ")");
  }
}

void read_routes(const nlohmann::ordered_json& routes, const std::string& pointer, DataplaneConfig& d,
                 const Context& ctx) {
  if (!routes.is_array()) {
    ctx.diag.error(pointer, "must be an array of routes {prefix, via, port}, not " + json_type_name(routes));
    return;
  }
  std::vector<std::string> where;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    ObjectReader rr(routes[i], json_pointer_append(pointer, std::to_string(i)), ctx.diag);
    RouteConfig route;
    bool ok = rr.valid();
    if (const auto prefix = rr.string("prefix")) {
      std::string why;
      if (const auto p = net::Prefix::parse(*prefix, &why); p && p->host_bits_clear()) route.prefix = *p;
      else {
        ctx.diag.error(rr.pointer_of("prefix"), p ? "host bits set in " + *prefix + ", did you mean " + p->network().to_string() + "?" : why);
        ok = false;
      }
    } else if (rr.valid()) {
      ctx.diag.error(rr.pointer(), "route needs \"prefix\"");
      ok = false;
    }
    if (const auto via = rr.string("via")) {
      if (const auto a = net::IpAddress::parse(*via)) route.via = *a;
      else {
        ctx.diag.error(rr.pointer_of("via"), "not an IP address: " + *via);
        ok = false;
      }
    }
    if (const auto port = rr.string("port")) route.port = *port;
    else if (rr.valid()) {
      ctx.diag.error(rr.pointer(), "route needs \"port\"");
      ok = false;
    }
    rr.finish();
    if (!ok) continue;
    const PortConfig* port = d.find_port(route.port);
    if (!port) ctx.diag.error(rr.pointer_of("port"), "no port named '" + route.port + "' in /dataplane/ports");
    if (route.via && route.via->family() != route.prefix.address.family())
      ctx.diag.error(rr.pointer_of("via"), "next hop family differs from the prefix's");
    else if (route.via && port)
      check_next_hop(*route.via, *port, rr.pointer_of("via"), ctx);
    for (std::size_t j = 0; j < d.routes.size(); ++j)
      if (d.routes[j].prefix == route.prefix)
        ctx.diag.error(rr.pointer_of("prefix"), "a route to " + route.prefix.to_string() + " is already " + where[j]);
    d.routes.push_back(route);
    where.push_back(rr.pointer());
  }
}

void read_neighbors(const nlohmann::ordered_json& neighbors, const std::string& pointer, DataplaneConfig& d,
                    const Context& ctx) {
  if (!neighbors.is_array()) {
    ctx.diag.error(pointer, "must be an array of static neighbors {ip, mac}, not " + json_type_name(neighbors));
    return;
  }
  std::vector<std::string> where;
  for (std::size_t i = 0; i < neighbors.size(); ++i) {
    ObjectReader r(neighbors[i], json_pointer_append(pointer, std::to_string(i)), ctx.diag);
    NeighborConfig n;
    bool ok = r.valid();
    if (const auto ip = r.string("ip")) {
      const auto a = net::IpAddress::parse(*ip);
      if (!a) {
        ctx.diag.error(r.pointer_of("ip"), "not an IP address: " + *ip);
        ok = false;
      } else if (!is_unicast(*a)) {
        ctx.diag.error(r.pointer_of("ip"), "a neighbor has a unicast address: " + *ip);
        ok = false;
      } else {
        n.ip = *a;
      }
    } else if (r.valid()) {
      ctx.diag.error(r.pointer(), "neighbor needs \"ip\"");
      ok = false;
    }
    if (const auto mac = r.string("mac")) {
      const auto m = parse_mac(*mac);
      if (!m) {
        ctx.diag.error(r.pointer_of("mac"), "not a MAC address (six hex pairs separated by ':', e.g. "
                                            "02:00:00:00:00:01): " + *mac);
        ok = false;
      } else if ((*m)[0] & 0x01) {
        // The I/G bit (IEEE 802 §8.2): a next hop's address is an individual one.
        ctx.diag.error(r.pointer_of("mac"), "a multicast or broadcast MAC address cannot be a neighbor: " + *mac);
        ok = false;
      } else if (*m == std::array<std::uint8_t, 6>{}) {
        ctx.diag.error(r.pointer_of("mac"), "the all-zero MAC address cannot be a neighbor");
        ok = false;
      } else {
        n.mac = *m;
      }
    } else if (r.valid()) {
      ctx.diag.error(r.pointer(), "neighbor needs \"mac\"");
      ok = false;
    }
    r.finish();
    if (!ok) continue;
    for (const auto& port : d.ports)
      for (const auto& a : port.addresses)
        if (a.address == n.ip)
          ctx.diag.error(r.pointer_of("ip"), n.ip.to_string() + " is the address of port '" + port.name + "' itself");
    for (std::size_t j = 0; j < d.neighbors.size(); ++j)
      if (d.neighbors[j].ip == n.ip)
        ctx.diag.error(r.pointer_of("ip"), "neighbor " + n.ip.to_string() + " is already " + where[j]);
    d.neighbors.push_back(n);
    where.push_back(r.pointer());
  }
}

void read_cores(const nlohmann::ordered_json& cores, const std::string& pointer, DataplaneConfig& d,
                const Context& ctx) {
  ObjectReader cr(cores, pointer, ctx.diag);
  if (const auto main = cr.integer("main", 0, kMaxLcore)) d.main_lcore = static_cast<unsigned>(*main);
  if (const auto* workers = cr.get("workers")) {
    const auto wp = cr.pointer_of("workers");
    if (!workers->is_array()) ctx.diag.error(wp, "must be an array of lcore ids");
    else
      for (std::size_t i = 0; i < workers->size(); ++i) {
        const auto& w = (*workers)[i];
        const auto p = json_pointer_append(wp, std::to_string(i));
        if (!w.is_number_unsigned() || w.get<std::uint64_t>() > kMaxLcore) {
          ctx.diag.error(p, "lcore id must be 0.." + std::to_string(kMaxLcore));
          continue;
        }
        const auto id = w.get<unsigned>();
        if (id == d.main_lcore) ctx.diag.error(p, "lcore " + std::to_string(id) + " is the main lcore; leave workers empty to forward on the main lcore");
        else if (std::find(d.worker_lcores.begin(), d.worker_lcores.end(), id) != d.worker_lcores.end())
          ctx.diag.error(p, "lcore " + std::to_string(id) + " listed twice");
        else d.worker_lcores.push_back(id);
      }
    // Valid, but not yet something corridor-dataplane can do: say so at
    // --check time rather than only when the dataplane refuses to start.
    if (!d.worker_lcores.empty())
      ctx.diag.warning(wp, "worker lcores are not supported yet: corridor-dataplane refuses to start with any "
                           "(the main lcore forwards alone); leave workers empty");
  }
  cr.finish();
}

}  // namespace

bool is_unicast(const net::IpAddress& a) {
  if (a.is_unspecified()) return false;
  if (a.is_v4()) return (a.bytes()[0] & 0xf0) != 0xe0 && a != net::IpAddress::v4(0xffffffff);  // 224/4, 255.255.255.255
  return a.bytes()[0] != 0xff;  // ff00::/8
}

DataplaneConfig read_dataplane(const nlohmann::ordered_json& value, const std::string& pointer, const Context& ctx) {
  DataplaneConfig d;
  ObjectReader r(value, pointer, ctx.diag);
  // Ports first: routes, neighbors and static SAs are checked against them.
  if (const auto* ports = r.get("ports")) read_ports(*ports, r.pointer_of("ports"), d, ctx);
  if (const auto* routes = r.get("routes")) read_routes(*routes, r.pointer_of("routes"), d, ctx);
  if (const auto* neighbors = r.get("neighbors")) read_neighbors(*neighbors, r.pointer_of("neighbors"), d, ctx);
  if (const auto* sas = r.get("static_sas")) d.static_sas = read_static_sas(*sas, r.pointer_of("static_sas"), d, ctx);
  if (const auto* cores = r.get("cores")) read_cores(*cores, r.pointer_of("cores"), d, ctx);
  if (const auto mode = r.choice<PollMode>("poll_mode", {{"busy", PollMode::busy}, {"adaptive", PollMode::adaptive}}))
    d.poll_mode = *mode;
  if (const auto name = r.string("exception_interface")) {
    if (!is_valid_interface_name(*name))
      ctx.diag.error(r.pointer_of("exception_interface"),
                     "not a network interface name: 1 to 15 printable ASCII characters without '/', ':', ',', '=', "
                     "'%' or spaces, e.g. corridor0 (got '" + *name + "')");
    else
      d.exception_interface = *name;
  }
  // The exception interface's TAP is an EAL device of that name.
  for (std::size_t i = 0; i < d.ports.size(); ++i)
    if (d.exception_interface && d.ports[i].name == kExceptionTapDevice)
      ctx.diag.error(r.pointer_of("ports") + "/" + std::to_string(i) + "/name",
                     std::string(kExceptionTapDevice) + " is the exception interface's device: give the port another name");
  r.finish();
  return d;
}

}  // namespace corridor::config::detail
