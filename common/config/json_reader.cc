#include "common/config/json_reader.h"

#include <algorithm>

namespace corridor::config {
namespace {

// Levenshtein distance, for "did you mean" on misspelt keys.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string json_type_name(const nlohmann::ordered_json& value) {
  switch (value.type()) {
    case nlohmann::ordered_json::value_t::null: return "null";
    case nlohmann::ordered_json::value_t::object: return "an object";
    case nlohmann::ordered_json::value_t::array: return "an array";
    case nlohmann::ordered_json::value_t::string: return "a string";
    case nlohmann::ordered_json::value_t::boolean: return "a boolean";
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned: return "an integer";
    case nlohmann::ordered_json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

ObjectReader::ObjectReader(const nlohmann::ordered_json& value, std::string pointer, Diagnostics& diag)
    : pointer_(std::move(pointer)), diag_(diag) {
  if (value.is_object()) object_ = &value;
  else diag_.error(pointer_, "must be an object, not " + json_type_name(value));
}

const nlohmann::ordered_json* ObjectReader::get(std::string_view key) {
  known_.emplace_back(key);
  if (!object_) return nullptr;
  const auto it = object_->find(key);
  return it == object_->end() ? nullptr : &*it;
}

std::optional<std::string> ObjectReader::string(std::string_view key) {
  const auto* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    diag_.error(pointer_of(key), "must be a string, not " + json_type_name(*v));
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<bool> ObjectReader::boolean(std::string_view key) {
  const auto* v = get(key);
  if (!v) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>();
  // swanctl writes yes/no; accept them so pasted values work.
  if (v->is_string()) {
    const auto s = v->get<std::string>();
    if (s == "yes" || s == "true") return true;
    if (s == "no" || s == "false") return false;
  }
  diag_.error(pointer_of(key), "must be true or false, not " + v->dump());
  return std::nullopt;
}

std::optional<std::int64_t> ObjectReader::integer(std::string_view key, std::int64_t min, std::int64_t max) {
  const auto* v = get(key);
  if (!v) return std::nullopt;
  std::int64_t n = 0;
  if (v->is_number_unsigned() && v->get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX)) {
    n = static_cast<std::int64_t>(v->get<std::uint64_t>());
  } else if (v->is_number_integer()) {
    n = v->get<std::int64_t>();
  } else {
    diag_.error(pointer_of(key), "must be an integer, not " + json_type_name(*v));
    return std::nullopt;
  }
  if (n < min || n > max) {
    diag_.error(pointer_of(key), "must be " + std::to_string(min) + ".." + std::to_string(max) + " (got " +
                                     std::to_string(n) + ")");
    return std::nullopt;
  }
  return n;
}

std::optional<Seconds> ObjectReader::duration(std::string_view key) {
  const auto* v = get(key);
  if (!v) return std::nullopt;
  if (v->is_number_unsigned()) {
    const auto n = v->get<std::uint64_t>();
    if (n <= static_cast<std::uint64_t>(INT32_MAX)) return Seconds(static_cast<Seconds::rep>(n));
  } else if (v->is_string()) {
    if (const auto d = parse_duration(v->get<std::string>())) return d;
  }
  diag_.error(pointer_of(key), "not a time value: " + v->dump() + " (use seconds or 30s, 15m, 4h, 1d)");
  return std::nullopt;
}

std::optional<std::uint64_t> ObjectReader::count(std::string_view key) {
  const auto* v = get(key);
  if (!v) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<std::uint64_t>();
  if (v->is_string())
    if (const auto n = parse_count(v->get<std::string>())) return n;
  diag_.error(pointer_of(key), "not a count: " + v->dump() + " (use a number, optionally with k, m or g)");
  return std::nullopt;
}

std::optional<std::vector<ListItem>> ObjectReader::string_list(std::string_view key) {
  const auto* v = get(key);
  if (!v) return std::nullopt;
  const auto where = pointer_of(key);
  std::vector<ListItem> out;
  if (v->is_string()) {
    const auto text = v->get<std::string>();
    std::size_t start = 0;
    while (start <= text.size()) {
      auto end = text.find(',', start);
      if (end == std::string::npos) end = text.size();
      auto item = text.substr(start, end - start);
      const auto first = item.find_first_not_of(" \t");
      const auto last = item.find_last_not_of(" \t");
      item = first == std::string::npos ? std::string() : item.substr(first, last - first + 1);
      if (item.empty()) {
        diag_.error(where, "empty item in comma-separated list");
        return std::nullopt;
      }
      out.push_back({where, std::move(item)});
      start = end + 1;
    }
    return out;
  }
  if (!v->is_array()) {
    diag_.error(where, "must be a list (JSON array or comma-separated string), not " + json_type_name(*v));
    return std::nullopt;
  }
  bool ok = true;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const auto item_pointer = json_pointer_append(where, std::to_string(i));
    const auto& item = (*v)[i];
    if (!item.is_string()) {
      diag_.error(item_pointer, "must be a string, not " + json_type_name(item));
      ok = false;
    } else if (item.get<std::string>().empty()) {
      diag_.error(item_pointer, "must not be empty");
      ok = false;
    } else {
      out.push_back({item_pointer, item.get<std::string>()});
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

void ObjectReader::finish(std::initializer_list<std::string_view> unsupported) {
  if (!object_) return;
  for (const auto& item : object_->items()) {
    const auto& key = item.key();
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    if (std::find(unsupported.begin(), unsupported.end(), key) != unsupported.end()) {
      diag_.error(pointer_of(key), "strongSwan option '" + key + "' is not supported by Corridor");
      continue;
    }
    std::string message = "unknown key '" + key + "'";
    std::size_t best = 3;
    std::string suggestion;
    for (const auto& candidate : known_) {
      const auto d = edit_distance(key, candidate);
      if (d < best) {
        best = d;
        suggestion = candidate;
      }
    }
    if (!suggestion.empty()) message += ", did you mean '" + suggestion + "'?";
    diag_.error(pointer_of(key), std::move(message));
  }
}

}  // namespace corridor::config
