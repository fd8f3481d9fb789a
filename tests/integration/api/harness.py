"""The API test's world: the network namespaces and their veth pair, the two
corridor-control daemons (config, start, readiness, logs, stop), corridorctl
and its tokens, and setup/teardown of the whole."""

import json
import os
import re
import signal
import subprocess
import time

from .client import Client
from .common import (ADDR_A, ADDR_B, CHILD, CHILD2, CONN, CONN2, GATEWAYS, ID_A, ID_A2, ID_B, ID_B2, MAKE_CERT,
                     NET_A, NET_A2, NET_B, NET_B2, NS_A, NS_B, OPENAPI_YAML, PORT_A, PORT_B, PORT_METRICS, PSK,
                     PSK2, Ctx, Failure, record, require, wait_until)


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


def read_text(path):
    """A file's text so far; '' when it does not exist yet."""
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except FileNotFoundError:
        return ''


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
        return read_text(self.log_path)

    def output(self):
        return read_text(self.out_path)

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


def ctl_command(args, ns=NS_A, env=None, url=None, token=None, cacert=None):
    """corridorctl in a namespace: its command line and environment."""
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
    return cmd, full_env


def ctl(args, timeout=30, **kw):
    """corridorctl in a namespace; (rc, stdout, stderr)."""
    cmd, env = ctl_command(args, **kw)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout, env=env,
                       stdin=subprocess.DEVNULL)
    record(r.stdout)
    record(r.stderr)
    return r.returncode, r.stdout, r.stderr


def ctl_start(args, **kw):
    """corridorctl in a namespace, in the background (`events`): the Popen, stdout and stderr piped as text."""
    cmd, env = ctl_command(args, **kw)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            stdin=subprocess.DEVNULL)


def ctl_finish(proc, timeout):
    """The (rc, stdout, stderr) of a corridorctl of ctl_start once it exits; killed after timeout s (rc None)."""
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        rc = None
    record(out)
    record(err)
    return rc, out, err


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
