"""Tunnel variants between two Corridor appliances: ike_tunnel.py --variant.

What the strongSwan peer on this machine cannot do (it runs kernel-libipsec,
which always UDP-encapsulates and has no AH): ESP with extended sequence
numbers, AH, and a connection with several Child SAs and subnets; and trap
policies (start_action=trap), which need a Corridor dataplane on the
initiating side. Each check runs once the tunnel is up (trap's first half
brings it up); the common traffic and counter checks of ike_tunnel.py
follow. One variant is for strongSwan: rekey-collision, both ends rekeying
the IKE SA at once.
"""

import os
import time

import strongswan as sw
from report import check, say


def child_named(sa, name):
    return next((c for c in sa['children'] if c['name'] == name), None)


def check_esn(gw_a, peer):
    for gw in (gw_a, peer):
        proposal = gw.established()['children'][0]['proposal']
        check('AES_CBC_128' in proposal and 'HMAC_SHA2_256_128' in proposal and 'EXT_SEQ' in proposal and
              'NO_EXT_SEQ' not in proposal,
              '%s negotiated AES-CBC, HMAC-SHA-256 and extended sequence numbers (%s)' % (gw.name, proposal))


def check_ah(gw_a, peer):
    for gw in (gw_a, peer):
        child = gw.established()['children'][0]
        check(child['proposal'].startswith('AH:') and 'HMAC_SHA2_256_128' in child['proposal'],
              '%s negotiated an AH Child SA with HMAC-SHA-256 (%s)' % (gw.name, child['proposal']))
        protocols = {s['protocol'] for s in gw.stats()['sas']}
        check(protocols == {'ah'}, '%s\'s dataplane holds AH SAs (%s)' % (gw.name, sorted(protocols)))


def check_multi(gw_a, peer, host_a):
    """Children "lans" (10.1.0.0/24 === 10.2.0.0/24, 10.2.1.0/24) and "lab" (10.1.1.0/24 ===
    10.2.2.0/24) over one IKE SA; each flow through its own pair; a flow no child covers is
    dropped by policy, not sent in the clear."""
    say('a second Child SA ("lab") over the same IKE SA (CREATE_CHILD_SA), and two subnets in "lans"')

    def both():
        sa = gw_a.established()
        return sa if sa and {c['name'] for c in sa['children']} == {'lans', 'lab'} else None
    gw_a.wait_for(both, 'both Child SAs', 15)
    sa_a = both()
    peer.wait_for(lambda: peer.established() and len(peer.established()['children']) == 2, 'both Child SAs', 10)
    sa_b = peer.established()
    for name in ('lans', 'lab'):
        a, b = child_named(sa_a, name), child_named(sa_b, name)
        check(b is not None and a['spi_in'] == b['spi_out'] and a['spi_out'] == b['spi_in'],
              'Child SA %s: SPIs agree (A in %s out %s)' % (name, a['spi_in'], a['spi_out']))
    lans = child_named(sa_a, 'lans')
    check(sorted(lans['remote_ts']) == ['10.2.0.0/24', '10.2.1.0/24'],
          'Child SA lans carries both subnets at B (%s)' % ' '.join(lans['remote_ts']))
    sw.Topology.sh('ping', '-c', '2', '-i', '0.3', '-W', '1', '10.2.2.10', '-I', '10.1.1.10', ns=host_a,
                   check=False)  # ARP warm-up for the other subnets
    sw.Topology.sh('ping', '-c', '2', '-i', '0.3', '-W', '1', '10.2.1.10', ns=host_a, check=False)
    before = {s['spi']: s['packets'] for s in gw_a.stats()['sas']}
    for src, dst, name in (('10.1.0.10', '10.2.0.10', 'lans'), ('10.1.0.10', '10.2.1.10', 'lans'),
                           ('10.1.1.10', '10.2.2.10', 'lab')):
        r = sw.Topology.sh('ping', '-c', '10', '-i', '0.1', '-W', '1', '-I', src, dst, ns=host_a, check=False)
        check(r.returncode == 0 and ' 0% packet loss' in r.stdout, 'ping %s -> %s through Child SA %s' % (
            src, dst, name))
    time.sleep(0.2)
    after = {s['spi']: s['packets'] for s in gw_a.stats()['sas']}
    for name in ('lans', 'lab'):
        c = child_named(sa_a, name)
        moved = [after.get(int(c[k], 16), 0) - before.get(int(c[k], 16), 0) for k in ('spi_in', 'spi_out')]
        check(all(m >= 10 for m in moved), 'Child SA %s\'s pair counted the traffic (in +%d, out +%d)' % (
            name, moved[0], moved[1]))
    drops = gw_a.stats()['forwarding']['drops']['no_policy']
    r = sw.Topology.sh('ping', '-c', '3', '-i', '0.1', '-W', '1', '-I', '10.1.1.10', '10.2.0.10', ns=host_a,
                       check=False)
    later = gw_a.stats()['forwarding']['drops']['no_policy']
    check(r.returncode != 0 and later - drops >= 3,
          'a flow no Child SA covers (10.1.1.10 -> 10.2.0.10) is dropped by policy (no_policy +%d)' % (later - drops))


