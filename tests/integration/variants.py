"""Tunnel variants between two Corridor appliances: ike_tunnel.py --variant.

What the strongSwan peer on this machine cannot do (it runs kernel-libipsec,
which always UDP-encapsulates and has no AH): ESP with extended sequence
numbers, AH, and a connection with several Child SAs and subnets. Each check
runs once the tunnel is up; the common traffic and counter checks of
ike_tunnel.py follow.
"""

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


def check_variant(variant, gw_a, peer, host_a):
    if variant == 'esn':
        check_esn(gw_a, peer)
    elif variant == 'ah':
        check_ah(gw_a, peer)
    elif variant == 'multi':
        check_multi(gw_a, peer, host_a)
    elif variant == 'ipv6':
        check_ipv6(gw_a, peer, host_a)
    elif variant == 'transport':
        check_transport(gw_a, peer)
