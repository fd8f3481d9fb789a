#include "dataplane/forward/forwarder.h"

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>

#include "common/net/checksum.h"
#include "dataplane/forward/path_mtu.h"
#include "dataplane/ipsec/ip.h"
#include "dataplane/ipsec/overhead.h"
#include "dataplane/net/nd.h"
#include "dataplane/tables/spd_key.h"

namespace corridor::dataplane::forward {
namespace {

using ipsec::load_be16;
using ipsec::load_be32;
using ipsec::store_be16;

constexpr std::uint16_t kRxBurst = 32;
constexpr std::uint16_t kNatTPort = 4500;

// The IP packet in `m` (no Ethernet header): trimmed to its own length
// (link-layer padding removed). False when the header does not add up or
// an IPv4 header's checksum is wrong.
bool check_ip(rte_mbuf* m) {
  const auto* ip = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const std::uint32_t avail = m->data_len;
  std::uint32_t len = 0;
  if (avail >= ipsec::kIpv4HeaderLen && (ip[0] >> 4) == 4) {
    const std::uint32_t ihl = (ip[0] & 0x0f) * 4u;
    len = load_be16(ip + 2);
    if (ihl < ipsec::kIpv4HeaderLen || len < ihl || len > avail) return false;
    // RFC 1812 §5.2.2: a router checks the header checksum before it acts
    // on the header. A NIC that checked it says so in the mbuf; otherwise
    // it is summed here (20 bytes, a few ns).
    const std::uint64_t verdict = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    if (verdict == RTE_MBUF_F_RX_IP_CKSUM_BAD) return false;
    if (verdict != RTE_MBUF_F_RX_IP_CKSUM_GOOD && !corridor::net::checksum_ok_words(ip, ihl)) return false;
  } else if (avail >= ipsec::kIpv6HeaderLen && (ip[0] >> 4) == 6) {
    len = ipsec::kIpv6HeaderLen + load_be16(ip + 4);
    if (len > avail) return false;
  } else {
    return false;
  }
  if (len < avail) rte_pktmbuf_trim(m, static_cast<std::uint16_t>(avail - len));
  return true;
}

// Forwarding decrements the TTL / hop limit (RFC 791, RFC 8200); the IPv4
// checksum is updated incrementally (RFC 1624 eqn. 3). False when the
// packet must not be forwarded any more.
bool decrement_ttl(std::uint8_t* ip) {
  if ((ip[0] >> 4) == 6) {
    if (ip[7] <= 1) return false;
    --ip[7];
    return true;
  }
  if (ip[8] <= 1) return false;
  const std::uint16_t old_word = load_be16(ip + 8);
  --ip[8];
  const std::uint16_t new_word = load_be16(ip + 8);
  std::uint32_t sum = static_cast<std::uint16_t>(~load_be16(ip + 10)) + static_cast<std::uint16_t>(~old_word) + new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  store_be16(ip + 10, static_cast<std::uint16_t>(~sum));
  return true;
}

const std::uint8_t* destination(const std::uint8_t* ip) { return (ip[0] >> 4) == 6 ? ip + 24 : ip + 16; }

// Packets with their SA slot, grouped by slot (stable) so that each SA
// gets one engine call per burst.
struct Bound {
  std::uint32_t slot;
  rte_mbuf* m;
};
template <typename Run>
void for_each_sa(Bound* b, std::uint16_t n, Run&& run) {
  std::stable_sort(b, b + n, [](const Bound& x, const Bound& y) { return x.slot < y.slot; });
  std::array<rte_mbuf*, kRxBurst> pkts;
  for (std::uint16_t i = 0; i < n;) {
    std::uint16_t j = i;
    while (j < n && b[j].slot == b[i].slot) {
      pkts[j - i] = b[j].m;
      ++j;
    }
    run(b[i].slot, pkts.data(), static_cast<std::uint16_t>(j - i));
    i = j;
  }
}

}  // namespace

bool ForwardingPlane::is_local(bool v6, const std::uint8_t* dst) const {
  // Asked for every packet: one loop per family, so that each memcmp has a
  // constant size and compiles to a compare or two instead of a call.
  const auto any_of = [&](auto equal) {
    for (const Port& p : ports)
      for (const auto& a : p.addresses)
        if (a.address.is_v4() == !v6 && equal(a.address.bytes().data())) return true;
    return false;
  };
  if (v6) return any_of([&](const std::uint8_t* a) { return std::memcmp(a, dst, 16) == 0; });
  return any_of([&](const std::uint8_t* a) { return std::memcmp(a, dst, 4) == 0; });
}

Forwarder::Forwarder(const ForwardingPlane& plane, crypto::Backend& backend, std::uint16_t rx_queue,
                     std::uint16_t tx_queue)
    : plane_(plane), engine_(backend), rx_queue_(rx_queue), tx_queue_(tx_queue), tx_(plane.ports.size()),
      acquires_(kAcquireHoldSeconds * rte_get_tsc_hz()) {
  for (const Port& p : plane.ports) min_port_mtu_ = std::min<std::uint32_t>(min_port_mtu_, p.mtu);
}

Forwarder::~Forwarder() {
  for (std::size_t i = 0; i < held_n_; ++i) rte_pktmbuf_free(held_[i].m);
}

unsigned Forwarder::poll() {
  if (held_n_ != 0) release_held();
  unsigned total = 0;
  std::array<rte_mbuf*, kRxBurst> frames;
  for (const Port& port : plane_.ports) {
    const std::uint16_t n = rte_eth_rx_burst(port.port_id, rx_queue_, frames.data(), kRxBurst);
    if (n == 0) continue;
    total += n;
    counters_.rx += n;
    if (port.protected_side) {
      from_protected(port, frames.data(), n);
    } else {
      from_unprotected(port, frames.data(), n);
    }
  }
  flush();
  // Fragments whose datagram never completed, every 1024 rounds (a few
  // milliseconds when busy, well under a second when idle).
  if ((counters_.polls & 1023) == 0) reassembly_.expire(rte_get_tsc_cycles());
  ++counters_.polls;
  if (total != 0) ++counters_.busy_polls;
  return total;
}

void Forwarder::drop(rte_mbuf* m, FwdDrop why) {
  counters_.drop(why);
  rte_pktmbuf_free(m);
}

void Forwarder::to_main(const Port& port, rte_mbuf* frame) {
  frame->port = port.index;
  if (rte_ring_mp_enqueue(plane_.exception, frame) != 0) {
    drop(frame, FwdDrop::exception_full);
    return;
  }
  ++counters_.to_main;
}

void Forwarder::decapsulated_to_main(rte_mbuf* packet, bool v6) {
  // The RX port's DPDK id is still in the mbuf: the main lcore files the
  // frame under that port (the exception path sets both MAC addresses).
  const Port* from = &plane_.ports.front();
  for (const Port& p : plane_.ports)
    if (p.port_id == packet->port) from = &p;
  auto* eth = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(packet, net::kEtherHeaderLen));
  if (eth == nullptr) {  // decapsulation leaves the outer headers' room; as in send_ip()
    drop(packet, FwdDrop::tx_full);
    return;
  }
  std::memcpy(eth, from->mac.bytes.data(), 6);
  std::memcpy(eth + 6, from->mac.bytes.data(), 6);
  store_be16(eth + 12, v6 ? net::kEtherTypeIpv6 : net::kEtherTypeIpv4);
  to_main(*from, packet);
}