def check_ipv6(gw_a, peer, host_a):
    """IKE and ESP over IPv6 (2001:db8::1 === 2001:db8::2), IPv6 and IPv4 inside the one Child SA,
    every IPv6 link-layer address found by Neighbor Discovery."""
    for gw in (gw_a, peer):
        sa = gw.established()
        child = sa['children'][0]
        check('2001:db8::' in str(sa['local']) and '2001:db8::' in str(sa['remote']),
              '%s: the IKE SA runs over IPv6 (%s === %s)' % (gw.name, sa['local'], sa['remote']))
        check(any(':' in ts for ts in child['local_ts']) and any('.' in ts for ts in child['local_ts']),
              '%s: the Child SA carries IPv4 and IPv6 (%s === %s)' % (
                  gw.name, ' '.join(child['local_ts']), ' '.join(child['remote_ts'])))
    r = sw.Topology.sh('ping', '-6', '-c', '10', '-i', '0.1', '-W', '2', 'fd02::10', ns=host_a, check=False)
    check(r.returncode == 0 and ' 0% packet loss' in r.stdout, 'ping fd01::10 -> fd02::10 through the tunnel (%s)' % (
        [line for line in r.stdout.splitlines() if 'packet loss' in line] or [r.stdout[-200:]])[0])
    r = sw.Topology.sh('ping', '-6', '-c', '3', '-i', '0.1', '-s', '1200', '-W', '2', 'fd02::10', ns=host_a,
                       check=False)
    check(r.returncode == 0 and ' 0% packet loss' in r.stdout, 'and with 1,200-byte IPv6 pings')
    # No static neighbor anywhere: each dataplane solicited a next hop,
    # answered a solicitation for its own address and learnt a neighbor
    # (from an advertisement, or from a solicitation's source link-layer
    # address, which spares the asker's neighbor a solicitation: RFC 4861).
    for gw in (gw_a, peer):
        main = gw.stats()['main']
        check(main['nd_solicitations'] >= 1 and main['nd_replies'] >= 1 and main['nd_learnt'] >= 1 and
              main['nd_malformed'] == 0 and main['nd_no_source'] == 0,
              '%s resolved its IPv6 neighbors by Neighbor Discovery (%s)' % (
                  gw.name, {k: v for k, v in main.items() if k.startswith('nd_')}))


# What is left of a 1500-byte path for the clear packet inside AES-GCM ESP over
# IPv6 (ipsec/overhead.h): 1500 - 40 (IPv6) - 8 (ESP header) - 8 (IV) - 16 (ICV)
# = 1428 bytes of payload, a multiple of 4, of which 2 are pad length and
# next header.
TUNNEL_MTU_V6_GCM = 1426


