// Operator commands on IKEv1 SAs (POST /sas/{id}/rekey and the children
// routes of the API, `corridorctl rekey`): each one refuses, with the
// reason an operator can act on, what the SA's present state does not allow.
#include "common/log/log.h"
#include "control/ikev1/manager.h"

namespace corridor::control::ikev1 {

namespace {

IpsecSa* find_ipsec(IsakmpSa& sa, std::uint32_t spi_in) {
  for (auto& ipsec : sa.ipsec_sas)
    if (ipsec.spi_in == spi_in) return &ipsec;
  return nullptr;
}

bool refuse(std::string* why, std::string reason) {
  if (why) *why = std::move(reason);
  return false;
}

}  // namespace

bool Manager::rekey(std::uint64_t id, TimePoint now, std::string* why) {
  const auto it = sas_.find(id);
  if (it == sas_.end()) return refuse(why, "no ISAKMP SA " + std::to_string(id));
  IsakmpSa& sa = *it->second;
  if (!phase1_established(sa.state)) return refuse(why, sa.name() + " is not established (" + std::string(to_string(sa.state)) + ")");
  if (sa.superseded) return refuse(why, sa.name() + " was already replaced by a newer ISAKMP SA");
  if (sa.replacement != 0 && sas_.count(sa.replacement) != 0)
    return refuse(why, sa.name() + " is already being re-established");
  if (sa.ipsec_sas.empty())
    return refuse(why, sa.name() + " has no IPsec SA to carry over; initiate a child to start a new ISAKMP SA");
  if (!reestablish(sa, now)) return refuse(why, sa.name() + " could not start a new Main/Aggressive Mode (see the log)");
  return true;
}

bool Manager::rekey_ipsec(std::uint64_t id, std::uint32_t spi_in, TimePoint now, std::string* why) {
  const auto it = sas_.find(id);
  if (it == sas_.end()) return refuse(why, "no ISAKMP SA " + std::to_string(id));
  IsakmpSa& sa = *it->second;
  IpsecSa* ipsec = find_ipsec(sa, spi_in);
  if (!ipsec) return refuse(why, sa.name() + " has no IPsec SA with inbound SPI " + hex32(spi_in));
  if (!phase1_established(sa.state)) return refuse(why, sa.name() + " is not established");
  if (ipsec->retire_at || ipsec->redundant)
    return refuse(why, "IPsec SA " + hex32(spi_in) + " was already renewed and is being retired");
  if (ipsec->rekey_started) return refuse(why, "IPsec SA " + hex32(spi_in) + " is already being renewed");
  if (!ipsec->child) return refuse(why, "IPsec SA " + hex32(spi_in) + " has no child in the running config");
  ipsec->rekey_started = true;
  const auto* child = ipsec->child;
  if (!start_quick_mode(sa, *child, now, spi_in)) {
    if (IpsecSa* again = find_ipsec(sa, spi_in)) again->rekey_started = false;
    return refuse(why, "the Quick Mode renewing " + hex32(spi_in) + " could not start (see the log)");
  }
  return true;
}

bool Manager::delete_ipsec(std::uint64_t id, std::uint32_t spi_in, TimePoint now, std::string* why) {
  const auto it = sas_.find(id);
  if (it == sas_.end()) return refuse(why, "no ISAKMP SA " + std::to_string(id));
  IsakmpSa& sa = *it->second;
  if (!find_ipsec(sa, spi_in)) return refuse(why, sa.name() + " has no IPsec SA with inbound SPI " + hex32(spi_in));
  delete_ipsec_sas(sa, {spi_in}, now);
  return true;
}

std::size_t Manager::terminate_children(std::string_view connection, std::string_view child, TimePoint now) {
  std::size_t count = 0;
  for (auto& [id, owned] : sas_) {
    IsakmpSa& sa = *owned;
    if (!sa.connection || sa.connection->name != connection || !phase1_established(sa.state)) continue;
    std::vector<std::uint32_t> spis;
    for (const auto& ipsec : sa.ipsec_sas)
      if (ipsec.name == child && !ipsec.retire_at) spis.push_back(ipsec.spi_in);
    if (spis.empty()) continue;
    for (const auto spi : spis)
      log::info("ike", "operator: deleting IPsec SA " + std::string(child) + " " + hex32(spi) + " of " + sa.name());
    delete_ipsec_sas(sa, spis, now);
    count += spis.size();
  }
  return count;
}

}  // namespace corridor::control::ikev1
