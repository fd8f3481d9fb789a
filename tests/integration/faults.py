"""Faults survived under traffic: the scenarios of ike_tunnel.py --fault.

Each runs against the topology ike_tunnel.py builds (host A, Corridor gateway
A, gateway B, host B) once the tunnel is up, and records its verdicts with
report.check(). ike_tunnel.py's docstring says what each one proves.
"""

import copy
import json
import os
import random
import subprocess
import threading
import time

import strongswan as sw
import wan_inject
from report import check, demo, say

HERE = os.path.dirname(os.path.abspath(__file__))


def esp_sequences(frames, source):
    """(SPI, sequence number) of each ESP packet from `source` (dotted IPv4), plain or in UDP 4500, in order."""
    src = bytes(int(x) for x in source.split('.'))
    out = []
    for f in frames:
        if len(f) < 34 or f[12:14] != b'\x08\x00' or f[26:30] != src:
            continue
        ihl = (f[14] & 0x0f) * 4
        proto, l4 = f[23], 14 + ihl
        if proto == 50:
            esp = f[l4:]
        elif proto == 17 and int.from_bytes(f[l4 + 2:l4 + 4], 'big') == 4500 and len(f) >= l4 + 16 and \
                f[l4 + 8:l4 + 12] != b'\x00\x00\x00\x00':
            esp = f[l4 + 8:]
        else:
            continue
        if len(esp) >= 8:
            out.append((int.from_bytes(esp[:4], 'big'), int.from_bytes(esp[4:8], 'big')))
    return out


def sequences_go_forward(packets):
    """The first (SPI, earlier, later) where a sequence number did not grow; None if none."""
    last = {}
    for spi, seq in packets:
        if spi in last and seq <= last[spi]:
            return spi, last[spi], seq
        last[spi] = seq
    return None


class BackgroundPing:
    """`ping -c count -i interval -W wait 10.2.0.10` from host A in a thread, while a fault
    happens; result() waits for it to end and gives its run."""

    def __init__(self, host_a, count, interval, wait=1):
        self._run = None

        def ping():
            self._run = sw.Topology.sh('ping', '-c', str(count), '-i', str(interval), '-W', str(wait), '10.2.0.10',
                                       ns=host_a, check=False, timeout=60)
        self._thread = threading.Thread(target=ping)
        self._thread.start()

    def result(self):
        self._thread.join()
        return self._run


def ping_through_fault(host_a, fault_action, what):
    """A 20-per-second ping of 300 from host A to host B, `fault_action()` 3 s into it. Checks
    that it resumed within seconds (at most 100 lost) and that a ping after it loses nothing."""
    sw.Topology.sh('ping', '-c', '3', '-i', '0.3', '-W', '1', '10.2.0.10', ns=host_a, check=False)  # ARP warm-up
    pinger = BackgroundPing(host_a, 300, 0.05)
    time.sleep(3)
    try:
        fault_action()
    finally:
        r = pinger.result()
    summary = [line for line in r.stdout.splitlines() if 'packet loss' in line]
    if demo:
        print('   ' + (summary[0] if summary else r.stdout[-500:]))
    received = int(r.stdout.split(' received')[0].rsplit(' ', 1)[-1]) if ' received' in r.stdout else 0
    check(received >= 300 - 100, 'the ping resumed within seconds of %s (%d of 300 answered)' % (what, received))
    again = sw.Topology.sh('ping', '-c', '20', '-i', '0.05', '-W', '1', '10.2.0.10', ns=host_a, check=False)
    check(again.returncode == 0 and ' 0% packet loss' in again.stdout, 'after %s the tunnel carries every ping' % what)