def check_path_mtu(gw_a, peer, host_a):
    """The hosts' LANs are 1500 bytes, as the WAN: their largest packets do not fit the tunnel.
    IPv4 without DF is fragmented by the gateway before ESP (RFC 4301 §8.1), so nothing is
    fragmented on the WAN; with DF, and IPv6, the sender is told the tunnel's MTU (ICMP
    "fragmentation needed", ICMPv6 "packet too big") and its kernel takes it (RFC 1191, RFC 8201)."""
    say('path MTU: 1500-byte packets from 1500-byte LANs into a tunnel that holds %d' % TUNNEL_MTU_V6_GCM)
    before = {gw.name: gw.stats()['forwarding'] for gw in (gw_a, peer)}
    r = sw.Topology.sh('ping', '-c', '5', '-i', '0.2', '-W', '2', '-M', 'dont', '-s', '1472', '10.2.0.10',
                       ns=host_a, check=False)
    check(r.returncode == 0 and ' 0% packet loss' in r.stdout,
          '1500-byte IPv4 pings without DF cross the tunnel (%s)' % (
              [line for line in r.stdout.splitlines() if 'packet loss' in line] or [r.stdout[-200:]])[0])
    for gw in (gw_a, peer):  # A cuts the requests, B the replies (Linux answers echo without DF)
        now = gw.stats()['forwarding']
        cut = now['fragmented'] - before[gw.name]['fragmented']
        check(cut >= 5 and now['fragments'] - before[gw.name]['fragments'] >= 2 * cut,
              '%s fragmented them before ESP (%d packets into %d fragments)' % (
                  gw.name, cut, now['fragments'] - before[gw.name]['fragments']))
    for family, target, size, route in (('-4', '10.2.0.10', '1472', ['ip', 'route', 'get', '10.2.0.10']),
                                        ('-6', 'fd02::10', '1452', ['ip', '-6', 'route', 'get', 'fd02::10'])):
        sent = gw_a.stats()['forwarding']['too_big_sent']
        r = sw.Topology.sh('ping', family, '-c', '2', '-i', '0.3', '-W', '1', '-M', 'do', '-s', size, target,
                           ns=host_a, check=False)
        said = (r.stdout or '') + (r.stderr or '')  # "Frag needed ... (mtu = 1426)", "Packet too big: mtu=1426"
        told = 'mtu = %d' % TUNNEL_MTU_V6_GCM in said or 'mtu=%d' % TUNNEL_MTU_V6_GCM in said
        learnt = sw.Topology.sh(*route, ns=host_a, check=False).stdout
        check(r.returncode != 0 and told and 'mtu %d' % TUNNEL_MTU_V6_GCM in learnt and
              gw_a.stats()['forwarding']['too_big_sent'] > sent,
              'IPv%s with DF: gateway A answered "too big" and host A learnt the tunnel\'s MTU (%s)' % (
                  family[1], learnt.strip().replace('\n', ' ')))
        # Now host A sizes them to the path itself (IPv6: fragments of its
        # own). Host B's full-size IPv6 replies meet gateway B's "too big"
        # in turn: the first is lost, teaching host B.
        told_b = peer.stats()['forwarding']['too_big_sent']
        sw.Topology.sh('ping', family, '-c', '2', '-i', '0.3', '-W', '1', '-s', size, target, ns=host_a, check=False)
        if family == '-6':
            check(peer.stats()['forwarding']['too_big_sent'] > told_b,
                  'gateway B answered host B\'s full-size IPv6 replies "too big" as well')
        r = sw.Topology.sh('ping', family, '-c', '3', '-i', '0.2', '-W', '2', '-s', size, target, ns=host_a,
                           check=False)
        check(r.returncode == 0 and ' 0% packet loss' in r.stdout,
              'IPv%s: the same pings pass once the hosts send them to fit (%s)' % (family[1], (
                  [line for line in r.stdout.splitlines() if 'packet loss' in line] or [r.stdout[-200:]])[0]))


def check_transport(gw_a, peer):
    """ESP in transport mode between the gateways' own addresses: gateway A's kernel pings gateway
    B's through its exception TAP, the dataplanes protect it, and each decapsulated packet for
    the gateway itself goes on to its kernel."""
    for gw, local in ((gw_a, '192.0.2.1/32'), (peer, '192.0.2.2/32')):
        child = gw.established()['children'][0]
        check(child['mode'].lower() == 'transport' and child['local_ts'] == [local],
              '%s: a transport-mode Child SA for %s === %s' % (gw.name, ' '.join(child['local_ts']),
                                                              ' '.join(child['remote_ts'])))
    say('gateway A pings gateway B, 100 a second: ESP in transport mode, decapsulated into each kernel')
    sw.Topology.sh('ping', '-c', '3', '-i', '0.2', '-W', '1', '192.0.2.2', ns=gw_a.ns, check=False)  # ARP
    r = sw.Topology.sh('ping', '-c', '600', '-i', '0.01', '-W', '1', '192.0.2.2', ns=gw_a.ns, check=False, timeout=60)
    check(r.returncode == 0 and ' 0% packet loss' in r.stdout, 'gateway A -> gateway B: %s' % (
        [line for line in r.stdout.splitlines() if 'packet loss' in line] or [r.stdout[-200:]])[0])
    r = sw.Topology.sh('ping', '-c', '5', '-i', '0.2', '-W', '1', '192.0.2.1', ns=peer.ns, check=False)
    check(r.returncode == 0 and ' 0% packet loss' in r.stdout, 'gateway B -> gateway A as well')
    # Transport mode protects whole datagrams: a 1500-byte one without DF
    # leaves as ESP too big for the WAN, fragmented after the engine, and the
    # other side puts the ESP together before its SAD (RFC 4303 §3.4.1). Here
    # the kernel does that below the dataplane: DPDK's af_packet ports join
    # their socket's fanout group with PACKET_FANOUT_FLAG_DEFRAG, so the
    # dataplane's own reassembly (for NICs) is left to reassembly_test.cc.
    say('gateway A pings gateway B with 1500-byte packets without DF: ESP fragmented on the WAN')
    before = {gw.name: gw.stats()['forwarding'] for gw in (gw_a, peer)}
    r = sw.Topology.sh('ping', '-c', '5', '-i', '0.2', '-W', '2', '-M', 'dont', '-s', '1472', '192.0.2.2',
                       ns=gw_a.ns, check=False)
    check(r.returncode == 0 and ' 0% packet loss' in r.stdout, '1500-byte pings, gateway A -> gateway B (%s)' % (
        [line for line in r.stdout.splitlines() if 'packet loss' in line] or [r.stdout[-200:]])[0])
    for gw in (gw_a, peer):  # the requests and the replies (Linux answers echo without DF)
        now = gw.stats()['forwarding']
        cut = now['fragmented'] - before[gw.name]['fragmented']
        check(cut >= 5 and now['reassembly']['dropped'] == 0,
              '%s fragmented the %d ESP packets it sent' % (gw.name, cut))


