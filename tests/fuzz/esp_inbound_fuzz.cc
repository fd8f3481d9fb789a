// Fuzz target for the ESP inbound burst stage (dataplane/ipsec/esp_inbound.cc,
// RFC 4303 §3.4), through an SA built by Sa::create exactly as the engine
// builds it from an SA channel record.
//
// Two modes:
//  - raw: the fuzzer's bytes are the received IP packets. This reaches the
//    outer header parsing, the length checks, the SPI, lifetime and
//    anti-replay checks and ICV verification (which fuzzed bytes fail).
//  - sealed: the fuzzer's bytes are the ESP plaintext (data, padding, pad
//    length, next header: all as the fuzzer chose them) and a few header
//    fields; the harness wraps them into an ESP packet whose ICV verifies,
//    computed with OpenSSL (an implementation independent of IPsec-MB).
//    This reaches everything behind the ICV: the window update, padding,
//    next header, TFC padding, the inner packet, ECN (RFC 6040), the
//    transport-mode header rebuild and the SA's selectors (RFC 4301 §5.2).
//
// No EAL: each packet sits in a static buffer behind a hand-initialised
// one-segment rte_mbuf without a pool. The inbound stage uses only DPDK's
// inline mbuf helpers (mtod, adj, trim), which read and write the mbuf's own
// fields and nothing else. Under ASan the buffer outside the packet (headroom
// and everything after the last byte) is poisoned, so the engine touching
// bytes it was not given is reported. The SA is created afresh for every
// input (microseconds: key expansion), so an input replays identically.
//
// Checked after every burst (abort() on violation):
//  - the burst contract of sa.h: good <= n; successes first and failures
//    after them, each group in input order, and the array a permutation of
//    the input; the SA's drop counters grow by n - good, its packet counter
//    by good;
//  - every mbuf: one segment, data inside its buffer, never before the
//    headroom the packet arrived in (inbound only removes bytes);
//  - every good packet: an IPv4/IPv6 packet whose length field is its
//    data length;
//  - a good sealed packet: the trailer obeyed RFC 4303 §2.4-2.6, and its
//    bytes are what RFC 4303 says decapsulation yields (tunnel: the inner
//    packet, with ECN per the RFC 6040 table below; transport: the IP
//    header naming the next header, with the data behind it). A sealed
//    packet with a corrupted ICV or a wrong SPI is never good.
//
// Input layout (integers big endian):
//   byte 0  mode:  bit 0 sealed (else raw), bit 1 burst (else one packet)
//   byte 1  SA:    bit 0 tunnel (else transport), bit 1 outer IPv6, bit 2
//                  NAT-T (UDP 4500, RFC 3948), bit 3 ESN, bits 4-5 algorithm
//                  (kAlgorithms), bit 6 traffic selectors (selectors()),
//                  bit 7 ECN propagation off
//   byte 2  state: bits 0-1 replay window (kWindows), bits 2-3 lifetime
//                  (none, soft 1 packet, hard 1 packet, hard 64 bytes), bit 4
//                  an 8-byte highest sequence number already received follows
//                  (the window of an SA that has been running)
//   then the packets. Burst: each prefixed by a 16-bit length (of the raw
//   packet, or of the sealed plaintext), up to kMaxPackets. One packet: it
//   takes the rest of the input.
//     raw:    the IP packet, from the IP header on
//     sealed: flags, outer TOS / Traffic Class, 32-bit sequence number
//             (low half), then [length] and the plaintext. Flags: bit 0
//             IPv4 options / an IPv6 Destination Options header, bit 1
//             link-layer padding after the IP packet, bit 2 corrupt the
//             ICV, bit 3 wrong SPI, bits 4-5 ESN high half relative to the
//             one the receiver infers (0, +1, -1, 0: +1 and -1 fail the ICV).
//
// Seeds (corpus/esp_inbound/): raw packets that decapsulate on a fresh SA,
// one raw burst with an in-burst replay, and sealed inputs that reach each
// post-ICV outcome, ESN across 2^32 and a 70-packet burst. They were written
// with Python (hashlib, cryptography) from the fixed keys below; the file
// names say what each holds.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rte_mbuf.h>
#include <sanitizer/asan_interface.h>

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "common/channel/records.h"
#include "common/iana/ikev2.h"
#include "dataplane/crypto/ipsec_mb.h"
#include "dataplane/ipsec/sa.h"
#include "dataplane/ipsec/worker.h"
#include "dataplane/tables/spd.h"

