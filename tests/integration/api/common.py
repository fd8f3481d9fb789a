"""What every part of the API test shares: the test network's names and
addresses, the per-run PSKs, the shared state (Ctx, GATEWAYS), the check and
section bookkeeping, and the record of everything a client received."""

import http.client
import os
import random
import string
import sys
import threading
import time
import traceback


HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/integration
ENTRY = os.path.join(HERE, 'api_test.py')  # the script, also the load worker (--load-worker)
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


class Failure(Exception):
    """A precondition of a section did not hold: the section stops there."""


# ----------------------------------------------------------------------------
# what the sections share

GATEWAYS = []  # harness.Gateway: A, then B


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
GLOBAL_SECTION = Section(0, 'setup and whole-run checks')


def section():
    return getattr(_current, 'section', None) or GLOBAL_SECTION


def use_section(s):
    """Checks of this thread go to section s (None: the whole-run section)."""
    _current.section = s


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
