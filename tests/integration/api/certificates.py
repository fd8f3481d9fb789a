"""Section 13: /certificates and /authorities on gateway A.

A PKI made here with the openssl command (an implementation independent of
the daemon's reading of it): a CA and a gateway certificate are stored,
described (subject, issuer, serial, fingerprint, validity, subjectAltNames
compared with what `openssl x509` prints), refused when they are a private
key, a chain, no certificate or (as an authority) no CA, kept while a
connection names them (409), and removed. No response carries a key.
"""

import os
import stat
import subprocess

from .client import check_problem
from .common import GATEWAYS, RECEIVED, Ctx, check, require

PKI_CONN = 'pki-peer'


def openssl(*args):
    return subprocess.run(['openssl'] + list(args), check=True, capture_output=True, text=True).stdout


def make_pki(d):
    """root.pem (CA, P-256, self-signed), gw.pem (P-256, by root, SANs), gw.key."""
    os.makedirs(d, exist_ok=True)
    p = lambda n: os.path.join(d, n)  # noqa: E731
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('root.key'),
            '-out', p('root.pem'), '-days', '30', '-subj', '/O=Corridor Test/CN=Section 13 Root CA',
            '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('gw.key'),
            '-out', p('gw.csr'), '-subj', '/O=Corridor Test/CN=gw-a.example.net')
    with open(p('gw.ext'), 'w') as f:
        f.write('basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n'
                'subjectAltName=DNS:gw-a.example.net,IP:192.0.2.10\n')
    openssl('x509', '-req', '-in', p('gw.csr'), '-CA', p('root.pem'), '-CAkey', p('root.key'), '-set_serial', '0x1c0ffee',
            '-days', '7', '-extfile', p('gw.ext'), '-out', p('gw.pem'))
    return {n: open(p(n)).read() for n in ('root.pem', 'gw.pem', 'gw.key')}


def openssl_view(pem_text):
    """What `openssl x509` says of a certificate, in the API's spelling."""
    out = subprocess.run(['openssl', 'x509', '-noout', '-subject', '-issuer', '-serial', '-fingerprint', '-sha256',
                          '-nameopt', 'RFC2253'], input=pem_text, check=True, capture_output=True, text=True).stdout
    view = {}
    for line in out.splitlines():
        key, _, value = line.partition('=')
        view[key.strip().lower()] = value.strip()
    serial = view['serial']
    serial = ('0' * (len(serial) % 2)) + serial
    return {'subject': view['subject'], 'issuer': view['issuer'],
            'serial': ':'.join(serial[i:i + 2] for i in range(0, len(serial), 2)),
            'fingerprint_sha256': view['sha256 fingerprint']}


def pki_connection():
    """Our side by PSK, the peer's by certificate from the stored CA; never started."""
    return {'name': PKI_CONN, 'version': 2, 'remote_addrs': ['203.0.113.13'],
            'local': {'auth': 'psk', 'id': 'pki-a.example.net'},
            'remote': {'auth': 'pubkey', 'cacerts': ['x509ca/section13-root.pem']},
            'children': {'lan': {'local_ts': ['10.131.0.0/24'], 'remote_ts': ['10.132.0.0/24']}}}


