// The SA channel records of one negotiated Child SA (IKEv2) or IPsec SA
// pair (IKEv1 Quick Mode): the inbound and outbound SA records with their
// keys, and a policy pair per selector pair, so that both IKE versions put
// the same thing into the dataplane.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/channel/records.h"
#include "common/config/model.h"
#include "common/net/address.h"
#include "common/net/traffic_selector.h"

namespace corridor::control::ike {

struct ChildSaParams {
  const config::ChildConfig* child = nullptr;  // volume limits, replay window, mode
  bool ah = false;
  bool encap = false;  // UDP encapsulation (RFC 3948) on the IKE ports below
  net::SocketAddress local;
  net::SocketAddress remote;
  std::uint16_t encryption = 0;  // IKEv2 ENCR ID; 0 for AH
  std::uint16_t key_bits = 0;
  std::uint16_t integrity = 0;   // IKEv2 INTEG ID; 0 with AEAD
  bool esn = false;
  // A byte lifetime agreed with the peer (IKEv1 Life Duration in
  // kilobytes) when shorter than the child's life_bytes; 0: the child's.
  // The soft limit then comes at nine tenths of it at the latest, so the
  // SA is renewed before the peer drops it.
  std::uint64_t life_bytes = 0;
  std::uint32_t spi_in = 0;
  std::uint32_t spi_out = 0;
  std::uint64_t sa_id_in = 0;
  std::uint64_t sa_id_out = 0;
};

struct ChildSaKeyViews {
  std::span<const std::uint8_t> encryption_in, integrity_in, encryption_out, integrity_out;
};

// {inbound, outbound}; nullopt (and `why`) if a key is longer than the SA
// channel carries.
std::optional<std::pair<channel::SaRecord, channel::SaRecord>> child_sa_records(const ChildSaParams& params,
                                                                                const ChildSaKeyViews& keys,
                                                                                std::string* why);

// One (local prefix, remote prefix) pair of the same family each way:
// outbound steers traffic into sa_id_out, inbound is the RFC 4301 §5.2
// check of what sa_id_in delivers. policy_id is left 0 for the caller.
struct PolicyPair {
  channel::PolicyRecord out;
  channel::PolicyRecord in;
};
std::vector<PolicyPair> child_policies(const std::vector<net::TrafficSelector>& local_ts,
                                       const std::vector<net::TrafficSelector>& remote_ts, std::uint64_t sa_id_in,
                                       std::uint64_t sa_id_out);

}  // namespace corridor::control::ike
