#!/usr/bin/python3
"""The exception path: traffic for the gateway itself through its kernel TAP.

    /usr/bin/python3 tests/integration/netns_exception_test.py BUILD/dataplane/corridor-dataplane

    host                         gateway                                     peer
    10.1.0.10 eth0 ==veth== lan 10.1.0.1   wan 192.0.2.1 ==veth== eth0 192.0.2.2, 192.0.2.3
                                           2001:db8::1                  2001:db8::2
                            corridor0 (TAP): 10.1.0.1/24 192.0.2.1/24 2001:db8::1/64

Each box is a network namespace. The gateway runs the real corridor-dataplane
on two net_af_packet ports with `exception_interface: corridor0`; its
namespace's kernel holds the gateway's addresses on that TAP and nowhere
else. Checked:

 1. a UDP socket bound in the gateway's kernel to 192.0.2.1:500 gets the
    peer's datagram, and its answer reaches the peer (IKE behind the dataplane);
 2. the same on UDP 4500 with the non-ESP marker, while a NAT keepalive
    (one 0xFF byte) never reaches the socket and is counted;
 3. the host pings the gateway's LAN address, 4. the peer its WAN address,
 5. and its IPv6 address (the kernel's neighbor solicitation on the TAP
    answered by the dataplane): every reply from the kernel, none twice;
 6. the kernel's own traffic meets the SPD: UDP from 10.1.0.1 to the
    protected 10.2.0.0/24 leaves as ESP, IKE from 192.0.2.1:500 leaves in the
    clear even where a policy covers it, other UDP under that policy as ESP;
 7. every IPv4/IPv6 checksum of what the kernel sent is complete on the wire;
 8. the --stats counters account for every frame (to_kernel, from_kernel, the
    proxy answers), the TAP's configuration is what `ip addr` shows, and it
    is gone after a clean stop;
 9. an exception_interface name that an interface has already (a veth, a
    persistent TAP) is a start failure with the reason.

Needs root, iproute2, iputils-ping, ethtool, python3-scapy.
"""

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

from scapy.all import ICMP, IP, UDP, ICMPv6EchoReply, IPv6, Ether, Raw  # noqa: E402

TAG = '%04d' % (os.getpid() % 10000)
NS_HOST, NS_GW, NS_PEER = 'corXH' + TAG, 'corXG' + TAG, 'corXP' + TAG
PREFIX = 'corridor-exc-%s' % TAG  # EAL file prefix and SA channel name
TAP = 'corridor0'
LAN_GW, WAN_GW, WAN_GW6 = '10.1.0.1', '192.0.2.1', '2001:db8::1'
HOST, PEER, PEER2, PEER6 = '10.1.0.10', '192.0.2.2', '192.0.2.3', '2001:db8::2'
REMOTE_HOST = '10.2.0.5'  # behind the peer, protected by SA 0x3001
SPI_LAN, SPI_PEER2 = 0x3001, 0x3002
PINGS = 5

failures = []


def check(ok, what):
    print(('ok: ' if ok else 'FAIL: ') + what, flush=True)
    if not ok:
        failures.append(what)


def sh(*args, ns=None, check_rc=True):
    cmd = (['ip', 'netns', 'exec', ns] if ns else []) + list(args)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError('%s failed (%d): %s' % (' '.join(cmd), r.returncode, r.stdout))
    return r


def veth(ns1, name1, ns2, name2):
    tmp1, tmp2 = 'cx%s%s' % (TAG, name1[:3]), 'cy%s%s' % (TAG, name1[:3])
    sh('ip', 'link', 'add', tmp1, 'type', 'veth', 'peer', 'name', tmp2)
    for tmp, ns, name in ((tmp1, ns1, name1), (tmp2, ns2, name2)):
        sh('ip', 'link', 'set', tmp, 'netns', ns)
        sh('ip', 'link', 'set', tmp, 'name', name, ns=ns)


def mac_of(ns, dev):
    return json.loads(sh('ip', '-j', 'link', 'show', dev, ns=ns).stdout)[0]['address']


