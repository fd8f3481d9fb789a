#include "common/config/model.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace corridor::config {

std::string_view to_string(AuthMethod m) {
  switch (m) {
    case AuthMethod::psk: return "psk";
    case AuthMethod::pubkey: return "pubkey";
    case AuthMethod::rsa: return "rsa";
    case AuthMethod::rsa_pss: return "rsa/pss";
    case AuthMethod::ecdsa: return "ecdsa";
  }
  return "unknown";
}

std::string_view to_string(Revocation r) {
  switch (r) {
    case Revocation::strict: return "strict";
    case Revocation::ifuri: return "ifuri";
    case Revocation::relaxed: return "relaxed";
  }
  return "unknown";
}

double IkeConfig::give_up_seconds() const {
  double total = 0;
  for (unsigned k = 0; k <= retransmit_tries; ++k)
    total += std::chrono::duration<double>(retransmit_timeout).count() * std::pow(retransmit_base, k);
  return total;
}

std::string_view to_string(ChildMode m) { return m == ChildMode::tunnel ? "tunnel" : "transport"; }

std::string_view to_string(Action a) {
  switch (a) {
    case Action::none: return "none";
    case Action::trap: return "trap";
    case Action::start: return "start";
    case Action::clear: return "clear";
    case Action::restart: return "restart";
  }
  return "unknown";
}

std::string_view to_string(Fragmentation f) {
  switch (f) {
    case Fragmentation::yes: return "yes";
    case Fragmentation::no: return "no";
    case Fragmentation::accept: return "accept";
    case Fragmentation::force: return "force";
  }
  return "unknown";
}

namespace {

bool hex_digits(std::string_view s, std::size_t n) {
  return s.size() == n &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

bool is_pci_address(std::string_view s) {
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

bool PortConfig::is_pci() const { return is_pci_address(name); }

bool is_valid_interface_name(std::string_view name) {
  // IFNAMSIZ is 16 with the terminating NUL.
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '/' && c != ':' && c != ',' && c != '=' && c != '%';
  });
}

const PortConfig* DataplaneConfig::find_port(std::string_view port_name) const {
  for (const auto& p : ports)
    if (p.name == port_name) return &p;
  return nullptr;
}

std::string_view to_string(SaDirection d) { return d == SaDirection::in ? "in" : "out"; }

std::string_view to_string(SaProtocol p) { return p == SaProtocol::esp ? "esp" : "ah"; }

std::string_view to_string(PortRole r) { return r == PortRole::protected_side ? "protected" : "unprotected"; }

std::string_view to_string(PollMode m) { return m == PollMode::busy ? "busy" : "adaptive"; }

std::string_view to_string(LogLevel l) {
  switch (l) {
    case LogLevel::error: return "error";
    case LogLevel::warning: return "warning";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
  }
  return "unknown";
}

}  // namespace corridor::config
