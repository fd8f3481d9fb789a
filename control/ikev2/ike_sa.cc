#include "control/ikev2/ike_sa.h"

#include <cstdio>

#include "common/log/log.h"

namespace corridor::control::ikev2 {

std::string_view to_string(IkeSaState state) {
  switch (state) {
    case IkeSaState::created: return "CREATED";
    case IkeSaState::ike_sa_init_sent: return "IKE_SA_INIT_SENT";
    case IkeSaState::ike_sa_init_done: return "IKE_SA_INIT_DONE";
    case IkeSaState::ike_auth_sent: return "IKE_AUTH_SENT";
    case IkeSaState::established: return "ESTABLISHED";
    case IkeSaState::rekeyed: return "REKEYED";
    case IkeSaState::deleting: return "DELETING";
    case IkeSaState::dead: return "DEAD";
  }
  return "UNKNOWN";
}

std::string_view to_string(ChildSaState state) {
  switch (state) {
    case ChildSaState::installed: return "INSTALLED";
    case ChildSaState::rekeying: return "REKEYING";
    case ChildSaState::rekeyed: return "REKEYED";
    case ChildSaState::deleting: return "DELETING";
  }
  return "UNKNOWN";
}

namespace {

// The transitions RFC 7296's exchanges allow; anything else is a bug in a
// handler, refused and logged rather than silently taken.
bool allowed(IkeSaState from, IkeSaState to) {
  using S = IkeSaState;
  if (to == S::dead) return from != S::dead;  // any SA can fail or be deleted
  switch (from) {
    // A rekeyed IKE SA (§2.18) is born established from the old one's CREATE_CHILD_SA.
    case S::created: return to == S::ike_sa_init_sent || to == S::ike_sa_init_done || to == S::established;
    // A COOKIE or INVALID_KE_PAYLOAD answer restarts IKE_SA_INIT (§2.6, §1.2).
    case S::ike_sa_init_sent: return to == S::ike_sa_init_sent || to == S::ike_auth_sent;
    case S::ike_sa_init_done: return to == S::established;
    case S::ike_auth_sent: return to == S::established;
    case S::established: return to == S::deleting || to == S::rekeyed;
    case S::rekeyed: return to == S::deleting;
    case S::deleting:
    case S::dead: return false;
  }
  return false;
}

}  // namespace

bool IkeSa::set_state(IkeSaState to) {
  if (!allowed(state_, to)) {
    log::error("ike", name() + " refused state change " + std::string(to_string(state_)) + " -> " +
                          std::string(to_string(to)));
    return false;
  }
  if (state_ != to || to == IkeSaState::ike_sa_init_sent)
    log::debug("ike", name() + " " + std::string(to_string(state_)) + " -> " + std::string(to_string(to)) +
                          " (SPIs " + to_hex(spi_i) + "_i " + to_hex(spi_r) + "_r)");
  state_ = to;
  return true;
}

std::string IkeSa::name() const {
  return (connection ? connection->name : std::string("(unknown)")) + "[" + std::to_string(id) + "]";
}

std::string to_hex(const Spi& spi) {
  std::string out;
  out.reserve(16);
  char b[3];
  for (auto byte : spi) {
    std::snprintf(b, sizeof b, "%02x", byte);
    out += b;
  }
  return out;
}

bool is_zero(const Spi& spi) {
  for (auto b : spi)
    if (b != 0) return false;
  return true;
}

std::string hex32(std::uint32_t v) {
  char b[9];
  std::snprintf(b, sizeof b, "%08x", v);
  return b;
}

std::string endpoint_text(const net::SocketAddress& a) {
  return a.address.to_string() + "[" + std::to_string(a.port) + "]";
}

}  // namespace corridor::control::ikev2
