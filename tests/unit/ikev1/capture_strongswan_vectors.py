#!/usr/bin/python3
"""Records an IKEv1 exchange between two strongSwan 5.9.8 charons as test vectors for
common/ikev1 (strongswan_vectors_test.cc):

    sudo /usr/bin/python3 tests/unit/ikev1/capture_strongswan_vectors.py [OUT.json]

Main Mode with a pre-shared key (aes256-sha256-modp2048, as the harness's ikev1-main-psk
case) and a Quick Mode with PFS (esp aes128-sha256-modp2048), A initiating. What is kept:
every ISAKMP datagram on the wire in order (the non-ESP marker of port 4500 removed), the
PSK, and what A's charon logs at level 4 ('raw sensitive'): g^xy, SKEYID, SKEYID_d/a/e,
the Phase 1 encryption key, and the Quick Mode's DH secret. The test then does with
Corridor's code what strongSwan did: derives the keys from g^xy and the nonces on the
wire, decrypts Main Mode 5/6 and the Quick Mode, verifies HASH_I/HASH_R and HASH(1..3).
The vectors come from an independent implementation; this script only records them.
"""

import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'interop', 'strongswan'))
import strongswan as sw  # noqa: E402

PSK = 'corridor-ikev1-vector-psk-0123456789'
# What charon logs at level 4 that the test checks (keymat_v1.c, task_manager_v1.c, quick_mode.c).
LABELS = ('shared Diffie Hellman secret', 'SKEYID', 'SKEYID_d', 'SKEYID_a', 'SKEYID_e', 'encryption key Ka',
          'initial IV', 'HASH_I', 'HASH_R', 'Hash(1)', 'Hash(2)', 'Hash(3)', 'DH secret',
          'encryption initiator key', 'integrity initiator key', 'encryption responder key',
          'integrity responder key')


def dumps(log, label):
    """Hex of every DBG4 chunk dump '<label> => N bytes @ 0x...' followed by '   0: 3A 4B ...' lines."""
    out = []
    lines = log.splitlines()
    rx = re.compile(r'[\]>] %s => (\d+) bytes @' % re.escape(label))
    for i, line in enumerate(lines):
        m = rx.search(line)
        if not m:
            continue
        n = int(m.group(1))
        data = ''
        for follow in lines[i + 1:]:
            h = re.match(r'\s*\S*\s*\d+: ((?:[0-9A-F]{2} ?)+)', follow.split('] ')[-1] if '] ' in follow else follow)
            if not h:
                break
            data += h.group(1).replace(' ', '')
            if len(data) >= 2 * n:
                break
        out.append(data[:2 * n].lower())
    return out


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                  'data', 'strongswan_main_mode_psk.json')
    wd = sw.workdir()
    try:
        with sw.Topology() as topo:
            net = topo.two_peers()
            a_local, a_remote = sw.Auth('psk', 'left.corridor.test'), sw.Auth('psk', 'right.corridor.test')
            psks = [sw.Psk(PSK, ['left.corridor.test', 'right.corridor.test'])]
            conn_a = sw.Connection('gw', [net.left_addr], [net.right_addr],
                                   [sw.Child('net', [net.left_subnet], [net.right_subnet],
                                             esp_proposals=['aes128-sha256-modp2048'], rekey_time='0')],
                                   version=1, proposals=['aes256-sha256-modp2048'], local=a_local, remote=a_remote,
                                   rekey_time='0', dpd_delay='0')
            conn_b = conn_a.mirror([net.right_addr], [net.left_seen_as], local=a_remote, remote=a_local)
            levels = {'ike': 4, 'chd': 4, 'lib': 4, 'enc': 1}
            a = sw.Charon(net.ns_left, os.path.join(wd, 'A'), [conn_a], psks, log_levels=levels, name='A')
            b = sw.Charon(net.ns_right, os.path.join(wd, 'B'), [conn_b], psks, name='B')
            pcap = os.path.join(wd, 'wan.pcap')
            capture = topo.capture(net.ns_right, 'wan', pcap, 'udp port 500 or udp port 4500')
            try:
                b.start()
                a.start()
                ok, log = a.initiate(child='net', timeout=15, check=False)
                if not ok:
                    raise SystemExit('initiate failed:\n' + '\n'.join(log[-20:]))
                a.wait_sa('gw', timeout=5)
                topo.stop_capture(capture)
                log = a.log()
                if os.environ.get("KEEP_LOG"):
                    open(os.environ["KEEP_LOG"], "w").write(log)
            finally:
                a.stop()
                b.stop()
            grams = []
            for src, sport, dst, dport, payload in sw.udp_datagrams(sw.read_pcap(pcap)):
                if sport == 4500 or dport == 4500:
                    if payload[:4] != b'\0\0\0\0':
                        continue  # ESP in UDP or a keepalive
                    payload = payload[4:]
                if len(payload) < 28:
                    continue
                grams.append({'from': 'A' if src == net.left_addr else 'B', 'hex': payload.hex()})
        vectors = {
            'source': 'strongSwan 5.9.8, two charons, IKEv1 Main Mode PSK, captured by %s' % os.path.basename(__file__),
            'psk': PSK.encode().hex(),
            'ike_proposal': 'aes256-sha256-modp2048',
            'esp_proposal': 'aes128-sha256-modp2048',
            'datagrams': grams,
            'strongswan_a': {label: dumps(log, label) for label in LABELS},
        }
        os.makedirs(os.path.dirname(out_path), exist_ok=True)
        with open(out_path, 'w') as f:
            json.dump(vectors, f, indent=1)
            f.write('\n')
        print('%d datagrams; %s' % (len(grams), {k: len(v) for k, v in vectors['strongswan_a'].items()}))
    finally:
        shutil.rmtree(wd, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
