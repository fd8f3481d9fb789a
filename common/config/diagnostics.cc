#include "common/config/diagnostics.h"

#include <algorithm>

namespace corridor::config {

std::string Diagnostic::to_string() const {
  if (pointer.empty()) return message;
  return pointer + ": " + message;
}

void Diagnostics::error(std::string pointer, std::string message) {
  items_.push_back({Severity::error, std::move(pointer), std::move(message)});
}

void Diagnostics::warning(std::string pointer, std::string message) {
  items_.push_back({Severity::warning, std::move(pointer), std::move(message)});
}

std::size_t Diagnostics::error_count() const {
  return static_cast<std::size_t>(std::count_if(items_.begin(), items_.end(),
                                                [](const Diagnostic& d) { return d.severity == Severity::error; }));
}

std::size_t Diagnostics::warning_count() const { return items_.size() - error_count(); }

std::string json_pointer_append(std::string_view pointer, std::string_view token) {
  std::string out(pointer);
  out += '/';
  for (char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

}  // namespace corridor::config
