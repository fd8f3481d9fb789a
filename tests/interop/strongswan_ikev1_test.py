#!/usr/bin/python3
"""corridor-control against strongSwan 5.9.8 over IKEv1, in network namespaces.

Like strongswan_ikev2_test.py (whose Corridor runner it uses): corridor-control
alone, IPsec SAs queued in its SA channel, strongSwan the real peer forcing
UDP encapsulation (so every case floats to port 4500 from Main Mode message
5). Each case checks what both sides report: strongSwan's list-sas (vici) and
Corridor's SA list (--status FILE, `ikev1_sas`) must agree on the states
(ESTABLISHED/INSTALLED there, MM_DONE/QM_DONE here), the algorithms, the
cookies and both ESP SPIs; then strongSwan deletes and Corridor must follow.
Main Mode and Aggressive Mode, both with pre-shared keys.

Usage: strongswan_ikev1_test.py CORRIDOR_CONTROL [-v] [CASE ...]
Exits 77 (skipped) without root or strongSwan.
"""

import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'strongswan'))
sys.path.insert(0, HERE)
import strongswan as sw  # noqa: E402
from strongswan_ikev2_test import Corridor, Failure, check, spi_hex, PSK, LEFT_ID, RIGHT_ID  # noqa: E402


def wait_v1(corridor, timeout=15):
    """Corridor's ISAKMP SA once it is MM_DONE with an installed IPsec SA."""
    deadline = time.time() + timeout
    status = None
    while time.time() < deadline:
        status = corridor.sas()
        done = [s for s in status['ikev1_sas'] if s['state'] in ('MM_DONE', 'AM_DONE') and s['children']]
        if done:
            return done[0], status
        time.sleep(0.1)
    raise Failure('Corridor has no MM_DONE ISAKMP SA with an IPsec SA: %s' % (status and status.get('ikev1_sas')))


def wait_renewed(corridor, peer, old_spi_in, what, timeout=20):
    """Both sides agree on one installed IPsec SA other than `old_spi_in` (Corridor's)."""
    deadline = time.time() + timeout
    last = 'nothing'
    while time.time() < deadline:
        ours = [s for s in corridor.sas()['ikev1_sas'] if s['state'] in ('MM_DONE', 'AM_DONE')]
        theirs = peer.list_sas('gw')
        mine = [c for c in ours[0]['children'] if c['state'] == 'QM_DONE'] if len(ours) == 1 else []
        their = [c for c in theirs[0]['child-sas'] if c['state'] == 'INSTALLED'] if len(theirs) == 1 else []
        if len(mine) == 1 and len(their) == 1:
            m, t = mine[0], their[0]
            if m['spi_in'] != old_spi_in and m['spi_in'] == '0x' + spi_hex(t['spi-out']) and \
                    m['spi_out'] == '0x' + spi_hex(t['spi-in']):
                return m
            last = 'Corridor %s/%s, strongSwan %s/%s' % (m['spi_in'], m['spi_out'], t['spi-out'], t['spi-in'])
        else:
            last = 'Corridor %d IPsec SAs, strongSwan %d' % (len(mine), len(their))
        time.sleep(0.2)
    raise Failure('%s: the two sides do not agree on a renewed IPsec SA (%s)' % (what, last))


