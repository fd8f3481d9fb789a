// Reads one JSON object of the config with its JSON pointer, type-checking
// each value and recording problems in Diagnostics instead of throwing, so a
// single pass reports every error in the file.
//
// Every key the loader asks for is remembered; finish() then reports the
// keys nobody asked for ("unknown key 'remote_adrs', did you mean
// 'remote_addrs'?"), because a silently ignored typo in a VPN config is an
// outage or a hole.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/diagnostics.h"
#include "common/config/duration.h"

namespace corridor::config {

// One list item with the pointer that names it.
struct ListItem {
  std::string pointer;
  std::string value;
};

class ObjectReader {
 public:
  // `value` may be any JSON; if it is not an object an error is recorded and
  // every accessor returns nullopt.
  ObjectReader(const nlohmann::ordered_json& value, std::string pointer, Diagnostics& diag);

  bool valid() const { return object_ != nullptr; }
  const std::string& pointer() const { return pointer_; }
  std::string pointer_of(std::string_view key) const { return json_pointer_append(pointer_, key); }
  Diagnostics& diagnostics() { return diag_; }

  // The raw value, or nullptr if absent. Marks the key as known.
  const nlohmann::ordered_json* get(std::string_view key);

  std::optional<std::string> string(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
  // A duration: JSON number of seconds or a swanctl string ("30s", "4h").
  std::optional<Seconds> duration(std::string_view key);
  // A byte/packet count: JSON number or string with k/m/g suffix.
  std::optional<std::uint64_t> count(std::string_view key);
  // A JSON array of strings, or one comma-separated string (swanctl style).
  std::optional<std::vector<ListItem>> string_list(std::string_view key);

  template <typename E>
  std::optional<E> choice(std::string_view key, std::initializer_list<std::pair<std::string_view, E>> options) {
    const auto text = string(key);
    if (!text) return std::nullopt;
    for (const auto& [name, value] : options)
      if (name == *text) return value;
    std::string names;
    for (const auto& [name, value] : options) names += (names.empty() ? "" : ", ") + std::string(name);
    diag_.error(pointer_of(key), "must be one of " + names + " (got '" + *text + "')");
    return std::nullopt;
  }

  // Keys of the object that match `pred` (e.g. "ike-*" sections), marked known.
  template <typename Pred>
  std::vector<std::string> keys_where(Pred pred) {
    std::vector<std::string> out;
    if (!object_) return out;
    for (const auto& item : object_->items())
      if (pred(item.key())) {
        out.push_back(item.key());
        known_.push_back(item.key());
      }
    return out;
  }

  // Reports keys never asked for. `unsupported` lists strongSwan keys that
  // Corridor deliberately does not implement, to say so instead of "unknown".
  void finish(std::initializer_list<std::string_view> unsupported = {});

 private:
  const nlohmann::ordered_json* object_ = nullptr;
  std::string pointer_;
  Diagnostics& diag_;
  std::vector<std::string> known_;
};

// "string", "number", ... for messages.
std::string json_type_name(const nlohmann::ordered_json& value);

}  // namespace corridor::config
