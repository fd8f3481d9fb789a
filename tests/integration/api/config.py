"""Section 12: the config changed live through the API.

PUT /config (dry run, identical, invalid, start-only section, stale If-Match),
connections added, patched and deleted one at a time, GET /config/revisions,
a rollback, secrets added and removed (never shown); all while connection gw's IKE SA stays up with the same SPIs.
Then gateway A restarts and runs the config last applied (the file was
replaced) with the revision history as it was, a rollback reaches back
past the restart, the change is undone, and corridorctl load-conns does the same
from a file.
"""

import copy
import json
import subprocess

import os

from .client import check_accepted, check_problem, one_established_pair
from .harness import ctl_a
from .common import CHILD, CONN, CONN2, GATEWAYS, RECEIVED, Ctx, check, note, require, wait_until

EXTRA = 'extra'
EXTRA_PSK = 'a pre-shared key only section 12 knows'


def extra_connection():
    """A connection to a peer that does not exist; start_action none, so nothing is sent."""
    return {
        'version': 2,
        'remote_addrs': ['203.0.113.9'],
        'proposals': ['aes256gcm16-prfsha384-ecp384'],
        'local': {'auth': 'psk', 'id': 'extra-a.example.net'},
        'remote': {'auth': 'psk', 'id': 'extra-b.example.net'},
        'children': {'lan': {'local_ts': ['10.77.0.0/24'], 'remote_ts': ['10.78.0.0/24'],
                             'esp_proposals': ['aes256gcm16']}},
    }


def sa_identity(sa):
    return sa['id'], sa['spi_i'], sa['spi_r'], tuple(c['spi_in'] for c in sa['children'])


def applied(r, what, status=200, revision=None):
    ok = r.status == status and isinstance(r.json, dict) and r.json.get('applied') is True
    if ok and revision is not None:
        ok = r.json.get('revision') == revision and r.headers.get('etag') == '"%d"' % revision
    check(ok, what, str(r))
    return r.json if ok else {}


