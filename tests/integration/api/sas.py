"""Sections 3 and 4: initiate through the API, the SA views on both sides,
filters and paging; Child SA and IKE SA rekey, reauthentication, deletes, terminate, 404 for a
gone SA and 409 for one being deleted."""

import os
import re
import signal
import time

from .client import check_accepted, check_problem, established, one_established_pair, only_sa
from .common import (ADDR_A, ADDR_B, CHILD, CHILD2, CONN, CONN2, ESP_PROPOSAL, GATEWAYS, ID_A, ID_B, IKE_PROPOSAL,
                     NET_A, NET_B, Ctx, check, note, require, wait_until)


# ----------------------------------------------------------------------------
# section 3: initiate, SA views, filters, paging

SPI64 = re.compile(r'^[0-9a-f]{16}$')
SPI32 = re.compile(r'^0x[0-9a-f]{8}$')


def check_sa_view(sa, side, local, remote, local_id, remote_id, initiator, local_net, remote_net):
    what = 'GET /sas/{id} on %s' % side
    check(isinstance(sa.get('id'), int) and sa['id'] >= 1 and sa.get('name') == '%s[%d]' % (CONN, sa['id']),
          '%s: id and name "%s[id]"' % (what, CONN), str(sa))
    check(sa.get('connection') == CONN and sa.get('version') == 2 and sa.get('state') == 'ESTABLISHED' and
          sa.get('initiator') is initiator, '%s: connection, version 2, ESTABLISHED, initiator %s' % (what, initiator),
          str(sa))
    check(sa.get('local', {}).get('address') == local and sa['local'].get('port') in (500, 4500) and
          sa.get('remote', {}).get('address') == remote and sa['remote'].get('port') in (500, 4500) and
          set(sa['local']) == {'address', 'port'} and set(sa['remote']) == {'address', 'port'},
          '%s: local %s, remote %s endpoints' % (what, local, remote), str((sa.get('local'), sa.get('remote'))))
    check(sa.get('local_id') == local_id and sa.get('remote_id') == remote_id, '%s: identities' % what)
    check(bool(SPI64.match(sa.get('spi_i', ''))) and bool(SPI64.match(sa.get('spi_r', ''))) and
          sa['spi_i'] != sa['spi_r'], '%s: spi_i/spi_r 16 hex digits' % what)
    check(sa.get('proposal') == IKE_PROPOSAL, '%s: proposal %s' % (what, IKE_PROPOSAL), str(sa.get('proposal')))
    check(sa.get('nat') == {'local': False, 'remote': False}, '%s: nat both false' % what, str(sa.get('nat')))
    check(isinstance(sa.get('established_seconds'), int) and 0 <= sa['established_seconds'] < 60,
          '%s: established_seconds' % what, str(sa.get('established_seconds')))
    for k in ('rekey_in_seconds', 'expire_in_seconds'):
        check(k in sa and (sa[k] is None or (isinstance(sa[k], int) and sa[k] >= 0)), '%s: %s int or null' % (what, k))
    check(isinstance(sa.get('rekey_in_seconds'), int) and 0 < sa['rekey_in_seconds'] <= 4 * 3600,
          '%s: an IKE rekey is scheduled within the default 4h' % what, str(sa.get('rekey_in_seconds')))
    children = sa.get('children', [])
    require(len(children) == 1, '%s: one Child SA' % what, str(children))
    c = children[0]
    check(c.get('name') == CHILD and c.get('state') == 'INSTALLED' and c.get('mode') == 'TUNNEL' and
          c.get('protocol') == 'ESP' and c.get('encapsulation') is False,
          '%s: child %s INSTALLED TUNNEL ESP, no UDP encapsulation' % (what, CHILD), str(c))
    check(bool(SPI32.match(c.get('spi_in', ''))) and bool(SPI32.match(c.get('spi_out', ''))),
          '%s: child SPIs as 0x + 8 hex digits' % what, str(c))
    check(c.get('proposal') == ESP_PROPOSAL, '%s: child proposal %s' % (what, ESP_PROPOSAL), str(c.get('proposal')))
    check(c.get('local_ts') == [local_net] and c.get('remote_ts') == [remote_net], '%s: traffic selectors' % what,
          str(c))
    check(isinstance(c.get('installed_seconds'), int) and c['installed_seconds'] >= 0 and
          isinstance(c.get('rekey_in_seconds'), int) and isinstance(c.get('expire_in_seconds'), int) and
          0 < c['rekey_in_seconds'] < c['expire_in_seconds'] <= 2 * 3600,
          '%s: child installed/rekey/expire seconds (rekey before expiry, default 1h)' % what, str(c))
    check('traffic' in c and c['traffic'] is None, '%s: traffic null (no dataplane report)' % what,
          str(c.get('traffic')))
    check(c.get('pfs_group') is None and c.get('esn') is False, '%s: child made in IKE_AUTH: no PFS group, no ESN'
          % what, str(c))
    dpd = sa.get('dpd') or {}
    check(dpd.get('delay_seconds') == 0 and isinstance(dpd.get('last_received_seconds'), int) and
          0 <= dpd['last_received_seconds'] < 60 and dpd.get('last_sent_seconds') is None and
          dpd.get('last_acknowledged_seconds') is None,
          '%s: dpd: no dpd_delay, the peer heard from, no liveness check yet' % what, str(dpd))