def compare(ours, peer_sa, expect, nat):
    check(peer_sa['state'] == 'ESTABLISHED', 'strongSwan IKE SA state %s' % peer_sa['state'])
    check(peer_sa['version'] == 1, 'strongSwan says IKEv%s' % peer_sa['version'])
    for key, value in expect['ike'].items():
        check(str(peer_sa.get(key)) == str(value), 'strongSwan %s is %r, expected %r' % (key, peer_sa.get(key), value))
    check(ours['proposal'] == expect['corridor_proposal'],
          'Corridor negotiated %s, expected %s' % (ours['proposal'], expect['corridor_proposal']))
    check(ours['spi_i'] == peer_sa['initiator-spi'] and ours['spi_r'] == peer_sa['responder-spi'],
          'cookies differ: Corridor %s/%s, strongSwan %s/%s' % (ours['spi_i'], ours['spi_r'],
                                                                 peer_sa['initiator-spi'], peer_sa['responder-spi']))
    check(peer_sa['local-port'] == 4500, 'IKE did not float to port 4500 (strongSwan at %s)' % peer_sa['local-port'])
    if nat:
        check(40000 <= peer_sa['remote-port'] <= 40999, 'strongSwan sees Corridor at port %s, not behind the NAT' %
              peer_sa['remote-port'])
    check(peer_sa['remote-id'] == LEFT_ID, 'strongSwan sees Corridor as %s' % peer_sa['remote-id'])
    check(ours['remote_id'] == RIGHT_ID, 'Corridor sees strongSwan as %s' % ours['remote_id'])
    children = [c for c in peer_sa['child-sas'] if c['state'] == 'INSTALLED']
    check(len(children) == 1, 'strongSwan has %d installed IPsec SAs' % len(children))
    child, mine = children[0], ours['children'][0]
    check(mine['state'] == 'QM_DONE', 'Corridor IPsec SA in %s' % mine['state'])
    check(child['encap'] is True and mine['encapsulation'], 'IPsec SA not UDP-encapsulated on both sides')
    for key, value in expect['child'].items():
        check(str(child.get(key)) == str(value), 'strongSwan child %s is %r, expected %r' % (key, child.get(key), value))
    check(mine['spi_in'] == '0x' + spi_hex(child['spi-out']) and mine['spi_out'] == '0x' + spi_hex(child['spi-in']),
          'ESP SPIs differ: Corridor in %s out %s, strongSwan in %s out %s' % (
              mine['spi_in'], mine['spi_out'], child['spi-in'], child['spi-out']))
    check(mine['proposal'] == expect['corridor_child'],
          'Corridor IPsec SA %s, expected %s' % (mine['proposal'], expect['corridor_child']))


