#include "control/ikev2/fragmentation.h"

#include <algorithm>
#include <utility>

namespace corridor::control::ikev2 {

namespace {

namespace codec = corridor::ike;

constexpr std::size_t kIpv4HeaderSize = 20;  // no options
constexpr std::size_t kIpv6HeaderSize = 40;  // no extension headers
constexpr std::size_t kUdpHeaderSize = 8;
constexpr std::size_t kNonEspMarkerSize = 4;  // RFC 3948 §2.2
constexpr std::size_t kMaxSkfPayloadLength = 0xffff;

void set_why(std::string* why, std::string text) {
  if (why) *why = std::move(text);
}

std::string fragment_text(const codec::Header& h, const codec::EncryptedFragment& f) {
  return "fragment " + std::to_string(f.number) + "/" + std::to_string(f.total) + " of " +
         std::string(iana::exchange_type_name(h.exchange)) + (h.response ? " response " : " request ") +
         std::to_string(h.message_id);
}

}  // namespace

// --- Size and policy ---------------------------------------------------------------

std::size_t fragment_datagram_limit(net::Family family, bool nat_t_port, std::size_t ip_datagram_size) {
  const std::size_t overhead = (family == net::Family::ipv4 ? kIpv4HeaderSize : kIpv6HeaderSize) + kUdpHeaderSize +
                               (nat_t_port ? kNonEspMarkerSize : 0);
  return ip_datagram_size > overhead ? ip_datagram_size - overhead : 0;
}

bool announce_fragmentation(config::Fragmentation setting) { return setting != config::Fragmentation::no; }

bool fragmentation_wanted(config::Fragmentation setting, bool peer_announced) {
  return peer_announced && (setting == config::Fragmentation::yes || setting == config::Fragmentation::force);
}

// --- Sending ------------------------------------------------------------------------

std::size_t fragment_capacity(const codec::SkCrypto& crypto, std::size_t max_datagram) {
  if (max_datagram <= kFragmentAadSize) return 0;
  // Room for IV | ciphertext | ICV, also bounded by the SKF Payload Length.
  const std::size_t room = std::min(max_datagram - kFragmentAadSize, kMaxSkfPayloadLength - kSkfHeaderSize);
  // sealed_size() grows with the plaintext and exceeds it by at least the
  // IV, the ICV and the Pad Length byte, so the answer lies a few dozen
  // bytes below `room` at most.
  std::size_t n = room;
  while (n > 0 && crypto.sealed_size(n) > room) --n;
  return n;
}

std::optional<std::vector<std::vector<std::uint8_t>>> fragment_message(const codec::Header& header,
                                                                      iana::PayloadType first_inner,
                                                                      std::span<const std::uint8_t> plaintext,
                                                                      codec::SkCrypto& out, std::size_t max_datagram,
                                                                      std::string* why) {
  const std::size_t capacity = fragment_capacity(out, max_datagram);
  if (capacity == 0) {
    set_why(why, "fragments of at most " + std::to_string(max_datagram) +
                     " bytes leave no room for plaintext after the headers, IV, padding and ICV");
    return std::nullopt;
  }
  const std::size_t count = std::max<std::size_t>(1, (plaintext.size() + capacity - 1) / capacity);
  if (count > 0xffff) {
    set_why(why, std::to_string(plaintext.size()) + " bytes would take " + std::to_string(count) +
                     " fragments; Total Fragments has 16 bits");
    return std::nullopt;
  }

  std::vector<std::vector<std::uint8_t>> datagrams;
  datagrams.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t offset = i * capacity;
    const auto chunk = plaintext.subspan(offset, std::min(capacity, plaintext.size() - offset));
    const std::size_t sealed_size = out.sealed_size(chunk.size());

    codec::EncryptedFragment skf;
    skf.number = static_cast<std::uint16_t>(i + 1);
    skf.total = static_cast<std::uint16_t>(count);
    // §2.5: Next Payload names the first inner payload in fragment 1 only.
    skf.first_inner = i == 0 ? first_inner : iana::PayloadType::no_next_payload;
    skf.data.assign(sealed_size, 0);  // placeholder, so the lengths are final
    codec::Message message{header, {}};
    message.payloads.push_back(codec::Payload{iana::PayloadType::encrypted_fragment, std::move(skf)});
    auto bytes = codec::serialise_message(message);
    if (!bytes.ok()) {
      set_why(why, "could not encode fragment " + std::to_string(i + 1) + ": " + bytes.error().message);
      return std::nullopt;
    }
    // Associated data: this fragment's IKE header and SKF header with
    // Fragment Number and Total Fragments (§2.5; RFC 7296 §3.14, RFC 5282 §5.1).
    const std::size_t aad_size = bytes->size() - sealed_size;
    if (aad_size != kFragmentAadSize) {
      set_why(why, "fragment " + std::to_string(i + 1) + " has " + std::to_string(aad_size) + " header bytes");
      return std::nullopt;
    }
    auto sealed = out.seal(std::span<const std::uint8_t>(bytes->data(), aad_size), chunk);
    if (!sealed.ok() || sealed->size() != sealed_size) {
      set_why(why, "could not encrypt fragment " + std::to_string(i + 1) +
                       (sealed.ok() ? std::string() : ": " + sealed.error().message));
      return std::nullopt;
    }
    std::copy(sealed->begin(), sealed->end(), bytes->begin() + static_cast<std::ptrdiff_t>(aad_size));
    datagrams.push_back(std::move(*bytes));
  }
  return datagrams;
}

// --- Receiving ----------------------------------------------------------------------

