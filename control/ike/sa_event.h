// A change in the SA set that operators and monitoring follow (the REST
// API's event stream, docs/api.md), in the words of strongSwan's vici
// events. Both IKE managers publish them; for IKEv1 the "IKE SA" is the
// ISAKMP SA and the children its IPsec SAs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace corridor::control::ike {

struct SaEvent {
  enum class Kind : std::uint8_t { ike_up, ike_down, ike_rekey, child_up, child_down, child_rekey };
  Kind kind = Kind::ike_up;
  std::uint64_t ike_id = 0;
  std::string ike_sa;  // "conn[3]"
  std::string connection;
  std::uint64_t old_ike_id = 0;  // ike_rekey: the IKE SA it replaced
  std::string child;             // the child events: its config name
  std::uint32_t spi_in = 0;
  std::uint32_t spi_out = 0;
  std::uint32_t old_spi_in = 0;  // child_rekey: the Child SA it replaced
};

// The event for an IKE SA (IKEv2 IkeSa, IKEv1 IsakmpSa) and, for the child
// events, one of its children (ChildSa, IpsecSa): both managers' SAs carry
// the same fields under the same names.
template <class Sa, class Child>
SaEvent make_sa_event(SaEvent::Kind kind, const Sa& sa, const Child* child, std::uint64_t old_ike_id,
                      std::uint32_t old_spi_in) {
  SaEvent e;
  e.kind = kind;
  e.ike_id = sa.id;
  e.ike_sa = sa.name();
  e.connection = sa.connection ? sa.connection->name : "";
  e.old_ike_id = old_ike_id;
  if (child) {
    e.child = child->name;
    e.spi_in = child->spi_in;
    e.spi_out = child->spi_out;
  }
  e.old_spi_in = old_spi_in;
  return e;
}

// "ike-up", "child-rekey", ...
inline std::string_view to_string(SaEvent::Kind kind) {
  switch (kind) {
    case SaEvent::Kind::ike_up: return "ike-up";
    case SaEvent::Kind::ike_down: return "ike-down";
    case SaEvent::Kind::ike_rekey: return "ike-rekey";
    case SaEvent::Kind::child_up: return "child-up";
    case SaEvent::Kind::child_down: return "child-down";
    case SaEvent::Kind::child_rekey: return "child-rekey";
  }
  return "unknown";
}

}  // namespace corridor::control::ike
