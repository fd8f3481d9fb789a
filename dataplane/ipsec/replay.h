// Inbound anti-replay window for ESP (RFC 4303 §3.4.3, Appendix A) and AH
// (RFC 4302 §3.4.3, same algorithm), with the bitmap laid out as in RFC 6479.
//
// Two phases, because RFC 4303 §3.4.3 says the replay check happens before
// the ICV is verified and the window is updated only after it verifies:
//
//   auto r = window.check(esp_seq_low);        // before decryption / ICV
//   if (r.verdict != ReplayWindow::Verdict::ok) drop (named counter);
//   icv input gets seq_hi(r.seq) appended when ESN (RFC 4303 §2.2.1);
//   if (icv fails) drop;                        // window untouched
//   if (window.update(r.seq) != Verdict::ok) drop;   // e.g. duplicate in one burst
//
// One worker owns an inbound SA, so there are no locks or atomics here, and
// check()/update() never allocate. Counters are the caller's: this class only
// returns verdicts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace corridor::dataplane::ipsec {

class ReplayWindow {
 public:
  // RFC 4303 §3.4.3 suggests 32 as a default and 64 when the SA is set up by
  // IKE; 16384 bits (2 KiB of live window) is plenty for multi-queue reordering.
  static constexpr std::uint32_t kMaxWindow = 16384;
  // RFC 6479 §2: the bitmap is kept as 64-bit blocks.
  static constexpr std::uint32_t kBlockBits = 64;

  enum class Verdict : std::uint8_t {
    ok,        // new sequence number: go on to the ICV check
    replayed,  // inside the window and already received
    too_old,   // left of the window (or before the SA's first packet)
    zero,      // sequence number 0, which no sender ever transmits
  };

  struct CheckResult {
    Verdict verdict;
    // The full sequence number: 32-bit value without ESN; with ESN the
    // 64-bit value inferred per RFC 4303 Appendix A. Set for every verdict,
    // except too_old caused by an inferred high half below 0 or above
    // 2^32 - 1, where it is 0.
    std::uint64_t seq;
  };

  // The high-order 32 bits the ICV covers when ESN is in use (RFC 4303
  // §2.2.1, §3.3.2.1: appended after the payload for the ICV computation).
  static constexpr std::uint32_t seq_hi(std::uint64_t seq) { return static_cast<std::uint32_t>(seq >> 32); }

  // window: acceptance window in packets; 0 turns anti-replay off (every
  // packet passes, but ESN inference still works). Throws
  // std::invalid_argument above kMaxWindow: this runs when an SA is installed,
  // never on the fast path.
  ReplayWindow(std::uint32_t window, bool esn)
      : window_(window),
        // With the window off, Appendix A has no W to work with; inferring
        // the 64-bit value nearest to the highest one seen (a 2^31 window)
        // keeps reordered packets decryptable.
        infer_window_(window != 0 ? window : (std::uint32_t{1} << 31)),
        block_mask_(blocks_for(window) - 1),
        esn_(esn),
        bitmap_(window != 0 ? blocks_for(window) : 0, 0) {}

  std::uint32_t window_size() const { return window_; }
  bool esn() const { return esn_; }
  // Highest sequence number accepted so far (0: none yet).
  std::uint64_t highest() const { return top_; }
  // Bitmap blocks in use (a power of two, >= ceil(W/64) + 1; see blocks_for).
  std::size_t bitmap_blocks() const { return bitmap_.size(); }

  // Phase 1, before the ICV: does not change the window, so a forged packet
  // that fails its ICV leaves no mark (RFC 4303 §3.4.3).
  [[nodiscard]] CheckResult check(std::uint32_t seq_low) const {
    std::uint64_t seq = seq_low;
    if (esn_) {
      if (!infer(seq_low, seq)) return {Verdict::too_old, 0};
    }
    return {verdict(seq), seq};
  }

