#!/usr/bin/python3
"""strongSwan 5.9.8 as a real IKE peer in network namespaces: the interop harness.

    import sys; sys.path.insert(0, 'tests/interop/strongswan')
    import strongswan as sw

    wd = sw.workdir()                                    # the caller removes it
    with sw.Topology() as topo:                          # namespaces cor-sw-<pid>-*
        net = topo.two_peers(nat=False)                  # 'left' and 'right', see two_peers()
        conn = sw.Connection('gw', [net.right_addr], ['%any'],
                             [sw.Child('net', [net.right_subnet], [net.left_subnet])],
                             local=sw.Auth('psk', 'right'), remote=sw.Auth('psk', 'left'))
        with sw.Charon(net.ns_right, wd + '/peer', [conn], [sw.Psk('secret', ['left', 'right'])]) as peer:
            peer.start()
            ... corridor-control --config X in net.ns_left initiates ...
            sa = peer.wait_sa('gw', timeout=10)          # ESTABLISHED, children INSTALLED

Three parts, standard library only (Debian's /usr/bin/python3):

- Vici: a client of charon's control protocol (the vici plugin) on its UNIX
  socket: requests, streamed events (list-sas), control-log lines.
- Charon: one charon per namespace with a private strongswan.conf (explicit
  plugin list, kernel-libipsec before kernel-netlink: ESP in userspace through
  the TUN device ipsec0, as PEERS.md explains), a swanctl.conf written from
  Connection/Child/Auth/Psk objects, optional certificates; start, initiate,
  terminate, list_sas (parsed), counters, the log, stop.
- Topology: namespaces, veth links, dummy interfaces with IPv4/IPv6
  addresses (IPv6 without DAD), an optional NAT namespace (nftables
  masquerade with port remapping), teardown that also ends any process
  left in them.

make_pki() generates a CA and host certificates (RSA 3072 or ECDSA P-256)
with strongSwan's `pki`, for both strongSwan (swanctl's x509ca/, x509/,
private/) and the Corridor side (PEM paths). See README.md in this folder.
"""

import ipaddress
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

CHARON = '/usr/lib/ipsec/charon'
SWANCTL = '/usr/sbin/swanctl'
PKI = '/usr/bin/pki'

# PEERS.md: kernel-libipsec must come before kernel-netlink (the first kernel
# IPsec backend registered is the one used; the kernel's own cannot do ESP here).
CHARON_PLUGINS = ('random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints pubkey gmp curve25519 '
                  'aes sha1 sha2 hmac gcm kdf xauth-generic kernel-libipsec kernel-netlink socket-default '
                  'vici counters')
# What swanctl needs to parse certificates and keys on the host side before
# handing them to charon (without a list it would load its built-in one,
# pkcs11, ldap, curl and all).
SWANCTL_PLUGINS = 'random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints pubkey gmp curve25519 sha1 sha2'

DEFAULT_LOG_LEVELS = {'default': 1, 'ike': 2, 'cfg': 2, 'net': 1, 'enc': 1, 'knl': 1}


class HarnessError(Exception):
    pass


# --------------------------------------------------------------------------
# vici: the control protocol of charon's vici plugin
# (src/libcharon/plugins/vici/README.md in strongSwan).
# A packet is a 32-bit big-endian length, then one type byte, then for the
# named types a length-prefixed name, then the message: a sequence of
# elements, each a type byte and its fields.

CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN = 0, 1, 2
EVENT_REGISTER, EVENT_UNREGISTER, EVENT_CONFIRM, EVENT_UNKNOWN, EVENT = 3, 4, 5, 6, 7
SECTION_START, SECTION_END, KEY_VALUE, LIST_START, LIST_ITEM, LIST_END = 1, 2, 3, 4, 5, 6


def _bytes(value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, bool):
        return b'yes' if value else b'no'
    return str(value).encode()


def vici_encode(message):
    """A dict (values: str/int/bool/bytes, list of those, or dict) as a vici message."""
    out = bytearray()
    for key, value in message.items():
        name = key.encode()
        if isinstance(value, dict):
            out += bytes([SECTION_START, len(name)]) + name + vici_encode(value) + bytes([SECTION_END])
        elif isinstance(value, (list, tuple)):
            out += bytes([LIST_START, len(name)]) + name
            for item in value:
                item = _bytes(item)
                out += bytes([LIST_ITEM]) + struct.pack('!H', len(item)) + item
            out += bytes([LIST_END])
        else:
            value = _bytes(value)
            out += bytes([KEY_VALUE, len(name)]) + name + struct.pack('!H', len(value)) + value
    return bytes(out)


def vici_decode(data):
    """A vici message as nested dicts; values as str (latin-1 for binary), lists as lists."""
    root = {}
    stack = [root]
    at = 0
    current_list = None
    while at < len(data):
        kind = data[at]
        at += 1
        if kind in (SECTION_START, KEY_VALUE, LIST_START):
            n = data[at]
            name = data[at + 1:at + 1 + n].decode('latin-1')
            at += 1 + n
        if kind == SECTION_START:
            section = {}
            stack[-1][name] = section
            stack.append(section)
        elif kind == SECTION_END:
            if len(stack) == 1:
                raise HarnessError('vici: unbalanced section end')
            stack.pop()
        elif kind == KEY_VALUE:
            n = struct.unpack('!H', data[at:at + 2])[0]
            stack[-1][name] = data[at + 2:at + 2 + n].decode('latin-1')
            at += 2 + n
        elif kind == LIST_START:
            current_list = []
            stack[-1][name] = current_list
        elif kind == LIST_ITEM:
            n = struct.unpack('!H', data[at:at + 2])[0]
            current_list.append(data[at + 2:at + 2 + n].decode('latin-1'))
            at += 2 + n
        elif kind == LIST_END:
            current_list = None
        else:
            raise HarnessError('vici: unknown element type %d' % kind)
    return root


