"""Sections 8 and 9: the Prometheus metrics (promtool, the series, 405/404)
and corridorctl against the daemons (commands, --json, exit codes, env)."""

import json
import subprocess

from .client import check_problem, one_established_pair
from .common import CHILD, CONN, CONN2, NS_B, PORT_A, PORT_B, PSK, PSK2, Ctx, check, require, wait_until
from .harness import ctl, ctl_a


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
