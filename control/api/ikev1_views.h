// JSON views of the IKEv1 manager's state (ISAKMP SAs and their IPsec SAs),
// for the daemon's --status file, in the words of an IKEv1 operator: the
// MM_*/QM_* state, cookies, Phase 1 and Phase 2 proposals. No key material.
#pragma once

#include <nlohmann/json.hpp>

#include "control/ikev1/manager.h"

namespace corridor::control::api {

nlohmann::json ikev1_sa_json(const ikev1::IsakmpSaView& sa);
nlohmann::json ikev1_stats_json(const ikev1::ManagerStats& stats);

}  // namespace corridor::control::api