def setup_topology():
    for ns in (NS_HOST, NS_GW, NS_PEER):
        sh('ip', 'netns', 'add', ns)
        sh('ip', 'link', 'set', 'lo', 'up', ns=ns)
    veth(NS_HOST, 'eth0', NS_GW, 'lan')
    veth(NS_GW, 'wan', NS_PEER, 'eth0')
    sh('ip', 'addr', 'add', HOST + '/24', 'dev', 'eth0', ns=NS_HOST)
    sh('ip', 'addr', 'add', PEER + '/24', 'dev', 'eth0', ns=NS_PEER)
    sh('ip', 'addr', 'add', PEER2 + '/24', 'dev', 'eth0', ns=NS_PEER)
    sh('ip', 'addr', 'add', PEER6 + '/64', 'dev', 'eth0', 'nodad', ns=NS_PEER)
    for ns in (NS_HOST, NS_PEER):
        sh('ip', 'link', 'set', 'eth0', 'up', ns=ns)
        # The gateway reads frames as the veth carries them: checksums must
        # be complete, not left to an offload that never happens.
        sh('ethtool', '-K', 'eth0', 'tx', 'off', ns=ns)
    for dev in ('lan', 'wan'):
        # These belong to corridor-dataplane (net_af_packet). The gateway's
        # kernel still sees every frame on them, and now holds the gateway's
        # addresses (on the TAP): keep it from answering them itself, which
        # would bypass the exception path (and ping would see duplicates).
        # Strict reverse-path filtering drops what arrives here from sources
        # routed via the TAP; arp_ignore 8 answers no ARP; no IPv6 at all.
        sh('sysctl', '-q', '-w', 'net.ipv6.conf.%s.disable_ipv6=1' % dev,
           'net.ipv4.conf.%s.rp_filter=1' % dev, 'net.ipv4.conf.%s.arp_ignore=8' % dev, ns=NS_GW)
        sh('ip', 'link', 'set', dev, 'up', ns=NS_GW)


def teardown_topology():
    for ns in (NS_HOST, NS_GW, NS_PEER):
        subprocess.run(['ip', 'netns', 'del', ns], stderr=subprocess.DEVNULL)


def gateway_config(peer_mac, exception_interface=TAP):
    def out_sa(spi, remote, local_ts, remote_ts):
        # AES-256-GCM key and salt: the peer does not decrypt, only the SPIs are checked.
        return {'spi': spi, 'direction': 'out', 'protocol': 'esp', 'mode': 'tunnel', 'local': WAN_GW,
                'remote': remote, 'proposal': 'aes256gcm16', 'key': os.urandom(36).hex(), 'local_ts': [local_ts],
                'remote_ts': [remote_ts]}

    return {
        'dataplane': {
            'ports': [
                {'name': 'net_af_packet0', 'devargs': 'iface=lan', 'role': 'protected', 'address': LAN_GW + '/24'},
                {'name': 'net_af_packet1', 'devargs': 'iface=wan', 'role': 'unprotected',
                 'address': [WAN_GW + '/24', WAN_GW6 + '/64']},
            ],
            'routes': [{'prefix': '10.2.0.0/24', 'via': PEER, 'port': 'net_af_packet1'}],
            # The peer's MAC configured: a static entry the dataplane's Neighbor
            # Discovery must not replace.
            'neighbors': [{'ip': PEER6, 'mac': peer_mac}],
            'static_sas': [out_sa(SPI_LAN, PEER, '10.1.0.0/24', '10.2.0.0/24'),
                           out_sa(SPI_PEER2, PEER2, WAN_GW + '/32', PEER2 + '/32')],
            'exception_interface': exception_interface,
            'poll_mode': 'adaptive',
        },
        'sa_channel': {'name': '/' + PREFIX},
        'logging': {'level': 'info'},
    }


