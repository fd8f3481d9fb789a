#include "control/ikev1/state.h"

#include <array>
#include <utility>

namespace corridor::control::ikev1 {

std::string_view to_string(State state) {
  switch (state) {
    case State::mm_idle: return "MM_IDLE";
    case State::mm_sa_sent: return "MM_SA_SENT";
    case State::mm_sa_rcvd: return "MM_SA_RCVD";
    case State::mm_ke_sent: return "MM_KE_SENT";
    case State::mm_ke_rcvd: return "MM_KE_RCVD";
    case State::mm_auth_sent: return "MM_AUTH_SENT";
    case State::mm_auth_rcvd: return "MM_AUTH_RCVD";
    case State::mm_done: return "MM_DONE";
    case State::am_idle: return "AM_IDLE";
    case State::am_init_sent: return "AM_INIT_SENT";
    case State::am_init_rcvd: return "AM_INIT_RCVD";
    case State::am_resp_sent: return "AM_RESP_SENT";
    case State::am_resp_rcvd: return "AM_RESP_RCVD";
    case State::am_done: return "AM_DONE";
    case State::qm_idle: return "QM_IDLE";
    case State::qm_init_sent: return "QM_INIT_SENT";
    case State::qm_init_rcvd: return "QM_INIT_RCVD";
    case State::qm_resp_sent: return "QM_RESP_SENT";
    case State::qm_resp_rcvd: return "QM_RESP_RCVD";
    case State::qm_done: return "QM_DONE";
    case State::deleted: return "DELETED";
  }
  return "UNKNOWN";
}

namespace {

using S = State;
using Step = std::pair<State, State>;

// The tables of state.h, one per role.
constexpr std::array kInitiator = {
    Step{S::mm_idle, S::mm_sa_sent},      Step{S::mm_sa_sent, S::mm_sa_rcvd},   Step{S::mm_sa_rcvd, S::mm_ke_sent},
    Step{S::mm_ke_sent, S::mm_ke_rcvd},   Step{S::mm_ke_rcvd, S::mm_auth_sent}, Step{S::mm_auth_sent, S::mm_done},
    Step{S::am_idle, S::am_init_sent},    Step{S::am_init_sent, S::am_resp_rcvd}, Step{S::am_resp_rcvd, S::am_done},
    Step{S::qm_idle, S::qm_init_sent},    Step{S::qm_init_sent, S::qm_resp_rcvd}, Step{S::qm_resp_rcvd, S::qm_done},
};
constexpr std::array kResponder = {
    Step{S::mm_idle, S::mm_sa_rcvd},      Step{S::mm_sa_rcvd, S::mm_sa_sent},   Step{S::mm_sa_sent, S::mm_ke_rcvd},
    Step{S::mm_ke_rcvd, S::mm_ke_sent},   Step{S::mm_ke_sent, S::mm_auth_rcvd}, Step{S::mm_auth_rcvd, S::mm_done},
    Step{S::am_idle, S::am_init_rcvd},    Step{S::am_init_rcvd, S::am_resp_sent}, Step{S::am_resp_sent, S::am_done},
    Step{S::qm_idle, S::qm_init_rcvd},    Step{S::qm_init_rcvd, S::qm_resp_sent}, Step{S::qm_resp_sent, S::qm_done},
};

}  // namespace

bool transition_allowed(Role role, State from, State to) {
  if (from == State::deleted) return false;
  if (to == State::deleted) return true;
  const auto& table = role == Role::initiator ? kInitiator : kResponder;
  for (const auto& [a, b] : table) {
    if (a == from && b == to) return true;
  }
  return false;
}

}  // namespace corridor::control::ikev1
