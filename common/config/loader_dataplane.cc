// The "dataplane" section: the appliance's ports, routes and lcores.
#include <algorithm>
#include <cctype>

#include "common/config/loader_internal.h"

namespace corridor::config::detail {
namespace {

// DPDK's maximum lcore id in Debian's build (RTE_MAX_LCORE = 128).
constexpr unsigned kMaxLcore = 127;

bool hex_digits(std::string_view s, std::size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

bool valid_pci(std::string_view s) {
  // [domain:]bus:device.function, e.g. 0000:03:00.0 (the domain may be omitted).
  const auto dot = s.rfind('.');
  if (dot == std::string_view::npos || dot + 2 != s.size() || s[dot + 1] < '0' || s[dot + 1] > '7') return false;
  s = s.substr(0, dot);
  const auto last = s.rfind(':');
  if (last == std::string_view::npos || !hex_digits(s.substr(last + 1), 2)) return false;
  s = s.substr(0, last);
  const auto first = s.rfind(':');
  if (first == std::string_view::npos) return hex_digits(s, 2);
  return hex_digits(s.substr(first + 1), 2) && hex_digits(s.substr(0, first), 4);
}

bool valid_vdev(std::string_view s) {
  // "<driver><n>[,key=value...]" where driver is net_* / crypto_* etc.
  const auto comma = s.find(',');
  const auto driver = s.substr(0, comma);
  if (driver.empty()) return false;
  for (char c : driver)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

PortConfig read_port(const std::string& name, const nlohmann::ordered_json& value, const std::string& pointer,
                     const Context& ctx) {
  PortConfig p;
  p.name = name;
  ObjectReader r(value, pointer, ctx.diag);
  const auto pci = r.string("pci");
  const auto vdev = r.string("vdev");
  if (pci && vdev) ctx.diag.error(pointer, "a port has either pci or vdev, not both");
  else if (!pci && !vdev && r.valid()) ctx.diag.error(pointer, "a port needs pci (e.g. 0000:03:00.0) or vdev (e.g. net_af_packet0,iface=eth1)");
  if (pci) {
    if (valid_pci(*pci)) p.pci = *pci;
    else ctx.diag.error(r.pointer_of("pci"), "not a PCI address (domain:bus:device.function): " + *pci);
  }
  if (vdev) {
    if (valid_vdev(*vdev)) p.vdev = *vdev;
    else ctx.diag.error(r.pointer_of("vdev"), "not a DPDK vdev string (driver,key=value,...): " + *vdev);
  }
  const auto role = r.choice<PortRole>("role", {{"protected", PortRole::protected_side}, {"unprotected", PortRole::unprotected_side}});
  if (role) p.role = *role;
  else if (r.valid() && !r.get("role")) ctx.diag.error(r.pointer_of("role"), "required: protected (clear LAN side) or unprotected (WAN side)");
  if (const auto addresses = r.string_list("addresses")) {
    for (const auto& a : *addresses) {
      std::string why;
      const auto prefix = net::Prefix::parse(a.value, &why);
      if (!prefix) ctx.diag.error(a.pointer, why);
      else if (a.value.find('/') == std::string::npos)
        ctx.diag.error(a.pointer, "interface address needs its prefix length, e.g. " + a.value + "/24");
      else if (prefix->host_bits_clear() && prefix->length < prefix->address.bit_length() - 1)
        ctx.diag.error(a.pointer, "this is a network address, not an interface address: " + a.value);
      else p.addresses.push_back(*prefix);
    }
  }
  if (const auto mtu = r.integer("mtu", 576, 9216)) p.mtu = static_cast<std::uint16_t>(*mtu);
  r.finish();
  return p;
}

}  // namespace

DataplaneConfig read_dataplane(const nlohmann::ordered_json& value, const std::string& pointer, const Context& ctx) {
  DataplaneConfig d;
  ObjectReader r(value, pointer, ctx.diag);
  if (const auto* ports = r.get("ports")) {
    ObjectReader pr(*ports, r.pointer_of("ports"), ctx.diag);
    for (const auto& key : pr.keys_where([](const std::string&) { return true; })) {
      if (!valid_name(key)) {
        ctx.diag.error(pr.pointer_of(key), "port name must be 1-64 letters, digits, '-', '_' or '.'");
        continue;
      }
      d.ports.push_back(read_port(key, (*ports)[key], pr.pointer_of(key), ctx));
    }
  }
  if (const auto* routes = r.get("routes")) {
    const auto rp = r.pointer_of("routes");
    if (!routes->is_array()) {
      ctx.diag.error(rp, "must be an array of {prefix, via, port}");
    } else {
      for (std::size_t i = 0; i < routes->size(); ++i) {
        ObjectReader rr((*routes)[i], json_pointer_append(rp, std::to_string(i)), ctx.diag);
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
        bool port_found = false;
        for (const auto& p : d.ports) port_found |= p.name == route.port;
        if (!port_found) ctx.diag.error(rr.pointer_of("port"), "no port named '" + route.port + "' in /dataplane/ports");
        if (route.via && route.via->family() != route.prefix.address.family())
          ctx.diag.error(rr.pointer_of("via"), "next hop family differs from the prefix's");
        d.routes.push_back(route);
      }
    }
  }
  if (const auto* cores = r.get("cores")) {
    ObjectReader cr(*cores, r.pointer_of("cores"), ctx.diag);
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
    }
    cr.finish();
  }
  if (const auto mode = r.choice<PollMode>("poll_mode", {{"busy", PollMode::busy}, {"adaptive", PollMode::adaptive}}))
    d.poll_mode = *mode;
  r.finish();

  if (!d.ports.empty()) {
    bool has_protected = false, has_unprotected = false;
    for (const auto& p : d.ports) {
      has_protected |= p.role == PortRole::protected_side;
      has_unprotected |= p.role == PortRole::unprotected_side;
    }
    if (!has_protected || !has_unprotected)
      ctx.diag.error(r.pointer_of("ports"), "a gateway needs at least one protected and one unprotected port");
  }
  return d;
}

}  // namespace corridor::config::detail
