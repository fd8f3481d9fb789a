// Secret values in a written config: the REST API shows the config with
// each of them replaced by "<redacted>", and takes "<redacted>" back in a
// new config as "keep the running value here", so an operator can GET the
// config, change one thing and PUT it back without ever seeing a key.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/config/diagnostics.h"

namespace corridor::config {

inline constexpr std::string_view kRedacted = "<redacted>";

// Members whose value is a secret: PSKs and passphrases ("secret", "psk"),
// static SA keys ("key", "integ_key").
bool is_secret_member(std::string_view name);

// `document` with every secret member's (non-object) value replaced.
nlohmann::ordered_json redact(const nlohmann::ordered_json& document);

// Replaces each secret member whose value is "<redacted>" by the value at
// the same JSON pointer in `running`; an error in `diag` for each one that
// has no running value to stand for (a new secret must be written out).
void restore_redacted(nlohmann::ordered_json& document, const nlohmann::ordered_json& running, Diagnostics& diag);

}  // namespace corridor::config
