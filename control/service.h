// The control-plane daemon's top level: attach to the SA channel, keep the
// dataplane in sync with the SAs the control plane holds, run until SIGINT or
// SIGTERM. IKE (control/ikev2, control/ikev1) and the REST API (control/api)
// plug their event sources into this loop.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/config/model.h"

namespace corridor::control {

struct DaemonOptions {
  // Where the SA list and IKE counters go as JSON on SIGUSR1 and at exit
  // (empty: nowhere). The REST API serves the same views.
  std::string status_file;
  // The config as written (LoadResult::document), for the REST API's
  // GET /config; may be null.
  const nlohmann::ordered_json* document = nullptr;
};

// Returns the process exit code.
int run_daemon(const config::Config& config, const DaemonOptions& options = {});

}  // namespace corridor::control
