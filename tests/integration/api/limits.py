"""Section 7: limits. 431, 413, 400, pipelining, a slow client closed after
~10 s, 70 idle connections (at most 64 kept) with IKE negotiated meanwhile."""

import select
import socket
import ssl
import threading
import time

from .client import (check_accepted, established, ns_connect, parse_raw_response, raw_exchange, raw_problem,
                     tls_context)
from .common import CHILD, CONN, NS_A, NS_B, PORT_A, PORT_B, Ctx, check, record, wait_until


# ----------------------------------------------------------------------------
# section 7: limits

class SlowClient(threading.Thread):
    """Sends a request one byte a second; measures when the server closes the connection."""

    def __init__(self, ns, port, tls_ctx, label):
        super().__init__(daemon=True)
        self.ns, self.port, self.tls_ctx, self.label = ns, port, tls_ctx, label
        self.closed_after = None
        self.bytes_sent = 0
        self.error = None

    def run(self):
        try:
            s = ns_connect(self.ns, self.port)
            start = time.monotonic()
            if self.tls_ctx:
                s = self.tls_ctx.wrap_socket(s, server_hostname='127.0.0.1')
                start = time.monotonic()  # the request clock starts after the handshake
            s.settimeout(1.0)
            payload = b'GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + b'z' * 100 + b'\r\n\r\n'
            for byte in payload:
                try:
                    s.sendall(bytes([byte]))
                    self.bytes_sent += 1
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                    self.closed_after = time.monotonic() - start
                    break
                next_send = time.monotonic() + 1.0
                closed = False
                while time.monotonic() < next_send:
                    try:
                        chunk = s.recv(4096)
                        if not chunk:
                            closed = True
                            break
                        record(chunk)
                    except socket.timeout:
                        pass
                    except (ConnectionResetError, ssl.SSLError, OSError):
                        closed = True
                        break
                if closed:
                    self.closed_after = time.monotonic() - start
                    break
                if time.monotonic() - start > 25:
                    break
            s.close()
        except Exception as e:  # reported by the section
            self.error = '%s: %s' % (type(e).__name__, e)


def count_closed(socks, wait):
    """How many of the sockets the server closed (EOF or reset) within `wait` seconds."""
    deadline = time.monotonic() + wait
    closed = set()
    while time.monotonic() < deadline:
        for i, s in enumerate(socks):
            if i in closed:
                continue
            r, _, _ = select.select([s], [], [], 0)
            if r:
                try:
                    if not s.recv(1, socket.MSG_PEEK):
                        closed.add(i)
                except (ConnectionResetError, OSError):
                    closed.add(i)
        time.sleep(0.05)
    return len(closed)


