// Fuzz target for the forwarder's path-MTU handling (dataplane/forward/
// path_mtu.h), which reads the IP packets hosts send through the gateway:
// the rules on when an error may answer a packet, the "too big" messages
// quoting it, and IPv4 fragmentation with its options.
//
// Input layout: bytes 0-1 the MTU (big endian; fragments at most that
// long, the MTU the message reports), the rest an IP packet as the
// forwarder hands it on: inputs whose header does not add up (version,
// header and total length; what the forwarder's check_ip() refuses) are
// skipped.
//
// Checked after every packet (abort() on violation):
//  - a "too big" message is a well-formed ICMP (type 3 code 4, at most 576
//    bytes, both checksums verify) or ICMPv6 (type 2, at most 1280 bytes,
//    an MTU of at least 1280, the checksum verifies) to the packet's source,
//    and exists only where may_answer_with_error() allows one;
//  - fragments are no longer than asked, carry data in multiples of 8 but
//    the last, continue each other's offsets from the packet's own, keep MF
//    on all but a last one that ends the datagram, have header checksums
//    that verify, and their data put together is the packet's;
//  - an ESP or AH datagram cut into fragments and fed to reassembly
//    (reassembly.h) last piece first comes back byte for byte, in one
//    segment, when it fits one;
//  - no mbuf is lost, whatever the outcome.
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "dataplane/forward/path_mtu.h"
#include "dataplane/forward/reassembly.h"
#include "dataplane/net/proxy_neighbor.h"
#include "tests/fuzz/fuzz_eal.h"

namespace {

using namespace corridor::dataplane::forward;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "path_mtu_fuzz: %s\n", what);
  std::abort();
}