namespace {

using namespace corridor;
using dataplane::ipsec::ReplayWindow;
using dataplane::ipsec::Sa;
using dataplane::ipsec::SaCounters;
using dataplane::ipsec::Worker;

constexpr std::uint32_t kSpi = 0x00001000;
// More than one slice (Worker's kMaxBurst, 64), so the regrouping of
// successes and failures across slices runs too.
constexpr std::size_t kMaxPackets = 80;
constexpr std::size_t kMaxPacket = 4096;  // bytes of one packet
constexpr std::size_t kHeadroom = RTE_PKTMBUF_HEADROOM;
constexpr std::uint32_t kWindows[] = {64, 0, 1, 1024};

[[noreturn]] __attribute__((format(printf, 1, 2))) void fail(const char* fmt, ...) {
  std::va_list args;
  va_start(args, fmt);
  std::fputs("esp_inbound_fuzz: ", stderr);
  std::vfprintf(stderr, fmt, args);
  std::fputc('\n', stderr);
  va_end(args);
  std::abort();
}

// --- SAs ---------------------------------------------------------------------

struct AlgorithmCase {
  iana::EncrId encr;
  std::uint16_t bits;
  iana::IntegId integ;
};
// One per ICV kind of esp.h (AEAD, GMAC, cipher + HMAC) and NULL + HMAC.
constexpr AlgorithmCase kAlgorithms[] = {
    {iana::EncrId::aes_gcm_16, 128, iana::IntegId::none},
    {iana::EncrId::aes_cbc, 128, iana::IntegId::hmac_sha2_256_128},
    {iana::EncrId::null_auth_aes_gmac, 128, iana::IntegId::none},
    {iana::EncrId::null, 0, iana::IntegId::hmac_sha2_256_128},
};
enum AlgorithmIndex { kGcm = 0, kCbc = 1, kGmac = 2, kNull = 3 };

// Fixed keys, so that seeds can be made outside this program. Encryption:
// AES-128 key then the 4-byte salt (RFC 4106 §8.1, RFC 4543 §7.1);
// integrity: the HMAC-SHA-256 key (RFC 4868).
constexpr std::array<std::uint8_t, 20> kEncryptionKey = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
                                                         0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3};
constexpr std::array<std::uint8_t, 32> kIntegrityKey = {
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f};
constexpr std::array<std::uint8_t, 4> kOuterSrc4 = {192, 0, 2, 1}, kOuterDst4 = {192, 0, 2, 2};
constexpr std::array<std::uint8_t, 16> kOuterSrc6 = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr std::array<std::uint8_t, 16> kOuterDst6 = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

struct Shape {
  bool tunnel, outer_v6, udp, esn, selectors, ecn_propagate;
  int algorithm;
  std::uint32_t window;
  int lifetime;
};

