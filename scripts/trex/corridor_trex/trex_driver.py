"""The search's Driver on a TRex stateless server (STLClient).

TRex is not a Debian package and is not installed here: this module is the
one part of the kit the test suite cannot run. It uses only STLClient calls
that TRex documents for STL automation (connect, reset, add_streams,
clear_stats, start with a pps multiplier and a duration, wait_on_traffic,
get_stats).
"""
import os
import sys

from .search import Driver


def _api():
    try:
        from trex.stl import api
    except ImportError:
        try:
            from trex_stl_lib import api
        except ImportError:
            raise SystemExit('ndr_search: TRex\'s Python API is not importable: put TRex\'s '
                             'automation/trex_control_plane/interactive (v2.60 and later) on PYTHONPATH')
    return api


class TrexDriver(Driver):
    """Each transmitting port sends its own profile; the rate of a trial is
    split evenly over them. Received packets are counted on the other port
    of each pair (0 <-> 1, 2 <-> 3): the DUT sits in between."""

    # A trial whose generator fell this far short of the rate asked for
    # measured something else: stop rather than report it at that rate.
    MIN_OFFERED = 0.99

    def __init__(self, server, port_profiles, tunables, rx_delay_ms=100):
        self.api = _api()
        self.tx_ports = [port for port, _ in port_profiles]
        self.rx_ports = [p ^ 1 for p in self.tx_ports]
        self.rx_delay_ms = rx_delay_ms
        self.client = self.api.STLClient(server=server)
        self.client.connect()
        self.client.reset(ports=sorted(set(self.tx_ports + self.rx_ports)))
        for port, path in port_profiles:
            sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
            profile = self.api.STLProfile.load_py(path, direction=port % 2, port_id=port, **tunables)
            self.client.add_streams(profile.get_streams(), ports=[port])

    def trial(self, rate, duration):
        c = self.client
        c.clear_stats()
        per_port = rate / len(self.tx_ports)
        c.start(ports=self.tx_ports, mult='%fpps' % per_port, duration=duration, force=True)
        c.wait_on_traffic(ports=self.tx_ports, rx_delay_ms=self.rx_delay_ms)
        stats = c.get_stats()
        sent = sum(stats[p]['opackets'] for p in self.tx_ports)
        received = sum(stats[p]['ipackets'] for p in self.rx_ports)
        if sent < self.MIN_OFFERED * rate * duration:
            raise RuntimeError('TRex sent %d frames, %.1f %% of the %.0f pps asked for: it cannot offer this '
                               'rate (give it more cores, or a lower --max-rate)'
                               % (sent, 100.0 * sent / (rate * duration), rate))
        return sent, received

    def close(self):
        self.client.disconnect()