class Vici:
    """One connection to charon's vici socket. Not thread-safe; one request at a time."""

    def __init__(self, path, timeout=30):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _send(self, kind, name=None, message=None):
        body = bytes([kind])
        if name is not None:
            body += bytes([len(name)]) + name.encode()
        if message:
            body += vici_encode(message)
        self.sock.sendall(struct.pack('!I', len(body)) + body)

    def _recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise HarnessError('vici: connection closed by charon')
            buf += chunk
        return bytes(buf)

    def _recv(self):
        """(type, name or None, message dict)"""
        n = struct.unpack('!I', self._recv_exact(4))[0]
        body = self._recv_exact(n)
        kind = body[0]
        name, at = None, 1
        if kind in (CMD_REQUEST, EVENT_REGISTER, EVENT_UNREGISTER, EVENT):
            ln = body[1]
            name = body[2:2 + ln].decode()
            at = 2 + ln
        return kind, name, vici_decode(body[at:])

    def _event_control(self, kind, event):
        self._send(kind, event)
        while True:
            got, _, _ = self._recv()
            if got == EVENT_CONFIRM:
                return
            if got == EVENT_UNKNOWN:
                raise HarnessError('vici: unknown event %r' % event)
            # an event of a still-registered stream: skip

    def request(self, command, message=None, events=(), on_event=None, timeout=None):
        """Sends a command; returns its response dict. Events of the names in
        `events` that arrive meanwhile go to on_event(name, message)."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        for e in events:
            self._event_control(EVENT_REGISTER, e)
        try:
            self._send(CMD_REQUEST, command, message)
            while True:
                kind, name, msg = self._recv()
                if kind == CMD_RESPONSE:
                    return msg
                if kind == CMD_UNKNOWN:
                    raise HarnessError('vici: unknown command %r' % command)
                if kind == EVENT and on_event:
                    on_event(name, msg)
        finally:
            for e in events:
                self._event_control(EVENT_UNREGISTER, e)

    def streamed(self, command, event, message=None, timeout=None):
        """A command that answers with a stream of events (list-sas, list-conns ...): the events' messages."""
        got = []
        self.request(command, message, events=(event,), on_event=lambda n, m: got.append(m), timeout=timeout)
        return got


# --------------------------------------------------------------------------
# The configuration model: what goes into swanctl.conf.

@dataclass
class Auth:
    """One local or remote authentication round."""
    method: str = 'psk'            # 'psk' | 'pubkey' (any swanctl auth value)
    id: str = None                 # IKE identity (an address, FQDN, email or DN)
    certs: list = field(default_factory=list)     # local: certificate file names in x509/
    cacerts: list = field(default_factory=list)   # remote: CA file names in x509ca/ to pin
    extra: dict = field(default_factory=dict)     # any other swanctl key of the auth section

    def render(self):
        d = {'auth': self.method}
        if self.id is not None:
            d['id'] = self.id
        if self.certs:
            d['certs'] = ','.join(self.certs)
        if self.cacerts:
            d['cacerts'] = ','.join(self.cacerts)
        d.update(self.extra)
        return d


@dataclass
class Child:
    name: str
    local_ts: list
    remote_ts: list
    esp_proposals: list = field(default_factory=lambda: ['aes256gcm16'])
    mode: str = 'tunnel'
    start_action: str = 'none'     # none | trap | start
    rekey_time: str = None         # e.g. '1h', '0' (no rekeying)
    life_time: str = None
    dpd_action: str = None
    close_action: str = None
    extra: dict = field(default_factory=dict)

    def render(self):
        d = {'local_ts': ','.join(self.local_ts), 'remote_ts': ','.join(self.remote_ts),
             'esp_proposals': ','.join(self.esp_proposals), 'mode': self.mode, 'start_action': self.start_action}
        if not self.esp_proposals:  # an AH child (ah_proposals in extra)
            del d['esp_proposals']
        for k in ('rekey_time', 'life_time', 'dpd_action', 'close_action'):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        d.update(self.extra)
        return d


@dataclass
class Connection:
    name: str
    local_addrs: list
    remote_addrs: list
    children: list
    version: int = 2               # 1 | 2 (0: any)
    proposals: list = field(default_factory=lambda: ['aes256gcm16-prfsha384-ecp384'])
    local: Auth = field(default_factory=Auth)
    remote: Auth = field(default_factory=Auth)
    dpd_delay: str = None          # e.g. '5s'
    rekey_time: str = None         # IKE SA rekeying; '0' disables
    reauth_time: str = None
    encap: bool = None             # force UDP encapsulation (libipsec forces it anyway)
    aggressive: bool = None        # IKEv1 Aggressive Mode
    fragmentation: str = None      # yes | accept | force | no
    mobike: bool = None
    local_port: int = None
    remote_port: int = None
    extra: dict = field(default_factory=dict)

    def render(self):
        d = {'version': self.version, 'local_addrs': ','.join(self.local_addrs),
             'remote_addrs': ','.join(self.remote_addrs), 'proposals': ','.join(self.proposals)}
        for k in ('dpd_delay', 'rekey_time', 'reauth_time', 'encap', 'aggressive', 'fragmentation', 'mobike',
                  'local_port', 'remote_port'):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        d.update(self.extra)
        d['local'] = self.local.render()
        d['remote'] = self.remote.render()
        d['children'] = {c.name: c.render() for c in self.children}
        return d

    def corridor(self):
        """The same connection in Corridor's JSON config shape (docs/configuration.md):
        lists instead of comma-separated strings, the same keys and proposal strings.
        Certificate paths must then be absolute (swanctl accepts absolute paths too). Adds
        allow_aggressive_psk where Corridor requires it; drops mobike (not a Corridor key)."""
        def listify(d):
            out = {}
            for k, v in d.items():
                if k in ('local_addrs', 'remote_addrs', 'proposals', 'esp_proposals', 'local_ts', 'remote_ts',
                         'certs', 'cacerts') and isinstance(v, str):
                    v = v.split(',')
                elif isinstance(v, dict):
                    v = listify(v)
                out[k] = v
            return out
        d = listify(self.render())
        d.pop('mobike', None)
        if self.aggressive and 'psk' in (self.local.method, self.remote.method):
            d['allow_aggressive_psk'] = True
        return d

    def mirror(self, local_addrs, remote_addrs, local=None, remote=None, name=None):
        """The other end of this connection: addresses as given, traffic selectors swapped,
        local and remote auth swapped unless given (for pubkey, pass both: the local side
        needs certs, the remote side cacerts)."""
        import copy
        other = copy.deepcopy(self)
        other.name = name or self.name
        other.local_addrs, other.remote_addrs = list(local_addrs), list(remote_addrs)
        other.local = local or copy.deepcopy(self.remote)
        other.remote = remote or copy.deepcopy(self.local)
        for c in other.children:
            c.local_ts, c.remote_ts = c.remote_ts, c.local_ts
        return other


