#include "common/config/redact.h"

#include <string>

namespace corridor::config {

namespace {

using Json = nlohmann::ordered_json;

void restore(Json& value, const Json* running, const std::string& pointer, Diagnostics& diag) {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string member = json_pointer_append(pointer, it.key());
      const Json* twin = running && running->is_object() && running->contains(it.key()) ? &(*running)[it.key()] : nullptr;
      if (is_secret_member(it.key()) && it.value().is_string() && it.value().get_ref<const std::string&>() == kRedacted) {
        if (twin && !twin->is_object()) it.value() = *twin;
        else diag.error(member, "\"<redacted>\" keeps the running value, but the running config has none here: "
                                "write the secret itself");
        continue;
      }
      restore(it.value(), twin, member, diag);
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      const Json* twin = running && running->is_array() && i < running->size() ? &(*running)[i] : nullptr;
      restore(value[i], twin, json_pointer_append(pointer, std::to_string(i)), diag);
    }
  }
}

}  // namespace

bool is_secret_member(std::string_view name) {
  return name == "secret" || name == "key" || name == "integ_key" || name == "psk";
}

Json redact(const Json& document) {
  if (document.is_object()) {
    Json out = Json::object();
    for (auto it = document.begin(); it != document.end(); ++it)
      out[it.key()] = is_secret_member(it.key()) && !it.value().is_object() ? Json(kRedacted) : redact(it.value());
    return out;
  }
  if (document.is_array()) {
    Json out = Json::array();
    for (const auto& e : document) out.push_back(redact(e));
    return out;
  }
  return document;
}

void restore_redacted(Json& document, const Json& running, Diagnostics& diag) {
  restore(document, &running, "", diag);
}

}  // namespace corridor::config
