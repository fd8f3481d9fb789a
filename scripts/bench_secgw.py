#!/usr/bin/python3
"""DPDK's ipsec-secgw example on the same pcap-replay harness and the same
traffic as scripts/bench_dataplane.py, for the per-core comparison
(docs/performance.md).

    scripts/bench.sh secgw [--profile udp_64b] [-t n_tunnels=1,n_flows=4]
                           [--seconds 8]

ipsec-secgw is built from the sources in Debian's dpdk-doc package
(/usr/share/dpdk/examples/ipsec-secgw) into build-secgw/, with one change:
its ports ask for RX checksum offload, which net_pcap does not have, so the
copy asks for none (it then drops only frames a NIC marked bad, and none are
marked). Its config comes from the kit's static SAs (the same keys, SPIs,
addresses and selectors as Corridor's), its crypto is the crypto_aesni_gcm
device (IPsec-MB, the library Corridor calls directly) with ipsec-secgw's
default lookaside-none sessions (its cpu-crypto sessions forwarded nothing
on this harness).
One lcore on the machine's last CPU, net_pcap with infinite_rx=1 in,
net_null out, hugepages as bench_dataplane.py has them. The rate is the
output port's frames over the window, from DPDK's telemetry socket
(/ethdev/stats).
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, 'trex'))
from corridor_trex import esp, pcap, traffic  # noqa: E402
from corridor_trex import topology as topo  # noqa: E402
import bench_dataplane  # noqa: E402
import render_pcap  # noqa: E402

SOURCES = '/usr/share/dpdk/examples/ipsec-secgw'
OFFLOAD_LINE = '\t\t.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,\n'


def build(build_dir):
    """The example built from dpdk-doc's sources, RX checksum offload off."""
    binary = os.path.join(build_dir, 'build', 'ipsec-secgw')
    if os.path.exists(binary):
        return binary
    if not os.path.isdir(SOURCES):
        raise RuntimeError('%s is missing: apt-get install dpdk-doc' % SOURCES)
    shutil.rmtree(build_dir, ignore_errors=True)
    shutil.copytree(SOURCES, build_dir)
    main = os.path.join(build_dir, 'ipsec-secgw.c')
    with open(main) as f:
        text = f.read()
    if text.count(OFFLOAD_LINE) != 1:
        raise RuntimeError('%s: the RX offload line to patch is not there (another DPDK version?)' % main)
    with open(main, 'w') as f:
        f.write(text.replace(OFFLOAD_LINE, '\t\t.offloads = 0,  /* Corridor bench: net_pcap has none */\n'))
    r = subprocess.run(['make', '-C', build_dir, '-j2'], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError('building ipsec-secgw failed:\n' + r.stdout[-2000:] + r.stderr[-2000:])
    return binary


def colon_hex(data):
    return ':'.join('%02x' % b for b in data)


def secgw_config(t):
    """ipsec-secgw's SP, SA and RT rules for the kit's tunnels."""
    algo = {'aes128gcm16': 'aes-128-gcm', 'aes256gcm16': 'aes-256-gcm'}.get(t.proposal)
    if algo is None:
        raise ValueError('the comparison runs AES-GCM proposals (aes128gcm16, aes256gcm16), not %s' % t.proposal)
    lines = []
    for sa in esp.static_sas(t.n_tunnels, t.proposal, t.seed, t.peers):
        if sa.direction == 'out':
            lines.append('sp ipv4 out esp protect %d pri 1 dst %s sport 0:65535 dport 0:65535'
                         % (sa.spi, topo.remote_subnet(sa.tunnel)))
            src, dst = topo.DUT_WAN, sa.peer
        else:
            # The source selects the tunnel: ipsec-secgw checks a decrypted
            # packet against the policy of its own SA.
            lines.append('sp ipv4 in esp protect %d pri 1 src %s dst %s sport 0:65535 dport 0:65535'
                         % (sa.spi, topo.remote_subnet(sa.tunnel), topo.LAN_PREFIX))
            src, dst = sa.peer, topo.DUT_WAN
        lines.append('sa %s %d aead_algo %s aead_key %s mode ipv4-tunnel src %s dst %s'
                     % (sa.direction, sa.spi, algo, colon_hex(sa.key), src, dst))
    lines.append('rt ipv4 dst %s port 1' % topo.PEERS_PREFIX)
    lines.append('rt ipv4 dst %s/32 port 1' % topo.TG_WAN)
    lines.append('rt ipv4 dst %s port 0' % topo.LAN_PREFIX)
    return '\n'.join(lines) + '\n'


def telemetry(path, command):
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(path)
        s.recv(1024 * 16)                  # the greeting
        s.send(command.encode())
        return json.loads(s.recv(1024 * 64).decode())


def port_frames(path, port, counter):
    return telemetry(path, '/ethdev/stats,%d' % port)['/ethdev/stats'][counter]


def run(args):
    binary = build(args.secgw_build)
    profile = render_pcap.load_profile(args.profile)
    decrypt = profile.kind == 'esp'
    frames, t = render_pcap.render(profile, 1 if decrypt else 0, render_pcap.parse_assignments(args.tunable),
                                   args.packets, args.max_packets)
    wd = tempfile.mkdtemp(prefix='corridor-bench-secgw-')
    tag = 'corridor-secgw-%d' % os.getpid()
    lcore = (os.cpu_count() or 1) - 1
    try:
        traffic_pcap, config = os.path.join(wd, 'traffic.pcap'), os.path.join(wd, 'ep.cfg')
        pcap.write(traffic_pcap, frames)
        with open(config, 'w') as f:
            f.write(secgw_config(t))
        source = 'rx_pcap=%s,infinite_rx=1' % traffic_pcap
        # Port 0 is the protected side, port 1 the unprotected one (-u 0x2).
        vdevs = (['net_null0,no-rx=1', 'net_pcap0,' + source] if decrypt else
                 ['net_pcap0,' + source, 'net_null0,no-rx=1'])
        memory = ['--no-huge', '-m', '1024'] if args.no_huge or not bench_dataplane.hugepages_free() else \
            ['-m', '512', '--huge-unlink']
        cmd = [binary, '-l', str(lcore), '-n', '1', '--no-pci', '--file-prefix', tag, '--log-level', 'error'] + \
            memory + ['--vdev', vdevs[0], '--vdev', vdevs[1], '--vdev', 'crypto_aesni_gcm0', '--',
                      '-p', '0x3', '-P', '-u', '0x2', '--config', '(0,0,%d),(1,0,%d)' % (lcore, lcore), '-f', config,
                      # 1518-byte frames plus ESP, in one 2 KB mbuf as Corridor has them; the
                      # default 1500 drops them (as unfragmentable) and would flatter IMIX.
                      '--mtu', '2000']
        sizes = '/'.join(str(s) for s in sorted({len(f) + traffic.FCS for f in frames}))
        print('== ipsec-secgw %s (%s): %d frames of %s bytes in the pcap, %d tunnels, %d flows, %s, %d s' % (
            args.profile, 'decrypt' if decrypt else 'encrypt', len(frames), sizes, t.n_tunnels,
            t.n_flows, t.proposal, args.seconds))
        socket_path = '/var/run/dpdk/%s/dpdk_telemetry.v2' % tag
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        out_port = 0 if decrypt else 1
        try:
            deadline = time.time() + 60
            while True:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError('ipsec-secgw did not come up:\n' + (proc.communicate()[1] or '')[-3000:])
                try:
                    port_frames(socket_path, out_port, 'opackets')
                    break
                except (OSError, KeyError, ValueError):
                    time.sleep(0.2)
            time.sleep(args.warmup)
            first_in = port_frames(socket_path, 1 - out_port, 'ipackets')
            first, start = port_frames(socket_path, out_port, 'opackets'), time.monotonic()
            time.sleep(args.seconds)
            last, end = port_frames(socket_path, out_port, 'opackets'), time.monotonic()
            last_in = port_frames(socket_path, 1 - out_port, 'ipackets')
            if proc.poll() is not None:
                raise RuntimeError('ipsec-secgw exited during the run:\n' + proc.communicate()[1][-3000:])
        finally:
            if proc.poll() is None:
                proc.terminate()
            proc.communicate(timeout=60)
        mean = t.mean_frame()
        pps = (last - first) / (end - start)
        received, sent = last_in - first_in, last - first
        print('   %.3f Mpps, %.2f Gbit/s of %s frames (L1, mean %.0f bytes); window: %d frames in, %d out' % (
            pps / 1e6, pps * (mean + 20) * 8 / 1e9, 'decrypted' if decrypt else 'clear', mean, received, sent))
        # The four counters are read one telemetry call apart (a millisecond
        # is 10,000 frames here) and the crypto queue holds thousands in
        # flight: more than 0.5 % short is loss.
        if received - sent > 0.005 * received or sent <= 0:
            print('   ipsec-secgw dropped %d frames: the figure is not comparable' % (received - sent))
            return 1
        return 0
    finally:
        subprocess.run(['rm', '-rf', '/var/run/dpdk/' + tag], check=False)
        shutil.rmtree(wd, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    bench_dataplane.add_harness_arguments(parser, profile='udp_64b')
    parser.add_argument('--secgw-build', default=os.path.join(ROOT, 'build-secgw'),
                        help='where ipsec-secgw is built (default build-secgw/)')
    parser.set_defaults(seconds=8)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (RuntimeError, ValueError) as e:
        print('bench_secgw: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