def section_limits():
    a, b = Ctx.a, Ctx.b
    ctx = tls_context(Ctx.crt)
    for ns, port, tctx, name in ((NS_A, PORT_A, ctx, 'A (TLS)'), (NS_B, PORT_B, None, 'B (plain)')):
        big = b'GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ' + b'a' * 9000 + b'\r\n\r\n'
        data, closed = raw_exchange(ns, port, big, tctx)
        headers = raw_problem(data, 431, 'header-too-large', '%s: a 9000-byte header' % name)
        check(closed, '%s: the connection is closed after the 431' % name)
        if headers is not None:
            check(headers.get('connection', '').lower() == 'close', '%s: 431 says Connection: close' % name,
                  str(headers))
        ok_size = b'GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ' + b'a' * 7000 + b'\r\n\r\n'
        data, _ = raw_exchange(ns, port, ok_size, tctx, timeout=2)
        parsed = parse_raw_response(data)
        check(parsed is not None and parsed[0] == 200, '%s: a 7000-byte header is fine' % name, repr(data[:200]))

        body = (b'PATCH /api/v1/logging HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ' + Ctx.admin.encode() +
                b'\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n' % (2 * 1024 * 1024))
        data, closed = raw_exchange(ns, port, body, tctx)
        raw_problem(data, 413, 'payload-too-large', '%s: Content-Length 2 MiB' % name)
        check(closed, '%s: the connection is closed after the 413' % name)
        body = (b'PATCH /api/v1/logging HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'
                b'Content-Length: %d\r\n\r\n' % (1024 * 1024 + 1))
        data, closed = raw_exchange(ns, port, body, tctx)
        raw_problem(data, 413, 'payload-too-large', '%s: Content-Length 1 MiB + 1, no token' % name)

        for junk, what in ((b'this is not http\r\n\r\n', 'a malformed request line'),
                           (b'GET /api/v1/health HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n', 'a header line without a colon')):
            data, closed = raw_exchange(ns, port, junk, tctx)
            raw_problem(data, 400, 'bad-request', '%s: %s' % (name, what))
            check(closed, '%s: the connection is closed after %s' % (name, what))
        # Two requests pipelined on one connection are both answered.
        two = (b'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n'
               b'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        data, closed = raw_exchange(ns, port, two, tctx)
        check(data.count(b'HTTP/1.1 200') == 2 and closed, '%s: two pipelined requests, two 200s' % name,
              repr(data[:300]))

    # The slow clients started before section 5 (collected before the flood, which needs all 64 slots).
    for t in Ctx.slow:
        t.join(timeout=20)
        if t.error:
            check(False, 'slow client on %s' % t.label, t.error)
            continue
        check(t.closed_after is not None and 9.0 <= t.closed_after <= 12.5,
              'a client sending one byte a second on %s is closed after ~10 s (%s s, %d bytes sent)' % (
                  t.label, '%.1f' % t.closed_after if t.closed_after is not None else 'never', t.bytes_sent))
    timeouts = a.get('/stats').json.get('api', {}).get('timeouts', 0)
    check(timeouts >= 1, 'GET /stats: api.timeouts counted the slow client (%d)' % timeouts)

    # 70 idle connections on A's TLS port: at most 64 stay open. Meanwhile B
    # initiates an IKE SA, which A must negotiate.
    check(a.sas() == [] and b.sas() == [], 'no IKE SA before the flood')
    socks = []
    try:
        for _ in range(70):
            socks.append(ns_connect(NS_A, PORT_A, timeout=5))
        r = b.request('POST', '/connections/%s/children/%s/initiate' % (CONN, CHILD))
        check_accepted(r, 'B initiates during the flood')
        closed = count_closed(socks, 1.0)
        still = len(socks) - closed
        check(still <= 64 and closed >= 6,
              '70 idle connections: %d stay open, %d closed by the server' % (still, closed))
        extra = ns_connect(NS_A, PORT_A, timeout=5)
        n = count_closed([extra], 1.0)
        extra.close()
        check(n == 1, 'with the server at its limit, one more connection is closed at once')
        r = b.get('/health', token=None)
        check(r.status == 200, 'B\'s API (a listener of its own) answers during A\'s flood', str(r))
        est = wait_until(lambda: established(b.sas()), 10, 'the IKE SA B initiated during the flood ESTABLISHED')
        check(True, 'IKE negotiated while A\'s API is flooded: %s ESTABLISHED on B' % est[0]['name'])
    finally:
        for s in socks:
            s.close()
    r = wait_until(lambda: (lambda r: r if r.status == 200 else None)(a.get('/sas')), 3,
                   'A\'s API answers after the flood ends')
    check(len(established(r.json['items'])) == 1, 'after the flood A answers and shows the IKE SA ESTABLISHED',
          str(r))
    rej = a.get('/stats').json.get('api', {}).get('rejected_connections', 0)
    check(rej >= 6, 'GET /stats: api.rejected_connections counted the refused connections (%d)' % rej)
    for s in b.sas():
        b.request('DELETE', '/sas/%d' % s['id'])
    wait_until(lambda: a.sas() == [] and b.sas() == [], 5, 'the flood\'s IKE SA deleted')