def section_initiate():
    a, b = Ctx.a, Ctx.b
    check(a.sas() == [] and b.sas() == [], 'no IKE SA before the API initiates one (start_action none)')
    r = a.request('POST', '/connections/%s/children/%s/initiate' % (CONN, CHILD), token=Ctx.operate)
    check_accepted(r, 'POST /connections/gw/children/net/initiate (operate token)')
    sa_a, sa_b = wait_until(one_established_pair, 10, 'one ESTABLISHED IKE SA with one INSTALLED child on A and B')
    check(True, 'A and B list one ESTABLISHED IKE SA with one INSTALLED Child SA')

    ra = a.get('/sas/%d' % sa_a['id'])
    rb = b.get('/sas/%d' % sa_b['id'])
    check(ra.status == 200 and rb.status == 200 and ra.ctype == 'application/json', 'GET /sas/{id} 200 on A and B')
    va, vb = ra.json, rb.json
    check_sa_view(va, 'A', ADDR_A, ADDR_B, ID_A, ID_B, True, NET_A, NET_B)
    check_sa_view(vb, 'B', ADDR_B, ADDR_A, ID_B, ID_A, False, NET_B, NET_A)
    check(va['spi_i'] == vb['spi_i'] and va['spi_r'] == vb['spi_r'], 'spi_i and spi_r equal on A and B',
          '%s/%s vs %s/%s' % (va['spi_i'], va['spi_r'], vb['spi_i'], vb['spi_r']))
    ca, cb = va['children'][0], vb['children'][0]
    check(ca['spi_in'] == cb['spi_out'] and ca['spi_out'] == cb['spi_in'],
          'child spi_in on A == spi_out on B and the reverse', '%s %s / %s %s' % (ca['spi_in'], ca['spi_out'],
                                                                                    cb['spi_in'], cb['spi_out']))
    check(va['local']['port'] == vb['remote']['port'] and va['remote']['port'] == vb['local']['port'],
          'the endpoints\' ports agree on both sides')
    timing = ('established_seconds', 'age_seconds', 'rekey_in_seconds', 'expire_in_seconds', 'dpd', 'children')
    check({k: v for k, v in va.items() if k not in timing} == {k: v for k, v in sa_a.items() if k not in timing},
          'GET /sas/{id} and the GET /sas item agree')
    Ctx.sa_a, Ctx.sa_b = va, vb

    # Filters.
    def count(q, client=a):
        r = client.get('/sas' + q)
        if not check(r.status == 200 and isinstance(r.json, dict) and set(r.json) == {'items', 'next_cursor'},
                     'GET /sas%s: 200 {items, next_cursor}' % q, str(r)):
            return None
        return len(r.json['items'])
    check(count('?connection=' + CONN) == 1, '?connection=%s lists the SA' % CONN)
    check(count('?connection=other') == 0, '?connection=other lists none')
    check(count('?state=established') == 1, '?state=established (any case) lists the SA')
    check(count('?state=ESTABLISHED&connection=' + CONN) == 1, '?state=ESTABLISHED&connection=gw lists the SA')
    check(count('?state=DELETING') == 0, '?state=DELETING lists none')
    check(count('?version=2') == 1, '?version=2 lists the SA')
    check(count('?version=1') == 0, '?version=1 lists none (no IKEv1 SA)')
    check(count('?version=1', b) == 0, '?version=1 on B lists none')
    r = a.get('/sas?limit=1')
    check(r.status == 200 and len(r.json['items']) == 1 and r.json['next_cursor'] is None,
          '?limit=1 with one SA: one item, next_cursor null', str(r))
    for q, what in (('?limit=0', 'limit=0'), ('?limit=abc', 'limit=abc'), ('?limit=1001', 'limit=1001'),
                    ('?limit=-1', 'limit=-1'), ('?version=3', 'version=3'), ('?cursor=xyz', 'cursor=xyz'),
                    ('?colour=blue', 'an unknown query parameter'), ('?limit=1&limit=2', 'a parameter twice')):
        r = a.get('/sas' + q)
        check_problem(r, 400, 'bad-request', 'GET /sas%s (%s)' % (q, what), instance='/api/v1/sas')
    r = a.get('/sas/999999')
    check_problem(r, 404, 'not-found', 'GET /sas/999999', detail_has='999999', instance='/api/v1/sas/999999')
    r = a.get('/sas/%d?x=1' % va['id'])
    check_problem(r, 400, 'bad-request', 'GET /sas/{id}?x=1 (the route takes no parameters)')

    # Paging and filters over two IKE SAs: the second of connection gw2.
    r = a.request('POST', '/connections/%s/children/%s/initiate' % (CONN2, CHILD2), token=Ctx.operate)
    check_accepted(r, 'initiate connection %s' % CONN2)
    wait_until(lambda: len(established(a.sas())) == 2 and len(established(b.sas())) == 2,
               10, 'two ESTABLISHED IKE SAs on A and B')
    ids = sorted(s['id'] for s in a.sas())
    for client, name in ((a, 'A'), (b, 'B')):
        by_conn = {s['connection']: s for s in client.sas()}
        check(set(by_conn) == {CONN, CONN2} and by_conn[CONN2]['children'][0]['name'] == CHILD2,
              '%s lists the IKE SAs of both connections' % name, str(by_conn.keys()))
    for c in (CONN, CONN2):
        r = a.get('/sas?connection=' + c)
        check(r.status == 200 and [s['connection'] for s in r.json['items']] == [c],
              '?connection=%s lists only its IKE SA' % c, str(r))
    r = b.get('/sas?connection=%s&limit=1' % CONN2)
    check(r.status == 200 and [s['connection'] for s in r.json['items']] == [CONN2] and r.json['next_cursor'] is None,
          'B: ?connection=%s&limit=1, one item, next_cursor null' % CONN2, str(r))
    r = a.get('/sas?limit=1')
    first = r.json if r.status == 200 else {}
    check(r.status == 200 and [s['id'] for s in first['items']] == ids[:1] and
          isinstance(first.get('next_cursor'), str), '?limit=1 with two SAs: the first, and a next_cursor', str(r))
    if isinstance(first.get('next_cursor'), str):
        r = a.get('/sas?limit=1&cursor=' + first['next_cursor'])
        check(r.status == 200 and [s['id'] for s in r.json['items']] == ids[1:] and r.json['next_cursor'] is None,
              '?cursor=next_cursor: the second SA and next_cursor null', str(r))
    r = a.get('/sas?limit=2')
    check(r.status == 200 and len(r.json['items']) == 2 and r.json['next_cursor'] is None,
          '?limit=2 with two SAs: both, next_cursor null', str(r))
    newer = [i for i in ids if i != va['id']]
    r = a.request('DELETE', '/sas/%d' % newer[0], token=Ctx.operate)
    check_accepted(r, 'DELETE the IKE SA of %s' % CONN2)
    wait_until(one_established_pair, 10, 'back to one IKE SA on A and B')
    la = a.sas()
    check([s['id'] for s in la] == [va['id']], 'the first IKE SA remains', str(la))


