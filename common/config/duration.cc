#include "common/config/duration.h"

#include <charconv>
#include <limits>

namespace corridor::config {
namespace {

std::optional<std::uint64_t> parse_with_suffix(std::string_view text, std::uint64_t (*scale)(char),
                                               std::uint64_t max) {
  if (text.empty()) return std::nullopt;
  std::uint64_t factor = 1;
  if (const char last = text.back(); last < '0' || last > '9') {
    factor = scale(last);
    if (factor == 0) return std::nullopt;
    text.remove_suffix(1);
  }
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  if (value > max / factor) return std::nullopt;
  return value * factor;
}

std::uint64_t time_factor(char c) {
  switch (c) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    default: return 0;
  }
}

std::uint64_t size_factor(char c) {
  switch (c) {
    case 'k': case 'K': return 1ull << 10;
    case 'm': case 'M': return 1ull << 20;
    case 'g': case 'G': return 1ull << 30;
    default: return 0;
  }
}

}  // namespace

std::optional<Seconds> parse_duration(std::string_view text) {
  const auto v = parse_with_suffix(text, time_factor, std::numeric_limits<std::int32_t>::max());
  if (!v) return std::nullopt;
  return Seconds(static_cast<Seconds::rep>(*v));
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  return parse_with_suffix(text, size_factor, std::numeric_limits<std::uint64_t>::max());
}

}  // namespace corridor::config
