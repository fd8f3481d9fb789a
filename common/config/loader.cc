#include "common/config/loader.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/config/loader_internal.h"

namespace corridor::config {
namespace detail {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string Context::resolve_file(const std::string& pointer, const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_relative() && !options.base_dir.empty()) p = std::filesystem::path(options.base_dir) / p;
  p = p.lexically_normal();
  if (options.check_files && ::access(p.c_str(), R_OK) != 0)
    diag.warning(pointer, "file " + p.string() + " cannot be read (" + std::strerror(errno) + ")");
  return p.string();
}

}  // namespace detail

namespace {

using detail::Context;

SaChannelConfig read_sa_channel(const nlohmann::ordered_json& value, const std::string& pointer, Diagnostics& diag) {
  SaChannelConfig out;
  ObjectReader r(value, pointer, diag);
  if (const auto name = r.string("name")) {
    // POSIX shm names are "/name" with no other slash (shm_open(3)).
    if (name->size() < 2 || name->front() != '/' || name->find('/', 1) != std::string::npos || name->size() > 250)
      diag.error(r.pointer_of("name"), "shared memory name must look like /corridor (one leading slash, no other)");
    else
      out.name = *name;
  }
  auto slots = [&](const char* key, std::uint32_t& field) {
    if (const auto n = r.integer(key, 64, 1 << 20)) {
      if ((*n & (*n - 1)) != 0) diag.error(r.pointer_of(key), "must be a power of two (got " + std::to_string(*n) + ")");
      else field = static_cast<std::uint32_t>(*n);
    }
  };
  slots("command_slots", out.command_slots);
  slots("event_slots", out.event_slots);
  r.finish();
  return out;
}

ApiConfig read_api(const nlohmann::ordered_json& value, const std::string& pointer, const Context& ctx) {
  ApiConfig out;
  out.enabled = true;
  ObjectReader r(value, pointer, ctx.diag);
  auto socket = [&](const char* key) -> std::optional<net::SocketAddress> {
    const auto text = r.string(key);
    if (!text) return std::nullopt;
    std::string why;
    auto sa = net::SocketAddress::parse(*text, &why);
    if (!sa) ctx.diag.error(r.pointer_of(key), why + ": " + *text);
    return sa;
  };
  if (const auto listen = socket("listen")) out.listen = *listen;
  out.metrics_listen = socket("metrics_listen");
  if (const auto* tls = r.get("tls")) {
    ObjectReader t(*tls, r.pointer_of("tls"), ctx.diag);
    const auto cert = t.string("cert");
    const auto key = t.string("key");
    if (t.valid() && (!cert || !key)) ctx.diag.error(t.pointer(), "tls needs both cert and key");
    if (cert && key)
      out.tls = TlsConfig{ctx.resolve_file(t.pointer_of("cert"), *cert), ctx.resolve_file(t.pointer_of("key"), *key)};
    t.finish();
  }
  out.allow_plain_http = r.boolean("allow_plain_http").value_or(false);
  out.metrics_per_sa = r.boolean("metrics_per_sa").value_or(false);
  if (const auto tokens = r.string("tokens")) out.tokens = ctx.resolve_file(r.pointer_of("tokens"), *tokens);
  r.finish();

  if (out.allow_plain_http && !out.listen.address.is_loopback())
    ctx.diag.error(r.pointer_of("allow_plain_http"),
                   "plain HTTP is only allowed on a loopback address (listen is " + out.listen.to_string() +
                       "); bearer tokens would cross the network in clear");
  if (!out.allow_plain_http && !out.tls)
    ctx.diag.error(r.pointer_of("tls"), "the API needs tls {cert, key} (or allow_plain_http on loopback); "
                                        "scripts/make-api-cert.sh makes a self-signed pair");
  if (out.tokens.empty())
    ctx.diag.error(r.pointer_of("tokens"), "the API needs a token file (corridorctl token create makes one)");
  return out;
}

IkeConfig read_ike(const nlohmann::ordered_json& value, const std::string& pointer, Diagnostics& diag) {
  IkeConfig out;
  ObjectReader r(value, pointer, diag);
  // Seconds as a number (fractions allowed: 0.5) or a swanctl time ("4s").
  if (const auto* v = r.get("retransmit_timeout")) {
    std::optional<double> seconds;
    if (v->is_number()) seconds = v->get<double>();
    else if (v->is_string())
      if (const auto d = parse_duration(v->get<std::string>())) seconds = static_cast<double>(d->count());
    if (!seconds || !(*seconds >= 0.1 && *seconds <= 3600))
      diag.error(r.pointer_of("retransmit_timeout"),
                 "must be 0.1..3600 seconds (a number such as 4 or 0.5, or a time such as 4s); got " + v->dump());
    else
      out.retransmit_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(std::lround(*seconds * 1000)));
  }
  if (const auto* v = r.get("retransmit_base")) {
    if (!v->is_number() || !(v->get<double>() >= 1.0 && v->get<double>() <= 10.0))
      diag.error(r.pointer_of("retransmit_base"), "must be a number 1..10 (each resend waits this many times "
                                                  "longer than the one before); got " + v->dump());
    else
      out.retransmit_base = v->get<double>();
  }
  if (const auto tries = r.integer("retransmit_tries", 0, 20)) out.retransmit_tries = static_cast<unsigned>(*tries);
  r.finish();
  if (const double total = out.give_up_seconds(); total > 24 * 3600.0) {
    // %.0f, not a cast: the total can be far beyond any integer (3600 x 10^20).
    char text[64];
    std::snprintf(text, sizeof text, "%.0f", total);
    diag.error(pointer, std::string("an unanswered request would be retransmitted for ") + text +
                            " s; keep it under a day (lower retransmit_tries or retransmit_base)");
  }
  return out;
}

