#!/usr/bin/python3
"""corridor-control against strongSwan 5.9.8 over IKEv1, in network namespaces.

Like strongswan_ikev2_test.py (whose Corridor runner it uses): corridor-control
alone, IPsec SAs queued in its SA channel, strongSwan the real peer forcing
UDP encapsulation (so every case floats to port 4500 from Main Mode message
5). Each case checks what both sides report: strongSwan's list-sas (vici) and
Corridor's SA list (--status FILE, `ikev1_sas`) must agree on the states
(ESTABLISHED/INSTALLED there, MM_DONE/QM_DONE here), the algorithms, the
cookies and both ESP SPIs; then strongSwan deletes and Corridor must follow.
Main Mode and Aggressive Mode with pre-shared keys and with RSA and ECDSA
certificates (one CA, swanctl-style pubkey auth on both sides). Three more cases
follow an ISAKMP SA over time (run_lifecycle): re-established by Corridor's
rekey_time or by strongSwan's reauthentication, with the IPsec SA carried over
on both sides, and Dead Peer Detection both ways up to a killed charon.

Usage: strongswan_ikev1_test.py CORRIDOR_CONTROL [-v] [CASE ...]
Exits 77 (skipped) without root or strongSwan.
"""

import os
import re
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
             corridor_child_rekey=None, aggressive=False, certs=None, fragmented=False):
    wd = sw.workdir()
    corridor = None
    try:
        with sw.Topology() as topo:
            net = topo.two_peers(nat=nat)
            conn = sw.Connection('gw', [net.left_addr], [net.right_addr],
                                 [sw.Child('net', [net.left_subnet], [net.right_subnet], esp_proposals=[esp])],
                                 version=1, proposals=[proposal], aggressive=aggressive or None,
                                 local=sw.Auth('psk', LEFT_ID), remote=sw.Auth('psk', RIGHT_ID))
            pki, keys = None, ()
            if certs:
                # Certificates (RSA or ECDSA signatures over HASH_I/HASH_R) from one CA;
                # each side trusts only that CA.
                pki = sw.make_pki(os.path.join(wd, 'pki'), {'left': LEFT_ID, 'right': RIGHT_ID}, key_type=certs)
                conn.local = sw.Auth('pubkey', LEFT_ID, certs=[pki.hosts['left'].cert])
                conn.remote = sw.Auth('pubkey', RIGHT_ID, cacerts=[pki.ca_cert])
                keys = [(certs, pki.hosts['left'].key)]
            peer_conn = conn.mirror([net.right_addr], ['%any'] if nat else [net.left_seen_as],
                                    local=sw.Auth('pubkey', RIGHT_ID, certs=['right.pem']) if certs else None,
                                    remote=sw.Auth('pubkey', LEFT_ID, cacerts=['ca.pem']) if certs else None)
            if corridor_initiates:
                conn.children[0].start_action = 'start'
            if fragmented:
                # strongSwan fragments whatever exceeds its fragment_size (1280); Corridor
                # (fragmentation yes, the default) answers in fragments as strongSwan announced them.
                peer_conn.fragmentation = 'force'
            if corridor_child_rekey:
                # Corridor renews by time; strongSwan's own rekeying is off so that only one side does.
                conn.children[0].rekey_time = corridor_child_rekey
                conn.children[0].life_time = '60s'
                peer_conn.children[0].rekey_time = '0'
            psks = [sw.Psk(PSK, [LEFT_ID, RIGHT_ID])]
            with sw.Charon(net.ns_right, os.path.join(wd, 'peer'), [peer_conn], [] if certs else psks,
                           aggressive_psk=aggressive and not certs, pki=pki,
                           host='right' if certs else None) as peer:
                peer.start()
                corridor = Corridor(topo, net.ns_left, binary, wd, conn, [] if certs else psks, keys)
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
                if certs:
                    scheme = 'RSA' if certs == 'rsa' else 'ECDSA P-256'
                    check(("'%s' authenticated with an %s signature" % (RIGHT_ID, scheme)) in log,
                          'Corridor did not log verifying the %s signature of %s' % (scheme, RIGHT_ID))
                    check(peer.grep_log(r"authentication of '%s' with" % re.escape(LEFT_ID)),
                          'strongSwan did not log verifying our signature')
                if fragmented:
                    frags = corridor.sas()['ikev1']['fragments']
                    check(frags['sent'] >= 2 and frags['reassembled'] >= 1,
                          'Corridor did not fragment and reassemble: %s' % frags)
                    check(peer.grep_log(r'splitting IKE message'), 'strongSwan did not send fragments')
                    check(peer.grep_log(r'received fragment #'), 'strongSwan did not receive our fragments')
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



