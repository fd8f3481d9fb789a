// Trap policies: strongSwan's start_action=trap (and dpd_action /
// close_action trap) on Corridor's dataplane.
//
// A trapped child has an outbound policy per selector pair of its
// configured local_ts x remote_ts with action trap and no SA. A packet that
// matches it while no Child SA carries that traffic is dropped by the
// dataplane and reported in an ACQUIRE (channel::Acquire); the daemon
// looks the policy up here and initiates the child. Once the Child SA is
// up, its own protect policies win: they sit below the traps in priority
// (lower value wins), so the trap stays installed and catches the traffic
// again if the Child SA goes away (strongSwan's "routed" connection).
//
// Selectors have to be known before any negotiation: a `dynamic` one
// takes the connection's single local or remote address; a child with a
// dynamic selector and no such address cannot be trapped (the config
// loader refuses it; install() says so too).
//
// Policy ids come from their own range (first_policy_id, the daemon's
// channel id base with bit 47 set: control/daemon/sa_sync.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/channel/records.h"
#include "common/config/model.h"
#include "control/ike/transport.h"
#include "control/ike/ts_narrow.h"

namespace corridor::control::ike {

// Why a child is trapped: start_action trap installs at load; dpd_action or
// close_action trap install when the Child SA is closed that way.
enum class TrapOrigin : std::uint8_t { start_action, dpd_action, close_action };
std::string_view to_string(TrapOrigin origin);

struct TrapStats {
  std::uint64_t acquires = 0;          // ACQUIREs received
  std::uint64_t acquires_unknown = 0;  // ... for a policy that is no trap (any more)
  std::uint64_t initiated = 0;         // ... that started a negotiation
  std::uint64_t active = 0;            // ... ignored: the child is up or being negotiated
  std::uint64_t failed = 0;            // ... whose initiation was refused (see the log)
};

class Traps {
 public:
  Traps(ChildSaSink& sink, std::uint64_t first_policy_id) : sink_(sink), next_id_(first_policy_id) {}

  // The trap policy records (ids 0) for `child` of `conn`; nullopt and
  // `why` when a dynamic selector has no single address to stand for.
  static std::optional<std::vector<channel::PolicyRecord>> policies(const config::ConnectionConfig& conn,
                                                                    const config::ChildConfig& child,
                                                                    std::string* why);

  // Installs the child's traps (if not installed already). False with
  // `why` when its selectors cannot be known or the dataplane channel
  // refused a policy.
  bool install(const config::ConnectionConfig& conn, const config::ChildConfig& child, TrapOrigin origin,
               std::string* why);
  // Removes a child's traps; false if it had none.
  bool remove(std::string_view connection, std::string_view child);

  // A new config: traps of children that are gone, no longer trap for the
  // reason they were installed, or whose selectors changed are removed;
  // every child with start_action trap is installed. Failures are logged.
  void reconcile(const config::Config& config);
  // Removes every trap (the daemon stops).
  void clear();

  struct Hit {
    std::string connection;
    std::string child;
    unsigned version = 0;  // the connection's: 1 goes to the IKEv1 manager
  };
  // The child whose trap has `policy_id`; counts the acquire.
  std::optional<Hit> acquired(std::uint64_t policy_id);
  void count_initiated() { ++stats_.initiated; }
  void count_active() { ++stats_.active; }
  void count_failed() { ++stats_.failed; }

  std::size_t children() const { return entries_.size(); }
  std::size_t policy_count() const { return by_policy_.size(); }
  bool installed(std::string_view connection, std::string_view child) const;
  const TrapStats& stats() const { return stats_; }

 private:
  using Key = std::pair<std::string, std::string>;  // connection, child
  struct Entry {
    unsigned version = 0;
    TrapOrigin origin = TrapOrigin::start_action;
    std::vector<channel::PolicyRecord> policies;  // as installed, with ids
  };
  void uninstall(const Entry& entry);
  // Whether `entry` as installed still stands under `conn`/`child` of a new config.
  static bool still_wanted(const Entry& entry, const config::ConnectionConfig& conn,
                           const config::ChildConfig& child);

  ChildSaSink& sink_;
  std::uint64_t next_id_;
  std::map<Key, Entry, std::less<>> entries_;
  std::map<std::uint64_t, Key> by_policy_;
  TrapStats stats_;
};

// The selectors RFC 7296 §2.9 puts first for the packet of an ACQUIRE:
// its addresses, its protocol, and its ports for the protocols that have
// them (iana::ip_protocol::has_ports; any port otherwise).
TriggerPacket trigger_of(const channel::Acquire& acquire);

// "10.1.0.5 -> 10.2.0.7 icmp" / "... tcp 40000 -> 443": the packet of an
// ACQUIRE, for the log.
std::string describe(const channel::Acquire& acquire);

}  // namespace corridor::control::ike
