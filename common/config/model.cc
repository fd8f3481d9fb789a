#include "common/config/model.h"

namespace corridor::config {

std::string_view to_string(AuthMethod m) {
  switch (m) {
    case AuthMethod::psk: return "psk";
    case AuthMethod::pubkey: return "pubkey";
    case AuthMethod::rsa: return "rsa";
    case AuthMethod::rsa_pss: return "rsa/pss";
    case AuthMethod::ecdsa: return "ecdsa";
  }
  return "unknown";
}

std::string_view to_string(ChildMode m) { return m == ChildMode::tunnel ? "tunnel" : "transport"; }

std::string_view to_string(Action a) {
  switch (a) {
    case Action::none: return "none";
    case Action::trap: return "trap";
    case Action::start: return "start";
    case Action::clear: return "clear";
    case Action::restart: return "restart";
  }
  return "unknown";
}

std::string_view to_string(Fragmentation f) {
  switch (f) {
    case Fragmentation::yes: return "yes";
    case Fragmentation::no: return "no";
    case Fragmentation::accept: return "accept";
    case Fragmentation::force: return "force";
  }
  return "unknown";
}

std::string_view to_string(PortRole r) { return r == PortRole::protected_side ? "protected" : "unprotected"; }

std::string_view to_string(PollMode m) { return m == PollMode::busy ? "busy" : "adaptive"; }

std::string_view to_string(LogLevel l) {
  switch (l) {
    case LogLevel::error: return "error";
    case LogLevel::warning: return "warning";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
  }
  return "unknown";
}

}  // namespace corridor::config
