#include "dataplane/net/routes.h"

#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>

#include <stdexcept>

namespace corridor::dataplane::net {

RouteTable::RouteTable(const std::string& name, std::uint32_t max_routes) {
  rte_lpm_config c4{};
  c4.max_rules = max_routes;
  c4.number_tbl8s = 256;
  v4_ = rte_lpm_create((name + "_v4").c_str(), SOCKET_ID_ANY, &c4);
  rte_lpm6_config c6{};
  c6.max_rules = max_routes;
  c6.number_tbl8s = 1 << 12;
  v6_ = rte_lpm6_create((name + "_v6").c_str(), SOCKET_ID_ANY, &c6);
  if (v4_ == nullptr || v6_ == nullptr) {
    const std::string why = rte_strerror(rte_errno);
    rte_lpm_free(v4_);
    rte_lpm6_free(v6_);
    throw std::runtime_error("cannot create the route table: " + why);
  }
  hops_.reserve(max_routes);
}

RouteTable::~RouteTable() {
  rte_lpm_free(v4_);
  rte_lpm6_free(v6_);
}

bool RouteTable::add(const corridor::net::Prefix& prefix, const NextHop& hop, std::string* error) {
  if (hops_.size() == hops_.capacity()) {
    if (error) *error = "the route table is full";
    return false;
  }
  const auto index = static_cast<std::uint32_t>(hops_.size());
  const corridor::net::Prefix network = prefix.network();
  const auto& a = network.address.bytes();
  int rc = 0;
  if (prefix.address.is_v4()) {
    const std::uint32_t ip = std::uint32_t{a[0]} << 24 | std::uint32_t{a[1]} << 16 | std::uint32_t{a[2]} << 8 | a[3];
    // rte_lpm takes depth 1..32; a default route is two /1 halves.
    if (prefix.length == 0) {
      rc = rte_lpm_add(v4_, 0, 1, index);
      if (rc == 0) rc = rte_lpm_add(v4_, 0x80000000u, 1, index);
    } else {
      rc = rte_lpm_add(v4_, ip, prefix.length, index);
    }
  } else {
    if (prefix.length == 0) {
      std::uint8_t high[16] = {0x80};
      rc = rte_lpm6_add(v6_, a.data(), 1, index);
      if (rc == 0) rc = rte_lpm6_add(v6_, high, 1, index);
    } else {
      rc = rte_lpm6_add(v6_, a.data(), prefix.length, index);
    }
  }
  if (rc != 0) {
    if (error) *error = "cannot add route " + prefix.to_string() + ": " + rte_strerror(-rc);
    return false;
  }
  hops_.push_back(hop);
  return true;
}

const NextHop* RouteTable::lookup_v4(const std::uint8_t* dst) const {
  const std::uint32_t ip = std::uint32_t{dst[0]} << 24 | std::uint32_t{dst[1]} << 16 | std::uint32_t{dst[2]} << 8 | dst[3];
  std::uint32_t index = 0;
  return rte_lpm_lookup(v4_, ip, &index) == 0 ? &hops_[index] : nullptr;
}

const NextHop* RouteTable::lookup_v6(const std::uint8_t* dst) const {
  std::uint32_t index = 0;
  return rte_lpm6_lookup(v6_, dst, &index) == 0 ? &hops_[index] : nullptr;
}

}  // namespace corridor::dataplane::net
