// The IKEv1 state tables (control/ikev1/state.h): every message of each
// mode's table is one allowed step per role, nothing skips a step, and
// DELETED is reachable from anywhere and final.
#include <gtest/gtest.h>

#include <vector>

#include "control/ikev1/state.h"

namespace {

using namespace corridor::control::ikev1;  // NOLINT: test brevity

void walk(Role role, const std::vector<State>& path) {
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    EXPECT_TRUE(transition_allowed(role, path[i], path[i + 1]))
        << to_string(path[i]) << " -> " << to_string(path[i + 1]);
    if (i + 2 < path.size()) {
      EXPECT_FALSE(transition_allowed(role, path[i], path[i + 2]))
          << "skips: " << to_string(path[i]) << " -> " << to_string(path[i + 2]);
    }
    EXPECT_FALSE(transition_allowed(role, path[i + 1], path[i])) << "backwards from " << to_string(path[i + 1]);
    EXPECT_TRUE(transition_allowed(role, path[i], State::deleted));
  }
}

TEST(Ikev1State, MainModeTables) {
  walk(Role::initiator, {State::mm_idle, State::mm_sa_sent, State::mm_sa_rcvd, State::mm_ke_sent, State::mm_ke_rcvd,
                         State::mm_auth_sent, State::mm_done});
  walk(Role::responder, {State::mm_idle, State::mm_sa_rcvd, State::mm_sa_sent, State::mm_ke_rcvd, State::mm_ke_sent,
                         State::mm_auth_rcvd, State::mm_done});
  // A responder never sends message 1.
  EXPECT_FALSE(transition_allowed(Role::responder, State::mm_idle, State::mm_sa_sent));
}

TEST(Ikev1State, AggressiveAndQuickModeTables) {
  walk(Role::initiator, {State::am_idle, State::am_init_sent, State::am_resp_rcvd, State::am_done});
  walk(Role::responder, {State::am_idle, State::am_init_rcvd, State::am_resp_sent, State::am_done});
  walk(Role::initiator, {State::qm_idle, State::qm_init_sent, State::qm_resp_rcvd, State::qm_done});
  walk(Role::responder, {State::qm_idle, State::qm_init_rcvd, State::qm_resp_sent, State::qm_done});
  EXPECT_FALSE(transition_allowed(Role::initiator, State::mm_sa_sent, State::am_resp_rcvd));
}

TEST(Ikev1State, DeletedIsFinalAndNamesAreTheTables) {
  EXPECT_FALSE(transition_allowed(Role::initiator, State::deleted, State::mm_idle));
  EXPECT_FALSE(transition_allowed(Role::responder, State::deleted, State::deleted));
  EXPECT_EQ(to_string(State::mm_auth_sent), "MM_AUTH_SENT");
  EXPECT_EQ(to_string(State::am_resp_rcvd), "AM_RESP_RCVD");
  EXPECT_EQ(to_string(State::qm_done), "QM_DONE");
  EXPECT_TRUE(phase1_established(State::mm_done));
  EXPECT_TRUE(phase1_established(State::am_done));
  EXPECT_FALSE(phase1_established(State::mm_auth_sent));
}

}  // namespace