def section_initiate_twice():
    """Two IKE SAs of one connection, both initiated by A through the API: both
    gateways must list both. RFC 7296 §2.4: INITIAL_CONTACT asserts that the
    new IKE SA is the only one between the two identities, so A may send it
    only while it has no other IKE SA with B; otherwise B drops A's other IKE
    SAs without a word and A keeps SAs B no longer has."""
    a, b = Ctx.a, Ctx.b
    for s in a.sas():
        a.request('DELETE', '/sas/%d' % s['id'])
    wait_until(lambda: a.sas() == [] and b.sas() == [], 5, 'no IKE SA to start with')
    for n in (1, 2):
        r = a.request('POST', '/connections/%s/children/%s/initiate' % (CONN, CHILD))
        check_accepted(r, 'initiate %s/%s (#%d)' % (CONN, CHILD, n))
        wait_until(lambda: len(established(a.sas())) == n, 5, '%d IKE SAs on A' % n)
    time.sleep(0.5)
    la, lb = a.sas(), b.sas()
    check(len(established(la)) == 2, 'A lists both IKE SAs of %s ESTABLISHED' % CONN, str([s['name'] for s in la]))
    check(sorted((s['spi_i'], s['spi_r']) for s in lb) == sorted((s['spi_i'], s['spi_r']) for s in la),
          'B lists the same two IKE SAs as A after two initiates of one connection '
          '(INITIAL_CONTACT only on the first, RFC 7296 §2.4)',
          'A: %s; B: %s' % ([s['name'] + ' ' + s['spi_i'] for s in la], [s['name'] + ' ' + s['spi_i'] for s in lb]))


