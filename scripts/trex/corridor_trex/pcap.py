"""Classic pcap files (the format net_pcap replays), Ethernet link type."""
import struct
import time

_MAGIC = 0xa1b2c3d4
_MAGIC_NS = 0xa1b23c4d   # nanosecond timestamps, as DPDK's net_pcap writes
_LINKTYPE_ETHERNET = 1


def write(path, frames, snaplen=65535):
    """Write frames (bytes, no FCS), one microsecond apart."""
    start = int(time.time())
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', _MAGIC, 2, 4, 0, 0, snaplen, _LINKTYPE_ETHERNET))
        for i, frame in enumerate(frames):
            f.write(struct.pack('<IIII', start + i // 1000000, i % 1000000, len(frame), len(frame)))
            f.write(frame)


def read(path):
    """The frames of a little-endian pcap (micro- or nanosecond) as bytes."""
    frames = []
    with open(path, 'rb') as f:
        header = f.read(24)
        magic, _, _, _, _, _, linktype = struct.unpack('<IHHiIII', header)
        if magic not in (_MAGIC, _MAGIC_NS) or linktype != _LINKTYPE_ETHERNET:
            raise ValueError('%s: not a little-endian Ethernet pcap' % path)
        while True:
            record = f.read(16)
            if len(record) < 16:
                break
            _, _, caplen, _ = struct.unpack('<IIII', record)
            frames.append(f.read(caplen))
    return frames