class Gateway:
    def __init__(self, binary, config, workdir, name='gw'):
        self.prefix = '%s-%s' % (PREFIX, name)
        self.stats_path = os.path.join(workdir, 'stats-%s.json' % name)
        config_path = os.path.join(workdir, 'gateway-%s.json' % name)
        with open(config_path, 'w') as f:
            json.dump(config, f, indent=2)
        self.log_path = os.path.join(workdir, 'gateway-%s.log' % name)
        self.log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(['ip', 'netns', 'exec', NS_GW, os.path.abspath(binary), '--no-huge', '-m', '256',
                                      '--file-prefix', self.prefix, '--log-level', 'error', '--',
                                      '--config', config_path, '--stats', self.stats_path],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.channel = config['sa_channel']['name']

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
                self.proc.wait()
        self.log.close()
        # What the process leaves behind by design (the SA channel outlives
        # either end; EAL keeps its runtime directory): a test cleans it up.
        subprocess.run(['rm', '-rf', '/dev/shm' + self.channel, '/var/run/dpdk/' + self.prefix])
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
        f, addr = sock.recvfrom(65535)
        if addr[2] != socket.PACKET_OUTGOING:
            out.write(struct.pack("!I", len(f)) + f)
out.close()
'''


class Capture:
    """Every frame arriving on an interface of a namespace, through a packet socket."""

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


def in_ns(ns, code, *args, timeout=60):
    """Runs a Python snippet inside a namespace; returns its exit status and output."""
    r = subprocess.run(['ip', 'netns', 'exec', ns, '/usr/bin/python3', '-c', code] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return r.returncode, r.stdout


# Bound to a gateway address in the gateway's kernel: prints every datagram
# it gets (hex) and answers each with b"re:" + the datagram, until
# `expected` came or 10 s passed.
UDP_SERVER = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2]))); s.settimeout(10)
print("ready", flush=True)
expected = int(sys.argv[3])
got = 0
try:
    while got < expected:
        data, peer = s.recvfrom(2048)
        print("%s %s:%d" % (data.hex(), peer[0], peer[1]), flush=True)
        s.sendto(b"re:" + data, peer)
        got += 1
    s.settimeout(1)  # anything after the expected ones would show here
    data, peer = s.recvfrom(2048)
    print("%s %s:%d" % (data.hex(), peer[0], peer[1]), flush=True)
except socket.timeout:
    pass
'''

# The peer: sends each payload (hex) from its port to the gateway's, and
# prints what comes back for the ones that expect an answer ("+hex").
UDP_CLIENT = r'''
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2]))); s.settimeout(5)
for item in sys.argv[4:]:
    answer = item.startswith("+")
    s.sendto(bytes.fromhex(item.lstrip("+")), (sys.argv[3], int(sys.argv[2])))
    if answer:
        try:
            data, src = s.recvfrom(2048)
            print("%s %s:%d" % (data.hex(), src[0], src[1]), flush=True)
        except socket.timeout:
            print("timeout", flush=True)
    else:
        time.sleep(0.3)
'''

# The gateway's kernel sends datagrams from (source, sport) to (dst, dport), `count` times.
KERNEL_SENDER = r'''
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
for i in range(int(sys.argv[5])):
    s.sendto(b"from the gateway %d" % i, (sys.argv[3], int(sys.argv[4]))); time.sleep(0.2)
'''


def udp_exchange(port, items, expected):
    """A server in the gateway's kernel on WAN_GW:port, the peer sending `items`."""
    server = subprocess.Popen(['ip', 'netns', 'exec', NS_GW, '/usr/bin/python3', '-c', UDP_SERVER, WAN_GW,
                               str(port), str(expected)], stdout=subprocess.PIPE, text=True)
    server.stdout.readline()  # "ready": bound
    rc, client_out = in_ns(NS_PEER, UDP_CLIENT, PEER, str(port), WAN_GW, *items)
    server_out, _ = server.communicate(timeout=20)
    return [line.split() for line in server_out.splitlines()], [line.split() for line in client_out.splitlines()]


def ping(ns, address, count=PINGS):
    """(transmitted, received, duplicates, output)"""
    r = sh('ping', '-c', str(count), '-i', '0.2', '-W', '2', address, ns=ns, check_rc=False)
    tx = rx = dup = 0
    for line in r.stdout.splitlines():
        if 'packets transmitted' in line:
            parts = line.replace(',', '').split()
            tx, rx = int(parts[0]), int(parts[3])
            if 'duplicates' in line:
                dup = int(line.split('+')[1].split()[0])
    return tx, rx, dup, r.stdout


def checksums_complete(frame):
    """Whether the IPv4 header and UDP/ICMP/ICMPv6 checksums in `frame` are what they should be (scapy recomputes)."""
    e = Ether(frame)
    if IP in e:
        ip = e[IP]
        again = IP(bytes(ip))
        del again.chksum
        if IP(bytes(again)).chksum != ip.chksum:
            return False
        for layer in (UDP, ICMP):
            if layer in ip and not (ip.flags.MF or ip.frag):
                again = IP(bytes(ip))
                del again[layer].chksum
                if IP(bytes(again))[layer].chksum != ip[layer].chksum:
                    return False
    if IPv6 in e and ICMPv6EchoReply in e:
        again = IPv6(bytes(e[IPv6]))
        del again[ICMPv6EchoReply].cksum
        if IPv6(bytes(again))[ICMPv6EchoReply].cksum != e[ICMPv6EchoReply].cksum:
            return False
    return True


def refused(binary, peer_mac, workdir, interface, why):
    """A start with exception_interface `interface` fails, saying `why`; the interface keeps no address."""
    config = gateway_config(peer_mac, exception_interface=interface)
    config['sa_channel']['name'] = '/%s-clash' % PREFIX
    g = Gateway(binary, config, workdir, name='clash')
    try:
        g.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    rc, log = g.stop()
    check(rc == 1, 'exception_interface "%s" is a start failure: exit status %s' % (interface, rc))
    check(why in log, 'the log says why: "%s"' % (why if why in log else log[-400:]))
    link = json.loads(sh('ip', '-d', '-j', 'addr', 'show', interface, ns=NS_GW).stdout)[0]
    check(not [a for a in link['addr_info'] if a['scope'] == 'global'], '%s got no address' % interface)
    return link


def name_collisions(binary, peer_mac, workdir):
    """An interface of the exception interface's name exists already: a start failure, with the reason."""
    link = refused(binary, peer_mac, workdir, 'lan',
                   'cannot set up the exception interface lan: no DPDK device net_tap_corridor')
    check(link['linkinfo']['info_kind'] == 'veth', 'the lan veth is still a veth')
    # A persistent TAP: net_tap would attach to it rather than create its own.
    sh('ip', 'tuntap', 'add', 'dev', 'cortap9', 'mode', 'tap', 'multi_queue', ns=NS_GW)
    refused(binary, peer_mac, workdir, 'cortap9',
            'exception interface cortap9: the interface existed before this process (a persistent TAP)')
    sh('ip', 'tuntap', 'del', 'dev', 'cortap9', 'mode', 'tap', 'multi_queue', ns=NS_GW)


def run(binary, workdir):
    setup_topology()
    peer_mac = mac_of(NS_PEER, 'eth0')
    name_collisions(binary, peer_mac, workdir)

    gw = Gateway(binary, gateway_config(peer_mac), workdir)
    try:
        check(gw.wait_up(), 'gateway is up')
        if failures:
            return
        st = gw.stats()
        wan_mac = st['ports'][1]['mac']
        exc = st['exception_interface']
        check(exc is not None and exc['name'] == TAP, 'exception interface in the stats: %s' % exc)

        addr = json.loads(sh('ip', '-j', 'addr', 'show', TAP, ns=NS_GW).stdout)[0]
        have = sorted('%s/%d' % (a['local'], a['prefixlen']) for a in addr['addr_info'] if a['scope'] == 'global')
        check(have == sorted([LAN_GW + '/24', WAN_GW + '/24', WAN_GW6 + '/64']),
              'ip addr show %s: %s, %s' % (TAP, ' '.join(have), ','.join(addr['flags'])))
        check('UP' in addr['flags'] and addr['mtu'] == 1500 and addr['address'] == exc['kernel_mac'],
              '%s is up, MTU %d, MAC %s' % (TAP, addr['mtu'], addr['address']))
        routes = sh('ip', 'route', 'show', 'dev', TAP, ns=NS_GW).stdout
        check('10.2.0.0/24 proto static scope link src %s' % WAN_GW in routes,
              'the static route through the TAP: %s' % routes.strip().replace('\n', ' | '))
        ethtool = sh('ethtool', '-k', TAP, ns=NS_GW).stdout
        check('tx-checksumming: off' in ethtool, 'TX checksum offload is off on the TAP')

        capture = Capture(NS_PEER, 'eth0', os.path.join(workdir, 'peer.frames'))
        sent_to_gateway = 0  # frames the forwarder must have handed over for the kernel

        # 1. IKE on UDP 500.
        ike = b'IKE_SA_INIT from the peer'.hex()
        server, client = udp_exchange(500, ['+' + ike], 1)
        sent_to_gateway += 1
        check(server == [[ike, '%s:500' % PEER]], 'UDP 500: the kernel socket got the datagram: %s' % server)
        check(client == [[(b're:' + bytes.fromhex(ike)).hex(), '%s:500' % WAN_GW]],
              'UDP 500: its answer reached the peer: %s' % client)

        # 2. UDP 4500: a NAT keepalive (absorbed), then IKE behind the non-ESP marker.
        marked = (b'\0\0\0\0' + b'IKE_AUTH over NAT-T').hex()
        server, client = udp_exchange(4500, ['ff', '+' + marked], 1)
        sent_to_gateway += 1
        check(server == [[marked, '%s:4500' % PEER]],
              'UDP 4500: the kernel socket got the marked datagram, and not the keepalive: %s' % server)
        check(client == [[(b're:' + bytes.fromhex(marked)).hex(), '%s:4500' % WAN_GW]],
              'UDP 4500: its answer reached the peer: %s' % client)

        # 3.-5. ICMP echo from the LAN, the WAN, and over IPv6.
        sh('ip', '-6', 'neigh', 'replace', WAN_GW6, 'lladdr', wan_mac, 'dev', 'eth0', 'nud', 'permanent', ns=NS_PEER)
        replies = 0
        for ns, address, what in ((NS_HOST, LAN_GW, 'host -> gateway LAN'), (NS_PEER, WAN_GW, 'peer -> gateway WAN'),
                                  (NS_PEER, WAN_GW6, 'peer -> gateway WAN, IPv6')):
            tx, rx, dup, out = ping(ns, address)
            sent_to_gateway += tx
            replies += rx + dup
            check(tx == PINGS and rx == PINGS and dup == 0,
                  'ping %s (%s): %d sent, %d answered, %d duplicates' % (address, what, tx, rx, dup))
            if rx != PINGS or dup:
                print(out)

        # What reached the kernel so far, exactly: the next step's
        # datagrams make the peer send ICMP errors to the gateway too.
        before = gw.stats()['main']
        check(before['to_gateway'] == sent_to_gateway and before['to_kernel'] == sent_to_gateway and
              before['no_exception_interface'] == 0,
              'to_gateway %d = to_kernel %d = the %d frames sent to the gateway' %
              (before['to_gateway'], before['to_kernel'], sent_to_gateway))

        # 6. The kernel's own traffic and the SPD.
        sends = 5
        for args in ((LAN_GW, '7000', REMOTE_HOST, '9'),   # 10.1.0.0/24 -> 10.2.0.0/24: SA 0x3001
                     (WAN_GW, '7001', REMOTE_HOST, '9'),   # no policy: in the clear
                     (WAN_GW, '500', PEER2, '500'),        # IKE: in the clear although SA 0x3002's policy covers it
                     (WAN_GW, '7002', PEER2, '9')):        # SA 0x3002
            in_ns(NS_GW, KERNEL_SENDER, *args, str(sends))
        time.sleep(0.5)
        frames = capture.stop()

        ipv4 = [Ether(f) for f in frames if f[12:14] == b'\x08\x00']
        esp = {}
        for p in ipv4:
            if p[IP].proto == 50:
                spi = struct.unpack('!I', bytes(p[IP].payload)[:4])[0]
                esp.setdefault((p[IP].src, p[IP].dst, spi), 0)
                esp[(p[IP].src, p[IP].dst, spi)] += 1
        clear_udp = {(p[IP].src, p[UDP].sport, p[IP].dst, p[UDP].dport) for p in ipv4 if UDP in p}
        check(esp.get((WAN_GW, PEER, SPI_LAN), 0) >= sends - 1,
              'kernel UDP %s -> %s left as ESP SPI 0x%x (%d)' % (LAN_GW, REMOTE_HOST, SPI_LAN,
                                                                 esp.get((WAN_GW, PEER, SPI_LAN), 0)))
        check(not any(src == LAN_GW for src, _, _, _ in clear_udp), 'nothing from %s in the clear' % LAN_GW)
        check((WAN_GW, 7001, REMOTE_HOST, 9) in clear_udp, 'kernel UDP from %s (no policy) in the clear' % WAN_GW)
        check((WAN_GW, 500, PEER2, 500) in clear_udp, 'kernel IKE %s:500 -> %s:500 in the clear' % (WAN_GW, PEER2))
        check(esp.get((WAN_GW, PEER2, SPI_PEER2), 0) >= sends - 1 and (WAN_GW, 7002, PEER2, 9) not in clear_udp,
              'kernel UDP %s:7002 -> %s left as ESP SPI 0x%x (%d)' % (WAN_GW, PEER2, SPI_PEER2,
                                                                       esp.get((WAN_GW, PEER2, SPI_PEER2), 0)))

        # 7. Checksums of what the kernel sent (UDP answers, echo replies, the kernel's datagrams).
        from_kernel = [f for f in frames if (f[12:14] == b'\x08\x00' and IP in Ether(f) and Ether(f)[IP].proto != 50)
                       or (f[12:14] == b'\x86\xdd' and ICMPv6EchoReply in Ether(f))]
        bad = [Ether(f).summary() for f in from_kernel if not checksums_complete(f)]
        # UDP answers, echo replies (IPv4 and IPv6), the clear datagrams; the
        # first to 192.0.2.3 may be lost while the dataplane resolves it.
        check(len(from_kernel) >= 2 + 2 * PINGS + 2 * sends - 1 and not bad,
              '%d frames from the kernel on the wire, checksums complete%s' %
              (len(from_kernel), (': bad ' + ', '.join(bad[:3])) if bad else ''))
        v6_replies = [f for f in from_kernel if f[12:14] == b'\x86\xdd']
        check(len(v6_replies) == PINGS and all(Ether(f).src == wan_mac for f in v6_replies),
              '%d ICMPv6 echo replies from the WAN port' % len(v6_replies))

        # 8. The counters.
        st = gw.stats()
        m, fwd, exc = st['main'], st['forwarding'], st['exception_interface']
        print('   main: %s' % json.dumps({k: v for k, v in m.items() if v}))
        print('   exception_interface: %s' % json.dumps(exc))
        check(m['to_gateway'] == m['to_kernel'] and m['no_exception_interface'] == 0,
              'to_gateway %d = to_kernel %d (with the ICMP errors the peer sent back)' % (m['to_gateway'], m['to_kernel']))
        kernel_sent = 2 + replies + 4 * sends
        check(m['kernel_ip'] >= kernel_sent, 'kernel_ip %d >= %d IP packets the kernel sent' % (m['kernel_ip'], kernel_sent))
        parts = ('kernel_arp_answered', 'kernel_nd_answered', 'kernel_ip', 'kernel_link_local', 'kernel_ignored',
                 'kernel_unsupported')
        check(m['from_kernel'] == sum(m[k] for k in parts) and m['from_kernel'] == exc['ipackets'],
              'from_kernel %d = %s, = the TAP\'s ipackets %d' % (m['from_kernel'], ' + '.join(str(m[k]) for k in parts),
                                                                exc['ipackets']))
        check(m['kernel_arp_answered'] >= 2 and m['kernel_nd_answered'] >= 1,
              'the kernel\'s ARP (%d) and neighbor solicitations (%d) answered' %
              (m['kernel_arp_answered'], m['kernel_nd_answered']))
        check(exc['opackets'] == m['to_kernel'] + m['kernel_arp_answered'] + m['kernel_nd_answered'] and
              m['kernel_tx_failed'] == 0 and exc['oerrors'] == 0 and m['kernel_unsupported'] == 0,
              'the TAP took every frame: opackets %d' % exc['opackets'])
        check(fwd['nat_keepalives'] == 1, 'NAT keepalives absorbed: %d' % fwd['nat_keepalives'])
        check(fwd['drops']['no_route'] == 0 and fwd['drops']['bad_ip_header'] == 0 and
              fwd['drops']['policy_discard'] == 0,
              'no kernel packet without a route or with a bad header: %s' %
              {k: v for k, v in fwd['drops'].items() if v})
    finally:
        rc, log = gw.stop()
    check(rc == 0, 'gateway stopped cleanly (exit %s)' % rc)
    check(sh('ip', 'link', 'show', TAP, ns=NS_GW, check_rc=False).returncode != 0,
          '%s is gone with the process' % TAP)
    if failures:
        print('--- gateway log ---\n' + log)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 64
    if os.geteuid() != 0:
        print('needs root (network namespaces, packet sockets, a TAP)')
        return 77
    with tempfile.TemporaryDirectory(prefix='corridor-exc-') as workdir:
        try:
            run(sys.argv[1], workdir)
        except Exception as e:  # a setup step failed: say which, clean up
            check(False, 'unexpected: %r' % e)
        finally:
            teardown_topology()
    print('%d failures' % len(failures) if failures else 'exception path test passed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
