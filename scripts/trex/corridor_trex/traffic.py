"""The benchmark's traffic, described once.

A profile is a list of Streams. A Stream is a base packet, a relative rate
(its weight: packets per second at multiplier 1) and the flow variables that
TRex's field engine writes into each packet it sends. stl.py turns a Stream
into an STLStream; render() plays the same field engine into a packet list
for the pcap-replay benchmark, so both send the same packets.

Sizes are Ethernet frame sizes with the 4-byte FCS, as RFC 2544, CSIT and
TRex count them: a 64-byte frame is 60 bytes in a pcap.
"""
import argparse
import ipaddress
import math
from dataclasses import dataclass, field

from . import topology as topo

FCS = 4
MIN_FRAME = 64
MAX_FRAME = 9018

# CSIT's IMIX_v4_1: 28 frames of 64 bytes, 16 of 570, 4 of 1518 (per 48).
IMIX = ((64, 28), (570, 16), (1518, 4))


@dataclass
class FlowVar:
    """One TRex flow variable, op "inc", written big-endian at `offset` (a
    scapy field path, "IP.dst"). TRex steps it modulo its range
    (max - min + 1): after max comes min + (step - (max - current) - 1), so
    the values are min + (i * step mod range). Give a range that is a
    multiple of the step to get min, min + step, ..., then min again."""
    name: str
    offset: str
    min_value: int
    max_value: int
    step: int = 1
    size: int = 4

    @property
    def range(self):
        return self.max_value - self.min_value + 1

    @property
    def count(self):
        """Distinct values before the sequence repeats."""
        return self.range // math.gcd(self.step, self.range)

    def value(self, i):
        """The value in the i-th packet (0-based) of the stream."""
        return self.min_value + (i * self.step) % self.range


@dataclass
class Stream:
    name: str
    packet: object            # scapy packet, without the FCS
    weight: int               # relative packets per second
    flow_vars: list = field(default_factory=list)
    fix_ipv4_checksum: bool = False

    @property
    def period(self):
        """Packets after which the field engine repeats itself."""
        return math.lcm(*[v.count for v in self.flow_vars]) if self.flow_vars else 1

    def frame(self, i):
        """The i-th frame this stream sends, as bytes (no FCS)."""
        if not self.flow_vars:
            return bytes(self.packet)
        p = self.packet.copy()
        for v in self.flow_vars:
            layer, _, name = v.offset.partition('.')
            value = v.value(i)
            if layer == 'IP' and name in ('src', 'dst'):
                value = str(ipaddress.IPv4Address(value))
            setattr(p[layer], name, value)
        if self.fix_ipv4_checksum:
            del p['IP'].chksum
        return bytes(p)


# --- Tunables -------------------------------------------------------------

@dataclass
class Tunables:
    size: str = '64'          # frame size in bytes with FCS, or "imix"
    n_tunnels: int = 1
    n_flows: int = 0          # 0: one flow per tunnel
    direction: int = 0        # 0: from TRex port 0 (protected side), 1: from port 1
    seed: str = 'corridor-trex'   # the static SAs' keys are derived from it (esp.py)
    proposal: str = 'aes128gcm16'  # the static SAs' algorithms (esp.PROPOSALS)
    peers: str = 'many'       # one peer per tunnel, or 'one' for all (topology.py)

    def frame_sizes(self):
        """[(frame size, weight)]."""
        if str(self.size).lower() == 'imix':
            return list(IMIX)
        return [(int(self.size), 1)]

    def mean_frame(self):
        """The mean clear frame size with FCS, as the streams' rates weigh them."""
        sizes = self.frame_sizes()
        return sum(size * weight for size, weight in sizes) / sum(weight for _, weight in sizes)

    def check(self):
        sizes = self.frame_sizes() if _is_size(self.size) else None
        if sizes is None:
            raise ValueError('size must be a frame size in bytes (%d-%d) or "imix", not %r'
                             % (MIN_FRAME, MAX_FRAME, self.size))
        if not 1 <= self.n_tunnels <= topo.MAX_TUNNELS:
            raise ValueError('n_tunnels must be 1-%d, not %d' % (topo.MAX_TUNNELS, self.n_tunnels))
        if self.n_flows == 0:
            self.n_flows = self.n_tunnels
        # Tunnel and flow variables step together, one per packet: with
        # n_flows a multiple of n_tunnels the pair repeats after n_flows
        # packets, so there are exactly n_flows flows, n_flows / n_tunnels per tunnel.
        if self.n_flows < self.n_tunnels or self.n_flows % self.n_tunnels:
            raise ValueError('n_flows (%d) must be a multiple of n_tunnels (%d)' % (self.n_flows, self.n_tunnels))
        if self.n_flows > 65535 - topo.UDP_SPORT_BASE:
            raise ValueError('n_flows must be at most %d' % (65535 - topo.UDP_SPORT_BASE))
        from .esp import PROPOSALS
        if self.proposal not in PROPOSALS:
            raise ValueError('proposal must be one of %s, not %r' % (', '.join(PROPOSALS), self.proposal))
        if self.peers not in ('many', 'one'):
            raise ValueError('peers must be many or one, not %r' % self.peers)
        if self.direction not in (0, 1):
            raise ValueError('direction must be 0 or 1, not %r' % self.direction)
        return self


