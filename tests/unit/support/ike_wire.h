// What an IKE manager (either version) talks to in the exchange tests: an
// in-memory wire that queues datagrams for the test to deliver one at a
// time, and a recording dataplane that keeps the SA and policy records as
// the SA channel would deliver them (refusing invalid ones, as the
// dataplane does).
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "common/channel/records.h"
#include "common/net/address.h"
#include "control/ike/transport.h"

namespace corridor::test_support {

struct Datagram {
  net::SocketAddress local;   // the sender's address
  net::SocketAddress remote;  // where it goes
  std::vector<std::uint8_t> bytes;
};

class Wire final : public control::ike::Transport {
 public:
  explicit Wire(net::IpAddress self) : self_(self) {}
  void send(const net::SocketAddress& local, const net::SocketAddress& remote,
            std::span<const std::uint8_t> datagram) override {
    queue.push_back({local, remote, {datagram.begin(), datagram.end()}});
  }
  std::optional<net::IpAddress> source_for(const net::IpAddress&) override { return self_; }
  void send_nat_keepalive(const net::SocketAddress&, const net::SocketAddress&) override { ++keepalives; }

  std::deque<Datagram> queue;
  int keepalives = 0;

 private:
  net::IpAddress self_;
};

// What the dataplane would hold.
class Dataplane final : public control::ike::ChildSaSink {
 public:
  bool set_sa(const channel::SaRecord& sa) override {
    if (channel::validate(sa).code != channel::ResultCode::ok) return false;
    sas[sa.sa_id] = sa;
    return true;
  }
  void remove_sa(std::uint64_t id) override { sas.erase(id); }
  bool set_policy(const channel::PolicyRecord& p) override {
    if (channel::validate(p).code != channel::ResultCode::ok) return false;
    policies[p.policy_id] = p;
    return true;
  }
  void remove_policy(std::uint64_t id) override { policies.erase(id); }

  const channel::SaRecord* find(channel::Direction d) const {
    for (const auto& [id, sa] : sas)
      if (sa.direction == d) return &sa;
    return nullptr;
  }
  std::map<std::uint64_t, channel::SaRecord> sas;
  std::map<std::uint64_t, channel::PolicyRecord> policies;
};

}  // namespace corridor::test_support