def section_config():
    a = Ctx.a
    gw_a = GATEWAYS[0]
    if not one_established_pair():
        check_accepted(a.request('POST', '/connections/%s/children/%s/initiate' % (CONN, CHILD)), 'initiate gw/net')
    sa, _ = wait_until(one_established_pair, 10, 'one established IKE SA on gw')
    before = sa_identity(sa)

    r = a.get('/config')
    require(r.status == 200 and r.headers.get('etag', '').startswith('"'), 'GET /config has an ETag', str(r))
    etag = r.headers['etag']
    revision = int(etag.strip('"'))
    running = r.json
    check(running['secrets']['ike-gw']['secret'] == '<redacted>', 'GET /config redacts the PSK')

    # The redacted config PUT back as it is: identical, nothing applied.
    r = a.request('PUT', '/config', body=running)
    check(r.status == 200 and r.json.get('applied') is False and r.json.get('revision') == revision,
          'PUT of the running config (secrets as "<redacted>") changes nothing', str(r))

    # Dry run: the change is reported, not made.
    proposed = copy.deepcopy(running)
    proposed['connections'][EXTRA] = extra_connection()
    r = a.request('PUT', '/config?dry_run=true', body=proposed)
    check(r.status == 200 and r.json.get('dry_run') is True and r.json.get('applied') is False and
          r.json['changes']['added'] == [EXTRA] and CONN in r.json['changes']['unchanged'],
          'dry run reports connection extra as added and gw as unchanged', str(r))
    check(EXTRA not in [c['name'] for c in a.get('/connections').json['items']], 'the dry run added nothing')
    check_problem(a.request('PUT', '/config?dry_run=maybe', body=proposed), 400, 'bad-request', 'dry_run=maybe')

    # Invalid: every problem with its pointer, nothing changed.
    broken = copy.deepcopy(proposed)
    broken['connections'][EXTRA]['children']['lan']['local_ts'] = ['10.77.0.0/33']
    broken['connections'][EXTRA]['proposals'] = ['des-md5-modp768']
    broken['sa_channel']['command_slots'] = 512
    r = a.request('PUT', '/config', body=broken)
    check_problem(r, 400, 'validation', 'an invalid config')
    pointers = {e.get('pointer') for e in (r.json or {}).get('errors', [])}
    for p in ('/connections/extra/children/lan/local_ts/0', '/connections/extra/proposals/0', '/sa_channel'):
        check(p in pointers, 'the refusal points at %s' % p, str(sorted(pointers)))
    check(a.get('/config').headers.get('etag') == etag, 'a refused config leaves the revision as it was')

    # Stale If-Match.
    r = a.request('PUT', '/config', body=proposed, headers={'If-Match': '"%d"' % (revision + 100)})
    check_problem(r, 412, 'precondition-failed', 'If-Match of another revision')

    # Operate tokens cannot change the config.
    r = a.request('PUT', '/config', body=proposed, token=Ctx.operate)
    check_problem(r, 403, 'forbidden', 'PUT /config with an operate token')

    # Add, patch, delete one connection; gw's SA is never touched.
    r = a.request('POST', '/connections', body=dict(extra_connection(), name=EXTRA), headers={'If-Match': etag})
    j = applied(r, 'POST /connections adds extra (201, revision %d)' % (revision + 1), 201, revision + 1)
    check(r.headers.get('location') == '/api/v1/connections/extra', 'Location of the new connection',
          r.headers.get('location', ''))
    check(j.get('changes', {}).get('added') == [EXTRA], 'its changes name extra as added', str(j))
    check_problem(a.request('POST', '/connections', body=dict(extra_connection(), name=EXTRA)), 409, 'conflict',
                  'POST of a connection that exists')
    r = a.request('PATCH', '/connections/extra', body={'remote_addrs': ['203.0.113.10'], 'fragmentation': 'no'},
                  ctype='application/merge-patch+json')
    applied(r, 'PATCH /connections/extra (merge patch)', 200, revision + 2)
    got = a.get('/connections/extra').json or {}
    check(got.get('remote_addrs') == ['203.0.113.10'] and got.get('fragmentation') == 'no',
          'GET /connections/extra shows the patched members', str(got)[:300])
    r = a.request('PATCH', '/connections/extra', body={'children': {'lan': {'local_ts': ['nonsense']}}})
    check_problem(r, 400, 'validation', 'a PATCH that makes the connection invalid')
    check(one_established_pair() and sa_identity(one_established_pair()[0]) == before,
          'gw\'s IKE SA and Child SA are the same after three config changes')

    # The file was replaced: corridor-control --check accepts it, and it
    # has the new connection and the real PSK.
    with open(gw_a.config_path) as f:
        text = f.read()
    on_disk = json.loads(text)
    check(EXTRA in on_disk['connections'] and on_disk['connections'][EXTRA]['remote_addrs'] == ['203.0.113.10'],
          'the config file holds the applied config')
    check('<redacted>' not in text, 'the config file holds the secrets themselves, not "<redacted>"')
    rc = subprocess.run([gw_a.binary, '--config', gw_a.config_path, '--check'], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True)
    check(rc.returncode == 0, 'corridor-control --check accepts the rewritten file', rc.stdout[-500:])

    # Revisions and a rollback to the one before extra.
    r = a.get('/config/revisions')
    items = (r.json or {}).get('items', [])
    check(r.status == 200 and items and items[-1]['id'] == revision + 2 and items[-1]['current'] and
          items[-1]['source'] == 'api' and items[-1]['actor'] and items[0]['source'] == 'startup',
          'GET /config/revisions: startup first, the PATCH last and current', str(r)[:400])
    page = a.get('/config/revisions?limit=1').json or {}
    check(len(page.get('items', [])) == 1 and page.get('next_cursor') is not None, 'revisions page by ?limit')
    check_problem(a.request('POST', '/config/revisions/999999/rollback'), 404, 'not-found', 'rollback to no revision')
    r = a.request('POST', '/config/revisions/%d/rollback' % revision)
    j = applied(r, 'rollback to revision %d' % revision, 200, revision + 3)
    check(j.get('changes', {}).get('removed') == [EXTRA], 'the rollback removed extra', str(j))
    items = a.get('/config/revisions').json['items']
    check(items[-1]['source'] == 'rollback' and items[-1]['restored'] == revision, 'the rollback is a revision')

    # A changed connection is renegotiated: gw2 gets a new child rekey_time.
    check_accepted(a.request('POST', '/connections/%s/children/net2/initiate' % CONN2), 'initiate gw2/net2')
    wait_until(lambda: [s for s in a.sas('?connection=' + CONN2) if s['state'] == 'ESTABLISHED'], 10,
               'gw2 established')
    r = a.request('PATCH', '/connections/' + CONN2, body={'children': {'net2': {'rekey_time': '2h'}}})
    j = applied(r, 'PATCH gw2 (child rekey_time)')
    check(j.get('changes', {}).get('changed') == [CONN2], 'gw2 is the changed connection', str(j))
    wait_until(lambda: not a.sas('?connection=' + CONN2), 10, 'gw2\'s IKE SA closed by the change')
    check(one_established_pair() and sa_identity(one_established_pair()[0]) == before,
          'gw\'s SAs stayed as they were while gw2 changed')

    # Secrets: write-only.
    r = a.get('/secrets')
    names = [s['name'] for s in (r.json or {}).get('items', [])]
    check(r.status == 200 and 'ike-gw' in names and all('secret' not in s for s in r.json['items']),
          'GET /secrets lists the entries without their values', str(r)[:300])
    secret = {'name': 'ike-extra', 'id': ['extra-b.example.net'], 'secret': EXTRA_PSK}
    applied(a.request('POST', '/secrets', body=secret), 'POST /secrets adds ike-extra (201)', 201)
    j = applied(a.request('POST', '/secrets', body=dict(secret, secret=EXTRA_PSK[::-1])),
                'POST /secrets again with another key replaces it (200)')
    check(j.get('changes', {}).get('secrets') is True, 'the reply says the secrets changed', str(j))
    r = a.request('POST', '/secrets', body=dict(secret, secret=EXTRA_PSK[::-1]))
    check(r.status == 200 and r.json.get('applied') is False, 'POST /secrets of the same key applies nothing', str(r))
    check('ike-extra' in [s['name'] for s in a.get('/secrets').json['items']], 'GET /secrets shows ike-extra')
    check(a.get('/config').json['secrets']['ike-extra']['secret'] == '<redacted>', 'GET /config redacts it')
    check_problem(a.request('POST', '/secrets', body={'name': 'eap-x', 'secret': 'x' * 20}), 400, 'validation',
                  'POST /secrets of an unsupported type')
    check_problem(a.request('POST', '/secrets', body=secret, token=Ctx.operate), 403, 'forbidden',
                  'POST /secrets with an operate token')
    applied(a.request('DELETE', '/secrets/ike-extra'), 'DELETE /secrets/ike-extra')
    check_problem(a.request('DELETE', '/secrets/ike-extra'), 404, 'not-found', 'DELETE of a gone secret')
    check(not [d for d in RECEIVED if EXTRA_PSK.encode() in d or EXTRA_PSK[::-1].encode() in d],
          'the new secrets are in no response')

    # Restart: the config last applied is what runs.
    r = a.request('POST', '/connections', body=dict(extra_connection(), name=EXTRA))
    applied(r, 'POST /connections adds extra again', 201)
    before = a.get('/config/revisions?limit=100').json['items']
    mark = len(gw_a.log())  # the log file is appended to
    check(gw_a.stop() == 0, 'gateway A exits 0 on SIGTERM')
    gw_a.start()
    wait_until(lambda: 'REST API on' in gw_a.log()[mark:], 15, 'gateway A up again')
    names = [c['name'] for c in a.get('/connections').json['items']]
    check(EXTRA in names, 'after a restart gateway A runs the applied config (extra is there)', str(names))
    after = a.get('/config/revisions?limit=100').json['items']
    check([(i['id'], i['source'], i['applied_at'], i['changes']) for i in after] ==
          [(i['id'], i['source'], i['applied_at'], i['changes']) for i in before] and after[-1]['current'],
          'the revisions outlive the restart: same ids, records, and the last applied is current',
          '%s\n%s' % ([i['id'] for i in before], [i['id'] for i in after]))
    check('running config revision %d' % after[-1]['id'] in gw_a.log()[mark:], 'the restart logs the revision it runs')
    # A rollback to a revision from before the restart: the one before extra.
    r = a.request('POST', '/config/revisions/%d/rollback' % revision, headers={'If-Match': '"%d"' % after[-1]['id']})
    j = applied(r, 'rollback to revision %d, from before the restart' % revision, 200, after[-1]['id'] + 1)
    check(j.get('changes', {}).get('removed') == [EXTRA], 'that rollback removed extra', str(j))
    stats = a.get('/stats').json.get('config', {})
    check(stats.get('revision') == after[-1]['id'] + 1 and stats.get('history_errors') == 0,
          '/stats config: the revision, no history errors', str(stats))
    applied(a.request('POST', '/connections', body=dict(extra_connection(), name=EXTRA)),
            'POST /connections adds extra once more', 201)
    applied(a.request('DELETE', '/connections/extra'), 'DELETE /connections/extra')
    check_problem(a.request('DELETE', '/connections/extra'), 404, 'not-found', 'DELETE of a gone connection')
    # corridorctl load-conns: a file's connections replace the running ones.
    running = a.get('/config').json
    path = os.path.join(Ctx.wd, 'load-conns.json')
    with open(path, 'w') as f:
        json.dump({'connections': dict(running['connections'], **{EXTRA: extra_connection()})}, f)
    etag = a.get('/config').headers.get('etag')
    rc, out, err = ctl_a(['load-conns', path, '--dry-run'])
    check(rc == 0 and 'dry run' in out and 'added: extra' in out, 'corridorctl load-conns --dry-run', out + err)
    check(a.get('/config').headers.get('etag') == etag, 'the dry run applied nothing')
    rc, out, err = ctl_a(['load-conns', path])
    check(rc == 0 and 'applied as config revision' in out and 'added: extra' in out
          and 'removed (their SAs are closed): none' in out,
          'corridorctl load-conns adds extra', out + err)
    with open(path, 'w') as f:
        json.dump({'connections': running['connections']}, f)
    rc, out, err = ctl_a(['--json', 'load-conns', path])
    check(rc == 0 and json.loads(out or '{}').get('changes', {}).get('removed') == [EXTRA],
          'corridorctl --json load-conns removes it again', out + err)
    with open(path, 'w') as f:
        json.dump({'connections': {'bad': {'remote_addrs': ['not an address']}}}, f)
    rc, out, err = ctl_a(['load-conns', path])
    check(rc == 1 and '/connections/bad/remote_addrs/0' in err, 'corridorctl load-conns of an invalid file: exit 1 '
          'and the pointer', 'rc %d: %s' % (rc, err))
    rc, out, err = ctl_a(['list-sas', '--dry-run'])
    check(rc == 64, '--dry-run only with load-conns (exit 64)', 'rc %d' % rc)

    # A closed its SAs when it stopped (a Delete to B): start gw again for
    # the sections after this one.
    check_accepted(a.request('POST', '/connections/%s/children/%s/initiate' % (CONN, CHILD)), 'initiate gw after restart')
    wait_until(one_established_pair, 10, 'one established IKE SA on gw again, on both sides')
    note('config revisions, live apply, restart: done')
