"""Sections 8 and 9: the Prometheus metrics (promtool, the series, 405/404)
and corridorctl against the daemons (commands, --json, exit codes, env,
`events` on the daemon's stream and on a canned one)."""

import datetime
import json
import re
import subprocess
import threading
import time

from .client import check_problem, ns_socket, one_established_pair
from .common import (CHILD, CONN, CONN2, GATEWAYS, NS_A, NS_B, PORT_A, PORT_B, PSK, PSK2, Ctx, check, require,
                     wait_until)
from .harness import ctl, ctl_a, ctl_finish, ctl_start, token_id


# ----------------------------------------------------------------------------
# section 8: metrics

def parse_metrics(text):
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        name, _, value = line.rpartition(' ')
        samples[name] = float(value)
    return samples


def section_metrics():
    m = Ctx.metrics
    r = m.request('GET', '/metrics', prefix='')
    check(r.status == 200 and r.headers.get('content-type', '').startswith('text/plain; version=0.0.4'),
          'GET /metrics: 200 text/plain; version=0.0.4', str(r)[:200])
    text = r.body.decode()
    p = subprocess.run(['promtool', 'check', 'metrics'], input=text, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    check(p.returncode == 0 and p.stdout.strip() == '', 'promtool check metrics: exit 0, no output',
          'rc %d: %s' % (p.returncode, p.stdout[:1500]))
    s = parse_metrics(text)
    check(s.get('corridor_up') == 1, 'corridor_up 1')
    check(s.get('corridor_dataplane_up') == 0, 'corridor_dataplane_up 0 (no dataplane)')
    check(s.get('corridor_ike_sas{state="ESTABLISHED"}') == 1, 'corridor_ike_sas{state="ESTABLISHED"} 1',
          str({k: v for k, v in s.items() if 'ike_sas' in k}))
    check(s.get('corridor_child_sas{connection="%s"}' % CONN) == 1, 'corridor_child_sas{connection="gw"} 1')
    check(s.get('corridor_child_sas{connection="%s"}' % CONN2) == 0, 'corridor_child_sas{connection="gw2"} 0')
    check(s.get('corridor_ike_messages_total{direction="in"}', 0) > 0 and
          s.get('corridor_ike_messages_total{direction="out"}', 0) > 0 and
          'corridor_ike_messages_total{direction="retransmitted"}' in s,
          'corridor_ike_messages_total in/out/retransmitted', str({k: v for k, v in s.items() if 'messages' in k}))
    check(s.get('corridor_api_requests_total{status="200"}', 0) > 0 and
          s.get('corridor_api_requests_total{status="401"}', 0) > 0,
          'corridor_api_requests_total by status (200 and 401 counted)')
    check('corridor_ike_sa_established_seconds{connection="%s"}' % CONN in s,
          'corridor_ike_sa_established_seconds{connection="gw"} (per connection by default)')
    check('# TYPE corridor_ike_messages_total counter' in text and '# TYPE corridor_ike_sas gauge' in text,
          'TYPE lines')
    r = m.request('POST', '/metrics', prefix='', body=b'')
    check_problem(r, 405, 'method-not-allowed', 'POST /metrics')
    check('GET' in r.headers.get('allow', ''), 'POST /metrics: Allow names GET', str(r.headers))
    r = m.request('GET', '/other', prefix='')
    check_problem(r, 404, 'not-found', 'GET /other on the metrics listener')
    r = m.request('GET', '/api/v1/sas', prefix='')
    check_problem(r, 404, 'not-found', 'GET /api/v1/sas on the metrics listener')
    r = m.request('HEAD', '/metrics', prefix='')
    check(r.status == 200 and r.body == b'', 'HEAD /metrics: 200, no body', str(r))
    check(PSK not in text and PSK2 not in text, 'the metrics carry no PSK')


# ----------------------------------------------------------------------------
# section 9: corridorctl

STAMP = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ')
EVENTS_WITHIN = 5  # seconds for a corridorctl events to get what it waits for


def event_lines(out, what):
    """The lines of `corridorctl events` without their time stamps; checks the stamps are now (UTC)."""
    lines = out.splitlines()
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    stamps_ok = all(STAMP.match(line) and abs((datetime.datetime.strptime(line[:20], '%Y-%m-%dT%H:%M:%SZ') -
                                                  now).total_seconds()) < 120 for line in lines)
    check(lines and stamps_ok, '%s: each line starts with the UTC time it came' % what, out)
    return [line[21:] for line in lines]


def json_lines(out):
    try:
        return [json.loads(line) for line in out.splitlines()]
    except ValueError:
        return None


def canned_event_stream(parts):
    """A server in namespace A for one request: a chunked text/event-stream of `parts`, then the stream ends.
    Returns its port and the request head it will have received (a list)."""
    srv = ns_socket(NS_A)
    srv.bind(('127.0.0.1', 0))
    srv.listen(1)
    srv.settimeout(EVENTS_WITHIN)
    got = []

    def serve():
        try:
            conn, _ = srv.accept()
            with conn:
                conn.settimeout(EVENTS_WITHIN)
                head = b''
                while b'\r\n\r\n' not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                got.append(head.decode('latin-1'))
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n'
                             b'Transfer-Encoding: chunked\r\n\r\n')
                for part in parts:
                    conn.sendall(b'%x\r\n%s\r\n' % (len(part), part))
                    time.sleep(0.02)  # separate reads: lines and events split across them
                conn.sendall(b'0\r\n\r\n')
        except OSError:
            pass
        finally:
            srv.close()
    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1], got


