"""Static SAs of the benchmark's tunnels and pre-encrypted ESP from them.

For decrypt-only tests TRex sends ESP that a peer would have sent: valid
packets of the DUT's inbound SAs, built here with scapy and replayed as they
are, as CSIT does. The same sequence numbers come round again and again, so
the DUT's inbound SAs run with anti-replay off (`replay_window: 0`, which
RFC 4303 §3.3.3 allows for manually keyed SAs; gateway.py writes them so).

The keys are derived from a seed (HMAC-SHA-256, one key per SA, so no two
salted SAs share a nonce space), and so are the IVs of the pre-encrypted
packets: the same tunables render the same bytes. Anyone with the seed has
the keys, and a DUT restarted with them counts its sequence numbers, and so
its GCM nonces, from 1 again: they are for a benchmark bench, never for
traffic that matters.
"""
import hashlib
import hmac
from dataclasses import dataclass

from . import topology as topo
from .traffic import FCS, Stream

# strongSwan proposal keyword -> (scapy crypt_algo, cipher key bytes incl. salt,
# scapy auth_algo or None, integrity key bytes)
PROPOSALS = {
    'aes128gcm16': ('AES-GCM', 16 + 4, None, 0),
    'aes256gcm16': ('AES-GCM', 32 + 4, None, 0),
    'aes128-sha256': ('AES-CBC', 16, 'SHA2-256-128', 32),
    'aes256-sha256': ('AES-CBC', 32, 'SHA2-256-128', 32),
}


@dataclass
class StaticSa:
    tunnel: int
    direction: str        # the DUT's view: 'out' (it encrypts) or 'in' (it decrypts)
    spi: int
    proposal: str
    key: bytes
    integ_key: bytes
    peers: str = 'many'

    @property
    def peer(self):
        return topo.peer(self.tunnel, self.peers)

    def scapy_sa(self):
        """The SA as the peer would hold it: for 'in', the peer encrypts
        towards the DUT; for 'out', the peer decrypts what the DUT sent."""
        from scapy.layers.inet import IP
        from scapy.layers.ipsec import ESP, SecurityAssociation
        crypt, _, auth, _ = PROPOSALS[self.proposal]
        src, dst = (self.peer, topo.DUT_WAN) if self.direction == 'in' else (topo.DUT_WAN, self.peer)
        return SecurityAssociation(ESP, spi=self.spi, crypt_algo=crypt, crypt_key=self.key,
                                   auth_algo=auth, auth_key=self.integ_key or None,
                                   tunnel_header=IP(src=src, dst=dst))

    def config(self, mirror=False):
        """The DUT's static_sas entry (docs/configuration.md), or with
        `mirror` the same SA as the peer (DUT2 of the 3-node topology)
        holds it: the other direction, the addresses and selectors swapped.
        The DUT's in SAs have anti-replay off (pre-encrypted ESP repeats);
        DUT2 only ever receives live ESP from DUT1, so it keeps the window."""
        local, remote = topo.DUT_WAN, self.peer
        local_ts, remote_ts = [topo.LAN_PREFIX], [topo.remote_subnet(self.tunnel)]
        direction = self.direction
        if mirror:
            local, remote, local_ts, remote_ts = remote, local, remote_ts, local_ts
            direction = 'in' if direction == 'out' else 'out'
        sa = {'spi': '0x%08x' % self.spi, 'direction': direction, 'protocol': 'esp', 'mode': 'tunnel',
              'local': local, 'remote': remote, 'proposal': self.proposal,
              'key': '0x' + self.key.hex(), 'local_ts': local_ts, 'remote_ts': remote_ts}
        if self.integ_key:
            sa['integ_key'] = '0x' + self.integ_key.hex()
        if direction == 'in':
            sa['replay_window'] = 1024 if mirror else 0
        return sa


def _derive(seed, label, length):
    out = b''
    counter = 0
    while len(out) < length:
        counter += 1
        out += hmac.new(seed.encode(), b'%s|%d' % (label.encode(), counter), hashlib.sha256).digest()
    return out[:length]


def static_sas(n_tunnels, proposal='aes128gcm16', seed='corridor-trex', peers='many'):
    """Both SAs of every tunnel, the out SA first."""
    if proposal not in PROPOSALS:
        raise ValueError('proposal must be one of %s, not %r' % (', '.join(PROPOSALS), proposal))
    _, key_len, _, integ_len = PROPOSALS[proposal]
    sas = []
    for t in range(n_tunnels):
        for direction, base in (('out', topo.OUT_SPI_BASE), ('in', topo.IN_SPI_BASE)):
            label = '%s|%s|%d' % (proposal, direction, t)
            sas.append(StaticSa(t, direction, base + t, proposal, _derive(seed, 'key|' + label, key_len),
                                _derive(seed, 'integ|' + label, integ_len) if integ_len else b'', peers))
    return sas


@dataclass
class FixedFrames(Stream):
    """A stream whose packets cannot come from a field engine (each one is
    encrypted on its own): it sends `frames` in turn. stl.py makes one
    STLStream per frame, each with an equal share of the weight."""
    frames: tuple = ()

    @property
    def period(self):
        return len(self.frames)

    def frame(self, i):
        return self.frames[i % len(self.frames)]


def esp_streams(t):
    """ESP from every tunnel's peer to the DUT, one stream per frame size.
    `size` is the size of the clear frame the DUT puts out on the protected
    side after decryption (so 64-byte ESP traffic decrypts into 64-byte
    frames and the loss search compares like with like); the ESP frames on
    the wire are larger by the tunnel's overhead. Flow f of tunnel t is
    f // n_tunnels-th flow of that tunnel: UDP source port 1024 + f."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    inbound = [sa for sa in static_sas(t.n_tunnels, t.proposal, t.seed, t.peers) if sa.direction == 'in']
    engines = [sa.scapy_sa() for sa in inbound]
    streams = []
    for size, weight in t.frame_sizes():
        frames = []
        for f in range(t.n_flows):
            tunnel = f % t.n_tunnels
            inner = IP(src=topo.remote_host(tunnel), dst=topo.LAN_HOST, ttl=64) / \
                UDP(sport=topo.UDP_SPORT_BASE + f, dport=topo.UDP_DPORT, chksum=0)
            # The decrypted frame is 14 (Ethernet) + inner IP bytes + FCS.
            inner = inner / (b'\x00' * (size - FCS - 14 - len(inner)))
            # The IV from the seed, SPI and sequence number: the same
            # tunables render the same bytes, and no IV repeats within an SA.
            seq = f // t.n_tunnels + 1
            engine = engines[tunnel]
            iv = _derive(t.seed, 'iv|%d|%d' % (engine.spi, seq), engine.crypt_algo.iv_size)
            esp = engine.encrypt(inner, seq_num=seq, iv=iv)
            frames.append(bytes(Ether(src=topo.TG_WAN_MAC, dst=topo.DUT_WAN_MAC) / esp))
        streams.append(FixedFrames(name='esp-%d' % size, packet=None, weight=weight, frames=tuple(frames)))
    return streams
