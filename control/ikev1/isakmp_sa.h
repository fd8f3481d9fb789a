// One ISAKMP SA (IKEv1 Phase 1): its cookies, where its negotiation stands
// (state.h), what was agreed, and the keys and IV chain that protect its
// messages once Main Mode message 4 is processed.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config/model.h"
#include "common/ike/key_exchange.h"
#include "common/ikev1/cipher.h"
#include "common/ikev1/keys.h"
#include "common/net/address.h"
#include "control/ikev1/proposal.h"
#include "control/ikev1/state.h"

namespace corridor::control::ikev1 {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Cookie = std::array<std::uint8_t, 8>;
using Bytes = std::vector<std::uint8_t>;

// The last message we sent in an exchange, resent on timeout (our request)
// or when the peer repeats the message it answered (our reply).
struct LastSent {
  Bytes datagram;
  TimePoint sent_at{};
  TimePoint next_retransmit = TimePoint::max();  // max: we wait for nothing (a reply)
  unsigned retransmits = 0;
};

struct IsakmpSa {
  std::uint64_t id = 0;
  const config::ConnectionConfig* connection = nullptr;
  Role role = Role::initiator;
  State state = State::mm_idle;
  Cookie cookie_i{};
  Cookie cookie_r{};
  net::SocketAddress local;
  net::SocketAddress remote;
  TimePoint created_at{};
  std::optional<TimePoint> established_at;
  TimePoint last_received{};

  // Phase 1 negotiation.
  std::vector<Phase1Suite> offered;     // initiator: our transforms; responder: the chosen one
  std::optional<Phase1Suite> suite;     // agreed
  Bytes sai_b;                          // the initiator's SA payload body, as sent
  std::optional<corridor::ike::DiffieHellman> dh;
  Bytes g_xi, g_xr;                     // KE data
  Bytes ni_b, nr_b;                     // nonce data
  std::optional<corridor::ikev1::Phase1Keys> keys;
  std::optional<corridor::ikev1::Phase1Cipher> cipher;
  corridor::ikev1::IvChain iv;          // the Phase 1 chain; after MM_DONE the base of Phase 2 IVs

  // RFC 3947 / RFC 3706 support the peer announced, and what NAT-D found.
  bool peer_nat_t = false;
  bool peer_dpd = false;
  bool nat_local = false;   // we are behind a NAT
  bool nat_remote = false;  // the peer is
  bool nat_detected() const { return nat_local || nat_remote; }

  std::string local_id;   // as logged and listed ("@gw.example.net", "192.0.2.1")
  std::string remote_id;

  LastSent last_sent;
  Bytes last_received_datagram;  // the peer's last message, to recognise a retransmission

  // "conn[7]", as the log names it.
  std::string name() const;
  bool initiator() const { return role == Role::initiator; }
  const Cookie& our_cookie() const { return initiator() ? cookie_i : cookie_r; }
};

}  // namespace corridor::control::ikev1