def dataplane_restart_under_traffic(host_a, gw_a, ike_version):
    say('a continuous ping (20 a second) while gateway A\'s corridor-dataplane is killed (SIGKILL) and started again')
    counters = 'ike' if ike_version == '2' else 'ikev1'
    key = 'child_sas_rekeyed' if ike_version == '2' else 'ipsec_sas_rekeyed'
    before = gw_a.status()[counters][key]

    def restart():
        gw_a.kill_dataplane()
        killed_at = time.time()
        gw_a.start_dataplane()
        say('corridor-dataplane started again after %.1f s' % (time.time() - killed_at))
    # The restart itself (EAL, ports, TAP) takes about half a second; the
    # rekey that brings outbound traffic back, a round trip.
    ping_through_fault(host_a, restart, 'the dataplane restart')
    log = open(gw_a.cp_log).read()
    check('outbound SAs withheld from the new dataplane' in log,
          'corridor-control withheld the outbound SAs the dead dataplane had used')
    check('lost its outbound sequence number with the dataplane restart' in log,
          'corridor-control rekeyed their Child SAs')
    after = gw_a.status()[counters][key]
    check(after > before, 'a Child SA rekey counted (%d -> %d)' % (before, after))


def control_restart_under_traffic(host_a, gw_a):
    say('a continuous ping (20 a second) while gateway A\'s corridor-control is killed (SIGKILL), '
        'stays down for 3 s and is started again')
    before = gw_a.established()

    def restart():
        gw_a.control.kill()
        gw_a.control.wait()
        gw_a.control = None
        # Meanwhile the dataplane forwards on the SAs it holds.
        r = sw.Topology.sh('ping', '-c', '40', '-i', '0.05', '-W', '1', '10.2.0.10', ns=host_a, check=False)
        check(r.returncode == 0 and ' 0% packet loss' in r.stdout,
              'with corridor-control dead the dataplane goes on carrying the tunnel\'s traffic')
        gw_a.start_control()
    ping_through_fault(host_a, restart, 'the control plane restart')
    # IKE state is not kept across a restart: the new corridor-control
    # negotiates afresh (INITIAL_CONTACT replaces the SAs at gateway B) and
    # reconciles the dataplane, whose old SAs no negotiation owns any more.
    log = open(gw_a.cp_log).read()
    check('reconciled with the dataplane\'s inventory of 2 SAs' in log,
          'the new corridor-control reconciled with the dataplane\'s inventory (the old pair)')
    # Its ids are its own (control generation 2): the new pair is added
    # beside the old one, never pushed as an update of it.
    check('dataplane refused' not in log and 'another SA under id' not in log,
          'the dataplane refused none of the new corridor-control\'s commands')
    deadline = time.time() + 5
    while time.time() < deadline and (len(gw_a.ike_sas()) != 1 or len(gw_a.stats()['sas']) != 2):
        time.sleep(0.1)
    sas, dataplane = gw_a.ike_sas(), gw_a.stats()['sas']
    check(len(sas) == 1 and sas[0]['spi_i'] != before['spi_i'] and len(dataplane) == 2,
          'gateway A holds one new IKE SA and one SA pair in its dataplane (%d IKE SAs, %d dataplane SAs)' % (
              len(sas), len(dataplane)))


def peer_reboot_under_traffic(host_a, gw_a, peer, conn_b):
    say('a continuous ping (20 a second) while gateway B loses power: both its processes killed, '
        'its SAs gone; it comes back and initiates')
    before = gw_a.established()

    def reboot():
        rebooted = copy.deepcopy(conn_b)
        rebooted.children[0].start_action = 'start'
        down_at = time.time()
        peer.reboot([rebooted])
        say('gateway B is back after %.1f s and initiates (start_action=start, with INITIAL_CONTACT)' % (
            time.time() - down_at))
    ping_through_fault(host_a, reboot, 'gateway B\'s return')
    check('replaced: the peer sent INITIAL_CONTACT from a new IKE SA' in open(gw_a.cp_log).read(),
          'gateway A dropped the old IKE SA on gateway B\'s INITIAL_CONTACT')
    deadline = time.time() + 5
    while time.time() < deadline and len(gw_a.ike_sas()) != 1:
        time.sleep(0.1)
    sas = gw_a.ike_sas()
    check(len(sas) == 1 and sas[0]['spi_i'] != before['spi_i'] and not sas[0]['initiator'],
          'gateway A holds one IKE SA, the one gateway B initiated (%s)' % [(s['spi_i'], s['state']) for s in sas])



