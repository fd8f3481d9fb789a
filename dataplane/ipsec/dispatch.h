// Picking an SA's burst function: the stages are templates over the SA's
// shape (mode, outer family, NAT-T, ICV kind) so that the per-packet code
// has no branches on it; these helpers turn the runtime values into the
// instantiation, once, when the SA is installed.
//
//   return with_bool(tunnel, [&](auto t) {
//     return with_bool(outer_v6, [&](auto v6) { return &stage<t(), v6()>; });
//   });
#pragma once

#include <type_traits>

#include "dataplane/ipsec/esp.h"
#include "dataplane/ipsec/sa.h"

namespace corridor::dataplane::ipsec {

template <typename F>
BurstFn with_bool(bool value, F&& f) {
  return value ? f(std::true_type{}) : f(std::false_type{});
}

template <typename F>
BurstFn with_icv(IcvKind kind, F&& f) {
  switch (kind) {
    case IcvKind::aead: return f(std::integral_constant<IcvKind, IcvKind::aead>{});
    case IcvKind::gmac: return f(std::integral_constant<IcvKind, IcvKind::gmac>{});
    case IcvKind::hmac: break;
  }
  return f(std::integral_constant<IcvKind, IcvKind::hmac>{});
}

}  // namespace corridor::dataplane::ipsec