def ping(host, target, count, interval='0.2'):
    r = sw.Topology.sh('ping', '-c', str(count), '-i', interval, '-W', '1', target, ns=host, check=False)
    received = next((int(w) for line in r.stdout.splitlines() if 'received' in line
                     for w in [line.split(',')[1].split()[0]]), 0)
    return received


def trap_brings_up(gw_a, host_a):
    """start_action=trap at gateway A: nothing is negotiated until host A sends. Its first packet
    hits the trap policy (dropped, an ACQUIRE to corridor-control), the Child SA is negotiated,
    and the following packets cross the tunnel."""
    say('start_action=trap: gateway A installs a trap policy and waits for traffic')
    time.sleep(2)
    check(not gw_a.ike_sas(), 'no IKE SA before traffic comes (%d)' % len(gw_a.ike_sas()))
    traps = gw_a.api('/stats')['traps']
    check(traps['children'] == 1 and traps['policies'] == 1 and traps['acquires'] == 0,
          'one child trapped with one trap policy, no acquire yet (%s)' % traps)
    received = ping(host_a, '10.2.0.10', 20)
    check(received >= 15, 'host A\'s ping started the tunnel and got through (%d of 20 answered; the first '
          'hit the trap)' % received)
    gw_a.wait_for(gw_a.established, 'established IKE SA with a Child SA', 10)
    trapped = gw_a.stats()['forwarding']['drops']['trapped']
    traps = gw_a.api('/stats')['traps']
    check(trapped >= 1 and traps['acquires'] >= 1 and traps['initiated'] == 1 and traps['failed'] == 0,
          'the dataplane dropped %d packet(s) as trapped and sent ACQUIREs; control initiated once (%s)' % (
              trapped, traps))


def check_trap_again(gw_a, host_a):
    """The trap outlives the Child SA: deleted by the operator, it is negotiated again by the next
    packet. While it is up, its own policy carries the traffic, not the trap."""
    say('the trap stays: the operator deletes the Child SA, and host A\'s next packet negotiates it again')
    before = gw_a.api('/stats')['traps']
    trapped = gw_a.stats()['forwarding']['drops']['trapped']
    received = ping(host_a, '10.2.0.10', 5, '0.1')
    check(received == 5 and gw_a.stats()['forwarding']['drops']['trapped'] == trapped,
          'while the Child SA is up the trap catches nothing (%d of 5 answered)' % received)
    status, body = gw_a.api_request('POST', '/connections/site-b/children/lans/terminate', token='admin')
    check(status == 202, 'POST /connections/site-b/children/lans/terminate: %d' % status)
    gw_a.wait_for(lambda: not gw_a.established(), 'Child SA gone', 10)
    received = ping(host_a, '10.2.0.10', 20)
    gw_a.wait_for(gw_a.established, 'established IKE SA with a Child SA', 10)
    after = gw_a.api('/stats')['traps']
    check(received >= 15 and after['initiated'] == before['initiated'] + 1,
          'the next packets negotiated it again (%d of 20 answered; initiated %d -> %d)' % (
              received, before['initiated'], after['initiated']))


# Gateway B's firewall holding IKE both ways (UDP 500, and UDP 4500 with
# the non-ESP marker, RFC 3948 §2.2) while ESP goes on. IKE of a strongSwan
# or Corridor gateway B passes B's kernel (Corridor's through its exception
# TAP), so nft in B's namespace sees it.
HOLD_IKE = """table inet corridor_hold {
    chain input { type filter hook input priority 0; policy accept;
        udp dport 500 drop; udp dport 4500 @th,64,32 0 drop; }
    chain output { type filter hook output priority 0; policy accept;
        udp sport 500 drop; udp sport 4500 @th,64,32 0 drop; }
}
"""


