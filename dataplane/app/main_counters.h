// What the main lcore counts of its own work: ARP on the ports, traffic
// for the gateway itself, the exception interface (docs/dataplane.md).
#pragma once

#include <cstdint>

namespace corridor::dataplane::app {

struct MainCounters {
  std::uint64_t arp_replies = 0;
  std::uint64_t arp_learnt = 0;
  std::uint64_t arp_ignored = 0;
  std::uint64_t arp_malformed = 0;
  std::uint64_t arp_requests = 0;    // resolutions sent
  // IPv6 Neighbor Discovery on the ports (RFC 4861), as ARP above:
  // solicitations for our addresses answered, neighbors learnt, messages
  // with nothing for us, invalid ones; solicitations sent for next hops, and
  // next hops that could not be asked for (no IPv6 address on the port).
  std::uint64_t nd_replies = 0;
  std::uint64_t nd_learnt = 0;
  std::uint64_t nd_ignored = 0;
  std::uint64_t nd_malformed = 0;
  std::uint64_t nd_solicitations = 0;
  std::uint64_t nd_no_source = 0;
  std::uint64_t events_reported = 0;  // lifetime and sequence-overflow events queued
  std::uint64_t acquires_reported = 0;  // ACQUIREs queued (trap policies; forward/acquires.h)
  // Per-SA counter reports (CounterReporter): COUNTERS snapshots queued, and
  // dropped because the event outbox was full (the SA is tried again on the
  // next pass); REPLAY_ICV_SUMMARY events queued.
  std::uint64_t counters_reported = 0;
  std::uint64_t counters_dropped = 0;
  std::uint64_t replay_icv_summaries = 0;
  // PORT_STATS / WORKER_STATS queued each second, and skipped while the
  // event outbox had a backlog (control not reading).
  std::uint64_t stats_reported = 0;
  std::uint64_t stats_skipped = 0;

  // Traffic from the ports for the gateway's own addresses (IKE, ICMP,
  // management; everything but ARP): to_gateway = to_kernel +
  // no_exception_interface.
  std::uint64_t to_gateway = 0;
  std::uint64_t to_kernel = 0;               // handed to the exception interface
  std::uint64_t no_exception_interface = 0;  // dropped: the config names no exception_interface

  // What the kernel sends out of the exception interface: from_kernel =
  // kernel_arp_answered + kernel_nd_answered + kernel_ip + kernel_link_local
  // + kernel_ignored + kernel_unsupported.
  std::uint64_t from_kernel = 0;
  std::uint64_t kernel_arp_answered = 0;  // ARP requests answered with the dataplane's MAC
  std::uint64_t kernel_nd_answered = 0;   // IPv6 Neighbor Solicitations answered likewise
  std::uint64_t kernel_ip = 0;            // IP packets routed out (the forwarder counts their drops)
  std::uint64_t kernel_link_local = 0;    // multicast/broadcast frames (RS, MLD, IGMP): they stay on the TAP's link
  std::uint64_t kernel_ignored = 0;       // ARP replies and announcements, DAD solicitations: nothing to answer
  std::uint64_t kernel_unsupported = 0;   // neither ARP nor IP, or malformed ARP/ND: dropped
  // Frames for the kernel (to_kernel and the answers) the TAP did not take.
  std::uint64_t kernel_tx_failed = 0;
};

}  // namespace corridor::dataplane::app