bool Forwarder::take_ip(const Port& port, rte_mbuf* frame) {
  if (frame->data_len < net::kEtherHeaderLen || frame->nb_segs != 1) {
    drop(frame, FwdDrop::runt);
    return false;
  }
  const auto* eth = rte_pktmbuf_mtod(frame, const std::uint8_t*);
  // Unicast frames for other stations: ports filter nothing in software
  // (af_packet, pcap), and a router must not forward what was not sent to it.
  if ((eth[0] & 1) == 0 && std::memcmp(eth, port.mac.bytes.data(), 6) != 0) {
    drop(frame, FwdDrop::other_host);
    return false;
  }
  switch (load_be16(eth + 12)) {
    case net::kEtherTypeIpv6:
      if (net::is_neighbor_discovery(eth, frame->data_len)) {  // IPv6's ARP: the main lcore's too
        to_main(port, frame);
        return false;
      }
      return true;
    case net::kEtherTypeIpv4:
      return true;
    case net::kEtherTypeArp:
      to_main(port, frame);
      return false;
    case net::kEtherTypeVlan:
    case net::kEtherTypeQinQ:
      drop(frame, FwdDrop::vlan);
      return false;
    default:
      drop(frame, FwdDrop::unknown_ethertype);
      return false;
  }
}