channel::SaRecord make_record(const Shape& s) {
  const AlgorithmCase& a = kAlgorithms[s.algorithm];
  channel::SaRecord r;
  r.sa_id = 1;
  r.spi = kSpi;
  r.direction = channel::Direction::inbound;
  r.mode = s.tunnel ? channel::Mode::tunnel : channel::Mode::transport;
  r.ip_version = s.outer_v6 ? channel::IpVersion::v6 : channel::IpVersion::v4;
  if (s.outer_v6) {
    r.outer_src = kOuterSrc6;
    r.outer_dst = kOuterDst6;
  } else {
    std::memcpy(r.outer_src.data(), kOuterSrc4.data(), 4);
    std::memcpy(r.outer_dst.data(), kOuterDst4.data(), 4);
  }
  r.udp_encap = s.udp;
  r.encap_src_port = s.udp ? 4500 : 0;
  r.encap_dst_port = s.udp ? 4500 : 0;
  r.encryption_id = static_cast<std::uint16_t>(a.encr);
  r.encryption_key_bits = a.bits;
  r.integrity_id = static_cast<std::uint16_t>(a.integ);
  // Only as much keying material as the algorithm takes.
  const std::size_t enc_bytes = a.encr == iana::EncrId::null ? 0 : (a.encr == iana::EncrId::aes_cbc ? 16 : 20);
  r.encryption_key.assign(std::span(kEncryptionKey.data(), enc_bytes));
  if (a.integ != iana::IntegId::none) r.integrity_key.assign(kIntegrityKey);
  r.replay_window = s.window;
  r.esn = s.esn;
  r.ecn_propagate = s.ecn_propagate;
  switch (s.lifetime) {
    case 1: r.soft.packets = 1; break;
    case 2: r.hard.packets = 1; break;
    case 3: r.hard.bytes = 64; break;
    default: break;
  }
  return r;
}

channel::Prefix prefix(std::span<const std::uint8_t> address, std::uint8_t length) {
  channel::Prefix p;
  p.family = address.size() == 4 ? channel::IpVersion::v4 : channel::IpVersion::v6;
  p.length = length;
  std::memcpy(p.address.data(), address.data(), address.size());
  return p;
}

// Selectors for the packets the seeds carry, one per family and mode, each
// narrowing a different field, so fuzzed inner packets land on both sides.
const dataplane::tables::SelectorSet& selectors() {
  static const dataplane::tables::SelectorSet set = [] {
    using dataplane::tables::Selector;
    const std::uint8_t v4_src[] = {10, 0, 0, 0}, v4_dst[] = {10, 0, 1, 0};
    const std::uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8}, v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1};
    Selector tunnel4{prefix(v4_src, 24), prefix(v4_dst, 24), 17, {0, 65535}, {0, 1023}};  // UDP to a low port
    Selector tunnel6{prefix(v6_src, 32), prefix(v6_dst, 48), 0, {0, 65535}, {0, 65535}};
    Selector transport4{prefix(kOuterSrc4, 32), prefix(kOuterDst4, 32), 0, {0, 65535}, {0, 65535}};
    Selector transport6{prefix(kOuterSrc6, 128), prefix(kOuterDst6, 128), 17, {0, 65535}, {0, 65535}};
    dataplane::tables::SelectorSet s;
    for (const Selector& sel : {tunnel4, tunnel6, transport4, transport6}) {
      if (const std::string e = s.add(sel); !e.empty()) fail("selector refused: %s", e.c_str());
    }
    return s;
  }();
  return set;
}

// --- Packet buffers ----------------------------------------------------------

// The mbufs and their data buffers, as a mempool would hold them, without
// the pool. (Two arrays: rte_mbuf's zero-length cache-line markers make it
// unfit as a member of another struct under -Wpedantic.)
constexpr std::size_t kBufLen = kHeadroom + kMaxPacket;
rte_mbuf g_mbufs[kMaxPackets];
alignas(64) std::uint8_t g_bufs[kMaxPackets][kBufLen];

// Makes mbuf i hold `len` bytes of packet (already written behind its
// headroom) and poisons the rest of its buffer for ASan.
rte_mbuf* attach(std::size_t i, std::size_t len) {
  rte_mbuf* m = &g_mbufs[i];
  std::memset(static_cast<void*>(m), 0, sizeof *m);  // also buf_iova = 0: nothing here does DMA
  m->buf_addr = g_bufs[i];
  m->buf_len = kBufLen;
  m->data_off = kHeadroom;
  m->data_len = static_cast<std::uint16_t>(len);
  m->pkt_len = static_cast<std::uint32_t>(len);
  m->nb_segs = 1;
  m->next = nullptr;
  m->pool = nullptr;
  rte_mbuf_refcnt_set(m, 1);
  ASAN_POISON_MEMORY_REGION(g_bufs[i], kHeadroom);
  ASAN_POISON_MEMORY_REGION(g_bufs[i] + kHeadroom + len, kBufLen - kHeadroom - len);
  return m;
}