# ----------------------------------------------------------------------------
# section 4: rekey, delete, terminate

def section_rekey_after_ike_rekey():
    """A Child SA rekey in an IKE SA that was itself rekeyed (the Child SA moved
    to the new IKE SA), on connection gw2."""
    a, b = Ctx.a, Ctx.b
    q = '?connection=' + CONN2

    def one_gw2():
        la, lb = a.sas(q), b.sas(q)
        if len(la) == 1 and len(lb) == 1 and established(la) and established(lb):
            return la[0], lb[0]
        return None
    r = a.request('POST', '/connections/%s/children/%s/initiate' % (CONN2, CHILD2))
    check_accepted(r, 'initiate %s/%s' % (CONN2, CHILD2))
    x, _ = wait_until(one_gw2, 5, 'the %s IKE SA ESTABLISHED on A and B' % CONN2)
    r = a.request('POST', '/sas/%d/rekey' % x['id'])
    check_accepted(r, 'POST /sas/{id}/rekey (%s)' % CONN2)
    y, _ = wait_until(lambda: (lambda p: p if p and p[0]['spi_i'] != x['spi_i'] else None)(one_gw2()), 5,
                      'the %s IKE SA rekeyed' % CONN2)
    old_in = y['children'][0]['spi_in']
    check(old_in == x['children'][0]['spi_in'], 'the Child SA moved to the rekeyed IKE SA')
    r = a.request('POST', '/sas/%d/children/%s/rekey' % (y['id'], old_in))
    check_accepted(r, 'POST /sas/{id}/children/{spi}/rekey of the Child SA the IKE SA rekey moved')
    z, zb = wait_until(lambda: (lambda p: p if p and p[0]['children'][0]['spi_in'] != old_in else None)(one_gw2()),
                       5, 'the moved Child SA rekeyed')
    check(z['children'][0]['spi_in'] == zb['children'][0]['spi_out'],
          'the Child SA of a rekeyed IKE SA rekeys: new SPIs match across A and B')


