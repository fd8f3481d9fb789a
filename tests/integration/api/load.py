"""Section 10: load. The worker (api_test.py --load-worker, in namespace
api-a) sends keep-alive GETs from a few threads while the section initiates
and deletes IKE SAs through A's API."""

import http.client
import json
import subprocess
import sys
import threading
import time

from .client import established, tls_context
from .common import (CHILD, CONN, ENTRY, NS_A, PORT_A, PORT_METRICS, Ctx, Failure, check, note, record, require,
                     wait_until)


# ----------------------------------------------------------------------------
# section 10: load

LOAD_SECONDS = 5.0
LOAD_THREADS = 4


def load_worker(cafile, token, seconds, threads):
    """Runs inside namespace api-a: keep-alive GETs from a few threads; prints JSON results."""
    ctx = tls_context(cafile)
    paths = [('api', '/api/v1/sas'), ('api', '/api/v1/stats'), ('api', '/api/v1/health'), ('metrics', '/metrics')]
    lock = threading.Lock()
    totals = {'requests': 0, 'errors': 0, 'statuses': {}, 'error_samples': [], 'reconnects': 0}
    stop_at = time.monotonic() + seconds

    def worker(n):
        conns = {}
        local = {'requests': 0, 'errors': 0, 'statuses': {}, 'samples': [], 'reconnects': 0}
        i = n
        while time.monotonic() < stop_at:
            kind, path = paths[i % len(paths)]
            i += 1
            try:
                c = conns.get(kind)
                if c is None:
                    if kind == 'api':
                        c = http.client.HTTPSConnection('127.0.0.1', PORT_A, context=ctx, timeout=10)
                    else:
                        c = http.client.HTTPConnection('127.0.0.1', PORT_METRICS, timeout=10)
                    conns[kind] = c
                    local['reconnects'] += 1
                c.request('GET', path, headers={'Authorization': 'Bearer ' + token})
                r = c.getresponse()
                body = r.read()
                local['requests'] += 1
                local['statuses'][str(r.status)] = local['statuses'].get(str(r.status), 0) + 1
                if r.status != 200:
                    local['errors'] += 1
                    if len(local['samples']) < 5:
                        local['samples'].append('%s -> %d %s' % (path, r.status, body[:200]))
                if r.will_close:
                    c.close()
                    conns.pop(kind, None)
            except Exception as e:
                local['requests'] += 1
                local['errors'] += 1
                if len(local['samples']) < 5:
                    local['samples'].append('%s -> %s: %s' % (path, type(e).__name__, e))
                c = conns.pop(kind, None)
                if c:
                    c.close()
        for c in conns.values():
            c.close()
        with lock:
            totals['requests'] += local['requests']
            totals['errors'] += local['errors']
            totals['reconnects'] += local['reconnects']
            for k, v in local['statuses'].items():
                totals['statuses'][k] = totals['statuses'].get(k, 0) + v
            totals['error_samples'] += local['samples']

    start = time.monotonic()
    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    totals['seconds'] = time.monotonic() - start
    print(json.dumps(totals))


def section_load():
    a, b = Ctx.a, Ctx.b
    require(a.sas() == [] and b.sas() == [], 'no IKE SA before the load')
    worker = subprocess.Popen(['ip', 'netns', 'exec', NS_A, sys.executable, ENTRY,
                               '--load-worker', Ctx.crt, Ctx.read, str(LOAD_SECONDS), str(LOAD_THREADS)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Meanwhile: initiate and terminate IKE SAs through A's API in a loop.
    cycles, failed = 0, []
    start = time.monotonic()
    while worker.poll() is None and time.monotonic() - start < LOAD_SECONDS + 5:
        before = {s['id'] for s in a.sas()}
        if time.monotonic() - start > LOAD_SECONDS:
            break
        r = a.request('POST', '/connections/%s/children/%s/initiate' % (CONN, CHILD))
        if r.status != 202:
            failed.append('initiate: %s' % r)
            break
        try:
            new = wait_until(lambda: [s for s in established(a.sas()) if s['id'] not in before], 5,
                             'the IKE SA initiated under load ESTABLISHED')
        except Failure as e:
            failed.append(str(e))
            break
        r = a.request('DELETE', '/sas/%d' % new[0]['id'])
        if r.status != 202:
            failed.append('delete: %s' % r)
            break
        try:
            wait_until(lambda: new[0]['id'] not in {s['id'] for s in a.sas()}, 5, 'the IKE SA deleted under load')
        except Failure as e:
            failed.append(str(e))
            break
        cycles += 1
    out, err = worker.communicate(timeout=60)
    record(out)
    try:
        res = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise Failure('the load worker printed no result: rc %s %s %s' % (worker.returncode, out[-500:], err[-1500:]))
    rate = res['requests'] / res['seconds']
    print('  load: %d requests in %.1f s = %.0f requests/s over %d threads (%d connections), statuses %s' % (
        res['requests'], res['seconds'], rate, LOAD_THREADS, res['reconnects'], res['statuses']), flush=True)
    note('%.0f requests/s, %d IKE SA initiate/terminate cycles' % (rate, cycles))
    check(res['errors'] == 0 and set(res['statuses']) == {'200'}, 'every response under load was 200 (%d errors)' %
          res['errors'], '; '.join(res['error_samples']))
    check(rate >= 300, 'at least 300 requests/s (%.0f)' % rate)
    check(res['reconnects'] <= 2 * LOAD_THREADS + 2, 'the load ran on keep-alive connections (%d connections)' %
          res['reconnects'])
    check(not failed, 'every IKE SA initiated during the load got ESTABLISHED and was deleted (%d cycles)' % cycles,
          '; '.join(failed))
    check(cycles >= 3, 'several initiate/terminate cycles ran during the load (%d)' % cycles)
    wait_until(lambda: a.sas() == [] and b.sas() == [], 5, 'no IKE SA left after the load')
    check(True, 'no IKE SA left on A and B after the load')