std::uint8_t* packet_area(std::size_t i) {
  ASAN_UNPOISON_MEMORY_REGION(g_bufs[i], kBufLen);
  return g_bufs[i] + kHeadroom;
}

// Which of the first n mbufs a pointer the engine handed back is, or
// kMaxPackets when it is none of them.
std::size_t slot_of(const rte_mbuf* m, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (m == &g_mbufs[i]) return i;
  return kMaxPackets;
}

// --- Input -------------------------------------------------------------------

struct Reader {
  const std::uint8_t* p;
  std::size_t left;

  std::uint8_t u8() {
    if (left == 0) return 0;
    --left;
    return *p++;
  }
  std::uint64_t be(int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | u8();
    return v;
  }
  std::span<const std::uint8_t> take(std::size_t n) {
    n = std::min(n, left);
    std::span<const std::uint8_t> s(p, n);
    p += n;
    left -= n;
    return s;
  }
};

void put16(std::uint8_t* p, std::size_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v & 0xffff);
}
std::uint32_t get16(const std::uint8_t* p) { return std::uint32_t{p[0]} << 8 | p[1]; }

// RFC 1071 sum over an IPv4 header; 0xffff when its checksum is right.
std::uint32_t ipv4_sum(const std::uint8_t* ip) {
  std::uint32_t sum = 0;
  for (std::uint32_t i = 0; i < (ip[0] & 0x0fu) * 4; i += 2) sum += get16(ip + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

// --- Sealing (OpenSSL) -------------------------------------------------------

void hmac_sha256_128(const std::uint8_t* data, std::size_t len, std::uint8_t* icv) {
  std::uint8_t md[EVP_MAX_MD_SIZE];
  unsigned md_len = 0;
  if (HMAC(EVP_sha256(), kIntegrityKey.data(), kIntegrityKey.size(), data, len, md, &md_len) == nullptr)
    fail("OpenSSL HMAC failed");
  std::memcpy(icv, md, 16);  // RFC 4868 §2.3: truncated to 128 bits
}

// AES-128 in `cipher` mode over data in place; GCM takes a 12-byte nonce,
// AAD and writes the 16-byte tag, CBC a 16-byte IV and no padding.
void aes_128(const EVP_CIPHER* cipher, const std::uint8_t* iv, const std::uint8_t* aad, std::size_t aad_len,
             std::uint8_t* data, std::size_t len, std::uint8_t* tag) {
  const bool gcm = tag != nullptr;
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int out = 0;
  std::uint8_t final_block[16];
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) == 1;
  if (ok && gcm) ok = EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1;
  ok = ok && EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, kEncryptionKey.data(), iv) == 1 &&
       EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1;
  if (ok && aad_len) ok = EVP_EncryptUpdate(ctx.get(), nullptr, &out, aad, static_cast<int>(aad_len)) == 1;
  if (ok && len) ok = EVP_EncryptUpdate(ctx.get(), data, &out, data, static_cast<int>(len)) == 1;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), final_block, &out) == 1;
  if (ok && gcm) ok = EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
  if (!ok) fail("OpenSSL AES failed");
}

// What the harness put into a sealed packet, for the checks after the burst.
struct Sealed {
  bool sealed = false;
  bool must_fail = false;  // corrupted ICV or wrong SPI
  std::span<const std::uint8_t> plaintext;
  std::uint8_t outer_ecn = 0;
  std::uint32_t keep = 0;            // IP header incl. options / extension headers
  std::uint32_t next_header_at = 0;  // the byte that named ESP or UDP
  std::array<std::uint8_t, 64> header{};
};