def section_certificates():
    a = Ctx.a
    gw_a = GATEWAYS[0]
    pki = make_pki(os.path.join(Ctx.wd, 'pki13'))
    config_dir = os.path.dirname(os.path.abspath(gw_a.config_path))
    store = os.path.join(config_dir, 'x509')

    r = a.get('/certificates', token=Ctx.read)
    require(r.status == 200 and r.json.get('directory') == store and isinstance(r.json.get('items'), list),
            'GET /certificates (read token): the store is x509/ beside the config file', str(r)[:300])
    before = {c['name'] for c in r.json['items']}

    r = a.request('POST', '/certificates', body={'name': 'section13-gw', 'pem': pki['gw.pem']})
    c = r.json if r.status == 201 and isinstance(r.json, dict) else {}
    check(r.status == 201, 'POST /certificates stores section13-gw (201)', str(r)[:400])
    expected = openssl_view(pki['gw.pem'])
    for key, value in expected.items():
        check(c.get(key) == value, 'its %s is what openssl x509 prints' % key, '%r vs %r' % (c.get(key), value))
    check(c.get('subject_alt_names') == ['DNS:gw-a.example.net', 'IP:192.0.2.10'] and c.get('key') == 'EC P-256'
          and c.get('ca') is False and c.get('self_signed') is False and c.get('valid_now') is True
          and c.get('managed') is True and c.get('used_by') == [] and c.get('config_name') == 'x509/section13-gw.pem',
          'subjectAltNames, key, CA and validity flags, config_name', str(c))
    path = os.path.join(store, 'section13-gw.pem')
    check(os.path.isfile(path) and stat.S_IMODE(os.stat(path).st_mode) == 0o644
          and openssl_view(open(path).read()) == expected, 'the file is x509/section13-gw.pem, mode 0644, the same '
          'certificate')
    r = a.request('POST', '/certificates', body={'name': 'section13-gw', 'pem': pki['gw.pem']})
    check(r.status == 200 and r.json.get('fingerprint_sha256') == expected['fingerprint_sha256'],
          'POST of the same name again replaces it (200)', str(r)[:200])
    r = a.get('/certificates/section13-gw', token=Ctx.read)
    check(r.status == 200 and r.json.get('fingerprint_sha256') == expected['fingerprint_sha256'],
          'GET /certificates/section13-gw', str(r)[:200])
    r = a.get('/certificates')
    check({x['name'] for x in r.json['items']} == before | {'section13-gw'}, 'GET /certificates lists it', str(r)[:300])
    check_problem(a.get('/certificates/nosuch'), 404, 'not-found', 'GET /certificates/nosuch')

    # Refused, and nothing written.
    refusals = [
        ({'name': 'section13-leak', 'pem': pki['gw.pem'] + pki['gw.key']}, 'private key', 'a certificate with its key'),
        ({'name': 'section13-leak', 'pem': pki['gw.key']}, 'private key', 'a private key alone'),
        ({'name': 'section13-leak', 'pem': pki['gw.pem'] + pki['root.pem']}, 'more than one', 'a chain'),
        ({'name': 'section13-leak', 'pem': 'hello'}, 'no PEM certificate', 'no certificate'),
        ({'name': '../section13-leak', 'pem': pki['gw.pem']}, 'name', 'a name with a path'),
        ({'name': 'section13-leak'}, 'pem', 'no pem'),
        ({'name': 'section13-leak', 'pem': pki['gw.pem'], 'key': 'x'}, None, 'an unknown field'),
    ]
    for body, detail, what in refusals:
        check_problem(a.request('POST', '/certificates', body=body), 400, 'validation', 'POST /certificates of ' + what,
                      detail_has=detail)
    check(not [n for n in os.listdir(store) if 'leak' in n] and not os.path.exists(os.path.join(config_dir,
                                                                                                 'section13-leak.pem')),
          'nothing refused was written')
    check_problem(a.request('POST', '/certificates', body={'name': 'x', 'pem': pki['gw.pem']}, token=Ctx.operate),
                  403, 'forbidden', 'POST /certificates with an operate token')
    check_problem(a.request('DELETE', '/certificates/section13-gw', token=Ctx.operate), 403, 'forbidden',
                  'DELETE /certificates/{name} with an operate token')

    # Authorities: CA certificates only.
    check_problem(a.request('POST', '/authorities', body={'name': 'section13-gw', 'pem': pki['gw.pem']}), 400,
                  'validation', 'POST /authorities of an end-entity certificate', detail_has='no CA certificate')
    r = a.request('POST', '/authorities', body={'name': 'section13-root', 'pem': pki['root.pem']})
    check(r.status == 201 and r.json.get('ca') is True and r.json.get('self_signed') is True
          and r.json.get('config_name') == 'x509ca/section13-root.pem'
          and r.json.get('fingerprint_sha256') == openssl_view(pki['root.pem'])['fingerprint_sha256'],
          'POST /authorities stores the CA (201)', str(r)[:400])

    # In use: a connection naming the CA keeps it.
    r = a.request('POST', '/connections', body=pki_connection())
    check(r.status == 201 and r.json.get('applied') is True, 'POST /connections: %s trusts x509ca/section13-root.pem'
          % PKI_CONN, str(r)[:400])
    r = a.get('/authorities/section13-root')
    check(r.status == 200 and r.json.get('used_by') == [PKI_CONN], 'GET /authorities/section13-root: used by %s'
          % PKI_CONN, str(r)[:300])
    check_problem(a.request('DELETE', '/authorities/section13-root'), 409, 'conflict',
                  'DELETE of a CA a connection uses', detail_has=PKI_CONN)
    check(a.request('DELETE', '/connections/' + PKI_CONN).status == 200, 'DELETE /connections/' + PKI_CONN)
    r = a.request('DELETE', '/authorities/section13-root')
    check(r.status == 200 and r.json.get('name') == 'section13-root', 'DELETE /authorities/section13-root (200)',
          str(r)[:200])
    check_problem(a.get('/authorities/section13-root'), 404, 'not-found', 'GET of the removed CA')
    r = a.request('DELETE', '/certificates/section13-gw')
    check(r.status == 200 and not os.path.exists(path), 'DELETE /certificates/section13-gw removes the file', str(r))
    check_problem(a.request('DELETE', '/certificates/section13-gw'), 404, 'not-found', 'DELETE of a gone certificate')

    key_body = pki['gw.key'].split('-----')[2].strip().splitlines()[0].encode()
    check(not [d for d in RECEIVED if b'PRIVATE KEY' in d or key_body in d], 'no response carries a private key')
    log = gw_a.log()
    check('certificate added: section13-gw' in log and 'CA certificate removed: section13-root' in log,
          'the log says what was added and removed')