def run_case(binary, name, corridor_initiates, proposal, esp, expect, nat=False, verbose=False, peer_rekeys=False,
             corridor_child_rekey=None, aggressive=False):
    wd = sw.workdir()
    corridor = None
    try:
        with sw.Topology() as topo:
            net = topo.two_peers(nat=nat)
            conn = sw.Connection('gw', [net.left_addr], [net.right_addr],
                                 [sw.Child('net', [net.left_subnet], [net.right_subnet], esp_proposals=[esp])],
                                 version=1, proposals=[proposal], aggressive=aggressive or None,
                                 local=sw.Auth('psk', LEFT_ID), remote=sw.Auth('psk', RIGHT_ID))
            peer_conn = conn.mirror([net.right_addr], ['%any'] if nat else [net.left_seen_as])
            if corridor_initiates:
                conn.children[0].start_action = 'start'
            if corridor_child_rekey:
                # Corridor renews by time; strongSwan's own rekeying is off so that only one side does.
                conn.children[0].rekey_time = corridor_child_rekey
                conn.children[0].life_time = '60s'
                peer_conn.children[0].rekey_time = '0'
            psks = [sw.Psk(PSK, [LEFT_ID, RIGHT_ID])]
            with sw.Charon(net.ns_right, os.path.join(wd, 'peer'), [peer_conn], psks,
                           aggressive_psk=aggressive) as peer:
                peer.start()
                corridor = Corridor(topo, net.ns_left, binary, wd, conn, psks)
                if not corridor_initiates:
                    ok, lines = peer.initiate(child='net', timeout=15, check=False)
                    check(ok, 'strongSwan initiate failed:\n' + '\n'.join(lines[-15:]))
                ours, _ = wait_v1(corridor)
                peer_sa = peer.wait_sa('gw', timeout=15)
                deadline = time.time() + 10
                while not [c for c in peer_sa['child-sas'] if c['state'] == 'INSTALLED'] and time.time() < deadline:
                    time.sleep(0.2)
                    peer_sa = peer.wait_sa('gw', timeout=15)
                check(len(peer.list_sas()) == 1, 'strongSwan has %d IKE SAs, not 1' % len(peer.list_sas()))
                compare(ours, peer_sa, expect, nat)
                check(ours['initiator'] == corridor_initiates, 'Corridor initiator flag %s' % ours['initiator'])
                if nat:
                    check(ours['nat']['local'], 'Corridor did not see its own NAT')
                log = corridor.log()
                if aggressive:
                    steps = (['AM_IDLE -> AM_INIT_SENT', 'AM_RESP_RCVD -> AM_DONE', 'QM_RESP_RCVD -> QM_DONE']
                             if corridor_initiates else
                             ['AM_IDLE -> AM_INIT_RCVD', 'AM_RESP_SENT -> AM_DONE', 'QM_RESP_SENT -> QM_DONE'])
                    check(peer.grep_log(r'generating AGGRESSIVE'), 'strongSwan did not use Aggressive Mode')
                else:
                    steps = (['MM_IDLE -> MM_SA_SENT', 'MM_AUTH_SENT -> MM_DONE', 'QM_RESP_RCVD -> QM_DONE']
                             if corridor_initiates else
                             ['MM_IDLE -> MM_SA_RCVD', 'MM_AUTH_RCVD -> MM_DONE', 'QM_RESP_SENT -> QM_DONE'])
                for step in steps:
                    check(step in log, 'Corridor did not log %s' % step)
                renewals = 0
                if peer_rekeys:
                    # strongSwan renews the IPsec SA with a new Quick Mode over the same ISAKMP SA.
                    check(peer.rekey(child='net'), 'strongSwan refused to start a Quick Mode rekey')
                    wait_renewed(corridor, peer, ours['children'][0]['spi_in'], 'after strongSwan renewed the IPsec SA')
                    renewals += 1
                if corridor_child_rekey:
                    wait_renewed(corridor, peer, ours['children'][0]['spi_in'], 'after Corridor renewed the IPsec SA',
                                 timeout=30)
                    check(corridor.sas()['ikev1']['ipsec_sas_rekeyed'] >= 1, 'Corridor counted no renewal')
                    renewals += 1
                # Delete: strongSwan terminates; Corridor must drop the IPsec and ISAKMP SAs.
                peer.terminate(ike='gw', timeout=10, check=False)
                deadline = time.time() + 5
                while corridor.sas()['ikev1_sas'] and time.time() < deadline:
                    time.sleep(0.1)
                check(not corridor.sas()['ikev1_sas'], 'Corridor kept the ISAKMP SA strongSwan deleted')
                check('the peer deleted the ISAKMP SA' in corridor.log(), 'Corridor did not log the delete')
                stats = corridor.sas()['ikev1']
                check(stats['ipsec_sas_installed'] == 1 + renewals and stats['ipsec_sas_deleted'] == 1 + renewals,
                      'Corridor counters: %s' % stats)
                rc = corridor.stop()
                check(rc == 0, 'corridor-control exited with %s' % rc)
        if verbose:
            print(corridor.log())
        return None
    except (Failure, sw.HarnessError) as e:
        log = corridor.log() if corridor else ''
        return '%s\n--- corridor log (tail) ---\n%s' % (e, '\n'.join(log.splitlines()[-40:]))
    finally:
        if corridor:
            corridor.stop()
        shutil.rmtree(wd, ignore_errors=True)