def isakmp_sas(corridor):
    """Corridor's established ISAKMP SAs, less those a newer one superseded (they hold
    no IPsec SAs and wait for the peer's delete or their lifetime, as strongSwan's old
    SA waits in REKEYING)."""
    return [s for s in corridor.sas()['ikev1_sas'] if s['state'] in ('MM_DONE', 'AM_DONE') and not s['superseded']]


def wait_one_sa(corridor, peer, old_cookies, spis, what, timeout=30):
    """Waits until each side has exactly one ISAKMP SA, the same one, other than
    `old_cookies`, holding the one IPsec SA with Corridor's (spi_in, spi_out) `spis`."""
    deadline = time.time() + timeout
    last = 'nothing yet'
    while time.time() < deadline:
        ours, theirs = isakmp_sas(corridor), [s for s in peer.list_sas() if s['state'] == 'ESTABLISHED']
        if len(ours) == 1 and len(theirs) == 1:
            o, t = ours[0], theirs[0]
            cookies = (o['spi_i'], o['spi_r'])
            kids = [c for c in t['child-sas'] if c['state'] == 'INSTALLED']
            mine = [(c['spi_in'], c['spi_out']) for c in o['children'] if c['state'] == 'QM_DONE']
            if cookies != old_cookies and cookies == (t['initiator-spi'], t['responder-spi']) and \
                    mine == [spis] and len(kids) == 1 and \
                    ('0x' + spi_hex(kids[0]['spi-out']), '0x' + spi_hex(kids[0]['spi-in'])) == spis:
                return o
            last = 'Corridor %s with %s, strongSwan %s/%s with %s' % (
                cookies, mine, t['initiator-spi'], t['responder-spi'],
                [(c['spi-in'], c['spi-out']) for c in kids])
        else:
            last = 'Corridor %d ISAKMP SAs, strongSwan %d IKE SAs' % (len(ours), len(theirs))
        time.sleep(0.3)
    raise Failure('%s: no single renewed ISAKMP SA carrying IPsec SA %s on both sides (%s)' % (what, spis, last))