void Forwarder::from_protected(const Port& port, rte_mbuf** frames, std::uint16_t n) {
  std::array<rte_mbuf*, kRxBurst> clear;
  std::array<tables::PacketKey, kRxBurst> keys;
  std::uint16_t k = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = frames[i];
    if (!take_ip(port, m)) continue;
    const auto* ip = rte_pktmbuf_mtod_offset(m, const std::uint8_t*, net::kEtherHeaderLen);
    // The destination is read only where the frame holds a whole IP header
    // (shorter frames fail check_ip below).
    const bool v6 = m->data_len > net::kEtherHeaderLen && (ip[0] >> 4) == 6;
    const std::uint32_t header = v6 ? ipsec::kIpv6HeaderLen : ipsec::kIpv4HeaderLen;
    if (m->data_len >= net::kEtherHeaderLen + header && plane_.is_local(v6, destination(ip))) {
      to_main(port, m);  // ping or management for the gateway itself
      continue;
    }
    rte_pktmbuf_adj(m, net::kEtherHeaderLen);
    if (!check_ip(m) ||
        tables::make_key(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len, keys[k]) != tables::KeyError::ok) {
      drop(m, FwdDrop::bad_ip_header);
      continue;
    }
    if (!decrement_ttl(rte_pktmbuf_mtod(m, std::uint8_t*))) {
      drop(m, FwdDrop::ttl_exceeded);
      continue;
    }
    clear[k++] = m;
  }
  if (k == 0) return;

  std::array<tables::SpdDecision, kRxBurst> decisions{};
  if (const tables::SpdTable* spd = plane_.sas->outbound_spd()) spd->classify_burst(keys.data(), k, decisions.data());
  std::array<Bound, kRxBurst> protect;
  std::uint16_t np = 0;
  for (std::uint16_t i = 0; i < k; ++i) {
    switch (decisions[i].verdict) {
      case tables::SpdVerdict::protect: protect[np++] = {decisions[i].sa_index, clear[i]}; break;
      case tables::SpdVerdict::bypass:
        ++counters_.bypassed;
        send_ip(clear[i]);
        break;
      case tables::SpdVerdict::discard: drop(clear[i], FwdDrop::policy_discard); break;
      case tables::SpdVerdict::trap: trapped(clear[i], decisions[i].policy_id, keys[i]); break;
      case tables::SpdVerdict::no_policy: drop(clear[i], FwdDrop::no_policy); break;
    }
  }
  for_each_sa(protect.data(), np, [&](std::uint32_t slot, rte_mbuf** pkts, std::uint16_t len) {
    run_sa(slot, pkts, len, false);
  });
}

void Forwarder::trapped(rte_mbuf* m, std::uint64_t policy_id, const tables::PacketKey& key) {
  acquires_.raise(policy_id, key, rte_rdtsc());
  drop(m, FwdDrop::trapped);
}

