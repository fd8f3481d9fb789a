// IKEv1 negotiation states, named as operators learn them (the Main,
// Aggressive and Quick Mode state tables; Cisco's `show crypto isakmp sa`),
// and the one checked function that moves an SA between them.
//
// Main Mode, initiator:  MM_IDLE -> MM_SA_SENT -> MM_SA_RCVD -> MM_KE_SENT
//                        -> MM_KE_RCVD -> MM_AUTH_SENT -> MM_DONE
// Main Mode, responder:  MM_IDLE -> MM_SA_RCVD -> MM_SA_SENT -> MM_KE_RCVD
//                        -> MM_KE_SENT -> MM_AUTH_RCVD -> MM_DONE
// Aggressive, initiator: AM_IDLE -> AM_INIT_SENT -> AM_RESP_RCVD -> AM_DONE
// Aggressive, responder: AM_IDLE -> AM_INIT_RCVD -> AM_RESP_SENT -> AM_DONE
// Quick Mode, initiator: QM_IDLE -> QM_INIT_SENT -> QM_RESP_RCVD -> QM_DONE
// Quick Mode, responder: QM_IDLE -> QM_INIT_RCVD -> QM_RESP_SENT -> QM_DONE
//
// "_RCVD" states are passed through on the way to the next "_SENT" one (a
// message is processed and answered in one step), so a log shows each
// message of the table. MM_DONE / AM_DONE is the established ISAKMP SA;
// QM_DONE the installed IPsec SA pair. Any state may go to DELETED (a
// Delete sent or received, a failure, a timeout), which is final.
#pragma once

#include <cstdint>
#include <string_view>

namespace corridor::control::ikev1 {

enum class State : std::uint8_t {
  mm_idle,
  mm_sa_sent,
  mm_sa_rcvd,
  mm_ke_sent,
  mm_ke_rcvd,
  mm_auth_sent,
  mm_auth_rcvd,
  mm_done,
  am_idle,
  am_init_sent,
  am_init_rcvd,
  am_resp_sent,
  am_resp_rcvd,
  am_done,
  qm_idle,
  qm_init_sent,
  qm_init_rcvd,
  qm_resp_sent,
  qm_resp_rcvd,
  qm_done,
  deleted,
};

std::string_view to_string(State state);  // "MM_SA_SENT", ...

enum class Role : std::uint8_t { initiator, responder };

// True if the state tables allow `from` -> `to` for this role.
bool transition_allowed(Role role, State from, State to);

// Phase 1 established (MM_DONE or AM_DONE).
constexpr bool phase1_established(State s) { return s == State::mm_done || s == State::am_done; }

}  // namespace corridor::control::ikev1
