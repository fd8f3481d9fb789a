#!/usr/bin/python3
"""The management REST API and the Prometheus metrics of corridor-control, end to end.

    /usr/bin/python3 tests/integration/api_test.py BUILD_ROOT [-v] [--keep]

    namespace api-a                                   namespace api-b
    corridor-control (gateway A)  wan 192.0.2.1 ==== wan 192.0.2.2  corridor-control (gateway B)
      API  https://127.0.0.1:8443 (TLS)                 API  http://127.0.0.1:8080 (allow_plain_http)
      metrics http://127.0.0.1:9464

Control plane only: no dataplane runs, the daemons negotiate IKEv2 (PSK) over
the veth pair and queue their Child SAs for the SA channel. Children have
start_action none: every SA is started through the API. The HTTP clients run
in the namespaces (sockets are created after setns(2) of the creating thread;
curl-less, standard library only), corridorctl and promtool through
`ip netns exec`. The load generator of section 10 is this script again
(--load-worker) in namespace api-a.

Sections (one summary line each):
   1 authentication and scopes, token create/revoke without restart
   2 TLS: certificate, plain HTTP on the TLS port, TLS 1.1 refused
   3 initiate through the API, the SA views on both sides, filters, paging
   4 Child SA and IKE SA rekey, Child SA delete, child terminate, IKE SA
     delete, 404 for a gone SA, 409 for an SA being deleted (peer stopped)
   5 connections, config (secrets redacted), stats, logging, 405/404/415
   6 /openapi.json equals docs/api/openapi.yaml; every documented operation
     is routed; openapi_check.py
   7 limits: 431, 413, 400, a slow client closed after ~10 s, 70 idle
     connections (at most 64 kept), IKE negotiated during the flood
   8 metrics: promtool check metrics, the series, 405 and 404
   9 corridorctl against the daemons: commands, --json, exit codes, env
  10 load: >= 300 requests/s on keep-alive connections while SAs come and go

Also checked over the whole run: the PSK appears in no response body, no
corridorctl output and no daemon log; both daemons stay up and exit 0 on
SIGTERM. Exit status 0 when every check held, 1 otherwise. Needs root.
"""

import ctypes
import http.client
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
OPENAPI_YAML = os.path.join(SOURCE_ROOT, 'docs', 'api', 'openapi.yaml')
MAKE_CERT = os.path.join(SOURCE_ROOT, 'scripts', 'make-api-cert.sh')
OPENAPI_CHECK = os.path.join(HERE, 'openapi_check.py')

NS_A, NS_B = 'api-a', 'api-b'
ADDR_A, ADDR_B = '192.0.2.1', '192.0.2.2'
NET_A, NET_B = '10.1.0.0/24', '10.2.0.0/24'
ID_A, ID_B = 'gw-a.api.test', 'gw-b.api.test'
CONN, CHILD = 'gw', 'net'
# A second connection between the same gateways with identities of its own
# (the responder picks it by IDi), for paging and filters over two IKE SAs.
CONN2, CHILD2 = 'gw2', 'net2'
ID_A2, ID_B2 = 'gw-a2.api.test', 'gw-b2.api.test'
NET_A2, NET_B2 = '10.1.1.0/24', '10.2.1.0/24'
PORT_A, PORT_B, PORT_METRICS = 8443, 8080, 9464
PROBLEM_BASE = 'https://corridor.dev/problems/'
IKE_PROPOSAL = 'IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384'
ESP_PROPOSAL = 'ESP:AES_GCM_16_256/NO_EXT_SEQ'
# A fresh PSK per run: it must show up nowhere but in the config files.
PSK = 'api-test-psk-' + ''.join(random.choice(string.ascii_letters + string.digits) for _ in range(24))
PSK2 = 'api-test-psk2-' + ''.join(random.choice(string.ascii_letters + string.digits) for _ in range(24))

VERBOSE = '-v' in sys.argv
KEEP = '--keep' in sys.argv

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class Failure(Exception):
    """A precondition of a section did not hold: the section stops there."""


# ----------------------------------------------------------------------------
# checks and sections

