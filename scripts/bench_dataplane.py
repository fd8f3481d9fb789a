#!/usr/bin/python3
"""corridor-dataplane's forwarding rate on pcap replay, with the traffic of
the TRex kit's profiles (scripts/trex/).

    scripts/bench.sh dataplane [--profile udp_imix] [-t n_tunnels=4,n_flows=16]
                               [--seconds 10] [--no-huge] [--check]

The profile is rendered into a pcap (scripts/trex/render_pcap.py: the same
packets TRex would send), and the Corridor config that matches it gives
every tunnel its static SAs. corridor-dataplane then runs with the pcap on
its input port (net_pcap, `infinite_rx=1`: the frames are loaded into mbufs
once and sent round and round at whatever rate the lcore takes them) and a
net_null port that discards what it sends out. A clear profile measures
encryption (in on the protected port, ESP out of the unprotected one); the
ESP profile measures decryption. One lcore, busy polling, forwards and does
the slow work between bursts (corridor-dataplane has no worker lcores yet).

The rate is the packets out (protected_out or decapsulated) over
the measured window, from the dataplane's own counters and clock (SIGUSR1
-> --stats FILE, whose monotonic_ns says when they were read) at its start
and end; it is a per-core figure with no NIC in the way. --check (the test
suite's use) asserts behaviour only: every frame in was forwarded through
its tunnel's SA, nothing was dropped, every tunnel carried traffic. It
never asserts a rate.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'trex'))
from corridor_trex import gateway, pcap, traffic  # noqa: E402
import render_pcap  # noqa: E402


def read_stats(proc, path, timeout=30):
    """Ask for a fresh stats file (SIGUSR1) and return it once it is one
    written after the request: its monotonic_ns (when the counters were
    read, CLOCK_MONOTONIC as time.monotonic_ns()) is later than the moment
    the signal was sent. Files on disk carry times too coarse for that."""
    asked = time.monotonic_ns()
    deadline = time.time() + timeout
    proc.send_signal(signal.SIGUSR1)
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError('corridor-dataplane exited with status %d:\n%s' % (proc.returncode,
                                                                               proc.communicate()[0]))
        try:
            with open(path) as f:
                stats = json.load(f)
            if stats.get('monotonic_ns', 0) > asked:
                return stats
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.01)
    raise RuntimeError('no fresh stats from corridor-dataplane within %d s' % timeout)


def delta(a, b):
    """b - a for every number in two stats trees of the same shape."""
    if isinstance(a, dict):
        return {k: delta(a.get(k, 0), v) for k, v in b.items()}
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return b - a
    return b


def hugepages_free():
    try:
        with open('/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages') as f:
            return int(f.read()) >= 256 and os.path.ismount('/dev/hugepages')
    except OSError:
        return False


def run(args):
    profile = render_pcap.load_profile(args.profile)
    decrypt = profile.kind == 'esp'
    direction = 1 if decrypt else 0
    tunables = render_pcap.parse_assignments(args.tunable)
    frames, t = render_pcap.render(profile, direction, tunables, args.packets, args.max_packets)
    wd = tempfile.mkdtemp(prefix='corridor-bench-dp-')
    tag = 'corridor-bench-%d' % os.getpid()
    try:
        traffic_pcap = os.path.join(wd, 'traffic.pcap')
        pcap.write(traffic_pcap, frames)
        source = ('net_pcap0', 'rx_pcap=%s,infinite_rx=1' % traffic_pcap)
        sink = ('net_null0', 'no-rx=1')
        protected, unprotected = (sink, source) if decrypt else (source, sink)
        # The main lcore forwards (corridor-dataplane has no worker lcores
        # yet): on the last CPU, away from this script and the kernel's
        # housekeeping on CPU 0.
        lcore = (os.cpu_count() or 1) - 1
        cfg = gateway.config(t, gateway.port(protected[0], 'protected', protected[1]),
                             gateway.port(unprotected[0], 'unprotected', unprotected[1]),
                             workers=[], main_lcore=lcore, poll_mode='busy', sa_channel='/' + tag)
        config_path, stats_path = os.path.join(wd, 'config.json'), os.path.join(wd, 'stats.json')
        with open(config_path, 'w') as f:
            json.dump(cfg, f)
        # --huge-unlink: the hugepage files go when the process does, so the next run finds them free.
        memory = ['--no-huge', '-m', '1024'] if args.no_huge or not hugepages_free() else ['-m', '512', '--huge-unlink']
        cmd = [os.path.join(args.build, 'dataplane', 'corridor-dataplane'), '-l', str(lcore),
               '--file-prefix', tag, '--log-level', 'error'] + memory + \
              ['--', '--config', config_path, '--stats', stats_path]
        sizes = '/'.join(str(s) for s in sorted({len(f) + traffic.FCS for f in frames}))
        print('== %s (%s): %d frames of %s bytes in the pcap, %d tunnels, %d flows, %s, %s, %d s' % (
            args.profile, 'decrypt' if decrypt else 'encrypt', len(frames), sizes, t.n_tunnels, t.n_flows,
            t.proposal, 'no hugepages' if '--no-huge' in memory else 'hugepages', args.seconds))
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.time() + 60
            while not os.path.exists(stats_path):
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError('corridor-dataplane did not come up:\n' + (proc.communicate()[0] or ''))
                time.sleep(0.1)
            time.sleep(args.warmup)
            first = read_stats(proc, stats_path)
            last = first
            # The window is timed by the dataplane's own clock: from the
            # first dump's counters to the last's. --every reads them in
            # between too, and --intervals prints each interval's rate.
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                time.sleep(max(0.0, min(args.every or args.seconds, end - time.monotonic())))
                previous, last = last, read_stats(proc, stats_path)
                if args.intervals:
                    done = delta(previous['forwarding'], last['forwarding'])
                    seconds = (last['monotonic_ns'] - previous['monotonic_ns']) / 1e9
                    print('   %5.1f s: %.3f Mpps' % ((last['monotonic_ns'] - first['monotonic_ns']) / 1e9,
                                                    (done['decapsulated'] if decrypt else done['protected_out'])
                                                    / seconds / 1e6))
            elapsed = (last['monotonic_ns'] - first['monotonic_ns']) / 1e9
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            output = proc.communicate(timeout=60)[0]
        if proc.returncode != 0:
            raise RuntimeError('corridor-dataplane exit status %d:\n%s' % (proc.returncode, output))
        return report(args, t, frames, decrypt, first, last, elapsed)
    finally:
        subprocess.run(['rm', '-rf', '/dev/shm/' + tag, '/var/run/dpdk/' + tag], check=False)
        shutil.rmtree(wd, ignore_errors=True)


def report(args, t, frames, decrypt, first, last, elapsed):
    fwd = delta(first['forwarding'], last['forwarding'])
    done = fwd['decapsulated'] if decrypt else fwd['protected_out']
    mean_frame = t.mean_frame()   # of the clear frames, before encryption or after decryption
    pps = done / elapsed
    # Bits on the wire of the frames forwarded as they came in: frame + FCS
    # + preamble and inter-frame gap (20 bytes), as RFC 2544 counts them.
    print('   %.3f Mpps, %.2f Gbit/s of %s frames (L1, mean %.0f bytes); busy %.0f %% of polls, %.1f frames per busy poll' % (
        pps / 1e6, pps * (mean_frame + 20) * 8 / 1e9, 'clear' if not decrypt else 'decrypted', mean_frame,
        100.0 * fwd['busy_polls'] / fwd['polls'] if fwd['polls'] else 0,
        fwd['rx'] / fwd['busy_polls'] if fwd['busy_polls'] else 0))
    drops = {k: v for k, v in fwd['drops'].items() if v}
    sa_drops = {}
    for sa in last['sas']:
        for reason, n in sa['drops'].items():
            sa_drops[reason] = sa_drops.get(reason, 0) + n
    print('   window %.2f s: rx %d, forwarded %d, engine drops %d, forwarding drops %s, SA drops %s' % (
        elapsed, fwd['rx'], done, fwd['engine_drops'], drops or 'none', sa_drops or 'none'))
    if not args.check:
        return 0
    failures = []
    if done <= 0:
        failures.append('nothing was forwarded')
    if drops or fwd['engine_drops'] or sa_drops:
        failures.append('drops: %s, engine %d, SA %s' % (drops, fwd['engine_drops'], sa_drops))
    # Forwarded frames lag received ones by at most the frames in flight in one burst per stage.
    if fwd['rx'] - done > 1024 or done > fwd['rx'] + 1024:
        failures.append('received %d but forwarded %d' % (fwd['rx'], done))
    used = [sa for sa in last['sas'] if sa['direction'] == ('in' if decrypt else 'out')]
    idle = [hex(sa['spi']) for sa in used if sa['packets'] == 0]
    if len(used) != t.n_tunnels or idle:
        failures.append('%d %s SAs for %d tunnels, idle: %s' % (len(used), 'in' if decrypt else 'out',
                                                                  t.n_tunnels, idle))
    for failure in failures:
        print('FAIL: ' + failure)
    if not failures:
        print('ok: every frame forwarded through its tunnel\'s SA, no drops, all %d tunnels used' % t.n_tunnels)
    return 1 if failures else 0


def add_harness_arguments(parser, profile='udp_imix'):
    """The traffic and run options this harness shares with bench_secgw.py."""
    parser.add_argument('--profile', default=profile, help='a scripts/trex/profiles/ short name')
    parser.add_argument('-t', '--tunable', action='append', metavar='NAME=VALUE[,NAME=VALUE]')
    parser.add_argument('--packets', type=int, default=1024, help='at least this many frames in the pcap')
    # net_pcap holds the whole pcap in mbufs of the gateway's pool (corridor-dataplane's: 16,383).
    parser.add_argument('--max-packets', type=int, default=8192, help='at most this many frames in the pcap')
    parser.add_argument('--seconds', type=float, default=10)
    parser.add_argument('--warmup', type=float, default=1)
    parser.add_argument('--no-huge', action='store_true', help='run without hugepages even if some are free')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--build', default='build')
    add_harness_arguments(parser)
    parser.add_argument('--every', type=float, default=0,
                        help='also read the counters every this many seconds (default: only at the start and end)')
    parser.add_argument('--intervals', action='store_true', help='print the rate of every interval')
    parser.add_argument('--check', action='store_true', help='fail unless every frame went through its SA')
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (RuntimeError, ValueError) as e:
        print('bench_dataplane: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
