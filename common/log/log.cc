#include "common/log/log.h"

#include <syslog.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <algorithm>
#include <atomic>
#include <mutex>

#include <nlohmann/json.hpp>

namespace corridor::log {
namespace {

struct State {
  std::mutex mutex;
  config::LoggingConfig config;
  std::FILE* out = stderr;
  bool syslog = false;
  std::string program = "corridor";
  std::map<std::string, Level, std::less<>> overrides;
  Listener listener;
  // The most verbose of the overall level and the overrides, read without
  // the lock so a line no one wants costs one load.
  std::atomic<int> most_verbose{static_cast<int>(Level::info)};
};

State& state() {
  static State s;
  return s;
}

int syslog_priority(Level level) {
  switch (level) {
    case Level::error: return LOG_ERR;
    case Level::warning: return LOG_WARNING;
    case Level::info: return LOG_INFO;
    case Level::debug: return LOG_DEBUG;
  }
  return LOG_INFO;
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];  // room for any int the format could print
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

std::string configure(const config::LoggingConfig& config, std::string_view program) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (s.out != stderr && s.out != nullptr) std::fclose(s.out);
  s.out = stderr;
  s.syslog = false;
  s.config = config;
  s.program = program;
  s.overrides.clear();
  s.most_verbose = static_cast<int>(config.level);
  if (config.file == "syslog") {
    openlog(s.program.c_str(), LOG_PID, LOG_DAEMON);
    s.syslog = true;
  } else if (config.file != "stderr") {
    std::FILE* f = std::fopen(config.file.c_str(), "a");
    if (!f) return "cannot open log file " + config.file + ": " + std::strerror(errno) + "; logging to stderr";
    std::setvbuf(f, nullptr, _IOLBF, 0);
    s.out = f;
  }
  return {};
}

namespace {

// With the lock held.
bool wanted(const State& s, Level level, std::string_view subsystem) {
  const auto it = s.overrides.find(subsystem);
  const Level limit = it != s.overrides.end() ? it->second : s.config.level;
  return static_cast<int>(level) <= static_cast<int>(limit);
}

void update_most_verbose(State& s) {
  int most = static_cast<int>(s.config.level);
  for (const auto& [name, level] : s.overrides) most = std::max(most, static_cast<int>(level));
  s.most_verbose = most;
}

}  // namespace

bool enabled(Level level, std::string_view subsystem) {
  auto& s = state();
  if (static_cast<int>(level) > s.most_verbose.load(std::memory_order_relaxed)) return false;
  std::lock_guard lock(s.mutex);
  return wanted(s, level, subsystem);
}

Levels levels() {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  return {s.config.level, s.overrides};
}

void set_level(Level level) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.config.level = level;
  update_most_verbose(s);
}

void set_subsystem_level(std::string_view subsystem, std::optional<Level> level) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (level)
    s.overrides.insert_or_assign(std::string(subsystem), *level);
  else if (const auto it = s.overrides.find(subsystem); it != s.overrides.end())
    s.overrides.erase(it);
  update_most_verbose(s);
}

void set_listener(Listener listener) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.listener = std::move(listener);
}

void write(Level level, std::string_view subsystem, std::string_view message) {
  if (static_cast<int>(level) > state().most_verbose.load(std::memory_order_relaxed)) return;
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (!wanted(s, level, subsystem)) return;
  if (s.listener) s.listener(level, subsystem, message);
  if (s.syslog) {
    syslog(syslog_priority(level), "[%.*s] %.*s", static_cast<int>(subsystem.size()), subsystem.data(),
           static_cast<int>(message.size()), message.data());
    return;
  }
  std::string line;
  if (s.config.format == config::LogFormat::json) {
    nlohmann::json j{{"ts", timestamp()},
                     {"level", config::to_string(level)},
                     {"program", s.program},
                     {"subsys", subsystem},
                     {"msg", message}};
    // Invalid UTF-8 in a message must not throw from a logger.
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    std::string level_field(config::to_string(level));
    level_field.resize(7, ' ');  // "warning" is the longest level name
    line = timestamp() + " " + level_field + " [" + std::string(subsystem) + "] " + std::string(message);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), s.out);
  std::fflush(s.out);
}

}  // namespace corridor::log
