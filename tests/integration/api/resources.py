"""Sections 5 and 6: connections, config (secrets redacted), stats, logging,
405/404/415; the OpenAPI document served equals docs/api/openapi.yaml and
every documented operation is routed."""

import json
import re
import subprocess
import sys

from .client import check_accepted, check_problem, fill, one_established_pair, operations
from .common import (ADDR_A, ADDR_B, CHILD, CONN, CONN2, GATEWAYS, ID_A, ID_A2, ID_B, NET_A, OPENAPI_CHECK,
                     OPENAPI_YAML, PSK, PSK2, Ctx, check, note, wait_until)


# ----------------------------------------------------------------------------
# section 5: connections, config, stats, logging, method and path errors

IKE_DEBUG = re.compile(r'\bdebug\s+\[ike\]')


def section_resources():
    a, b = Ctx.a, Ctx.b
    r = a.get('/connections')
    j = r.json if isinstance(r.json, dict) else {}
    check(r.status == 200 and set(j) == {'items', 'next_cursor'} and j['next_cursor'] is None and
          [c.get('name') for c in j['items']] == [CONN, CONN2],
          'GET /connections: gw and gw2 in config order, next_cursor null', str(r))
    conn = j['items'][0] if j.get('items') else {}
    check(conn.get('version') == 2 and conn.get('local_addrs') == [ADDR_A] and conn.get('remote_addrs') == [ADDR_B] and
          conn.get('local', {}).get('id') == ID_A and conn.get('remote', {}).get('id') == ID_B,
          'the connection: version, addresses, identities', str(conn))
    check([c.get('name') for c in conn.get('children', [])] == [CHILD] and
          conn['children'][0].get('start_action') == 'none' and conn['children'][0].get('local_ts') == [NET_A],
          'the connection\'s children as a list with names', str(conn.get('children')))
    r = a.get('/connections?limit=1')
    check(r.status == 200 and [c['name'] for c in r.json['items']] == [CONN] and
          isinstance(r.json['next_cursor'], str), 'GET /connections?limit=1: gw and a next_cursor', str(r))
    if r.status == 200 and isinstance(r.json['next_cursor'], str):
        r2 = a.get('/connections?limit=1&cursor=' + r.json['next_cursor'])
        check(r2.status == 200 and [c['name'] for c in r2.json['items']] == [CONN2] and r2.json['next_cursor'] is None,
              'GET /connections?cursor=next_cursor: gw2, next_cursor null', str(r2))
    for q in ('?limit=0', '?cursor=9', '?state=x'):
        check_problem(a.get('/connections' + q), 400, 'bad-request', 'GET /connections%s' % q)
    r = a.get('/connections/' + CONN)
    check(r.status == 200 and r.json == conn, 'GET /connections/gw equals its list item', str(r))
    r = a.get('/connections/' + CONN2)
    check(r.status == 200 and r.json == j['items'][1] and r.json['local']['id'] == ID_A2,
          'GET /connections/gw2 equals its list item', str(r))
    r = b.get('/connections/' + CONN)
    check(r.status == 200 and r.json.get('local_addrs') == [ADDR_B], 'GET /connections/gw on B', str(r))
    r = a.get('/connections/nosuch')
    check_problem(r, 404, 'not-found', 'GET /connections/nosuch', detail_has='nosuch',
                  instance='/api/v1/connections/nosuch')

    # The config, secrets redacted.
    for client, gw in ((a, GATEWAYS[0]), (b, GATEWAYS[1])):
        r = client.get('/config')
        j = r.json if isinstance(r.json, dict) else {}
        check(r.status == 200 and j.get('secrets', {}).get('ike-gw', {}).get('secret') == '<redacted>' and
              j['secrets'].get('ike-gw2', {}).get('secret') == '<redacted>',
              'GET /config on %s: both PSKs are "<redacted>"' % gw.name, str(r)[:300])
        check(j.get('secrets', {}).get('ike-gw', {}).get('id') == [ID_A, ID_B],
              'GET /config on %s: the secret\'s ids are shown' % gw.name)
        check(PSK.encode() not in r.body and PSK2.encode() not in r.body,
              'GET /config on %s: the PSKs are nowhere in the body' % gw.name)
        check(j.get('connections') == gw.doc['connections'] and j.get('sa_channel') == gw.doc['sa_channel'],
              'GET /config on %s: the connections and sa_channel as written' % gw.name)

    # Stats.
    r = a.get('/stats')
    j = r.json if isinstance(r.json, dict) else {}
    ike, api = j.get('ike', {}), j.get('api', {})
    check(r.status == 200 and {'ike', 'sa_channel', 'api'} <= set(j), 'GET /stats: ike, sa_channel, api', str(r))
    check(ike.get('sent', 0) > 0 and ike.get('received', 0) > 0 and ike.get('ike_sas_established', 0) >= 2 and
          ike.get('child_sas_installed', 0) >= 2, 'GET /stats: the IKE counters moved (sent, received, established, '
          'installed)', str(ike))
    check(all(isinstance(ike.get(k), dict) for k in ('drops', 'notifies_sent', 'notifies_received')),
          'GET /stats: drops and notifies as maps', str(ike))
    check(isinstance(api.get('requests'), int) and api['requests'] > 20 and
          api.get('responses_by_status', {}).get('200', 0) > 0 and api.get('responses_by_status', {}).get('401', 0) > 0
          and isinstance(api.get('open_connections'), int) and api['open_connections'] >= 1 and
          isinstance(api.get('rejected_connections'), int), 'GET /stats: api requests, responses by status, '
          'open and rejected connections', str(api))
    check(j.get('sa_channel', {}).get('dataplane_up') is False and isinstance(j['sa_channel'].get('phase'), str),
          'GET /stats: sa_channel phase, dataplane_up false', str(j.get('sa_channel')))
    before = api.get('requests', 0)
    r = a.get('/stats')
    check(r.status == 200 and r.json['api']['requests'] > before, 'the api request counter counts')

    # Logging.
    r = a.get('/logging')
    check(r.status == 200 and r.json == {'level': 'info', 'subsystems': {}}, 'GET /logging: info, no overrides',
          str(r))
    gw_a = GATEWAYS[0]
    log_mark = len(gw_a.log())
    r = a.request('PATCH', '/logging', body={'subsystems': {'ike': 'debug'}})
    check(r.status == 200 and r.json == {'level': 'info', 'subsystems': {'ike': 'debug'}},
          'PATCH /logging {"subsystems": {"ike": "debug"}}: answers the new levels', str(r))
    r = a.get('/logging', token=Ctx.read)
    check(r.status == 200 and r.json.get('subsystems') == {'ike': 'debug'}, 'GET /logging shows ike: debug', str(r))
    # Some IKE work to log (its state changes are debug lines): an IKE SA rekey.
    sa, _ = wait_until(one_established_pair, 5, 'an established IKE SA')
    r = a.request('POST', '/sas/%d/rekey' % sa['id'])
    check_accepted(r, 'an IKE SA rekey (for debug log lines)')
    wait_until(lambda: IKE_DEBUG.search(gw_a.log()[log_mark:]), 5, 'debug lines of [ike] in the daemon log')
    check(True, 'debug lines of subsystem ike appear in the daemon log')
    check(not re.search(r'\bdebug\s+\[(?!ike\])', gw_a.log()[log_mark:]),
          'no debug lines of other subsystems (the override is ike only)')
    r = a.request('PATCH', '/logging', body={'subsystems': {'ike': None}})
    check(r.status == 200 and r.json == {'level': 'info', 'subsystems': {}}, 'PATCH {"subsystems": {"ike": null}} '
          'removes the override', str(r))
    Ctx.debug_off_mark = len(gw_a.log())
    r = a.request('PATCH', '/logging', body={'level': 'info', 'subsystems': {'cfg': 'warning'}})
    check(r.status == 200 and r.json == {'level': 'info', 'subsystems': {'cfg': 'warning'}},
          'PATCH level and a subsystem together', str(r))
    r = a.request('PATCH', '/logging', body={'subsystems': {'cfg': None}})
    check(r.status == 200 and r.json['subsystems'] == {}, 'and removed again', str(r))

    r = a.request('PATCH', '/logging', body={'level': 'loud', 'subsystems': {'ike': 'chatty', 'Bad Name': 'info'}})
    check_problem(r, 400, 'validation', 'PATCH /logging with invalid levels and a bad subsystem name',
                  instance='/api/v1/logging')
    errs = r.json.get('errors') if isinstance(r.json, dict) else None
    pointers = sorted(e.get('pointer') for e in errs) if isinstance(errs, list) else []
    check(pointers == ['/level', '/subsystems/Bad Name', '/subsystems/ike'] and
          all(isinstance(e.get('detail'), str) and e['detail'] for e in errs),
          'errors[] holds a JSON pointer and a detail per problem', str(errs))
    check(isinstance(errs, list) and r.json.get('detail', '').startswith('%d problem' % len(errs)),
          'the validation detail counts the problems in errors[] ("%d problems ...")' % len(errs or []),
          'got detail %r with %d errors' % (r.json.get('detail') if isinstance(r.json, dict) else None,
                                             len(errs or [])))
    r = a.get('/logging')
    check(r.status == 200 and r.json == {'level': 'info', 'subsystems': {}},
          'a refused PATCH changed nothing (all or nothing)', str(r))
    r = a.request('PATCH', '/logging', body={'verbosity': 'debug'})
    check_problem(r, 400, 'validation', 'PATCH /logging with an unknown member')
    check(isinstance(r.json, dict) and [e.get('pointer') for e in r.json.get('errors', [])] == ['/verbosity'],
          'the unknown member\'s pointer is /verbosity', str(r))
    r = a.request('PATCH', '/logging', body={'level': 'debug'}, token=Ctx.read)
    check_problem(r, 403, 'forbidden', 'PATCH /logging with the read token')
    r = a.request('PATCH', '/logging', body=b'{"level": "debug"}', ctype='text/plain')
    check_problem(r, 415, 'unsupported-media-type', 'PATCH /logging with Content-Type: text/plain')
    r = a.request('PATCH', '/logging', body=b'{"level": "debug"}')
    check_problem(r, 415, 'unsupported-media-type', 'PATCH /logging without a Content-Type')
    r = a.request('PATCH', '/logging', body=b'{"level": ', ctype='application/json')
    check_problem(r, 400, 'bad-request', 'PATCH /logging with malformed JSON')
    r = a.request('PATCH', '/logging', body=b'["level"]', ctype='application/json')
    check_problem(r, 400, 'bad-request', 'PATCH /logging with a JSON array')
    r = a.get('/logging')
    check(r.status == 200 and r.json == {'level': 'info', 'subsystems': {}}, 'levels unchanged by the refused PATCHes',
          str(r))

    # 405 with Allow, 404 outside /api/v1 and for unknown paths in it.
    for method, path, allow in (('PUT', '/sas', {'GET'}), ('POST', '/sas', {'GET'}),
                                ('DELETE', '/connections', {'GET', 'POST'}), ('POST', '/logging', {'GET', 'PATCH'}),
                                ('GET', '/sas/1/rekey', {'POST'}), ('PATCH', '/sas/1', {'GET', 'DELETE'})):
        r = a.request(method, path, body={} if method in ('PUT', 'POST', 'PATCH') else None)
        check_problem(r, 405, 'method-not-allowed', '%s %s' % (method, path), instance='/api/v1' + path)
        got = {m.strip() for m in r.headers.get('allow', '').split(',') if m.strip()}
        check(got == allow, '%s %s: Allow: %s' % (method, path, ', '.join(sorted(allow))),
              'got %r' % r.headers.get('allow'))
    for path in ('/', '/foo', '/api/v2/sas', '/api/v1x/sas', '/api', '/metrics'):
        r = a.request('GET', path, prefix='')
        check_problem(r, 404, 'not-found', 'GET %s (outside /api/v1)' % path, detail_has='no resource at')
    for path in ('/nothing', '/sas/1/children', '/connections/gw/children', '/sas/'):
        r = a.get(path)
        check_problem(r, 404, 'not-found', 'GET /api/v1%s (no such route)' % path, detail_has='no resource at')
    wait_until(lambda: (lambda p: p and p[0]['spi_i'] != sa['spi_i'])(one_established_pair()), 5,
               'the rekeyed IKE SA settled')