def peer_gone_under_traffic(host_a, gw_a, peer, conn_b):
    """Gateway B vanishes and stays away: gateway A's liveness checks (dpd_delay 2 s) go
    unanswered, it declares the peer dead after its retransmissions (1 s, x1.5, 3 resends) and
    applies dpd_action restart: the old SAs leave its dataplane, nothing leaves in the clear,
    and its new IKE_SA_INIT brings the tunnel back once gateway B is on again."""
    say('gateway B disappears (both processes SIGKILLed, nothing answers any more); gateway A checks '
        'liveness after 2 s of silence and has dpd_action restart')
    before = gw_a.established()
    child = before['children'][0]
    old_spis = {int(child['spi_in'], 16), int(child['spi_out'], 16)}
    dead_before = gw_a.status()['ike']['dead_peers']
    sw.Topology.sh('ping', '-c', '3', '-i', '0.2', '-W', '1', '10.2.0.10', ns=host_a, check=False)  # ARP warm-up
    # Host A keeps sending: it must not leak in the clear once the SAs are gone.
    pinger = BackgroundPing(host_a, 100, 0.2)
    time.sleep(1)
    peer.power_off()
    gone_at = time.time()
    log_mark = len(open(gw_a.cp_log).read())

    def declared():
        return 'is not responding' in open(gw_a.cp_log).read()[log_mark:]
    try:
        gw_a.wait_for(declared, 'dead peer declared', 30)
    except sw.HarnessError as e:
        pinger.result()
        raise e
    detected = time.time() - gone_at
    # dpd_delay 2 s, the 1 s tick, then 1 + 1.5 + 2.25 + 3.375 s of retransmissions:
    # about 12 s at most; more is the machine's load.
    check(detected < 20, 'gateway A declared gateway B dead %.1f s after it vanished (liveness check, '
                         '3 retransmissions)' % detected)
    status = gw_a.status()
    check(status['ike']['dead_peers'] == dead_before + 1,
          'the dead_peers counter rose (%d -> %d)' % (dead_before, status['ike']['dead_peers']))
    deadline = time.time() + 5
    while time.time() < deadline and old_spis & {s['spi'] for s in gw_a.stats()['sas']}:
        time.sleep(0.1)
    left = old_spis & {s['spi'] for s in gw_a.stats()['sas']}
    check(not left, 'the dead Child SA\'s pair left gateway A\'s dataplane (%s)' % sorted(hex(s) for s in left))
    log = open(gw_a.cp_log).read()[log_mark:]
    check('restarting CHILD_SA lans of site-b (dpd_action restart)' in log,
          'gateway A applied dpd_action restart: it initiates the connection again')

    say('gateway B is switched on again (a responder: start_action none); gateway A\'s retransmitted '
        'IKE_SA_INIT finds it')
    peer.power_on([conn_b])
    pinger.result()

    def new_sa():
        sa = gw_a.established()
        return sa if sa and sa['spi_i'] != before['spi_i'] else None
    gw_a.wait_for(new_sa, 'the IKE SA initiated again', 20)
    sa = new_sa()
    check(sa['initiator'] and sa['children'][0]['name'] == 'lans',
          'gateway A initiated a new IKE SA and Child SA (%s_i %s_r)' % (sa['spi_i'], sa['spi_r']))
    after = sw.Topology.sh('ping', '-c', '100', '-i', '0.05', '-W', '1', '10.2.0.10', ns=host_a, check=False)
    check(after.returncode == 0 and ' 0% packet loss' in after.stdout,
          'the restarted tunnel carries every ping (%s)' % ([line for line in after.stdout.splitlines()
                                                               if 'packet loss' in line] or ['no summary'])[0])
    drops = gw_a.stats()['forwarding']['drops']
    check(drops['no_policy'] + drops['policy_discard'] > 0,
          'while no SA existed host A\'s packets were dropped by policy, not sent (%d no_policy, '
          '%d policy_discard)' % (drops['no_policy'], drops['policy_discard']))


def link_mac(ns, dev):
    r = sw.Topology.sh('ip', '-j', 'link', 'show', dev, ns=ns)
    return json.loads(r.stdout)[0]['address']


