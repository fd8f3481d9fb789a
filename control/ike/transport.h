// The two ports an IKE SA manager (IKEv2 or IKEv1) talks through, so that
// the same exchange code runs behind the daemon's UDP sockets and SA channel
// and, in tests, between managers joined in memory.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "common/channel/records.h"
#include "common/net/address.h"

namespace corridor::control::ike {

// Where IKE datagrams go. The socket layer adds the non-ESP marker on
// the NAT-T port (RFC 3948 §2.2); the manager never sees it.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void send(const net::SocketAddress& local, const net::SocketAddress& remote,
                    std::span<const std::uint8_t> datagram) = 0;
  // The address the host would send from to reach `remote`; nullopt if
  // there is no route.
  virtual std::optional<net::IpAddress> source_for(const net::IpAddress& remote) = 0;
  // A NAT-keepalive (RFC 3948 §2.3: one 0xFF byte, no non-ESP marker).
  virtual void send_nat_keepalive(const net::SocketAddress& local, const net::SocketAddress& remote) = 0;
};

// Where negotiated Child SAs go: the SA channel (control/daemon/sa_sync.h)
// in the daemon, a recorder in tests. A false return means the record was
// refused (the reason is logged by the sink).
class ChildSaSink {
 public:
  virtual ~ChildSaSink() = default;
  virtual bool set_sa(const channel::SaRecord& sa) = 0;
  virtual void remove_sa(std::uint64_t sa_id) = 0;
  virtual bool set_policy(const channel::PolicyRecord& policy) = 0;
  virtual void remove_policy(std::uint64_t policy_id) = 0;
  // Called before any IKE message leaves: what was set must reach the
  // dataplane first, or the peer could use a new SA (after our response)
  // before our dataplane has it.
  virtual void flush() {}
};

}  // namespace corridor::control::ike
