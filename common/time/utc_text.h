// Wall-clock times as the API, the token file and the config history
// write them: RFC 3339 in UTC to the second ("2026-12-06T02:30:00Z").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace corridor::timefmt {

std::string utc_text(std::chrono::system_clock::time_point t);
// Exactly the form utc_text writes; nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_utc_text(std::string_view text);

}  // namespace corridor::timefmt