@dataclass
class Psk:
    secret: str
    ids: list = field(default_factory=list)  # the identities it is for (empty: any)


def corridor_secrets(psks=(), keys=()):
    """Corridor's "secrets" section: psks [Psk] as ike-N {id: [...], secret}, keys
    [(type, path)] with type 'rsa'|'ecdsa'|'private' as <type>-N {file: path}."""
    out = {}
    for i, p in enumerate(psks, 1):
        out['ike-%d' % i] = dict({'secret': p.secret}, **({'id': list(p.ids)} if p.ids else {}))
    for i, (kind, path) in enumerate(keys, 1):
        out['%s-%d' % (kind, i)] = {'file': path}
    return out


def render_conf(tree, indent=0):
    """Nested dicts in strongSwan's settings syntax (strongswan.conf, swanctl.conf)."""
    pad = '    ' * indent
    lines = []
    for key, value in tree.items():
        if isinstance(value, dict):
            lines.append('%s%s {' % (pad, key))
            lines.append(render_conf(value, indent + 1))
            lines.append('%s}' % pad)
        else:
            if isinstance(value, bool):
                value = 'yes' if value else 'no'
            elif isinstance(value, (list, tuple)):
                value = ','.join(str(v) for v in value)
            value = str(value)
            if value == '' or re.search(r'[\s{}#"=]', value) and not value.startswith('"'):
                value = '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"')
            lines.append('%s%s = %s' % (pad, key, value))
    return '\n'.join(l for l in lines if l)


# --------------------------------------------------------------------------
# Certificates

@dataclass
class HostCert:
    name: str
    id: str            # the identity to configure (its SAN)
    cert: str          # PEM certificate
    key: str           # PEM private key, as pki wrote it (PKCS#1 RSA / SEC1 EC)
    key_pkcs8: str     # the same key as unencrypted PKCS#8 PEM (None without the openssl tool)


@dataclass
class Pki:
    dir: str
    key_type: str      # 'rsa' | 'ecdsa'
    ca_cert: str
    ca_key: str
    hosts: dict        # name -> HostCert


def _run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if r.returncode != 0:
        raise HarnessError('%s failed (%d): %s' % (' '.join(cmd), r.returncode,
                                                   (r.stderr or b'').decode(errors='replace').strip()))
    return r.stdout


def make_pki(directory, hosts, key_type='ecdsa', ca_dn='C=CH, O=Corridor, CN=Corridor Test CA'):
    """A CA and one certificate per host, with `pki`.

    hosts: {name: identity}, e.g. {'left': 'left.corridor.test', 'right': '192.0.2.2'}. The identity
    becomes the certificate's subjectAltName (an address or a DNS name) and its CN.
    key_type 'rsa' is RSA 3072 (IKE_AUTH then gets fragmented, RFC 7383), 'ecdsa' is P-256."""
    os.makedirs(directory, exist_ok=True)
    gen = {'rsa': ['--type', 'rsa', '--size', '3072'], 'ecdsa': ['--type', 'ecdsa', '--size', '256']}[key_type]
    pem = ['--outform', 'pem']

    def write(path, data):
        with open(path, 'wb') as f:
            f.write(data)
        return path

    ca_key = write(os.path.join(directory, 'ca-key.pem'), _run([PKI, '--gen'] + gen + pem))
    ca_cert = write(os.path.join(directory, 'ca-cert.pem'),
                    _run([PKI, '--self', '--ca', '--lifetime', '3650', '--in', ca_key, '--type', 'priv',
                          '--dn', ca_dn] + pem))
    openssl = shutil.which('openssl')
    out = {}
    for name, ident in hosts.items():
        key = write(os.path.join(directory, '%s-key.pem' % name), _run([PKI, '--gen'] + gen + pem))
        pub = _run([PKI, '--pub', '--in', key, '--type', 'priv'])
        cert = write(os.path.join(directory, '%s-cert.pem' % name),
                     _run([PKI, '--issue', '--lifetime', '365', '--cacert', ca_cert, '--cakey', ca_key,
                           '--dn', 'C=CH, O=Corridor, CN=%s' % ident, '--san', ident] + pem, input=pub))
        pkcs8 = None
        if openssl:
            pkcs8 = write(os.path.join(directory, '%s-key.pkcs8.pem' % name),
                          _run([openssl, 'pkcs8', '-topk8', '-nocrypt', '-in', key]))
        out[name] = HostCert(name, ident, cert, key, pkcs8)
    return Pki(directory, key_type, ca_cert, ca_key, out)


def sign_crl(pki, path, revoked=()):
    """A CRL of the PKI's CA, signed by strongSwan's pki (an implementation independent of
    Corridor's), listing the certificates of hosts `revoked` (key compromise); written as PEM to
    `path`, which is returned. nextUpdate in 7 days."""
    cmd = [PKI, '--signcrl', '--cacert', pki.ca_cert, '--cakey', pki.ca_key, '--lifetime', '7', '--outform', 'pem']
    for name in revoked:
        cmd += ['--reason', 'key-compromise', '--cert', pki.hosts[name].cert]
    data = _run(cmd)
    tmp = path + '.new'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)  # a reader sees the old CRL or the new one, never half
    return path


