// The anti-replay reference model shared by the unit test and the fuzz
// target (tests only: nothing here belongs in the dataplane).
#pragma once

#include <cstdint>
#include <set>

#include "dataplane/ipsec/replay.h"

namespace corridor::dataplane::ipsec {

// The reference: a set of every accepted 64-bit sequence number and the
// highest one. Appendix A's inference is restated as "the unique value
// congruent to seq_low in [T - W + 1, T - W + 2^32]", computed in signed
// arithmetic, independently of the two-case form in replay.h.
class ReplayReference {
 public:
  ReplayReference(std::uint32_t window, bool esn)
      : window_(window), infer_(window ? window : (std::uint32_t{1} << 31)), esn_(esn) {}

  ReplayWindow::CheckResult check(std::uint32_t seq_low) const {
    std::int64_t seq = seq_low;
    if (esn_) {
      const std::int64_t base = static_cast<std::int64_t>(top_) - infer_ + 1;
      seq = base + static_cast<std::uint32_t>(seq_low - static_cast<std::uint32_t>(base));
      if (seq < 0) return {ReplayWindow::Verdict::too_old, 0};
    }
    const auto s = static_cast<std::uint64_t>(seq);
    return {verdict(s), s};
  }

  ReplayWindow::Verdict update(std::uint64_t seq) {
    const ReplayWindow::Verdict v = verdict(seq);
    if (v != ReplayWindow::Verdict::ok) return v;
    seen_.insert(seq);
    if (seq > top_) top_ = seq;
    // Forget what can never matter again, to keep the set small.
    if (window_ != 0 && seen_.size() > 4 * window_ + 64)
      seen_.erase(seen_.begin(), seen_.lower_bound(top_ >= window_ ? top_ - window_ : 0));
    return v;
  }

  std::uint64_t highest() const { return top_; }

 private:
  ReplayWindow::Verdict verdict(std::uint64_t seq) const {
    if (seq == 0) return ReplayWindow::Verdict::zero;
    if (window_ == 0) return ReplayWindow::Verdict::ok;
    if (seq + window_ <= top_) return ReplayWindow::Verdict::too_old;
    return seen_.count(seq) ? ReplayWindow::Verdict::replayed : ReplayWindow::Verdict::ok;
  }

  std::uint32_t window_;
  std::int64_t infer_;
  bool esn_;
  std::uint64_t top_ = 0;
  std::set<std::uint64_t> seen_;
};

}  // namespace corridor::dataplane::ipsec