// Writes into `p` the IP packet around an ESP payload of the SA's shape and
// returns its length (link-layer padding included).
std::size_t seal(const Shape& shape, std::uint8_t flags, std::uint8_t tos, std::uint32_t seq_low,
                 std::uint32_t seq_hi, std::span<const std::uint8_t> plaintext, std::uint8_t* p, Sealed& out) {
  const int alg = shape.algorithm;
  const std::size_t iv_bytes = alg == kCbc ? 16 : (alg == kNull ? 0 : 8);
  const std::size_t ip_len = shape.outer_v6 ? 40 + ((flags & 1) ? 8 : 0) : 20 + ((flags & 1) ? 4 : 0);
  const std::size_t esp_at = ip_len + (shape.udp ? 8 : 0);
  const std::size_t total = esp_at + 8 + iv_bytes + plaintext.size() + 16;
  const std::uint8_t proto = shape.udp ? 17 : 50;
  std::memset(p, 0, esp_at);
  if (shape.outer_v6) {
    p[0] = static_cast<std::uint8_t>(0x60 | tos >> 4);
    p[1] = static_cast<std::uint8_t>((tos & 0x0f) << 4);
    put16(p + 4, total - 40);
    p[6] = (flags & 1) ? 60 : proto;
    p[7] = 64;
    std::memcpy(p + 8, kOuterSrc6.data(), 16);
    std::memcpy(p + 24, kOuterDst6.data(), 16);
    out.next_header_at = 6;
    if (flags & 1) {  // Destination Options: PadN with 4 bytes (RFC 8200 §4.2)
      const std::uint8_t opts[8] = {proto, 0, 1, 4, 0, 0, 0, 0};
      std::memcpy(p + 40, opts, 8);
      out.next_header_at = 40;
    }
  } else {
    p[0] = static_cast<std::uint8_t>(0x40 | ip_len / 4);
    p[1] = tos;
    put16(p + 2, total);
    put16(p + 4, 0x1234);
    p[8] = 64;
    p[9] = proto;
    std::memcpy(p + 12, kOuterSrc4.data(), 4);
    std::memcpy(p + 16, kOuterDst4.data(), 4);
    if (flags & 1) std::memset(p + 20, 1, 3);  // NOP NOP NOP EOL (RFC 791)
    put16(p + 10, ~ipv4_sum(p) & 0xffff);
    out.next_header_at = 9;
  }
  if (shape.udp) {  // RFC 3948 §2.1: checksum 0
    put16(p + ip_len, 4500);
    put16(p + ip_len + 2, 4500);
    put16(p + ip_len + 4, total - ip_len);
  }
  std::uint8_t* esp = p + esp_at;
  std::uint8_t* iv = esp + 8;
  std::uint8_t* payload = iv + iv_bytes;
  std::uint8_t* icv = payload + plaintext.size();
  put32(esp, (flags & 8) ? kSpi + 1 : kSpi);
  put32(esp + 4, seq_low);
  for (std::size_t i = 0; i < iv_bytes; ++i) iv[i] = static_cast<std::uint8_t>(seq_low >> (i % 4 * 8) ^ (0x5a + i));
  if (!plaintext.empty()) std::memcpy(payload, plaintext.data(), plaintext.size());

  std::uint8_t nonce[12];  // RFC 4106 §4, RFC 4543 §3.1: salt | IV
  std::memcpy(nonce, kEncryptionKey.data() + 16, 4);
  std::memcpy(nonce + 4, iv, iv_bytes == 8 ? 8 : 0);
  std::uint8_t seq_hi_be[4];
  put32(seq_hi_be, seq_hi);
  switch (alg) {
    case kGcm: {  // RFC 4106 §5: AAD = SPI | [seq hi] | seq lo
      std::uint8_t aad[12];
      std::memcpy(aad, esp, 4);
      std::memcpy(aad + 4, seq_hi_be, 4);
      std::memcpy(aad + 8, esp + 4, 4);
      if (shape.esn)
        aes_128(EVP_aes_128_gcm(), nonce, aad, 12, payload, plaintext.size(), icv);
      else
        aes_128(EVP_aes_128_gcm(), nonce, esp, 8, payload, plaintext.size(), icv);
      break;
    }
    case kGmac: {  // RFC 4543 §3.3: all of it is AAD; ESN high half after the SPI
      std::array<std::uint8_t, kMaxPacket + 16> aad;
      std::size_t n = 0;
      std::memcpy(aad.data(), esp, 4);
      n = 4;
      if (shape.esn) {
        std::memcpy(aad.data() + n, seq_hi_be, 4);
        n += 4;
      }
      const std::size_t rest = 4 + iv_bytes + plaintext.size();
      std::memcpy(aad.data() + n, esp + 4, rest);
      aes_128(EVP_aes_128_gcm(), nonce, aad.data(), n + rest, nullptr, 0, icv);
      break;
    }
    case kCbc:
    case kNull: {
      // A CBC payload that is not whole blocks is sent as it is: the engine
      // refuses it on its length, before any crypto.
      if (alg == kCbc && plaintext.size() % 16 == 0)
        aes_128(EVP_aes_128_cbc(), iv, nullptr, 0, payload, plaintext.size(), nullptr);
      // RFC 4303 §3.3.2.1: ESP header .. trailer, then the ESN high half
      // (put where the ICV goes, then overwritten by it).
      std::size_t auth_len = 8 + iv_bytes + plaintext.size();
      if (shape.esn) {
        std::memcpy(icv, seq_hi_be, 4);
        auth_len += 4;
      }
      hmac_sha256_128(esp, auth_len, icv);
      break;
    }
  }
  if (flags & 4) icv[flags % 16] ^= 0x10;  // flags % 16 < 16: inside the ICV

  out.sealed = true;
  out.must_fail = (flags & 0x0c) != 0;
  out.plaintext = plaintext;
  out.outer_ecn = tos & 0x03;
  out.keep = static_cast<std::uint32_t>(ip_len);
  std::memcpy(out.header.data(), p, ip_len);
  if (flags & 2) {  // Ethernet minimum-frame padding the NIC left on
    std::memset(p + total, 0xee, 6);
    return total + 6;
  }
  return total;
}

