"""The HTTP clients of the API test: sockets created inside a network
namespace (setns(2) of the creating thread), http.client over them with or
without TLS, raw exchanges for malformed requests, the RFC 9457 problem
document and 202 checks, and the SA list helpers the sections share."""

import ctypes
import http.client
import json
import re
import socket
import ssl
import time

from .common import PROBLEM_BASE, Ctx, Failure, check, record


CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


# ----------------------------------------------------------------------------
# sockets in a network namespace: setns(2) applies to the calling thread only,
# and a socket stays in the namespace it was created in.

def ns_socket(ns, family=socket.AF_INET, kind=socket.SOCK_STREAM):
    if ns is None:
        return socket.socket(family, kind)
    with open('/proc/thread-self/ns/net') as home, open('/var/run/netns/' + ns) as target:
        if _libc.setns(target.fileno(), CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), 'setns to ' + ns)
        try:
            return socket.socket(family, kind)
        finally:
            if _libc.setns(home.fileno(), CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), 'setns back from ' + ns)


def ns_connect(ns, port, host='127.0.0.1', timeout=10):
    s = ns_socket(ns)
    s.settimeout(timeout)
    s.connect((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class NsHTTPConnection(http.client.HTTPConnection):
    def __init__(self, ns, host, port, timeout=10):
        super().__init__(host, port, timeout=timeout)
        self.ns = ns

    def connect(self):
        self.sock = ns_connect(self.ns, self.port, self.host, self.timeout)


class NsHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, ns, host, port, context, timeout=10):
        super().__init__(host, port, timeout=timeout, context=context)
        self.ns = ns

    def connect(self):
        raw = ns_connect(self.ns, self.port, self.host, self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = True
    return ctx


class Resp:
    def __init__(self, method, path, status, reason, headers, body):
        self.method, self.path, self.status, self.reason = method, path, status, reason
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        self.json = None
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            pass

    @property
    def ctype(self):
        return self.headers.get('content-type', '').split(';')[0].strip().lower()

    def __str__(self):
        return '%s %s -> %d %s %s' % (self.method, self.path, self.status, self.ctype, self.body[:400])


USE_DEFAULT = object()


class Client:
    """One gateway's API (or metrics) endpoint as seen from inside its namespace."""

    def __init__(self, ns, port, tls=False, cafile=None, token=None):
        self.ns, self.port, self.tls, self.cafile, self.token = ns, port, tls, cafile, token
        self.ctx = tls_context(cafile) if tls else None

    def connection(self, timeout=10):
        if self.tls:
            return NsHTTPSConnection(self.ns, '127.0.0.1', self.port, self.ctx, timeout)
        return NsHTTPConnection(self.ns, '127.0.0.1', self.port, timeout)

    def request(self, method, path, body=None, token=USE_DEFAULT, headers=None, ctype=None, timeout=10,
                prefix='/api/v1'):
        token = self.token if token is USE_DEFAULT else token
        hdrs = dict(headers or {})
        if token is not None:
            hdrs['Authorization'] = 'Bearer ' + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault('Content-Type', ctype or 'application/json')
        elif body is not None and ctype:
            hdrs['Content-Type'] = ctype
        conn = self.connection(timeout)
        try:
            conn.request(method, prefix + path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            record(data)
            return Resp(method, prefix + path, r.status, r.reason, r.getheaders(), data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def sas(self, query=''):
        r = self.get('/sas' + query)
        if r.status != 200 or not isinstance(r.json, dict):
            raise Failure('GET /sas%s: %s' % (query, r))
        return r.json['items']


def check_problem(r, status, kind, what, detail_has=None, instance=None):
    """An RFC 9457 problem: status, Content-Type, type suffix, title, status member, detail, instance."""
    j = r.json if isinstance(r.json, dict) else {}
    problems = []
    if r.status != status:
        problems.append('status %d' % r.status)
    if r.ctype != 'application/problem+json':
        problems.append('Content-Type %r' % r.headers.get('content-type'))
    if j.get('type') != PROBLEM_BASE + kind:
        problems.append('type %r' % j.get('type'))
    if not isinstance(j.get('title'), str) or not j.get('title'):
        problems.append('title %r' % j.get('title'))
    if j.get('status') != status:
        problems.append('status member %r' % j.get('status'))
    if not isinstance(j.get('detail'), str) or not j.get('detail'):
        problems.append('detail %r' % j.get('detail'))
    elif detail_has and detail_has not in j['detail']:
        problems.append('detail %r lacks %r' % (j['detail'], detail_has))
    if not isinstance(j.get('instance'), str):
        problems.append('instance %r' % j.get('instance'))
    elif instance is not None and j['instance'] != instance:
        problems.append('instance %r, not %r' % (j['instance'], instance))
    return check(not problems, '%s: %d %s problem' % (what, status, kind), '; '.join(problems) + ' | ' + str(r))


def check_accepted(r, what):
    ok = r.status == 202 and r.ctype == 'application/json' and isinstance(r.json, dict) and \
        r.json.get('status') == 'accepted' and isinstance(r.json.get('detail'), str)
    return check(ok, '%s: 202 {"status": "accepted"}' % what, str(r))


# ----------------------------------------------------------------------------
# raw HTTP over a socket (limits, malformed requests)

def parse_raw_response(data):
    """(status, headers dict, body) of the first response in data, or None."""
    head, sep, rest = data.partition(b'\r\n\r\n')
    if not sep:
        return None
    lines = head.decode('latin-1').split('\r\n')
    m = re.match(r'HTTP/1\.[01] (\d{3})', lines[0])
    if not m:
        return None
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(':')
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get('content-length', '0'))
    return int(m.group(1)), headers, rest[:n]


def read_until_closed(sock, timeout):
    """Everything until the peer closes; (data, closed, seconds)."""
    start = time.monotonic()
    deadline = start + timeout
    data = b''
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ssl.SSLWantReadError:
            continue
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            return data, True, time.monotonic() - start
        if not chunk:
            return data, True, time.monotonic() - start
        data += chunk
    return data, False, time.monotonic() - start


def raw_exchange(ns, port, payload, tls_ctx=None, timeout=5):
    s = ns_connect(ns, port)
    if tls_ctx:
        s = tls_ctx.wrap_socket(s, server_hostname='127.0.0.1')
    try:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        data, closed, _ = read_until_closed(s, timeout)
    finally:
        s.close()
    record(data)
    return data, closed


def raw_problem(data, status, kind, what):
    parsed = parse_raw_response(data)
    if not check(parsed is not None, '%s: an HTTP response' % what, repr(data[:300])):
        return
    st, headers, body = parsed
    fake = Resp('RAW', what, st, '', headers.items(), body)
    check_problem(fake, status, kind, what)
    return headers


# ----------------------------------------------------------------------------
# OpenAPI operations with parameters filled in

def operations(doc):
    out = []
    for path, item in doc['paths'].items():
        for method in ('get', 'put', 'post', 'delete', 'patch'):
            if method in item:
                out.append((method.upper(), path, item[method]))
    return out


def fill(path, **values):
    for k, v in values.items():
        path = path.replace('{%s}' % k, str(v))
    return path


def established(items, children=1):
    return [s for s in items if s['state'] == 'ESTABLISHED' and
            len([c for c in s.get('children', []) if c['state'] == 'INSTALLED']) == children]


def one_established_pair():
    """A's and B's lists each hold exactly one IKE SA, ESTABLISHED with one INSTALLED child."""
    la, lb = Ctx.a.sas(), Ctx.b.sas()
    if len(la) == 1 and len(lb) == 1 and established(la) and established(lb):
        return la[0], lb[0]
    return None


def only_sa(client):
    items = client.sas()
    return items[0] if len(items) == 1 else None
