"""The DUT hook: Corridor's own counters around each trial.

GET /api/v1/stats before and after a trial; the difference, grouped by where
a packet can be lost, goes into the trial's report line:

  nic     the ports: rx_missed (no RX descriptor: the worker fell behind),
          rx_errors, rx_no_mbuf, tx_errors
  worker  forwarding drops other than policy ones (no_route,
          neighbor_unresolved, tx_full, mtu_exceeded, ...)
  crypto  the packet engine's drops and the SAs' ICV failures and
          malformed packets
  replay  the SAs' anti-replay drops
  policy  no_policy, policy_discard, no_sa

The dataplane reports its ports and workers to the control plane once a
second (docs/api/openapi.yaml, /dataplane/ports): the "after" snapshot waits
`settle` seconds so that it holds the trial's last report.
"""
import json
import ssl
import time
import urllib.request

POLICY_DROPS = ('no_policy', 'policy_discard', 'no_sa')
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
    out = {'nic': 0, 'worker': 0, 'crypto': 0, 'replay': 0, 'policy': 0}
    for port in dp.get('ports', []):
        out['nic'] += sum(port.get(k, 0) for k in NIC_COUNTERS)
    for worker in dp.get('workers', []):
        out['crypto'] += worker.get('engine_drops', 0)
    for reason, n in dp.get('forward_drops', {}).items():
        out['policy' if reason in POLICY_DROPS else 'worker'] += n
    out['crypto'] += dp.get('icv_failures', 0) + dp.get('malformed_drops', 0)
    out['replay'] += dp.get('replay_drops', 0)
    return out


def breakdown(before, after):
    """Packets lost during the trial, by place; only the places that lost some."""
    a, b = _totals(before), _totals(after)
    return {k: b[k] - a[k] for k in b if b[k] - a[k] > 0}