// --- Checks ------------------------------------------------------------------

// RFC 6040 §4.2 Figure 4, decapsulation: [inner][outer] ECN codepoints
// (0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE) to the outgoing one; -1 = drop.
constexpr int kEcnDecap[4][4] = {{0, 0, 0, -1}, {1, 1, 1, 3}, {2, 1, 2, 3}, {3, 3, 3, 3}};

// A sealed packet the engine passed: its trailer must have been valid and
// its bytes must be what RFC 4303 decapsulation gives.
void check_sealed_output(const Shape& shape, const Sealed& s, const rte_mbuf* m) {
  if (s.must_fail) fail("a packet with a corrupted ICV or another SPI came out");
  const auto pt = s.plaintext;
  if (pt.size() < 2) fail("good packet without an ESP trailer");
  const std::uint8_t next_header = pt[pt.size() - 1], pad = pt[pt.size() - 2];
  if (pad + 2u > pt.size()) fail("good packet with a pad length past the payload");
  const std::size_t data_len = pt.size() - 2 - pad;
  for (std::size_t i = 0; i < pad; ++i)
    if (pt[data_len + i] != i + 1) fail("good packet with padding byte %zu = %u", i, pt[data_len + i]);
  if (next_header == 59) fail("good packet that was a dummy (next header 59)");

  const auto* out = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const std::size_t out_len = m->data_len;
  if (shape.tunnel) {
    if (next_header != 4 && next_header != 41) fail("tunnel mode passed next header %u", next_header);
    const bool v4 = next_header == 4;
    if (data_len < (v4 ? 20u : 40u) || (pt[0] >> 4) != (v4 ? 4 : 6)) fail("tunnel inner header not of its version");
    const std::size_t inner_len = v4 ? get16(pt.data() + 2) : 40 + get16(pt.data() + 4);
    if (inner_len > data_len) fail("inner packet longer than the ESP data came out");
    if (out_len != inner_len) fail("tunnel output %zu bytes, inner packet %zu", out_len, inner_len);
    const std::uint8_t inner_ecn = v4 ? (pt[1] & 3) : ((pt[1] >> 4) & 3);
    const int want = shape.ecn_propagate ? kEcnDecap[inner_ecn][s.outer_ecn] : inner_ecn;
    if (want < 0) fail("outer CE on a Not-ECT inner packet came out (RFC 6040)");
    const std::uint8_t got = v4 ? (out[1] & 3) : ((out[1] >> 4) & 3);
    if (got != want) fail("ECN %u after decapsulation, RFC 6040 gives %d", got, want);
    for (std::size_t i = 0; i < out_len; ++i) {
      if (i == 1) {
        const std::uint8_t keep_bits = v4 ? 0xfc : 0xcf;
        if ((out[1] & keep_bits) != (pt[1] & keep_bits)) fail("decapsulation changed DSCP / flow label");
      } else if (v4 && (i == 10 || i == 11) && got != inner_ecn) {
        continue;  // checksum, checked below
      } else if (out[i] != pt[i]) {
        fail("tunnel output byte %zu differs from the inner packet", i);
      }
    }
    if (v4 && got != inner_ecn && ipv4_sum(out) != 0xffff) fail("inner IPv4 checksum wrong after the ECN update");
    return;
  }
  // Transport: the IP header (options, extension headers) closes up over
  // ESP/UDP and names the next header (RFC 4303 §3.4.4.1 processing).
  const std::size_t keep = s.keep;
  if (out_len != keep + data_len) fail("transport output %zu bytes, want %zu", out_len, keep + data_len);
  for (std::size_t i = 0; i < keep; ++i) {
    const bool length_field = shape.outer_v6 ? (i == 4 || i == 5) : (i == 2 || i == 3 || i == 10 || i == 11);
    if (i == s.next_header_at) {
      if (out[i] != next_header) fail("transport header names %u, trailer said %u", out[i], next_header);
    } else if (!length_field && out[i] != s.header[i]) {
      fail("transport header byte %zu changed", i);
    }
  }
  if (shape.outer_v6 ? get16(out + 4) + 40 != out_len : get16(out + 2) != out_len) fail("transport length field");
  if (!shape.outer_v6 && ipv4_sum(out) != 0xffff) fail("transport IPv4 checksum wrong");
  if (data_len && std::memcmp(out + keep, pt.data(), data_len) != 0) fail("transport data differs from the payload");
}