CASES = {
    # strongSwan initiates Main Mode; Quick Mode with PFS (MODP-2048).
    'responder-main-psk-pfs': dict(
        corridor_initiates=False, proposal='aes256-sha256-modp2048', esp='aes128-sha256-modp2048', peer_rekeys=True,
        expect={'ike': {'encr-alg': 'AES_CBC', 'encr-keysize': 256, 'integ-alg': 'HMAC_SHA2_256_128',
                        'prf-alg': 'PRF_HMAC_SHA2_256', 'dh-group': 'MODP_2048'},
                'child': {'encr-alg': 'AES_CBC', 'encr-keysize': 128, 'integ-alg': 'HMAC_SHA2_256_128',
                          'dh-group': 'MODP_2048', 'protocol': 'ESP', 'mode': 'TUNNEL'},
                'corridor_proposal': 'IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048',
                'corridor_child': 'ESP:AES_CBC_128/HMAC_SHA2_256_128/MODP_2048/NO_EXT_SEQ'}),
    # Corridor initiates; AES-GCM in Quick Mode without PFS, ECP-256 in Phase 1.
    'initiator-main-psk-gcm': dict(
        corridor_initiates=True, proposal='aes128-sha256-ecp256', esp='aes256gcm16', corridor_child_rekey='8s',
        expect={'ike': {'encr-alg': 'AES_CBC', 'encr-keysize': 128, 'dh-group': 'ECP_256'},
                'child': {'encr-alg': 'AES_GCM_16', 'encr-keysize': 256},
                'corridor_proposal': 'IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/ECP_256',
                'corridor_child': 'ESP:AES_GCM_16_256/NO_EXT_SEQ'}),
    # Aggressive Mode with a PSK, both ways (allow_aggressive_psk on Corridor's
    # side, charon.i_dont_care_about_security_and_use_aggressive_mode_psk on strongSwan's).
    'responder-aggressive-psk': dict(
        corridor_initiates=False, aggressive=True, proposal='aes256-sha256-modp2048', esp='aes256gcm16',
        expect={'ike': {'encr-alg': 'AES_CBC', 'encr-keysize': 256, 'dh-group': 'MODP_2048'},
                'child': {'encr-alg': 'AES_GCM_16', 'encr-keysize': 256},
                'corridor_proposal': 'IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048',
                'corridor_child': 'ESP:AES_GCM_16_256/NO_EXT_SEQ'}),
    'initiator-aggressive-psk': dict(
        corridor_initiates=True, aggressive=True, proposal='aes128-sha256-modp3072', esp='aes128-sha256',
        expect={'ike': {'encr-alg': 'AES_CBC', 'encr-keysize': 128, 'dh-group': 'MODP_3072'},
                'child': {'encr-alg': 'AES_CBC', 'encr-keysize': 128},
                'corridor_proposal': 'IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072',
                'corridor_child': 'ESP:AES_CBC_128/HMAC_SHA2_256_128/NO_EXT_SEQ'}),
    # Corridor initiates from behind a NAT that remaps ports.
    'initiator-nat': dict(
        corridor_initiates=True, nat=True, proposal='aes256-sha384-modp3072', esp='aes256-sha256',
        expect={'ike': {'encr-alg': 'AES_CBC', 'encr-keysize': 256, 'dh-group': 'MODP_3072'},
                'child': {'encr-alg': 'AES_CBC', 'encr-keysize': 256, 'integ-alg': 'HMAC_SHA2_256_128'},
                'corridor_proposal': 'IKE:AES_CBC_256/HMAC_SHA2_384_192/PRF_HMAC_SHA2_384/MODP_3072',
                'corridor_child': 'ESP:AES_CBC_256/HMAC_SHA2_256_128/NO_EXT_SEQ'}),
}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('-')]
    verbose = '-v' in sys.argv
    if not args:
        print(__doc__)
        return 64
    binary, wanted = os.path.abspath(args[0]), args[1:] or list(CASES)
    if os.geteuid() != 0 or not os.path.exists(sw.CHARON):
        print('SKIP: needs root and strongSwan (scripts/deps.sh test)')
        return 77
    failed = 0
    for name in wanted:
        start = time.time()
        error = run_case(binary, name, verbose=verbose, **CASES[name])
        print('%s %s (%.1f s)' % ('PASS' if error is None else 'FAIL', name, time.time() - start))
        if error:
            print('  ' + error.replace('\n', '\n  '))
            failed += 1
    print('%d passed, %d failed' % (len(wanted) - failed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