LoggingConfig read_logging(const nlohmann::ordered_json& value, const std::string& pointer, Diagnostics& diag) {
  LoggingConfig out;
  ObjectReader r(value, pointer, diag);
  if (const auto level = r.choice<LogLevel>("level", {{"error", LogLevel::error},
                                                      {"warning", LogLevel::warning},
                                                      {"info", LogLevel::info},
                                                      {"debug", LogLevel::debug}}))
    out.level = *level;
  if (const auto file = r.string("file")) {
    if (file->empty()) diag.error(r.pointer_of("file"), "must be stderr, syslog or a file path");
    else out.file = *file;
  }
  if (const auto format = r.choice<LogFormat>("format", {{"text", LogFormat::text}, {"json", LogFormat::json}}))
    out.format = *format;
  r.finish();
  return out;
}

// Byte offset -> "line L column C" for JSON syntax errors.
std::string position_of(std::string_view text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + " column " + std::to_string(column);
}

}  // namespace

const ConnectionConfig* Config::find_connection(std::string_view name) const {
  for (const auto& c : connections)
    if (c.name == name) return &c;
  return nullptr;
}

LoadResult load_config(const nlohmann::ordered_json& document, const LoadOptions& options) {
  LoadResult result;
  Context ctx{options, result.diagnostics};
  Config config;
  ObjectReader root(document, "", result.diagnostics);
  if (const auto* v = root.get("connections")) config.connections = detail::read_connections(*v, "/connections", ctx);
  if (const auto* v = root.get("secrets")) config.secrets = detail::read_secrets(*v, "/secrets", ctx);
  if (const auto* v = root.get("dataplane")) config.dataplane = detail::read_dataplane(*v, "/dataplane", ctx);
  if (const auto* v = root.get("ike")) config.ike = read_ike(*v, "/ike", ctx.diag);
  if (const auto* v = root.get("sa_channel")) config.sa_channel = read_sa_channel(*v, "/sa_channel", ctx.diag);
  if (const auto* v = root.get("api")) config.api = read_api(*v, "/api", ctx);
  if (const auto* v = root.get("logging")) config.logging = read_logging(*v, "/logging", ctx.diag);
  root.finish({"authorities", "pools"});
  if (!result.diagnostics.has_errors()) detail::cross_check(config, ctx);
  if (!result.diagnostics.has_errors()) result.config = std::move(config);
  result.document = document;
  return result;
}

LoadResult load_config_text(std::string_view text, const LoadOptions& options) {
  nlohmann::ordered_json document;
  try {
    // Comments (// and /* */) are allowed, as swanctl.conf allows #: an
    // annotated config is easier to keep right (conf/corridor.reference.json).
    document = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const nlohmann::ordered_json::parse_error& e) {
    LoadResult result;
    // e.what() repeats the byte offset in nlohmann's own words; give line/column instead.
    std::string what = e.what();
    if (const auto colon = what.rfind(": "); colon != std::string::npos) what = what.substr(colon + 2);
    result.diagnostics.error("", "JSON syntax error at " + position_of(text, e.byte ? e.byte - 1 : 0) + ": " + what);
    return result;
  } catch (const nlohmann::ordered_json::exception& e) {
    // Valid syntax the parser still cannot represent, e.g. a number beyond
    // the range of a double ("1e999"): found by the config fuzz target.
    LoadResult result;
    std::string what = e.what();
    if (const auto bracket = what.find("] "); bracket != std::string::npos) what = what.substr(bracket + 2);
    result.diagnostics.error("", "JSON value cannot be read: " + what);
    return result;
  }
  return load_config(document, options);
}

LoadResult load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult result;
    result.diagnostics.error("", "cannot read config file " + path + ": " + std::strerror(errno));
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  LoadOptions options;
  options.base_dir = std::filesystem::absolute(path).parent_path().string();
  return load_config_text(text.str(), options);
}

}  // namespace corridor::config
