// Time and size values as swanctl.conf writes them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace corridor::config {

using Seconds = std::chrono::seconds;

// "30s", "90m", "4h", "1d", or a bare number of seconds ("3600").
// nullopt if malformed or out of range (more than ~68 years).
std::optional<Seconds> parse_duration(std::string_view text);

// Byte or packet counts: a decimal number with an optional binary suffix
// k/K, m/M, g/G (x1024 each), as strongSwan's settings parser accepts.
std::optional<std::uint64_t> parse_count(std::string_view text);

}  // namespace corridor::config
