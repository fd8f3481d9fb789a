// corridor-bench engine: the ESP stages on one core, no I/O. Pre-built
// mbufs go through the outbound and inbound burst functions in bursts of
// 32; the same payload lengths go through the crypto backend alone (the
// bare IPsec-MB operation the engine cannot avoid), measured in the same
// run, so the difference is what the engine adds per packet.
//
//   corridor-bench engine [--iterations N] [--repeat N]   (--repeat: best of N runs per row)
//
// Only the burst calls are timed (rte_rdtsc around them); refilling the
// mbufs between bursts is not. Inbound SAs run with a 64-packet replay
// window and are fed packets protected beforehand with increasing sequence
// numbers. Not a test: figures on a shared machine are noisy; compare the
// ratios within one run.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/iana/ikev2.h"
#include "dataplane/crypto/ipsec_mb.h"
#include "dataplane/ipsec/ip.h"
#include "dataplane/ipsec/sa.h"
#include "dataplane/ipsec/worker.h"

namespace {

using namespace corridor;
using namespace corridor::dataplane;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint16_t kBurst = 32;

struct Setup {
  const char* name;
  iana::EncrId encr;
  std::uint16_t bits;
  iana::IntegId integ;
};

constexpr Setup kSetups[] = {
    {"aes128gcm16", iana::EncrId::aes_gcm_16, 128, iana::IntegId::none},
    {"aes256gcm16", iana::EncrId::aes_gcm_16, 256, iana::IntegId::none},
    {"chacha20poly1305", iana::EncrId::chacha20_poly1305, 256, iana::IntegId::none},
    {"aes128-sha256", iana::EncrId::aes_cbc, 128, iana::IntegId::hmac_sha2_256_128},
};

// Packet sizes of one burst (IP bytes). IMIX: 7:4:1 of 64, 576, 1420.
std::vector<std::size_t> burst_sizes(const std::string& profile) {
  if (profile == "imix") {
    std::vector<std::size_t> v;
    while (v.size() < kBurst) {
      for (std::size_t s : {64, 576, 64, 64, 576, 1420, 64, 576, 64, 64, 576, 64}) v.push_back(s);
    }
    v.resize(kBurst);
    return v;
  }
  return std::vector<std::size_t>(kBurst, std::stoul(profile));
}

// An IPv4/UDP packet of `size` bytes (IP header included).
Bytes clear_packet(std::size_t size) {
  Bytes p(size, 0xab);
  const std::uint8_t header[20] = {0x45, 0, static_cast<std::uint8_t>(size >> 8), static_cast<std::uint8_t>(size),
                                   0,    0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 1, 1};
  std::memcpy(p.data(), header, 20);
  ipsec::set_ipv4_checksum(p.data());
  return p;
}

channel::SaRecord record(const Setup& s, channel::Direction dir) {
  std::string why;
  const auto alg = crypto::esp_algorithm(static_cast<std::uint16_t>(s.encr), s.bits, static_cast<std::uint16_t>(s.integ), &why);
  channel::SaRecord r;
  r.sa_id = r.spi = 0x1000;
  r.direction = dir;
  r.outer_src = {192, 0, 2, 1};
  r.outer_dst = {192, 0, 2, 2};
  r.encryption_id = static_cast<std::uint16_t>(s.encr);
  r.encryption_key_bits = s.bits;
  r.integrity_id = static_cast<std::uint16_t>(s.integ);
  Bytes ek(alg->encryption_key_bytes(), 0x11), ik(alg->integrity_key_bytes, 0x22);
  r.encryption_key.assign(ek);
  r.integrity_key.assign(ik);
  r.replay_window = dir == channel::Direction::inbound ? 64 : 0;
  return r;
}

void fill(rte_mbuf* m, const Bytes& b) {
  rte_pktmbuf_reset(m);
  std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(b.size())), b.data(), b.size());
}

struct Result {
  double engine_cycles = 0;  // per packet
  double crypto_cycles = 0;  // per packet, the backend alone
};