def replayable_esp(topo, ns, dev, source, host_a, wd):
    """Real ESP frames from `source` arriving on `dev` in `ns`, captured while host A pings host B."""
    path = os.path.join(wd, 'replayable.pcap')
    cap = topo.popen(ns, ['/usr/bin/python3', os.path.join(HERE, 'wan_inject.py'), 'capture', dev, path, '10', '10',
                          source], stdout=subprocess.PIPE, text=True)
    line = cap.stdout.readline()  # "listening ..." once its socket is bound
    if 'listening' not in line:
        cap.kill()
        raise sw.HarnessError('ESP capture in %s did not start: %s' % (ns, line))
    sw.Topology.sh('ping', '-c', '12', '-i', '0.1', '-W', '1', '10.2.0.10', ns=host_a, check=False)
    cap.wait(15)
    return wan_inject.read_pcap_frames(path)


def send_frames(topo, ns, dev, frames, wd, name, gap=0.002):
    path = os.path.join(wd, name + '.pcap')
    wan_inject.write_pcap(path, frames)
    sw.Topology.sh('/usr/bin/python3', os.path.join(HERE, 'wan_inject.py'), 'send', dev, path, str(gap), ns=ns,
                   timeout=60)


def api_abuse(gw):
    """Requests the API must refuse, each with its status; and the running config must stay."""
    document = json.loads(gw.api_request('GET', '/config')[1])
    invalid = dict(document)
    invalid['connections'] = {name: dict(c, proposals=['aes999-sha1']) for name, c in document['connections'].items()}
    cases = [
        ('GET', '/sas', None, None, 401, 'no token'),
        ('GET', '/sas', None, 'not-a-token', 401, 'an unknown token'),
        ('PUT', '/config', json.dumps(document), 'read', 403, 'a read token writing the config'),
        ('GET', '/no/such/path', None, 'read', 404, 'an unknown path'),
        ('POST', '/sas/999999/rekey', '', 'admin', 404, 'a rekey of an SA that does not exist'),
        ('PUT', '/config', '{"connections": ', 'admin', 400, 'a body that is not JSON'),
        ('PUT', '/config', json.dumps(invalid), 'admin', 400, 'an invalid config (unknown proposal keyword)'),
        ('PUT', '/config', 'x' * (2 << 20), 'admin', 413, 'a 2 MB body'),
    ]
    for method, path, body, token, want, what in cases:
        status, text = gw.api_request(method, path, body, token=token)
        check(status == want, 'API: %s answered %d (%d expected)%s' % (what, status, want,
                                                                        '' if status == want else ': ' + text[:200]))
        if want == 400 and 'aes999' in (body or ''):
            check('aes999' in text and '/proposals' in text,
                  'API: the invalid config\'s problem names the keyword and its JSON pointer')
    after = json.loads(gw.api_request('GET', '/config')[1])
    check(after == document, 'the running config is unchanged after the refused requests')


