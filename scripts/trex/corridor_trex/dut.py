"""The DUT hook: Corridor's own counters around each trial.

GET /api/v1/stats before and after a trial; the difference, grouped by where
a packet can be lost, goes into the trial's report line:

  nic         the ports: rx_missed (no RX descriptor: the lcore fell
              behind), rx_errors, rx_no_mbuf, tx_errors
  forwarding  forwarding drops other than policy ones (no_route,
              neighbor_unresolved, tx_full, mtu_exceeded, ...)
  policy      no_policy, policy_discard, and ESP that finds no SA (no_sa,
              sa_gone, wrong_destination)
  crypto      ICV failures, malformed ESP, and the packet engine's other
              drops (its count holds every SA-level drop: replay ones are
              taken out, ICV and malformed ones counted once)
  replay      anti-replay drops

The dataplane reports its ports and workers to the control plane once a
second (docs/api/openapi.yaml, /dataplane/ports): the "after" snapshot waits
`settle` seconds so that it holds the trial's last report.
"""
import json
import ssl
import time
import urllib.request

POLICY_DROPS = ('no_policy', 'policy_discard', 'no_sa', 'sa_gone', 'wrong_destination')
NIC_COUNTERS = ('rx_missed', 'rx_errors', 'rx_no_mbuf', 'tx_errors')


class CorridorDut:
    def __init__(self, url, token, cafile=None, insecure=False, settle=1.5, timeout=10):
        self.url = url.rstrip('/')
        self.token = token
        self.settle = settle
        self.timeout = timeout
        self.context = None
        if self.url.startswith('https:'):
            self.context = ssl.create_default_context(cafile=cafile)
            if insecure:
                self.context.check_hostname = False
                self.context.verify_mode = ssl.CERT_NONE

    def stats(self):
        request = urllib.request.Request(self.url + '/api/v1/stats',
                                         headers={'Authorization': 'Bearer ' + self.token,
                                                  'Accept': 'application/json'})
        with urllib.request.urlopen(request, timeout=self.timeout, context=self.context) as response:
            return json.load(response)

    def snapshot(self, after_trial=False):
        if after_trial:
            time.sleep(self.settle)   # let the trial's last report arrive
        return self.stats()

    @staticmethod
    def breakdown(before, after):
        return breakdown(before, after)


def _totals(stats):
    dp = stats.get('dataplane') or {}
    out = {'nic': 0, 'forwarding': 0, 'policy': 0, 'crypto': 0, 'replay': 0}
    for port in dp.get('ports', []):
        out['nic'] += sum(port.get(k, 0) for k in NIC_COUNTERS)
    for reason, n in dp.get('forward_drops', {}).items():
        out['policy' if reason in POLICY_DROPS else 'forwarding'] += n
    icv_malformed = dp.get('icv_failures', 0) + dp.get('malformed_drops', 0)
    replay = dp.get('replay_drops', 0)
    engine = sum(w.get('engine_drops', 0) for w in dp.get('workers', []))
    # engine_drops counts every SA-level drop, these three included; the
    # per-reason counts come from other reports, so clamp what remains.
    out['crypto'] = icv_malformed + max(0, engine - icv_malformed - replay)
    out['replay'] = replay
    return out


def breakdown(before, after):
    """Packets lost during the trial, by place; only the places that lost some."""
    a, b = _totals(before), _totals(after)
    return {k: b[k] - a[k] for k in b if b[k] - a[k] > 0}