def run_lifecycle(binary, name, kind, verbose=False):
    """What happens to an established ISAKMP SA over time, against strongSwan:
    kind 'corridor-reestablishes' / 'peer-reestablishes': the ISAKMP SA is made
    anew before its lifetime ends (by Corridor's rekey_time, or strongSwan's
    `swanctl --rekey --ike`, which is IKEv1 reauthentication); both sides must
    end with one new ISAKMP SA and the IPsec SA carried over unchanged.
    kind 'dpd': both sides probe each other (RFC 3706) while idle; then charon
    is killed, Corridor must declare the peer dead within dpd_timeout, close
    the SAs and (dpd_action restart) negotiate again once charon is back."""
    wd = sw.workdir()
    corridor = peer = None
    try:
        with sw.Topology() as topo:
            net = topo.two_peers()
            conn = sw.Connection('gw', [net.left_addr], [net.right_addr],
                                 [sw.Child('net', [net.left_subnet], [net.right_subnet], esp_proposals=['aes128gcm16'])],
                                 version=1, proposals=['aes128-sha256-modp2048'],
                                 local=sw.Auth('psk', LEFT_ID), remote=sw.Auth('psk', RIGHT_ID))
            peer_conn = conn.mirror([net.right_addr], [net.left_seen_as])
            peer_conn.rekey_time = peer_conn.reauth_time = '0'  # strongSwan renews only when told to
            if kind == 'corridor-reestablishes':
                conn.rekey_time = '10s'
                conn.extra = {'over_time': '20s', 'rand_time': '2s'}
                # strongSwan probes Corridor meanwhile (Corridor, hearing from it, never needs to).
                peer_conn.dpd_delay = '2s'
            if kind == 'dpd':
                # Only Corridor probes: R-U-THERE from strongSwan would prove it alive (RFC 3706
                # counts any message from the peer), and Corridor would never probe.
                conn.dpd_delay = '2s'
                conn.extra = {'dpd_timeout': '6s'}
                conn.children[0].dpd_action = 'restart'
            conn.children[0].start_action = 'start'
            psks = [sw.Psk(PSK, [LEFT_ID, RIGHT_ID])]
            peer = sw.Charon(net.ns_right, os.path.join(wd, 'peer'), [peer_conn], psks)
            with peer:
                peer.start()
                corridor = Corridor(topo, net.ns_left, binary, wd, conn, psks)
                first, _ = wait_v1(corridor)
                peer.wait_sa('gw', timeout=15)
                cookies = (first['spi_i'], first['spi_r'])
                spis = (first['children'][0]['spi_in'], first['children'][0]['spi_out'])
                if kind == 'corridor-reestablishes':
                    now = wait_one_sa(corridor, peer, cookies, spis, 'Corridor re-established', timeout=25)
                    check(now['initiator'], 'the renewed ISAKMP SA is not Corridor-initiated')
                    stats = corridor.sas()['ikev1']
                    check(stats['phase1_reestablished'] >= 1, 'Corridor counted no re-establishment: %s' % stats)
                    check('re-establishing the ISAKMP SA' in corridor.log(), 'Corridor did not log the renewal')
                    check(peer.grep_log(r'detected reauth of existing IKE_SA, adopting 1 children'),
                          'strongSwan did not take the IPsec SA over to the new ISAKMP SA')
                    check(stats['dpd']['answered'] >= 2, 'strongSwan\'s R-U-THERE went unanswered: %s' % stats['dpd'])
                    check(stats['dpd']['sent'] == 0, 'Corridor probed a peer it kept hearing from: %s' % stats['dpd'])
                elif kind == 'peer-reestablishes':
                    check(peer.rekey(ike='gw'), 'strongSwan refused to reauthenticate the ISAKMP SA')
                    now = wait_one_sa(corridor, peer, cookies, spis, 'strongSwan re-established', timeout=20)
                    check(not now['initiator'], 'Corridor initiated the renewed ISAKMP SA, not strongSwan')
                    check('takes over 1 IPsec SA(s)' in corridor.log(), 'Corridor did not log the take-over')
                    # strongSwan keeps its old SA (REKEYING) until it ends; Corridor's twin is superseded.
                    old = [s for s in corridor.sas()['ikev1_sas'] if (s['spi_i'], s['spi_r']) == cookies]
                    check(not old or (old[0]['superseded'] and not old[0]['children']),
                          'Corridor\'s old ISAKMP SA is still in use: %s' % old)
                else:
                    deadline = time.time() + 15
                    stats = corridor.sas()['ikev1']
                    while time.time() < deadline and stats['dpd']['acknowledged'] < 2:
                        time.sleep(0.5)
                        stats = corridor.sas()['ikev1']
                    check(stats['dpd']['acknowledged'] >= 2, 'strongSwan did not answer R-U-THERE: %s' % stats['dpd'])
                    check(stats['dpd']['dead_peers'] == 0 and len(isakmp_sas(corridor)) == 1,
                          'Corridor gave up on a live peer: %s' % stats)
                    peer.crash()
                    killed = time.time()
                    corridor.wait_log('DPD: no answer from', 15)
                    took = time.time() - killed
                    check(took <= 6 + 2 + 2, 'dead peer declared after %.1f s (dpd_timeout 6 s, delay 2 s)' % took)
                    stats = corridor.sas()['ikev1']
                    check(stats['dpd']['dead_peers'] == 1, 'Corridor counters: %s' % stats['dpd'])
                    check('restarting net of gw (dpd_action restart)' in corridor.log(), 'Corridor did not restart')
                    peer.start()
                    deadline = time.time() + 30
                    while time.time() < deadline:
                        again = [s for s in isakmp_sas(corridor) if s['children'] and s['spi_i'] != cookies[0]]
                        if again:
                            break
                        time.sleep(0.3)
                    check(again, 'Corridor did not negotiate again after charon came back: %s' %
                          corridor.sas()['ikev1_sas'])
                    peer_sa = peer.wait_sa('gw', timeout=15)
                    check((again[0]['spi_i'], again[0]['spi_r']) == (peer_sa['initiator-spi'], peer_sa['responder-spi']),
                          'the new ISAKMP SA differs between the two sides')
                rc = corridor.stop()
                check(rc == 0, 'corridor-control exited with %s' % rc)
        if verbose:
            print(corridor.log())
        return None
    except (Failure, sw.HarnessError) as e:
        log = corridor.log() if corridor else ''
        return '%s\n--- corridor log (tail) ---\n%s\n--- strongSwan log (tail) ---\n%s' % (
            e, '\n'.join(log.splitlines()[-40:]), peer.log_tail(400) if peer else '')
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
    # Certificates: strongSwan initiates Main Mode with RSA signatures; Corridor
    # initiates with ECDSA P-256 (RFC 4754 method 9); Aggressive Mode with RSA.
    'responder-main-rsa-certs': dict(
        corridor_initiates=False, certs='rsa', proposal='aes256-sha256-modp3072', esp='aes128-sha256-modp3072',
        expect={'ike': {'encr-alg': 'AES_CBC', 'encr-keysize': 256, 'dh-group': 'MODP_3072'},
                'child': {'encr-alg': 'AES_CBC', 'encr-keysize': 128, 'dh-group': 'MODP_3072'},
                'corridor_proposal': 'IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072',
                'corridor_child': 'ESP:AES_CBC_128/HMAC_SHA2_256_128/MODP_3072/NO_EXT_SEQ'}),
    'initiator-main-ecdsa-certs': dict(
        corridor_initiates=True, certs='ecdsa', proposal='aes128-sha256-ecp256', esp='aes256gcm16',
        expect={'ike': {'encr-alg': 'AES_CBC', 'encr-keysize': 128, 'dh-group': 'ECP_256'},
                'child': {'encr-alg': 'AES_GCM_16', 'encr-keysize': 256},
                'corridor_proposal': 'IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/ECP_256',
                'corridor_child': 'ESP:AES_GCM_16_256/NO_EXT_SEQ'}),
    # IKEv1 fragmentation: RSA-3072 certificates make Main Mode 5/6 larger than
    # 1280 bytes; both sides send them in fragments and join the other's.
    'initiator-main-rsa-certs-fragmented': dict(
        corridor_initiates=True, certs='rsa', fragmented=True, proposal='aes256-sha256-modp2048', esp='aes256gcm16',
        expect={'ike': {'encr-alg': 'AES_CBC', 'encr-keysize': 256, 'dh-group': 'MODP_2048'},
                'child': {'encr-alg': 'AES_GCM_16', 'encr-keysize': 256},
                'corridor_proposal': 'IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048',
                'corridor_child': 'ESP:AES_GCM_16_256/NO_EXT_SEQ'}),
    'initiator-aggressive-rsa-certs': dict(
        corridor_initiates=True, aggressive=True, certs='rsa', proposal='aes256-sha384-modp3072', esp='aes256-sha256',
        expect={'ike': {'encr-alg': 'AES_CBC', 'encr-keysize': 256, 'dh-group': 'MODP_3072'},
                'child': {'encr-alg': 'AES_CBC', 'encr-keysize': 256},
                'corridor_proposal': 'IKE:AES_CBC_256/HMAC_SHA2_384_192/PRF_HMAC_SHA2_384/MODP_3072',
                'corridor_child': 'ESP:AES_CBC_256/HMAC_SHA2_256_128/NO_EXT_SEQ'}),
    # Corridor initiates from behind a NAT that remaps ports.
    'initiator-nat': dict(
        corridor_initiates=True, nat=True, proposal='aes256-sha384-modp3072', esp='aes256-sha256',
        expect={'ike': {'encr-alg': 'AES_CBC', 'encr-keysize': 256, 'dh-group': 'MODP_3072'},
                'child': {'encr-alg': 'AES_CBC', 'encr-keysize': 256, 'integ-alg': 'HMAC_SHA2_256_128'},
                'corridor_proposal': 'IKE:AES_CBC_256/HMAC_SHA2_384_192/PRF_HMAC_SHA2_384/MODP_3072',
                'corridor_child': 'ESP:AES_CBC_256/HMAC_SHA2_256_128/NO_EXT_SEQ'}),
    # Life after establishment: ISAKMP SA re-establishment by either side, Dead Peer Detection.
    'corridor-reestablishes': dict(kind='corridor-reestablishes'),
    'peer-reestablishes': dict(kind='peer-reestablishes'),
    'dpd': dict(kind='dpd'),
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
        case = dict(CASES[name])
        runner = run_lifecycle if 'kind' in case else run_case
        error = runner(binary, name, verbose=verbose, **case)
        print('%s %s (%.1f s)' % ('PASS' if error is None else 'FAIL', name, time.time() - start))
        if error:
            print('  ' + error.replace('\n', '\n  '))
            failed += 1
    print('%d passed, %d failed' % (len(wanted) - failed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