class Section:
    def __init__(self, number, title):
        self.number, self.title = number, title
        self.checks, self.failures, self.notes = 0, [], []
        self.aborted = None
        self.seconds = 0.0

    def summary(self):
        if self.aborted or self.failures:
            what = '%d of %d checks failed' % (len(self.failures), self.checks)
            if self.aborted:
                what += ', aborted: %s' % self.aborted
            return 'section %2d %-58s FAIL (%s)' % (self.number, self.title, what)
        note = (' [' + '; '.join(self.notes) + ']') if self.notes else ''
        return 'section %2d %-58s ok (%d checks, %.1f s)%s' % (self.number, self.title, self.checks, self.seconds, note)


SECTIONS = {}
_current = threading.local()
_global_section = Section(0, 'setup and whole-run checks')


def section():
    return getattr(_current, 'section', None) or _global_section


def check(ok, what, detail=''):
    s = section()
    s.checks += 1
    if not ok:
        s.failures.append(what)
        print('  FAIL [%d]: %s%s' % (s.number, what, (' -- ' + detail) if detail else ''), flush=True)
    elif VERBOSE:
        print('  ok [%d]: %s' % (s.number, what), flush=True)
    return bool(ok)


def require(ok, what, detail=''):
    if not check(ok, what, detail):
        raise Failure(what + ((' -- ' + detail) if detail else ''))


def note(text):
    section().notes.append(text)
    print('  note [%d]: %s' % (section().number, text), flush=True)


def run_section(number, title, fn, more=False):
    """Runs fn as section `number`; with more=True as a further part of a section run before."""
    s = SECTIONS.get(number) if more else None
    if s is None:
        s = Section(number, title)
        SECTIONS[number] = s
    _current.section = s
    print('--- section %d%s: %s' % (number, ' (continued)' if more else '', title), flush=True)
    start = time.monotonic()
    try:
        fn()
    except Failure as e:
        s.aborted = ((s.aborted + '; ') if s.aborted else '') + str(e)[:300]
    except Exception as e:  # a harness error must not hide the others' results
        s.aborted = ((s.aborted + '; ') if s.aborted else '') + '%s: %s' % (type(e).__name__, str(e)[:300])
        traceback.print_exc()
    finally:
        s.seconds += time.monotonic() - start
        _current.section = None
    for gw in GATEWAYS:
        if gw.proc and gw.proc.poll() is not None:
            s.aborted = (s.aborted or '') + ' corridor-control %s exited (%s)' % (gw.name, gw.proc.returncode)
    print(s.summary(), flush=True)


