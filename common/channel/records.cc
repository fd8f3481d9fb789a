#include "common/channel/records.h"

#include "common/iana/ikev2.h"

#include <string.h>  // explicit_bzero (glibc >= 2.25)

#include <algorithm>

namespace corridor::channel {

void secure_zero(void* p, std::size_t n) { explicit_bzero(p, n); }

std::string_view PortStats::name_view() const {
  const auto end = std::find(name.begin(), name.end(), '\0');
  return {name.data(), static_cast<std::size_t>(end - name.begin())};
}

bool PortStats::set_name(std::string_view n) {
  if (n.empty() || n.size() >= kPortNameSize || n.find('\0') != std::string_view::npos) return false;
  name.fill('\0');
  std::copy(n.begin(), n.end(), name.begin());
  return true;
}

std::string_view to_string(RecordType type) {
  switch (type) {
    case RecordType::add_sa: return "ADD_SA";
    case RecordType::update_sa: return "UPDATE_SA";
    case RecordType::delete_sa: return "DELETE_SA";
    case RecordType::add_policy: return "ADD_POLICY";
    case RecordType::delete_policy: return "DELETE_POLICY";
    case RecordType::flush: return "FLUSH";
    case RecordType::heartbeat: return "HEARTBEAT";
    case RecordType::inventory_request: return "INVENTORY_REQUEST";
    case RecordType::sa_soft_lifetime: return "SA_SOFT_LIFETIME";
    case RecordType::sa_hard_lifetime: return "SA_HARD_LIFETIME";
    case RecordType::seq_overflow: return "SEQ_OVERFLOW";
    case RecordType::counters: return "COUNTERS";
    case RecordType::replay_icv_summary: return "REPLAY_ICV_SUMMARY";
    case RecordType::heartbeat_ack: return "HEARTBEAT_ACK";
    case RecordType::inventory_sa: return "INVENTORY_SA";
    case RecordType::inventory_policy: return "INVENTORY_POLICY";
    case RecordType::inventory_end: return "INVENTORY_END";
    case RecordType::command_result: return "COMMAND_RESULT";
    case RecordType::port_stats: return "PORT_STATS";
    case RecordType::worker_stats: return "WORKER_STATS";
    case RecordType::acquire: return "ACQUIRE";
  }
  return "UNKNOWN";
}

bool is_known(std::uint16_t raw) {
  return (raw >= 0x01 && raw <= 0x08) || (raw >= 0x81 && raw <= 0x8d);
}

Ring ring_of(RecordType type) {
  return static_cast<std::uint16_t>(type) < 0x80 ? Ring::command : Ring::event;
}

std::string_view to_string(ResultCode code) {
  switch (code) {
    case ResultCode::ok: return "ok";
    case ResultCode::unknown_type: return "unknown record type";
    case ResultCode::wrong_ring: return "record type not allowed on this ring";
    case ResultCode::unknown_version: return "unknown record version";
    case ResultCode::bad_length: return "length does not match the record type";
    case ResultCode::bad_field: return "field out of range";
    case ResultCode::reserved_not_zero: return "reserved bytes not zero";
    case ResultCode::bad_sequence: return "sequence number beyond the producer's counter";
    case ResultCode::sa_exists: return "SA id already installed";
    case ResultCode::sa_unknown: return "SA id not installed";
    case ResultCode::policy_unknown: return "policy id not installed";
    case ResultCode::rejected: return "refused by the SA table";
    case ResultCode::table_full: return "table full";
  }
  return "unknown result code";
}

std::string_view to_string(Field field) {
  switch (field) {
    case Field::none: return "none";
    case Field::sa_id: return "sa_id";
    case Field::spi: return "spi";
    case Field::direction: return "direction";
    case Field::protocol: return "protocol";
    case Field::mode: return "mode";
    case Field::ip_version: return "ip_version";
    case Field::outer_src: return "outer_src";
    case Field::outer_dst: return "outer_dst";
    case Field::udp_encap_ports: return "udp_encap_ports";
    case Field::encryption_id: return "encryption_id";
    case Field::encryption_key_bits: return "encryption_key_bits";
    case Field::encryption_key_length: return "encryption_key_length";
    case Field::encryption_key: return "encryption_key";
    case Field::integrity_id: return "integrity_id";
    case Field::integrity_key_length: return "integrity_key_length";
    case Field::integrity_key: return "integrity_key";
    case Field::replay_window: return "replay_window";
    case Field::lifetime: return "lifetime";
    case Field::flags: return "flags";
    case Field::policy_id: return "policy_id";
    case Field::action: return "action";
    case Field::priority: return "priority";
    case Field::src_prefix: return "src_prefix";
    case Field::dst_prefix: return "dst_prefix";
    case Field::ip_protocol: return "ip_protocol";
    case Field::src_ports: return "src_ports";
    case Field::dst_ports: return "dst_ports";
    case Field::policy_sa_id: return "policy_sa_id";
    case Field::lifetime_kind: return "lifetime_kind";
    case Field::command_type: return "command_type";
    case Field::result_code: return "result_code";
    case Field::request_id: return "request_id";
    case Field::port_name: return "port_name";
    case Field::link_up: return "link_up";
  }
  return "unknown";
}

std::string_view to_string(Direction v) { return v == Direction::inbound ? "in" : "out"; }
std::string_view to_string(IpsecProtocol v) { return v == IpsecProtocol::esp ? "esp" : "ah"; }
std::string_view to_string(Mode v) { return v == Mode::tunnel ? "tunnel" : "transport"; }
std::string_view to_string(PolicyAction v) {
  switch (v) {
    case PolicyAction::protect: return "protect";
    case PolicyAction::bypass: return "bypass";
    case PolicyAction::discard: return "discard";
    case PolicyAction::trap: return "trap";
  }
  return "unknown";
}

SaSummary summarize(const SaRecord& sa) {
  SaSummary s;
  s.sa_id = sa.sa_id;
  s.spi = sa.spi;
  s.direction = sa.direction;
  s.protocol = sa.protocol;
  s.mode = sa.mode;
  s.ip_version = sa.ip_version;
  s.outer_src = sa.outer_src;
  s.outer_dst = sa.outer_dst;
  s.udp_encap = sa.udp_encap;
  s.encap_src_port = sa.encap_src_port;
  s.encap_dst_port = sa.encap_dst_port;
  s.encryption_id = sa.encryption_id;
  s.encryption_key_bits = sa.encryption_key_bits;
  s.integrity_id = sa.integrity_id;
  s.encryption_key_length = sa.encryption_key.length;
  s.integrity_key_length = sa.integrity_key.length;
  s.replay_window = sa.replay_window;
  s.esn = sa.esn;
  s.soft = sa.soft;
  s.hard = sa.hard;
  s.df = sa.df;
  s.dscp_copy = sa.dscp_copy;
  s.ecn_propagate = sa.ecn_propagate;
  s.worker_hint = sa.worker_hint;
  return s;
}

namespace {

constexpr RecordError ok_result() { return {ResultCode::ok, Field::none}; }
constexpr RecordError bad(Field f) { return {ResultCode::bad_field, f}; }

std::size_t address_bytes(IpVersion v) { return v == IpVersion::v4 ? 4 : 16; }

// An address must use only the bytes of its family and must not be the
// unspecified address.
bool valid_address(IpVersion v, const std::array<std::uint8_t, 16>& a) {
  const std::size_t used = address_bytes(v);
  if (std::any_of(a.begin() + static_cast<std::ptrdiff_t>(used), a.end(),
                  [](std::uint8_t b) { return b != 0; })) {
    return false;
  }
  return std::any_of(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(used),
                     [](std::uint8_t b) { return b != 0; });
}

bool lifetime_ordered(std::uint64_t soft, std::uint64_t hard) {
  return soft == 0 || hard == 0 || soft <= hard;
}

bool valid_prefix(const Prefix& p) {
  if (p.family != IpVersion::v4 && p.family != IpVersion::v6) return false;
  const std::size_t bytes = address_bytes(p.family);
  if (p.length > bytes * 8) return false;
  for (std::size_t i = 0; i < p.address.size(); ++i) {
    // Bits past the prefix length must be zero, so that one prefix has one
    // encoding and comparisons need no masking.
    const std::size_t first_bit = i * 8;
    std::uint8_t allowed = 0;
    if (i < bytes && first_bit < p.length) {
      const std::size_t bits = std::min<std::size_t>(8, p.length - first_bit);
      allowed = static_cast<std::uint8_t>(0xff << (8 - bits));
    }
    if ((p.address[i] & ~allowed) != 0) return false;
  }
  return true;
}

}  // namespace

RecordError validate(const SaRecord& sa) {
  if (sa.sa_id == 0) return bad(Field::sa_id);
  if (sa.spi < 256) return bad(Field::spi);  // 0 local use, 1-255 reserved (RFC 4303 §2.1)
  if (sa.direction != Direction::inbound && sa.direction != Direction::outbound) {
    return bad(Field::direction);
  }
  if (sa.protocol != IpsecProtocol::esp && sa.protocol != IpsecProtocol::ah) {
    return bad(Field::protocol);
  }
  if (sa.mode != Mode::tunnel && sa.mode != Mode::transport) return bad(Field::mode);
  if (sa.ip_version != IpVersion::v4 && sa.ip_version != IpVersion::v6) {
    return bad(Field::ip_version);
  }
  if (!valid_address(sa.ip_version, sa.outer_src)) return bad(Field::outer_src);
  if (!valid_address(sa.ip_version, sa.outer_dst)) return bad(Field::outer_dst);
  if (sa.udp_encap) {
    // RFC 3948 encapsulates ESP only.
    if (sa.protocol != IpsecProtocol::esp || sa.encap_src_port == 0 || sa.encap_dst_port == 0) {
      return bad(Field::udp_encap_ports);
    }
  } else if (sa.encap_src_port != 0 || sa.encap_dst_port != 0) {
    return bad(Field::udp_encap_ports);
  }
  if (sa.encryption_key.length > kMaxEncryptionKey) return bad(Field::encryption_key_length);
  if (sa.integrity_key.length > kMaxIntegrityKey) return bad(Field::integrity_key_length);
  if (sa.protocol == IpsecProtocol::ah) {
    if (sa.encryption_id != 0) return bad(Field::encryption_id);
    if (sa.encryption_key_bits != 0) return bad(Field::encryption_key_bits);
    if (sa.encryption_key.length != 0) return bad(Field::encryption_key_length);
    if (sa.integrity_id == 0) return bad(Field::integrity_id);
  } else {
    if (sa.encryption_id == 0) return bad(Field::encryption_id);  // 0 is reserved
    // RFC 7296 §3.3: combined-mode ciphers are negotiated without an
    // integrity transform, all others need one (RFC 8221 §5 forbids ESP
    // without integrity).
    if (iana::encryption_is_aead(sa.encryption_id) != (sa.integrity_id == 0)) return bad(Field::integrity_id);
  }
  if (sa.encryption_key_bits % 8 != 0 ||
      sa.encryption_key_bits / 8U > sa.encryption_key.length) {
    return bad(Field::encryption_key_bits);
  }
  if ((sa.integrity_id == 0) != (sa.integrity_key.length == 0)) {
    return bad(Field::integrity_key_length);
  }
  if (sa.replay_window > kMaxReplayWindow) return bad(Field::replay_window);
  if (!lifetime_ordered(sa.soft.bytes, sa.hard.bytes) ||
      !lifetime_ordered(sa.soft.packets, sa.hard.packets)) {
    return bad(Field::lifetime);
  }
  if (sa.df != DfMode::copy && sa.df != DfMode::set && sa.df != DfMode::clear) {
    return bad(Field::flags);
  }
  return ok_result();
}

RecordError validate(const PolicyRecord& p) {
  if (p.policy_id == 0) return bad(Field::policy_id);
  if (p.direction != Direction::inbound && p.direction != Direction::outbound) {
    return bad(Field::direction);
  }
  if (p.action != PolicyAction::protect && p.action != PolicyAction::bypass &&
      p.action != PolicyAction::discard && p.action != PolicyAction::trap) {
    return bad(Field::action);
  }
  // A trap stands for an SA that is not there yet, on the way out: inbound
  // packets of a missing SA never arrive decrypted to be checked.
  if (p.action == PolicyAction::trap && p.direction != Direction::outbound) return bad(Field::action);
  if (!valid_prefix(p.src)) return bad(Field::src_prefix);
  if (!valid_prefix(p.dst) || p.dst.family != p.src.family) return bad(Field::dst_prefix);
  if (p.src_ports.low > p.src_ports.high) return bad(Field::src_ports);
  if (p.dst_ports.low > p.dst_ports.high) return bad(Field::dst_ports);
  // Port selectors without a protocol mean nothing (RFC 4301 §4.4.1.1).
  if (p.ip_protocol == 0) {
    if (p.src_ports != PortRange{}) return bad(Field::src_ports);
    if (p.dst_ports != PortRange{}) return bad(Field::dst_ports);
  }
  if ((p.action == PolicyAction::protect) != (p.sa_id != 0)) return bad(Field::policy_sa_id);
  return ok_result();
}

}  // namespace corridor::channel
