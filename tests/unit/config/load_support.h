// Helpers of the config loader tests: load a document without touching the
// file system, find the diagnostic at a JSON pointer, print them all.
#pragma once

#include <string>

#include "common/config/loader.h"

namespace corridor::config::testing {

inline LoadResult load(const char* text, LoadOptions options = {}) {
  options.check_files = options.check_files && !options.base_dir.empty();
  return load_config_text(text, options);
}

// The first diagnostic at `pointer`, or nullptr.
inline const Diagnostic* find(const LoadResult& r, const std::string& pointer) {
  for (const auto& d : r.diagnostics.items())
    if (d.pointer == pointer) return &d;
  return nullptr;
}

// The message at `pointer`, or "(none)" so a missing one fails an EXPECT_EQ readably.
inline std::string message_at(const LoadResult& r, const std::string& pointer) {
  const auto* d = find(r, pointer);
  return d ? d->message : "(none)";
}

// True when some diagnostic at `pointer` says exactly `message`.
inline bool has(const LoadResult& r, const std::string& pointer, const std::string& message) {
  for (const auto& d : r.diagnostics.items())
    if (d.pointer == pointer && d.message == message) return true;
  return false;
}

inline std::string all(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics.items()) out += d.to_string() + "\n";
  return out;
}

}  // namespace corridor::config::testing
