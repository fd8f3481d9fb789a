// `corridor-control --config FILE --check`: validate a config and say so in
// the operator's terms. Shared by the daemon's start-up (which refuses to run
// on an invalid config) and the REST API's dry-run.
#pragma once

#include <iosfwd>
#include <string>

#include "common/config/loader.h"

namespace corridor::control {

// Prints every diagnostic as "error: /json/pointer: message" or
// "warning: ...", then "config OK" (with a warning count) if there were no
// errors. Returns the process exit code: 0 valid, 2 invalid.
int report_check(const config::LoadResult& result, const std::string& path, std::ostream& out);

}  // namespace corridor::control
