// What corridorctl's parts share: exit codes, the parsed command line and
// the command entry points (api_commands.cc over HTTP, local_commands.cc on
// local files).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tools/corridorctl/client.h"

namespace corridor::ctl {

// The exit codes of docs/api.md.
enum ExitCode : int {
  kExitOk = 0,
  kExitApiError = 1,       // the API answered with an error, or a local operation failed
  kExitInvalidConfig = 2,  // `check` found errors
  kExitUnreachable = 3,    // DNS, connect, TLS, timeout
  kExitRefused = 4,        // HTTP 401 or 403
  kExitUsage = 64,         // EX_USAGE
};

// A bad command line: main prints the message and the command's usage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A failure whose message has already been printed to stderr.
struct Failed {
  int exit_code;
};

struct Args {
  std::string command;                          // "list-sas", "token create", ...
  std::vector<std::string> operands;            // positional arguments after the command
  std::map<std::string, std::string> options;   // command options ("--child" -> value)
  // Global options.
  std::optional<std::string> url, token, token_file, cacert;
  bool insecure = false;
  bool json = false;
  bool dry_run = false;  // load-conns: validate and report, apply nothing

  const std::string* option(const std::string& name) const {
    const auto it = options.find(name);
    return it == options.end() ? nullptr : &it->second;
  }
  // The value of an option the command cannot do without.
  const std::string& require(const std::string& name) const {
    const auto* value = option(name);
    if (!value || value->empty()) throw UsageError(command + " needs " + name);
    return *value;
  }
};

// Resolves URL, token and CA (flags, environment, config file, default) the
// first time an API command needs them.
ClientSettings resolve_settings(const Args& args);

struct Context {
  const Args& args;
  std::unique_ptr<Client> client;  // set for API commands
};

int cmd_health(Context& ctx);
int cmd_list_sas(Context& ctx);
int cmd_list_conns(Context& ctx);
int cmd_initiate(Context& ctx);
int cmd_terminate(Context& ctx);
int cmd_rekey(Context& ctx);
int cmd_stats(Context& ctx);
int cmd_log(Context& ctx);
int cmd_events(Context& ctx);
int cmd_load_conns(Context& ctx);

int cmd_check(Context& ctx);
int cmd_token_create(Context& ctx);
int cmd_token_list(Context& ctx);
int cmd_token_revoke(Context& ctx);

}  // namespace corridor::ctl
