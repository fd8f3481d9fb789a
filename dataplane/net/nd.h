// IPv6 Neighbor Discovery (RFC 4861) on the dataplane's ports, as arp.h is
// for IPv4: Neighbor Solicitations for the gateway's own addresses are
// answered, the link-layer addresses of on-link neighbors are learnt, and
// solicitations go out for the next hops the neighbor table lacks. Runs on
// the main lcore; the forwarder hands it every Neighbor Discovery message
// (is_neighbor_discovery()). Router Solicitations and Advertisements and
// Redirects are not acted on: a gateway takes its routes from its config.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/net/address.h"
#include "dataplane/net/ethernet.h"
#include "dataplane/net/neighbors.h"

struct rte_mbuf;
struct rte_mempool;

namespace corridor::dataplane::net {

// What Neighbor Discovery needs to know of a port.
struct NdPort {
  std::uint16_t index = 0;  // the dataplane's port index (neighbor keys)
  MacAddress mac;
  std::vector<corridor::net::Prefix> ipv6;  // the port's IPv6 addresses with their subnets
};

enum class NdResult : std::uint8_t {
  reply,      // a solicitation for our address, now the advertisement: send it out of the same port
  learnt,     // an on-link neighbor's link-layer address was recorded; free the frame
  ignored,    // valid, but nothing for us (another target, DAD, RS/RA/Redirect); free it
  malformed,  // fails RFC 4861 §7.1 validation (hop limit, code, length, checksum, options); free and count
};

// A Neighbor Solicitation or Advertisement that passed RFC 4861 §7.1
// validation (pointers into the frame).
struct NdMessage {
  std::uint8_t type = 0;                     // 135 solicitation, 136 advertisement
  const std::uint8_t* source = nullptr;      // the IPv6 source address
  const std::uint8_t* target = nullptr;      // the Target Address
  const std::uint8_t* link_layer = nullptr;  // a solicitation's source, an advertisement's target link-layer address
  bool unspecified_source = false;           // from :: (duplicate address detection)
};

// Validates a frame holding a Neighbor Solicitation or Advertisement after a
// fixed IPv6 header: hop limit 255, code 0, long enough, a checksum that
// verifies, a unicast target, options of non-zero length inside the
// message, no source link-layer option from :: (§7.1.1, §7.1.2). Nullopt
// for anything else, Router Solicitations and Advertisements included.
std::optional<NdMessage> validate_neighbor_message(const rte_mbuf* frame);

// Writes the answer to a validated solicitation over it: a solicited,
// override Neighbor Advertisement (router flag set: the dataplane
// forwards) of `ours` for the target, from the target address to the
// solicitation's source and MAC. False when the mbuf has no room for it.
bool advertise(rte_mbuf* frame, const NdMessage& solicitation, const MacAddress& ours);

// An Ethernet frame (`len` bytes from its header) holding an ICMPv6
// Neighbor Discovery message (types 133-137) right after a fixed IPv6
// header. Cheap: the forwarder asks it of every IPv6 frame it takes.
bool is_neighbor_discovery(const std::uint8_t* frame, std::uint32_t len);

// Handles one Neighbor Discovery frame. A solicitation's source link-layer
// address is learnt when its source is on one of the port's subnets or
// link-local (RFC 4861 §7.2.3); an advertisement's target link-layer
// address only for a neighbor the table already holds (one we solicited or
// know: §7.2.5 discards the others). A configured entry is never replaced.
NdResult handle_nd(rte_mbuf* frame, const NdPort& port, NeighborTable& neighbors);

// A Neighbor Solicitation for `target` (16 bytes) to its solicited-node
// multicast address (RFC 4861 §7.2.2), from the port's address on the
// target's subnet (for a link-local target, the port's first IPv6
// address), with our link-layer address. Null when the port has no IPv6
// address to send it from, or the pool is empty.
rte_mbuf* make_neighbor_solicitation(rte_mempool* pool, const NdPort& port, const std::uint8_t* target);

}  // namespace corridor::dataplane::net
