// The control-plane daemon's top level: attach to the SA channel, keep the
// dataplane in sync with the SAs the control plane holds, run until SIGINT or
// SIGTERM. IKE (control/ikev2, control/ikev1) and the REST API (control/api)
// plug their event sources into this loop.
#pragma once

#include "common/config/model.h"

namespace corridor::control {

// Returns the process exit code.
int run_daemon(const config::Config& config);

}  // namespace corridor::control