// Every packet the engine returns, good or not.
void check_mbuf(const rte_mbuf* m, std::size_t slot, bool good) {
  if (m->buf_addr != g_bufs[slot] || m->buf_len != kBufLen) fail("mbuf buffer changed");
  if (m->nb_segs != 1 || m->next != nullptr) fail("mbuf segments changed");
  if (m->data_off < kHeadroom) fail("inbound moved data into the headroom");
  if (std::size_t{m->data_off} + m->data_len > m->buf_len) fail("data past the end of the buffer");
  if (m->pkt_len != m->data_len) fail("pkt_len %u != data_len %u", m->pkt_len, m->data_len);
  if (!good) return;
  if (m->data_len == 0) fail("good packet with no data");
  const auto* ip = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const int version = ip[0] >> 4;
  if (version == 4) {
    if (m->data_len < 20 || get16(ip + 2) != m->data_len || (ip[0] & 0x0fu) * 4 > m->data_len)
      fail("good IPv4 packet whose header does not match its %u bytes", m->data_len);
  } else if (version == 6) {
    if (m->data_len < 40 || get16(ip + 4) + 40u != m->data_len)
      fail("good IPv6 packet whose payload length does not match its %u bytes", m->data_len);
  } else {
    fail("good packet of IP version %d", version);
  }
}

std::uint64_t total_drops(const SaCounters& c) {
  std::uint64_t sum = 0;
  for (auto d : c.drops) sum += d;
  return sum;
}

struct Engine {
  dataplane::crypto::IpsecMbBackend backend;
  Worker worker{backend};
};

