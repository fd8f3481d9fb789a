#!/usr/bin/python3
"""Two Corridor gateways and two hosts in network namespaces, a real tunnel.

    /usr/bin/python3 tests/integration/netns_tunnel.py BUILD/dataplane/corridor-dataplane [--demo] [--keep]

    host A                  gateway A                      gateway B                      host B
    10.1.0.10 eth0 ==veth== lan 10.1.0.1  wan 192.0.2.1 ==veth== wan 192.0.2.2  lan 10.2.0.1 ==veth== eth0 10.2.0.10

Each box is a network namespace. Both gateways run the real process on
net_af_packet ports bound to their veths, with a pair of static AES-GCM SAs
each (their keys mirrored). The
hosts' kernels ARP for their gateway, the gateways ARP for the hosts and for
each other. Then host A pings host B, sends UDP datagrams and a TCP stream
(checked by a hash), and a packet capture on the WAN veth shows that only
ESP crossed it. Exit status 0 when everything arrived intact.

--demo narrates each step; --keep leaves the namespaces and gateways up
(stop them with Ctrl-C). Needs root, iproute2, iputils-ping, ethtool.
"""

import hashlib
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

TAG = '%04d' % (os.getpid() % 10000)
NS_A, NS_B = 'corHA' + TAG, 'corHB' + TAG     # the hosts
NS_GA, NS_GB = 'corGA' + TAG, 'corGB' + TAG   # the gateways (own namespaces: af_packet's fanout ids are per namespace)
HOST_MTU = 1400  # room for the ESP overhead on the 1500-byte WAN link, as on any IPsec gateway's LAN

demo = '--demo' in sys.argv
keep = '--keep' in sys.argv
failures = []


def say(text):
    if demo:
        print('\n== ' + text, flush=True)


def check(ok, what):
    print(('ok: ' if ok else 'FAIL: ') + what, flush=True)
    if not ok:
        failures.append(what)