# --------------------------------------------------------------------------
# charon

_INT_KEYS = {'uniqueid', 'local-port', 'remote-port', 'encr-keysize', 'integ-keysize', 'established',
             'rekey-time', 'reauth-time', 'reqid', 'bytes-in', 'packets-in', 'use-in', 'bytes-out',
             'packets-out', 'use-out', 'life-time', 'install-time', 'if-id-in', 'if-id-out', 'mark-in',
             'mark-out', 'cpi-in', 'cpi-out'}
_IKE_FLAGS = ('initiator', 'nat-local', 'nat-remote', 'nat-fake', 'nat-any')
_CHILD_FLAGS = ('encap',)


def _normalize_child(name, c):
    c = dict(c)
    c.setdefault('name', name)
    for k, v in list(c.items()):
        if k in _INT_KEYS and isinstance(v, str) and re.fullmatch(r'-?\d+', v):
            c[k] = int(v)
    for k in _CHILD_FLAGS:
        c[k] = c.get(k) == 'yes'
    return c


def _normalize_ike(name, ike):
    """A vici list-sa entry, with ints for the counters/ports/times, bools for the flags,
    and child-sas as a list of dicts (each with its 'name'; vici keys them 'name-uniqueid')."""
    d = {}
    for k, v in ike.items():
        if k == 'child-sas':
            continue
        d[k] = int(v) if k in _INT_KEYS and isinstance(v, str) and re.fullmatch(r'-?\d+', v) else v
    d['name'] = name
    d['version'] = int(ike.get('version', 0))
    for k in _IKE_FLAGS:
        d[k] = ike.get(k) == 'yes'
    d['child-sas'] = [_normalize_child(c.get('name', key), c) for key, c in ike.get('child-sas', {}).items()]
    d['tasks'] = {k: ike[k] for k in ('tasks-queued', 'tasks-active', 'tasks-passive') if k in ike}
    return d