# WHATWG event stream parsing: CRLF, LF and CR line ends, comments, an event
# split across chunks, data lines joined with LF (one leading space dropped),
# an event without data dropped, an event without a type is "message".
CANNED = [b': corridor events\r\n\r\n',
          b'event: ike-updown\r\ndata: {"ike_sa": "gw[7]", "id": 7, "up": tr', b'ue}\r\n\r\n',
          b': keepalive\n\nevent: no-data\n\n',
          b'event: log\ndata: {"level": "warning", "subsystem": "ike",\ndata:  "message": "two lines"}\n\n',
          b'data: no type\r\r']
CANNED_JSON = [{'event': 'ike-updown', 'data': {'ike_sa': 'gw[7]', 'id': 7, 'up': True}},
               {'event': 'log', 'data': {'level': 'warning', 'subsystem': 'ike', 'message': 'two lines'}},
               {'event': 'message', 'data': 'no type'}]
CANNED_LINES = ['ike-updown   gw[7] up', 'log          warning [ike] two lines', 'message      "no type"']


def check_events_canned():
    port, got = canned_event_stream(CANNED)
    rc, out, err = ctl_finish(ctl_start(['events', '--types', 'ike-updown,log'], url='http://127.0.0.1:%d' % port,
                                        token=Ctx.read), EVENTS_WITHIN)
    check(got and got[0].startswith('GET /api/v1/events?types=ike-updown%2Clog HTTP/1.1\r\n') and
          'accept: text/event-stream' in got[0].lower() and 'Bearer %s' % Ctx.read in got[0],
          'corridorctl events: GET /api/v1/events?types=..., Accept: text/event-stream, the token', str(got))
    check(rc == 3 and 'the event stream ended' in err,
          'corridorctl events on a stream the server ends: exit 3, "the event stream ended"', 'rc %s %s' % (rc, err))
    lines = event_lines(out, 'corridorctl events (canned stream)')
    check(lines == CANNED_LINES, 'corridorctl events parses the canned stream (CRLF, CR, comments, split, '
                                 'multi-line data, no data, no type)', out)
    port, _ = canned_event_stream(CANNED)
    rc, out, err = ctl_finish(ctl_start(['--json', 'events', '--count', '3'], url='http://127.0.0.1:%d' % port,
                                        token=Ctx.read), EVENTS_WITHIN)
    check(rc == 0 and json_lines(out) == CANNED_JSON,
          'corridorctl --json events --count 3 on the canned stream: exit 0, a {"event", "data"} line each',
          'rc %s %s %s' % (rc, out, err))


def check_events_log(url_a):
    """`events --types log` while PATCH /logging logs at info: exit 0 after --count, the daemon's log lines."""
    p = ctl_start(['events', '--types', 'log', '--log-level', 'info', '--count', '2'], url=url_a, token=Ctx.read,
                  cacert=Ctx.crt)
    # Nothing tells when its stream is open: log until its two lines have come.
    deadline = time.monotonic() + EVENTS_WITHIN
    while p.poll() is None and time.monotonic() < deadline:
        Ctx.a.request('PATCH', '/logging', body={'level': 'info'})
        time.sleep(0.2)
    rc, out, err = ctl_finish(p, 1)
    check(rc == 0, 'corridorctl events --types log --log-level info --count 2: exit 0 after two events',
          'rc %s %s %s' % (rc, out, err))
    lines = event_lines(out, 'corridorctl events --types log')
    changed = 'log          info    [api] log levels changed by token %s: ' % token_id(Ctx.admin)
    check(len(lines) == 2 and all(re.match(r'log +(error|warning|info) +\[\w+\] \S', line) for line in lines) and
          any(line.startswith(changed) for line in lines),
          'corridorctl events --types log: "log  LEVEL [subsystem] message", PATCH /logging\'s line among them', out)


