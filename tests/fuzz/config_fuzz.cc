// Fuzz target: the whole config loader on arbitrary JSON text. It must never
// crash, and must either return a Config or at least one error.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  corridor::config::LoadOptions options;
  options.check_files = false;  // no file system access from fuzz inputs
  const auto result = corridor::config::load_config_text(text, options);
  if (result.ok() == result.diagnostics.has_errors()) std::abort();
  for (const auto& d : result.diagnostics.items())
    if (d.message.empty()) std::abort();  // every diagnostic says something
  return 0;
}
