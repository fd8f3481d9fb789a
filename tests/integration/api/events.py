"""Section 11: the event stream, GET /api/v1/events (Server-Sent Events).

Gateway A: a stream of ike-updown, child-updown, ike-rekey, child-rekey and
log while one IKE SA of connection gw lives through the API (initiate, Child
SA rekey, IKE SA rekey, delete): the six SA events in order with their ids
and SPIs, log lines as {level, subsystem, message}, the refused filters, and
the daemon after the client closes the stream.

Gateway B: a stream with the default filter opened before section 1 and
read through the whole run (it costs no time of its own): its keepalive
comments, SA events and no log lines; closed after section 10.
"""

import json
import socket
import ssl
import threading
import time

from .client import check_accepted, check_problem, ns_connect, one_established_pair, tls_context
from .common import (CHILD, CONN, GATEWAYS, NS_A, NS_B, PORT_A, PORT_B, Ctx, Failure, check, note, record, require,
                     wait_until)
from .harness import create_token, ctl, token_id

SA_TYPES = ('ike-updown', 'child-updown', 'ike-rekey', 'child-rekey')
KEEPALIVE_WITHIN = 16.0  # seconds: a comment every 15 s (docs/api.md)


class EventStream:
    """GET /api/v1/events QUERY on a raw HTTP/1.1 connection made in a namespace.

    The response head is read at once; then a thread reads the body and
    parses it into `items`: (seconds since the request, 'comment', text) for
    comment lines, (seconds, event type, [data lines]) for each event."""

    def __init__(self, ns, port, query, token, tls_ctx=None, timeout=5):
        self.items = []
        self.head = b''
        self.status, self.headers = None, {}
        self.body_start = b''      # the first bytes of the body, as sent
        self.error = None
        self.eof = False           # the server closed the stream
        self._cond = threading.Condition()
        self._stop = False
        self._event, self._data = None, []
        sock = ns_connect(ns, port, timeout=timeout)
        if tls_ctx:
            sock = tls_ctx.wrap_socket(sock, server_hostname='127.0.0.1')
        self.sock = sock
        self.opened = time.monotonic()
        sock.sendall(('GET /api/v1/events%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n'
                      'Authorization: Bearer %s\r\n\r\n' % (query, token)).encode())
        buf = b''
        while b'\r\n\r\n' not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise Failure('GET /events%s: the connection closed before a response head (%r)' % (query, buf[:300]))
            buf += chunk
        self.head, _, rest = buf.partition(b'\r\n\r\n')
        record(self.head)
        lines = self.head.decode('latin-1').split('\r\n')
        self.status = int(lines[0].split()[1])
        for line in lines[1:]:
            k, _, v = line.partition(':')
            self.headers[k.strip().lower()] = v.strip()
        self._buf = b''
        self._thread = threading.Thread(target=self._read, args=(rest,), daemon=True)
        self._thread.start()

    @property
    def ctype(self):
        return self.headers.get('content-type', '').split(';')[0].strip().lower()

    def _read(self, first):
        self.sock.settimeout(0.1)
        chunk = first
        while True:
            if chunk:
                record(chunk)
                if len(self.body_start) < 64:
                    self.body_start = (self.body_start + chunk)[:64]
                self._parse(chunk)
            if self._stop:
                return
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                chunk = b''
                continue
            except (OSError, ssl.SSLError) as e:
                self.error = '%s: %s' % (type(e).__name__, e)
                chunk = None
            if chunk is None or (chunk == b'' and not self._stop):
                with self._cond:
                    self.eof = True
                    self._cond.notify_all()
                return

    def _parse(self, chunk):
        self._buf += chunk
        *lines, self._buf = self._buf.split(b'\n')
        now = time.monotonic() - self.opened
        with self._cond:
            for raw in lines:
                line = raw.rstrip(b'\r').decode('utf-8', 'replace')
                if line.startswith(':'):
                    self.items.append((now, 'comment', line[1:].lstrip(' ')))
                elif line == '':
                    if self._event is not None or self._data:
                        self.items.append((now, self._event or 'message', self._data))
                    self._event, self._data = None, []
                else:
                    field, _, value = line.partition(':')
                    value = value[1:] if value.startswith(' ') else value
                    if field == 'event':
                        self._event = value
                    elif field == 'data':
                        self._data.append(value)
            self._cond.notify_all()

    def wait_for(self, fn, timeout):
        """fn(items) until it returns something true or the stream ends; its last value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = fn(self.items)
                left = deadline - time.monotonic()
                if got or left <= 0 or self.eof:
                    return got
                self._cond.wait(min(left, 0.2))

    def events(self, kinds=None):
        """(type, data as JSON or None, number of data lines) of the events so far."""
        out = []
        with self._cond:
            items = list(self.items)
        for _, kind, data in items:
            if kind == 'comment' or (kinds is not None and kind not in kinds):
                continue
            try:
                doc = json.loads(data[0]) if len(data) == 1 else None
            except ValueError:
                doc = None
            out.append((kind, doc, len(data)))
        return out

    def comments(self):
        with self._cond:
            return [(t, text) for t, kind, text in self.items if kind == 'comment']

    def close(self):
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()


def open_connections(client):
    r = client.get('/stats')
    if r.status != 200 or not isinstance(r.json, dict):
        raise Failure('GET /stats: %s' % r)
    return r.json['api']['open_connections']


def check_stream_head(stream, what):
    check(stream.status == 200 and stream.ctype == 'text/event-stream',
          '%s: 200 Content-Type: text/event-stream' % what, '%s %r' % (stream.status, stream.headers))
    stream.wait_for(lambda items: items, 3)
    check(stream.body_start.startswith(b': corridor events\n\n'),
          '%s: the stream starts with the comment line ": corridor events"' % what, repr(stream.body_start))


def check_records(stream, what):
    """Every record is `event: TYPE` with one `data:` line of JSON (docs/api/openapi.yaml)."""
    bad = [(k, d, n) for k, d, n in stream.events() if n != 1 or not isinstance(d, dict)]
    check(not bad, '%s: every event has one data: line of a JSON object' % what, str(bad[:3]))


def close_and_check(stream, client, baseline, what):
    """Closes the client side: the daemon stays healthy, its open connections drop back."""
    stream.close()
    r = client.get('/health', token=None)
    check(r.status == 200, '%s: GET /health 200 after the client closed the stream' % what, str(r))
    last = []

    def dropped():
        last[:] = [open_connections(client)]
        return last[0] <= baseline
    try:
        wait_until(dropped, 3, 'open connections back to %d' % baseline)
        check(True, '%s: GET /stats api.open_connections back to %d after the close' % (what, baseline))
    except Failure as e:
        check(False, '%s: GET /stats api.open_connections back to %d after the close' % (what, baseline),
              '%s (last %s)' % (e, last))


# ----------------------------------------------------------------------------
# gateway B: the stream with the default filter, open through the run

class Probe:
    stream = None
    baseline = None


def section_events_probe_open():
    Probe.baseline = open_connections(Ctx.b)
    Probe.stream = EventStream(NS_B, PORT_B, '', Ctx.read)
    check_stream_head(Probe.stream, 'GET /events on B (no parameters, plain HTTP)')


def section_events_probe_close():
    s = Probe.stream
    require(s is not None, 'the stream on B opened before section 1')
    # The keepalives go out on the daemon's own 15 s clock, so the first may
    # come at once: no 16 s of the stream without one (normally the run
    # has taken longer than that by now; else the rest is waited for).
    wait = KEEPALIVE_WITHIN + 0.5 - (time.monotonic() - s.opened)
    if wait > 0:
        note('waited %.1f s for the stream to run %.0f s' % (wait, KEEPALIVE_WITHIN + 0.5))
        s.wait_for(lambda items: False, wait)
    ran = time.monotonic() - s.opened
    times = [t for t, text in s.comments() if text == 'keepalive']
    gap = max(b - a for a, b in zip([0.0] + times, times + [ran]))
    check(times and gap <= KEEPALIVE_WITHIN, 'a ": keepalive" comment at least every %.0f s (at %s s of %.1f s)' % (
        KEEPALIVE_WITHIN, ', '.join('%.1f' % t for t in times) or 'none', ran),
        'comments: %s' % s.comments()[:8])
    check(not s.eof, 'the stream on B stayed open through sections 1 to 10', s.error or '')
    kinds = [k for k, _, _ in s.events()]
    check(kinds and set(kinds) <= set(SA_TYPES) and {'ike-updown', 'child-updown'} <= set(kinds),
          'the default filter: SA events of the sections before (ike-updown and child-updown), no log lines',
          str(sorted(set(kinds))))
    check_records(s, 'the stream on B')
    note('B\'s stream: %d events, %s' % (len(kinds), ', '.join('%s %d' % (k, kinds.count(k)) for k in SA_TYPES)))
    close_and_check(s, Ctx.b, Probe.baseline, 'B')
    Probe.stream = None


# ----------------------------------------------------------------------------
# gateway A: one IKE SA's life through the API

def matches(data, want):
    return isinstance(data, dict) and all(data.get(k) == v for k, v in want.items())


def section_events():
    a, b = Ctx.a, Ctx.b
    require(a.sas() == [] and b.sas() == [], 'no IKE SA on A and B to start with')

    # Refused filters.
    for query, what, has in (('?types=bogus', 'an unknown type', 'bogus'),
                             ('?types=ike-updown,', 'an empty type in the list', None),
                             ('?log_level=debug', 'log_level without log in types', 'log'),
                             ('?types=ike-updown&log_level=debug', 'log_level with types but not log', 'log'),
                             ('?types=log&log_level=loud', 'an unknown log_level', 'log_level'),
                             ('?colour=blue', 'an unknown parameter', None)):
        r = a.get('/events' + query, token=Ctx.read)
        check_problem(r, 400, 'bad-request', 'GET /events%s (%s)' % (query, what), detail_has=has,
                      instance='/api/v1/events')
    s = EventStream(NS_A, PORT_A, '?types=log&log_level=debug', Ctx.read, tls_context(Ctx.crt))
    check_stream_head(s, 'GET /events?types=log&log_level=debug')
    s.close()

    # A stream lasts past the token check that opened it: revoking the
    # token ends it (within the API's 100 ms timer), with a last comment.
    revoked_before = a.get('/stats').json['api'].get('event_streams_revoked')
    doomed = create_token('read')
    s = EventStream(NS_A, PORT_A, '', doomed, tls_context(Ctx.crt))
    check_stream_head(s, 'GET /events with a token about to be revoked')
    rc, out, err = ctl(['token', 'revoke', token_id(doomed), '--tokens', Ctx.tokens_file])
    check(rc == 0, 'corridorctl token revoke %s (its stream open)' % token_id(doomed), out + err)
    s.wait_for(lambda items: False, 3)  # returns at the end of the stream
    last = s.comments()[-1][1] if s.comments() else ''
    check(s.eof and 'token %s was revoked' % token_id(doomed) in last,
          'the revoked token\'s event stream ends, its last comment says why', 'eof %s, last %r' % (s.eof, last))
    s.close()
    stats = a.get('/stats').json['api']
    check(revoked_before == 0 and stats.get('event_streams_revoked') == 1,
          '/stats api.event_streams_revoked counts it', str(stats))
    check('event stream of token %s closed: the token was revoked' % token_id(doomed) in GATEWAYS[0].log(),
          'A logs why the stream closed')
    record(doomed)

    baseline = open_connections(a)
    types = ','.join(SA_TYPES) + ',log'
    stream = EventStream(NS_A, PORT_A, '?types=' + types, Ctx.read, tls_context(Ctx.crt))
    try:
        sa_life(stream, types)
    except BaseException:
        stream.close()
        for sa in a.sas():  # the next sections start without IKE SAs
            a.request('DELETE', '/sas/%d' % sa['id'])
        raise
    close_and_check(stream, a, baseline, 'A')


def sa_life(stream, types):
    a = Ctx.a
    what = 'GET /events?types=%s (read token, TLS)' % types
    check_stream_head(stream, what)
    check(open_connections(a) >= 2, 'the stream counts among A\'s open connections')

    r = a.request('POST', '/connections/%s/children/%s/initiate' % (CONN, CHILD), token=Ctx.operate)
    check_accepted(r, 'initiate %s/%s' % (CONN, CHILD))
    x, _ = wait_until(one_established_pair, 10, 'one ESTABLISHED IKE SA with an INSTALLED child on A and B')
    id1, in1, out1 = x['id'], x['children'][0]['spi_in'], x['children'][0]['spi_out']

    r = a.request('POST', '/sas/%d/children/%s/rekey' % (id1, in1), token=Ctx.operate)
    check_accepted(r, 'rekey the Child SA')
    x, _ = wait_until(lambda: (lambda p: p if p and p[0]['children'][0]['spi_in'] != in1 else None)(
        one_established_pair()), 5, 'the Child SA rekeyed')
    in2, out2 = x['children'][0]['spi_in'], x['children'][0]['spi_out']

    spi_i = x['spi_i']
    r = a.request('POST', '/sas/%d/rekey' % id1, token=Ctx.operate)
    check_accepted(r, 'rekey the IKE SA')
    x, _ = wait_until(lambda: (lambda p: p if p and p[0]['spi_i'] != spi_i else None)(one_established_pair()),
                      5, 'the IKE SA rekeyed')
    id2 = x['id']

    r = a.request('DELETE', '/sas/%d' % id2, token=Ctx.operate)
    check_accepted(r, 'DELETE the IKE SA')
    wait_until(lambda: a.sas() == [] and Ctx.b.sas() == [], 5, 'the IKE SA gone on A and B')

    def ours(events):
        return [(k, d) for k, d, _ in events if k in SA_TYPES and isinstance(d, dict) and
                d.get('connection') == CONN and (d.get('id') in (id1, id2) or d.get('old_id') == id1)]
    stream.wait_for(lambda items: len(ours(stream.events())) >= 6 and stream.events(['log']), 5)
    time.sleep(0.3)  # anything more that would follow (the log lines are sent every 100 ms)
    events = stream.events()
    got = ours(events)
    others = [(k, d) for k, d, _ in events if k in SA_TYPES and (k, d) not in got]
    if others:
        note('%d SA events of other SAs left out' % len(others))

    name1, name2 = '%s[%d]' % (CONN, id1), '%s[%d]' % (CONN, id2)
    want = [('ike-updown', {'up': True, 'id': id1, 'ike_sa': name1, 'connection': CONN}),
            ('child-updown', {'up': True, 'id': id1, 'ike_sa': name1, 'connection': CONN, 'child': CHILD,
                              'spi_in': in1, 'spi_out': out1}),
            ('child-rekey', {'id': id1, 'ike_sa': name1, 'connection': CONN, 'child': CHILD, 'spi_in': in2,
                             'spi_out': out2, 'old_spi_in': in1}),
            ('ike-rekey', {'id': id2, 'ike_sa': name2, 'connection': CONN, 'old_id': id1}),
            ('child-updown', {'up': False, 'id': id2, 'ike_sa': name2, 'connection': CONN, 'child': CHILD,
                              'spi_in': in2, 'spi_out': out2}),
            ('ike-updown', {'up': False, 'id': id2, 'ike_sa': name2, 'connection': CONN})]
    shown = '; '.join('%s %s' % (k, json.dumps(d, sort_keys=True)) for k, d in got)
    check([k for k, _ in got] == [k for k, _ in want],
          'the stream: ike-updown up, child-updown up, child-rekey, ike-rekey, child-updown down, ike-updown down '
          '(IKE SA %s, then %s)' % (name1, name2), shown)
    labels = ('ike-updown up', 'child-updown up', 'child-rekey', 'ike-rekey', 'child-updown down', 'ike-updown down')
    for i, ((kind, fields), label) in enumerate(zip(want, labels)):
        d = got[i][1] if i < len(got) and got[i][0] == kind else None
        check(matches(d, fields), 'event %d, %s: %s' % (i + 1, label, json.dumps(fields, sort_keys=True)),
              'got %s' % (json.dumps(d, sort_keys=True) if d is not None else shown))

    logs = [d for k, d, _ in events if k == 'log']
    check(logs and all(isinstance(d, dict) and set(d) == {'level', 'subsystem', 'message'} and
                       all(isinstance(v, str) and v for v in d.values()) for d in logs),
          'event: log lines as {level, subsystem, message} (%d)' % len(logs), str(logs[:3]))
    check(all(d.get('level') in ('error', 'warning', 'info') for d in logs if isinstance(d, dict)),
          'no debug log lines without log_level=debug', str([d for d in logs if d.get('level') == 'debug'][:3]))
    check(any(isinstance(d, dict) and d.get('subsystem') == 'ike' for d in logs),
          'the IKE SA\'s life shows in log lines of subsystem ike', str(logs[:5]))
    check({k for k, _, _ in events} <= set(SA_TYPES) | {'log'}, 'only the requested types')
    check_records(stream, what)
    check(not stream.eof, 'the stream stayed open', stream.error or '')