def _is_size(size):
    if str(size).lower() == 'imix':
        return True
    try:
        return MIN_FRAME <= int(size) <= MAX_FRAME
    except ValueError:
        return False


STRING_TUNABLES = ('size', 'seed', 'proposal', 'peers')
INT_TUNABLES = ('n_tunnels', 'n_flows')


def parse_tunables(defaults, direction=0, tunables=None, **kwargs):
    """Tunables from either way TRex passes them: as keyword arguments
    (`start -f profile.py -t size=64,n_tunnels=4`, TRex before v2.89) or as
    an argv-style list (`-t --size 64 --n_tunnels 4`, v2.89 and later)."""
    t = Tunables(**defaults)
    t.direction = int(direction)
    if tunables:
        parser = argparse.ArgumentParser(prog='corridor profile', add_help=False)
        for name in STRING_TUNABLES + INT_TUNABLES:
            parser.add_argument('--' + name)
        args = parser.parse_args(list(tunables))
        kwargs.update({k: v for k, v in vars(args).items() if v is not None})
    for name, value in kwargs.items():
        if name == 'port_id':        # TRex passes it too; the direction says enough
            continue
        if name not in STRING_TUNABLES + INT_TUNABLES:
            raise ValueError('unknown tunable %r (%s)' % (name, ', '.join(STRING_TUNABLES + INT_TUNABLES)))
        setattr(t, name, str(value) if name in STRING_TUNABLES else int(value))
    return t.check()


# --- Clear UDP on the protected side -------------------------------------

def clear_streams(t):
    """UDP from the LAN host to the tunnels' remote hosts (direction 0, into
    the DUT's protected port), or back from them (direction 1: in the 3-node
    topology, into DUT2's protected port). The tunnel variable walks the destination (source for
    direction 1) over the tunnels' /24s; the flow variable walks the source
    port. UDP checksum 0 (allowed for IPv4, RFC 768) so that the field engine
    need not fix it."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    streams = []
    for size, weight in t.frame_sizes():
        if t.direction == 0:
            eth = Ether(src=topo.TG_LAN_MAC, dst=topo.DUT_LAN_MAC)
            ip = IP(src=topo.LAN_HOST, dst=topo.remote_host(0), ttl=64)
            moving = 'IP.dst'
        else:
            eth = Ether(src=topo.TG2_LAN_MAC, dst=topo.DUT2_LAN_MAC)
            ip = IP(src=topo.remote_host(0), dst=topo.LAN_HOST, ttl=64)
            moving = 'IP.src'
        base = eth / ip / UDP(sport=topo.UDP_SPORT_BASE, dport=topo.UDP_DPORT, chksum=0)
        packet = base / (b'\x00' * (size - FCS - len(base)))
        first = topo.ip_int(topo.remote_host(0))
        streams.append(Stream(
            name='udp-%d' % size, packet=packet, weight=weight, fix_ipv4_checksum=True,
            # The range is n_tunnels * 256 (to the last tunnel's .255): a
            # multiple of the step, so TRex wraps to the first tunnel exactly.
            flow_vars=[FlowVar('tunnel', moving, first, first + t.n_tunnels * 256 - 1, step=256, size=4),
                       FlowVar('flow', 'UDP.sport', topo.UDP_SPORT_BASE,
                               topo.UDP_SPORT_BASE + t.n_flows - 1, size=2)]))
    return streams


# --- Rendering (what the built-in benchmark replays) ---------------------

def schedule(streams, cycles):
    """Indices into `streams` in the order a smooth weighted round robin
    sends them: over one cycle of sum(weights) packets each stream sends
    `weight` of them, spread out rather than in runs (IMIX is a mix on the
    wire, not 28 small frames followed by 16 medium ones)."""
    total = sum(s.weight for s in streams)
    current = [0] * len(streams)
    order = []
    for _ in range(total * cycles):
        for i, s in enumerate(streams):
            current[i] += s.weight
        best = max(range(len(streams)), key=lambda i: current[i])
        current[best] -= total
        order.append(best)
    return order


def render(streams, min_packets=0, max_packets=None):
    """The frames of a whole number of weighted-round-robin cycles: enough
    that every stream runs through its field-engine period at least once,
    and at least `min_packets` frames; but no more than `max_packets` (then
    the streams with the smallest weights cover only part of their period:
    with IMIX and 4,000 flows, not every flow gets a 1518-byte frame)."""
    total = sum(s.weight for s in streams)
    cycles = max(max(math.ceil(s.period / s.weight) for s in streams), math.ceil(min_packets / total), 1)
    if max_packets:
        cycles = max(1, min(cycles, max_packets // total))
    sent = [0] * len(streams)
    frames = []
    for i in schedule(streams, cycles):
        frames.append(streams[i].frame(sent[i]))
        sent[i] += 1
    return frames
