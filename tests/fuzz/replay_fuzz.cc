// Fuzz target for the inbound anti-replay window (dataplane/ipsec/replay.h):
// runs a byte-coded stream of check/update operations against ReplayWindow
// and a naive reference model, and aborts on any disagreement.
//
// Input layout:
//   byte 0      window size: index into kWindows (low 4 bits); bit 7 = ESN
//   then ops of 5 bytes each: op byte, 32-bit value (little endian)
//     op & 3 == 0: check(value) and, if ok, update (ICV passes)
//     op & 3 == 1: check(Tl + (int32)value): relative, so jumps of any size
//     op & 3 == 2: check(Tl + (int8)value): near the top, and update
//     op & 3 == 3: as 1, but the ICV fails: check only
//   op bit 2 defers the update to the end of a burst (flushed by bit 3 or
//   every 8 pending packets), in shuffled order, as a burst-wise pipeline does.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/ipsec/replay.h"
#include "tests/unit/dataplane/replay_reference.h"

namespace {

using corridor::dataplane::ipsec::ReplayWindow;
using Verdict = ReplayWindow::Verdict;

constexpr std::uint32_t kWindows[] = {0, 1, 2, 31, 32, 63, 64, 65, 127, 128, 129, 1000, 1024, 4096, 16383, 16384};

[[noreturn]] void mismatch(const char* what, std::uint64_t a, std::uint64_t b) {
  std::fprintf(stderr, "replay_fuzz: %s mismatch: window %llu vs reference %llu\n", what,
               static_cast<unsigned long long>(a), static_cast<unsigned long long>(b));
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint32_t window = kWindows[data[0] & 0x0f];
  const bool esn = (data[0] & 0x80) != 0;
  ReplayWindow w(window, esn);
  corridor::dataplane::ipsec::ReplayReference ref(window, esn);
  std::vector<std::uint64_t> pending;
  std::uint64_t shuffle = 0;

  auto flush = [&] {
    // Update in a data-dependent order: reversed on odd flushes.
    if (++shuffle % 2) {
      for (std::size_t i = pending.size(); i-- > 0;) {
        const Verdict a = w.update(pending[i]), b = ref.update(pending[i]);
        if (a != b) mismatch("update", static_cast<std::uint64_t>(a), static_cast<std::uint64_t>(b));
      }
    } else {
      for (std::uint64_t s : pending) {
        const Verdict a = w.update(s), b = ref.update(s);
        if (a != b) mismatch("update", static_cast<std::uint64_t>(a), static_cast<std::uint64_t>(b));
      }
    }
    pending.clear();
    if (w.highest() != ref.highest()) mismatch("highest", w.highest(), ref.highest());
  };

  for (std::size_t at = 1; at + 5 <= size; at += 5) {
    const std::uint8_t op = data[at];
    std::uint32_t value;
    std::memcpy(&value, data + at + 1, sizeof value);
    const auto tl = static_cast<std::uint32_t>(ref.highest());
    std::uint32_t seq_low = value;
    switch (op & 3) {
      case 1:
      case 3: seq_low = tl + value; break;
      case 2: seq_low = tl + static_cast<std::uint32_t>(static_cast<std::int8_t>(value & 0xff)); break;
      default: break;
    }
    const auto got = w.check(seq_low);
    const auto want = ref.check(seq_low);
    if (got.verdict != want.verdict)
      mismatch("verdict", static_cast<std::uint64_t>(got.verdict), static_cast<std::uint64_t>(want.verdict));
    if (got.seq != want.seq) mismatch("seq", got.seq, want.seq);
    if (got.verdict == Verdict::ok && (op & 3) != 3) pending.push_back(got.seq);
    if (!(op & 4) || (op & 8) || pending.size() >= 8) flush();
  }
  flush();
  return 0;
}