  // Phase 2, after the ICV verified: marks seq received and slides the
  // window. seq is CheckResult::seq from check(). The check is repeated,
  // because two copies of one packet in a burst both pass check() before
  // either is marked: the second update() returns replayed and the caller
  // drops it. The window only changes when the result is ok.
  Verdict update(std::uint64_t seq) {
    const Verdict v = verdict(seq);
    if (v != Verdict::ok) return v;
    if (window_ == 0) {
      if (seq > top_) top_ = seq;
      return v;
    }
    if (seq > top_) {
      // RFC 6479 §2.2: clear only the blocks that the window moves into;
      // a jump past the whole ring clears the ring once. The block holding
      // the old top keeps its bits: they are still inside the window.
      const std::uint64_t old_block = top_ / kBlockBits;
      const std::uint64_t new_block = seq / kBlockBits;
      const std::uint64_t moved = new_block - old_block;
      if (moved >= bitmap_.size()) {
        for (auto& b : bitmap_) b = 0;
      } else {
        for (std::uint64_t i = 1; i <= moved; ++i) bitmap_[(old_block + i) & block_mask_] = 0;
      }
      top_ = seq;
    }
    bitmap_[(seq / kBlockBits) & block_mask_] |= std::uint64_t{1} << (seq % kBlockBits);
    return v;
  }

 private:
  // Ring size in blocks: the W newest sequence numbers straddle at most
  // ceil(W/64) + 1 blocks, and one ring slot per straddled block keeps a
  // block's stale bits from aliasing into the window. A power of two so the
  // slot is a mask, not a division (RFC 6479 §2.1).
  static std::uint32_t blocks_for(std::uint32_t window) {
    if (window > kMaxWindow)
      throw std::invalid_argument("anti-replay window " + std::to_string(window) + " exceeds " +
                                  std::to_string(kMaxWindow));
    const std::uint32_t needed = (window + kBlockBits - 1) / kBlockBits + 1;
    std::uint32_t n = 1;
    while (n < needed) n <<= 1;
    return n;
  }

  // RFC 4303 Appendix A2.2: the high-order half is the one that puts seq in
  // [T - W + 1, T - W + 2^32], i.e. just left of the window up to almost a
  // whole subspace ahead of it. Case A (Tl >= W - 1): the window lies in one
  // subspace; a low value under the window's bottom belongs to the next one.
  // Case B (Tl < W - 1): the window straddles a 2^32 boundary; a low value at
  // or above the (wrapped) bottom belongs to the previous subspace.
  //
  // The inference is only defined relative to the window (Appendix A3): a
  // packet from a peer more than ~2^32 ahead, or one that lost sync, gets the
  // wrong high half here, so its ICV fails. Detecting a desynchronised SA
  // from repeated ICV failures is the caller's business.
  //
  // Returns false when the inferred high half falls outside 0 .. 2^32 - 1:
  // before the SA's first subspace, or past the 64-bit space a sender must
  // rekey before exhausting (RFC 4303 §3.3.3).
  bool infer(std::uint32_t seq_low, std::uint64_t& seq) const {
    const auto tl = static_cast<std::uint32_t>(top_);
    const std::uint64_t th = top_ >> 32;
    const std::uint32_t bottom = tl - infer_window_ + 1;  // modulo 2^32 in case B
    std::uint64_t hi = th;
    if (tl >= infer_window_ - 1) {  // case A
      if (seq_low < bottom) {
        if (th == 0xffffffffu) return false;
        hi = th + 1;
      }
    } else {  // case B
      if (seq_low >= bottom) {
        if (th == 0) return false;
        hi = th - 1;
      }
    }
    seq = (hi << 32) | seq_low;
    return true;
  }

  Verdict verdict(std::uint64_t seq) const {
    // RFC 4303 §3.3.3: the first packet carries 1; without ESN the counter
    // never cycles, and with ESN the full 64-bit value 0 is never sent, while
    // a low half of 0 after a wrap is a legitimate packet.
    if (seq == 0) return Verdict::zero;
    if (window_ == 0 || seq > top_) return Verdict::ok;
    if (top_ - seq >= window_) return Verdict::too_old;
    const std::uint64_t bit = std::uint64_t{1} << (seq % kBlockBits);
    return (bitmap_[(seq / kBlockBits) & block_mask_] & bit) ? Verdict::replayed : Verdict::ok;
  }

  // Hot fields first: everything check() reads sits in the first 24 bytes.
  std::uint64_t top_ = 0;
  std::uint32_t window_;
  std::uint32_t infer_window_;
  std::uint32_t block_mask_;
  bool esn_;
  // Allocated once here; check()/update() never resize it.
  std::vector<std::uint64_t> bitmap_;
};

inline const char* to_string(ReplayWindow::Verdict v) {
  switch (v) {
    case ReplayWindow::Verdict::ok: return "ok";
    case ReplayWindow::Verdict::replayed: return "replayed";
    case ReplayWindow::Verdict::too_old: return "too_old";
    case ReplayWindow::Verdict::zero: return "zero";
  }
  return "unknown";
}

}  // namespace corridor::dataplane::ipsec
