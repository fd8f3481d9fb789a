"""Sections 1 and 2: authentication and scopes, token create/revoke without a
restart; TLS (the certificate, plain HTTP on the TLS port, TLS 1.1)."""

import ssl
import warnings

from .client import check_problem, fill, ns_connect, operations, raw_exchange, tls_context
from .common import CHILD, CONN, NS_A, PORT_A, PORT_B, Ctx, check, note, record
from .harness import create_token, ctl, token_id


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