def wait_until(fn, timeout, what, interval=0.05):
    """Polls fn() until it returns something true; returns it. Raises Failure with the last value."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
        except (OSError, http.client.HTTPException) as e:
            last = e
        if last and not isinstance(last, Exception):
            return last
        if time.monotonic() > deadline:
            raise Failure('%s: not within %s s (last: %s)' % (what, timeout, str(last)[:600]))
        time.sleep(interval)


# ----------------------------------------------------------------------------
# everything a client received, to look for the PSK at the end

RECEIVED = []
_received_lock = threading.Lock()


def record(data):
    if isinstance(data, str):
        data = data.encode('utf-8', 'replace')
    if data:
        with _received_lock:
            RECEIVED.append(bytes(data))


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
# the network and the daemons

def sh(*args, ns=None, check_rc=True, timeout=30, **kw):
    cmd = (['ip', 'netns', 'exec', ns] if ns else []) + [str(a) for a in args]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout,
                       stdin=kw.pop('stdin', subprocess.DEVNULL), **kw)
    if check_rc and r.returncode != 0:
        raise Failure('%s failed (%d): %s %s' % (' '.join(cmd), r.returncode, r.stdout.strip(), r.stderr.strip()))
    return r


def ns_pids(ns):
    r = subprocess.run(['ip', 'netns', 'pids', ns], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return [int(p) for p in r.stdout.split() if p.isdigit()]


def remove_namespace(ns):
    if not os.path.exists('/var/run/netns/' + ns):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = ns_pids(ns)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 3
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if os.path.exists('/proc/%d' % p)]
            time.sleep(0.05)
        if not pids:
            break
    subprocess.run(['ip', 'netns', 'del', ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Gateway:
    def __init__(self, name, ns, build, wd, local, remote, ids, nets, api):
        self.name, self.ns, self.wd = name, ns, wd
        self.binary = os.path.join(build, 'control', 'corridor-control')
        self.config_path = os.path.join(wd, 'gateway-%s.json' % name)
        self.log_path = os.path.join(wd, 'gateway-%s.log' % name)
        self.out_path = os.path.join(wd, 'gateway-%s.out' % name)
        self.channel = '/corridor-api-test-%d-%s' % (os.getpid(), name)
        self.proc = None
        def connection(local_id, remote_id, child, local_net, remote_net):
            return {
                'version': 2,
                'local_addrs': [local], 'remote_addrs': [remote],
                'proposals': ['aes256gcm16-prfsha384-ecp384'],
                'local': {'auth': 'psk', 'id': local_id},
                'remote': {'auth': 'psk', 'id': remote_id},
                'children': {child: {'local_ts': [local_net], 'remote_ts': [remote_net],
                                     'esp_proposals': ['aes256gcm16'], 'start_action': 'none'}},
            }
        self.doc = {
            'connections': {CONN: connection(ids[0], ids[1], CHILD, nets[0], nets[1]),
                            CONN2: connection(ids[2], ids[3], CHILD2, nets[2], nets[3])},
            'secrets': {'ike-gw': {'id': [ID_A, ID_B], 'secret': PSK},
                        'ike-gw2': {'id': [ID_A2, ID_B2], 'secret': PSK2}},
            'sa_channel': {'name': self.channel, 'command_slots': 256, 'event_slots': 256},
            'api': api,
            'logging': {'level': 'info', 'file': self.log_path},
        }
        with open(self.config_path, 'w') as f:
            json.dump(self.doc, f, indent=1)

    def start(self):
        r = subprocess.run([self.binary, '--config', self.config_path, '--check'], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        record(r.stdout)
        require(r.returncode == 0, 'corridor-control --check accepts gateway %s\'s config' % self.name, r.stdout)
        out = open(self.out_path, 'w')
        self.proc = subprocess.Popen(['ip', 'netns', 'exec', self.ns, self.binary, '--config', self.config_path],
                                     stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()

    def wait_ready(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if 'REST API on' in self.log():
                return
            if self.proc.poll() is not None:
                raise Failure('corridor-control %s exited (%s): %s' % (self.name, self.proc.returncode,
                                                                       self.log_tail()))
            time.sleep(0.05)
        raise Failure('corridor-control %s: no "REST API on" in its log within %d s' % (self.name, timeout))

    def log(self):
        try:
            with open(self.log_path, errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def output(self):
        try:
            with open(self.out_path, errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def log_tail(self, n=25):
        return '\n'.join((self.log() + self.output()).splitlines()[-n:])

    def stop(self):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.unlink('/dev/shm' + self.channel)
        except FileNotFoundError:
            pass
        return self.proc.returncode


GATEWAYS = []


class Ctx:
    """What the sections share."""
    build = wd = None
    ctl = None
    crt = key = tokens_file = None
    read = operate = admin = None
    a = b = None            # Client objects with the admin token
    metrics = None
    doc = None               # the OpenAPI document (YAML)
    sa_a = sa_b = None       # the IKE SA established in section 3
    slow = None              # slow client threads (section 7)
    debug_off_mark = None    # gateway A's log size when the ike debug override was removed


def ctl(args, ns=NS_A, env=None, url=None, token=None, cacert=None, timeout=30):
    """corridorctl in a namespace; (rc, stdout, stderr)."""
    cmd = ['ip', 'netns', 'exec', ns, Ctx.ctl]
    if url:
        cmd += ['--url', url]
    if token:
        cmd += ['--token', token]
    if cacert:
        cmd += ['--cacert', cacert]
    cmd += list(args)
    full_env = dict(os.environ)
    for k in ('CORRIDOR_URL', 'CORRIDOR_TOKEN', 'CORRIDOR_CACERT'):
        full_env.pop(k, None)
    full_env['HOME'] = Ctx.wd  # no ~/.config/corridor/corridorctl.json of the machine's
    full_env.update(env or {})
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout, env=full_env,
                       stdin=subprocess.DEVNULL)
    record(r.stdout)
    record(r.stderr)
    return r.returncode, r.stdout, r.stderr


def ctl_a(args, **kw):
    return ctl(args, url='https://127.0.0.1:%d' % PORT_A, token=kw.pop('token', Ctx.admin), cacert=Ctx.crt, **kw)


def create_token(scope):
    r = subprocess.run([Ctx.ctl, 'token', 'create', '--scope', scope, '--tokens', Ctx.tokens_file,
                        '--comment', 'api_test ' + scope], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    token = r.stdout.strip()
    require(r.returncode == 0 and re.fullmatch(r'crd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}', token),
            'corridorctl token create --scope %s prints a token' % scope, r.stdout + r.stderr)
    return token


def token_id(token):
    return token[4:16]


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


# ----------------------------------------------------------------------------
# section 1: authentication

def section_auth():
    a, b = Ctx.a, Ctx.b
    for client, name in ((a, 'A (TLS)'), (b, 'B (plain)')):
        r = client.get('/health', token=None)
        j = r.json if isinstance(r.json, dict) else {}
        check(r.status == 200 and r.ctype == 'application/json', 'GET /health on %s without a token: 200 JSON' % name,
              str(r))
        check(j.get('status') == 'ok' and isinstance(j.get('version'), str) and j.get('version') and
              isinstance(j.get('uptime_seconds'), (int, float)) and j['uptime_seconds'] >= 0 and
              j.get('dataplane') == 'down' and isinstance(j.get('sa_sync'), str) and j.get('sa_sync'),
              'GET /health on %s: status ok, version, uptime_seconds, dataplane "down" (none runs), sa_sync' % name,
              str(r))

    # Every other operation without a token: 401 with WWW-Authenticate: Bearer.
    count = 0
    for method, path, op in operations(Ctx.doc):
        if path == '/health':
            continue
        target = fill(path, id=1, spi='0x00000001', name=CONN, child=CHILD)
        body = {'level': 'info'} if method == 'PATCH' else None
        for client, name in ((a, 'A'), (b, 'B')):
            r = client.request(method, target, body=body, token=None)
            check_problem(r, 401, 'unauthorized', '%s %s on %s without a token' % (method, target, name),
                          instance='/api/v1' + target)
            check(r.headers.get('www-authenticate', '').lower().startswith('bearer'),
                  '%s %s on %s without a token: WWW-Authenticate: Bearer' % (method, target, name), str(r.headers))
            count += 1
    check(count >= 30, 'every documented operation but /health refused without a token (%d requests)' % count)
    r = a.request('PUT', '/sas', token=None)
    check_problem(r, 401, 'unauthorized', 'PUT /sas (no such method) without a token')

    # An unknown token, a malformed header.
    garbage = 'crd_0123456789ab_' + 'A' * 43
    for token, what in ((garbage, 'an unknown well-formed token'), ('not-a-token', 'a malformed token'),
                        (Ctx.admin + 'x', 'a valid token with a byte appended')):
        r = a.get('/sas', token=token)
        check_problem(r, 401, 'unauthorized', 'GET /sas with %s' % what)
        www = r.headers.get('www-authenticate', '')
        check(www.lower().startswith('bearer'), 'GET /sas with %s: WWW-Authenticate: Bearer' % what, www)
        # OpenAPI components/headers/WWW-Authenticate: "with an `error` attribute when a token was given"
        # (RFC 6750 §3: error="invalid_token").
        check('error=' in www, 'GET /sas with %s: WWW-Authenticate carries an error attribute '
              '(docs/api/openapi.yaml)' % what, 'got %r' % www)
    r = a.get('/sas', token=None, headers={'Authorization': 'Basic ' + 'dXNlcjpwYXNz'})
    check_problem(r, 401, 'unauthorized', 'GET /sas with Authorization: Basic')

    # Scopes: read < operate < admin.
    r = a.get('/sas', token=Ctx.read)
    check(r.status == 200, 'read token: GET /sas 200', str(r))
    r = a.request('POST', '/sas/1/rekey', token=Ctx.read)
    check_problem(r, 403, 'forbidden', 'read token: POST /sas/1/rekey')
    check('www-authenticate' not in r.headers, '403 has no WWW-Authenticate', str(r.headers))
    r = a.request('POST', '/connections/%s/children/%s/initiate' % (CONN, CHILD), token=Ctx.read)
    check_problem(r, 403, 'forbidden', 'read token: POST .../initiate')
    r = b.request('DELETE', '/sas/1', token=Ctx.read)
    check_problem(r, 403, 'forbidden', 'read token on B: DELETE /sas/1')
    r = a.request('PATCH', '/logging', body={'level': 'info'}, token=Ctx.operate)
    check_problem(r, 403, 'forbidden', 'operate token: PATCH /logging')
    r = a.get('/stats', token=Ctx.operate)
    check(r.status == 200, 'operate token: GET /stats 200 (operate includes read)', str(r))
    r = a.request('POST', '/sas/999999/rekey', token=Ctx.operate)
    check_problem(r, 404, 'not-found', 'operate token: POST /sas/999999/rekey passes the scope check',
                  detail_has='999999')
    r = a.get('/logging', token=Ctx.admin)
    check(r.status == 200, 'admin token: GET /logging 200', str(r))

    # The token file holds hashes only; list shows ids.
    with open(Ctx.tokens_file) as f:
        text = f.read()
    check(not any(t[17:] in text for t in (Ctx.read, Ctx.operate, Ctx.admin)),
          'the token file holds no token secret')
    rc, out, err = ctl(['token', 'list', '--tokens', Ctx.tokens_file])
    check(rc == 0 and all(token_id(t) in out for t in (Ctx.read, Ctx.operate, Ctx.admin)) and
          not any(t[17:] in out for t in (Ctx.read, Ctx.operate, Ctx.admin)),
          'corridorctl token list: the ids, no secrets', out + err)

    # Revocation and a new token take effect without a restart.
    extra = create_token('operate')
    r = a.get('/sas', token=extra)
    check(r.status == 200, 'a token created while the daemons run works at once (A)', str(r))
    r = b.get('/sas', token=extra)
    check(r.status == 200, 'a token created while the daemons run works at once (B)', str(r))
    rc, out, err = ctl(['token', 'revoke', token_id(extra), '--tokens', Ctx.tokens_file])
    check(rc == 0, 'corridorctl token revoke %s' % token_id(extra), out + err)
    r = a.get('/sas', token=extra)
    check_problem(r, 401, 'unauthorized', 'the revoked token, next request on A')
    r = b.get('/sas', token=extra)
    check_problem(r, 401, 'unauthorized', 'the revoked token, next request on B')
    newer = create_token('read')
    r = a.get('/sas', token=newer)
    check(r.status == 200, 'a token created after a revocation works at once', str(r))
    r = a.get('/sas', token=Ctx.read)
    check(r.status == 200, 'the other tokens still work after a revocation', str(r))
    for t in (extra, newer):
        record(t)  # not secrets of the config; harmless in the PSK search


# ----------------------------------------------------------------------------
# section 2: TLS

def section_tls():
    # The certificate verifies against api.crt, with the IP address as the name.
    s = ns_connect(NS_A, PORT_A)
    t = tls_context(Ctx.crt).wrap_socket(s, server_hostname='127.0.0.1')
    version = t.version()
    peer = t.getpeercert()
    t.close()
    check(version in ('TLSv1.2', 'TLSv1.3'), 'TLS handshake verifying api.crt (hostname 127.0.0.1): %s' % version)
    check(any(v == '127.0.0.1' for k, v in peer.get('subjectAltName', ())),
          'the server certificate names IP 127.0.0.1', str(peer))
    r = Ctx.a.get('/health', token=None)
    check(r.status == 200, 'GET /health over verified TLS: 200', str(r))

    # Without the CA the certificate does not verify.
    s = ns_connect(NS_A, PORT_A)
    try:
        ssl.create_default_context().wrap_socket(s, server_hostname='127.0.0.1')
        check(False, 'a client without api.crt refuses the self-signed certificate')
    except ssl.SSLCertVerificationError:
        check(True, 'a client without api.crt refuses the self-signed certificate')
    finally:
        s.close()

    # Plain HTTP on the TLS port: no HTTP response, the connection closes.
    data, closed = raw_exchange(NS_A, PORT_A, b'GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', timeout=12)
    check(not data.startswith(b'HTTP/'), 'plain HTTP to the TLS port gets no HTTP response', repr(data[:100]))
    check(closed, 'plain HTTP to the TLS port: the server closes the connection')

    # TLS 1.1: refused by the server (the client must be allowed to offer it).
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        local_refusal = None
        try:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers('DEFAULT:@SECLEVEL=0')  # OpenSSL 3 needs level 0 to even offer TLS 1.1
        except (ValueError, ssl.SSLError) as e:
            local_refusal = str(e)
    if local_refusal is None:
        s = ns_connect(NS_A, PORT_A)
        try:
            t = ctx.wrap_socket(s)
            check(False, 'a TLS 1.1 client is refused', 'handshake succeeded with %s' % t.version())
            t.close()
        except ssl.SSLError as e:
            reason = getattr(e, 'reason', '') or ''
            if reason in ('NO_PROTOCOLS_AVAILABLE', 'NO_CIPHERS_AVAILABLE', 'UNSUPPORTED_PROTOCOL') and \
                    'ALERT' not in reason:
                local_refusal = '%s (before sending anything)' % reason
            else:
                check(True, 'a TLS 1.1 client is refused by the server (%s)' % reason)
        except (ConnectionResetError, BrokenPipeError) as e:
            check(True, 'a TLS 1.1 client is refused by the server (%s)' % type(e).__name__)
        finally:
            s.close()
    if local_refusal is not None:
        note('TLS 1.1 sub-check skipped: the local OpenSSL refuses to offer TLS 1.1: %s' % local_refusal)

    # Gateway B speaks plain HTTP (allow_plain_http on loopback).
    r = Ctx.b.get('/health', token=None)
    check(r.status == 200, 'gateway B answers plain HTTP on 127.0.0.1:%d' % PORT_B, str(r))


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
    check({k: v for k, v in va.items() if k not in ('established_seconds', 'age_seconds', 'rekey_in_seconds',
                                                     'expire_in_seconds', 'children')} ==
          {k: v for k, v in sa_a.items() if k not in ('established_seconds', 'age_seconds', 'rekey_in_seconds',
                                                       'expire_in_seconds', 'children')},
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

def only_sa(client):
    items = client.sas()
    return items[0] if len(items) == 1 else None


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
                                ('DELETE', '/connections', {'GET'}), ('POST', '/logging', {'GET', 'PATCH'}),
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
    absent = dict(id=999999, spi='0x0badf00d', name=CONN, child='nosuch')
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
            routed = not detail.startswith('no resource at') and any(
                str(v) in detail or str(v)[2:] in detail for v in (absent['id'], absent['child']))
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

    # terminate, initiate --child (the connection found through list-conns), rekey.
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
    worker = subprocess.Popen(['ip', 'netns', 'exec', NS_A, sys.executable, os.path.abspath(__file__),
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


# ----------------------------------------------------------------------------
# the run

def setup(build, wd):
    Ctx.build, Ctx.wd = build, wd
    Ctx.ctl = os.path.join(build, 'tools', 'corridorctl', 'corridorctl')
    for path in (Ctx.ctl, os.path.join(build, 'control', 'corridor-control')):
        require(os.access(path, os.X_OK), '%s is built' % path)
    import yaml
    with open(OPENAPI_YAML) as f:
        Ctx.doc = yaml.safe_load(f)

    for ns in (NS_A, NS_B):
        remove_namespace(ns)  # a leftover of an interrupted run
    for ns in (NS_A, NS_B):
        sh('ip', 'netns', 'add', ns)
        sh('ip', 'link', 'set', 'lo', 'up', ns=ns)
    sh('ip', 'link', 'add', 'wan', 'netns', NS_A, 'type', 'veth', 'peer', 'name', 'wan', 'netns', NS_B)
    for ns, addr in ((NS_A, ADDR_A), (NS_B, ADDR_B)):
        sh('ip', 'addr', 'add', addr + '/24', 'dev', 'wan', ns=ns)
        sh('ip', 'link', 'set', 'wan', 'up', ns=ns)

    r = subprocess.run(['bash', MAKE_CERT, wd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    require(r.returncode == 0, 'scripts/make-api-cert.sh makes api.crt and api.key', r.stdout)
    Ctx.crt, Ctx.key = os.path.join(wd, 'api.crt'), os.path.join(wd, 'api.key')
    Ctx.tokens_file = os.path.join(wd, 'api-tokens.json')
    Ctx.read, Ctx.operate, Ctx.admin = create_token('read'), create_token('operate'), create_token('admin')

    gw_a = Gateway('a', NS_A, build, wd, ADDR_A, ADDR_B, (ID_A, ID_B, ID_A2, ID_B2), (NET_A, NET_B, NET_A2, NET_B2), {
        'listen': '127.0.0.1:%d' % PORT_A, 'tls': {'cert': Ctx.crt, 'key': Ctx.key}, 'allow_plain_http': False,
        'tokens': Ctx.tokens_file, 'metrics_listen': '127.0.0.1:%d' % PORT_METRICS})
    gw_b = Gateway('b', NS_B, build, wd, ADDR_B, ADDR_A, (ID_B, ID_A, ID_B2, ID_A2), (NET_B, NET_A, NET_B2, NET_A2), {
        'listen': '127.0.0.1:%d' % PORT_B, 'allow_plain_http': True, 'tokens': Ctx.tokens_file})
    GATEWAYS.extend([gw_a, gw_b])
    for gw in GATEWAYS:
        gw.start()
    for gw in GATEWAYS:
        gw.wait_ready()
    Ctx.a = Client(NS_A, PORT_A, tls=True, cafile=Ctx.crt, token=Ctx.admin)
    Ctx.b = Client(NS_B, PORT_B, token=Ctx.admin)
    Ctx.metrics = Client(NS_A, PORT_METRICS)
    wait_until(lambda: Ctx.a.get('/health', token=None).status == 200 and
               Ctx.b.get('/health', token=None).status == 200, 10, 'both APIs answer')
    wait_until(lambda: Ctx.metrics.request('GET', '/metrics', prefix='').status == 200, 10, 'metrics answer')


def teardown():
    codes = {}
    for gw in GATEWAYS:
        codes[gw.name] = gw.stop()
    for ns in (NS_A, NS_B):
        remove_namespace(ns)
    return codes


class Interrupted(BaseException):
    """SIGTERM (meson's timeout) or SIGINT: not caught by the sections, cleaned up by main."""


def on_signal(signum, frame):
    raise Interrupted('signal %d' % signum)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('-')]
    if len(args) != 1:
        print(__doc__)
        return 64
    if os.geteuid() != 0:
        print('needs root (network namespaces)')
        return 1
    build = os.path.abspath(args[0])
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = time.monotonic()
    wd = tempfile.mkdtemp(prefix='corridor-api-test-')
    ok = False
    try:
        _current.section = _global_section
        try:
            setup(build, wd)
        except Failure as e:
            print('setup failed: %s' % e, flush=True)
            for gw in GATEWAYS:
                print('--- gateway %s log ---\n%s' % (gw.name, gw.log_tail(40)))
            return 1
        finally:
            _current.section = None

        run_section(1, 'authentication, scopes, token create/revoke', section_auth)
        run_section(2, 'TLS', section_tls)
        run_section(3, 'initiate, SA views, filters, paging', section_initiate)
        run_section(8, 'Prometheus metrics', section_metrics)
        run_section(9, 'corridorctl against the daemons', section_corridorctl)
        # The slow clients run concurrently with the next sections; section 7 collects them.
        Ctx.slow = [SlowClient(NS_B, PORT_B, None, 'B (plain HTTP)'),
                    SlowClient(NS_A, PORT_A, tls_context(Ctx.crt), 'A (TLS)')]
        for t in Ctx.slow:
            t.start()
        run_section(5, 'connections, config, stats, logging, 405/404/415', section_resources)
        run_section(6, 'OpenAPI document and route sweep', section_openapi)
        run_section(4, 'rekey, delete, terminate, 404 and 409', section_rekey_delete)
        # Sections 7 and 10 start without IKE SAs.
        run_section(7, 'limits: 431, 413, 400, slow client, connection flood', section_limits)
        run_section(10, 'load while IKE SAs come and go', section_load)
        # Last, as they may leave the gateways disagreeing or down: two IKE SAs
        # of one connection; a Child SA rekey after an IKE SA rekey (on gw2).
        run_section(3, 'initiate, SA views, filters, paging', section_initiate_twice, True)
        run_section(4, 'rekey, delete, terminate, 404 and 409', section_rekey_after_ike_rekey, True)

        # Whole run.
        _current.section = _global_section
        for gw in GATEWAYS:
            check(gw.proc.poll() is None, 'corridor-control %s still runs' % gw.name)
        logs = {gw.name: gw.log() + gw.output() for gw in GATEWAYS}
        for gw in GATEWAYS:
            with open(gw.config_path) as f:
                text = f.read()
                check(PSK in text and PSK2 in text,
                      'gateway %s\'s config holds the PSKs (the search below means something)' % gw.name)
            check(PSK not in logs[gw.name] and PSK2 not in logs[gw.name],
                  'the PSKs are nowhere in gateway %s\'s log and output' % gw.name)
        leaked = [d[:200] for d in RECEIVED if PSK.encode() in d or PSK2.encode() in d]
        check(not leaked, 'the PSKs are in none of the %d response bodies and tool outputs received' % len(RECEIVED),
              repr(leaked[:3]))
        debug_after = Ctx.debug_off_mark is not None and IKE_DEBUG.search(GATEWAYS[0].log()[Ctx.debug_off_mark:])
        check(not debug_after, 'no [ike] debug lines after the override was removed',
              debug_after.group(0) if debug_after else '')
        codes = teardown()
        for name, code in codes.items():
            check(code == 0, 'corridor-control %s exits 0 on SIGTERM' % name, 'exit %s' % code)
        _current.section = None
        ok = True
    except Interrupted as e:
        print('interrupted (%s): cleaning up' % e, flush=True)
    finally:
        teardown()
        failed_any = not ok or any(s.failures or s.aborted for s in list(SECTIONS.values()) + [_global_section])
        if failed_any:
            for gw in GATEWAYS:
                print('--- gateway %s log (tail) ---\n%s' % (gw.name, gw.log_tail(30)))
        if KEEP:
            print('kept %s' % wd)
        else:
            shutil.rmtree(wd, ignore_errors=True)

    print('\n=== summary (%.1f s) ===' % (time.monotonic() - started))
    for n in sorted(SECTIONS):
        print(SECTIONS[n].summary())
    print(_global_section.summary())
    failed = [s for s in list(SECTIONS.values()) + [_global_section] if s.failures or s.aborted]
    if not ok or failed or len(SECTIONS) != 10:
        print('FAIL: %d failed checks%s' % (sum(len(s.failures) for s in failed),
                                             ', %d sections aborted' % sum(1 for s in failed if s.aborted)
                                             if any(s.aborted for s in failed) else ''))
        return 1
    print('PASS: %d checks' % sum(s.checks for s in list(SECTIONS.values()) + [_global_section]))
    return 0


if __name__ == '__main__':
    if len(sys.argv) >= 2 and sys.argv[1] == '--load-worker':
        load_worker(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]))
        sys.exit(0)
    sys.exit(main())
