// Prometheus text exposition (format 0.0.4) of the daemon's state, for
// the metrics listener (docs/api.md, "Metrics"). Counters here only grow:
// traffic of SAs that are gone stays in their connection's totals
// (TrafficLedger).
#pragma once

#include <string>

#include "control/api/api.h"

namespace corridor::control::api {

// Settles `sources.traffic` against the SAs alive now, then renders.
std::string render_metrics(const Sources& sources, const ServerStats* api);

// A label value as the format wants it: backslash, double quote and
// newline escaped.
std::string escape_label(std::string_view value);

}  // namespace corridor::control::api