std::string_view to_string(Reassembly::Reject reason) {
  using R = Reassembly::Reject;
  switch (reason) {
    case R::none: return "none";
    case R::bad_fragment_number: return "fragment_bad_number";
    case R::too_many_fragments: return "fragment_too_many";
    case R::not_fragment_only: return "fragment_not_alone";
    case R::integrity_failed: return "fragment_integrity_failed";
    case R::stale_message_id: return "fragment_stale";
    case R::total_mismatch: return "fragment_total_mismatch";
    case R::header_mismatch: return "fragment_header_mismatch";
    case R::duplicate: return "fragment_duplicate";
    case R::too_large: return "fragment_too_large";
  }
  return "unknown";
}

// Everything but last_done.
void Reassembly::Pending::clear() {
  active = false;
  message_id = 0;
  total = 0;
  exchange = {};
  initiator = false;
  count = 0;
  bytes = 0;
  first_inner = iana::PayloadType::no_next_payload;
  chunks.clear();
}

Reassembly::Status Reassembly::reject(Reject reason, std::string message, std::string* why) {
  last_reject_ = reason;
  set_why(why, std::move(message));
  return Status::rejected;
}

Reassembly::Status Reassembly::add(const codec::Header& header, const codec::EncryptedFragment& fragment,
                                   std::span<const std::uint8_t> datagram, const codec::SkCrypto& in,
                                   std::string* why) {
  last_reject_ = Reject::none;
  const std::string what = fragment_text(header, fragment);

  // 1. The fragment on its own.
  if (fragment.number == 0 || fragment.total == 0 || fragment.number > fragment.total)
    return reject(Reject::bad_fragment_number, what + ": Fragment Number must be 1..Total Fragments", why);
  if (fragment.total > kMaxFragments)
    return reject(Reject::too_many_fragments,
                  what + ": more than " + std::to_string(kMaxFragments) + " fragments", why);
  if (datagram.size() != kFragmentAadSize + fragment.data.size())
    return reject(Reject::not_fragment_only, what + ": the SKF payload must be the only one", why);

  // 2. Against what is held; nothing changes yet.
  Pending& p = pending_[header.response ? 1 : 0];
  const std::uint32_t id = header.message_id;
  if (p.last_done && id <= *p.last_done)
    return reject(Reject::stale_message_id,
                  what + ": message " + std::to_string(*p.last_done) + " was already received", why);
  const bool same = p.active && id == p.message_id;
  if (p.active && id < p.message_id)
    return reject(Reject::stale_message_id,
                  what + ": message " + std::to_string(p.message_id) + " is in reassembly", why);
  if (same && fragment.total < p.total)
    return reject(Reject::total_mismatch,
                  what + ": earlier fragments said " + std::to_string(p.total) + " in total", why);
  if (same && (header.exchange != p.exchange || header.initiator != p.initiator))
    return reject(Reject::header_mismatch, what + ": earlier fragments had another exchange type or I flag", why);
  if (same && fragment.total == p.total && p.chunks[fragment.number - 1u])
    return reject(Reject::duplicate, what + ": already held", why);

  // 3. Authenticity (§2.6), before anything is stored or discarded.
  auto chunk = in.open(datagram.first(kFragmentAadSize), fragment.data);
  if (!chunk.ok()) return reject(Reject::integrity_failed, what + ": " + chunk.error().message, why);

  // 4. A new message, or the same one fragmented again with more fragments.
  if (!same || fragment.total > p.total) {
    p.clear();  // keeps last_done
    p.active = true;
    p.message_id = id;
    p.total = fragment.total;
    p.exchange = header.exchange;
    p.initiator = header.initiator;
    p.chunks.resize(fragment.total);
  }

  // 5. Bounded memory.
  if (p.bytes + chunk->size() > kMaxReassembledSize) {
    p.clear();  // keeps last_done
    return reject(Reject::too_large,
                  what + ": the message exceeds " + std::to_string(kMaxReassembledSize) + " bytes; discarded", why);
  }

  // 6. Store; fragment 1 names the first inner payload.
  if (fragment.number == 1) p.first_inner = fragment.first_inner;
  p.bytes += chunk->size();
  p.chunks[fragment.number - 1u] = std::move(*chunk);
  ++p.count;
  if (p.count < p.total) return Status::incomplete;

  Result result;
  result.first_inner = p.first_inner;
  result.plaintext.reserve(p.bytes);
  for (const auto& c : p.chunks) result.plaintext.insert(result.plaintext.end(), c->begin(), c->end());
  p.clear();
  p.last_done = id;
  ready_ = std::move(result);
  return Status::complete;
}

std::optional<Reassembly::Result> Reassembly::take() {
  auto out = std::move(ready_);
  ready_.reset();
  return out;
}

void Reassembly::unfragmented(const codec::Header& header) {
  Pending& p = pending_[header.response ? 1 : 0];
  const std::uint32_t id = header.message_id;
  if (p.active && p.message_id <= id) {
    p.clear();  // keeps last_done
  }
  if (!p.last_done || *p.last_done < id) p.last_done = id;
}

void Reassembly::reset() {
  for (auto& p : pending_) {
    p.clear();
    p.last_done.reset();
  }
  ready_.reset();
  last_reject_ = Reject::none;
}

std::size_t Reassembly::held_bytes() const { return pending_[0].bytes + pending_[1].bytes; }

std::size_t Reassembly::held_fragments(bool response) const { return pending_[response ? 1 : 0].count; }

}  // namespace corridor::control::ikev2
