#!/usr/bin/python3
"""corridor-control against strongSwan 5.9.8 over IKEv2, in network namespaces.

Corridor runs alone (no dataplane: IKE on the namespace's kernel stack, Child
SAs queued in its SA channel); strongSwan is the real peer (PEERS.md: it
always forces UDP encapsulation, so every case exercises NAT-T floating).
Each case checks what both sides report: strongSwan's list-sas (vici) and
Corridor's SA list (--status FILE, written on SIGUSR1) must agree on the
state, the algorithms, the IKE SPIs and both Child SA SPIs.

Usage: strongswan_ikev2_test.py CORRIDOR_CONTROL [-v] [CASE ...]
Exits 77 (skipped) without root or strongSwan.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'strongswan'))
import strongswan as sw  # noqa: E402

PSK = 'correct horse battery staple, but longer'
LEFT_ID, RIGHT_ID = 'left.corridor.test', 'right.corridor.test'


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Corridor:
    """corridor-control in a namespace, with its config, log and status file."""

    def __init__(self, topo, ns, binary, wd, connection, psks, keys=()):
        self.topo, self.ns, self.wd = topo, ns, wd
        self.config = os.path.join(wd, 'corridor.json')
        self.log_path = os.path.join(wd, 'corridor.log')
        self.status = os.path.join(wd, 'status.json')
        self.sequence = 0  # of the latest status file read
        self.channel = '/corridor-interop-%d-%d' % (os.getpid(), int(time.time() * 1000) % 100000)
        doc = {'connections': {connection.name: connection.corridor()},
               'secrets': sw.corridor_secrets(psks, keys),
               'sa_channel': {'name': self.channel, 'command_slots': 256, 'event_slots': 256},
               'logging': {'level': 'debug', 'file': self.log_path}}
        with open(self.config, 'w') as f:
            json.dump(doc, f, indent=1)
        check_run = subprocess.run([binary, '--config', self.config, '--check'], capture_output=True, text=True)
        check(check_run.returncode == 0, 'corridor-control --check refused the config:\n' + check_run.stdout +
              check_run.stderr)
        self.proc = topo.popen(ns, [binary, '--config', self.config, '--status', self.status],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_log('IKE listening on UDP', 10)

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def wait_log(self, text, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.log():
                return
            if self.proc.poll() is not None:
                raise Failure('corridor-control exited (%s) waiting for %r' % (self.proc.returncode, text))
            time.sleep(0.05)
        raise Failure('corridor-control never logged %r' % text)

    def sas(self):
        """The SA list, freshly written on SIGUSR1."""
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                with open(self.status) as f:
                    status = json.load(f)
                if status['sequence'] > self.sequence:
                    self.sequence = status['sequence']
                    return status
            except (FileNotFoundError, json.JSONDecodeError):
                pass
            time.sleep(0.02)
        raise Failure('corridor-control did not write its status file')

    def wait_established(self, timeout=10, children=1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            status = self.sas()
            est = [s for s in status['ike_sas'] if s['state'] == 'ESTABLISHED' and len(s['children']) >= children]
            if est:
                return est[0], status
            time.sleep(0.1)
        raise Failure('Corridor has no ESTABLISHED IKE SA with %d child(ren): %s' % (children, json.dumps(self.sas())))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.unlink('/dev/shm' + self.channel)
        except FileNotFoundError:
            pass
        return self.proc.returncode


def spi_hex(value):
    """vici prints SPIs as hex strings ('c1a2b3c4'); Corridor as '0xc1a2b3c4'."""
    return '%08x' % int(str(value), 16)


def compare(corridor_sa, peer_sa, expect, nat):
    """The two views of one IKE SA and its Child SA agree."""
    check(peer_sa['state'] == 'ESTABLISHED', 'strongSwan IKE SA state %s' % peer_sa['state'])
    check(peer_sa['version'] == 2, 'strongSwan says IKEv%s' % peer_sa['version'])
    for key, value in expect['ike'].items():
        check(str(peer_sa.get(key)) == str(value), 'strongSwan %s is %r, expected %r' % (key, peer_sa.get(key), value))
    check(corridor_sa['proposal'] == expect['corridor_proposal'],
          'Corridor negotiated %s, expected %s' % (corridor_sa['proposal'], expect['corridor_proposal']))
    check(corridor_sa['spi_i'] == peer_sa['initiator-spi'] and corridor_sa['spi_r'] == peer_sa['responder-spi'],
          'IKE SPIs differ: Corridor %s_i %s_r, strongSwan %s_i %s_r' % (
              corridor_sa['spi_i'], corridor_sa['spi_r'], peer_sa['initiator-spi'], peer_sa['responder-spi']))
    check(peer_sa['local-port'] == 4500, 'IKE did not float to port 4500')
    if nat:  # the NAT remapped Corridor's port 4500 into its range
        check(40000 <= peer_sa['remote-port'] <= 40999, 'strongSwan sees Corridor at port %s, not behind the NAT' %
              peer_sa['remote-port'])
    else:
        check(peer_sa['remote-port'] == 4500, 'strongSwan sees Corridor at port %s' % peer_sa['remote-port'])
    children = peer_sa['child-sas']
    want = len(corridor_sa['children'])
    check(len(children) == want, 'strongSwan has %d Child SAs, Corridor %d' % (len(children), want))
    for ours in corridor_sa['children'][1:]:  # further children: the same pair under the same name
        theirs = [c for c in children if c['name'] == ours['name']]
        check(len(theirs) == 1 and theirs[0]['state'] == 'INSTALLED' and
              ours['spi_in'] == '0x' + spi_hex(theirs[0]['spi-out']) and
              ours['spi_out'] == '0x' + spi_hex(theirs[0]['spi-in']),
              'Child SA %s differs: Corridor %s/%s, strongSwan %s' % (ours['name'], ours['spi_in'], ours['spi_out'],
                                                                     theirs))
    child = [c for c in children if c['name'] == corridor_sa['children'][0]['name']][0]
    check(child['state'] == 'INSTALLED', 'strongSwan Child SA state %s' % child['state'])
    check(child['encap'] is True, 'strongSwan Child SA not UDP-encapsulated')
    for key, value in expect['child'].items():
        check(str(child.get(key)) == str(value), 'strongSwan child %s is %r, expected %r' % (key, child.get(key), value))
    ours = corridor_sa['children'][0]
    check(ours['encapsulation'], 'Corridor Child SA not UDP-encapsulated')
    check(ours['spi_in'] == '0x' + spi_hex(child['spi-out']) and ours['spi_out'] == '0x' + spi_hex(child['spi-in']),
          'Child SPIs differ: Corridor in %s out %s, strongSwan in %s out %s' % (
              ours['spi_in'], ours['spi_out'], child['spi-in'], child['spi-out']))
    check(ours['proposal'] == expect['corridor_child'],
          'Corridor child %s, expected %s' % (ours['proposal'], expect['corridor_child']))


def wait_agreement(corridor, peer, what, changed_from=None, timeout=15):
    """Both sides show one IKE SA with one installed Child SA, the same SPIs, and (when
    given) SPIs other than `changed_from` ((ike spi_i, child spi_in) of Corridor before;
    either may be None: that one need not change, the other must)."""
    deadline = time.time() + timeout
    last = 'nothing'
    while time.time() < deadline:
        status = corridor.sas()
        ours = [s for s in status['ike_sas'] if s['state'] == 'ESTABLISHED']
        theirs = peer.list_sas('gw')
        # strongSwan lists a rekeyed Child SA as REKEYED/DELETED for a while
        # (charon.delete_rekeyed_delay, 5 s): compare the installed ones.
        our_children = [c for c in ours[0]['children'] if c['state'] == 'INSTALLED'] if len(ours) == 1 else []
        their_children = [c for c in theirs[0]['child-sas'] if c['state'] == 'INSTALLED'] if len(theirs) == 1 else []
        if len(ours) == 1 and len(theirs) == 1 and len(our_children) == 1 and len(their_children) == 1 and \
                len(status['ike_sas']) == 1:
            o, t = ours[0], theirs[0]
            c, tc = our_children[0], their_children[0]
            same = (o['spi_i'] == t['initiator-spi'] and o['spi_r'] == t['responder-spi'] and
                    c['spi_in'] == '0x' + spi_hex(tc['spi-out']) and c['spi_out'] == '0x' + spi_hex(tc['spi-in']) and
                    tc['state'] == 'INSTALLED')
            fresh = changed_from is None or \
                (changed_from[0] is not None and o['spi_i'] != changed_from[0]) or \
                (changed_from[1] is not None and c['spi_in'] != changed_from[1])
            if same and fresh:
                return o
            last = 'Corridor %s/%s, strongSwan %s/%s' % (o['spi_i'], c['spi_in'], t['initiator-spi'], tc['spi-out'])
        time.sleep(0.2)
    raise Failure('%s: the two sides do not agree (%s)' % (what, last))


def check_rekeys(corridor, peer, sa):
    """strongSwan rekeys the Child SA, then the IKE SA; Corridor follows each, and the
    Child SA survives the IKE SA rekey."""
    check(peer.rekey(child='net'), 'strongSwan refused to start a Child SA rekey')
    after_child = wait_agreement(corridor, peer, 'after strongSwan rekeyed the Child SA',
                                 changed_from=(sa['spi_i'], sa['children'][0]['spi_in']))
    check(after_child['spi_i'] == sa['spi_i'], 'the IKE SA changed on a Child SA rekey')
    status = corridor.sas()
    check(status['ike']['child_sas_rekeyed'] >= 1, 'Corridor counted no Child SA rekey')
    check(peer.rekey(ike='gw'), 'strongSwan refused to start an IKE SA rekey')
    after_ike = wait_agreement(corridor, peer, 'after strongSwan rekeyed the IKE SA',
                               changed_from=(after_child['spi_i'], None))
    check(after_ike['spi_i'] != after_child['spi_i'], 'IKE SPIs did not change on an IKE SA rekey')
    installed = lambda sa: [c for c in sa['children'] if c['state'] == 'INSTALLED'][0]  # noqa: E731
    check(installed(after_ike)['spi_in'] == installed(after_child)['spi_in'],
          'the Child SA did not move to the rekeyed IKE SA')
    check(corridor.sas()['ike']['ike_sas_rekeyed'] >= 1, 'Corridor counted no IKE SA rekey')
    return after_ike


def block_ike(ns, peer_addr, on):
    """Drops (on) or passes again (off) the IKE datagrams from `peer_addr` arriving in `ns`."""
    if on:
        rules = ('table inet corridor_block {\n'
                 '  chain input {\n'
                 '    type filter hook input priority 0; policy accept;\n'
                 '    ip saddr %s udp dport { 500, 4500 } drop\n'
                 '  }\n'
                 '}\n') % peer_addr
        r = subprocess.run(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], input=rules, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    else:
        r = subprocess.run(['ip', 'netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'corridor_block'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check(r.returncode == 0, 'nft in %s: %s' % (ns, r.stdout))


def check_rekey_collision(corridor, peer, sa, net):
    """Both ends rekey the Child SA at once (RFC 7296 §2.8.1), and each answers the
    other's request before its own response arrives, so both settle by the nonces.

    Corridor rekeys by time, at a second it announces (rand_time 0). strongSwan is
    told to rekey 8 s before, while its datagrams to Corridor are dropped: its
    request Y is lost, its first retransmission (4 s) too. Corridor's request X
    reaches strongSwan while Y is out: strongSwan answers it (the answer is
    dropped). The drop ends 1.6 s after Corridor's rekey, so strongSwan's second
    retransmission of Y (11.2 s after Y) reaches Corridor while X is out, and
    Corridor answers it; then X's retransmission (4 s after X) is answered from
    strongSwan's cache and both settle. One pair must be left on each side, the
    same one."""
    child = sa['children'][0]
    before = (sa['spi_i'], child['spi_in'])
    rekey_at = time.time() + child['rekey_in_seconds']  # the earliest it can be (whole seconds)
    check(child['rekey_in_seconds'] >= 9, 'the Child SA rekeys too soon to stage a collision (%s s)' %
          child['rekey_in_seconds'])
    time.sleep(max(0.0, rekey_at - 8.5 - time.time()))
    block_ike(net.ns_left, net.right_addr, True)
    try:
        time.sleep(max(0.0, rekey_at - 8 - time.time()))
        check(peer.rekey(child='net'), 'strongSwan refused to rekey the Child SA')
        time.sleep(max(0.0, rekey_at + 1.6 - time.time()))
    finally:
        block_ike(net.ns_left, net.right_addr, False)
    # Corridor settles when the response to X arrives (X's retransmission,
    # 4 s after X): strongSwan may have settled and deleted a pair before.
    deadline = time.time() + 15
    while time.time() < deadline and corridor.sas()['ike']['child_rekey_collisions'] < 1:
        time.sleep(0.2)
    status = corridor.sas()
    check(status['ike']['child_rekey_collisions'] == 1,
          'Corridor saw %s rekey collisions, not 1 (the staging missed?)' % status['ike']['child_rekey_collisions'])
    deadline = time.time() + 10
    while time.time() < deadline:
        after = wait_agreement(corridor, peer, 'after the rekey collision', changed_from=before, timeout=20)
        status = corridor.sas()
        children = [c for s in status['ike_sas'] for c in s['children']]
        if len(children) == 1:
            break
        time.sleep(0.2)
    check(len(children) == 1, 'Corridor kept %d Child SAs after the collision: %s' %
          (len(children), [(c['spi_in'], c['state']) for c in children]))
    check(peer.grep_log(r'CHILD_SA rekey collision (won|lost)'),
          'strongSwan did not log a rekey collision')
    check('was rekeyed by both ends at once' in corridor.log(), 'Corridor did not log the collision')
    return after


def check_reauth(corridor, peer, sa):
    """Corridor reauthenticates by reauth_time (a new IKE SA and Child SA, then the old IKE
    SA deleted); then strongSwan reauthenticates on request, make-before-break, and Corridor
    takes the new IKE SA as responder and lets the old one go on strongSwan's Delete."""
    before = (sa['spi_i'], sa['children'][0]['spi_in'])
    after = wait_agreement(corridor, peer, 'after Corridor reauthenticated', changed_from=before, timeout=25)
    check(after['spi_i'] != before[0] and after['children'][0]['spi_in'] != before[1],
          'a reauthentication renews both the IKE SA and the Child SA')
    ike = corridor.sas()['ike']
    check(ike['ike_sas_reauthenticated'] == 1 and ike['ike_sas_reauth_failed'] == 0,
          'Corridor counted one reauthentication (%s)' % ike)
    check(peer.grep_log(r'authentication of .* with pre-shared key successful'),
          'strongSwan authenticated Corridor')
    established = ike['ike_sas_established']
    check(peer.rekey(ike='gw', reauth=True), 'strongSwan refused to reauthenticate')
    again = wait_agreement(corridor, peer, 'after strongSwan reauthenticated',
                           changed_from=(after['spi_i'], after['children'][0]['spi_in']), timeout=20)
    check(again['spi_i'] != after['spi_i'], 'IKE SPIs did not change on strongSwan\'s reauthentication')
    check(corridor.sas()['ike']['ike_sas_established'] == established + 1,
          'Corridor established one more IKE SA for strongSwan\'s reauthentication')
    return again