void Forwarder::from_unprotected(const Port& port, rte_mbuf** frames, std::uint16_t n) {
  std::array<Bound, kRxBurst> ipsec_pkts;
  std::array<tables::SadKey, kRxBurst> sad_keys;
  std::array<rte_mbuf*, kRxBurst> clear;
  std::array<tables::PacketKey, kRxBurst> keys;
  std::uint16_t ns = 0, nc = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = frames[i];
    if (!take_ip(port, m)) continue;
    rte_pktmbuf_adj(m, net::kEtherHeaderLen);
    if (!check_ip(m)) {
      drop(m, FwdDrop::bad_ip_header);
      continue;
    }
    const auto* ip = rte_pktmbuf_mtod(m, const std::uint8_t*);
    std::uint32_t len = m->data_len;
    const bool v6 = (ip[0] >> 4) == 6;
    if (!plane_.is_local(v6, destination(ip))) {
      // Clear traffic through the gateway from the unprotected side: only
      // what an inbound bypass policy allows (RFC 4301 §5.2).
      if (tables::make_key(ip, len, keys[nc]) != tables::KeyError::ok) {
        drop(m, FwdDrop::bad_ip_header);
        continue;
      }
      clear[nc++] = m;
      continue;
    }
    if (is_ipsec_fragment(ip, len)) {
      m = reassembly_.add(m, rte_get_tsc_cycles());
      if (m == nullptr) continue;  // waiting for the rest, or dropped (counted there)
      ip = rte_pktmbuf_mtod(m, const std::uint8_t*);
      len = m->data_len;
    }
    std::uint32_t l4 = 0, proto_at = 0;
    std::uint8_t proto = 0;
    if (v6) {
      if (!ipsec::ipv6_skip_extensions(ip, len, l4, proto, proto_at)) {
        drop(m, FwdDrop::bad_ip_header);
        continue;
      }
    } else {
      l4 = (ip[0] & 0x0f) * 4u;
      proto = ip[9];
    }
    tables::SadKey key;
    key.family = v6 ? channel::IpVersion::v6 : channel::IpVersion::v4;
    std::memcpy(key.dst.data(), destination(ip), v6 ? 16 : 4);
    std::uint32_t spi_at = 0;
    if (proto == ipsec::kProtoEsp) {
      spi_at = l4;
    } else if (proto == ipsec::kProtoAh) {
      key.protocol = channel::IpsecProtocol::ah;
      spi_at = l4 + 4;
    } else if (proto == ipsec::kProtoUdp && len >= l4 + ipsec::kUdpHeaderLen &&
               load_be16(ip + l4 + 2) == kNatTPort) {
      const std::uint32_t payload = l4 + ipsec::kUdpHeaderLen;
      if (len == payload + 1 && ip[payload] == 0xff) {  // RFC 3948 §2.3 NAT-keepalive
        ++counters_.nat_keepalives;
        rte_pktmbuf_free(m);
        continue;
      }
      if (len < payload + 4 || load_be32(ip + payload) == 0) {  // RFC 3948 §2.2 non-ESP marker: IKE
        rte_pktmbuf_prepend(m, net::kEtherHeaderLen);
        to_main(port, m);
        continue;
      }
      spi_at = payload;
    } else {
      // IKE on UDP 500, ICMP, management: the gateway's own traffic.
      rte_pktmbuf_prepend(m, net::kEtherHeaderLen);
      to_main(port, m);
      continue;
    }
    if (len < spi_at + 4) {
      drop(m, FwdDrop::bad_ip_header);
      continue;
    }
    key.spi = load_be32(ip + spi_at);
    sad_keys[ns] = key;
    ipsec_pkts[ns++] = {0, m};
  }

  if (ns > 0) {
    std::array<tables::LookupOutcome, kRxBurst> found;
    plane_.sas->sad().lookup_burst(sad_keys.data(), ns, found.data());
    std::uint16_t hits = 0;
    for (std::uint16_t i = 0; i < ns; ++i) {
      switch (found[i].result) {
        case tables::LookupResult::hit: ipsec_pkts[hits++] = {found[i].sa_index, ipsec_pkts[i].m}; break;
        case tables::LookupResult::no_sa: drop(ipsec_pkts[i].m, FwdDrop::no_sa); break;
        case tables::LookupResult::wrong_destination: drop(ipsec_pkts[i].m, FwdDrop::wrong_destination); break;
      }
    }
    for_each_sa(ipsec_pkts.data(), hits, [&](std::uint32_t slot, rte_mbuf** pkts, std::uint16_t len) {
      run_sa(slot, pkts, len, true);
    });
  }
  if (nc > 0) {
    std::array<tables::SpdDecision, kRxBurst> decisions{};
    if (const tables::SpdTable* spd = plane_.sas->inbound_spd()) spd->classify_burst(keys.data(), nc, decisions.data());
    for (std::uint16_t i = 0; i < nc; ++i) {
      switch (decisions[i].verdict) {
        case tables::SpdVerdict::bypass:
          if (!decrement_ttl(rte_pktmbuf_mtod(clear[i], std::uint8_t*))) {
            drop(clear[i], FwdDrop::ttl_exceeded);
            break;
          }
          ++counters_.bypassed;
          send_ip(clear[i]);
          break;
        case tables::SpdVerdict::protect:  // inbound protect policies never reach the inbound SPD
        case tables::SpdVerdict::trap:     // and traps are outbound only (channel::validate)
        case tables::SpdVerdict::discard: drop(clear[i], FwdDrop::policy_discard); break;
        case tables::SpdVerdict::no_policy: drop(clear[i], FwdDrop::no_policy); break;
      }
    }
  }
}

