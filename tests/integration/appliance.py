"""One Corridor appliance in a network namespace, as the integration tests run it.

corridor-dataplane owns the namespace's `lan` and `wan` veths through
net_af_packet and hands traffic for the gateway itself to the kernel through
its exception TAP (corridor0), where corridor-control negotiates IKE with
ordinary UDP sockets and pushes the Child SAs through the SA channel. The
REST API and the metrics listen on the namespace's loopback. Used by
ike_tunnel.py, faults.py and many_tunnels.py.
"""

import json
import os
import signal
import subprocess
import time

import report
import strongswan as sw

TAP = 'corridor0'


class Appliance:
    """corridor-dataplane (LAN and WAN on net_af_packet, exception TAP) and corridor-control in one namespace."""

    def __init__(self, topo, build, ns, name, wd, lan, wan, wan_prefix, gateway, connections, psks,
                 lan_routes=(), ike_version='2', settings=None, keys=(), ipv6=None):
        """`connections`: sw.Connection objects; `psks`: sw.Psk objects; `keys`: (type, PEM file)
        of private keys for certificate authentication; `lan_routes`: (prefix,
        next hop) of subnets behind a router on the LAN; `settings`: top-level config sections
        to add or replace (e.g. {'ike': {...}}); `ipv6`: {'lan': CIDR, 'wan': CIDR, 'gateway': the
        WAN next hop, 'neighbors': [(IPv6 address, MAC)]} for a dual-stack gateway (the dataplane
        does no IPv6 neighbor discovery yet: its IPv6 next hops are static)."""
        self.ike_version = ike_version
        self.topo, self.ns, self.name, self.wd = topo, ns, name, wd
        self.prefix = 'corridor-ike-%d-%s' % (os.getpid(), name)  # EAL file prefix and SA channel name
        self.stats_path = os.path.join(wd, '%s-dataplane.json' % name)
        self.status_path = os.path.join(wd, '%s-control.json' % name)
        self.dp_log = os.path.join(wd, '%s-dataplane.log' % name)
        self.cp_log = os.path.join(wd, '%s-control.log' % name)
        self.status_sequence = 0
        self.tokens_path = os.path.join(wd, '%s-tokens.json' % name)
        self.ctl = os.path.join(os.path.abspath(build), 'tools', 'corridorctl', 'corridorctl')
        self.token, self.admin_token = (
            subprocess.run([self.ctl, 'token', 'create', '--scope', scope, '--tokens', self.tokens_path],
                           check=True, capture_output=True, text=True).stdout.split()[0] for scope in ('read', 'admin'))
        for dev in ('lan', 'wan'):
            # The dataplane owns these; the namespace's kernel holds the
            # gateway's addresses on the TAP only and must not answer on
            # them itself (docs/dataplane.md, the exception path).
            topo.sysctl(ns, {'net.ipv6.conf.%s.disable_ipv6' % dev: 1, 'net.ipv4.conf.%s.rp_filter' % dev: 1,
                             'net.ipv4.conf.%s.arp_ignore' % dev: 8})
        config = {
            'connections': {c.name: c.corridor() for c in connections},
            'secrets': sw.corridor_secrets(psks, keys),
            'dataplane': {
                'ports': [
                    {'name': 'net_af_packet0', 'devargs': 'iface=lan', 'role': 'protected',
                     'address': [lan + '/24'] + ([ipv6['lan']] if ipv6 else [])},
                    {'name': 'net_af_packet1', 'devargs': 'iface=wan', 'role': 'unprotected',
                     'address': [wan + '/' + wan_prefix] + ([ipv6['wan']] if ipv6 else [])},
                ],
                'routes': [{'prefix': '0.0.0.0/0', 'via': gateway, 'port': 'net_af_packet1'}] +
                          ([{'prefix': '::/0', 'via': ipv6['gateway'], 'port': 'net_af_packet1'}] if ipv6 else []) +
                          [{'prefix': p, 'via': via, 'port': 'net_af_packet0'} for p, via in lan_routes],
                'neighbors': [{'ip': ip, 'mac': mac} for ip, mac in (ipv6 or {}).get('neighbors', [])],
                'exception_interface': TAP,
                'poll_mode': 'adaptive',
            },
            'sa_channel': {'name': '/' + self.prefix, 'command_slots': 4096, 'event_slots': 4096},
            # The API on the namespace's loopback, plain HTTP (loopback only):
            # the dataplane's ports and workers are read through it below.
            'api': {'listen': '127.0.0.1:8443', 'allow_plain_http': True, 'tokens': self.tokens_path,
                    'metrics_listen': '127.0.0.1:9464'},
            'logging': {'level': 'debug'},
        }
        config.update(settings or {})
        self.config = config
        self.config_path = os.path.join(wd, '%s.json' % name)
        with open(self.config_path, 'w') as f:
            json.dump(config, f, indent=2)
        bindir = os.path.abspath(build)
        self.dp_cmd = [os.path.join(bindir, 'dataplane', 'corridor-dataplane'), '--no-huge', '-m', '256', '--no-pci',
                       '--file-prefix', self.prefix, '--log-level', 'error', '--', '--config', self.config_path,
                       '--stats', self.stats_path]
        if report.demo:
            print('   $ ip netns exec %s %s' % (ns, ' '.join(self.dp_cmd)), flush=True)
        self.start_dataplane()
        # The TAP is up with the gateway's addresses: corridor-control can bind and route.
        self.cp_cmd = [os.path.join(bindir, 'control', 'corridor-control'), '--config', self.config_path,
                       '--status', self.status_path]
        if report.demo:
            print('   $ ip netns exec %s %s' % (ns, ' '.join(self.cp_cmd)), flush=True)
        self.start_control()

    def start_control(self):
        started = open(self.cp_log).read().count('IKE listening') if os.path.exists(self.cp_log) else 0
        # A predecessor's status file would pass for this one's (its sequence runs higher).
        if os.path.exists(self.status_path):
            os.unlink(self.status_path)
        self.status_sequence = 0
        self.control = self.topo.popen(self.ns, self.cp_cmd, stdout=open(self.cp_log, 'a'), stderr=subprocess.STDOUT)
        # Ready (sockets bound, signal handlers in place) once it says it listens.
        self.wait_for(lambda: open(self.cp_log).read().count('IKE listening') > started, 'IKE sockets', 15)

    def reboot(self, connections):
        """A power cut (power_off()), then started again with `connections`."""
        self.power_off()
        self.power_on(connections)

    def power_off(self):
        """Both processes killed (SIGKILL) and everything they kept in memory and /dev/shm lost."""
        for proc in (self.control, self.dataplane):
            proc.kill()
            proc.wait()
        self.control = self.dataplane = None  # wait_for() and stop() watch what runs
        subprocess.run(['rm', '-rf', '/dev/shm/' + self.prefix, '/var/run/dpdk/' + self.prefix])

    def power_on(self, connections):
        self.config['connections'] = {c.name: c.corridor() for c in connections}
        with open(self.config_path, 'w') as f:
            json.dump(self.config, f, indent=2)
        self.start_dataplane()
        self.start_control()

    def start_dataplane(self):
        if os.path.exists(self.stats_path):
            os.unlink(self.stats_path)
        self.dataplane = self.topo.popen(self.ns, self.dp_cmd, stdout=open(self.dp_log, 'a'), stderr=subprocess.STDOUT)
        self.wait_for(lambda: os.path.exists(self.stats_path), 'dataplane up', 60)

    def kill_dataplane(self):
        """SIGKILL: no clean exit, the SA channel segment and the EAL files stay behind."""
        self.dataplane.kill()
        self.dataplane.wait()

    def wait_for(self, cond, what, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return
            for proc in (getattr(self, 'dataplane', None), getattr(self, 'control', None)):
                if proc is not None and proc.poll() is not None:
                    raise sw.HarnessError('%s: a process exited (%s) waiting for %s' % (self.name, proc.returncode, what))
            time.sleep(0.1)
        raise sw.HarnessError('%s: no %s within %d s' % (self.name, what, timeout))

    def status(self):
        self.control.send_signal(signal.SIGUSR1)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                with open(self.status_path) as f:
                    s = json.load(f)
                if s['sequence'] > self.status_sequence:
                    self.status_sequence = s['sequence']
                    return s
            except (FileNotFoundError, json.JSONDecodeError, KeyError):
                pass
            time.sleep(0.05)
        raise sw.HarnessError('%s: corridor-control wrote no status' % self.name)

    def stats(self):
        before = os.stat(self.stats_path).st_mtime_ns
        self.dataplane.send_signal(signal.SIGUSR1)
        deadline = time.time() + 5
        while time.time() < deadline and os.stat(self.stats_path).st_mtime_ns == before:
            time.sleep(0.05)
        with open(self.stats_path) as f:
            return json.load(f)

    def api(self, path):
        """GET /api/v1<path> from inside the namespace: the decoded JSON."""
        status, body = self.api_request('GET', path)
        if status != 200:
            raise sw.HarnessError('%s: GET %s: %d %s' % (self.name, path, status, body[-500:]))
        return json.loads(body)

    def api_request(self, method, path, body=None, token='read', content_type='application/json'):
        """Any request to /api/v1<path> from inside the namespace: (status, body text). `token` is
        'read', 'admin', None (no Authorization header) or a literal token."""
        bearer = {'read': self.token, 'admin': self.admin_token}.get(token, token)
        # http.client rather than urllib: a server that refuses a body too
        # large answers and closes before the body is through, and the
        # answer must still be read.
        code = ('import http.client, sys\n'
                'method, path, bearer, ctype = sys.argv[1:5]\n'
                'data = sys.stdin.buffer.read() if method in ("PUT", "POST", "PATCH") else None\n'
                'headers = {"Content-Type": ctype}\n'
                'if bearer: headers["Authorization"] = "Bearer " + bearer\n'
                'c = http.client.HTTPConnection("127.0.0.1", 8443, timeout=5)\n'
                'try: c.request(method, "/api/v1" + path, body=data, headers=headers)\n'
                'except (BrokenPipeError, ConnectionResetError): pass\n'
                'r = c.getresponse()\n'
                'print(r.status); sys.stdout.write(r.read().decode(errors="replace"))')
        data = body if isinstance(body, bytes) else (body or '').encode()
        r = subprocess.run(['ip', 'netns', 'exec', self.ns, '/usr/bin/python3', '-c', code, method, path,
                            bearer or '', content_type], input=data, capture_output=True, timeout=15)
        if r.returncode != 0:
            raise sw.HarnessError('%s: %s %s failed: %s' % (self.name, method, path, r.stderr[-500:]))
        status, _, text = r.stdout.decode(errors='replace').partition('\n')
        return int(status), text

    def metrics(self):
        code = 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9464/metrics", timeout=5).read().decode())'
        return subprocess.run(['ip', 'netns', 'exec', self.ns, '/usr/bin/python3', '-c', code], capture_output=True,
                              text=True, timeout=15, check=True).stdout

    def ike_sas(self):
        """The IKE SAs (IKEv2) or ISAKMP SAs (IKEv1) of the status file."""
        return self.status()['ikev1_sas' if self.ike_version == '1' else 'ike_sas']

    def established(self):
        """The established IKE SA with a Child SA; for IKEv1 the current ISAKMP SA (not one a
        re-establishment superseded) with an IPsec SA in QM_DONE."""
        if self.ike_version == '1':
            sas = [s for s in self.ike_sas() if s['state'] in ('MM_DONE', 'AM_DONE') and not s['superseded'] and
                   any(c['state'] == 'QM_DONE' for c in s['children'])]
        else:
            sas = [s for s in self.ike_sas() if s['state'] == 'ESTABLISHED' and s['children']]
        return sas[0] if sas else None

    def stop(self):
        codes = []
        for proc in (self.control, self.dataplane):  # control first: it deletes its SAs cleanly
            if proc is None:  # killed by a fault test and not started again (it failed)
                continue
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            codes.append(proc.returncode)
        subprocess.run(['rm', '-rf', '/dev/shm/' + self.prefix, '/var/run/dpdk/' + self.prefix])
        return codes

    def log_tail(self, n=30):
        out = []
        for path in (self.cp_log, self.dp_log):
            with open(path) as f:
                out.append('--- %s ---\n%s' % (os.path.basename(path), ''.join(f.readlines()[-n:])))
        return '\n'.join(out)
