#!/usr/bin/python3
"""Bad input for a gateway's WAN port, written frame by frame.

The frames a hostile or broken network puts in front of an IPsec gateway:
Ethernet runts, unknown ethertypes, IPv4 headers that do not add up, ARP
from strangers, garbage and malformed IKE on UDP 500 and 4500, ESP with an
unknown SPI, ESP with the tunnel's own SPI but a forged ICV, truncated ESP,
ESP in UDP for a plain-ESP SA, and replays of real ESP packets. Each
builder returns raw Ethernet frames; ike_tunnel.py (--fault bad-input)
sends them at gateway A while a ping crosses the tunnel and checks that each
kind is counted where it should be and that no ping is lost.

Run in a namespace as a helper process (the test runs as root in the
initial namespace and Debian 12's Python has no os.setns):

    ip netns exec NS python3 wan_inject.py send IFACE FILE.pcap GAP_SECONDS
    ip netns exec NS python3 wan_inject.py capture IFACE FILE.pcap COUNT TIMEOUT SRC_IP

`send` writes each frame of the pcap file to IFACE through an AF_PACKET
socket; `capture` keeps the first COUNT ESP frames (plain or in UDP 4500)
from SRC_IP that IFACE receives.
"""

import random
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def mac(text):
    return bytes(int(x, 16) for x in text.split(':'))


def ipv4(src, dst, proto, payload, ihl=5, total=None, ttl=64):
    header = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, total if total is not None else 20 + len(payload),
                         random.randrange(65536), 0, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    header = header[:10] + struct.pack('!H', checksum(header)) + header[12:]
    return header + payload


def udp(sport, dport, payload):
    # Checksum 0: none, which IPv4 allows (RFC 768).
    return struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload


class Wan:
    """Frames from the peer's side of the WAN to the gateway under test."""

    def __init__(self, dst_mac, src_mac, gateway, peer):
        self.dst_mac, self.src_mac, self.gateway, self.peer = mac(dst_mac), mac(src_mac), gateway, peer

    def eth(self, ethertype, payload, dst=None):
        return (dst or self.dst_mac) + self.src_mac + struct.pack('!H', ethertype) + payload

    def ip(self, proto, payload, **kw):
        return self.eth(0x0800, ipv4(self.peer, self.gateway, proto, payload, **kw))

    def udp(self, dport, payload, sport=None):
        return self.ip(17, udp(sport or dport, dport, payload))

    # --- Layer 2 and 3 -------------------------------------------------------

    def link_garbage(self, rng):
        """What the forwarder itself must count: other ethertypes, tagged frames, frames for
        another host, IPv4 headers that do not add up (a runt shorter than an Ethernet
        header cannot be sent through a veth: AF_PACKET refuses it, so the fuzz targets
        cover those)."""
        out = {'unknown_ethertype': [], 'vlan': [], 'other_host': [], 'bad_ip_header': []}
        for _ in range(10):
            out['unknown_ethertype'].append(self.eth(0x88b5, rng.randbytes(46)))
            out['vlan'].append(self.eth(0x8100, struct.pack('!HH', 100, 0x0800) + ipv4(self.peer, self.gateway, 17,
                                                                                        udp(500, 500, b'x' * 20))))
            out['other_host'].append(self.eth(0x0800, ipv4(self.peer, self.gateway, 17, udp(9, 9, b'x' * 20)),
                                              dst=b'\x02\x00\x00\xde\xad\x01'))
        # An Ethernet header and nothing after it, IHL under 5, a header longer
        # than the packet, a total length under the header's or past the
        # frame's end.
        out['bad_ip_header'] += [self.eth(0x0800, b'') for _ in range(2)]
        for ihl, total in ((4, None), (15, None), (5, 10), (5, 1400)):
            for _ in range(2):
                out['bad_ip_header'].append(self.ip(17, udp(500, 500, rng.randbytes(12)), ihl=ihl, total=total))
        return out

    def arp_truncated(self, count):
        """ARP frames cut short inside the ARP header."""
        return [self.eth(0x0806, struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1)) for _ in range(count)]

    def arp_from_strangers(self, count):
        """ARP requests for the gateway's address from addresses no one configured (never the peer's)."""
        frames = []
        for i in range(count):
            sender_mac = bytes([0x02, 0, 0, 0xaa, i >> 8 & 0xff, i & 0xff])
            sender_ip = '192.0.2.%d' % (100 + i % 100)
            arp = struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, sender_mac, socket.inet_aton(sender_ip),
                              b'\0' * 6, socket.inet_aton(self.gateway))
            frames.append(b'\xff' * 6 + sender_mac + b'\x08\x06' + arp)
        return frames

    # --- IKE -------------------------------------------------------------------

    def ike_garbage(self, rng, spi_i, spi_r):
        """Datagrams for corridor-control's sockets: random bytes, IKEv2 headers whose lengths
        lie, an IKE_SA_INIT whose payload chain runs past the end or carries an unknown
        critical payload, protected messages for the running IKE SA with a forged SK payload,
        an IKEv1 header with nothing valid behind it, and the same on UDP 4500 behind the
        non-ESP marker."""
        frames = []
        for _ in range(20):
            frames.append(self.udp(500, rng.randbytes(rng.randrange(0, 120))))
        zero = b'\0' * 8

        def header(ispi, rspi, next_payload, exchange, flags, message_id, length, version=0x20):
            return ispi + rspi + struct.pack('!BBBBII', next_payload, version, exchange, flags, message_id, length)
        messages = [
            header(rng.randbytes(8), zero, 33, 34, 0x08, 0, 1000) + rng.randbytes(12),   # length past the end
            header(rng.randbytes(8), zero, 33, 34, 0x08, 0, 20),                         # length under the header
            # IKE_SA_INIT whose SA payload claims 400 bytes of the 8 there are
            header(rng.randbytes(8), zero, 33, 34, 0x08, 0, 36) + struct.pack('!BBH', 0, 0, 400) + b'\0' * 4,
            # IKE_SA_INIT with only an unknown critical payload (type 200)
            header(rng.randbytes(8), zero, 200, 34, 0x08, 0, 36) + struct.pack('!BBH', 0, 0x80, 8) + b'\0' * 4,
            header(rng.randbytes(8), zero, 33, 34, 0x08, 0, 28, version=0x30),            # major version 3
            header(rng.randbytes(8), zero, 1, 2, 0, 0, 28, version=0x10),                  # IKEv1 Main Mode, empty
        ]
        # INFORMATIONAL requests on the running IKE SA (we play the peer, the
        # original initiator's responder): forged SK payloads, in and out of
        # the message ID window.
        for message_id in (1, 2, 3, 1000, 0xffffffff):
            sk = rng.randbytes(64)
            body = struct.pack('!BBH', 0, 0, 4 + len(sk)) + sk
            messages.append(header(spi_i, spi_r, 46, 37, 0x00, message_id, 28 + len(body)) + body)
        for m in messages:
            frames.append(self.udp(500, m))
            frames.append(self.udp(4500, b'\0\0\0\0' + m))
        for _ in range(20):
            frames.append(self.udp(4500, b'\0\0\0\0' + rng.randbytes(rng.randrange(0, 120))))
        return frames

    # --- ESP -------------------------------------------------------------------

    def esp_unknown_spi(self, rng, count, known):
        frames = []
        for i in range(count):
            spi = rng.randrange(256, 1 << 32)
            while spi in known:
                spi = rng.randrange(256, 1 << 32)
            frames.append(self.ip(50, struct.pack('!II', spi, 1 + i) + rng.randbytes(64)))
        return frames

    def esp_forged(self, rng, spi, count, first_sequence):
        """The tunnel's own SPI, sequence numbers ahead of the traffic, random ciphertext and ICV:
        the ICV check must fail before the anti-replay window moves (RFC 4303 §3.4.3), or the
        real packets behind them would be dropped as too old."""
        return [self.ip(50, struct.pack('!II', spi, first_sequence + i) + rng.randbytes(80)) for i in range(count)]

    def esp_truncated(self, spi, count):
        return [self.ip(50, struct.pack('!II', spi, 5)[:n]) for n in (0, 4, 7, 8) for _ in range(count)]

    def esp_in_udp_for_plain_sa(self, rng, spi, count):
        return [self.udp(4500, struct.pack('!II', spi, 7 + i) + rng.randbytes(64)) for i in range(count)]


