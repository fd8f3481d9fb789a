// corridorctl: the command line client of corridor-control's REST API
// (docs/api.md), plus the local commands `check` and `token`.
#include <algorithm>
#include <iostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tools/corridorctl/cli.h"

namespace {

using namespace corridor::ctl;

struct Command {
  std::string_view name;
  std::string_view usage;  // after "corridorctl [OPTIONS] "
  std::vector<std::string_view> options;
  std::size_t operands;  // exact number of positional arguments
  bool api;              // needs the HTTP client
  int (*run)(Context&);
};

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"health", "health", {}, 0, true, cmd_health},
      {"list-sas", "list-sas [--connection NAME] [--state STATE]", {"--connection", "--state"}, 0, true, cmd_list_sas},
      {"list-conns", "list-conns", {}, 0, true, cmd_list_conns},
      {"initiate", "initiate --child NAME [--ike CONNECTION]", {"--child", "--ike"}, 0, true, cmd_initiate},
      {"terminate", "terminate --ike ID | --child NAME [--ike CONNECTION]", {"--child", "--ike"}, 0, true,
       cmd_terminate},
      {"rekey", "rekey --ike ID | --child SPI --ike ID", {"--child", "--ike"}, 0, true, cmd_rekey},
      {"stats", "stats", {}, 0, true, cmd_stats},
      {"log", "log [--level LEVEL] [--subsystem NAME]   (--subsystem NAME --level default drops an override)",
       {"--level", "--subsystem"}, 0, true, cmd_log},
      {"events", "events [--types LIST] [--log-level LEVEL] [--count N]   (like swanctl --monitor-sa)",
       {"--types", "--log-level", "--count"}, 0, true, cmd_events},
      {"load-conns", "load-conns FILE [--dry-run]   (FILE's connections replace the running ones)", {}, 1, true,
       cmd_load_conns},
      {"check", "check FILE", {}, 1, false, cmd_check},
      {"token create", "token create --scope read|operate|admin --tokens FILE [--comment TEXT]",
       {"--scope", "--tokens", "--comment"}, 0, false, cmd_token_create},
      {"token list", "token list --tokens FILE", {"--tokens"}, 0, false, cmd_token_list},
      {"token revoke", "token revoke ID --tokens FILE", {"--tokens"}, 1, false, cmd_token_revoke},
  };
  return table;
}

const std::set<std::string_view> kValueOptions = {
    "--url",       "--token", "--token-file", "--cacert", "--connection", "--state", "--child",
    "--ike",       "--level", "--subsystem",  "--scope",  "--tokens",     "--comment", "--types",
    "--log-level", "--count",
};

void usage(std::ostream& out) {
  out << "usage: corridorctl [--url URL] [--token TOKEN|--token-file FILE] [--cacert FILE|--insecure] [--json] "
         "COMMAND\n";
  for (const auto& c : commands()) out << "  " << c.usage << '\n';
  out << "\n"
         "URL, token and CA come from the options, else CORRIDOR_URL, CORRIDOR_TOKEN, CORRIDOR_CACERT,\n"
         "else ~/.config/corridor/corridorctl.json ({\"url\", \"token\", \"cacert\"}), else "
         "https://127.0.0.1:8443.\n"
         "--json prints the API's JSON instead of tables; events: one {\"event\", \"data\"} object a line.\n"
         "events prints the daemon's events as they come, until --count of them; --types takes a comma list of\n"
         "ike-updown, child-updown, ike-rekey, child-rekey, log (default: all but log); --log-level needs log.\n"
         "Exit codes: 0 done, 1 the API answered with an error, 2 invalid config (check),\n"
         "3 cannot reach the API (or the event stream ended), 4 authentication or scope refused, 64 usage.\n";
}

void command_usage(std::ostream& out, const Command& c) {
  out << "usage: corridorctl [OPTIONS] " << c.usage << '\n';
}

// Options may come before or after the command; each takes a value unless it
// is a flag.
Args parse(int argc, char** argv, bool& help) {
  Args args;
  std::vector<std::string> positional;
  auto set = [](std::optional<std::string>& slot, const std::string& name, std::string value) {
    if (slot) throw UsageError(name + " given twice");
    slot = std::move(value);
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      help = true;
    } else if (arg == "--json") {
      args.json = true;
    } else if (arg == "--insecure") {
      args.insecure = true;
    } else if (arg == "--dry-run") {
      args.dry_run = true;
    } else if (arg.starts_with("--")) {
      std::string value;
      if (const auto eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg.resize(eq);
        if (!kValueOptions.contains(arg)) throw UsageError("unknown option " + arg);
      } else {
        if (!kValueOptions.contains(arg)) throw UsageError("unknown option " + arg);
        if (i + 1 >= argc) throw UsageError(arg + " needs a value");
        value = argv[++i];
      }
      if (arg == "--url") set(args.url, arg, value);
      else if (arg == "--token") set(args.token, arg, value);
      else if (arg == "--token-file") set(args.token_file, arg, value);
      else if (arg == "--cacert") set(args.cacert, arg, value);
      else if (!args.options.emplace(arg, value).second) throw UsageError(arg + " given twice");
    } else {
      positional.push_back(arg);
    }
  }
  if (args.token && args.token_file) throw UsageError("give --token or --token-file, not both");
  if (args.cacert && args.insecure) throw UsageError("give --cacert or --insecure, not both");
  if (!positional.empty()) {
    std::size_t used = 1;
    args.command = positional[0];
    if (args.command == "token" && positional.size() > 1) {
      args.command += " " + positional[1];
      used = 2;
    }
    args.operands.assign(positional.begin() + static_cast<std::ptrdiff_t>(used), positional.end());
  }
  return args;
}

const Command* find_command(const std::string& name) {
  for (const auto& c : commands())
    if (c.name == name) return &c;
  return nullptr;
}

void check_usage(const Command& c, const Args& args) {
  if (args.dry_run && c.name != "load-conns") throw UsageError(std::string(c.name) + " does not take --dry-run");
  for (const auto& [name, value] : args.options)
    if (std::find(c.options.begin(), c.options.end(), name) == c.options.end())
      throw UsageError(std::string(c.name) + " does not take " + name);
  if (args.operands.size() != c.operands)
    throw UsageError(args.operands.size() > c.operands ? "unexpected argument '" + args.operands[c.operands] + "'"
                                                       : std::string(c.name) + ": missing argument");
}

}  // namespace

int main(int argc, char** argv) {
  bool help = false;
  Args args;
  const Command* command = nullptr;
  try {
    args = parse(argc, argv, help);
    if (args.command.empty()) {
      usage(help ? std::cout : std::cerr);
      return help ? kExitOk : kExitUsage;
    }
    command = find_command(args.command);
    if (!command && args.command.starts_with("token"))
      throw UsageError("token needs a subcommand: create, list or revoke");
    if (!command) throw UsageError("unknown command '" + args.command + "'");
    if (help) {
      command_usage(std::cout, *command);
      return kExitOk;
    }
    check_usage(*command, args);
    Context ctx{args, nullptr};
    if (command->api) ctx.client = std::make_unique<Client>(resolve_settings(args));
    return command->run(ctx);
  } catch (const UsageError& e) {
    std::cerr << "corridorctl: " << e.what() << '\n';
    if (command)
      command_usage(std::cerr, *command);
    else
      std::cerr << "run 'corridorctl --help' for the commands\n";
    return kExitUsage;
  } catch (const UnreachableError& e) {
    std::cerr << "corridorctl: " << e.what() << '\n';
    return kExitUnreachable;
  } catch (const Failed& f) {
    return f.exit_code;
  }
}
