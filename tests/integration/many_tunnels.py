#!/usr/bin/python3
"""Many tunnels: 1,000 Child SAs between two Corridor appliances, set up and carrying traffic.

    /usr/bin/python3 tests/integration/many_tunnels.py BUILD_DIR [--connections N] [--children N]

    host A                 Corridor gateway A          Corridor gateway B             host B
    10.1.0.10, 10.3.j.m ==== lan [dataplane] wan ==== wan [dataplane] lan ==== 10.2.0.10, 10.4.j.m

Gateway A has --connections IKEv2 connections to gateway B (default 4), each
with its own identities and --children Child SAs (default 250): Child SA
number m of connection j protects 10.3.j.m/32 === 10.4.j.m/32, addresses of
the hosts behind the gateways (routed there by each dataplane's LAN route).
Every child has start_action=start, so corridor-control brings up one IKE SA
per connection (IKE_SA_INIT, IKE_AUTH with the first child) and the others
by CREATE_CHILD_SA over it.

Measured and printed: the set-up time, from the start of gateway A (its
dataplane, then corridor-control) until both gateways hold every Child SA
and both dataplanes every SA; the memory (VmRSS, and its peak VmHWM) of the
four processes with every SA up and after the traffic, and of gateway B's
two processes before any SA (the baseline; the dataplane's includes the
256 MB of memory EAL is given, as it touches it). Checked: every Child SA is up on both sides with matching
SPIs, each dataplane holds two SAs per child, a ping from each 10.3.j.m to
its 10.4.j.m crosses its own Child SA (every inbound and outbound SA on both
dataplanes counted packets), and both gateways stop cleanly, gateway B
removing everything on A's Deletes. Needs root.
"""

import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'interop', 'strongswan'))
import strongswan as sw  # noqa: E402
from appliance import Appliance  # noqa: E402
from report import check, failures, passes  # noqa: E402

PSK = 'a pre-shared key for a thousand tunnels'
PROPOSAL, ESP = 'aes128gcm16-prfsha256-ecp256', 'aes128gcm16'


def option(name, default):
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def pairs(connections, children):
    """(connection index, child index, address at A, address at B) of every Child SA."""
    return [(j, m, '10.3.%d.%d' % (j, m), '10.4.%d.%d' % (j, m))
            for j in range(connections) for m in range(1, children + 1)]


def connections_of(n_conn, n_child):
    conns_a, conns_b, psks = [], [], []
    for j in range(n_conn):
        id_a, id_b = 'gw-a-%d.corridor.test' % j, 'gw-b-%d.corridor.test' % j
        children = [sw.Child('net-%d' % m, ['10.3.%d.%d/32' % (j, m)], ['10.4.%d.%d/32' % (j, m)],
                             esp_proposals=[ESP], start_action='start') for m in range(1, n_child + 1)]
        conn = sw.Connection('site-b-%d' % j, ['192.0.2.1'], ['192.0.2.2'], children, proposals=[PROPOSAL],
                             local=sw.Auth('psk', id_a), remote=sw.Auth('psk', id_b))
        mirror = conn.mirror(['192.0.2.2'], ['192.0.2.1'], name='site-a-%d' % j)
        for c in mirror.children:
            c.start_action = 'none'
        conns_a.append(conn)
        conns_b.append(mirror)
        psks.append(sw.Psk(PSK, [id_a, id_b]))
    return conns_a, conns_b, psks


def memory(gw):
    """{process: (VmRSS kB, VmHWM kB)} of a gateway's two processes."""
    out = {}
    for name, proc in (('control', gw.control), ('dataplane', gw.dataplane)):
        fields = {}
        with open('/proc/%d/status' % proc.pid) as f:
            for line in f:
                key, _, value = line.partition(':')
                if key in ('VmRSS', 'VmHWM'):
                    fields[key] = int(value.split()[0])
        out[name] = (fields.get('VmRSS', 0), fields.get('VmHWM', 0))
    return out


def installed_children(gw):
    return [c for sa in gw.ike_sas() if sa['state'] == 'ESTABLISHED' for c in sa['children']
            if c['state'] == 'INSTALLED']


