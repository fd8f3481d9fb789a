#!/usr/bin/python3
"""IKEv2 responder benchmark: corridor-control against stock strongSwan 5.9.8.

    scripts/bench.sh ike [--count N] [--groups ecp256,curve25519,modp2048]
                         [--modes childless,child] [--responders corridor,strongswan]
                         [--idle SECONDS] [--rounds N]

Two network namespaces joined by a veth: `gen` (192.0.2.1) runs
corridor-bench-ike (tests/bench/ike_bench.cc), an IKEv2 initiator on
Corridor's own IKEv2 manager, pinned to CPU 0; `resp` (192.0.2.2) runs the
responder, pinned to CPU 1 (taskset -a: every thread). The generator sends
each IKE SA from its own address of 10.10.0.0/15 (an AnyIP local route in
`gen`; `resp` routes it via 192.0.2.1), so neither responder's per-address
half-open limits (cookies after 3, block after 5) nor INITIAL_CONTACT from a
repeated identity get in the way; at most --window (16) IKE SAs are in
progress, under both responders' global cookie threshold (30). The
responders run with their default thresholds.

For each group, mode and responder: a fresh responder, 100 warm-up IKE SAs,
then --count timed ones, all kept. Figures: IKE SAs per second; responder
CPU per IKE SA (utime+stime of /proc/PID/stat over the timed part, all
threads); RSS growth per IKE SA held; with --idle S, the responder's CPU
while it holds them all and nothing happens.

Both responders: PSK, proposals aes128gcm16-prfsha256-<group>, local and
remote addresses %any, a child with local_ts 10.2.0.0/16, remote_ts 10.128.0.0/16 (the
generator's TSi, the same for every SA),
esp_proposals aes128gcm16. "childless": the generator offers a Child SA with
an ESP proposal (aes256-sha512) neither responder accepts (the manager cannot
start a childless IKE SA), so the responder answers NO_PROPOSAL_CHOSEN and
keeps the IKE SA. Logging: Corridor at "warning" to a file, strongSwan's
filelog at level 0 for every subsystem. strongSwan's settings differ from
its defaults only where the harness sets them (its plugin list with
kernel-libipsec, vici socket, filelog) and in install_routes = no (Corridor's
control plane alone installs nothing in the kernel either).

Needs root, strongSwan (scripts/deps.sh test) and a build holding
control/corridor-control and tests/bench/corridor-bench-ike.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'interop', 'strongswan'))
import strongswan as sw  # noqa: E402

PSK = 'a-long-shared-secret-for-the-bench'
GEN_ADDR, RESP_ADDR = '192.0.2.1', '192.0.2.2'
SOURCES = '10.10.0.0/15'  # 131070 source addresses
GEN_CPU, RESP_CPU = '0', '1'
LABELS = {'ecp256': 'ECP-256', 'curve25519': 'Curve25519', 'modp2048': 'MODP-2048'}


def proposal(group):
    return 'aes128gcm16-prfsha256-' + group


def corridor_config(group, shm, log_path):
    return {
        'connections': {'bench': {
            'version': 2, 'local_addrs': ['%any'], 'remote_addrs': ['%any'],
            'proposals': [proposal(group)], 'dpd_delay': '0s',
            'local': {'auth': 'psk'}, 'remote': {'auth': 'psk'},
            'children': {'c': {'local_ts': ['10.2.0.0/16'], 'remote_ts': ['10.128.0.0/16'],
                               'esp_proposals': ['aes128gcm16']}},
        }},
        'secrets': {'ike-1': {'secret': PSK}},
        'sa_channel': {'name': shm},
        'logging': {'level': 'warning', 'file': log_path},
    }


def pin(pid, cpu):
    subprocess.run(['taskset', '-a', '-p', '-c', cpu, str(pid)], check=True, stdout=subprocess.DEVNULL)


def wait_udp_500(topo, ns, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = topo.sh('ss', '-uln', ns=ns, check=False).stdout
        if ':500 ' in out and ':4500 ' in out:
            return
        time.sleep(0.05)
    raise RuntimeError('responder in %s does not listen on UDP 500/4500' % ns)


class CorridorResponder:
    def __init__(self, topo, ns, binary, workdir, group):
        self.shm = '/cor-bench-ike-%d' % os.getpid()
        self.workdir = workdir
        cfg = os.path.join(workdir, 'corridor-%s.json' % group)
        self.log_path = os.path.join(workdir, 'corridor-%s.log' % group)
        with open(cfg, 'w') as f:
            json.dump(corridor_config(group, self.shm, self.log_path), f, indent=1)
        self.proc = topo.popen(ns, [binary, '--config', cfg], stdout=subprocess.DEVNULL,
                               stderr=open(self.log_path + '.stderr', 'w'))
        wait_udp_500(topo, ns)
        pin(self.proc.pid, RESP_CPU)
        self.pid = self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.unlink('/dev/shm' + self.shm)
        except FileNotFoundError:
            pass


class StrongswanResponder:
    def __init__(self, topo, ns, workdir, group, verbose=False):
        conn = sw.Connection('bench', ['%any'], ['%any'],
                             [sw.Child('c', ['10.2.0.0/16'], ['10.128.0.0/16'], esp_proposals=['aes128gcm16'])],
                             proposals=[proposal(group)], local=sw.Auth('psk'), remote=sw.Auth('psk'))
        levels = None if verbose else {k: 0 for k in ('default', 'ike', 'cfg', 'net', 'enc', 'knl')}
        self.charon = sw.Charon(ns, os.path.join(workdir, 'charon-%s' % group), [conn], [sw.Psk(PSK)],
                                log_levels=levels, charon_settings={'install_routes': False})
        self.charon.start()
        wait_udp_500(topo, ns)
        pin(self.charon.proc.pid, RESP_CPU)
        self.pid = self.charon.proc.pid

    def stop(self):
        self.charon.stop(timeout=30)


def run_one(topo, ns_gen, args, responder_kind, group, child, workdir):
    if responder_kind == 'corridor':
        resp = CorridorResponder(topo, args.ns_resp, args.control, workdir, group)
    else:
        resp = StrongswanResponder(topo, args.ns_resp, workdir, group, args.verbose_logs)
    try:
        time.sleep(0.3)
        cmd = ['ip', 'netns', 'exec', ns_gen, 'taskset', '-c', GEN_CPU, args.gen,
               '--remote', RESP_ADDR, '--sources', SOURCES, '--psk', PSK, '--proposal', proposal(group),
               '--child' if child else '--refused-child', '--count', str(args.count), '--warmup', '100',
               '--window', str(args.window), '--responder-pid', str(resp.pid), '--idle', str(args.idle),
               '--timeout', str(args.timeout)]
        perf = None
        if args.perf:
            # perf record on the responder (call graphs), written next to the logs.
            path = os.path.join(args.perf, 'perf-%s-%s-%s.data' % (responder_kind, group, 'child' if child else 'childless'))
            perf = subprocess.Popen(['perf', 'record', '-q', '-F', '499', '-g', '-o', path, '-p', str(resp.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=args.timeout + args.idle + 120)
        finally:
            if perf:
                perf.send_signal(signal.SIGINT)
                perf.wait(30)
        sys.stdout.write('  ' + '\n  '.join(l for l in r.stdout.splitlines() if not l.startswith('RESULT ')) + '\n')
        sys.stdout.flush()
        result = None
        for line in r.stdout.splitlines():
            if line.startswith('RESULT '):
                result = json.loads(line[7:])
        if result is None:
            raise RuntimeError('corridor-bench-ike failed (%d):\n%s' % (r.returncode, r.stdout))
        return result
    finally:
        resp.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--build', default=os.path.join(ROOT, 'build'))
    p.add_argument('--count', type=int, default=10000)
    p.add_argument('--groups', default='ecp256,curve25519,modp2048')
    p.add_argument('--modes', default='childless,child')
    p.add_argument('--responders', default='corridor,strongswan')
    p.add_argument('--window', type=int, default=16)
    p.add_argument('--idle', type=float, default=0)
    p.add_argument('--rounds', type=int, default=1, help='repeat the whole matrix (noise)')
    p.add_argument('--timeout', type=float, default=900)
    p.add_argument('--keep-logs', action='store_true')
    p.add_argument('--perf', metavar='DIR', help='perf record each responder into DIR (profiling, not timing)')
    p.add_argument('--verbose-logs', action='store_true', help="strongSwan at the harness's log levels (debugging)")
    args = p.parse_args()
    args.control = os.path.join(args.build, 'control', 'corridor-control')
    args.gen = os.path.join(args.build, 'tests', 'bench', 'corridor-bench-ike')
    for b in (args.control, args.gen):
        if not os.access(b, os.X_OK):
            sys.exit('missing %s: build it first (scripts/bench.sh ike does)' % b)
    if os.geteuid() != 0:
        sys.exit('scripts/bench.sh ike needs root (network namespaces)')
    if (os.cpu_count() or 1) < 2:
        sys.exit('needs 2 CPUs: the generator and the responder on one each')

    wd = sw.workdir('cor-bench-ike-')
    results = []
    try:
        with sw.Topology('cor-bike-%d-' % os.getpid()) as topo:
            ns_gen, args.ns_resp = topo.add_ns('gen'), topo.add_ns('resp')
            topo.link(ns_gen, 'wan', args.ns_resp, 'wan', [GEN_ADDR + '/24'], [RESP_ADDR + '/24'])
            topo.sh('ip', 'route', 'add', 'local', SOURCES, 'dev', 'lo', ns=ns_gen)
            topo.route(args.ns_resp, SOURCES, via=GEN_ADDR)
            topo.dummy(args.ns_resp, 'lan', '10.2.0.1/16')  # the protected subnet behind the responder
            for ns in (ns_gen, args.ns_resp):
                topo.sysctl(ns, {'net.core.rmem_default': 4194304, 'net.core.wmem_default': 4194304})
            for rnd in range(args.rounds):
                for group in args.groups.split(','):
                    for mode in args.modes.split(','):
                        for kind in args.responders.split(','):
                            print('== %s %s, %s responder, %d IKE SAs%s' % (
                                LABELS.get(group, group), mode, kind, args.count,
                                ' (round %d)' % (rnd + 1) if args.rounds > 1 else ''), flush=True)
                            res = run_one(topo, ns_gen, args, kind, group, mode == 'child', wd)
                            res.update(group=group, mode=mode, responder=kind, round=rnd + 1)
                            results.append(res)
    finally:
        if args.keep_logs:
            print('logs kept in', wd)
        else:
            shutil.rmtree(wd, ignore_errors=True)

    print('\n%-10s %-9s %-10s %8s %9s %6s %6s %8s %8s' % ('group', 'mode', 'responder', 'SAs/s', 'ms CPU/SA',
                                                          'resp%', 'gen%', 'KB/SA', 'idle%'))
    for r in results:
        print('%-10s %-9s %-10s %8.0f %9.3f %6.0f %6.0f %8.1f %8.1f%s' % (
            LABELS.get(r['group'], r['group']), r['mode'], r['responder'], r['rate'], r['responder_cpu_ms'],
            r['responder_util'] * 100, r['generator_util'] * 100, r['kb_per_sa'], r['idle_util'] * 100,
            '' if r['finished'] and not r['failed'] else '  (%d failed%s)' % (
                r['failed'], '' if r['finished'] else ', timed out')))
    print('\nCorridor / strongSwan (same run):')
    for rnd in range(1, args.rounds + 1):
        for group in args.groups.split(','):
            for mode in args.modes.split(','):
                pick = {r['responder']: r for r in results
                        if r['group'] == group and r['mode'] == mode and r['round'] == rnd}
                if 'corridor' in pick and 'strongswan' in pick:
                    c, s = pick['corridor'], pick['strongswan']
                    print('  %-10s %-9s rate x%.2f, CPU/SA x%.2f, KB/SA x%.2f%s' % (
                        LABELS.get(group, group), mode, c['rate'] / s['rate'],
                        c['responder_cpu_ms'] / s['responder_cpu_ms'] if s['responder_cpu_ms'] else 0,
                        c['kb_per_sa'] / s['kb_per_sa'] if s['kb_per_sa'] else 0,
                        ' (round %d)' % rnd if args.rounds > 1 else ''))
    print('RESULTS ' + json.dumps(results))


if __name__ == '__main__':
    main()