def write_pcap(path, frames):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        now = time.time()
        for frame in frames:
            f.write(struct.pack('<IIII', int(now), int(now % 1 * 1e6), len(frame), len(frame)) + frame)


def read_pcap_frames(path):
    with open(path, 'rb') as f:
        data = f.read()
    frames, at = [], 24
    while at + 16 <= len(data):
        incl = struct.unpack('<I', data[at + 8:at + 12])[0]
        frames.append(data[at + 16:at + 16 + incl])
        at += 16 + incl
    return frames


def send(iface, path, gap):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    sent = 0
    for frame in read_pcap_frames(path):
        s.send(frame)
        sent += 1
        if gap:
            time.sleep(gap)
    print('sent %d frames on %s' % (sent, iface))


def capture(iface, path, count, timeout, source):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.settimeout(0.2)
    print('listening on %s' % iface, flush=True)
    src = socket.inet_aton(source)
    kept, deadline = [], time.time() + timeout
    while len(kept) < count and time.time() < deadline:
        try:
            frame, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING or len(frame) < 34 or frame[12:14] != b'\x08\x00' or frame[26:30] != src:
            continue
        ihl = (frame[14] & 0x0f) * 4
        proto, l4 = frame[23], 14 + ihl
        udp_esp = proto == 17 and frame[l4 + 2:l4 + 4] == b'\x11\x94' and frame[l4 + 8:l4 + 12] != b'\0\0\0\0'
        if proto == 50 or udp_esp:
            kept.append(frame)
    write_pcap(path, kept)
    print('captured %d ESP frames from %s on %s' % (len(kept), source, iface))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == 'send':
        send(sys.argv[2], sys.argv[3], float(sys.argv[4]))
        return 0
    if len(sys.argv) == 7 and sys.argv[1] == 'capture':
        capture(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), sys.argv[6])
        return 0
    print(__doc__)
    return 64


if __name__ == '__main__':
    sys.exit(main())