class Charon:
    """One strongSwan charon in a network namespace, configured from Python objects.

    Everything lives in `workdir` (which the caller owns and removes): strongswan.conf,
    swanctl/ (swanctl.conf, x509ca/, x509/, private/), run/ (bound over /run in charon's
    mount namespace: charon.pid), charon.vici (the control socket), charon.log."""

    def __init__(self, ns, workdir, connections=(), psks=(), pki=None, host=None, log_levels=None,
                 aggressive_psk=False, charon_settings=None, name='charon'):
        """ns: the namespace to run in; connections: [Connection]; psks: [Psk];
        pki: a Pki from make_pki, and host the name of the host certificate this peer uses
        (installed as x509/<host>.pem and private/<host>.pem; the CA as x509ca/ca.pem);
        log_levels: filelog levels by subsystem, e.g. {'ike': 2, 'cfg': 2, 'net': 1, 'enc': 1};
        aggressive_psk: allow IKEv1 Aggressive Mode with PSK as responder;
        charon_settings: extra keys merged into the charon { } section (nested dicts allowed)."""
        self.ns = ns
        self.name = name
        self.workdir = os.path.abspath(workdir)
        self.connections = list(connections)
        self.psks = list(psks)
        self.pki = pki
        self.host = host
        self.log_levels = dict(DEFAULT_LOG_LEVELS, **(log_levels or {}))
        self.aggressive_psk = aggressive_psk
        self.charon_settings = charon_settings or {}
        self.conf_path = os.path.join(self.workdir, 'strongswan.conf')
        self.swanctl_dir = os.path.join(self.workdir, 'swanctl')
        self.run_dir = os.path.join(self.workdir, 'run')
        self.socket_path = os.path.join(self.workdir, 'charon.vici')
        self.log_path = os.path.join(self.workdir, 'charon.log')
        self.stdout_path = os.path.join(self.workdir, 'charon.stdout')
        if len(self.socket_path.encode()) > 100:  # sun_path holds 108 bytes
            raise HarnessError('workdir %s is too deep for a UNIX socket path; use a shorter one '
                               '(workdir() makes one in /tmp)' % self.workdir)
        self.proc = None
        self._stdout = None
        self.write_config()

    # -- configuration -------------------------------------------------
    def strongswan_conf(self):
        levels = dict(self.log_levels)
        filelog = {'harness': dict({'path': self.log_path, 'time_format': '%H:%M:%S', 'ike_name': True,
                                    'flush_line': True, 'append': False}, **levels)}
        charon = {
            'load_modular': False,
            'load': CHARON_PLUGINS,
            'install_routes': True,
            'install_virtual_ip': False,
            'filelog': filelog,
            'plugins': {'vici': {'socket': 'unix://' + self.socket_path}},
        }
        if self.aggressive_psk:
            charon['i_dont_care_about_security_and_use_aggressive_mode_psk'] = True
        _merge(charon, self.charon_settings)
        return {'charon': charon,
                'swanctl': {'load': SWANCTL_PLUGINS, 'socket': 'unix://' + self.socket_path}}

    def swanctl_conf(self):
        secrets = {}
        for i, p in enumerate(self.psks, 1):
            s = {'secret': p.secret}
            for j, ident in enumerate(p.ids, 1):
                s['id-%d' % j] = ident
            secrets['ike-%d' % i] = s
        return {'connections': {c.name: c.render() for c in self.connections}, 'secrets': secrets}

    def write_config(self):
        """(Re)writes strongswan.conf and swanctl/; call load() afterwards if charon runs."""
        for d in (self.workdir, self.run_dir, self.swanctl_dir):
            os.makedirs(d, exist_ok=True)
        for sub in ('x509ca', 'x509', 'private'):
            os.makedirs(os.path.join(self.swanctl_dir, sub), exist_ok=True)
        with open(self.conf_path, 'w') as f:
            f.write('# written by tests/interop/strongswan/strongswan.py (no /etc/strongswan.d include)\n')
            f.write(render_conf(self.strongswan_conf()) + '\n')
        with open(os.path.join(self.swanctl_dir, 'swanctl.conf'), 'w') as f:
            f.write(render_conf(self.swanctl_conf()) + '\n')
        if self.pki:
            shutil.copy(self.pki.ca_cert, os.path.join(self.swanctl_dir, 'x509ca', 'ca.pem'))
            if self.host:
                h = self.pki.hosts[self.host]
                shutil.copy(h.cert, os.path.join(self.swanctl_dir, 'x509', '%s.pem' % self.host))
                shutil.copy(h.key, os.path.join(self.swanctl_dir, 'private', '%s.pem' % self.host))

    def env(self):
        return dict(os.environ, STRONGSWAN_CONF=self.conf_path, SWANCTL_DIR=self.swanctl_dir)

    # -- lifecycle -------------------------------------------------------
    def start(self, timeout=10, load=True):
        """Starts charon in the namespace, waits for its vici socket, loads the config."""
        if self.running():
            raise HarnessError('%s already started' % self.name)
        for stale in (self.socket_path, os.path.join(self.run_dir, 'charon.pid')):
            if os.path.exists(stale):
                os.unlink(stale)
        self._stdout = open(self.stdout_path, 'w')
        # `ip netns exec` gives the process its own mount namespace: the bind
        # mount of the private run dir (charon writes /run/charon.pid
        # whatever the config says) stays invisible to everyone else.
        cmd = ['ip', 'netns', 'exec', self.ns, 'sh', '-c', 'mount --bind "$0" /run && exec "$1"', self.run_dir, CHARON]
        self.proc = subprocess.Popen(cmd, env=self.env(), stdout=self._stdout, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise HarnessError('%s exited with %s at start:\n%s' % (self.name, self.proc.returncode,
                                                                        self.diagnostics()))
            if os.path.exists(self.socket_path):
                try:
                    with Vici(self.socket_path, timeout=2) as v:
                        v.request('version')
                    break
                except (OSError, HarnessError):
                    pass
            if time.monotonic() > deadline:
                raise HarnessError('%s: no vici socket after %ss:\n%s' % (self.name, timeout, self.diagnostics()))
            time.sleep(0.05)
        if load:
            self.load()
        return self

    def load(self):
        """`swanctl --load-all` from the host (SWANCTL_DIR, STRONGSWAN_CONF); returns its output."""
        r = subprocess.run([SWANCTL, '--load-all', '--noprompt'], env=self.env(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        if r.returncode != 0:
            raise HarnessError('%s: swanctl --load-all failed (%d):\n%s' % (self.name, r.returncode, r.stdout))
        return r.stdout

    def swanctl(self, *args, check=True, timeout=30):
        """Any swanctl command against this charon; returns its output."""
        r = subprocess.run([SWANCTL] + list(args), env=self.env(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise HarnessError('%s: swanctl %s failed (%d):\n%s' % (self.name, ' '.join(args), r.returncode, r.stdout))
        return r.stdout

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def crash(self):
        """SIGKILL: charon vanishes without deleting its SAs (a peer that died or lost
        power); start() brings up a fresh one with no SAs."""
        if self.running():
            self.proc.kill()
            self.proc.wait()
        if self._stdout:
            self._stdout.close()
            self._stdout = None

    def stop(self, timeout=5):
        """SIGTERM, then SIGKILL after `timeout` seconds. Returns charon's exit status (None if never started)."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._stdout:
            self._stdout.close()
            self._stdout = None
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- control ---------------------------------------------------------
    def vici(self, timeout=30):
        """A new Vici connection (close it, or use it in a with block)."""
        return Vici(self.socket_path, timeout=timeout)

    def _control(self, command, message, timeout):
        log = []
        with self.vici(timeout=(timeout or 0) + 10) as v:
            r = v.request(command, message, events=('control-log',),
                          on_event=lambda n, m: log.append(m.get('msg', '')))
        return r.get('success') == 'yes', r.get('errmsg'), log

    def initiate(self, child=None, ike=None, timeout=10, check=True):
        """Initiates a CHILD_SA (and its IKE SA), waiting up to `timeout` s (None: do not wait).
        Returns (ok, control-log lines); raises HarnessError on failure if check."""
        if child is None and ike is None:
            raise ValueError('initiate: child or ike')
        msg = {'timeout': -1 if timeout is None else int(timeout * 1000), 'init-limits': True}
        if child:
            msg['child'] = child
        if ike:
            msg['ike'] = ike
        ok, err, log = self._control('initiate', msg, timeout)
        if check and not ok and timeout is not None:
            raise HarnessError('%s: initiate %s failed: %s\n%s' % (self.name, child or ike, err, '\n'.join(log)))
        return ok, log

    def terminate(self, ike=None, child=None, ike_id=None, child_id=None, force=False, timeout=10, check=True):
        """Terminates an IKE SA (by config name or unique id) or a CHILD_SA. Returns (ok, log lines)."""
        msg = {'timeout': -1 if timeout is None else int(timeout * 1000)}
        for k, v in (('ike', ike), ('child', child), ('ike-id', ike_id), ('child-id', child_id)):
            if v is not None:
                msg[k] = v
        if force:
            msg['force'] = True
        ok, err, log = self._control('terminate', msg, timeout)
        if check and not ok and timeout is not None:
            raise HarnessError('%s: terminate failed: %s\n%s' % (self.name, err, '\n'.join(log)))
        return ok, log

    def rekey(self, ike=None, child=None, reauth=False):
        msg = {}
        if ike:
            msg['ike'] = ike
        if child:
            msg['child'] = child
        if reauth:
            msg['reauth'] = True
        with self.vici() as v:
            r = v.request('rekey', msg)
        return r.get('success') == 'yes'

    def list_sas(self, ike=None):
        """The IKE SAs (vici list-sas), each a dict with the vici keys: name, uniqueid, version, state,
        local-host, local-port, local-id, remote-host, remote-port, remote-id, initiator (bool),
        initiator-spi, responder-spi, nat-local, nat-remote, nat-fake, nat-any (bools), encr-alg,
        encr-keysize, integ-alg, prf-alg, dh-group, established, rekey-time, tasks, and child-sas: a
        list of dicts with name, uniqueid, reqid, state, mode, protocol, encap (bool), spi-in, spi-out
        (hex strings as vici gives them), encr-alg, encr-keysize, integ-alg, dh-group, bytes-in/out,
        packets-in/out (ints), local-ts, remote-ts (lists)."""
        # Not noblock: with it, charon skips the IKE SAs a thread holds at that moment,
        # and an established SA can be missing from one listing.
        msg = {}
        if ike:
            msg['ike'] = ike
        with self.vici() as v:
            events = v.streamed('list-sas', 'list-sa', msg)
        out = []
        for e in events:
            for name, sa in e.items():
                out.append(_normalize_ike(name, sa))
        return out

    def list_conns(self):
        with self.vici() as v:
            events = v.streamed('list-conns', 'list-conn')
        conns = {}
        for e in events:
            conns.update(e)
        return conns

    def counters(self, name=None):
        """IKE event counters (the counters plugin): {counter: int}; for a connection name, its own."""
        msg = {'name': name} if name else {}
        with self.vici() as v:
            r = v.request('get-counters', msg)
        if r.get('success') != 'yes':
            raise HarnessError('%s: get-counters: %s' % (self.name, r.get('errmsg')))
        # counters { <name, '' for the global ones> { <counter> = <n> } }
        section = r.get('counters', {}).get(name or '', {})
        return {k: int(v) for k, v in section.items() if isinstance(v, str) and v.isdigit()}

    def stats(self):
        """vici stats: uptime, workers, queues, ikesas {total, half-open}, plugins, ..."""
        with self.vici() as v:
            return v.request('stats')

    def wait_sa(self, ike=None, children=True, timeout=10, state='ESTABLISHED'):
        """Waits until an IKE SA (of config `ike`, or any) is in `state` and, if children, has
        at least one CHILD_SA and all of them INSTALLED. Returns that SA; raises on timeout."""
        deadline = time.monotonic() + timeout
        last = []
        while True:
            last = self.list_sas(ike)
            for sa in last:
                if sa['state'] == state and (not children or (
                        sa['child-sas'] and all(c['state'] == 'INSTALLED' for c in sa['child-sas']))):
                    return sa
            if not self.running():
                raise HarnessError('%s died:\n%s' % (self.name, self.diagnostics()))
            if time.monotonic() > deadline:
                raise HarnessError('%s: no %s SA%s after %ss; have: %s\n%s' % (
                    self.name, state, ' for ' + ike if ike else '', timeout,
                    [(s['name'], s['state'], [c['state'] for c in s['child-sas']]) for s in last],
                    self.log_tail()))
            time.sleep(0.1)

    # -- logs ------------------------------------------------------------
    def log(self):
        """charon's file log so far."""
        try:
            with open(self.log_path, errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def grep_log(self, pattern):
        """The log lines matching a regular expression."""
        rx = re.compile(pattern)
        return [line for line in self.log().splitlines() if rx.search(line)]

    def wait_log(self, pattern, timeout=10):
        """Waits until a log line matches; returns it, raises HarnessError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.grep_log(pattern)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise HarnessError('%s: no log line matching %r after %ss\n%s' % (self.name, pattern, timeout,
                                                                                self.log_tail()))
            time.sleep(0.1)

    def log_tail(self, lines=40):
        return '\n'.join(self.log().splitlines()[-lines:])

    def diagnostics(self):
        out = ''
        try:
            with open(self.stdout_path, errors='replace') as f:
                out = f.read()[-2000:]
        except FileNotFoundError:
            pass
        return '--- %s stdout ---\n%s\n--- %s log (tail) ---\n%s' % (self.name, out, self.name, self.log_tail())


def _merge(into, extra):
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v


# --------------------------------------------------------------------------
# Topology

def _is_v6(addr):
    return ipaddress.ip_interface(addr).version == 6


@dataclass
class TwoPeers:
    """What Topology.two_peers() built. `left` initiates in the NAT variant (it sits behind the NAT)."""
    ns_left: str
    ns_right: str
    ns_nat: str                 # None without NAT
    left_addr: str              # left's own IKE address (private behind NAT)
    right_addr: str
    left_seen_as: str           # the address right sees for left (the NAT's outside address with NAT)
    left_addr6: str
    right_addr6: str
    left_seen_as6: str
    left_subnet: str            # a dummy interface 'lan' in left, address .1 of it
    right_subnet: str
    left_host: str
    right_host: str
    left_subnet6: str
    right_subnet6: str
    left_host6: str
    right_host6: str


class Topology:
    """Network namespaces named <prefix><short>, veth links and dummy interfaces in them.
    The prefix is unique per process ('cor-sw-<pid>-' by default), so parallel runs never
    collide. teardown() (or leaving the with block) ends any process still in the
    namespaces and deletes them."""

    def __init__(self, prefix=None):
        self.prefix = prefix or 'cor-sw-%d-' % os.getpid()
        self.namespaces = []
        self.interfaces = []  # (ns, dev) of every veth end made here, for wait_ready()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.teardown()

    # -- primitives --------------------------------------------------------
    @staticmethod
    def sh(*args, ns=None, check=True, timeout=30):
        cmd = (['ip', 'netns', 'exec', ns] if ns else []) + [str(a) for a in args]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise HarnessError('%s failed (%d): %s' % (' '.join(cmd), r.returncode, r.stdout.strip()))
        return r

    def add_ns(self, short):
        """A namespace <prefix><short> with lo up, IPv6 DAD off (for interfaces created after)."""
        ns = self.prefix + short
        self.namespaces.append(ns)  # first: an interrupt right after the add still tears it down
        self.sh('ip', 'netns', 'add', ns)
        self.sh('ip', 'link', 'set', 'lo', 'up', ns=ns)
        self.sysctl(ns, {'net.ipv6.conf.all.accept_dad': 0, 'net.ipv6.conf.default.accept_dad': 0,
                         'net.ipv6.conf.default.accept_ra': 0, 'net.ipv4.conf.all.rp_filter': 0,
                         'net.ipv4.conf.default.rp_filter': 0})
        return ns

    def sysctl(self, ns, settings):
        args = ['%s=%s' % kv for kv in settings.items()]
        self.sh('sysctl', '-q', '-w', *args, ns=ns)

    def addr(self, ns, dev, *addrs):
        for a in addrs:
            self.sh('ip', 'addr', 'add', a, 'dev', dev, *(['nodad'] if _is_v6(a) else []), ns=ns)

    def link(self, ns1, dev1, ns2, dev2, addrs1=(), addrs2=(), mtu=None, offloads=False):
        """A veth pair dev1 in ns1 <-> dev2 in ns2, created directly in the namespaces (no
        name in the root namespace, so no collision there), up, with addresses.
        offloads=False turns TX checksum offload off (frames complete on the wire, for packet
        sockets and DPDK af_packet ports) when ethtool is there."""
        self.sh('ip', 'link', 'add', dev1, 'netns', ns1, *(['mtu', mtu] if mtu else []), 'type', 'veth',
                'peer', 'name', dev2, 'netns', ns2, *(['mtu', mtu] if mtu else []))
        for ns, dev, addrs in ((ns1, dev1, addrs1), (ns2, dev2, addrs2)):
            self.interfaces.append((ns, dev))
            self.addr(ns, dev, *addrs)
            self.sh('ip', 'link', 'set', dev, 'up', ns=ns)
            if not offloads and shutil.which('ethtool'):
                self.sh('ethtool', '-K', dev, 'tx', 'off', ns=ns, check=False)

    def dummy(self, ns, dev, *addrs):
        """An interface holding the addresses of the 'subnet' behind a gateway: a dummy, or
        where the kernel has no dummy driver (this machine's), a veth pair `dev` <-> `dev`-p
        inside the namespace, both up, the addresses on `dev`. Either way the addresses are
        local to the namespace and reachable from elsewhere only through it."""
        r = self.sh('ip', 'link', 'add', dev, 'type', 'dummy', ns=ns, check=False)
        if r.returncode != 0:
            peer = dev[:13] + '-p'
            self.sh('ip', 'link', 'add', dev, 'type', 'veth', 'peer', 'name', peer, ns=ns)
            self.sh('ip', 'link', 'set', peer, 'up', ns=ns)
        self.addr(ns, dev, *addrs)
        self.sh('ip', 'link', 'set', dev, 'up', ns=ns)

    def wait_ready(self, timeout=5):
        """Waits until every veth end made by link() has its IPv6 link-local address. Until then
        (up to a second after 'up', when the kernel's link watcher reports the carrier) the
        kernel ignores neighbor solicitations on it: the first IPv6 packet toward that end
        waits for the 1 s NS retransmission. IPv4 (ARP) is not affected."""
        deadline = time.monotonic() + timeout
        pending = list(self.interfaces)
        while pending:
            still = []
            for ns, dev in pending:
                out = self.sh('ip', '-6', '-o', 'addr', 'show', 'dev', dev, 'scope', 'link', ns=ns, check=False).stdout
                if 'fe80::' not in out or 'tentative' in out:
                    still.append((ns, dev))
            pending = still
            if pending and time.monotonic() > deadline:
                raise HarnessError('interfaces without IPv6 link-local address after %ss: %s' % (timeout, pending))
            if pending:
                time.sleep(0.05)

    def route(self, ns, prefix, via=None, dev=None):
        args = ['ip', '-6' if ':' in prefix or (via and ':' in via) else '-4', 'route', 'add', prefix]
        if via:
            args += ['via', via]
        if dev:
            args += ['dev', dev]
        self.sh(*args, ns=ns)

    def nat(self, ns, outside_dev, ports=(40000, 40999), ipv6=True):
        """Makes `ns` a NAT router: forwarding on, and nftables masquerade on `outside_dev`
        with the source ports of TCP/UDP remapped into `ports` (so that port floating
        to 4500 really changes the port the peer sees), plain masquerade for the rest."""
        self.sysctl(ns, {'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1})
        family = 'inet' if ipv6 else 'ip'
        rules = ('table %s corridor_nat {\n'
                 '  chain postrouting {\n'
                 '    type nat hook postrouting priority srcnat; policy accept;\n'
                 '    oifname "%s" meta l4proto { tcp, udp } masquerade to :%d-%d\n'
                 '    oifname "%s" masquerade\n'
                 '  }\n'
                 '}\n') % (family, outside_dev, ports[0], ports[1], outside_dev)
        r = subprocess.run(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], input=rules, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise HarnessError('nft in %s failed: %s' % (ns, r.stdout))

    def capture(self, ns, dev, path, bpf=None):
        """tcpdump on `dev` in `ns` into the pcap file `path` (started and listening on return).
        Stop it with stop_capture(); read it with read_pcap(path)."""
        args = ['ip', 'netns', 'exec', ns, 'tcpdump', '-i', dev, '-w', path, '-U', '-n', '-s', '0',
                '--immediate-mode', '-Z', 'root'] + ([bpf] if bpf else [])
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = proc.stderr.readline()  # "tcpdump: listening on ..." once the socket is bound
        if 'listening on' not in line:
            proc.kill()
            proc.wait()
            raise HarnessError('tcpdump in %s on %s: %s' % (ns, dev, line.strip()))
        return proc

    @staticmethod
    def stop_capture(proc, timeout=5):
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # tcpdump flushes and exits
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stderr.close()

    def popen(self, ns, args, **kw):
        return subprocess.Popen(['ip', 'netns', 'exec', ns] + [str(a) for a in args], **kw)

    def pids(self, ns):
        r = self.sh('ip', 'netns', 'pids', ns, check=False)
        return [int(p) for p in r.stdout.split() if p.isdigit()]

    def teardown(self):
        """Ends every process left in our namespaces (SIGTERM, then SIGKILL), deletes them."""
        for ns in self.namespaces:
            pids = self.pids(ns)
            for sig in (signal.SIGTERM, signal.SIGKILL):
                for pid in pids:
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
                deadline = time.monotonic() + 2
                while pids and time.monotonic() < deadline:
                    pids = [p for p in pids if os.path.exists('/proc/%d' % p)]
                    time.sleep(0.05)
                if not pids:
                    break
        for ns in reversed(self.namespaces):
            subprocess.run(['ip', 'netns', 'del', ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.namespaces = []

    # -- the standard layout ----------------------------------------------------
    def two_peers(self, nat=False, ports=(40000, 40999)):
        """Two gateways, 'left' and 'right', each with a dummy 'lan' holding its protected subnet:

            direct:  left wan 192.0.2.1/24 2001:db8::1/64 ==== wan 192.0.2.2/24 2001:db8::2/64 right
            nat:     left wan 10.0.0.2/24 fd00::2/64 ==== in 10.0.0.1 fd00::1  NAT  out 192.0.2.1 2001:db8::1
                     ==== wan 192.0.2.2/24 2001:db8::2/64 right
            subnets: left lan 10.1.0.1/24 fd01:1::1/64, right lan 10.2.0.1/24 fd01:2::1/64

        The NAT masquerades (ports remapped into `ports`) what leaves 'out' toward right;
        right has no route to left's private addresses. IPv4 MTU 1500 everywhere."""
        left, right = self.add_ns('left'), self.add_ns('right')
        ns_nat = None
        if nat:
            ns_nat = self.add_ns('nat')
            self.link(left, 'wan', ns_nat, 'in', ['10.0.0.2/24', 'fd00::2/64'], ['10.0.0.1/24', 'fd00::1/64'])
            self.link(ns_nat, 'out', right, 'wan', ['192.0.2.1/24', '2001:db8::1/64'],
                      ['192.0.2.2/24', '2001:db8::2/64'])
            self.route(left, 'default', via='10.0.0.1')
            self.sh('ip', '-6', 'route', 'add', 'default', 'via', 'fd00::1', ns=left)
            self.nat(ns_nat, 'out', ports)
            laddr, seen, laddr6, seen6 = '10.0.0.2', '192.0.2.1', 'fd00::2', '2001:db8::1'
        else:
            self.link(left, 'wan', right, 'wan', ['192.0.2.1/24', '2001:db8::1/64'],
                      ['192.0.2.2/24', '2001:db8::2/64'])
            laddr, seen, laddr6, seen6 = '192.0.2.1', '192.0.2.1', '2001:db8::1', '2001:db8::1'
        self.dummy(left, 'lan', '10.1.0.1/24', 'fd01:1::1/64')
        self.dummy(right, 'lan', '10.2.0.1/24', 'fd01:2::1/64')
        self.wait_ready()
        return TwoPeers(left, right, ns_nat, laddr, '192.0.2.2', seen, laddr6, '2001:db8::2', seen6,
                        '10.1.0.0/24', '10.2.0.0/24', '10.1.0.1', '10.2.0.1',
                        'fd01:1::/64', 'fd01:2::/64', 'fd01:1::1', 'fd01:2::1')


def read_pcap(path):
    """The frames of a classic pcap file: [(timestamp, bytes)] (tcpdump's default format)."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = data[:4]
    order = {b'\xd4\xc3\xb2\xa1': '<', b'\xa1\xb2\xc3\xd4': '>', b'\x4d\x3c\xb2\xa1': '<',
             b'\xa1\xb2\x3c\x4d': '>'}.get(magic)
    if not order:
        raise HarnessError('%s: not a pcap file' % path)
    nano = magic in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
    frames, at = [], 24
    while at + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(order + 'IIII', data[at:at + 16])
        frames.append((sec + frac / (1e9 if nano else 1e6), data[at + 16:at + 16 + incl]))
        at += 16 + incl
    return frames


def udp_datagrams(frames):
    """(src, sport, dst, dport, payload) of the IPv4/IPv6 UDP datagrams in Ethernet frames
    (no extension headers, no fragments); the ESP packets (protocol 50) as (src, None, dst, None, esp)."""
    out = []
    for _, f in frames:
        if len(f) < 14:
            continue
        etype, ip = f[12:14], f[14:]
        if etype == b'\x08\x00' and len(ip) >= 20:
            ihl = (ip[0] & 15) * 4
            proto, src, dst, l4 = ip[9], socket.inet_ntop(socket.AF_INET, ip[12:16]), \
                socket.inet_ntop(socket.AF_INET, ip[16:20]), ip[ihl:]
        elif etype == b'\x86\xdd' and len(ip) >= 40:
            proto, src, dst, l4 = ip[6], socket.inet_ntop(socket.AF_INET6, ip[8:24]), \
                socket.inet_ntop(socket.AF_INET6, ip[24:40]), ip[40:]
        else:
            continue
        if proto == 17 and len(l4) >= 8:
            sport, dport = struct.unpack('!HH', l4[:4])
            out.append((src, sport, dst, dport, l4[8:]))
        elif proto == 50:
            out.append((src, None, dst, None, l4))
    return out


def workdir(prefix='cor-sw-'):
    """A private temporary directory (the caller removes it: shutil.rmtree)."""
    return tempfile.mkdtemp(prefix='%s%d-' % (prefix, os.getpid()))