void Forwarder::run_sa(std::uint32_t slot, rte_mbuf** pkts, std::uint16_t n, bool inbound, bool fitted) {
  ipsec::Sa* sa = plane_.sas->sa_at(slot);
  if (sa == nullptr) {
    for (std::uint16_t i = 0; i < n; ++i) drop(pkts[i], FwdDrop::sa_gone);
    return;
  }
  ipsec::RuntimeSa& rt = sa->runtime();
  if (!inbound && !fitted) n = fit_path(slot, rt, pkts, n);
  if (n == 0) return;
  const std::uint16_t good = rt.process(engine_, rt, pkts, n);
  for (std::uint16_t i = 0; i < good; ++i) {
    if (inbound) {
      const auto* ip = rte_pktmbuf_mtod(pkts[i], const std::uint8_t*);
      const bool v6 = (ip[0] >> 4) == 6;
      if (plane_.is_local(v6, destination(ip))) {
        ++counters_.decapsulated;
        decapsulated_to_main(pkts[i], v6);
        continue;
      }
      // The decapsulated packet is forwarded like any other.
      if (!decrement_ttl(rte_pktmbuf_mtod(pkts[i], std::uint8_t*))) {
        drop(pkts[i], FwdDrop::ttl_exceeded);
        continue;
      }
      ++counters_.decapsulated;
    } else {
      ++counters_.protected_out;
    }
    send_ip(pkts[i]);
  }
  counters_.engine_drops += n - good;
  for (std::uint16_t i = good; i < n; ++i) rte_pktmbuf_free(pkts[i]);
}