def add_addresses(topo, ns, addresses):
    """/32 addresses on the namespace's loopback, in one `ip -batch`."""
    batch = ''.join('address add %s/32 dev lo\n' % a for a in addresses)
    r = subprocess.run(['ip', 'netns', 'exec', ns, 'ip', '-batch', '-'], input=batch, text=True,
                       capture_output=True)
    if r.returncode != 0:
        raise sw.HarnessError('adding %d addresses in %s: %s' % (len(addresses), ns, r.stderr[-300:]))


# Runs in host A: one ping per pair (source address -I), 16 at a time; prints
# the pairs that got no answer.
PINGER = r'''
import subprocess, sys
from concurrent.futures import ThreadPoolExecutor
pairs = [line.split() for line in sys.stdin.read().splitlines()]
def one(p):
    src, dst = p
    r = subprocess.run(['ping', '-c', '2', '-i', '0.2', '-W', '2', '-I', src, dst], capture_output=True)
    return None if r.returncode == 0 else src + '>' + dst
with ThreadPoolExecutor(16) as pool:
    missing = [m for m in pool.map(one, pairs) if m]
print(len(missing), ' '.join(missing[:20]))
'''


def run(build, n_conn, n_child):
    wd = sw.workdir()
    gw_a = gw_b = None
    total = n_conn * n_child
    try:
        with sw.Topology(prefix='corM%04d' % (os.getpid() % 10000)) as topo:
            host_a, ns_a, ns_b, host_b = (topo.add_ns(n) for n in ('hostA', 'gwA', 'gwB', 'hostB'))
            topo.link(host_a, 'eth0', ns_a, 'lan', ['10.1.0.10/24'], [])
            topo.link(ns_a, 'wan', ns_b, 'wan', [], [])
            topo.link(ns_b, 'lan', host_b, 'eth0', [], ['10.2.0.10/24'])
            topo.route(host_a, 'default', via='10.1.0.1')
            topo.route(host_b, 'default', via='10.2.0.1')
            everything = pairs(n_conn, n_child)
            add_addresses(topo, host_a, [a for _, _, a, _ in everything])
            add_addresses(topo, host_b, [b for _, _, _, b in everything])
            topo.wait_ready()

            conns_a, conns_b, psks = connections_of(n_conn, n_child)
            gw_b = Appliance(topo, build, ns_b, 'gwB', wd, '10.2.0.1', '192.0.2.2', '24', '192.0.2.1', conns_b, psks,
                             lan_routes=[('10.4.0.0/16', '10.2.0.10')], settings={'logging': {'level': 'info'}})
            baseline = memory(gw_b)  # up, with no SA yet
            started = time.time()
            gw_a = Appliance(topo, build, ns_a, 'gwA', wd, '10.1.0.1', '192.0.2.1', '24', '192.0.2.2', conns_a, psks,
                             lan_routes=[('10.3.0.0/16', '10.1.0.10')], settings={'logging': {'level': 'info'}})

            def all_up():
                return (len(installed_children(gw_a)) == total and len(installed_children(gw_b)) == total and
                        len(gw_a.stats()['sas']) == 2 * total and len(gw_b.stats()['sas']) == 2 * total)
            gw_a.wait_for(all_up, '%d Child SAs on both gateways and in both dataplanes' % total, 240)
            setup = time.time() - started
            check(True, '%d IKE SAs and %d Child SAs up on both gateways, %d SAs in each dataplane, in %.1f s '
                        '(%.1f Child SAs a second)' % (n_conn, total, 2 * total, setup, total / setup))

            ikes_a, ikes_b = gw_a.ike_sas(), gw_b.ike_sas()
            check(len(ikes_a) == n_conn and len(ikes_b) == n_conn and all(s['state'] == 'ESTABLISHED'
                                                                        for s in ikes_a + ikes_b),
                  'one IKE SA per connection on each side (%d and %d)' % (len(ikes_a), len(ikes_b)))
            by_name_b = {(sa['connection'].replace('site-a', 'site-b'), c['name']): c
                         for sa in ikes_b for c in sa['children']}
            mismatched = [(sa['connection'], c['name']) for sa in ikes_a for c in sa['children']
                          if (sa['connection'], c['name']) not in by_name_b or
                          by_name_b[(sa['connection'], c['name'])]['spi_in'] != c['spi_out'] or
                          by_name_b[(sa['connection'], c['name'])]['spi_out'] != c['spi_in']]
            check(not mismatched, 'every Child SA\'s SPIs agree on both sides (%d mismatched%s)' % (
                len(mismatched), (': %s' % mismatched[:5]) if mismatched else ''))
            spis = {c['spi_in'] for c in installed_children(gw_a)}
            check(len(spis) == total, '%d distinct inbound SPIs at gateway A' % len(spis))

            mem_up = {'A': memory(gw_a), 'B': memory(gw_b)}
            # The first packets toward each host wait for ARP in the dataplanes.
            sw.Topology.sh('ping', '-c', '3', '-i', '0.3', '-W', '2', '-I', everything[0][2], everything[0][3],
                           ns=host_a, check=False)
            pinged_at = time.time()
            r = subprocess.run(['ip', 'netns', 'exec', host_a, '/usr/bin/python3', '-c', PINGER],
                               input=''.join('%s %s\n' % (a, b) for _, _, a, b in everything), text=True,
                               capture_output=True, timeout=240)
            missing = int(r.stdout.split()[0]) if r.stdout.split() else total
            check(r.returncode == 0 and missing == 0, 'a ping crossed each of the %d Child SAs, both ways '
                  '(%d without an answer%s; %.1f s)' % (total, missing, (': ' + r.stdout.strip()) if missing else '',
                                                        time.time() - pinged_at))
            time.sleep(1.2)  # the dataplanes' counters are read once a second
            for gw in (gw_a, gw_b):
                idle = [s['spi'] for s in gw.stats()['sas'] if s['packets'] == 0]
                check(not idle, 'every SA in %s\'s dataplane counted packets (%d of %d idle)' % (
                    gw.name, len(idle), 2 * total))
            mem_after = {'A': memory(gw_a), 'B': memory(gw_b)}
            for proc in ('control', 'dataplane'):
                print('memory: an idle gateway\'s corridor-%s: %.1f MB resident' % (proc, baseline[proc][0] / 1024))
            for side in ('A', 'B'):
                for proc in ('control', 'dataplane'):
                    rss, _ = mem_up[side][proc]
                    rss2, hwm = mem_after[side][proc]
                    print('memory: gateway %s corridor-%s: %.1f MB resident with %d Child SAs (%.1f MB after the '
                          'traffic, peak %.1f MB)' % (side, proc, rss / 1024, total, rss2 / 1024, hwm / 1024),
                          flush=True)
            print('setup: %d Child SAs over %d IKE SAs in %.1f s' % (total, n_conn, setup), flush=True)

            codes = gw_a.stop()
            check(codes == [0, 0], 'gateway A stops cleanly, deleting its IKE SAs (%s)' % codes)
            deadline = time.time() + 10
            while time.time() < deadline and (gw_b.ike_sas() or gw_b.stats()['sas']):
                time.sleep(0.2)
            check(not gw_b.ike_sas() and not gw_b.stats()['sas'],
                  'gateway B removed every IKE SA, Child SA and dataplane SA on A\'s Deletes')
            codes = gw_b.stop()
            check(codes == [0, 0], 'gateway B stops cleanly (%s)' % codes)
            gw_a = gw_b = None
    except sw.HarnessError as e:
        check(False, str(e))
    finally:
        for gw in (gw_a, gw_b):
            if gw and failures:
                print(gw.log_tail(20))
            if gw:
                gw.stop()
        shutil.rmtree(wd, ignore_errors=True)


def main():
    values = {sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a in ('--connections', '--children')}
    args = [a for a in sys.argv[1:] if not a.startswith('--') and a not in values]
    if not args:
        print(__doc__)
        return 64
    if os.geteuid() != 0:
        print('SKIP: needs root (network namespaces)')
        return 77
    n_conn, n_child = option('--connections', 4), option('--children', 250)
    if not (1 <= n_conn <= 200 and 1 <= n_child <= 250):
        print('--connections 1..200, --children 1..250')
        return 64
    run(args[0], n_conn, n_child)
    print('%d passed, %d failed' % (len(passes), len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
