// Where corridorctl finds the API: for each of URL, token and CA file, the
// first of: option, environment (CORRIDOR_URL, CORRIDOR_TOKEN,
// CORRIDOR_CACERT), ~/.config/corridor/corridorctl.json, default.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "tools/corridorctl/cli.h"

namespace corridor::ctl {

namespace {

constexpr const char* kDefaultUrl = "https://127.0.0.1:8443";

// A settings problem is not a command line mistake: no usage text, but the
// same exit code, since the user has to fix how corridorctl is invoked.
[[noreturn]] void settings_error(const std::string& message) {
  std::cerr << "corridorctl: " << message << '\n';
  throw Failed{kExitUsage};
}

std::string read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) settings_error("cannot read token file " + path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
  if (line.empty()) settings_error("token file " + path + " is empty");
  return line;
}

struct FileSettings {
  std::optional<std::string> url, token, cacert;
};

std::string config_file_path() {
  const char* home = std::getenv("HOME");
  return home && *home ? std::string(home) + "/.config/corridor/corridorctl.json" : std::string();
}

FileSettings read_config_file(const std::string& path) {
  FileSettings out;
  std::ifstream in(path);
  if (!in) return out;  // no file: nothing configured there
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();  // without nlohmann's "[json.exception...] " tag
    if (const auto bracket = what.find("] "); bracket != std::string::npos) what.erase(0, bracket + 2);
    settings_error(path + ": " + what);
  }
  if (!doc.is_object()) settings_error(path + ": must be a JSON object {\"url\", \"token\", \"cacert\"}");
  for (const auto& [key, value] : doc.items()) {
    std::optional<std::string>* slot = key == "url" ? &out.url : key == "token" ? &out.token : key == "cacert" ? &out.cacert : nullptr;
    if (!slot) settings_error(path + ": unknown key '" + key + "' (url, token, cacert)");
    if (!value.is_string()) settings_error(path + ": " + key + " must be a string");
    *slot = value.get<std::string>();
  }
  // A relative CA file is meant relative to the settings file, not to
  // wherever corridorctl happens to run.
  if (out.cacert && !out.cacert->empty() && out.cacert->front() != '/')
    *out.cacert = path.substr(0, path.rfind('/') + 1) + *out.cacert;
  struct stat st{};
  if (out.token && ::stat(path.c_str(), &st) == 0 && (st.st_mode & 044) != 0)
    std::cerr << "corridorctl: warning: " << path << " holds a token and is readable by others (chmod 600 it)\n";
  return out;
}

void from_env(const char* name, std::optional<std::string>& slot) {
  if (slot) return;
  if (const char* value = std::getenv(name); value && *value) slot = value;
}

}  // namespace

ClientSettings resolve_settings(const Args& args) {
  std::optional<std::string> url = args.url, token = args.token, cacert = args.cacert;
  if (args.token_file) token = read_token_file(*args.token_file);
  from_env("CORRIDOR_URL", url);
  from_env("CORRIDOR_TOKEN", token);
  if (!args.insecure) from_env("CORRIDOR_CACERT", cacert);
  if (!url || !token || (!cacert && !args.insecure)) {
    if (const auto path = config_file_path(); !path.empty()) {
      const auto file = read_config_file(path);
      if (!url) url = file.url;
      if (!token) token = file.token;
      if (!cacert && !args.insecure) cacert = file.cacert;
    }
  }

  ClientSettings settings;
  std::string why;
  const auto endpoint = parse_url(url.value_or(kDefaultUrl), &why);
  if (!endpoint) settings_error(why);
  settings.endpoint = *endpoint;
  settings.token = token.value_or("");
  // The token goes into a header line: no spaces or control characters,
  // and the message must not echo it.
  if (!std::all_of(settings.token.begin(), settings.token.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
    settings_error("the token contains spaces or control characters");
  settings.cacert = cacert.value_or("");
  settings.insecure = args.insecure;
  if (!settings.endpoint.tls && !settings.token.empty() && !is_loopback_host(settings.endpoint.host))
    std::cerr << "corridorctl: warning: sending the token in clear text to " << authority(settings.endpoint) << '\n';
  return settings;
}

}  // namespace corridor::ctl