def section_rekey_delete():
    a, b = Ctx.a, Ctx.b
    pair = one_established_pair()
    require(pair, 'one established IKE SA to start with')
    sa_a, sa_b = pair
    ike_id = sa_a['id']
    old_in, old_out = sa_a['children'][0]['spi_in'], sa_a['children'][0]['spi_out']

    # Child SA rekey.
    r = a.request('POST', '/sas/%d/children/%s/rekey' % (ike_id, old_in), token=Ctx.operate)
    check_accepted(r, 'POST /sas/{id}/children/{spi}/rekey')

    def child_rekeyed():
        x, y = only_sa(a), only_sa(b)
        if not x or not y or len(x['children']) != 1 or len(y['children']) != 1:
            return None
        cx, cy = x['children'][0], y['children'][0]
        if cx['state'] != 'INSTALLED' or cy['state'] != 'INSTALLED' or cx['spi_in'] in (old_in, old_out) or \
                cx['spi_out'] in (old_in, old_out):
            return None
        return x, y
    x, y = wait_until(child_rekeyed, 5, 'the Child SA rekeyed: new SPIs, the old ones gone, on A and B')
    cx, cy = x['children'][0], y['children'][0]
    check(True, 'Child SA rekeyed: %s/%s -> %s/%s' % (old_in, old_out, cx['spi_in'], cx['spi_out']))
    check(cx['spi_in'] == cy['spi_out'] and cx['spi_out'] == cy['spi_in'], 'the new child SPIs match across A and B')
    check(not any(c['spi_in'] in (old_in, old_out) or c['spi_out'] in (old_in, old_out)
                  for s in (x, y) for c in s['children']), 'the old child SPIs are gone on both sides')
    check(x['id'] == ike_id and x['spi_i'] == sa_a['spi_i'] and x['spi_r'] == sa_a['spi_r'],
          'a Child SA rekey keeps the IKE SA (id and SPIs)')
    r = a.request('POST', '/sas/%d/children/%s/rekey' % (ike_id, old_in), token=Ctx.operate)
    # docs/api/openapi.yaml NotFound: "No such SA, Child SA, connection or child (`not-found`)".
    check_problem(r, 404, 'not-found', 'POST rekey of a Child SA the IKE SA does not have (old SPI %s)' % old_in,
                  detail_has=old_in[2:])

    # IKE SA rekey: new IKE SPIs, the children kept.
    child_in, child_out = cx['spi_in'], cx['spi_out']
    r = a.request('POST', '/sas/%d/rekey' % ike_id, token=Ctx.operate)
    check_accepted(r, 'POST /sas/{id}/rekey')

    def ike_rekeyed():
        x, y = only_sa(a), only_sa(b)
        if not x or not y or x['state'] != 'ESTABLISHED' or y['state'] != 'ESTABLISHED':
            return None
        if x['spi_i'] == sa_a['spi_i'] or x['spi_r'] == sa_a['spi_r']:
            return None
        return x, y
    x, y = wait_until(ike_rekeyed, 5, 'the IKE SA rekeyed: one ESTABLISHED IKE SA with new SPIs on A and B')
    check(x['spi_i'] == y['spi_i'] and x['spi_r'] == y['spi_r'], 'the new IKE SPIs match across A and B')
    check([(c['spi_in'], c['spi_out'], c['state']) for c in x['children']] == [(child_in, child_out, 'INSTALLED')] and
          [(c['spi_in'], c['spi_out']) for c in y['children']] == [(child_out, child_in)],
          'the IKE SA rekey kept the Child SA (same SPIs) on both sides', str((x['children'], y['children'])))
    ike_id2 = x['id']
    if ike_id2 != ike_id:
        r = a.get('/sas/%d' % ike_id)
        check_problem(r, 404, 'not-found', 'the old IKE SA id after the rekey', detail_has=str(ike_id))
    note('IKE SA id %s after its rekey' % ('kept' if ike_id2 == ike_id else '%d -> %d' % (ike_id, ike_id2)))

    # Reauthentication: a new IKE SA and Child SA (new ids and SPIs); the old IKE SA deleted.
    r = a.request('POST', '/sas/%d/reauth' % ike_id2, token=Ctx.operate)
    check_accepted(r, 'POST /sas/{id}/reauth')

    def reauthenticated():
        x, y = only_sa(a), only_sa(b)
        if not x or not y or x['id'] == ike_id2 or x['state'] != 'ESTABLISHED' or len(x['children']) != 1 or \
                len(y['children']) != 1:
            return None
        return x, y
    x, y = wait_until(reauthenticated, 5, 'the IKE SA reauthenticated: one new IKE SA with a Child SA on A and B')
    check(x['spi_i'] == y['spi_i'] and x['spi_i'] != sa_a['spi_i'] and
          x['children'][0]['spi_in'] == y['children'][0]['spi_out'] and
          x['children'][0]['spi_in'] not in (child_in, child_out),
          'reauthenticated: new IKE and Child SPIs, matching across A and B', str((x, y)))
    r = a.request('POST', '/sas/%d/reauth' % ike_id2, token=Ctx.operate)
    check_problem(r, 404, 'not-found', 'reauth of the IKE SA the reauthentication replaced', detail_has=str(ike_id2))
    ike_id2 = x['id']
    child_in = x['children'][0]['spi_in']

    # DELETE one Child SA: the IKE SA stays.
    r = a.request('DELETE', '/sas/%d/children/%s' % (ike_id2, child_in), token=Ctx.operate)
    check_accepted(r, 'DELETE /sas/{id}/children/{spi}')
    wait_until(lambda: (lambda x, y: x and y and x['children'] == [] and y['children'] == [] and
                        x['state'] == 'ESTABLISHED' and y['state'] == 'ESTABLISHED')(only_sa(a), only_sa(b)),
               5, 'the Child SA deleted on A and B, the IKE SA still ESTABLISHED')
    check(True, 'Child SA deleted on both sides, the IKE SA kept')
    r = a.request('DELETE', '/sas/%d/children/%s' % (ike_id2, child_in), token=Ctx.operate)
    check_problem(r, 404, 'not-found', 'DELETE of the Child SA just deleted', detail_has=child_in[2:])
    r = a.request('DELETE', '/sas/%d/children/zzz' % ike_id2, token=Ctx.operate)
    check(r.status in (400, 404) and r.ctype == 'application/problem+json',
          'DELETE /sas/{id}/children/zzz (not an SPI): 400 or 404 problem', str(r))

    # DELETE the IKE SA: both sides empty; a repeated DELETE is 404.
    r = a.request('DELETE', '/sas/%d' % ike_id2, token=Ctx.operate)
    check_accepted(r, 'DELETE /sas/{id}')
    wait_until(lambda: a.sas() == [] and b.sas() == [], 5, 'no IKE SA left on A and B')
    check(True, 'DELETE /sas/{id}: A and B list no IKE SA')
    r = a.request('DELETE', '/sas/%d' % ike_id2, token=Ctx.operate)
    check_problem(r, 404, 'not-found', 'DELETE of a gone IKE SA', detail_has=str(ike_id2),
                  instance='/api/v1/sas/%d' % ike_id2)
    r = a.request('POST', '/sas/%d/rekey' % ike_id2, token=Ctx.operate)
    check_problem(r, 404, 'not-found', 'rekey of a gone IKE SA', detail_has=str(ike_id2))

    # A new IKE SA, then POST .../terminate deletes every Child SA of the child.
    r = a.request('POST', '/connections/%s/children/%s/initiate' % (CONN, CHILD), token=Ctx.operate)
    check_accepted(r, 'initiate again')
    x, _ = wait_until(one_established_pair, 5, 'a new IKE SA with a Child SA on A and B')
    r = a.request('POST', '/connections/%s/children/%s/terminate' % (CONN2, CHILD2), token=Ctx.operate)
    check_accepted(r, 'POST /connections/gw2/children/net2/terminate (no Child SA of it)')
    check(isinstance(r.json, dict) and ' 0 ' in r.json.get('detail', ''), 'terminate of gw2/net2 deletes 0 Child SAs',
          str(r))
    r = a.request('POST', '/connections/%s/children/%s/terminate' % (CONN, CHILD), token=Ctx.operate)
    check_accepted(r, 'POST /connections/gw/children/net/terminate')
    check(isinstance(r.json, dict) and ' 1 ' in r.json.get('detail', ''), 'terminate says it deletes 1 Child SA',
          str(r))
    wait_until(lambda: (lambda x, y: x and y and x['children'] == [] and y['children'] == [] and
                        x['state'] == 'ESTABLISHED' and y['state'] == 'ESTABLISHED')(only_sa(a), only_sa(b)),
               5, 'no Child SA left on A and B, the IKE SA kept')
    check(True, 'terminate deleted the child\'s Child SA on both sides, the IKE SA kept')
    r = a.request('POST', '/connections/%s/children/nosuch/terminate' % CONN, token=Ctx.operate)
    check_problem(r, 404, 'not-found', 'POST terminate of an unknown child', detail_has='nosuch')
    r = a.request('POST', '/connections/nosuch/children/%s/initiate' % CHILD, token=Ctx.operate)
    check_problem(r, 404, 'not-found', 'POST initiate of an unknown connection', detail_has='nosuch')
    r = a.request('DELETE', '/sas/%d' % x['id'], token=Ctx.operate)
    check_accepted(r, 'DELETE the childless IKE SA')
    wait_until(lambda: a.sas() == [] and b.sas() == [], 5, 'no IKE SA left on A and B')

    # 409: an SA being deleted. Gateway B is stopped so A's Delete stays unanswered.
    r = a.request('POST', '/connections/%s/children/%s/initiate' % (CONN, CHILD), token=Ctx.operate)
    check_accepted(r, 'initiate (for the 409 checks)')
    x, _ = wait_until(one_established_pair, 5, 'one established IKE SA on A and B')
    b_gw = GATEWAYS[1]
    os.kill(b_gw.proc.pid, signal.SIGSTOP)
    try:
        r = a.request('DELETE', '/sas/%d' % x['id'], token=Ctx.operate)
        check_accepted(r, 'DELETE /sas/{id} with the peer stopped')
        state = a.get('/sas/%d' % x['id'])
        check(state.status == 200 and state.json.get('state') == 'DELETING',
              'the IKE SA is DELETING while the peer does not answer', str(state))
        r = a.request('POST', '/sas/%d/rekey' % x['id'], token=Ctx.operate)
        check_problem(r, 409, 'conflict', 'POST /sas/{id}/rekey of an IKE SA being deleted', detail_has=CONN)
        r = a.request('DELETE', '/sas/%d' % x['id'], token=Ctx.operate)
        check_problem(r, 409, 'conflict', 'DELETE /sas/{id} of an IKE SA being deleted')
        r = a.request('POST', '/sas/%d/children/%s/rekey' % (x['id'], x['children'][0]['spi_in']),
                      token=Ctx.operate)
        check_problem(r, 409, 'conflict', 'Child SA rekey in an IKE SA being deleted')
    finally:
        os.kill(b_gw.proc.pid, signal.SIGCONT)
    wait_until(lambda: a.sas() == [] and b.sas() == [], 10, 'the Delete answered once B runs again')
    check(True, 'after SIGCONT the peer answers the (retransmitted) Delete: both sides empty')
