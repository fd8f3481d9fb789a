// Traffic selectors between the wire (RFC 7296 §3.13) and the config
// (swanctl's local_ts/remote_ts), and narrowing (RFC 7296 §2.9).
//
// A selector is a box of three ranges: addresses (one family), IP protocol
// (0 = any) and ports. Ports follow RFC 7296 §3.13.1 and RFC 4301 §4.4.1.2:
// 0-65535 is ANY, which includes OPAQUE (start 65535, end 0: the ports are
// not available, e.g. a non-initial fragment); OPAQUE intersects only ANY
// and OPAQUE, and a proper port range (say 80-80) does not contain OPAQUE.
// For ICMP the "ports" are type and code as §3.13.1 packs them; they are
// compared as numbers like any port.
//
// Selectors of different address families never intersect.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/ike/message.h"
#include "common/net/address.h"
#include "common/net/traffic_selector.h"

namespace corridor::control::ike {

// Config selectors -> TSi/TSr payload body. `dynamic` becomes the single
// address `ike_address` (a /32 or /128), keeping its protocol and ports.
corridor::ike::TrafficSelectors to_wire(std::span<const net::TrafficSelector> config,
                                        const net::IpAddress& ike_address);

// RFC 7296 §2.9: an initiator that negotiates because of a packet (a trap
// policy's acquire) SHOULD put a selector for just that packet first in
// TSi and TSr, so that a responder with several matching configs, or
// narrower ones, picks the one for this packet.
struct TriggerPacket {
  net::TrafficSelector tsi;  // the packet's source (ours), protocol and source port
  net::TrafficSelector tsr;  // its destination
};

// An initiator's TSi/TSr body: `configured` (dynamic becoming
// `ike_address`), after `first` when set.
corridor::ike::TrafficSelectors initiator_selectors(std::span<const net::TrafficSelector> configured,
                                                    const net::IpAddress& ike_address,
                                                    const std::optional<net::TrafficSelector>& first);

// Wire selectors -> config form (never dynamic). Entries whose address
// lengths do not fit their TS Type (the codec rejects them) are left out.
std::vector<net::TrafficSelector> from_wire(const corridor::ike::TrafficSelectors& wire);

// Config selectors with `dynamic` replaced by `ike_address`: what
// narrow() needs as `configured` (a responder resolves remote_ts with the
// peer's IKE address and local_ts with its own).
std::vector<net::TrafficSelector> resolve_dynamic(std::span<const net::TrafficSelector> config,
                                                  const net::IpAddress& ike_address);

// Responder narrowing (RFC 7296 §2.9): the non-empty intersections of each
// proposed selector with each configured selector (address range,
// protocol, port range), proposed selectors in the proposer's order and,
// for one proposed selector, configured ones in config order. A result
// contained in another result is dropped (strongSwan does the same), so
// the list has no redundant entries; the union is unchanged. An empty
// result means TS_UNACCEPTABLE.
//
// Use it once for TSi (proposed TSi against our remote_ts) and once for
// TSr (proposed TSr against our local_ts). Configured selectors that are
// still `dynamic` match nothing: resolve them first (resolve_dynamic()).
//
// The first selector of an initiator's TSi/TSr may describe the packet
// that triggered the negotiation (§2.9). narrow() gives it no special
// meaning: it is intersected like the others and, being a single address
// (pair), is usually contained in a wider result and dropped. A caller
// that picks among several configs by the triggering packet must look at
// proposed[0] itself.
std::vector<net::TrafficSelector> narrow(std::span<const net::TrafficSelector> proposed,
                                         std::span<const net::TrafficSelector> configured);

// Initiator check of a response: true if every selector of `response` lies
// within the union of `proposed` (narrowing may only shrink). A response
// selector may be covered by several proposed ones together (10.0.0.0/24
// against 10.0.0.0/25 and 10.0.0.128/25 is fine). On false, `why` (if
// given) names the first selector that is not covered. Dynamic selectors
// on either side cover nothing and are not covered.
bool is_subset(std::span<const net::TrafficSelector> response, std::span<const net::TrafficSelector> proposed,
               std::string* why = nullptr);

// The smallest set of CIDR prefixes exactly covering the selector's
// address range, in ascending order (10.0.0.5-10.0.0.50 gives 10.0.0.5/32,
// 10.0.0.6/31, 10.0.0.8/29, 10.0.0.16/28, 10.0.0.32/28, 10.0.0.48/31,
// 10.0.0.50/32). Protocol and ports are not part of the result: the
// dataplane policy carries them separately. Empty for a dynamic selector
// or a range that runs backwards.
std::vector<net::Prefix> to_prefixes(const net::TrafficSelector& ts);

}  // namespace corridor::control::ike