std::uint16_t Forwarder::fit_path(std::uint32_t slot, const ipsec::RuntimeSa& sa, rte_mbuf** pkts, std::uint16_t n) {
  // What fits the smallest port fits any: most bursts end here, without
  // the route lookup (one per packet when every packet has its own SA).
  // Tunnel mode only: a transport-mode packet's header length counts.
  const bool tunnel = sa.has(ipsec::kTunnel);
  if (tunnel) {
    std::uint16_t i = 0;
    while (i < n && ipsec::protected_length(sa, pkts[i]->pkt_len, 0) <= min_port_mtu_) ++i;
    if (i == n) return n;
  }
  // The path MTU is the outgoing port's: looked up once per SA and burst.
  const bool outer_v6 = sa.has(ipsec::kOuterV6);
  const net::NextHop* hop = outer_v6 ? plane_.routes->lookup_v6(sa.outer_dst) : plane_.routes->lookup_v4(sa.outer_dst);
  if (hop == nullptr) return n;  // send_ip() counts no_route after the engine
  const std::uint32_t mtu = plane_.ports[hop->port].mtu;
  std::uint16_t kept = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const auto* ip = rte_pktmbuf_mtod(m, const std::uint8_t*);
    const bool v6 = (ip[0] >> 4) == 6;
    // Transport mode keeps the IP header in front (IPv6 extension headers
    // are left out of `keep`: they would shift the padding by less than a
    // block).
    const std::uint32_t keep = tunnel ? 0 : v6 ? ipsec::kIpv6HeaderLen : (ip[0] & 0x0f) * 4u;
    if (ipsec::protected_length(sa, m->pkt_len, keep) <= mtu) {
      pkts[kept++] = m;
      continue;
    }
    const std::uint32_t fit = ipsec::max_clear_length(sa, mtu, keep);
    if (!v6 && may_fragment(ip)) {
      if (!tunnel) {
        // Transport mode protects whole datagrams only: the ESP packet,
        // with the inner header's DF clear, is fragmented after the engine.
        pkts[kept++] = m;
        continue;
      }
      std::array<rte_mbuf*, kMaxFragments> pieces;
      const std::uint16_t count = fragment(m, fit, pieces.data());
      if (count != 0) {
        for (std::uint16_t at = 0; at < count; at += kRxBurst) {
          run_sa(slot, pieces.data() + at, std::min<std::uint16_t>(kRxBurst, count - at), false, true);
        }
        continue;
      }
    }
    too_big(m, fit);
  }
  return kept;
}

const std::uint8_t* Forwarder::error_source(std::uint16_t rx_port_id, bool v6) const {
  const std::uint8_t* any = nullptr;
  for (const Port& p : plane_.ports) {
    for (const auto& a : p.addresses) {
      if (a.address.is_v4() == v6) continue;
      if (p.port_id == rx_port_id) return a.address.bytes().data();
      if (any == nullptr) any = a.address.bytes().data();
    }
  }
  return any;
}

bool Forwarder::take_icmp_token() {
  const std::uint64_t now = rte_get_tsc_cycles();
  const std::uint64_t per_token = rte_get_tsc_hz() / kIcmpPerSecond;
  if (icmp_tokens_ < kIcmpBurst && per_token != 0) {
    const std::uint64_t earned = (now - icmp_refill_tsc_) / per_token;
    if (earned != 0) {
      icmp_tokens_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(kIcmpBurst, icmp_tokens_ + earned));
      icmp_refill_tsc_ = now;
    }
  } else {
    icmp_refill_tsc_ = now;
  }
  if (icmp_tokens_ == 0) return false;
  --icmp_tokens_;
  return true;
}

std::uint16_t Forwarder::fragment(rte_mbuf* m, std::uint32_t mtu, rte_mbuf** pieces) {
  const std::uint16_t count = fragment_ipv4(m, mtu, m->pool, pieces, kMaxFragments);
  if (count == 0) return 0;
  ++counters_.fragmented;
  counters_.fragments += count;
  rte_pktmbuf_free(m);
  return count;
}

