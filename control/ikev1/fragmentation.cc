#include "control/ikev1/fragmentation.h"

#include <algorithm>

#include "common/ikev1/message.h"

namespace corridor::control::ikev1 {

namespace {

constexpr std::uint8_t kLastFragment = 0x01;

constexpr std::uint8_t kVendorId[20] = {0x40, 0x48, 0xb7, 0xd5, 0x6e, 0xbc, 0xe8, 0x85, 0x25, 0xe7,
                                        0xde, 0x7f, 0x00, 0xd6, 0xc2, 0xd3, 0x80, 0x00, 0x00, 0x00};
constexpr std::size_t kVendorIdPrefix = 16;

}  // namespace

std::span<const std::uint8_t> fragmentation_vendor_id() { return kVendorId; }

bool is_fragmentation_vendor_id(std::span<const std::uint8_t> data) {
  return data.size() >= kVendorIdPrefix && std::equal(kVendorId, kVendorId + kVendorIdPrefix, data.begin());
}

std::size_t max_datagram(bool ipv6, bool nat_t_port, std::size_t ip_datagram_size) {
  const std::size_t overhead = (ipv6 ? 40 : 20) + 8 + (nat_t_port ? 4 : 0);
  return ip_datagram_size > overhead ? ip_datagram_size - overhead : 0;
}

std::optional<Fragment> parse_fragment(std::span<const std::uint8_t> datagram, std::string* why) {
  auto refuse = [&](std::string text) -> std::optional<Fragment> {
    if (why) *why = std::move(text);
    return std::nullopt;
  };
  const std::size_t at = corridor::ikev1::kHeaderSize;
  if (datagram.size() < at + kFragmentHeaderSize) return refuse("fragment message shorter than its headers");
  const auto p = datagram.subspan(at);
  if (p[0] != 0) return refuse("fragment payload followed by payload type " + std::to_string(p[0]));
  const std::size_t length = std::size_t{p[2]} << 8 | p[3];
  if (length != p.size()) {
    return refuse("fragment Payload Length " + std::to_string(length) + " but " + std::to_string(p.size()) +
                  " bytes follow the header");
  }
  Fragment f;
  f.id = static_cast<std::uint16_t>(p[4] << 8 | p[5]);
  f.number = p[6];
  f.last = (p[7] & kLastFragment) != 0;
  f.data = p.subspan(kFragmentHeaderSize);
  if (f.number == 0) return refuse("fragment number 0 (they start at 1)");
  if (f.data.empty()) return refuse("empty fragment");
  return f;
}

std::vector<std::vector<std::uint8_t>> fragment_datagram(std::span<const std::uint8_t> datagram, std::size_t max_size,
                                                         iana::ikev1::ExchangeType exchange) {
  std::vector<std::vector<std::uint8_t>> out;
  const std::size_t overhead = corridor::ikev1::kHeaderSize + kFragmentHeaderSize;
  if (datagram.size() <= max_size || max_size <= overhead || datagram.size() < corridor::ikev1::kHeaderSize) return out;
  const std::size_t room = max_size - overhead;
  const std::size_t count = (datagram.size() + room - 1) / room;
  if (count > kMaxFragments) return out;
  corridor::ikev1::Header h;
  std::copy_n(datagram.begin(), 8, h.cookie_i.begin());
  std::copy_n(datagram.begin() + 8, 8, h.cookie_r.begin());
  h.exchange = exchange;
  for (std::size_t i = 0; i < count; ++i) {
    const auto piece = datagram.subspan(i * room, std::min(room, datagram.size() - i * room));
    const std::size_t payload_length = kFragmentHeaderSize + piece.size();
    const auto header = corridor::ikev1::serialise_header(
        h, static_cast<iana::ikev1::PayloadType>(kFragmentPayload),
        static_cast<std::uint32_t>(corridor::ikev1::kHeaderSize + payload_length));
    std::vector<std::uint8_t> m(header.begin(), header.end());
    m.push_back(0);  // Next Payload
    m.push_back(0);  // RESERVED
    m.push_back(static_cast<std::uint8_t>(payload_length >> 8));
    m.push_back(static_cast<std::uint8_t>(payload_length));
    m.push_back(0);  // Fragment ID 1
    m.push_back(1);
    m.push_back(static_cast<std::uint8_t>(i + 1));
    m.push_back(i + 1 == count ? kLastFragment : 0);
    m.insert(m.end(), piece.begin(), piece.end());
    out.push_back(std::move(m));
  }
  return out;
}

Reassembly::Result Reassembly::add(const Fragment& f, std::string* why) {
  auto reject = [&](std::string text) {
    pieces_.clear();
    bytes_ = 0;
    last_ = 0;
    if (why) *why = std::move(text);
    return Result::rejected;
  };
  if (!pieces_.empty() && f.id != id_) {
    // A new message (the peer gave up on the old one): start again.
    pieces_.clear();
    bytes_ = 0;
    last_ = 0;
  }
  id_ = f.id;
  if (pieces_.count(f.number) != 0) return Result::incomplete;  // a repeat
  if (f.number > kMaxFragments) return reject("fragment number " + std::to_string(f.number) + " beyond the limit of " +
                                              std::to_string(kMaxFragments));
  if (f.last) {
    if (last_ != 0 && last_ != f.number) return reject("two different last fragments");
    last_ = f.number;
  }
  if (last_ != 0 && (f.number > last_ || (!pieces_.empty() && pieces_.rbegin()->first > last_)))
    return reject("a fragment numbered after the last one");
  bytes_ += f.data.size();
  if (bytes_ > kMaxReassembled)
    return reject("the fragments add up to more than " + std::to_string(kMaxReassembled) + " bytes");
  pieces_.emplace(f.number, std::vector<std::uint8_t>(f.data.begin(), f.data.end()));
  return last_ != 0 && pieces_.size() == last_ ? Result::complete : Result::incomplete;
}

std::vector<std::uint8_t> Reassembly::take() {
  std::vector<std::uint8_t> out;
  out.reserve(bytes_);
  for (auto& [number, piece] : pieces_) out.insert(out.end(), piece.begin(), piece.end());
  pieces_.clear();
  bytes_ = 0;
  last_ = 0;
  return out;
}

}  // namespace corridor::control::ikev1
