// The inbound ESP/AH SPIs of one daemon, in use or reserved for a
// negotiation under way. The IKEv1 and IKEv2 managers install into the same
// dataplane, which finds an inbound SA by its SPI (RFC 4301 §4.1: the SPI
// alone may select the SA), so the two must never choose the same one: they
// draw from one registry (service.cc). A manager given none keeps its own.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <unordered_set>

namespace corridor::control::ike {

class SpiRegistry {
 public:
  using Random = std::function<void(std::span<std::uint8_t>)>;

  // A random SPI not in use, now reserved; never 0-255 (RFC 4303 §2.1:
  // 1-255 are reserved by IANA, 0 is for local use).
  std::uint32_t reserve(const Random& random) {
    for (;;) {
      std::uint8_t b[4];
      random(b);
      const std::uint32_t spi = std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
      if (spi >= 256 && spis_.insert(spi).second) return spi;
    }
  }
  void release(std::uint32_t spi) { spis_.erase(spi); }
  bool in_use(std::uint32_t spi) const { return spis_.count(spi) != 0; }
  std::size_t size() const { return spis_.size(); }

 private:
  std::unordered_set<std::uint32_t> spis_;
};

}  // namespace corridor::control::ike