Engine& engine() {
  static Engine* e = new Engine;  // IPsec-MB manager once per process
  return *e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  Reader in{data, size};
  const std::uint8_t mode = in.u8(), sa_bits = in.u8(), state = in.u8();
  const bool sealed = mode & 1, burst = mode & 2;
  Shape shape{};
  shape.tunnel = sa_bits & 1;
  shape.outer_v6 = sa_bits & 2;
  shape.udp = sa_bits & 4;
  shape.esn = sa_bits & 8;
  shape.algorithm = (sa_bits >> 4) & 3;
  shape.selectors = sa_bits & 0x40;
  shape.ecn_propagate = !(sa_bits & 0x80);
  shape.window = kWindows[state & 3];
  shape.lifetime = (state >> 2) & 3;

  Engine& e = engine();
  std::string why;
  auto sa = Sa::create(make_record(shape), e.backend, &why);
  if (!sa) fail("Sa::create refused the harness's SA: %s", why.c_str());
  if (shape.selectors) sa->set_selectors(selectors());
  auto& rt = sa->runtime();
  if (state & 0x10) {  // a window that has already seen traffic
    std::uint64_t top = in.be(8);
    if (!shape.esn) top &= 0xffffffff;
    (void)rt.replay->update(top);
  }

  std::array<Sealed, kMaxPackets> sealed_info{};
  std::array<rte_mbuf*, kMaxPackets> pkts{};
  std::size_t n = 0;
  while (n < kMaxPackets && (n == 0 || (burst && in.left > 0))) {
    std::uint8_t* p = packet_area(n);
    std::size_t len = 0;
    if (!sealed) {
      const auto bytes = in.take(burst ? in.be(2) : in.left);
      len = std::min(bytes.size(), kMaxPacket);
      if (len) std::memcpy(p, bytes.data(), len);
    } else {
      const std::uint8_t flags = in.u8(), tos = in.u8();
      const auto seq_low = static_cast<std::uint32_t>(in.be(4));
      auto plaintext = in.take(burst ? in.be(2) : in.left);
      plaintext = plaintext.first(std::min<std::size_t>(plaintext.size(), kMaxPacket - 128));
      // The high half the receiver will infer from its window (RFC 4303
      // Appendix A), as a sender in sync with it uses; the window does not
      // move before the burst's first slice is checked.
      std::uint32_t seq_hi = ReplayWindow::seq_hi(rt.replay->check(seq_low).seq);
      static constexpr std::uint32_t kHiAdjust[] = {0, 1, 0xffffffff, 0};
      seq_hi += kHiAdjust[(flags >> 4) & 3];
      len = seal(shape, flags, tos, seq_low, seq_hi, plaintext, p, sealed_info[n]);
      // Another high half cannot verify, except in a later slice, whose
      // window may have moved into the next 2^32 subspace meanwhile.
      if (kHiAdjust[(flags >> 4) & 3] != 0 && shape.esn && n < dataplane::ipsec::kMaxBurst)
        sealed_info[n].must_fail = true;
    }
    pkts[n] = attach(n, len);
    ++n;
  }

  const std::array<rte_mbuf*, kMaxPackets> before = pkts;
  const SaCounters& c = sa->counters();
  const std::uint64_t drops0 = total_drops(c), packets0 = c.packets;
  const std::uint16_t good = rt.process(e.worker, rt, pkts.data(), static_cast<std::uint16_t>(n));

  if (good > n) fail("%u good out of %zu", good, n);
  if (total_drops(c) - drops0 != n - good) fail("%zu dropped but %llu drops counted", n - good,
                                                static_cast<unsigned long long>(total_drops(c) - drops0));
  if (c.packets - packets0 != good) fail("%u good but %llu packets counted", good,
                                         static_cast<unsigned long long>(c.packets - packets0));
  std::array<bool, kMaxPackets> seen{};
  std::size_t last_good = 0, last_bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t slot = slot_of(pkts[i], n);
    if (slot == kMaxPackets || pkts[i] != before[slot] || seen[slot]) fail("burst array is not a permutation");
    seen[slot] = true;
    const bool is_good = i < good;
    // Order kept within each group (sa.h BurstFn contract).
    std::size_t& last = is_good ? last_good : last_bad;
    if ((i != 0 && i != good) && slot < last) fail("burst order not kept");
    last = slot;
    check_mbuf(pkts[i], slot, is_good);
    if (is_good && sealed_info[slot].sealed) check_sealed_output(shape, sealed_info[slot], pkts[i]);
  }
  return 0;
}