void Forwarder::too_big(rte_mbuf* m, std::uint32_t mtu) {
  const auto* ip = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const bool v6 = (ip[0] >> 4) == 6;
  const std::uint8_t* sender = v6 ? ip + 8 : ip + 12;
  const std::uint8_t* source = error_source(m->port, v6);
  // The gateway's own packets (IKE, the kernel's through the exception
  // interface) are not told off: their MTU is the exception interface's.
  if (source != nullptr && !plane_.is_local(v6, sender) && may_answer_with_error(ip, m->pkt_len)) {
    if (!take_icmp_token()) {
      ++counters_.too_big_rate_limited;
    } else if (rte_mbuf* error = too_big_message(ip, m->pkt_len, mtu, source, m->pool)) {
      ++counters_.too_big_sent;
      // As the gateway's own traffic: the SPD decides, so an error for a
      // host across a tunnel goes through the tunnel.
      send_from_gateway(&error, 1);
    }
  }
  drop(m, FwdDrop::mtu_exceeded);
}

void Forwarder::send_ip(rte_mbuf* m) {
  const auto* ip = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const bool v6 = (ip[0] >> 4) == 6;
  const std::uint8_t* dst = destination(ip);
  const net::NextHop* hop = v6 ? plane_.routes->lookup_v6(dst) : plane_.routes->lookup_v4(dst);
  if (hop == nullptr) {
    drop(m, FwdDrop::no_route);
    return;
  }
  const Port& out = plane_.ports[hop->port];
  if (m->pkt_len > out.mtu) {
    // IPv4 without DF is cut to fit (an ESP packet too: after encryption
    // only when pre-fragmentation could not apply, transport mode); the
    // rest is answered "too big".
    std::array<rte_mbuf*, kMaxFragments> pieces;
    const std::uint16_t count = v6 || !may_fragment(ip) ? 0 : fragment(m, out.mtu, pieces.data());
    if (count == 0) {
      too_big(m, out.mtu);
      return;
    }
    for (std::uint16_t i = 0; i < count; ++i) send_ip(pieces[i]);
    return;
  }
  const std::uint8_t* next = hop->connected ? dst : hop->gateway.bytes().data();
  const auto key = v6 ? net::NeighborKey::v6(out.index, next) : net::NeighborKey::v4(out.index, next);
  if (last_hop_table_ != plane_.neighbors || last_hop_slot_ < 0 ||
      std::memcmp(&key, &last_hop_, sizeof key) != 0) {
    last_hop_table_ = plane_.neighbors;
    last_hop_ = key;
    last_hop_slot_ = plane_.neighbors->slot(key);
  }
  std::uint64_t mac = 0;
  if (!plane_.neighbors->packed_at(last_hop_slot_, mac)) {
    plane_.neighbors->request(key);
    hold(m, key);
    return;
  }
  auto* eth = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, net::kEtherHeaderLen));
  if (eth == nullptr) {  // the engine and the RX path leave headroom; a pool without it is misconfigured
    drop(m, FwdDrop::tx_full);
    return;
  }
  // The packed MAC's byte 0 is in bits 47-40: shifted to the top and
  // swapped, its six bytes come first in memory, in wire order.
  const std::uint64_t wire = rte_cpu_to_be_64(mac << 16);
  std::memcpy(eth, &wire, 6);
  std::memcpy(eth + 6, out.mac.bytes.data(), 6);
  store_be16(eth + 12, v6 ? net::kEtherTypeIpv6 : net::kEtherTypeIpv4);
  transmit(out, m);
}

void Forwarder::hold(rte_mbuf* m, const net::NeighborKey& key) {
  std::size_t same = 0;
  for (std::size_t i = 0; i < held_n_; ++i) same += std::memcmp(&held_[i].key, &key, sizeof key) == 0;
  if (held_n_ == kHeld || same == kHeldPerNeighbor) {
    drop(m, FwdDrop::neighbor_unresolved);
    return;
  }
  const std::uint64_t now = rte_get_tsc_cycles();
  const std::uint64_t hz = rte_get_tsc_hz();
  held_[held_n_++] = {m, key, now + kHoldSeconds * hz, now + hz};
}

