"""Addresses and MACs of the benchmark topologies, shared by every profile,
the rendered static-SA configs and the built-in benchmark.

2-node (the DUT encrypts towards TRex, or decrypts what TRex sends):

    TRex port 0 ──(protected)── DUT ──(unprotected)── TRex port 1
                   10.0.0.1/16      198.18.0.1/24     198.18.0.2
    LAN host 10.0.0.10                                the tunnels' peers,
                                                      198.19.0.0/16 (peers=many)

3-node (DUT1 encrypts, DUT2 decrypts, and back; tunables peers=one):

    TRex port 0 ── DUT1 ─────(ESP)───── DUT2 ── TRex port 1
       10.0.0.1/16   198.18.0.1/24   198.18.0.2/24   172.16.0.1/24 (172.16.0.2)
    LAN host 10.0.0.10                                remote hosts 10.128.0.0/9

Tunnel t (0-based) protects 10.0.0.0/16 <-> 10.(128 + t // 256).(t % 256).0/24,
at most 32,768 tunnels. Its peer is 198.19.0.0 + t + 1 with peers=many (CSIT's
one peer per tunnel; the peers sit behind TRex port 1, one route and one
neighbor, so the DUT needs no ARP entry per tunnel), or 198.18.0.2 for every
tunnel with peers=one (one peer gateway, a tunnel per subnet pair: what a
second DUT can terminate). 198.18.0.0/15 is the range RFC 2544 §C.2.2 sets
aside for benchmarking.
"""
import ipaddress

MAX_TUNNELS = 32768

LAN_PREFIX = '10.0.0.0/16'
LAN_HOST = '10.0.0.10'       # the clear traffic's source (its flows differ by UDP port)
DUT_LAN = '10.0.0.1'
TG_LAN = '10.0.0.2'
DUT_WAN = '198.18.0.1'
TG_WAN = '198.18.0.2'
PEERS_PREFIX = '198.19.0.0/16'
REMOTE_BASE = '10.128.0.0'   # tunnel t's remote subnet is REMOTE_BASE + t * 256, a /24
REMOTE_HOST = 10             # the host inside each remote subnet the traffic goes to
UDP_DPORT = 9                # discard (RFC 863): nobody answers
UDP_SPORT_BASE = 1024        # flow f leaves from UDP port 1024 + f

# Locally administered MACs; TRex replaces them by its trex_cfg.yaml values
# (src_mac/dest_mac) unless told otherwise, so they matter only in pcaps.
DUT_LAN_MAC = '02:00:00:00:00:01'
TG_LAN_MAC = '02:00:00:00:00:02'
DUT_WAN_MAC = '02:00:00:00:01:01'
TG_WAN_MAC = '02:00:00:00:01:02'     # also DUT2's unprotected port in the 3-node topology

# The 3-node topology's DUT2 protected side.
DUT2_LAN = '172.16.0.1'
TG2_LAN = '172.16.0.2'
DUT2_LAN_MAC = '02:00:00:00:02:01'
TG2_LAN_MAC = '02:00:00:00:02:02'
REMOTE_PREFIX = '10.128.0.0/9'

# The SPIs of tunnel t: the DUT sends with OUT_SPI_BASE + t, receives with IN_SPI_BASE + t.
OUT_SPI_BASE = 0x10000000
IN_SPI_BASE = 0x20000000


def _add(address, n):
    return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address(address)) + n))


def remote_subnet(t):
    """The protected subnet behind tunnel t's peer."""
    return '%s/24' % _add(REMOTE_BASE, t * 256)


def remote_host(t):
    return _add(REMOTE_BASE, t * 256 + REMOTE_HOST)


def peer(t, peers='many'):
    """Tunnel t's peer gateway, the outer address of its ESP."""
    if peers == 'one':
        return TG_WAN
    return _add(PEERS_PREFIX.split('/')[0], t + 1)


def ip_int(address):
    return int(ipaddress.IPv4Address(address))