def check_events_refused(url_a):
    for args, what in ((['--count', '0'], '--count 0'), (['--count', 'two'], '--count two'),
                       (['--count'], '--count without a value'), (['--level', 'info'], '--level (log\'s option)')):
        rc, out, err = ctl_a(['events'] + args, token=Ctx.read)
        check(rc == 64 and what.split()[0] in err, 'corridorctl events %s: exit 64, the option named' % what,
              'rc %d %s' % (rc, err))
    rc, out, err = ctl_a(['events', '--types', 'ike-updown,bogus'], token=Ctx.read)
    check(rc == 1 and 'bogus' in err and out == '',
          'corridorctl events --types ike-updown,bogus: exit 1, the problem on stderr', 'rc %d %s' % (rc, err))
    rc, out, err = ctl_a(['events', '--log-level', 'debug'], token=Ctx.read)
    check(rc == 1 and 'log' in err, 'corridorctl events --log-level without log in --types: exit 1',
          'rc %d %s' % (rc, err))
    rc, out, err = ctl(['events', '--count', '1'], url=url_a, token='crd_0123456789ab_' + 'D' * 43, cacert=Ctx.crt,
                       timeout=EVENTS_WITHIN)
    check(rc == 4, 'corridorctl events with a bad token: exit 4', 'rc %d %s' % (rc, err))


def start_sa_watchers(url_a):
    """Two `corridorctl events` of the six SA events a terminate, an initiate, a Child SA rekey and an IKE SA
    rekey make, for people and --json; returned once both streams are open."""
    types = 'ike-updown,child-updown,ike-rekey,child-rekey'
    opened = 'event stream opened for token %s (%s)' % (token_id(Ctx.read), types)
    before = GATEWAYS[0].log().count(opened)
    watchers = [ctl_start(json_flag + ['events', '--types', types, '--count', '6'], url=url_a, token=Ctx.read,
                          cacert=Ctx.crt) for json_flag in ([], ['--json'])]
    # The daemon logs this as it answers; it subscribes the stream as soon as the answer's head is written.
    wait_until(lambda: GATEWAYS[0].log().count(opened) >= before + 2 or any(w.poll() is not None for w in watchers),
               EVENTS_WITHIN, 'both corridorctl events streams open on A')
    time.sleep(0.2)
    return watchers


def check_sa_watchers(watchers, old, new, child_rekeyed, ike_rekeyed):
    """The watchers saw the old IKE SA (terminated) go down, the new one (initiated) come up, its Child SA
    rekeyed, then the IKE SA rekeyed."""
    (rc, out, err), (rc_json, out_json, err_json) = [ctl_finish(w, EVENTS_WITHIN) for w in watchers]
    name = lambda sa: '%s[%d]' % (CONN, sa['id'])  # noqa: E731
    spi = lambda sa, key: sa['children'][0][key]  # noqa: E731
    want = [('child-updown', {'up': False, 'id': old['id'], 'ike_sa': name(old), 'child': CHILD,
                              'spi_in': spi(old, 'spi_in'), 'spi_out': spi(old, 'spi_out')}),
            ('ike-updown', {'up': False, 'id': old['id'], 'ike_sa': name(old)}),
            ('ike-updown', {'up': True, 'id': new['id'], 'ike_sa': name(new)}),
            ('child-updown', {'up': True, 'id': new['id'], 'ike_sa': name(new), 'child': CHILD,
                              'spi_in': spi(new, 'spi_in'), 'spi_out': spi(new, 'spi_out')}),
            ('child-rekey', {'id': new['id'], 'ike_sa': name(new), 'child': CHILD,
                             'spi_in': spi(child_rekeyed, 'spi_in'), 'spi_out': spi(child_rekeyed, 'spi_out'),
                             'old_spi_in': spi(new, 'spi_in')}),
            ('ike-rekey', {'id': ike_rekeyed['id'], 'ike_sa': name(ike_rekeyed), 'old_id': new['id']})]
    check(rc == 0, 'corridorctl events --types ike-updown,child-updown,ike-rekey,child-rekey --count 6: exit 0',
          'rc %s %s' % (rc, err))
    lines = event_lines(out, 'corridorctl events (SA events)')
    spis = lambda sa: 'SPIs %s_i %s_o' % (spi(sa, 'spi_in')[2:], spi(sa, 'spi_out')[2:])  # noqa: E731
    check(lines == ['child-updown %s %s down, %s' % (name(old), CHILD, spis(old)),
                    'ike-updown   %s down' % name(old),
                    'ike-updown   %s up' % name(new),
                    'child-updown %s %s up, %s' % (name(new), CHILD, spis(new)),
                    'child-rekey  %s %s rekeyed, %s, replacing %s_i' % (name(new), CHILD, spis(child_rekeyed),
                                                                         spi(new, 'spi_in')[2:]),
                    'ike-rekey    %s rekeyed, replacing #%d' % (name(ike_rekeyed), new['id'])],
          'corridorctl events: terminate, initiate, Child SA and IKE SA rekey as six lines', out)
    docs = json_lines(out_json)
    check(rc_json == 0 and docs is not None and len(docs) == len(want) and
          all(set(d) == {'event', 'data'} and d['event'] == kind and isinstance(d['data'], dict) and
              all(d['data'].get(k) == v for k, v in fields.items()) for d, (kind, fields) in zip(docs, want)),
          'corridorctl --json events: the same six events as {"event", "data"} lines',
          'rc %s %s %s' % (rc_json, out_json, err_json))


