// Small helpers the IKEv2 exchange handlers share to read and build
// payloads: find a payload or notification, build a notification, and the
// 4-byte ESP/AH SPI as carried in proposals, notifications and deletes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ike/message.h"

namespace corridor::control::ikev2::payload {

using corridor::ike::Payload;

inline Payload notify(iana::NotifyType type, std::vector<std::uint8_t> data = {}) {
  corridor::ike::Notify n;
  n.type = type;
  n.data = std::move(data);
  return Payload{iana::PayloadType::notify, std::move(n)};
}

// The body of the first payload of `type`, nullptr if none.
template <typename Body>
const Body* find(const std::vector<Payload>& payloads, iana::PayloadType type) {
  for (const auto& p : payloads)
    if (p.type == type) return std::get_if<Body>(&p.body);
  return nullptr;
}

inline const corridor::ike::Notify* find_notify(const std::vector<Payload>& payloads, iana::NotifyType type) {
  for (const auto& p : payloads)
    if (const auto* n = std::get_if<corridor::ike::Notify>(&p.body); n && n->type == type) return n;
  return nullptr;
}

// The first error notification (types below 16384, RFC 7296 §3.10.1).
inline const corridor::ike::Notify* first_error(const std::vector<Payload>& payloads) {
  for (const auto& p : payloads)
    if (const auto* n = std::get_if<corridor::ike::Notify>(&p.body); n && static_cast<std::uint16_t>(n->type) < 16384)
      return n;
  return nullptr;
}

inline std::vector<std::uint8_t> spi_bytes(std::uint32_t spi) {
  return {static_cast<std::uint8_t>(spi >> 24), static_cast<std::uint8_t>(spi >> 16), static_cast<std::uint8_t>(spi >> 8),
          static_cast<std::uint8_t>(spi)};
}

inline std::optional<std::uint32_t> spi_value(const std::vector<std::uint8_t>& b) {
  if (b.size() != 4) return std::nullopt;
  return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
}

// A KE group as the 2-byte data of N(INVALID_KE_PAYLOAD) (§3.10.1), and its name.
inline std::vector<std::uint8_t> group_bytes(iana::KeId group) {
  const auto g = static_cast<std::uint16_t>(group);
  return {static_cast<std::uint8_t>(g >> 8), static_cast<std::uint8_t>(g)};
}

inline std::string group_name(iana::KeId group) {
  return std::string(iana::transform_name(iana::TransformType::key_exchange, static_cast<std::uint16_t>(group)));
}

}  // namespace corridor::control::ikev2::payload