rte_mempool* pool() {
  static rte_mempool* p = [] {
    corridor::fuzz::start_eal("path_mtu_fuzz");
    rte_mempool* made = rte_pktmbuf_pool_create("pmf_pool", 127, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (!made) fail("no mbuf pool");
    return made;
  }();
  return p;
}

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

std::uint16_t sum(const std::uint8_t* p, std::size_t n) {
  std::uint32_t s = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) s += be16(p + i);
  if (n & 1) s += static_cast<std::uint32_t>(p[n - 1]) << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

// The packet's length as its header gives it, as check_ip() in the
// forwarder reads it; 0 when the forwarder would have dropped it.
std::size_t ip_length(const std::uint8_t* ip, std::size_t avail) {
  if (avail >= 20 && (ip[0] >> 4) == 4) {
    const std::size_t ihl = (ip[0] & 0x0f) * 4u, len = be16(ip + 2);
    return ihl >= 20 && len >= ihl && len <= avail ? len : 0;
  }
  if (avail >= 40 && (ip[0] >> 4) == 6) {
    const std::size_t len = 40 + be16(ip + 4);
    return len <= avail ? len : 0;
  }
  return 0;
}

void check_message(const std::uint8_t* ip, std::size_t len, std::uint32_t mtu, const std::uint8_t* source,
                   const rte_mbuf* m) {
  const auto* e = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const std::size_t n = m->data_len;
  if (m->nb_segs != 1) fail("message in more than one segment");
  if ((ip[0] >> 4) == 4) {
    if (n < 28 || n > 576 || be16(e + 2) != n || e[9] != 1) fail("ICMP message size or protocol");
    if (sum(e, 20) != 0xffff || sum(e + 20, n - 20) != 0xffff) fail("ICMP checksum");
    if (e[20] != 3 || e[21] != 4 || be16(e + 26) != std::min<std::uint32_t>(mtu, 0xffff)) fail("ICMP type/MTU");
    if (std::memcmp(e + 12, source, 4) != 0 || std::memcmp(e + 16, ip + 12, 4) != 0) fail("ICMP addresses");
    if (std::memcmp(e + 28, ip, std::min<std::size_t>(len, n - 28)) != 0) fail("ICMP quote");
  } else {
    if (n < 48 || n > 1280 || be16(e + 4) != n - 40 || e[6] != 58) fail("ICMPv6 message size or next header");
    if (corridor::dataplane::net::icmpv6_checksum(e, e + 40, static_cast<std::uint32_t>(n - 40)) != 0)
      fail("ICMPv6 checksum");
    const std::uint32_t said = static_cast<std::uint32_t>(be16(e + 44)) << 16 | be16(e + 46);
    if (e[40] != 2 || e[41] != 0 || said < 1280 || said != std::max<std::uint32_t>(mtu, 1280)) fail("ICMPv6 type/MTU");
    if (std::memcmp(e + 8, source, 16) != 0 || std::memcmp(e + 24, ip + 8, 16) != 0) fail("ICMPv6 addresses");
    if (std::memcmp(e + 48, ip, std::min<std::size_t>(len, n - 48)) != 0) fail("ICMPv6 quote");
  }
}

void check_fragments(const std::uint8_t* ip, rte_mbuf** pieces, std::uint16_t count, std::uint32_t max_len) {
  const std::size_t ihl = (ip[0] & 0x0f) * 4u;
  const std::size_t total = be16(ip + 2);
  const std::uint16_t flags = be16(ip + 6);
  std::size_t at = 0;
  for (std::uint16_t i = 0; i < count; ++i) {
    const auto* f = rte_pktmbuf_mtod(pieces[i], const std::uint8_t*);
    const std::size_t n = pieces[i]->data_len;
    const std::size_t fihl = (f[0] & 0x0f) * 4u;
    if (n > max_len || (f[0] >> 4) != 4 || fihl < 20 || fihl > n || be16(f + 2) != n) fail("fragment size");
    if (sum(f, fihl) != 0xffff) fail("fragment header checksum");
    const std::uint16_t ff = be16(f + 6);
    const bool last = i + 1 == count;
    if ((ff & 0x4000) != 0) fail("fragment with DF");
    if (((ff & 0x1fff) * 8u) != (flags & 0x1fff) * 8u + at) fail("fragment offset");
    if (((ff & 0x2000) != 0) != (!last || (flags & 0x2000) != 0)) fail("fragment MF");
    if (!last && (n - fihl) % 8 != 0) fail("fragment data not a multiple of 8");
    if (std::memcmp(f + fihl, ip + ihl + at, n - fihl) != 0) fail("fragment data");
    if (std::memcmp(f + 12, ip + 12, 8) != 0 || f[9] != ip[9] || be16(f + 4) != be16(ip + 4)) fail("fragment header");
    at += n - fihl;
  }
  if (at != total - ihl) fail("fragments do not add up to the datagram");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2 || size - 2 > 1800) return 0;
  rte_mempool* p = pool();
  const unsigned free_before = rte_mempool_avail_count(p);
  const std::uint32_t mtu = be16(data);
  const std::uint8_t* ip = data + 2;
  const std::size_t len = ip_length(ip, size - 2);
  if (len == 0) return 0;
  static constexpr std::uint8_t kSource[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe};

  const bool answerable = may_answer_with_error(ip, static_cast<std::uint32_t>(len));
  if (rte_mbuf* e = too_big_message(ip, static_cast<std::uint32_t>(len), mtu, kSource, p)) {
    if (!answerable) fail("an error where none may be sent");
    check_message(ip, len, mtu, kSource, e);
    rte_pktmbuf_free(e);
  }

  if ((ip[0] >> 4) == 4) {
    rte_mbuf* m = rte_pktmbuf_alloc(p);
    if (m == nullptr) fail("pool empty");
    std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(len)), ip, len);
    std::array<rte_mbuf*, kMaxFragments> pieces{};
    std::uint16_t count = fragment_ipv4(m, mtu, p, pieces.data(), kMaxFragments);
    if (count != 0) {
      if (!may_fragment(ip)) fail("fragmented a packet with DF");
      check_fragments(ip, pieces.data(), count, mtu);
    }
    const bool whole_ipsec = (ip[9] == 50 || ip[9] == 51) && (be16(ip + 6) & 0x3fff) == 0;
    if (count > 1 && whole_ipsec) {
      // Reassembly undoes fragmentation; pieces given last first.
      Reassembly reassembly;
      rte_mbuf* whole = nullptr;
      for (std::uint16_t i = count; i-- > 0;) {
        if (!is_ipsec_fragment(rte_pktmbuf_mtod(pieces[i], const std::uint8_t*), pieces[i]->data_len))
          fail("a piece reassembly would not take");
        rte_mbuf* out = reassembly.add(pieces[i], 1);
        if (out != nullptr && (whole != nullptr || i != 0)) fail("a datagram before its last piece");
        whole = out;
      }
      count = 0;  // reassembly owns the pieces now
      if (whole != nullptr) {
        // Byte for byte but the header checksum, which reassembly computes
        // afresh (the forwarder does not check the one that came in), and
        // the reserved flag (RFC 791: zero), which fragments do not carry.
        const auto* w = rte_pktmbuf_mtod(whole, const std::uint8_t*);
        if (whole->nb_segs != 1 || whole->data_len != len || std::memcmp(w, ip, 6) != 0 ||
            (w[6] & 0x7f) != (ip[6] & 0x7f) || std::memcmp(w + 7, ip + 7, 3) != 0 ||
            std::memcmp(w + 12, ip + 12, len - 12) != 0)
          fail("reassembly did not give the datagram back");
        if (sum(w, (w[0] & 0x0f) * 4u) != 0xffff) fail("reassembled header checksum");
        rte_pktmbuf_free(whole);
      } else if (reassembly.counters().dropped == 0 && len <= 2048) {
        fail("pieces of a datagram that fits an mbuf neither reassembled nor dropped");
      }
    }
    for (std::uint16_t i = 0; i < count; ++i) rte_pktmbuf_free(pieces[i]);
    rte_pktmbuf_free(m);
  }
  if (rte_mempool_avail_count(p) != free_before) fail("an mbuf was lost");
  return 0;
}