Result run(const Setup& setup, const std::string& profile, bool outbound, int iterations, rte_mempool* pool) {
  crypto::IpsecMbBackend backend;
  ipsec::Worker worker(backend);
  std::string why;
  auto out = ipsec::Sa::create(record(setup, channel::Direction::outbound), backend, &why);
  auto in = ipsec::Sa::create(record(setup, channel::Direction::inbound), backend, &why);
  if (!out || !in) {
    std::fprintf(stderr, "corridor-bench: %s\n", why.c_str());
    std::exit(1);
  }
  const auto sizes = burst_sizes(profile);
  std::vector<Bytes> clear;
  for (auto s : sizes) clear.push_back(clear_packet(s));

  std::vector<rte_mbuf*> burst(kBurst);
  if (rte_pktmbuf_alloc_bulk(pool, burst.data(), kBurst) != 0) {
    std::fprintf(stderr, "corridor-bench: mbuf pool empty\n");
    std::exit(1);
  }
  // Inbound input: every burst protected beforehand, in sequence order.
  std::vector<std::vector<Bytes>> protected_bursts;
  if (!outbound) {
    for (int it = 0; it < iterations; ++it) {
      for (std::uint16_t i = 0; i < kBurst; ++i) fill(burst[i], clear[i]);
      out->runtime().process(worker, out->runtime(), burst.data(), kBurst);
      std::vector<Bytes> b;
      for (auto* m : burst) b.emplace_back(rte_pktmbuf_mtod(m, std::uint8_t*), rte_pktmbuf_mtod(m, std::uint8_t*) + m->data_len);
      protected_bursts.push_back(std::move(b));
    }
  }

  std::uint64_t engine = 0, packets = 0;
  for (int it = 0; it < iterations; ++it) {
    for (std::uint16_t i = 0; i < kBurst; ++i) fill(burst[i], outbound ? clear[i] : protected_bursts[it][i]);
    ipsec::Sa& sa = outbound ? *out : *in;
    const std::uint64_t t0 = rte_rdtsc_precise();
    const auto ok = sa.runtime().process(worker, sa.runtime(), burst.data(), kBurst);
    engine += rte_rdtsc_precise() - t0;
    packets += ok;
    if (ok != kBurst) {
      std::fprintf(stderr, "corridor-bench: %u of %u packets dropped\n", kBurst - ok, kBurst);
      std::exit(1);
    }
  }

  // The same crypto work, alone: payload = the packet plus ESP trailer,
  // AAD or HMAC region as the engine builds it, on the same buffers.
  const crypto::Algorithm& a = out->algorithm();
  std::vector<crypto::Op> ops(kBurst);
  std::vector<Bytes> bufs(kBurst);
  for (std::uint16_t i = 0; i < kBurst; ++i) {
    const std::size_t payload = (sizes[i] + 2 + a.block_bytes - 1) / a.block_bytes * a.block_bytes;
    bufs[i].assign(8 + a.iv_bytes + payload + a.icv_bytes, 0x5a);
    crypto::Op& op = ops[i];
    op.session = &*out->runtime().session;
    op.iv = bufs[i].data() + 8;
    op.payload = bufs[i].data() + 8 + a.iv_bytes;
    op.payload_len = static_cast<std::uint32_t>(payload);
    op.icv = op.payload + payload;
    if (a.combined()) {
      op.aad = bufs[i].data();
      op.aad_len = 8;
    } else {
      op.auth = bufs[i].data();
      op.auth_len = static_cast<std::uint32_t>(8 + a.iv_bytes + payload);
    }
  }
  std::uint64_t crypto_cycles = 0;
  for (int it = 0; it < iterations; ++it) {
    for (std::uint16_t i = 0; i < kBurst; ++i) ops[i].iv_seed = static_cast<std::uint64_t>(it) * kBurst + i + 1;
    const std::uint64_t t0 = rte_rdtsc_precise();
    if (outbound) {
      backend.encrypt(ops);
    } else {
      backend.decrypt(ops);  // ICVs do not verify here; the work is the same
    }
    crypto_cycles += rte_rdtsc_precise() - t0;
  }
  rte_pktmbuf_free_bulk(burst.data(), kBurst);
  return {static_cast<double>(engine) / static_cast<double>(packets),
          static_cast<double>(crypto_cycles) / (static_cast<double>(iterations) * kBurst)};
}

int engine_bench(int iterations, int repeat) {
  const std::string prefix = "corridor-bench-" + std::to_string(::getpid());
  std::vector<std::string> args = {"corridor-bench", "--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix,
                                   "--log-level", "error", "-l", "0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    std::fprintf(stderr, "corridor-bench: EAL: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  rte_mempool* pool = rte_pktmbuf_pool_create("bench_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  const double hz = static_cast<double>(rte_get_tsc_hz());
  {
    crypto::IpsecMbBackend probe;
    std::printf("IPsec-MB code path: %s; TSC %.2f GHz; %d bursts of %u per figure, best of %d runs\n",
                std::string(probe.arch()).c_str(), hz / 1e9, iterations, kBurst, repeat);
  }
  std::printf("%-18s %-5s %-4s %9s %13s %13s %11s\n", "algorithm", "size", "dir", "Mpps", "engine cyc/p",
              "crypto cyc/p", "added cyc/p");
  for (const Setup& s : kSetups) {
    for (const char* profile : {"64", "512", "1420", "imix"}) {
      for (bool outbound : {true, false}) {
        // Best of `repeat` runs, engine and crypto each: on a shared machine
        // the lowest figure is the one least disturbed by other work.
        Result r = run(s, profile, outbound, iterations, pool);
        for (int k = 1; k < repeat; ++k) {
          const Result again = run(s, profile, outbound, iterations, pool);
          r.engine_cycles = std::min(r.engine_cycles, again.engine_cycles);
          r.crypto_cycles = std::min(r.crypto_cycles, again.crypto_cycles);
        }
        std::printf("%-18s %-5s %-4s %9.2f %13.0f %13.0f %11.0f\n", s.name, profile, outbound ? "out" : "in",
                    hz / r.engine_cycles / 1e6, r.engine_cycles, r.crypto_cycles, r.engine_cycles - r.crypto_cycles);
      }
    }
  }
  rte_mempool_free(pool);
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::filesystem::remove_all(runtime_dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 2000;
  int repeat = 1;
  std::string what;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--iterations" && i + 1 < argc) {
      iterations = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (what.empty()) {
      what = a;
    } else {
      what = "?";
    }
  }
  if (what != "engine") {
    std::fprintf(stderr, "usage: corridor-bench engine [--iterations N] [--repeat N]\n");
    return 64;
  }
  return engine_bench(iterations, repeat);
}
