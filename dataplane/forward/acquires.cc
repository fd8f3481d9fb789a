#include "dataplane/forward/acquires.h"

#include <algorithm>

namespace corridor::dataplane::forward {

channel::Acquire Acquires::to_record(std::uint64_t policy_id, const tables::PacketKey& key) {
  channel::Acquire a;
  a.policy_id = policy_id;
  a.family = key.family();
  a.ip_protocol = key.protocol();
  a.src_port = key.src_port().value_or(0);
  a.dst_port = key.dst_port().value_or(0);
  const auto src = key.src_address();
  const auto dst = key.dst_address();
  std::copy(src.begin(), src.end(), a.src.begin());
  std::copy(dst.begin(), dst.end(), a.dst.begin());
  return a;
}

void Acquires::raise(std::uint64_t policy_id, const tables::PacketKey& key, std::uint64_t now) {
  // Fibonacci hashing: policy ids are consecutive, so the top bits of the
  // product spread them over the slots.
  Slot& slot = recent_[((policy_id * 0x9e3779b97f4a7c15ULL) >> 56) & (kSlots - 1)];
  if (slot.policy_id == policy_id && now - slot.at < hold_) {
    ++counters_.held;
    return;
  }
  if (n_ == kPending) {
    ++counters_.overflow;  // the slot stays as it was: the next packet tries again
    return;
  }
  slot = {policy_id, now};
  pending_[n_++] = to_record(policy_id, key);
  ++counters_.raised;
}

}  // namespace corridor::dataplane::forward