def section_corridorctl():
    url_a = 'https://127.0.0.1:%d' % PORT_A
    url_b = 'http://127.0.0.1:%d' % PORT_B
    pair = one_established_pair()
    require(pair, 'one established IKE SA to start with')
    sa_a = pair[0]

    rc, out, err = ctl_a(['health'])
    check(rc == 0 and 'ok' in out, 'corridorctl health: exit 0, ok', out + err)
    rc, out, err = ctl_a(['list-sas'])
    check(rc == 0 and CONN in out and 'ESTABLISHED' in out and CHILD in out and
          sa_a['children'][0]['spi_in'][2:] in out,
          'corridorctl list-sas: the connection, ESTABLISHED, the child and its SPI', out + err)
    rc, out, err = ctl_a(['--json', 'list-sas'])
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    check(rc == 0 and isinstance(doc, dict) and [s['id'] for s in doc.get('items', [])] == [sa_a['id']],
          'corridorctl --json list-sas parses, one SA', out[:300] + err)
    rc, out, err = ctl_a(['list-sas', '--state', 'DELETING'])
    check(rc == 0 and 'ESTABLISHED' not in out, 'corridorctl list-sas --state DELETING: none', out + err)
    rc, out, err = ctl_a(['list-conns'])
    check(rc == 0 and CONN in out and CHILD in out, 'corridorctl list-conns', out + err)
    rc, out, err = ctl_a(['stats'])
    check(rc == 0 and 'ike' in out and 'api' in out, 'corridorctl stats', out[:300] + err)
    rc, out, err = ctl_a(['log'])
    check(rc == 0 and 'info' in out, 'corridorctl log', out + err)
    rc, out, err = ctl_a(['log', '--subsystem', 'api', '--level', 'debug'])
    r = Ctx.a.get('/logging')
    check(rc == 0 and r.json.get('subsystems') == {'api': 'debug'}, 'corridorctl log --subsystem api --level debug',
          out + err + str(r))
    rc, out, err = ctl_a(['log', '--subsystem', 'api', '--level', 'default'])
    r = Ctx.a.get('/logging')
    check(rc == 0 and r.json.get('subsystems') == {}, 'corridorctl log --subsystem api --level default drops it',
          out + err + str(r))

    # terminate, initiate --child (the connection found through list-conns), rekey;
    # corridorctl events watching them.
    watchers = start_sa_watchers(url_a)
    terminated = sa_a
    rc, out, err = ctl_a(['terminate', '--ike', str(sa_a['id'])], token=Ctx.operate)
    check(rc == 0, 'corridorctl terminate --ike %d' % sa_a['id'], out + err)
    wait_until(lambda: Ctx.a.sas() == [] and Ctx.b.sas() == [], 5, 'the IKE SA corridorctl terminated gone')
    check(True, 'the terminated IKE SA is gone on both sides')
    rc, out, err = ctl_a(['initiate', '--child', CHILD], token=Ctx.operate)
    check(rc == 0, 'corridorctl initiate --child net (no --ike)', out + err)
    new, _ = wait_until(one_established_pair, 5, 'the IKE SA corridorctl initiated ESTABLISHED')
    check(new['connection'] == CONN, 'corridorctl found the connection of child net')
    old_spi = new['children'][0]['spi_in']
    rc, out, err = ctl_a(['rekey', '--ike', '%s[%d]' % (CONN, new['id']), '--child', old_spi], token=Ctx.operate)
    check(rc == 0, 'corridorctl rekey --ike gw[N] --child SPI', out + err)
    rekeyed, _ = wait_until(lambda: (lambda p: p if p and p[0]['children'][0]['spi_in'] != old_spi else None)(
        one_established_pair()), 5, 'the Child SA rekeyed by corridorctl')
    check(True, 'the Child SA corridorctl rekeyed has new SPIs')
    rc, out, err = ctl_a(['rekey', '--ike', str(rekeyed['id'])], token=Ctx.operate)
    check(rc == 0, 'corridorctl rekey --ike %d' % rekeyed['id'], out + err)
    sa_a, _ = wait_until(lambda: (lambda p: p if p and p[0]['spi_i'] != rekeyed['spi_i'] else None)(
        one_established_pair()), 5, 'the IKE SA rekeyed by corridorctl')
    check(True, 'the IKE SA corridorctl rekeyed has new SPIs')
    check_sa_watchers(watchers, terminated, new, rekeyed, sa_a)

    # Exit codes.
    rc, out, err = ctl(['list-sas'], url=url_a, token='crd_0123456789ab_' + 'B' * 43, cacert=Ctx.crt)
    check(rc == 4, 'corridorctl with a bad token: exit 4', 'rc %d %s' % (rc, err))
    rc, out, err = ctl(['rekey', '--ike', str(sa_a['id'])], url=url_a, token=Ctx.read, cacert=Ctx.crt)
    check(rc == 4, 'corridorctl rekey with the read token: exit 4 (scope)', 'rc %d %s' % (rc, err))
    rc, out, err = ctl(['health'], url='https://127.0.0.1:1', token=Ctx.admin, cacert=Ctx.crt)
    check(rc == 3, 'corridorctl to a closed port: exit 3', 'rc %d %s' % (rc, err))
    rc, out, err = ctl(['list-sas'], url=url_a, token=Ctx.admin)
    check(rc == 3, 'corridorctl without --cacert (the certificate does not verify): exit 3', 'rc %d %s' % (rc, err))
    rc, out, err = ctl_a(['terminate', '--ike', '999999'], token=Ctx.operate)
    check(rc == 1 and '999999' in err, 'corridorctl terminate --ike 999999: exit 1, the problem on stderr',
          'rc %d %s' % (rc, err))
    rc, out, err = ctl_a(['initiate', '--child', 'nosuch'], token=Ctx.operate)
    check(rc == 1, 'corridorctl initiate --child nosuch: exit 1', 'rc %d %s' % (rc, err))
    rc, out, err = ctl_a(['frobnicate'])
    check(rc == 64, 'corridorctl with an unknown command: exit 64', 'rc %d %s' % (rc, err))

    # events: log lines, refused arguments, a stream that ends.
    check_events_log(url_a)
    check_events_refused(url_a)
    check_events_canned()

    # Gateway B over plain HTTP; the environment instead of options.
    rc, out, err = ctl(['list-sas'], ns=NS_B, url=url_b, token=Ctx.read)
    check(rc == 0 and 'ESTABLISHED' in out, 'corridorctl list-sas against B over plain HTTP', out + err)
    env = {'CORRIDOR_URL': url_a, 'CORRIDOR_TOKEN': Ctx.read, 'CORRIDOR_CACERT': Ctx.crt}
    rc, out, err = ctl(['list-sas'], env=env)
    check(rc == 0 and CONN in out and 'ESTABLISHED' in out,
          'corridorctl list-sas with CORRIDOR_URL/CORRIDOR_TOKEN/CORRIDOR_CACERT', out + err)
    rc, out, err = ctl(['--json', 'health'], env=env)
    check(rc == 0 and json.loads(out or 'null', ).get('status') == 'ok', 'corridorctl --json health via env',
          out + err)
    env_bad = dict(env, CORRIDOR_TOKEN='crd_0123456789ab_' + 'C' * 43)
    rc, out, err = ctl(['list-sas'], env=env_bad)
    check(rc == 4, 'a bad CORRIDOR_TOKEN: exit 4', 'rc %d %s' % (rc, err))
    rc, out, err = ctl(['terminate', '--ike', '999999'], env=dict(env, CORRIDOR_TOKEN=Ctx.operate))
    check(rc == 1, 'terminate of an unknown SA via env: exit 1', 'rc %d %s' % (rc, err))
