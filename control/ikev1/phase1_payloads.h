// What both Phase 1 modes (main_mode.cc, aggressive_mode.cc) build their
// messages from: the vendor IDs, the lifetime offered, and identities
// between the config's form and the ID payload.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/config/identity.h"
#include "common/config/model.h"
#include "common/ikev1/message.h"

namespace corridor::control::ikev1 {

bool has_vendor_id(const std::vector<corridor::ikev1::Payload>& payloads, std::span<const std::uint8_t> id);
// VID(RFC 3947) when `nat_t`, then VID(DPD), then VID(FRAGMENTATION) when
// `fragmentation` (fragmentation.h).
std::vector<corridor::ikev1::Payload> vendor_ids(bool nat_t, bool fragmentation);
// Whether we announce it: unless the connection says `fragmentation: no`.
bool announces_fragmentation(const config::ConnectionConfig& conn);
// Whether the peer announced IKEv1 fragmentation.
bool has_fragmentation_vendor_id(const std::vector<corridor::ikev1::Payload>& payloads);
// The ISAKMP SA's lifetime we offer: the hard limit of the connection.
std::uint32_t phase1_lifetime(const config::ConnectionConfig& conn);
// IKEv1 and IKEv2 number the ID types the same way (RFC 2407 §4.6.2.1,
// RFC 7296 §3.5), so the IKEv2 identity code serves both.
std::optional<config::Identity> identity_of(const corridor::ikev1::Identification& id, std::string* why);
std::optional<corridor::ikev1::Identification> wire_identity(const config::Identity& id, std::string* why);

}  // namespace corridor::control::ikev1
