// Loading and validating the config. Every problem in the document is
// reported at once (see diagnostics.h); a Config is returned only if there
// are no errors, so nothing is ever applied from an invalid config.
// Warnings (a certificate file not found yet, a short PSK) do not block.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/config/diagnostics.h"
#include "common/config/model.h"

namespace corridor::config {

struct LoadOptions {
  // Relative file names (certificates, keys, token file) are taken relative
  // to this directory and stored absolute. Empty: the current directory.
  std::string base_dir;
  // Warn about referenced files that do not exist or cannot be read.
  bool check_files = true;
};

struct LoadResult {
  std::optional<Config> config;  // set iff there were no errors
  Diagnostics diagnostics;
  // The document as read (null after a JSON syntax error): the REST API
  // shows the running config as the operator wrote it, secrets redacted.
  nlohmann::ordered_json document;
  bool ok() const { return config.has_value(); }
};

LoadResult load_config(const nlohmann::ordered_json& document, const LoadOptions& options = {});
// Parses JSON text first; a syntax error is reported with line and column.
LoadResult load_config_text(std::string_view text, const LoadOptions& options = {});
// Reads a file; relative paths in it are resolved against its directory.
LoadResult load_config_file(const std::string& path);

}  // namespace corridor::config
