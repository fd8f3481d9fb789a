#!/usr/bin/python3
"""corridor-dataplane end to end on net_pcap ports with static SAs.

    /usr/bin/python3 tests/integration/dataplane_pcap_test.py BUILD/dataplane/corridor-dataplane

For every algorithm family (AES-GCM, ChaCha20-Poly1305, AES-CBC + HMAC,
AES-CTR + HMAC, AES-GMAC, NULL + HMAC, AH) and for NAT-T, the real process
runs with two net_pcap ports: clear frames from a LAN host and ESP/AH frames
that scapy protected for the peer's SA go in; the test then checks, with
scapy (tests/interop/ipsec_scapy.py) as the independent implementation,
that every clear packet left the WAN port protected under the outbound SA
and every protected packet left the LAN port decrypted, TTL decremented;
that ARP for the gateway was answered; and that the bad frames were dropped
under their names in the process's --stats counters.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from scapy.all import ARP, Ether, IP, IPv6, UDP, Raw, rdpcap, wrpcap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, '..', 'interop', 'ipsec_scapy.py')

LAN_MAC, WAN_MAC = '02:00:00:00:01:01', '02:00:00:00:02:01'   # the gateway's ports
HOST_MAC, PEER_MAC = '02:00:00:00:0a:0a', '02:00:00:00:0b:0b'
SIZES = (0, 1, 100, 1000)
# The LAN keeps an IPv4 address in every case (for the ARP check).
LAN_GW4 = '10.1.0.1'
# Addresses per family: the LAN side (inner packets) and the WAN side (outer).
INNER = {4: {'gw': '10.1.0.1', 'host': '10.1.0.10', 'net': '10.1.0.0/24', 'remote': '10.2.0.5',
             'remote_net': '10.2.0.0/24', 'elsewhere': '10.3.0.1'},
         6: {'gw': '2001:db8:a::1', 'host': '2001:db8:a::10', 'net': '2001:db8:a::/64', 'remote': '2001:db8:b::5',
             'remote_net': '2001:db8:b::/64', 'elsewhere': '2001:db8:c::1'}}
OUTER = {4: {'gw': '192.0.2.1', 'peer': '192.0.2.2', 'len': 24},
         6: {'gw': '2001:db8:1::1', 'peer': '2001:db8:1::2', 'len': 64}}

# name, proposal, oracle crypt, oracle auth, encryption key bytes, integrity key bytes, protocol, NAT-T,
# inner family, outer family
CASES = [
    ('aes128gcm16', 'aes128gcm16', 'AES-GCM', None, 20, 0, 'esp', False, 4, 4),
    ('aes256gcm16 nat-t', 'aes256gcm16', 'AES-GCM', None, 36, 0, 'esp', True, 4, 4),
    ('chacha20poly1305', 'chacha20poly1305', 'CHACHA20-POLY1305', None, 36, 0, 'esp', False, 4, 4),
    ('aes256-sha256', 'aes256-sha256', 'AES-CBC', 'HMAC-SHA2-256-128', 32, 32, 'esp', False, 4, 4),
    ('aes128ctr-sha512', 'aes128ctr-sha512', 'AES-CTR', 'HMAC-SHA2-512-256', 20, 64, 'esp', False, 4, 4),
    ('aes128gmac', 'aes128gmac', 'AES-NULL-GMAC', None, 20, 0, 'esp', False, 4, 4),
    ('null-sha384', 'null-sha384', 'NULL', 'HMAC-SHA2-384-192', 0, 48, 'esp', False, 4, 4),
    ('ah sha256', 'sha256', None, 'HMAC-SHA2-256-128', 0, 32, 'ah', False, 4, 4),
    ('aes128gcm16 6-in-6', 'aes128gcm16', 'AES-GCM', None, 20, 0, 'esp', False, 6, 6),
    ('aes256-sha256 4-in-6', 'aes256-sha256', 'AES-CBC', 'HMAC-SHA2-256-128', 32, 32, 'esp', False, 4, 6),
    ('chacha20poly1305 6-in-4 nat-t', 'chacha20poly1305', 'CHACHA20-POLY1305', None, 36, 0, 'esp', True, 6, 4),
    ('ah sha512 6-in-6', 'sha512', None, 'HMAC-SHA2-512-256', 0, 64, 'ah', False, 6, 6),
]

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print('FAIL: ' + what)


def oracle(request, workdir):
    req, resp = os.path.join(workdir, 'req.json'), os.path.join(workdir, 'resp.json')
    with open(req, 'w') as f:
        json.dump(request, f)
    subprocess.run(['/usr/bin/python3', ORACLE, req, resp], check=True)
    with open(resp) as f:
        return json.load(f)['cases'][0]['packets']


def oracle_sa(case, spi, key, integ_key, src, dst):
    name, proposal, crypt, auth, klen, ilen, proto, natt, inner, outer = case
    sa = {'proto': proto, 'spi': spi, 'mode': 'tunnel', 'tunnel_src': src, 'tunnel_dst': dst,
          'crypt_algo': crypt, 'crypt_key': key.hex() if crypt else None,
          'auth_algo': auth, 'auth_key': integ_key.hex() if auth else None,
          'esn': False, 'nat_t': {'sport': 4500, 'dport': 4500} if natt else None}
    return sa


def static_sa(case, direction, spi, key, integ_key):
    name, proposal, crypt, auth, klen, ilen, proto, natt, inner, outer = case
    sa = {'spi': spi, 'direction': direction, 'protocol': proto, 'mode': 'tunnel',
          'local': OUTER[outer]['gw'], 'remote': OUTER[outer]['peer'], 'proposal': proposal,
          'local_ts': [INNER[inner]['net']], 'remote_ts': [INNER[inner]['remote_net']]}
    if klen:
        sa['key'] = key.hex()
    if ilen:
        sa['integ_key'] = integ_key.hex()
    if natt:
        sa['encap'] = {'sport': 4500, 'dport': 4500}
    return sa


def clear_packet(size, src, dst, ttl=64):
    """A UDP packet with `size` bytes of payload (IPv4 or IPv6 by the addresses)."""
    payload = (bytes(range(256)) * 4)[:size]
    udp = UDP(sport=4000 + size, dport=53) / Raw(payload)
    if ':' in src:
        return IPv6(bytes(IPv6(src=src, dst=dst, hlim=ttl) / udp))
    return IP(bytes(IP(src=src, dst=dst, ttl=ttl, id=size) / udp))


def bad_checksum(ipv4):
    """The IPv4 packet with its header checksum off by one bit."""
    b = bytearray(ipv4)
    b[11] ^= 0x01
    return bytes(b)


def parse_ip(data):
    return IPv6(data) if data[0] >> 4 == 6 else IP(data)


def forwarded(pkt):
    """What the gateway forwards: the same packet, TTL / hop limit one less."""
    p = parse_ip(bytes(pkt))
    if isinstance(p, IPv6):
        p.hlim -= 1
        return bytes(p)
    p.ttl -= 1
    del p.chksum
    return bytes(IP(bytes(p)))


def run_case(binary, case, workdir, index):
    name, proposal, crypt, auth, klen, ilen, proto, natt, inner, outer = case
    lan, wan = INNER[inner], OUTER[outer]
    out_key, out_integ = os.urandom(klen), os.urandom(ilen)
    in_key, in_integ = os.urandom(klen), os.urandom(ilen)
    out_spi, in_spi = 0x1000 + index, 0x2000 + index

    # Input: the LAN host's frames.
    lan_clear = [clear_packet(s, lan['host'], lan['remote']) for s in SIZES]
    lan_in = [Ether(src=HOST_MAC, dst=LAN_MAC) / p for p in lan_clear]
    lan_in.append(Ether(src=HOST_MAC, dst='ff:ff:ff:ff:ff:ff') / ARP(op=1, hwsrc=HOST_MAC, psrc='10.1.0.10', pdst=LAN_GW4))
    lan_in.append(Ether(src=HOST_MAC, dst=LAN_MAC) / clear_packet(10, lan['host'], lan['elsewhere']))  # no policy
    lan_in.append(Ether(src=HOST_MAC, dst=LAN_MAC) / clear_packet(11, lan['host'], lan['remote'], ttl=1))  # TTL exceeded
    lan_in.append(Ether(src=HOST_MAC, dst='02:00:00:00:99:99') / clear_packet(12, lan['host'], lan['remote']))  # another station's
    bad_headers = 0
    if inner == 4:  # RFC 1812 §5.2.2: a wrong IPv4 header checksum is dropped, not forwarded
        lan_in.append(Ether(src=HOST_MAC, dst=LAN_MAC, type=0x0800) /
                      Raw(bad_checksum(bytes(clear_packet(13, lan['host'], lan['remote'])))))
        bad_headers += 1

    # Input: the peer's protected frames, made by scapy.
    wan_clear = [clear_packet(s, lan['remote'], lan['host']) for s in SIZES]
    packets = [{'seq': i + 1, 'hex': bytes(p).hex()} for i, p in enumerate(wan_clear)]
    request = {'cases': [{'name': name, 'op': 'encrypt',
                          'sa': oracle_sa(case, in_spi, in_key, in_integ, wan['peer'], wan['gw']), 'packets': packets}]}
    protected = [bytes.fromhex(p['hex']) for p in oracle(request, workdir)]
    wan_in = [Ether(src=PEER_MAC, dst=WAN_MAC) / parse_ip(p) for p in protected]
    forged = bytearray(protected[1])
    forged[-1] ^= 0x01                                       # ICV (AH: payload) changed
    wan_in.append(Ether(src=PEER_MAC, dst=WAN_MAC) / parse_ip(bytes(forged)))
    unknown = parse_ip(protected[2])                         # an SPI nobody has
    layer = unknown.payload.payload if natt else unknown.payload
    layer.spi = 0x7777
    wan_in.append(Ether(src=PEER_MAC, dst=WAN_MAC) / parse_ip(bytes(unknown)))
    if outer == 4:  # a protected packet whose outer header checksum is wrong
        wan_in.append(Ether(src=PEER_MAC, dst=WAN_MAC, type=0x0800) / Raw(bad_checksum(protected[0])))
        bad_headers += 1
    keepalives = 0
    if natt:
        outer_ip = IPv6(src=wan['peer'], dst=wan['gw']) if outer == 6 else IP(src=wan['peer'], dst=wan['gw'])
        wan_in.append(Ether(src=PEER_MAC, dst=WAN_MAC) / outer_ip / UDP(sport=4500, dport=4500) / Raw(b'\xff'))
        keepalives = 1

    paths = {k: os.path.join(workdir, k + '.pcap') for k in ('lan_in', 'lan_out', 'wan_in', 'wan_out')}
    wrpcap(paths['lan_in'], lan_in)
    wrpcap(paths['wan_in'], wan_in)
    config = {
        'dataplane': {
            'ports': [
                {'name': 'net_pcap0', 'devargs': 'rx_pcap=%s,tx_pcap=%s' % (paths['lan_in'], paths['lan_out']),
                 'mac': LAN_MAC, 'role': 'protected',
                 'address': [LAN_GW4 + '/24'] + ([lan['gw'] + '/64'] if inner == 6 else [])},
                {'name': 'net_pcap1', 'devargs': 'rx_pcap=%s,tx_pcap=%s' % (paths['wan_in'], paths['wan_out']),
                 'mac': WAN_MAC, 'role': 'unprotected', 'address': '%s/%d' % (wan['gw'], wan['len'])},
            ],
            'neighbors': [{'ip': lan['host'], 'mac': HOST_MAC}, {'ip': wan['peer'], 'mac': PEER_MAC}],
            # Only the outer packet is routed outbound (the SPD picks the SA);
            # a route for the remote network is what an operator writes anyway.
            'routes': [{'prefix': lan['remote_net'], 'via': wan['peer'], 'port': 'net_pcap1'}] if inner == outer else [],
            'static_sas': [static_sa(case, 'out', out_spi, out_key, out_integ),
                           static_sa(case, 'in', in_spi, in_key, in_integ)],
            'poll_mode': 'adaptive',
        },
        'sa_channel': {'name': '/corridor-pcap-test-%d-%d' % (os.getpid(), index)},
        'logging': {'level': 'warning'},
    }
    config_path, stats_path = os.path.join(workdir, 'config.json'), os.path.join(workdir, 'stats.json')
    with open(config_path, 'w') as f:
        json.dump(config, f)
    cmd = [binary, '--no-huge', '-m', '256', '--file-prefix', 'corridor-pcap-%d-%d' % (os.getpid(), index),
           '--log-level', 'error', '--', '--config', config_path, '--stats', stats_path]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    expected_rx = len(lan_in) + len(wan_in)
    stats = None
    deadline = time.time() + 30
    try:
        # The process writes the stats file once it is up; from then on
        # SIGUSR1 asks for a fresh one.
        while time.time() < deadline and proc.poll() is None and not os.path.exists(stats_path):
            time.sleep(0.1)
        while time.time() < deadline and proc.poll() is None:
            proc.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
            with open(stats_path) as f:
                stats = json.load(f)
            if stats['forwarding']['rx'] >= expected_rx:
                break
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
        # The SA channel segment and EAL's runtime directory outlive the process by design.
        subprocess.run(['rm', '-rf', '/dev/shm' + config['sa_channel']['name'],
                        '/var/run/dpdk/corridor-pcap-%d-%d' % (os.getpid(), index)])
    check(proc.returncode == 0, '%s: exit status %s, output:\n%s' % (name, proc.returncode, output))
    if proc.returncode != 0:
        return
    with open(stats_path) as f:
        stats = json.load(f)
    fwd = stats['forwarding']
    check(fwd['rx'] == expected_rx, '%s: received %d of %d frames' % (name, fwd['rx'], expected_rx))

    # WAN side: every clear packet protected under the outbound SA.
    wan_out = [bytes(p) for p in rdpcap(paths['wan_out'])] if os.path.getsize(paths['wan_out']) > 24 else []
    check(len(wan_out) == len(SIZES), '%s: %d protected frames out, expected %d' % (name, len(wan_out), len(SIZES)))
    for frame in wan_out:
        check(frame[:6] == bytes.fromhex(PEER_MAC.replace(':', '')) and frame[6:12] == bytes.fromhex(WAN_MAC.replace(':', '')),
              '%s: WAN frame not addressed peer <- gateway' % name)
    request = {'cases': [{'name': name, 'op': 'decrypt', 'sa': oracle_sa(case, out_spi, out_key, out_integ, wan['gw'], wan['peer']),
                          'packets': [{'hex': f[14:].hex()} for f in wan_out]}]}
    got = oracle(request, workdir) if wan_out else []
    for i, (g, want) in enumerate(zip(got, lan_clear)):
        check(g.get('hex') == forwarded(want).hex(), '%s: outbound packet %d: %s' % (name, i, g.get('error', 'differs')))

    # LAN side: the ARP reply, then the decrypted packets.
    lan_out = [bytes(p) for p in rdpcap(paths['lan_out'])] if os.path.getsize(paths['lan_out']) > 24 else []
    arp = [Ether(f) for f in lan_out if Ether(f).type == 0x0806]
    check(len(arp) == 1 and arp[0][ARP].op == 2 and arp[0][ARP].hwsrc == LAN_MAC and arp[0][ARP].psrc == LAN_GW4,
          '%s: no ARP reply for the gateway' % name)
    ip_out = [f[14:] for f in lan_out if Ether(f).type in (0x0800, 0x86dd)]
    check([p.hex() for p in ip_out] == [forwarded(p).hex() for p in wan_clear],
          '%s: decrypted packets differ from what the peer sent' % name)

    drops = fwd['drops']
    for reason, count in (('no_policy', 1), ('ttl_exceeded', 1), ('other_host', 1), ('no_sa', 1),
                          ('bad_ip_header', bad_headers)):
        check(drops.get(reason) == count, '%s: %s = %s, expected %d' % (name, reason, drops.get(reason), count))
    check(fwd['nat_keepalives'] == keepalives, '%s: NAT keepalives %d' % (name, fwd['nat_keepalives']))
    inbound = [s for s in stats['sas'] if s['direction'] == 'in']
    check(len(inbound) == 1 and inbound[0]['drops'].get('icv_failure') == 1,
          '%s: the forged packet was not counted as icv_failure: %s' % (name, inbound))
    check(inbound and inbound[0]['packets'] == len(SIZES), '%s: inbound SA packets %s' % (name, inbound))
    print('ok: %s (%d frames in, %d out)' % (name, expected_rx, len(wan_out) + len(lan_out)))


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 64
    for index, case in enumerate(CASES):
        with tempfile.TemporaryDirectory(prefix='corridor-pcap-') as workdir:
            run_case(argv[1], case, workdir, index)
    if failures:
        print('%d failures' % len(failures))
        return 1
    print('all %d cases passed' % len(CASES))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