def sh(*args, ns=None, check_rc=True, capture=False):
    cmd = (['ip', 'netns', 'exec', ns] if ns else []) + list(args)
    if demo and not capture:
        print('   $ ' + ' '.join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT if capture else None,
                       text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError('%s failed (%d)%s' % (' '.join(cmd), r.returncode, ': ' + r.stdout if capture else ''))
    return r


def veth(ns1, name1, ns2, name2):
    tmp1, tmp2 = 'cv%s%s' % (TAG, name1[:3]), 'cw%s%s' % (TAG, name1[:3])
    sh('ip', 'link', 'add', tmp1, 'type', 'veth', 'peer', 'name', tmp2)
    for tmp, ns, name in ((tmp1, ns1, name1), (tmp2, ns2, name2)):
        sh('ip', 'link', 'set', tmp, 'netns', ns)
        sh('ip', 'link', 'set', tmp, 'name', name, ns=ns)


def setup_topology():
    say('four network namespaces (two hosts, two gateways) and the veth links between them')
    for ns in (NS_A, NS_B, NS_GA, NS_GB):
        sh('ip', 'netns', 'add', ns)
        sh('ip', 'link', 'set', 'lo', 'up', ns=ns)
    veth(NS_A, 'eth0', NS_GA, 'lan')
    veth(NS_GA, 'wan', NS_GB, 'wan')
    veth(NS_B, 'eth0', NS_GB, 'lan')
    for ns, addr, gw in ((NS_A, '10.1.0.10/24', '10.1.0.1'), (NS_B, '10.2.0.10/24', '10.2.0.1')):
        sh('ip', 'link', 'set', 'eth0', 'mtu', str(HOST_MTU), 'up', ns=ns)
        sh('ip', 'addr', 'add', addr, 'dev', 'eth0', ns=ns)
        sh('ip', 'route', 'add', 'default', 'via', gw, ns=ns)
        # The gateway reads frames as the veth carries them: checksums must
        # be complete, not left to an offload that never happens.
        sh('ethtool', '-K', 'eth0', 'tx', 'off', ns=ns, capture=True)
    for ns in (NS_GA, NS_GB):
        for dev in ('lan', 'wan'):
            # The gateway's kernel keeps no addresses on these: they belong
            # to corridor-dataplane. No IPv6 either, so it sends nothing.
            sh('sysctl', '-q', '-w', 'net.ipv6.conf.%s.disable_ipv6=1' % dev, ns=ns)
            sh('ip', 'link', 'set', dev, 'up', ns=ns)


def teardown_topology():
    for ns in (NS_A, NS_B, NS_GA, NS_GB):
        subprocess.run(['ip', 'netns', 'del', ns], stderr=subprocess.DEVNULL)


def gateway_config(name, lan_addr, wan_addr, peer_wan, local_net, remote_net, keys, index):
    out_key, in_key = keys if name == 'A' else keys[::-1]
    out_spi, in_spi = (0x1001, 0x2001) if name == 'A' else (0x2001, 0x1001)

    def sa(direction, spi, key):
        sa = {'spi': spi, 'direction': direction, 'protocol': 'esp', 'mode': 'tunnel', 'local': wan_addr,
              'remote': peer_wan, 'proposal': 'aes256gcm16', 'key': key.hex(),
              'local_ts': [local_net], 'remote_ts': [remote_net]}
        if direction == 'in':
            sa['replay_window'] = 1024
        return sa

    return {
        'dataplane': {
            'ports': [
                {'name': 'net_af_packet0', 'devargs': 'iface=lan', 'role': 'protected', 'address': lan_addr},
                {'name': 'net_af_packet1', 'devargs': 'iface=wan', 'role': 'unprotected', 'address': wan_addr + '/24'},
            ],
            'routes': [{'prefix': remote_net, 'via': peer_wan, 'port': 'net_af_packet1'}],
            'static_sas': [sa('out', out_spi, out_key), sa('in', in_spi, in_key)],
            'cores': {'main': index},
            'poll_mode': 'adaptive',
        },
        'sa_channel': {'name': '/corridor-netns-%s-%s' % (TAG, name)},
        'logging': {'level': 'info' if demo else 'warning'},
    }


class Gateway:
    def __init__(self, binary, name, ns, config, workdir):
        self.name = name
        self.stats_path = os.path.join(workdir, 'stats-%s.json' % name)
        config_path = os.path.join(workdir, 'gateway-%s.json' % name)
        with open(config_path, 'w') as f:
            json.dump(config, f, indent=2)
        self.log_path = os.path.join(workdir, 'gateway-%s.log' % name)
        cmd = ['ip', 'netns', 'exec', ns, os.path.abspath(binary), '--no-huge', '-m', '256',
               '--file-prefix', 'corridor-netns-%s-%s' % (TAG, name),
               '--log-level', 'error', '--', '--config', config_path, '--stats', self.stats_path]
        if demo:
            print('   $ ' + ' '.join(cmd), flush=True)
        self.log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_up(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            if os.path.exists(self.stats_path):
                return True
            time.sleep(0.1)
        return False

    def stats(self):
        os.kill(self.proc.pid, signal.SIGUSR1)
        time.sleep(0.3)
        with open(self.stats_path) as f:
            return json.load(f)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        # What the process leaves behind by design (the SA channel outlives
        # either end; EAL keeps its runtime directory): a test cleans it up.
        subprocess.run(['rm', '-rf', '/dev/shm/corridor-netns-%s-%s' % (TAG, self.name),
                        '/var/run/dpdk/corridor-netns-%s-%s' % (TAG, self.name)])
        with open(self.log_path) as f:
            return self.proc.returncode, f.read()


CAPTURE = r'''
import select, signal, socket, struct, sys
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
sock.bind((sys.argv[1], 0))
out = open(sys.argv[2], "wb")
running = [True]
signal.signal(signal.SIGTERM, lambda *a: running.__setitem__(0, False))
print("ready", flush=True)
while running[0]:
    r, _, _ = select.select([sock], [], [], 0.1)
    if r:
        f = sock.recv(65535)
        out.write(struct.pack("!I", len(f)) + f)
out.close()
'''


class Capture:
    """Every frame on an interface of a namespace, through a packet socket."""

    def __init__(self, ns, dev, path):
        self.path = path
        self.proc = subprocess.Popen(['ip', 'netns', 'exec', ns, '/usr/bin/python3', '-c', CAPTURE, dev, path],
                                     stdout=subprocess.PIPE, text=True)
        self.proc.stdout.readline()  # "ready": the socket is bound

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        frames = []
        with open(self.path, 'rb') as f:
            data = f.read()
        at = 0
        while at + 4 <= len(data):
            n = struct.unpack('!I', data[at:at + 4])[0]
            frames.append(data[at + 4:at + 4 + n])
            at += 4 + n
        return frames


def in_ns(ns, code, timeout=60):
    """Runs a Python snippet inside a namespace; returns its stdout."""
    r = subprocess.run(['ip', 'netns', 'exec', ns, '/usr/bin/python3', '-c', code], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return r.returncode, r.stdout


UDP_SERVER = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5001)); s.settimeout(15)
got = set()
try:
    while len(got) < 50:
        data, _ = s.recvfrom(2048)
        if data == bytes([data[0]]) * len(data) and len(data) == 100 + data[0]: got.add(data[0])
except socket.timeout:
    pass
print(len(got))
'''
UDP_CLIENT = r'''
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(50):
    s.sendto(bytes([i]) * (100 + i), ("10.2.0.10", 5001)); time.sleep(0.01)
'''
TCP_SERVER = r'''
import socket, hashlib
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5002)); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(30)
h = hashlib.sha256(); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    h.update(d); n += len(d)
c.sendall(h.hexdigest().encode()); c.close()
print(n)
'''
TCP_CLIENT = r'''
import socket, hashlib, os
data = os.urandom(%d)
c = socket.create_connection(("10.2.0.10", 5002), timeout=30)
c.sendall(data); c.shutdown(socket.SHUT_WR)
reply = c.recv(100).decode()
print("match" if reply == hashlib.sha256(data).hexdigest() else "mismatch " + reply)
'''
TCP_BYTES = 2 * 1024 * 1024


def exercise(gateways):
    say('host A pings host B through both gateways')
    # The gateways resolve next hops by ARP on the first packets and drop
    # those meanwhile (as routers commonly do): the first two pings may be lost.
    sh('ping', '-c', '3', '-i', '0.3', '-W', '1', '10.2.0.10', ns=NS_A, check_rc=False, capture=not demo)
    r = sh('ping', '-c', '5', '-i', '0.2', '-W', '2', '10.2.0.10', ns=NS_A, check_rc=False, capture=True)
    if demo or r.returncode != 0 or ' 0% packet loss' not in r.stdout:
        print(r.stdout)
    check(r.returncode == 0 and ' 0% packet loss' in r.stdout, 'ping 10.1.0.10 -> 10.2.0.10 through the tunnel')

    say('50 UDP datagrams from host A to host B')
    server = threading.Thread(target=lambda: results.__setitem__('udp', in_ns(NS_B, UDP_SERVER)))
    server.start()
    time.sleep(0.5)
    in_ns(NS_A, UDP_CLIENT)
    server.join()
    rc, out = results['udp']
    check(rc == 0 and out.strip() == '50', 'UDP: %s of 50 datagrams arrived intact' % out.strip())

    say('a %d MB TCP stream from host A to host B, compared by SHA-256' % (TCP_BYTES // 2**20))
    server = threading.Thread(target=lambda: results.__setitem__('tcp', in_ns(NS_B, TCP_SERVER)))
    server.start()
    time.sleep(0.5)
    rc, out = in_ns(NS_A, TCP_CLIENT % TCP_BYTES, timeout=90)
    server.join()
    srv_rc, srv_out = results['tcp']
    check(rc == 0 and out.strip() == 'match' and srv_out.strip() == str(TCP_BYTES),
          'TCP: %s bytes received, hash %s' % (srv_out.strip(), out.strip()))


results = {}


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith('--'):
        print(__doc__)
        return 64
    if os.geteuid() != 0:
        print('needs root (network namespaces, packet sockets)')
        return 77
    binary = sys.argv[1]
    workdir = tempfile.mkdtemp(prefix='corridor-netns-')
    gateways = []
    captures = []
    try:
        setup_topology()
        keys = (os.urandom(36), os.urandom(36))  # AES-256-GCM key + salt, one per direction
        say('two corridor-dataplane processes with static AES-256-GCM SAs (keys mirrored)')
        gateways.append(Gateway(binary, 'A', NS_GA, gateway_config('A', '10.1.0.1/24', '192.0.2.1', '192.0.2.2',
                                                                   '10.1.0.0/24', '10.2.0.0/24', keys, 0), workdir))
        gateways.append(Gateway(binary, 'B', NS_GB, gateway_config('B', '10.2.0.1/24', '192.0.2.2', '192.0.2.1',
                                                                   '10.2.0.0/24', '10.1.0.0/24', keys, 1), workdir))
        for g in gateways:
            check(g.wait_up(), 'gateway %s is up' % g.name)
        if failures:
            return 1
        # Each end sees what arrives from the other (af_packet sends with
        # PACKET_QDISC_BYPASS, which other packet sockets do not see).
        captures = [Capture(NS_GA, 'wan', os.path.join(workdir, 'wan-a.frames')),
                    Capture(NS_GB, 'wan', os.path.join(workdir, 'wan-b.frames'))]
        exercise(gateways)
        frames = [f for c in captures for f in c.stop()]
        captures = []

        say('what crossed the WAN link')
        ipv4 = [f for f in frames if len(f) >= 34 and f[12:14] == b'\x08\x00']
        esp = [f for f in ipv4 if f[23] == 50]
        clear = [f for f in ipv4 if f[23] != 50]
        print('   %d frames captured on the WAN link: %d ESP, %d other IPv4, %d ARP' %
              (len(frames), len(esp), len(clear), sum(1 for f in frames if f[12:14] == b'\x08\x06')))
        check(len(esp) > 100, 'ESP on the wire (%d packets)' % len(esp))
        check(not clear, 'no clear IPv4 on the WAN link')
        spis = sorted({struct.unpack('!I', f[34:38])[0] for f in esp})
        check(spis == [0x1001, 0x2001], 'SPIs on the wire: %s' % ', '.join('0x%04x' % s for s in spis))
        marker = bytes([7]) * 107  # one of the UDP payloads
        check(all(marker not in f for f in frames), 'no plaintext payload visible on the wire')

        for g in gateways:
            st = g.stats()
            fwd = st['forwarding']
            say('gateway %s counters' % g.name)
            if demo:
                print(json.dumps({'forwarding': {k: v for k, v in fwd.items() if k != 'drops'},
                                  'drops': {k: v for k, v in fwd['drops'].items() if v},
                                  'main': st['main'],
                                  'sas': [{k: s[k] for k in ('spi', 'direction', 'packets', 'bytes', 'drops')}
                                          for s in st['sas']]}, indent=2))
            check(fwd['protected_out'] > 0 and fwd['decapsulated'] > 0,
                  'gateway %s: %d protected, %d decapsulated' % (g.name, fwd['protected_out'], fwd['decapsulated']))
            check(st['main']['arp_replies'] > 0 and st['main']['arp_requests'] > 0,
                  'gateway %s answered and sent ARP (%d replies, %d requests)' %
                  (g.name, st['main']['arp_replies'], st['main']['arp_requests']))
            sa_drops = {k: v for s in st['sas'] for k, v in s['drops'].items()}
            check(not sa_drops, 'gateway %s: no SA dropped a packet %s' % (g.name, sa_drops or ''))

        if keep:
            say('left running: ip netns exec %s ping 10.2.0.10   (Ctrl-C to tear down)' % NS_A)
            try:
                while all(g.proc.poll() is None for g in gateways):
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
    finally:
        for c in captures:
            c.stop()
        for g in gateways:
            rc, log = g.stop()
            check(rc == 0, 'gateway %s stopped cleanly (exit %s)' % (g.name, rc))
            if rc != 0 or (failures and not demo):
                print('--- gateway %s log ---\n%s' % (g.name, log))
        teardown_topology()
    print('%d failures' % len(failures) if failures else 'tunnel test passed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