void Forwarder::release_held() {
  const std::uint64_t now = rte_get_tsc_cycles();
  std::array<rte_mbuf*, kHeld> ready;
  std::size_t n_ready = 0;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < held_n_; ++i) {
    Held& h = held_[i];
    std::uint64_t mac = 0;
    if (plane_.neighbors->packed_at(plane_.neighbors->slot(h.key), mac)) {
      ready[n_ready++] = h.m;
    } else if (now >= h.deadline_tsc) {
      drop(h.m, FwdDrop::neighbor_unresolved);
    } else {
      if (now >= h.ask_again_tsc) {  // a lost request or answer is not the end
        plane_.neighbors->request(h.key);
        h.ask_again_tsc = now + rte_get_tsc_hz();
      }
      held_[kept++] = h;
    }
  }
  held_n_ = kept;
  // Routed afresh (the route may have changed meanwhile); in the order
  // they came.
  for (std::size_t i = 0; i < n_ready; ++i) send_ip(ready[i]);
}

void Forwarder::send_from_gateway(rte_mbuf** packets, std::uint16_t n) {
  constexpr std::uint16_t kIkePort = 500;
  for (std::uint16_t at = 0; at < n; at += kRxBurst) {
    const std::uint16_t count = std::min<std::uint16_t>(kRxBurst, static_cast<std::uint16_t>(n - at));
    std::array<rte_mbuf*, kRxBurst> pkts;
    std::array<tables::PacketKey, kRxBurst> keys;
    std::uint16_t k = 0;
    for (std::uint16_t i = at; i < at + count; ++i) {
      rte_mbuf* m = packets[i];
      if (m->nb_segs != 1 || !check_ip(m) ||
          tables::make_key(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len, keys[k]) != tables::KeyError::ok) {
        drop(m, FwdDrop::bad_ip_header);
        continue;
      }
      const auto sport = keys[k].src_port();
      if (keys[k].protocol() == ipsec::kProtoUdp && (sport == kIkePort || sport == kNatTPort)) {
        send_ip(m);
        continue;
      }
      pkts[k++] = m;
    }
    if (k == 0) continue;
    std::array<tables::SpdDecision, kRxBurst> decisions{};
    if (const tables::SpdTable* spd = plane_.sas->outbound_spd()) spd->classify_burst(keys.data(), k, decisions.data());
    std::array<Bound, kRxBurst> protect;
    std::uint16_t np = 0;
    for (std::uint16_t i = 0; i < k; ++i) {
      switch (decisions[i].verdict) {
        case tables::SpdVerdict::protect: protect[np++] = {decisions[i].sa_index, pkts[i]}; break;
        case tables::SpdVerdict::discard: drop(pkts[i], FwdDrop::policy_discard); break;
        case tables::SpdVerdict::trap: trapped(pkts[i], decisions[i].policy_id, keys[i]); break;
        case tables::SpdVerdict::bypass:
        case tables::SpdVerdict::no_policy: send_ip(pkts[i]); break;
      }
    }
    for_each_sa(protect.data(), np, [&](std::uint32_t slot, rte_mbuf** sa_pkts, std::uint16_t len) {
      run_sa(slot, sa_pkts, len, false);
    });
  }
}

void Forwarder::send_frame(std::uint16_t index, rte_mbuf* frame) { transmit(plane_.ports[index], frame); }

void Forwarder::transmit(const Port& out, rte_mbuf* frame) {
  TxBuffer& b = tx_[out.index];
  b.pkts[b.n++] = frame;
  if (b.n == b.pkts.size()) flush();
}

void Forwarder::flush() {
  for (const Port& port : plane_.ports) {
    TxBuffer& b = tx_[port.index];
    if (b.n == 0) continue;
    const std::uint16_t sent = rte_eth_tx_burst(port.port_id, tx_queue_, b.pkts.data(), b.n);
    counters_.tx += sent;
    for (std::uint16_t i = sent; i < b.n; ++i) drop(b.pkts[i], FwdDrop::tx_full);
    b.n = 0;
  }
}

}  // namespace corridor::dataplane::forward
