// The control-plane daemon's top level: attach to the SA channel, keep the
// dataplane in sync with the SAs the control plane holds, run until SIGINT or
// SIGTERM. IKE (control/ikev2, control/ikev1) and the REST API (control/api)
// plug their event sources into this loop.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/config/loader.h"

namespace corridor::control {

struct DaemonOptions {
  // Where the SA list and IKE counters go as JSON on SIGUSR1 and at exit
  // (empty: nowhere). The REST API serves the same views.
  std::string status_file;
  // The file the config was loaded from: configs applied through the REST
  // API replace it, so a restart runs what was last applied.
  std::string config_file;
};

// Runs the daemon on a config loaded without errors from
// options.config_file; returns the process exit code.
int run_daemon(config::LoadResult loaded, const DaemonOptions& options);

}  // namespace corridor::control