def hold_ike(ns, wd, hold):
    if hold:
        path = os.path.join(wd, 'hold-ike.nft')
        with open(path, 'w') as f:
            f.write(HOLD_IKE)
        sw.Topology.sh('nft', '-f', path, ns=ns)
    else:
        sw.Topology.sh('nft', 'delete', 'table', 'inet', 'corridor_hold', ns=ns)


def rekey_collision(gw_a, peer, ns_b, host_a, wd):
    """RFC 7296 §2.8.2 against strongSwan: both gateways rekey the IKE SA at once. Gateway B's
    firewall holds IKE for 2.5 s, so both CREATE_CHILD_SA requests are out together; their
    retransmissions (4 s on both sides) then cross. The one whose request was sent first
    retransmits first and completes its rekey without seeing the other's; the other sees the
    collision, answers, and then learns from the Delete of the old IKE SA (or a TEMPORARY_FAILURE)
    that the peer's new IKE SA is the one. Once with strongSwan first, so that Corridor is the end
    that sees it, once with Corridor first. Each time both must end on one and the same new IKE SA
    holding the Child SA, and the tunnel carries traffic."""
    say('both gateways rekey the IKE SA at once (RFC 7296 §2.8.2): gateway B holds IKE for 2.5 s so the '
        'requests cross')

    def corridor_rekey():
        sa = gw_a.established()
        status, body = gw_a.api_request('POST', '/sas/%d/rekey' % sa['id'], token='admin')
        check(status == 202, 'POST /sas/%d/rekey: %d %s' % (sa['id'], status, body[:200]))

    def strongswan_rekey():
        check(peer.rekey(ike='site-a'), 'swanctl --rekey --ike site-a accepted')

    def settled():
        a, b = gw_a.ike_sas(), peer.list_sas()
        return (len(a) == 1 and len(b) == 1 and a[0]['state'] == 'ESTABLISHED' and b[0]['state'] == 'ESTABLISHED' and
                len(a[0]['children']) == 1 and len(b[0]['child-sas']) == 1 and
                a[0]['spi_i'] == b[0]['initiator-spi'] and a[0]['spi_r'] == b[0]['responder-spi'])

    for first in ('strongSwan', 'Corridor'):
        before = gw_a.established()
        collisions = gw_a.status()['ike']['ike_rekey_collisions']
        hold_ike(ns_b, wd, True)
        try:
            for rekey in ((strongswan_rekey, corridor_rekey) if first == 'strongSwan' else
                          (corridor_rekey, strongswan_rekey)):
                rekey()
                time.sleep(0.3)
            time.sleep(2.2)
        finally:
            hold_ike(ns_b, wd, False)
        deadline = time.time() + 25
        while not settled() and time.time() < deadline:
            time.sleep(0.2)
        a, b = gw_a.ike_sas(), peer.list_sas()
        check(settled() and a[0]['spi_i'] != before['spi_i'],
              '%s first: one and the same new IKE SA on both gateways, with the Child SA (Corridor: %s; '
              'strongSwan: %s)' % (first, ', '.join('%s %s_i %s_r %d child(ren)' % (
                  s['state'], s['spi_i'], s['spi_r'], len(s['children'])) for s in a),
                                   ', '.join('%s %s_i %s_r %d child(ren)' % (
                                       s['state'], s['initiator-spi'], s['responder-spi'], len(s['child-sas']))
                                             for s in b)))
        seen = gw_a.status()['ike']['ike_rekey_collisions'] - collisions
        if first == 'strongSwan':
            check(seen == 1, 'Corridor saw the collision and settled it (ike_rekey_collisions +%d)' % seen)
        received = ping(host_a, '10.2.0.10', 5)
        check(received == 5, 'the tunnel carries traffic after it (%d of 5 answered)' % received)


def check_variant(variant, gw_a, peer, host_a):
    if variant == 'esn':
        check_esn(gw_a, peer)
    elif variant == 'ah':
        check_ah(gw_a, peer)
    elif variant == 'multi':
        check_multi(gw_a, peer, host_a)
    elif variant == 'ipv6':
        check_ipv6(gw_a, peer, host_a)
        check_path_mtu(gw_a, peer, host_a)
    elif variant == 'transport':
        check_transport(gw_a, peer)
    elif variant == 'trap':
        check_trap_again(gw_a, host_a)
