// Corridor's configuration model: one JSON document shaped like strongSwan's
// swanctl.conf (connections, children, secrets) plus the appliance's own
// sections (dataplane, sa_channel, api, logging).
//
// These are plain values, fully defaulted and validated by load_config()
// (loader.h): code that receives a Config never re-checks it. Both processes
// read the same file; the dataplane only looks at `dataplane` and `sa_channel`.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// Before any negotiation (a trap policy), a side's selectors are known
// unless they are dynamic (or none, which means dynamic): those stand for
// the side's IKE address, known then only when local_addrs/remote_addrs
// is one literal IP address.
inline bool has_dynamic_selector(const std::vector<net::TrafficSelector>& ts) {
  if (ts.empty()) return true;
  for (const auto& t : ts)
    if (t.dynamic) return true;
  return false;
}
inline std::optional<net::IpAddress> single_literal_address(const std::vector<AddressSpec>& addrs) {
  if (addrs.size() != 1 || addrs.front().kind != AddressSpec::Kind::address) return std::nullopt;
  return addrs.front().prefix.address;
}

enum class AuthMethod : std::uint8_t { psk, pubkey, rsa, rsa_pss, ecdsa };
std::string_view to_string(AuthMethod m);

struct LocalAuth {
  AuthMethod auth = AuthMethod::pubkey;
  std::optional<Identity> id;      // unset: the IKE address (PSK) or the certificate subject
  std::vector<std::string> certs;  // PEM files, absolute paths after loading
};

// swanctl's remote.revocation: when a peer certificate fails for want of
// revocation information. strict: unless a CRL of its issuer says it is
// good; ifuri: if it names a CRL distribution point and no CRL of its
// issuer is loaded (Corridor fetches nothing); relaxed: only when a CRL
// lists it as revoked.
enum class Revocation : std::uint8_t { strict, ifuri, relaxed };
std::string_view to_string(Revocation r);

struct RemoteAuth {
  AuthMethod auth = AuthMethod::pubkey;
  std::optional<Identity> id;        // unset: %any
  std::vector<std::string> cacerts;  // trust anchors for this peer, PEM files
  std::vector<std::string> crls;     // certificate revocation lists (PEM or DER), e.g. x509crl/ca.crl
  Revocation revocation = Revocation::relaxed;
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

// [domain:]bus:device.function, as EAL writes PCI addresses ("0000:3b:00.0",
// "3b:00.0").
bool is_pci_address(std::string_view text);

// DPDK's RTE_MAX_ETHPORTS in Debian's build: EAL cannot hold more ports.
inline constexpr std::size_t kMaxPorts = 32;

// A port's name is its DPDK device name: at most this many characters
// (RTE_DEV_NAME_MAX_LEN - 1).
inline constexpr std::size_t kMaxPortNameLength = 63;

struct PortConfig {
  // The DPDK device name as given to EAL: a PCI address ("0000:3b:00.0";
  // the domain may be omitted) or a virtual device ("net_af_packet0",
  // "net_pcap0", "net_ring0"). Routes name ports by it.
  std::string name;
  // Arguments of the device ("iface=veth0", "rx_pcap=in.pcap,tx_pcap=out.pcap"):
  // corridor-dataplane passes `--vdev NAME,DEVARGS` (or `-a NAME,DEVARGS` for
  // PCI) to EAL itself. Empty: the operator's EAL arguments create the device
  // (`--vdev net_ring0`), or a PCI device is probed with its defaults.
  std::string devargs;
  PortRole role = PortRole::protected_side;
  // Interface addresses with their subnet, e.g. 192.0.2.1/24: at most one
  // IPv4 and one IPv6 address.
  std::vector<net::Prefix> addresses;
  std::uint16_t mtu = 1500;
  // The port's MAC address, when the device's own must be replaced (a
  // replacement box keeping its neighbors' ARP caches valid, tests).
  std::optional<std::array<std::uint8_t, 6>> mac;

