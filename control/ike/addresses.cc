#include "control/ike/addresses.h"

namespace corridor::control::ike {

bool address_matches(const std::vector<config::AddressSpec>& specs, const net::IpAddress& address) {
  if (specs.empty()) return true;  // %any
  for (const auto& s : specs) {
    switch (s.kind) {
      case config::AddressSpec::Kind::any: return true;
      case config::AddressSpec::Kind::any4:
        if (address.is_v4()) return true;
        break;
      case config::AddressSpec::Kind::any6:
        if (!address.is_v4()) return true;
        break;
      case config::AddressSpec::Kind::address:
      case config::AddressSpec::Kind::prefix:
        if (s.prefix.contains(address)) return true;
        break;
      case config::AddressSpec::Kind::range:
        if (address.family() == s.prefix.address.family() && !(address < s.prefix.address) && !(s.range_end < address))
          return true;
        break;
      case config::AddressSpec::Kind::hostname: break;  // resolved only when initiating
    }
  }
  return false;
}

}  // namespace corridor::control::ike
