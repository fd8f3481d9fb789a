// Tests for the inbound anti-replay window (RFC 4303 §3.4.3, Appendix A;
// RFC 6479): fixed cases for each rule, then a randomized differential run
// against a deliberately naive reference model.
#include "dataplane/ipsec/replay.h"

#include "common/channel/records.h"
#include "tests/unit/dataplane/replay_reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

namespace corridor::dataplane::ipsec {
namespace {

using Verdict = ReplayWindow::Verdict;
constexpr std::uint64_t k2p32 = std::uint64_t{1} << 32;

// Check, then "verify the ICV" and update; returns the check verdict.
Verdict receive(ReplayWindow& w, std::uint32_t seq_low) {
  const auto r = w.check(seq_low);
  if (r.verdict == Verdict::ok) {
    EXPECT_EQ(w.update(r.seq), Verdict::ok) << seq_low;
  }
  return r.verdict;
}

// Drives an ESN window to a given highest 64-bit sequence number by walking
// through the subspaces with forward jumps that Appendix A infers correctly.
void advance_to(ReplayWindow& w, std::uint64_t target) {
  while (w.highest() < target) {
    const std::uint64_t step = std::min<std::uint64_t>(target - w.highest(), k2p32 / 2);
    const auto r = w.check(static_cast<std::uint32_t>(w.highest() + step));
    ASSERT_EQ(r.verdict, Verdict::ok);
    ASSERT_EQ(r.seq, w.highest() + step);
    ASSERT_EQ(w.update(r.seq), Verdict::ok);
  }
  ASSERT_EQ(w.highest(), target);
}

TEST(ReplayWindow, InOrderStream) {
  ReplayWindow w(64, false);
  for (std::uint32_t s = 1; s <= 1000; ++s) ASSERT_EQ(receive(w, s), Verdict::ok) << s;
  EXPECT_EQ(w.highest(), 1000u);
}

TEST(ReplayWindow, DuplicatesAreReplayed) {
  ReplayWindow w(64, false);
  for (std::uint32_t s = 1; s <= 100; ++s) ASSERT_EQ(receive(w, s), Verdict::ok);
  for (std::uint32_t s = 100 - 63; s <= 100; ++s) EXPECT_EQ(w.check(s).verdict, Verdict::replayed) << s;
  EXPECT_EQ(w.update(100), Verdict::replayed);
}

TEST(ReplayWindow, OutOfOrderWithinWindow) {
  ReplayWindow w(32, false);
  EXPECT_EQ(receive(w, 40), Verdict::ok);
  for (std::uint32_t s = 39; s >= 9; --s) EXPECT_EQ(receive(w, s), Verdict::ok) << s;
  EXPECT_EQ(w.check(8).verdict, Verdict::too_old);
  EXPECT_EQ(w.check(25).verdict, Verdict::replayed);
  EXPECT_EQ(w.highest(), 40u);
}

TEST(ReplayWindow, WindowEdge) {
  for (std::uint32_t size : {1u, 32u, 64u, 65u, 1024u, 4096u, 16384u}) {
    ReplayWindow w(size, false);
    const std::uint32_t top = 100000;
    ASSERT_EQ(receive(w, top), Verdict::ok);
    EXPECT_EQ(w.check(top - (size - 1)).verdict, size == 1 ? Verdict::replayed : Verdict::ok) << size;
    EXPECT_EQ(w.check(top - size).verdict, Verdict::too_old) << size;
    if (size > 1) {
      EXPECT_EQ(receive(w, top - (size - 1)), Verdict::ok);
      EXPECT_EQ(w.check(top - (size - 1)).verdict, Verdict::replayed);
    }
    EXPECT_EQ(w.update(top - size), Verdict::too_old);
  }
}

TEST(ReplayWindow, ZeroWithoutEsnIsRefused) {
  ReplayWindow w(64, false);
  EXPECT_EQ(w.check(0).verdict, Verdict::zero);
  EXPECT_EQ(w.update(0), Verdict::zero);
  ASSERT_EQ(receive(w, 5), Verdict::ok);
  EXPECT_EQ(w.check(0).verdict, Verdict::zero);
  ReplayWindow off(0, false);
  EXPECT_EQ(off.check(0).verdict, Verdict::zero);
}

TEST(ReplayWindow, LargeJumps) {
  for (std::uint32_t size : {64u, 65u, 1024u}) {
    ReplayWindow w(size, false);
    const std::uint32_t bitmap_bits = static_cast<std::uint32_t>(w.bitmap_blocks()) * 64;
    std::uint32_t top = 10;
    for (std::uint32_t s = 1; s <= top; ++s) ASSERT_EQ(receive(w, s), Verdict::ok);
    // More than the window, more than a block, more than the whole bitmap.
    for (std::uint32_t jump : {size + 1, size + 64 + 3, 2 * size, bitmap_bits, bitmap_bits + 7, 10 * bitmap_bits}) {
      const std::uint32_t prev = top;
      top += jump;
      ASSERT_EQ(receive(w, top), Verdict::ok);
      EXPECT_EQ(w.check(prev).verdict, Verdict::too_old) << size << " jump " << jump;
      // Everything still inside the window is unmarked: no stale bits from
      // the ring's previous lap survive the slide.
      for (std::uint32_t s = top - size + 1; s < top; ++s)
        ASSERT_EQ(w.check(s).verdict, Verdict::ok) << size << " jump " << jump << " seq " << s;
      EXPECT_EQ(w.check(top).verdict, Verdict::replayed);
      // Fill the window so the next jump has bits to clear.
      for (std::uint32_t s = top - size + 1; s < top; ++s) ASSERT_EQ(receive(w, s), Verdict::ok);
    }
  }
}

TEST(ReplayWindow, SmallJumpKeepsOldBlockBits) {
  ReplayWindow w(128, false);
  for (std::uint32_t s = 60; s <= 70; ++s) ASSERT_EQ(receive(w, s), Verdict::ok);
  ASSERT_EQ(receive(w, 150), Verdict::ok);
  for (std::uint32_t s = 60; s <= 70; ++s) EXPECT_EQ(w.check(s).verdict, Verdict::replayed) << s;
  EXPECT_EQ(w.check(71).verdict, Verdict::ok);
}

TEST(ReplayWindow, WindowSizes) {
  for (std::uint32_t size : {0u, 1u, 32u, 64u, 65u, 1024u, 4096u, 16384u}) {
    ReplayWindow w(size, false);
    EXPECT_EQ(w.window_size(), size);
    if (size == 0) {
      EXPECT_EQ(w.bitmap_blocks(), 0u);
    } else {
      // RFC 6479 ring: a power of two, at least ceil(W/64) + 1 blocks.
      const std::size_t blocks = w.bitmap_blocks();
      EXPECT_EQ(blocks & (blocks - 1), 0u) << size;
      EXPECT_GE(blocks, (size + 63) / 64 + 1) << size;
    }
    // Accept every other packet over a long run, then check the pattern.
    for (std::uint32_t s = 2; s <= 40000; s += 2) ASSERT_EQ(receive(w, s), Verdict::ok) << size;
    for (std::uint32_t s = 40000; s > 40000 - 200 && s > 0; --s) {
      Verdict want = Verdict::ok;
      if (size != 0 && 40000 - s >= size) want = Verdict::too_old;
      else if (size != 0 && s % 2 == 0) want = Verdict::replayed;
      EXPECT_EQ(w.check(s).verdict, want) << "size " << size << " seq " << s;
    }
  }
  EXPECT_THROW(ReplayWindow(16385, false), std::invalid_argument);
  EXPECT_NO_THROW(ReplayWindow(ReplayWindow::kMaxWindow, true));
}

TEST(ReplayWindow, AntiReplayOffPassesEverything) {
  ReplayWindow w(0, false);
  EXPECT_EQ(receive(w, 100), Verdict::ok);
  EXPECT_EQ(receive(w, 100), Verdict::ok);
  EXPECT_EQ(receive(w, 1), Verdict::ok);
  EXPECT_EQ(w.highest(), 100u);
}

TEST(ReplayWindow, CheckWithoutUpdateDoesNotMark) {
  ReplayWindow w(64, false);
  ASSERT_EQ(receive(w, 10), Verdict::ok);
  // A forged packet with seq 12 fails its ICV: check only, no update.
  EXPECT_EQ(w.check(12).verdict, Verdict::ok);
  EXPECT_EQ(w.highest(), 10u);
  // A forged one far ahead must not slide the window either.
  EXPECT_EQ(w.check(5000).verdict, Verdict::ok);
  EXPECT_EQ(w.check(5).verdict, Verdict::ok);
  // The genuine packets then pass.
  EXPECT_EQ(receive(w, 12), Verdict::ok);
  EXPECT_EQ(receive(w, 5), Verdict::ok);
  EXPECT_EQ(w.check(12).verdict, Verdict::replayed);
}

TEST(ReplayWindow, DuplicateInOneBurstCaughtByUpdate) {
  ReplayWindow w(64, false);
  const auto a = w.check(7);
  const auto b = w.check(7);
  ASSERT_EQ(a.verdict, Verdict::ok);
  ASSERT_EQ(b.verdict, Verdict::ok);
  EXPECT_EQ(w.update(a.seq), Verdict::ok);
  EXPECT_EQ(w.update(b.seq), Verdict::replayed);
  // And a packet that fell out of the window between check and update.
  const auto old = w.check(3);
  ASSERT_EQ(old.verdict, Verdict::ok);
  ASSERT_EQ(receive(w, 200), Verdict::ok);
  EXPECT_EQ(w.update(old.seq), Verdict::too_old);
}

TEST(ReplayWindowEsn, InferenceCaseAAcrossBoundary) {
  // Case A (Tl >= W - 1): T = 2^32 - 10, W = 64. A low value below the
  // window's bottom belongs to the next subspace.
  ReplayWindow w(64, true);
  advance_to(w, k2p32 - 10);
  auto r = w.check(5);
  EXPECT_EQ(r.verdict, Verdict::ok);
  EXPECT_EQ(r.seq, k2p32 + 5);
  EXPECT_EQ(ReplayWindow::seq_hi(r.seq), 1u);
  r = w.check(0xffffffffu - 9 - 63);  // T - 63: bottom of window, this subspace
  EXPECT_EQ(r.verdict, Verdict::ok);
  EXPECT_EQ(r.seq, k2p32 - 10 - 63);
  r = w.check(0xffffffffu - 9 - 64);  // T - 64: just below, inferred as next subspace
  EXPECT_EQ(r.seq, 2 * k2p32 - 10 - 64);
  EXPECT_EQ(r.verdict, Verdict::ok);  // its ICV would fail; the caller counts that
  // Low half 0 after the wrap is a valid packet with ESN.
  r = w.check(0);
  EXPECT_EQ(r.verdict, Verdict::ok);
  EXPECT_EQ(r.seq, k2p32);
  EXPECT_EQ(w.update(r.seq), Verdict::ok);
  EXPECT_EQ(w.highest(), k2p32);
  EXPECT_EQ(w.check(0).verdict, Verdict::replayed);
}

TEST(ReplayWindowEsn, InferenceCaseBWindowStraddles) {
  // Case B (Tl < W - 1): T = 2^32 + 3, W = 64, so the window reaches back
  // into the previous subspace.
  ReplayWindow w(64, true);
  advance_to(w, k2p32 - 20);
  ASSERT_EQ(receive(w, 0xffffffffu), Verdict::ok);  // 2^32 - 1
  ASSERT_EQ(receive(w, 3), Verdict::ok);            // 2^32 + 3
  ASSERT_EQ(w.highest(), k2p32 + 3);
  // Low values at or above the wrapped bottom (Tl - W + 1) are the previous subspace.
  auto r = w.check(0xffffffffu);
  EXPECT_EQ(r.seq, k2p32 - 1);
  EXPECT_EQ(r.verdict, Verdict::replayed);
  r = w.check(0xfffffffeu);
  EXPECT_EQ(r.seq, k2p32 - 2);
  EXPECT_EQ(r.verdict, Verdict::ok);
  r = w.check(static_cast<std::uint32_t>(3 - 63));  // T - 63, the window's bottom
  EXPECT_EQ(r.seq, k2p32 + 3 - 63);
  EXPECT_EQ(r.verdict, Verdict::ok);
  r = w.check(static_cast<std::uint32_t>(3 - 64));  // T - 64: below bottom, so this subspace, ahead
  EXPECT_EQ(r.seq, k2p32 + static_cast<std::uint32_t>(3 - 64));
  EXPECT_EQ(r.verdict, Verdict::ok);
  // Low values up to Tl are this subspace; above Tl, new.
  r = w.check(0);
  EXPECT_EQ(r.seq, k2p32);
  EXPECT_EQ(r.verdict, Verdict::ok);
  r = w.check(3);
  EXPECT_EQ(r.verdict, Verdict::replayed);
  r = w.check(4);
  EXPECT_EQ(r.seq, k2p32 + 4);
  EXPECT_EQ(r.verdict, Verdict::ok);
  // Mark a packet of the previous subspace after the top moved on.
  EXPECT_EQ(receive(w, 0xfffffff0u), Verdict::ok);
  EXPECT_EQ(w.check(0xfffffff0u).verdict, Verdict::replayed);
  EXPECT_EQ(w.highest(), k2p32 + 3);
}

TEST(ReplayWindowEsn, NoSubspaceBeforeTheFirst) {
  ReplayWindow w(64, true);
  // Nothing received: T = 0, case B. Seq 0 is never valid; low values near
  // 2^32 would be the subspace before 0, which does not exist.
  EXPECT_EQ(w.check(0).verdict, Verdict::zero);
  EXPECT_EQ(w.check(0xffffffffu).verdict, Verdict::too_old);
  EXPECT_EQ(w.check(0xffffffffu - 62).verdict, Verdict::too_old);
  // Just below the window's wrapped bottom: this subspace, ahead.
  auto r = w.check(0xffffffffu - 63);
  EXPECT_EQ(r.verdict, Verdict::ok);
  EXPECT_EQ(r.seq, 0xffffffffu - 63);
  EXPECT_EQ(receive(w, 1), Verdict::ok);
  EXPECT_EQ(w.check(1).verdict, Verdict::replayed);
}

TEST(ReplayWindowEsn, ZeroLowHalfOnlyAfterWrap) {
  ReplayWindow plain(64, false);
  ReplayWindow esn(64, true);
  advance_to(esn, k2p32 - 1);
  for (std::uint32_t s : {0xfffffff0u, 0xffffffffu}) ASSERT_EQ(receive(plain, s), Verdict::ok);
  EXPECT_EQ(plain.check(0).verdict, Verdict::zero);
  EXPECT_EQ(esn.check(0).verdict, Verdict::ok);
  EXPECT_EQ(esn.check(0).seq, k2p32);
}

TEST(ReplayWindowEsn, WindowOffStillInfers) {
  // Anti-replay off: inference uses the nearest 64-bit value to T.
  ReplayWindow w(0, true);
  advance_to(w, 3 * k2p32 + 100);
  auto r = w.check(50);
  EXPECT_EQ(r.verdict, Verdict::ok);
  EXPECT_EQ(r.seq, 3 * k2p32 + 50);
  r = w.check(0xfffffff0u);
  EXPECT_EQ(r.seq, 2 * k2p32 + 0xfffffff0u);
  EXPECT_EQ(w.update(r.seq), Verdict::ok);
  EXPECT_EQ(w.highest(), 3 * k2p32 + 100);  // an older packet does not move T
  r = w.check(100);
  EXPECT_EQ(r.verdict, Verdict::ok);  // duplicates pass: no window
  r = w.check(0x90000000u);
  EXPECT_EQ(r.seq, 2 * k2p32 + 0x90000000u);
  r = w.check(0x70000000u);
  EXPECT_EQ(r.seq, 3 * k2p32 + 0x70000000u);
}

void differential(std::uint32_t size, bool esn, int ops, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  ReplayWindow w(size, esn);
  ReplayReference ref(size, esn);
  const std::int64_t span = size ? size : 64;
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  std::vector<std::uint64_t> pending;  // checked ok, not yet updated (a burst)
  std::uint64_t crossings = 0;
  for (int i = 0; i < ops; ++i) {
    const std::int64_t top = static_cast<std::int64_t>(ref.highest());
    std::int64_t delta;
    switch (uniform(0, 9)) {
      case 0: delta = uniform(-2 * span - 3, -span + 2); break;       // around the left edge
      case 1: delta = uniform(-span, 0); break;                        // inside, incl. duplicates
      case 2: delta = uniform(1, 3); break;                            // in order
      case 3: delta = uniform(span - 2, 3 * span + 130); break;        // past the window / a block
      case 4: delta = uniform(1, 40000); break;                        // past the whole bitmap
      case 5: delta = uniform(-(std::int64_t{1} << 33), std::int64_t{1} << 33); break;  // anywhere
      case 6: delta = uniform(std::int64_t{1} << 28, std::int64_t{1} << 31); break;  // toward a wrap
      case 7:  // to just around the next 2^32 boundary
        delta = static_cast<std::int64_t>(k2p32 - (static_cast<std::uint64_t>(top) % k2p32)) + uniform(-span - 2, span + 2);
        break;
      default: delta = uniform(-8, 8); break;
    }
    const auto seq_low = static_cast<std::uint32_t>(top + delta);
    const auto got = w.check(seq_low);
    const auto want = ref.check(seq_low);
    ASSERT_EQ(got.verdict, want.verdict) << "op " << i << " top " << top << " seq_low " << seq_low;
    ASSERT_EQ(got.seq, want.seq) << "op " << i << " top " << top << " seq_low " << seq_low;
    if (got.verdict == Verdict::ok) pending.push_back(got.seq);
    // Most packets pass their ICV at once, some never (forgeries), and
    // sometimes a burst is updated late and out of order.
    const auto roll = uniform(0, 99);
    if (roll < 10 && !pending.empty()) {
      pending.pop_back();  // ICV failure
    } else if (roll < 85 || pending.size() > 8) {
      std::shuffle(pending.begin(), pending.end(), rng);
      for (std::uint64_t s : pending) {
        const std::uint64_t before = ref.highest();
        ASSERT_EQ(w.update(s), ref.update(s)) << "op " << i << " seq " << s;
        if (s / k2p32 != before / k2p32 && ref.highest() == s) ++crossings;
      }
      pending.clear();
    }
    ASSERT_EQ(w.highest(), ref.highest()) << "op " << i;
    // Non-ESN sequence numbers never wrap: start a fresh SA near the end.
    if (!esn && ref.highest() > 0xf0000000u) {
      w = ReplayWindow(size, esn);
      ref = ReplayReference(size, esn);
      pending.clear();
    }
  }
  if (esn) {
    EXPECT_GT(crossings, 10u) << "the run should cross 2^32 boundaries";
  }
}

TEST(ReplayWindowDifferential, AgainstReferenceModel) {
  std::uint64_t seed = 0x5eed;
  for (std::uint32_t size : {0u, 1u, 32u, 64u, 65u, 1024u, 16384u}) {
    for (bool esn : {false, true}) {
      SCOPED_TRACE(testing::Message() << "size " << size << " esn " << esn);
      differential(size, esn, 60000, seed++);
      if (HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace corridor::dataplane::ipsec

namespace corridor::dataplane::ipsec {
namespace {

// An SA record the channel accepts must be one the engine can build.
TEST(ReplayWindowLimits, MatchTheSaChannelAndTheConfig) {
  static_assert(ReplayWindow::kMaxWindow == channel::kMaxReplayWindow);
  EXPECT_NO_THROW(ReplayWindow(channel::kMaxReplayWindow, true));
  EXPECT_THROW(ReplayWindow(channel::kMaxReplayWindow + 1, false), std::invalid_argument);
}

}  // namespace
}  // namespace corridor::dataplane::ipsec