def run_case(binary, name, corridor_initiates, proposal, esp, expect, nat=False, verbose=False, rekey=False,
             corridor_child_rekey=None, certs=None, expect_reassembled=False, collision=False, two_children=False,
             reauth=False):
    wd = sw.workdir()
    corridor = None
    try:
        with sw.Topology() as topo:
            net = topo.two_peers(nat=nat)
            conn = sw.Connection('gw', [net.left_addr], [net.right_addr],
                                 [sw.Child('net', [net.left_subnet], [net.right_subnet], esp_proposals=[esp])],
                                 proposals=[proposal],
                                 local=sw.Auth('psk', LEFT_ID), remote=sw.Auth('psk', RIGHT_ID))
            if two_children:
                # A second child: Corridor creates it over the same IKE SA (CREATE_CHILD_SA).
                # strongSwan routes a child's traffic from an address of its local
                # selector, so each side's 'lan' gets one.
                conn.children.append(sw.Child('net2', ['10.111.0.0/24'], ['10.112.0.0/24'], esp_proposals=[esp]))
                sw.Topology.sh('ip', 'addr', 'add', '10.111.0.1/24', 'dev', 'lan', ns=net.ns_left)
                sw.Topology.sh('ip', 'addr', 'add', '10.112.0.1/24', 'dev', 'lan', ns=net.ns_right)
            pki, keys = None, ()
            if certs:
                # Certificates (RFC 7427 signatures) from one CA; each side trusts only that CA.
                pki = sw.make_pki(os.path.join(wd, 'pki'), {'left': LEFT_ID, 'right': RIGHT_ID}, key_type=certs)
                conn.local = sw.Auth('pubkey', LEFT_ID, certs=[pki.hosts['left'].cert])
                conn.remote = sw.Auth('pubkey', RIGHT_ID, cacerts=[pki.ca_cert])
                keys = [(certs, pki.hosts['left'].key)]
            peer_conn = conn.mirror([net.right_addr], ['%any'] if nat else [net.left_seen_as],
                                    local=sw.Auth('pubkey', RIGHT_ID, certs=['right.pem']) if certs else None,
                                    remote=sw.Auth('pubkey', LEFT_ID, cacerts=['ca.pem']) if certs else None)
            if corridor_initiates:
                for child in conn.children:
                    child.start_action = 'start'
            if collision:
                # Corridor rekeys by time at an exact second (no jitter); strongSwan only when told.
                conn.children[0].rekey_time = '14s'
                conn.children[0].life_time = '60s'
                conn.children[0].extra = {'rand_time': '0s'}
                peer_conn.children[0].rekey_time = '0'
            if corridor_child_rekey:
                # Corridor rekeys by time; strongSwan's own rekeying is off so that only one side does.
                conn.children[0].rekey_time = corridor_child_rekey
                conn.children[0].life_time = '30s'
                peer_conn.children[0].rekey_time = '0'
            charon_settings = None
            if reauth:
                # Corridor reauthenticates 12 s after IKE_AUTH (no jitter), strongSwan only when
                # told, and then make-before-break as Corridor does (5.9's default breaks first).
                conn.reauth_time = '12s'
                conn.extra = {'rand_time': '0s'}
                peer_conn.reauth_time, peer_conn.extra = '0', {}
                charon_settings = {'make_before_break': 'yes'}
            psks = [sw.Psk(PSK, [LEFT_ID, RIGHT_ID])]
            with sw.Charon(net.ns_right, os.path.join(wd, 'peer'), [peer_conn], [] if certs else psks,
                           pki=pki, host='right' if certs else None, charon_settings=charon_settings) as peer:
                peer.start()
                corridor = Corridor(topo, net.ns_left, binary, wd, conn, [] if certs else psks, keys)
                if not corridor_initiates:
                    ok, lines = peer.initiate(child='net', timeout=15, check=False)
                    check(ok, 'strongSwan initiate failed:\n' + '\n'.join(lines[-15:]))
                corridor_sa, _ = corridor.wait_established(children=len(conn.children))
                peer_sa = peer.wait_sa('gw', timeout=15)
                deadline = time.time() + 10
                while len(peer_sa['child-sas']) < len(conn.children) and time.time() < deadline:
                    time.sleep(0.2)
                    peer_sa = peer.wait_sa('gw', timeout=15)
                check(len(peer.list_sas()) == 1, 'strongSwan has %d IKE SAs, not 1' % len(peer.list_sas()))
                compare(corridor_sa, peer_sa, expect, nat)
                if nat:
                    check(corridor_sa['nat']['local'], 'Corridor did not see its own NAT')
                    check(peer_sa['nat-remote'] is True, 'strongSwan did not see the NAT')
                if expect_reassembled:
                    ike = corridor.sas()['ike']
                    check(ike['messages_reassembled'] >= 1 and ike['fragments_received'] >= 2,
                          'Corridor reassembled no fragmented IKE_AUTH (%s)' % ike)
                    check(peer.grep_log(r'received fragment #\d+ of \d+, reassembled fragmented IKE message'),
                          'strongSwan reassembled no fragments from Corridor')
                if rekey:
                    check_rekeys(corridor, peer, corridor_sa)
                if collision:
                    check_rekey_collision(corridor, peer, corridor_sa, net)
                if reauth:
                    check_reauth(corridor, peer, corridor_sa)
                if corridor_child_rekey:
                    # Corridor's own Child SA rekey by time, then the old pair deleted.
                    wait_agreement(corridor, peer, 'after Corridor rekeyed the Child SA by time',
                                   changed_from=(corridor_sa['spi_i'], corridor_sa['children'][0]['spi_in']), timeout=20)
                    check(corridor.sas()['ike']['child_sas_rekeyed'] >= 1, 'Corridor counted no Child SA rekey')
                # Delete: strongSwan terminates, Corridor must drop the IKE SA.
                peer.terminate(ike='gw', timeout=10, check=False)
                deadline = time.time() + 5
                while corridor.sas()['ike_sas'] and time.time() < deadline:
                    time.sleep(0.1)
                check(not corridor.sas()['ike_sas'], 'Corridor kept the IKE SA strongSwan deleted')
                check('deleted by the peer' in corridor.log(), 'Corridor did not log the delete')
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
    # Corridor responds; AES-GCM-256 with ECP-384 (the first proposal set of issue 5).
    'responder-gcm-ecp384': dict(
        corridor_initiates=False, proposal='aes256gcm16-prfsha384-ecp384', esp='aes256gcm16', rekey=True,
        expect={'ike': {'encr-alg': 'AES_GCM_16', 'encr-keysize': 256, 'prf-alg': 'PRF_HMAC_SHA2_384',
                        'dh-group': 'ECP_384'},
                'child': {'encr-alg': 'AES_GCM_16', 'encr-keysize': 256, 'protocol': 'ESP', 'mode': 'TUNNEL'},
                'corridor_proposal': 'IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384',
                'corridor_child': 'ESP:AES_GCM_16_256/NO_EXT_SEQ'}),
    # Corridor initiates; AES-CBC with HMAC-SHA2-256 and MODP-3072 (the second set).
    'initiator-cbc-modp3072': dict(
        corridor_initiates=True, proposal='aes128-sha256-modp3072', esp='aes128-sha256', rekey=True,
        expect={'ike': {'encr-alg': 'AES_CBC', 'encr-keysize': 128, 'integ-alg': 'HMAC_SHA2_256_128',
                        'prf-alg': 'PRF_HMAC_SHA2_256', 'dh-group': 'MODP_3072'},
                'child': {'encr-alg': 'AES_CBC', 'encr-keysize': 128, 'integ-alg': 'HMAC_SHA2_256_128'},
                'corridor_proposal': 'IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072',
                'corridor_child': 'ESP:AES_CBC_128/HMAC_SHA2_256_128/NO_EXT_SEQ'}),
    # Corridor initiates from behind a NAT that remaps ports; ChaCha20-Poly1305
    # with Curve25519 (the third set).
    'initiator-nat-chacha-x25519': dict(
        corridor_initiates=True, nat=True, proposal='chacha20poly1305-prfsha256-x25519', esp='chacha20poly1305',
        corridor_child_rekey='6s',
        expect={'ike': {'encr-alg': 'CHACHA20_POLY1305', 'prf-alg': 'PRF_HMAC_SHA2_256', 'dh-group': 'CURVE_25519'},
                'child': {'encr-alg': 'CHACHA20_POLY1305'},
                'corridor_proposal': 'IKE:CHACHA20_POLY1305/PRF_HMAC_SHA2_256/CURVE_25519',
                'corridor_child': 'ESP:CHACHA20_POLY1305/NO_EXT_SEQ'}),
    # Corridor initiates a connection with two children: one IKE SA, the second child by CREATE_CHILD_SA.
    'initiator-two-children': dict(
        corridor_initiates=True, proposal='aes256gcm16-prfsha384-ecp384', esp='aes256gcm16', two_children=True,
        expect={'ike': {'encr-alg': 'AES_GCM_16', 'dh-group': 'ECP_384'}, 'child': {'encr-alg': 'AES_GCM_16'},
                'corridor_proposal': 'IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384',
                'corridor_child': 'ESP:AES_GCM_16_256/NO_EXT_SEQ'}),
    # Reauthentication both ways: Corridor by reauth_time, strongSwan on request.
    'reauth': dict(
        corridor_initiates=True, proposal='aes256gcm16-prfsha384-x25519', esp='aes256gcm16', reauth=True,
        expect={'ike': {'encr-alg': 'AES_GCM_16', 'dh-group': 'CURVE_25519'}, 'child': {'encr-alg': 'AES_GCM_16'},
                'corridor_proposal': 'IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519',
                'corridor_child': 'ESP:AES_GCM_16_256/NO_EXT_SEQ'}),
    # Both ends rekey the Child SA at once (RFC 7296 §2.8.1), staged with dropped datagrams.
    'rekey-collision': dict(
        corridor_initiates=True, proposal='aes256gcm16-prfsha384-ecp384', esp='aes256gcm16', collision=True,
        expect={'ike': {'encr-alg': 'AES_GCM_16', 'dh-group': 'ECP_384'}, 'child': {'encr-alg': 'AES_GCM_16'},
                'corridor_proposal': 'IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384',
                'corridor_child': 'ESP:AES_GCM_16_256/NO_EXT_SEQ'}),
    # Certificates: strongSwan initiates with ECDSA P-256 (RFC 7427 ECDSA-SHA256) ...
    'responder-ecdsa-certs': dict(
        corridor_initiates=False, proposal='aes256gcm16-prfsha384-ecp384', esp='aes256gcm16', certs='ecdsa',
        expect={'ike': {'encr-alg': 'AES_GCM_16', 'dh-group': 'ECP_384'}, 'child': {'encr-alg': 'AES_GCM_16'},
                'corridor_proposal': 'IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384',
                'corridor_child': 'ESP:AES_GCM_16_256/NO_EXT_SEQ'}),
    # RSA-3072 makes IKE_AUTH too big for one datagram: both sides send it in
    # RFC 7383 fragments and reassemble the other's.
    'responder-rsa-certs-fragmented': dict(
        corridor_initiates=False, proposal='aes256gcm16-prfsha384-ecp384', esp='aes256gcm16', certs='rsa',
        expect_reassembled=True,
        expect={'ike': {'encr-alg': 'AES_GCM_16', 'dh-group': 'ECP_384'}, 'child': {'encr-alg': 'AES_GCM_16'},
                'corridor_proposal': 'IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384',
                'corridor_child': 'ESP:AES_GCM_16_256/NO_EXT_SEQ'}),
    # ... and Corridor initiates with RSA-3072 (RSA PKCS#1 v1.5 with SHA-256).
    'initiator-rsa-certs': dict(
        corridor_initiates=True, proposal='aes128-sha256-modp3072', esp='aes128-sha256', certs='rsa',
        expect_reassembled=True,
        expect={'ike': {'encr-alg': 'AES_CBC', 'dh-group': 'MODP_3072'}, 'child': {'encr-alg': 'AES_CBC'},
                'corridor_proposal': 'IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072',
                'corridor_child': 'ESP:AES_CBC_128/HMAC_SHA2_256_128/NO_EXT_SEQ'}),
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
