// Process-wide logging for both daemons, configured by the config's
// `logging` section: a level, a destination (stderr, syslog or a file) and a
// format (text for people, JSON lines for log shippers).
//
//   2026-11-23T11:20:01.532Z info    [chan] dataplane attached (generation 3)
//
// Subsystems are short tags in the strongSwan manner (ike, cfg, chan, api,
// net). Never pass key material or secrets: messages are written verbatim.
// Serialised by a mutex: for the control plane and the dataplane's main
// lcore, never for the per-packet path (workers count drops instead).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/config/model.h"

namespace corridor::log {

using Level = config::LogLevel;

// Applies a logging config. On failure (a log file that cannot be opened)
// keeps logging to stderr and returns why; otherwise returns "".
std::string configure(const config::LoggingConfig& config, std::string_view program);

bool enabled(Level level, std::string_view subsystem = {});
void write(Level level, std::string_view subsystem, std::string_view message);

// Run-time levels (the REST API's /logging): the overall level, and
// overrides for single subsystems ("ike": debug while the rest stays at
// info). An override of nullopt removes it.
struct Levels {
  Level level = Level::info;
  std::map<std::string, Level, std::less<>> subsystems;
};
Levels levels();
void set_level(Level level);
void set_subsystem_level(std::string_view subsystem, std::optional<Level> level);

// One more place every written line goes (the API's event stream), called
// with the logger's lock held: it must only queue the line, never log.
// Lines below the configured levels never reach it. Empty: none.
using Listener = std::function<void(Level, std::string_view subsystem, std::string_view message)>;
void set_listener(Listener listener);

inline void error(std::string_view subsystem, std::string_view message) { write(Level::error, subsystem, message); }
inline void warning(std::string_view subsystem, std::string_view message) { write(Level::warning, subsystem, message); }
inline void info(std::string_view subsystem, std::string_view message) { write(Level::info, subsystem, message); }
inline void debug(std::string_view subsystem, std::string_view message) { write(Level::debug, subsystem, message); }

}  // namespace corridor::log
