#include "control/check.h"

#include <ostream>

namespace corridor::control {

int report_check(const config::LoadResult& result, const std::string& path, std::ostream& out) {
  for (const auto& d : result.diagnostics.items())
    out << (d.severity == config::Severity::error ? "error: " : "warning: ") << d.to_string() << '\n';
  const auto errors = result.diagnostics.error_count();
  const auto warnings = result.diagnostics.warning_count();
  if (errors > 0) {
    out << path << ": " << errors << (errors == 1 ? " error" : " errors") << ", nothing applied\n";
    return 2;
  }
  out << "config OK";
  if (warnings > 0) out << " (" << warnings << (warnings == 1 ? " warning" : " warnings") << ")";
  out << '\n';
  return 0;
}

}  // namespace corridor::control
