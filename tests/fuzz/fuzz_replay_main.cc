// A libFuzzer-compatible driver for compilers without -fsanitize=fuzzer.
//
//   X_fuzz_replay [--mutations N] [--seed S] CORPUS_DIR_OR_FILE...
//
// Runs every corpus input through LLVMFuzzerTestOneInput, then N mutated
// inputs (bit flips, byte edits, truncation, insertion, splicing two corpus
// inputs) from a fixed seed, so a failure reproduces exactly. Not coverage
// guided: scripts/fuzz.sh runs the same targets under libFuzzer for that.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void run(const Bytes& input) {
  // Copy into an exactly-sized heap buffer so ASan catches reads past the end.
  auto* buf = static_cast<std::uint8_t*>(std::malloc(input.size() ? input.size() : 1));
  if (!input.empty()) std::copy(input.begin(), input.end(), buf);
  LLVMFuzzerTestOneInput(buf, input.size());
  std::free(buf);
}

Bytes mutate(const std::vector<Bytes>& corpus, std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % (n ? n : 1)); };
  Bytes b = corpus.empty() ? Bytes{} : corpus[pick(corpus.size())];
  static constexpr std::uint8_t kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '-', '/', '[', ']', ',',
                                                 '"', '{', '}', ':', '0', '9', 'a', '%'};
  const int edits = 1 + static_cast<int>(pick(8));
  for (int e = 0; e < edits; ++e) {
    switch (pick(7)) {
      case 0:
        if (!b.empty()) b[pick(b.size())] ^= static_cast<std::uint8_t>(1u << pick(8));
        break;
      case 1:
        if (!b.empty()) b[pick(b.size())] = kInteresting[pick(sizeof kInteresting)];
        break;
      case 2:
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(pick(b.size() + 1)), kInteresting[pick(sizeof kInteresting)]);
        break;
      case 3:
        if (!b.empty()) b.erase(b.begin() + static_cast<std::ptrdiff_t>(pick(b.size())));
        break;
      case 4:
        b.resize(pick(b.size() + 1));
        break;
      case 5:
        if (!b.empty()) b[pick(b.size())] = static_cast<std::uint8_t>(rng());
        break;
      case 6:
        if (!corpus.empty()) {
          const Bytes& other = corpus[pick(corpus.size())];
          const auto at = pick(b.size() + 1);
          const auto from = pick(other.size() + 1);
          b.resize(at);
          b.insert(b.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        }
        break;
    }
  }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 0;
  std::uint64_t seed = 0xC0441D04;
  std::vector<Bytes> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--mutations" && i + 1 < argc) {
      mutations = std::strtol(argv[++i], nullptr, 10);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 0);
    } else if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::directory_iterator(arg))
        if (e.is_regular_file()) corpus.push_back(read_file(e.path()));
    } else if (std::filesystem::is_regular_file(arg)) {
      corpus.push_back(read_file(arg));
    } else {
      std::fprintf(stderr, "fuzz replay: no such corpus file or directory: %s\n", arg.c_str());
      return 2;
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "fuzz replay: empty corpus\n");
    return 2;
  }
  for (const auto& input : corpus) run(input);
  run(Bytes{});
  std::mt19937_64 rng(seed);
  for (long i = 0; i < mutations; ++i) run(mutate(corpus, rng));
  std::printf("fuzz replay: %zu corpus inputs and %ld mutations (seed %#llx) ran without a crash\n", corpus.size(),
              mutations, static_cast<unsigned long long>(seed));
  return 0;
}