# ----------------------------------------------------------------------------
# section 6: OpenAPI

def json_diff(want, got, at=''):
    """Where two JSON values differ, as JSON pointers with what is there."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for k in sorted(set(want) | set(got), key=str):
            where = '%s/%s' % (at, k)
            if k not in got:
                out.append('%s: missing in the served document' % where)
            elif k not in want:
                out.append('%s: only in the served document' % where)
            else:
                out += json_diff(want[k], got[k], where)
        return out
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        return [d for i, (w, g) in enumerate(zip(want, got)) for d in json_diff(w, g, '%s/%d' % (at, i))]
    return [] if want == got else ['%s: YAML %s, served %s' % (at or '/', json.dumps(want)[:80], json.dumps(got)[:80])]

def section_openapi():
    a = Ctx.a
    r = a.get('/openapi.json', token=Ctx.read)
    check(r.status == 200 and r.ctype == 'application/json', 'GET /openapi.json (read token): 200 JSON', str(r)[:200])
    check(r.json == Ctx.doc, 'GET /openapi.json equals docs/api/openapi.yaml (as JSON)',
          '; '.join(json_diff(Ctx.doc, r.json)[:5]) + ' (a daemon built before the YAML last changed?)'
          if isinstance(r.json, dict) else str(r)[:200])
    r = a.get('/openapi.json', token=None)
    check_problem(r, 401, 'unauthorized', 'GET /openapi.json without a token')
    rc = subprocess.run([sys.executable, OPENAPI_CHECK, OPENAPI_YAML], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True)
    check(rc.returncode == 0, 'openapi_check.py accepts docs/api/openapi.yaml', rc.stdout[-2000:])

    # Every documented (method, path) is routed. GETs on the real SA and
    # connection; actions on ids that do not exist (404 naming them).
    if not one_established_pair():
        r = a.request('POST', '/connections/%s/children/%s/initiate' % (CONN, CHILD))
        check_accepted(r, 'initiate (for the route sweep)')
    sa, _ = wait_until(one_established_pair, 5, 'an established IKE SA')
    real = dict(id=sa['id'], spi=sa['children'][0]['spi_in'], name=CONN, child=CHILD)
    # Changes go to names that do not exist: a sweep must not delete or
    # replace the real connection.
    absent = dict(id=999999, spi='0x0badf00d', name='nosuch-conn', child='nosuch')
    swept = 0
    for method, path, op in operations(Ctx.doc):
        values = real if method == 'GET' else absent
        target = fill(path, **values)
        documented = {int(c) for c in op.get('responses', {}) if str(c).isdigit()}
        if path == '/events':
            conn = a.connection(timeout=5)
            try:
                conn.request('GET', '/api/v1' + target, headers={'Authorization': 'Bearer ' + Ctx.admin})
                resp = conn.getresponse()
                ctype = resp.getheader('content-type', '')
                check(resp.status == 200 and ctype.startswith('text/event-stream'),
                      'GET /events: 200 text/event-stream', '%d %s' % (resp.status, ctype))
            finally:
                conn.close()
            swept += 1
            continue
        body = None
        if method == 'PATCH':
            body = {'level': 'info'}
        r = a.request(method, target, body=body)
        routed = r.status not in (404, 405)
        if r.status == 404 and isinstance(r.json, dict):
            detail = r.json.get('detail', '')
            # A handler's 404 names what the path asked for (a GET of a
            # stored certificate by the connection's name finds none).
            routed = not detail.startswith('no resource at') and any(
                str(v) in detail or str(v)[2:] in detail for v in (values['id'], values['name'], values['child']))
        check(routed, '%s %s is routed (%d%s)' % (method, path, r.status,
                                                   ', handler 404 naming the object' if r.status == 404 else ''),
              str(r))
        check(r.status in documented, '%s %s: status %d is documented (%s)' % (
            method, path, r.status, ', '.join(str(c) for c in sorted(documented))), str(r))
        swept += 1
    check(swept == len(operations(Ctx.doc)), 'all %d documented operations swept' % swept)
    note('%d operations swept' % swept)
    # An existing IKE SA with a Child SA SPI it does not have: the Child SA is
    # not found (docs/api/openapi.yaml NotFound: "No such SA, Child SA, ...").
    for method, path in (('DELETE', '/sas/%d/children/0x0badf00d'), ('POST', '/sas/%d/children/0x0badf00d/rekey')):
        r = a.request(method, path % sa['id'])
        check_problem(r, 404, 'not-found', '%s %s (the IKE SA exists, the Child SA does not)' % (
            method, path % sa['id']), detail_has='0badf00d')
    check(one_established_pair() is not None, 'the sweep left the IKE SA alone')
