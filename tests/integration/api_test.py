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
   9 corridorctl against the daemons: commands, --json, exit codes, env;
     corridorctl events (SA and log events, a canned stream, exit codes)
  10 load: >= 300 requests/s on keep-alive connections while SAs come and go
  11 the event stream (SSE): one IKE SA's life as ike-updown, child-updown,
     child-rekey, ike-rekey, child-updown, ike-updown on A, log lines, refused
     filters; on B a stream with the default filter open through the run and
     its keepalives; both daemons healthy after the clients close
  12 the config changed live: PUT /config (identical, dry run, invalid,
     stale If-Match, scope), connections added, patched, deleted, revisions
     and a rollback, a changed connection renegotiated, all with gw's SAs
     untouched; a restart runs the config last applied; secrets added and
     removed, never shown; corridorctl load-conns
  13 certificates and authorities: a PKI made with the openssl command,
     stored and described as openssl x509 describes it, private keys,
     chains and non-CAs refused, a CA in use kept (409), then removed

Also checked over the whole run: the PSK appears in no response body, no
corridorctl output and no daemon log; both daemons stay up and exit 0 on
SIGTERM. Exit status 0 when every check held, 1 otherwise. Needs root.

This script is the entry point: the sections' order and the summary. The
parts are in the package api/ beside it (common, client, harness, and a
module per group of sections).
"""

import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # meson runs this from the build dir

from api import auth, certificates, config, events, ikev1, limits, load, metrics_ctl, resources, sas  # noqa: E402
from api.client import tls_context  # noqa: E402
from api.common import (GATEWAYS, GLOBAL_SECTION, KEEP, NS_A, NS_B, PORT_A, PORT_B, PSK, PSK2, RECEIVED,  # noqa: E402
                        SECTIONS, Ctx, Failure, check, run_section, use_section)
from api.harness import setup, teardown  # noqa: E402


EVENTS = 'event stream (SSE): SA events in order, log, keepalive'
SECTION_COUNT = 14


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
        use_section(GLOBAL_SECTION)
        try:
            setup(build, wd)
        except Failure as e:
            print('setup failed: %s' % e, flush=True)
            for gw in GATEWAYS:
                print('--- gateway %s log ---\n%s' % (gw.name, gw.log_tail(40)))
            return 1
        finally:
            use_section(None)

        # B's event stream stays open (and is read) until after section 10: its keepalive costs no time.
        run_section(11, EVENTS, events.section_events_probe_open)
        run_section(1, 'authentication, scopes, token create/revoke', auth.section_auth)
        run_section(2, 'TLS', auth.section_tls)
        run_section(3, 'initiate, SA views, filters, paging', sas.section_initiate)
        run_section(8, 'Prometheus metrics', metrics_ctl.section_metrics)
        run_section(9, 'corridorctl against the daemons', metrics_ctl.section_corridorctl)
        # The slow clients run concurrently with the next sections; section 7 collects them.
        Ctx.slow = [limits.SlowClient(NS_B, PORT_B, None, 'B (plain HTTP)'),
                    limits.SlowClient(NS_A, PORT_A, tls_context(Ctx.crt), 'A (TLS)')]
        for t in Ctx.slow:
            t.start()
        run_section(5, 'connections, config, stats, logging, 405/404/415', resources.section_resources)
        run_section(6, 'OpenAPI document and route sweep', resources.section_openapi)
        run_section(4, 'rekey, reauth, delete, terminate, 404 and 409', sas.section_rekey_delete)
        # Sections 11, 7 and 10 start without IKE SAs; nothing else touches connection gw during 11.
        run_section(11, EVENTS, events.section_events, True)
        run_section(7, 'limits: 431, 413, 400, slow client, connection flood', limits.section_limits)
        run_section(10, 'load while IKE SAs come and go', load.section_load)
        run_section(12, 'config changed live: PUT, connections, revisions, rollback, restart', config.section_config)
        run_section(13, 'certificates and authorities: store, describe, refuse, in use', certificates.section_certificates)
        run_section(14, 'IKEv1 through the API: initiate, re-establish, renew, delete', ikev1.section_ikev1)
        run_section(11, EVENTS, events.section_events_probe_close, True)
        # Last, as they may leave the gateways disagreeing or down: two IKE SAs
        # of one connection; a Child SA rekey after an IKE SA rekey (on gw2).
        run_section(3, 'initiate, SA views, filters, paging', sas.section_initiate_twice, True)
        run_section(4, 'rekey, delete, terminate, 404 and 409', sas.section_rekey_after_ike_rekey, True)

        # Whole run.
        use_section(GLOBAL_SECTION)
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
        debug_after = Ctx.debug_off_mark is not None and \
            resources.IKE_DEBUG.search(GATEWAYS[0].log()[Ctx.debug_off_mark:])
        check(not debug_after, 'no [ike] debug lines after the override was removed',
              debug_after.group(0) if debug_after else '')
        codes = teardown()
        for name, code in codes.items():
            check(code == 0, 'corridor-control %s exits 0 on SIGTERM' % name, 'exit %s' % code)
        use_section(None)
        ok = True
    except Interrupted as e:
        print('interrupted (%s): cleaning up' % e, flush=True)
    finally:
        teardown()
        failed_any = not ok or any(s.failures or s.aborted for s in list(SECTIONS.values()) + [GLOBAL_SECTION])
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
    print(GLOBAL_SECTION.summary())
    failed = [s for s in list(SECTIONS.values()) + [GLOBAL_SECTION] if s.failures or s.aborted]
    if not ok or failed or len(SECTIONS) != SECTION_COUNT:
        print('FAIL: %d failed checks%s' % (sum(len(s.failures) for s in failed),
                                             ', %d sections aborted' % sum(1 for s in failed if s.aborted)
                                             if any(s.aborted for s in failed) else ''))
        return 1
    print('PASS: %d checks' % sum(s.checks for s in list(SECTIONS.values()) + [GLOBAL_SECTION]))
    return 0


if __name__ == '__main__':
    if len(sys.argv) >= 2 and sys.argv[1] == '--load-worker':
        load.load_worker(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]))
        sys.exit(0)
    sys.exit(main())
