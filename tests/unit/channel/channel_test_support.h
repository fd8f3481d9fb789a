// Helpers shared by the SA channel tests: unique segment names that are
// removed at the end, sample SA/policy records, and segment options.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "common/channel/endpoint.h"
#include "common/channel/records.h"
#include "common/channel/segment.h"

namespace corridor::channel::testing {

// A segment name unique to this process and test, unlinked on destruction
// (also when the test fails half-way).
class ShmName {
 public:
  ShmName() {
    static std::atomic<int> counter{0};
    name_ = "/corridor-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    (void)Segment::unlink(name_);
  }
  ~ShmName() { (void)Segment::unlink(name_); }
  ShmName(const ShmName&) = delete;
  ShmName& operator=(const ShmName&) = delete;
  const std::string& str() const { return name_; }

 private:
  std::string name_;
};

inline EndpointOptions options_for(const ShmName& name, std::uint32_t capacity = kMinRingCapacity) {
  EndpointOptions o;
  o.segment.name = name.str();
  o.segment.command_capacity = capacity;
  o.segment.event_capacity = capacity;
  return o;
}

// An AES-256-GCM ESP tunnel SA (key 32 bytes + 4-byte salt, RFC 4106).
inline SaRecord make_sa(std::uint64_t id, Direction direction = Direction::outbound) {
  SaRecord sa;
  sa.sa_id = id;
  sa.spi = 0xc0000000U + static_cast<std::uint32_t>(id);
  sa.direction = direction;
  sa.protocol = IpsecProtocol::esp;
  sa.mode = Mode::tunnel;
  sa.ip_version = IpVersion::v4;
  sa.outer_src = {192, 0, 2, 1};
  sa.outer_dst = {198, 51, 100, static_cast<std::uint8_t>(id)};
  sa.encryption_id = 20;  // ENCR_AES_GCM_16
  sa.encryption_key_bits = 256;
  std::uint8_t key[36];
  for (std::size_t i = 0; i < sizeof key; ++i) key[i] = static_cast<std::uint8_t>(id * 7 + i);
  sa.encryption_key.assign(key);
  sa.replay_window = direction == Direction::inbound ? 64 : 0;
  sa.esn = true;
  sa.soft = {900'000'000, 0};
  sa.hard = {1'000'000'000, 0};
  sa.worker_hint = static_cast<std::uint16_t>(id % 4);
  return sa;
}

// An ESP transport SA with AES-CBC + HMAC-SHA2-256 over IPv6 and NAT-T.
inline SaRecord make_cbc_sa(std::uint64_t id) {
  SaRecord sa = make_sa(id);
  sa.mode = Mode::transport;
  sa.ip_version = IpVersion::v6;
  sa.outer_src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  sa.outer_dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  sa.udp_encap = true;
  sa.encap_src_port = 4500;
  sa.encap_dst_port = 4500;
  sa.encryption_id = 12;  // ENCR_AES_CBC
  sa.encryption_key_bits = 128;
  std::uint8_t enc[16];
  for (std::size_t i = 0; i < sizeof enc; ++i) enc[i] = static_cast<std::uint8_t>(0xa0 + i);
  sa.encryption_key.assign(enc);
  sa.integrity_id = 12;  // AUTH_HMAC_SHA2_256_128
  std::uint8_t integ[32];
  for (std::size_t i = 0; i < sizeof integ; ++i) integ[i] = static_cast<std::uint8_t>(0x50 + i);
  sa.integrity_key.assign(integ);
  sa.df = DfMode::clear;
  sa.dscp_copy = false;
  sa.ecn_propagate = false;
  sa.soft = {0, 1000};
  sa.hard = {0, 2000};
  return sa;
}

inline PolicyRecord make_policy(std::uint64_t id, std::uint64_t sa_id) {
  PolicyRecord p;
  p.policy_id = id;
  p.direction = Direction::outbound;
  p.action = sa_id != 0 ? PolicyAction::protect : PolicyAction::bypass;
  p.priority = static_cast<std::uint32_t>(100 + id);
  p.src = {IpVersion::v4, 24, {10, 1, static_cast<std::uint8_t>(id), 0}};
  p.dst = {IpVersion::v4, 16, {10, 2, 0, 0}};
  p.ip_protocol = 17;
  p.src_ports = {0, 65535};
  p.dst_ports = {500, 600};
  p.sa_id = sa_id;
  return p;
}

}  // namespace corridor::channel::testing