def bad_input_under_traffic(topo, host_a, gw_a, peer, ns_a, ns_b, wd):
    """Hostile and broken input at every door of gateway A while host A pings host B through
    the tunnel 20 times a second: no ping may be lost, the SAs stay, and each kind of bad
    input is counted under its own name."""
    say('bad input at every door of gateway A while the tunnel carries a ping: garbage frames, '
        'malformed IKE, forged, truncated and replayed ESP, and refused API requests')
    sa = gw_a.established()
    child = sa['children'][0]
    spi_in, spi_out = int(child['spi_in'], 16), int(child['spi_out'], 16)
    replays = replayable_esp(topo, ns_a, 'wan', '192.0.2.2', host_a, wd)
    check(len(replays) >= 10, 'captured %d real ESP packets from gateway B to replay' % len(replays))
    peer_out = [s for s in peer.stats()['sas'] if s['direction'] == 'out']
    sent_by_b = peer_out[0]['packets'] if peer_out else 0

    rng = random.Random(4303)
    wan = wan_inject.Wan(link_mac(ns_a, 'wan'), link_mac(ns_b, 'wan'), '192.0.2.1', '192.0.2.2')
    link = wan.link_garbage(rng)
    batches = {
        'link': [f for frames in link.values() for f in frames],
        'arp': wan.arp_from_strangers(200) + wan.arp_truncated(10),
        'ike': wan.ike_garbage(rng, int(sa['spi_i'], 16).to_bytes(8, 'big'), int(sa['spi_r'], 16).to_bytes(8, 'big')),
        'esp_unknown_spi': wan.esp_unknown_spi(rng, 50, {spi_in, spi_out}),
        # Far ahead of what B sends meanwhile: were the window moved before the ICV check,
        # B's real packets would fall left of it and the ping would stop.
        'esp_forged': wan.esp_forged(rng, spi_in, 50, sent_by_b + 5000),
        'esp_truncated': wan.esp_truncated(spi_in, 3),
        'esp_in_udp': wan.esp_in_udp_for_plain_sa(rng, spi_in, 10),
        'esp_replayed': replays * 2,
    }
    before_dp, before_cp = gw_a.stats(), gw_a.status()
    before_in = next(s for s in before_dp['sas'] if s['spi'] == spi_in)

    pinger = BackgroundPing(host_a, 300, 0.05, wait=2)
    try:
        time.sleep(1)
        for name, frames in batches.items():
            send_frames(topo, ns_b, 'wan', frames, wd, name)
        api_abuse(gw_a)
    finally:
        r = pinger.result()
    summary = ([line for line in r.stdout.splitlines() if 'packet loss' in line] or ['no summary'])[0]
    if demo:
        print('   ' + summary)
    check(r.returncode == 0 and ' 0% packet loss' in r.stdout,
          'the tunnel carried every ping through the bad input (%s)' % summary)

    after = gw_a.established()
    check(after and after['spi_i'] == sa['spi_i'] and after['children'][0]['spi_in'] == child['spi_in'],
          'the same IKE SA and Child SA carry the tunnel afterwards')
    dp, cp = gw_a.stats(), gw_a.status()
    fwd = {k: v - before_dp['forwarding']['drops'][k] for k, v in dp['forwarding']['drops'].items()}
    sa_in = next(s for s in dp['sas'] if s['spi'] == spi_in)
    sa_drops = {k: v - before_in['drops'].get(k, 0) for k, v in sa_in['drops'].items()}
    main = {k: v - before_dp['main'][k] for k, v in dp['main'].items() if isinstance(v, int)}
    ike_drops = {k: v - before_cp['ike']['drops'].get(k, 0) for k, v in cp['ike']['drops'].items()}
    if demo:
        print('   forwarding drops: %s' % {k: v for k, v in fwd.items() if v})
        print('   inbound SA drops: %s' % sa_drops)
        print('   IKE drops: %s' % {k: v for k, v in ike_drops.items() if v})
    print('counters moved: forwarding %s; inbound SA %s; main %s; IKE %s' % (
        {k: v for k, v in fwd.items() if v}, sa_drops, {k: v for k, v in main.items() if v},
        {k: v for k, v in ike_drops.items() if v}), flush=True)
    for name in link:
        check(fwd.get(name, 0) >= len(link[name]), 'frames dropped as %s: %d of %d sent' % (
            name, fwd.get(name, 0), len(link[name])))
    check(fwd.get('no_sa', 0) >= 50, 'ESP with unknown SPIs dropped as no_sa: %d of 50' % fwd.get('no_sa', 0))
    check(sa_drops.get('icv_failure', 0) >= 50, 'forged ESP on the tunnel\'s SPI dropped as icv_failure: %d of 50' %
          sa_drops.get('icv_failure', 0))
    replayed = sa_drops.get('replay', 0) + sa_drops.get('replay_too_old', 0)
    check(replayed >= len(batches['esp_replayed']), 'replayed ESP dropped by anti-replay: %d of %d' % (
        replayed, len(batches['esp_replayed'])))
    check(sa_drops.get('encap_mismatch', 0) >= 10, 'ESP in UDP 4500 for the plain-ESP SA dropped as '
                                                   'encap_mismatch: %d of 10' % sa_drops.get('encap_mismatch', 0))
    check(sum(ike_drops.values()) >= 20, 'corridor-control dropped and counted the malformed IKE messages (%s)' % (
        {k: v for k, v in ike_drops.items() if v}))
    check(gw_a.control.poll() is None and gw_a.dataplane.poll() is None, 'both of gateway A\'s processes still run')