  // True when `name` is a PCI address (EAL allow list) rather than a vdev name.
  bool is_pci() const;
};

struct RouteConfig {
  net::Prefix prefix;
  std::optional<net::IpAddress> via;  // unset: directly connected on `port`
  std::string port;                   // a PortConfig::name
};

// A static ARP (IPv4) or neighbor cache (IPv6) entry.
struct NeighborConfig {
  net::IpAddress ip;
  std::array<std::uint8_t, 6> mac{};  // unicast
};

enum class SaDirection : std::uint8_t { in, out };
enum class SaProtocol : std::uint8_t { esp, ah };
std::string_view to_string(SaDirection d);
std::string_view to_string(SaProtocol p);

// NAT-T (RFC 3948) UDP ports of a static ESP SA, as the SA's packets carry
// them: for an outbound SA `sport` is ours, for an inbound SA the peer's.
struct UdpEncapConfig {
  std::uint16_t sport = 4500;
  std::uint16_t dport = 4500;
};

// A manually keyed SA (RFC 4301 §4.5): installed in the dataplane as
// configured, with no IKE, no rekeying and no lifetime. common/config/
// static_sa.h turns it into the SA channel's record and policy selectors.
struct StaticSaConfig {
  std::uint32_t spi = 0;  // >= 256 (RFC 4303 §2.1)
  SaDirection direction = SaDirection::out;
  SaProtocol protocol = SaProtocol::esp;
  ChildMode mode = ChildMode::tunnel;
  net::IpAddress local;   // this gateway's end: outer source when out, destination when in
  net::IpAddress remote;  // the peer's end
  // Exactly one algorithm set: ESP one encryption transform and, unless it
  // is AEAD, one integrity transform; AH one integrity transform. No KE,
  // ESN given by `esn`.
  Proposal proposal;
  bool allow_weak = false;
  SecretBytes key;        // encryption key, with the salt/nonce appended where the RFC has one
  SecretBytes integ_key;  // integrity key; empty with AEAD
  std::optional<UdpEncapConfig> encap;  // ESP only
  bool esn = false;
  std::uint32_t replay_window = 32;  // packets, inbound only; 0 disables anti-replay
  std::vector<net::Prefix> local_ts;   // protected traffic on our side
  std::vector<net::Prefix> remote_ts;  // protected traffic on the peer's side
};

enum class PollMode : std::uint8_t { busy, adaptive };
std::string_view to_string(PollMode m);

struct DataplaneConfig {
  std::vector<PortConfig> ports;
  std::vector<RouteConfig> routes;
  std::vector<NeighborConfig> neighbors;
  std::vector<StaticSaConfig> static_sas;
  unsigned main_lcore = 0;
  std::vector<unsigned> worker_lcores;  // empty: the main lcore also forwards
  PollMode poll_mode = PollMode::adaptive;
  // The kernel TAP interface of the exception path (docs/dataplane.md):
  // traffic for the gateway's own addresses goes to the kernel through it,
  // and what the kernel sends out of it leaves through the ports. Unset:
  // no exception path; such traffic is counted (`to_gateway`) and dropped.
  std::optional<std::string> exception_interface;

  const PortConfig* find_port(std::string_view name) const;
};

// The DPDK device (net_tap) of the exception interface: corridor-dataplane
// adds `--vdev net_tap_corridor,iface=NAME` to its EAL arguments; no port
// may take this name.
inline constexpr std::string_view kExceptionTapDevice = "net_tap_corridor";

// A Linux network interface name the kernel accepts (dev_valid_name: 1-15
// bytes, not "." or "..", no '/', ':' or whitespace) that can also stand
// in EAL devargs (no ',', '=') and is not a name template (no '%').
bool is_valid_interface_name(std::string_view name);

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
  // Per-SA metric series (an `sa` label): one series per tunnel, so off by
  // default; per-connection series otherwise.
  bool metrics_per_sa = false;
};

enum class LogLevel : std::uint8_t { error, warning, info, debug };
enum class LogFormat : std::uint8_t { text, json };
std::string_view to_string(LogLevel l);

struct LoggingConfig {
  LogLevel level = LogLevel::info;
  std::string file = "stderr";  // "stderr", "syslog" or a path
  LogFormat format = LogFormat::text;
};

// Daemon-wide IKE settings, as strongSwan keeps them in strongswan.conf
// (charon.retransmit_*) rather than per connection. A request goes unanswered
// for retransmit_timeout, then each resend waits retransmit_base times longer,
// and after retransmit_tries resends the exchange fails (an established SA's
// dpd_action applies). strongSwan's defaults: 4 s, 1.8, 5 (about 165 s).
struct IkeConfig {
  std::chrono::milliseconds retransmit_timeout{4000};
  double retransmit_base = 1.8;
  unsigned retransmit_tries = 5;

  // Seconds from the first send until the exchange is given up.
  double give_up_seconds() const;
};

struct Config {
  std::vector<ConnectionConfig> connections;  // in file order
  std::vector<Secret> secrets;
  IkeConfig ike;
  DataplaneConfig dataplane;
  SaChannelConfig sa_channel;
  ApiConfig api;
  LoggingConfig logging;

  const ConnectionConfig* find_connection(std::string_view name) const;
};

}  // namespace corridor::config
