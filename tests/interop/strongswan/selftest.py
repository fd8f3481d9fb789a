#!/usr/bin/python3
"""Self-test of the strongSwan interop harness, without Corridor: strongSwan against strongSwan.

    /usr/bin/python3 tests/interop/strongswan/selftest.py [-v] [--keep-logs]

Two charons, A (initiator, namespace 'left') and B (responder, 'right'), each
with a protected subnet on an interface of its own namespace. Per case: both
sides' list_sas() show ESTABLISHED / INSTALLED with the expected algorithms,
the same IKE SPIs, mirrored ESP SPIs (A's spi-in == B's spi-out and back); a
ping between the subnets crosses the tunnel (kernel-libipsec: ESP in
userspace through TUN ipsec0, UDP-encapsulated) and raises the CHILD_SA byte
counters on both sides. Cases:

  ikev2-psk       IKEv2 PSK aes256gcm16-prfsha384-ecp384 / ESP aes256gcm16, IPv4 and IPv6 subnets
  ikev2-psk-nat   the same through a NAT namespace (nftables masquerade, ports -> 40000-40999)
  ikev2-psk-ipv6  the first case with IKE and ESP over IPv6 (2001:db8::1 <-> 2001:db8::2)
  ikev1-main-psk  IKEv1 Main Mode PSK aes256-sha256-modp2048 / ESP aes256gcm16
  ikev1-aggr-psk  IKEv1 Aggressive Mode PSK (the responder's opt-in setting)
  ikev2-ecdsa     IKEv2 with ECDSA P-256 certificates from make_pki()
  ikev2-rsa-frag  IKEv2 with RSA 3072 certificates: IKE_AUTH in RFC 7383 fragments

Every namespace, process and temporary directory is removed at the end, also
on failure, Ctrl-C or SIGTERM. Exit status 0 when every case passed, 1 if
not, 77 (skip) without root or strongSwan. Needs the packages PEERS.md lists
(scripts/deps.sh test), iproute2, nftables, iputils-ping.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import strongswan as sw  # noqa: E402

VERBOSE = '-v' in sys.argv
KEEP_LOGS = '--keep-logs' in sys.argv
PSK = 'corridor-harness-selftest-psk-0123456789'


class CaseFailed(Exception):
    pass


class Case:
    def __init__(self, name):
        self.name = name
        self.checks = []
        self.failed = []

    def check(self, ok, what):
        self.checks.append(what)
        if VERBOSE or not ok:
            print('   %s %s' % ('ok  ' if ok else 'FAIL', what), flush=True)
        if not ok:
            self.failed.append(what)
        return ok

    def require(self, ok, what):
        if not self.check(ok, what):
            raise CaseFailed(what)


def ping(topo, ns, src, dst, count=3):
    r = topo.sh('ping', '-c', count, '-i', '0.2', '-W', '2', '-I', src, dst, ns=ns, check=False)
    return r.returncode == 0 and ' 0% packet loss' in r.stdout, r.stdout


def child_of(sa, name):
    for c in sa['child-sas']:
        if c['name'] == name:
            return c
    return None


def run_case(case, wd, nat=False, version=2, proposals=('aes256gcm16-prfsha384-ecp384',), auth='psk',
             key_type=None, aggressive=None, expect=None, ipv6=True, fragmentation=None, outer6=False):
    """A and B in a fresh topology; A initiates; the checks of the module docstring."""
    with sw.Topology() as topo:
        net = topo.two_peers(nat=nat)
        if outer6:  # IKE and ESP-in-UDP over IPv6
            net.left_addr, net.right_addr, net.left_seen_as = net.left_addr6, net.right_addr6, net.left_seen_as6
        lts, rts = [net.left_subnet], [net.right_subnet]
        if ipv6:
            lts.append(net.left_subnet6)
            rts.append(net.right_subnet6)
        pki = None
        if auth == 'psk':
            a_local, a_remote = sw.Auth('psk', 'left.corridor.test'), sw.Auth('psk', 'right.corridor.test')
            b_local, b_remote = a_remote, a_local
            psks = [sw.Psk(PSK, ['left.corridor.test', 'right.corridor.test'])]
        else:
            t = time.monotonic()
            pki = sw.make_pki(os.path.join(wd, 'pki'), {'left': 'left.corridor.test', 'right': 'right.corridor.test'},
                              key_type=key_type)
            case.check(True, 'make_pki(%s) in %.1f s: CA %s, host certs and keys (PKCS#8: %s)' % (
                key_type, time.monotonic() - t, os.path.basename(pki.ca_cert),
                'yes' if pki.hosts['left'].key_pkcs8 else 'no'))
            a_local = sw.Auth('pubkey', 'left.corridor.test', certs=['left.pem'])
            a_remote = sw.Auth('pubkey', 'right.corridor.test', cacerts=['ca.pem'])
            b_local = sw.Auth('pubkey', 'right.corridor.test', certs=['right.pem'])
            b_remote = sw.Auth('pubkey', 'left.corridor.test', cacerts=['ca.pem'])
            psks = []
        conn_a = sw.Connection('gw', [net.left_addr], [net.right_addr],
                               [sw.Child('net', lts, rts, esp_proposals=['aes256gcm16'], rekey_time='0')],
                               version=version, proposals=list(proposals), local=a_local, remote=a_remote,
                               aggressive=aggressive, fragmentation=fragmentation, rekey_time='0', dpd_delay='0')
        # B accepts A from wherever it appears (behind the NAT: the NAT's outside address).
        conn_b = conn_a.mirror([net.right_addr], [net.left_seen_as], local=b_local, remote=b_remote)
        a = sw.Charon(net.ns_left, os.path.join(wd, 'A'), [conn_a], psks, pki=pki, host='left', name='A')
        b = sw.Charon(net.ns_right, os.path.join(wd, 'B'), [conn_b], psks, pki=pki, host='right', name='B',
                      aggressive_psk=bool(aggressive))
        try:
            # What crosses right's WAN link (the NAT's outside with nat).
            capture = topo.capture(net.ns_right, 'wan', os.path.join(wd, 'right-wan.pcap'), 'udp or esp')
            t = time.monotonic()
            b.start()
            a.start()
            case.check(True, 'both charons up, configuration loaded (%.2f s)' % (time.monotonic() - t))
            t = time.monotonic()
            ok, log = a.initiate(child='net', timeout=15, check=False)
            case.require(ok, 'A initiated child "net" (%.2f s)%s' % (
                time.monotonic() - t, '' if ok else ':\n' + '\n'.join(log[-15:])))
            sa_a = a.wait_sa('gw', timeout=5)
            sa_b = b.wait_sa('gw', timeout=5)
            for who, sa, initiator in (('A', sa_a, True), ('B', sa_b, False)):
                case.check(sa['state'] == 'ESTABLISHED' and sa['version'] == version and sa['initiator'] == initiator,
                           '%s: IKEv%d SA %s, initiator %s' % (who, sa['version'], sa['state'], sa['initiator']))
                got = {k: sa.get(k) for k in expect['ike']}
                case.check(got == expect['ike'], '%s: IKE algorithms %s' % (who, got))
                c = child_of(sa, 'net')
                case.require(c is not None and c['state'] == 'INSTALLED', '%s: child "net" INSTALLED' % who)
                got = {k: c.get(k) for k in expect['esp']}
                case.check(got == expect['esp'] and c['protocol'] == 'ESP' and c['mode'] == 'TUNNEL',
                           '%s: ESP %s %s %s' % (who, c['mode'], c['protocol'], got))
                # PEERS.md: kernel-libipsec always encapsulates, faking NAT detection.
                case.check(c['encap'] and sa['local-port'] == 4500 and sa['nat-remote'],
                           '%s: UDP-encapsulated on port %d, nat-remote %s, nat-local %s' % (
                               who, sa['local-port'], sa['nat-remote'], sa['nat-local']))
            case.check(sa_a['initiator-spi'] == sa_b['initiator-spi'] and sa_a['responder-spi'] == sa_b['responder-spi'],
                       'IKE SPIs agree: %s / %s' % (sa_a['initiator-spi'], sa_a['responder-spi']))
            ca, cb = child_of(sa_a, 'net'), child_of(sa_b, 'net')
            case.check(ca['spi-in'] == cb['spi-out'] and ca['spi-out'] == cb['spi-in'],
                       "ESP SPIs mirrored: A in %s == B out %s, A out %s == B in %s" % (
                           ca['spi-in'], cb['spi-out'], ca['spi-out'], cb['spi-in']))
            case.check(sorted(ca['local-ts']) == sorted(cb['remote-ts']) == sorted(lts) and
                       sorted(ca['remote-ts']) == sorted(cb['local-ts']) == sorted(rts),
                       'traffic selectors %s === %s' % (ca['local-ts'], ca['remote-ts']))
            if nat:
                lo, hi = 40000, 40999
                case.check(sa_b['remote-host'] == net.left_seen_as and lo <= sa_b['remote-port'] <= hi,
                           'B sees A as %s:%d (the NAT, port remapped)' % (sa_b['remote-host'], sa_b['remote-port']))
                case.check(sa_a['nat-local'] and sa_b['nat-remote'], 'a real NAT: A nat-local, B nat-remote')
                case.check(sa_a['local-host'] == net.left_addr and sa_a['remote-port'] == 4500,
                           'A: %s:%d -> %s:%d' % (sa_a['local-host'], sa_a['local-port'], sa_a['remote-host'],
                                                  sa_a['remote-port']))
            else:
                case.check(sa_b['remote-host'] == net.left_addr and sa_b['remote-port'] == 4500,
                           'B sees A as %s:%d' % (sa_b['remote-host'], sa_b['remote-port']))

            # Traffic through the tunnel: ipsec0 in both namespaces, the route to the remote subnet through it.
            routes = topo.sh('ip', 'route', 'show', 'table', 'all', ns=net.ns_left).stdout
            case.check('%s dev ipsec0' % net.right_subnet in routes, 'A: route %s dev ipsec0 installed' % net.right_subnet)
            pings = [(net.left_host, net.right_host, ca, cb)]
            if ipv6:
                pings.append((net.left_host6, net.right_host6, ca, cb))
            for src, dst, _, _ in pings:
                before_a, before_b = ca, cb
                ok, out = ping(topo, net.ns_left, src, dst)
                case.check(ok, 'ping %s -> %s through the tunnel%s' % (src, dst, '' if ok else ':\n' + out))
                ca = child_of(a.list_sas('gw')[0], 'net')
                cb = child_of(b.list_sas('gw')[0], 'net')
                case.check(ca['bytes-out'] > before_a['bytes-out'] and ca['bytes-in'] > before_a['bytes-in'] and
                           cb['bytes-out'] > before_b['bytes-out'] and cb['bytes-in'] > before_b['bytes-in'],
                           'CHILD_SA bytes rose: A out %d in %d, B out %d in %d' % (
                               ca['bytes-out'], ca['bytes-in'], cb['bytes-out'], cb['bytes-in']))
            case.check(ca['packets-out'] == cb['packets-in'] and ca['packets-in'] == cb['packets-out'],
                       'packet counters agree: A->B %d/%d, B->A %d/%d' % (ca['packets-out'], cb['packets-in'],
                                                                        cb['packets-out'], ca['packets-in']))
            # What the logs say about how it was done.
            if version == 1:
                exchange = 'AGGRESSIVE' if aggressive else 'ID_PROT'
                lines = a.grep_log(r'generating %s request' % exchange)
                case.check(bool(lines), 'IKEv1 %s: %s' % (
                    'Aggressive Mode' if aggressive else 'Main Mode', lines[0].split('> ')[-1] if lines else 'not in the log'))
            method = {'psk': 'pre-shared key', 'ecdsa': 'ECDSA_WITH_SHA256_DER',
                      'rsa': 'RSA_EMSA_PKCS1_SHA2_256'}[key_type or 'psk']
            case.check(sa_a['remote-id'] == 'right.corridor.test' and sa_b['remote-id'] == 'left.corridor.test',
                       'identities: A sees %s, B sees %s' % (sa_a['remote-id'], sa_b['remote-id']))
            if version == 2:  # (IKEv1 logs no such line for PSK)
                lines = a.grep_log(r"authentication of 'right.corridor.test' with %s successful" % method)
                lines += b.grep_log(r"authentication of 'left.corridor.test' with %s successful" % method)
                case.check(len(lines) == 2, 'each side authenticated the other with %s' % method)
            if fragmentation:
                split = a.grep_log(r'splitting IKE message .* into \d+ fragments')
                joined = b.grep_log(r'reassembled fragmented IKE message')
                case.check(bool(split and joined), 'IKE_AUTH in RFC 7383 fragments: %s' % (
                    split[0].split('> ')[-1] if split else 'A did not fragment'))
            counters_a = a.counters()
            key = 'ike-auth-out-req' if version == 2 else None
            if key:
                case.check(counters_a.get(key, 0) >= 1 and b.counters().get('ike-auth-in-req', 0) >= 1,
                           'counters: A ike-auth-out-req %d, B ike-auth-in-req %d' % (
                               counters_a.get(key, 0), b.counters().get('ike-auth-in-req', 0)))

            # On the wire: IKE on 500 then 4500, ESP only inside UDP 4500 (no protocol 50), and
            # behind the NAT every datagram from A's side from a remapped port.
            topo.stop_capture(capture)
            grams = sw.udp_datagrams(sw.read_pcap(os.path.join(wd, 'right-wan.pcap')))
            from_a = [g for g in grams if g[0] in (net.left_seen_as, net.left_seen_as6)]
            raw_esp = [g for g in grams if g[1] is None]
            esp_in_udp = [g for g in from_a if g[3] == 4500 and len(g[4]) > 8 and g[4][:4] != b'\0\0\0\0']
            spis = {g[4][:4].hex() for g in esp_in_udp}
            case.check(not raw_esp and cb['spi-in'] in spis,
                       'wire: %d datagrams from A, %d ESP-in-UDP to port 4500 with SPI %s, %d raw ESP' % (
                           len(from_a), len(esp_in_udp), ','.join(sorted(spis)), len(raw_esp)))
            if nat:
                sports = sorted({g[1] for g in from_a})
                case.check(sports and all(40000 <= p <= 40999 for p in sports),
                           'wire: A\'s source ports behind the NAT %s' % sports)
            else:
                case.check({(g[1], g[3]) for g in from_a} <= {(500, 500), (4500, 4500)},
                           'wire: A used %s' % sorted({(g[1], g[3]) for g in from_a}))

            # Teardown from A: both sides forget the SA.
            ok, _ = a.terminate(ike='gw', timeout=10, check=False)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and (a.list_sas() or b.list_sas()):
                time.sleep(0.1)
            case.check(ok and not a.list_sas() and not b.list_sas(), 'terminate: no SA left on either side')
        finally:
            rcs = (a.stop(), b.stop())
            case.check(all(rc in (0, None) for rc in rcs), 'charons stopped (exit %s, %s)' % rcs)
            if case.failed:
                print(a.diagnostics())
                print(b.diagnostics())


V2 = {'ike': {'encr-alg': 'AES_GCM_16', 'encr-keysize': 256, 'prf-alg': 'PRF_HMAC_SHA2_384', 'dh-group': 'ECP_384'},
      'esp': {'encr-alg': 'AES_GCM_16', 'encr-keysize': 256}}
V1 = {'ike': {'encr-alg': 'AES_CBC', 'encr-keysize': 256, 'integ-alg': 'HMAC_SHA2_256_128',
              'prf-alg': 'PRF_HMAC_SHA2_256', 'dh-group': 'MODP_2048'},
      'esp': {'encr-alg': 'AES_GCM_16', 'encr-keysize': 256}}

CASES = [
    ('ikev2-psk', dict()),
    ('ikev2-psk-nat', dict(nat=True)),
    ('ikev2-psk-ipv6', dict(outer6=True)),
    ('ikev1-main-psk', dict(version=1, proposals=('aes256-sha256-modp2048',), expect=V1, ipv6=False)),
    ('ikev1-aggr-psk', dict(version=1, proposals=('aes256-sha256-modp2048',), expect=V1, aggressive=True,
                            ipv6=False)),
    ('ikev2-ecdsa', dict(auth='pubkey', key_type='ecdsa', ipv6=False)),
    ('ikev2-rsa-frag', dict(auth='pubkey', key_type='rsa', ipv6=False, fragmentation='yes')),
]


def leftovers(prefix):
    names = subprocess.run(['ip', 'netns', 'list'], stdout=subprocess.PIPE, text=True).stdout.split()
    return [n for n in names if n.startswith(prefix)]


def main():
    if os.geteuid() != 0:
        print('SKIP: needs root (network namespaces)')
        return 77
    missing = [p for p in (sw.CHARON, sw.SWANCTL, sw.PKI, '/usr/sbin/nft') if not os.path.exists(p)]
    if missing:
        print('SKIP: missing %s (scripts/deps.sh test installs strongSwan and nftables)' % ', '.join(missing))
        return 77
    # meson's timeout and kill send SIGTERM: turn it into an exception so that every finally block runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    only = [a for a in sys.argv[1:] if not a.startswith('-')]
    started = time.monotonic()
    results = []
    prefix = 'cor-sw-%d-' % os.getpid()
    interrupted = None
    try:
        for name, params in CASES:
            if only and name not in only:
                continue
            params = dict(params)
            params.setdefault('expect', V2)
            case = Case(name)
            wd = sw.workdir()
            t = time.monotonic()
            print('-- %s' % name, flush=True)
            try:
                run_case(case, wd, **params)
            except CaseFailed:
                pass
            except sw.HarnessError as e:
                case.check(False, 'harness: %s' % e)
            except Exception:
                case.check(False, 'unexpected: %s' % traceback.format_exc())
            finally:
                if KEEP_LOGS:
                    print('   logs kept in %s' % wd)
                else:
                    shutil.rmtree(wd, ignore_errors=True)
            results.append((name, not case.failed, len(case.checks), time.monotonic() - t, case.failed))
    except (KeyboardInterrupt, SystemExit) as e:  # Ctrl-C, SIGTERM: the finally blocks above have cleaned up
        interrupted = 130 if isinstance(e, KeyboardInterrupt) else 143
        results.append(('interrupted', False, 0, 0.0, ['interrupted by %s' % (
            'SIGINT' if interrupted == 130 else 'SIGTERM')]))
    finally:
        left = leftovers(prefix)
        # Nothing of ours may survive: no namespace (Topology.teardown ended their processes).
        if left:
            results.append(('cleanup', False, 1, 0.0, ['namespaces left behind: %s' % left]))
            for ns in left:
                subprocess.run(['ip', 'netns', 'del', ns])
    print()
    for name, ok, n, secs, failed in results:
        print('%s %-16s %2d checks %5.1f s%s' % ('PASS' if ok else 'FAIL', name, n, secs,
                                                 '' if ok else '  (%s)' % failed[0].splitlines()[0]))
    bad = [r for r in results if not r[1]]
    print('%s: %d of %d cases passed in %.1f s' % ('PASS' if not bad else 'FAIL', len(results) - len(bad),
                                                  len(results), time.monotonic() - started))
    return interrupted or (1 if bad else 0)


if __name__ == '__main__':
    sys.exit(main())
