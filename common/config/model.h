// Corridor's configuration model: one JSON document shaped like strongSwan's
// swanctl.conf (connections, children, secrets) plus the appliance's own
// sections (dataplane, sa_channel, api, logging).
//
// These are plain values, fully defaulted and validated by load_config()
// (loader.h): code that receives a Config never re-checks it. Both processes
// read the same file; the dataplane only looks at `dataplane` and `sa_channel`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config/duration.h"
#include "common/config/identity.h"
#include "common/config/proposal.h"
#include "common/config/secret.h"
#include "common/net/address.h"
#include "common/net/traffic_selector.h"

namespace corridor::config {

// local_addrs / remote_addrs entries: swanctl accepts addresses, subnets,
// ranges, host names and %any / %any4 / %any6.
struct AddressSpec {
  enum class Kind : std::uint8_t { any, any4, any6, address, prefix, range, hostname };
  Kind kind = Kind::any;
  std::string text;          // as written, for logs and the API
  net::Prefix prefix;        // address (as /32 or /128) or prefix
  net::IpAddress range_end;  // Kind::range only (prefix.address is the start)

  // True if this names exactly one peer we could send an IKE_SA_INIT to.
  bool is_single_host() const { return kind == Kind::address || kind == Kind::hostname; }
};

enum class AuthMethod : std::uint8_t { psk, pubkey, rsa, rsa_pss, ecdsa };
std::string_view to_string(AuthMethod m);

struct LocalAuth {
  AuthMethod auth = AuthMethod::pubkey;
  std::optional<Identity> id;      // unset: the IKE address (PSK) or the certificate subject
  std::vector<std::string> certs;  // PEM files, absolute paths after loading
};

struct RemoteAuth {
  AuthMethod auth = AuthMethod::pubkey;
  std::optional<Identity> id;        // unset: %any
  std::vector<std::string> cacerts;  // trust anchors for this peer, PEM files
};

enum class ChildMode : std::uint8_t { tunnel, transport };
// start_action, close_action and dpd_action share strongSwan's vocabulary.
enum class Action : std::uint8_t { none, trap, start, clear, restart };
enum class Fragmentation : std::uint8_t { yes, no, accept, force };
std::string_view to_string(ChildMode m);
std::string_view to_string(Action a);
std::string_view to_string(Fragmentation f);

struct ChildConfig {
  std::string name;
  ChildMode mode = ChildMode::tunnel;
  std::vector<net::TrafficSelector> local_ts;   // default: dynamic
  std::vector<net::TrafficSelector> remote_ts;  // default: dynamic
  std::vector<Proposal> esp_proposals;          // empty iff ah_proposals is used
  std::vector<Proposal> ah_proposals;
  Seconds rekey_time{3600};
  Seconds life_time{3960};  // default rekey_time * 1.1
  Seconds rand_time{360};   // default life_time - rekey_time
  std::uint64_t rekey_bytes = 0;  // 0: no volume-based rekeying
  std::uint64_t life_bytes = 0;
  std::uint64_t rekey_packets = 0;
  std::uint64_t life_packets = 0;
  std::uint32_t replay_window = 32;  // packets; 0 disables anti-replay
  Action start_action = Action::none;   // none | trap | start
  Action dpd_action = Action::clear;    // clear | trap | restart
  Action close_action = Action::none;   // none | trap | start
};

struct ConnectionConfig {
  std::string name;
  unsigned version = 0;  // 0: IKEv2 as initiator, either as responder; 1 or 2: only that
  std::vector<AddressSpec> local_addrs;   // default %any
  std::vector<AddressSpec> remote_addrs;  // default %any
  std::uint16_t local_port = 500;
  std::uint16_t remote_port = 500;
  std::vector<Proposal> proposals;  // IKE proposals
  LocalAuth local;
  RemoteAuth remote;
  bool aggressive = false;            // IKEv1 Aggressive Mode
  bool allow_aggressive_psk = false;  // explicit opt-in: PSK hash open to offline attack
  bool allow_weak = false;            // accept DES/3DES/MD5/MODP-768/1024 in proposals
  bool encap = false;                 // force UDP encapsulation (RFC 3948) even without NAT
  Fragmentation fragmentation = Fragmentation::yes;
  Seconds dpd_delay{0};    // 0: no liveness checks
  Seconds dpd_timeout{0};  // IKEv1 only; 0 means 150 s
  Seconds rekey_time{14400};
  Seconds reauth_time{0};
  Seconds over_time{1440};  // default 10% of the longer of rekey_time/reauth_time
  Seconds rand_time{1440};  // default over_time
  std::vector<ChildConfig> children;
};

enum class PortRole : std::uint8_t { protected_side, unprotected_side };
std::string_view to_string(PortRole r);

struct PortConfig {
  std::string name;
  std::string pci;   // "0000:03:00.0", or empty
  std::string vdev;  // "net_af_packet0,iface=veth0", or empty (exactly one of pci/vdev is set)
  PortRole role = PortRole::protected_side;
  std::vector<net::Prefix> addresses;  // interface addresses with their subnet, e.g. 10.1.0.1/24
  std::uint16_t mtu = 1500;
};

struct RouteConfig {
  net::Prefix prefix;
  std::optional<net::IpAddress> via;  // unset: directly connected on `port`
  std::string port;
};

enum class PollMode : std::uint8_t { busy, adaptive };
std::string_view to_string(PollMode m);

struct DataplaneConfig {
  std::vector<PortConfig> ports;
  std::vector<RouteConfig> routes;
  unsigned main_lcore = 0;
  std::vector<unsigned> worker_lcores;  // empty: the main lcore also forwards
  PollMode poll_mode = PollMode::adaptive;
};

struct SaChannelConfig {
  std::string name = "/corridor";  // shm_open name
  std::uint32_t command_slots = 4096;
  std::uint32_t event_slots = 4096;
};

struct TlsConfig {
  std::string cert;
  std::string key;
};

struct ApiConfig {
  bool enabled = false;  // true when the config has an "api" section
  net::SocketAddress listen{*net::IpAddress::parse("127.0.0.1"), 8443};
  std::optional<TlsConfig> tls;
  bool allow_plain_http = false;
  std::string tokens;  // token file (hashes only)
  std::optional<net::SocketAddress> metrics_listen;
};

enum class LogLevel : std::uint8_t { error, warning, info, debug };
enum class LogFormat : std::uint8_t { text, json };
std::string_view to_string(LogLevel l);

struct LoggingConfig {
  LogLevel level = LogLevel::info;
  std::string file = "stderr";  // "stderr", "syslog" or a path
  LogFormat format = LogFormat::text;
};

struct Config {
  std::vector<ConnectionConfig> connections;  // in file order
  std::vector<Secret> secrets;
  DataplaneConfig dataplane;
  SaChannelConfig sa_channel;
  ApiConfig api;
  LoggingConfig logging;

  const ConnectionConfig* find_connection(std::string_view name) const;
};

}  // namespace corridor::config
