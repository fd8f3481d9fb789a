"""What every profile module under profiles/ is: register() returns one of
these. TRex calls get_streams(); render_pcap.py calls streams()."""
from . import esp, traffic


class Profile:
    def __init__(self, kind, description, **defaults):
        if kind not in ('clear', 'esp'):
            raise ValueError('kind must be clear or esp')
        self.kind = kind
        self.description = description
        self.defaults = defaults

    def tunables(self, direction=0, tunables=None, **kwargs):
        t = traffic.parse_tunables(self.defaults, direction, tunables, **kwargs)
        if self.kind == 'esp' and t.direction != 1:
            raise ValueError('pre-encrypted ESP comes from the DUT\'s unprotected side: '
                             'send it from TRex port 1 (direction 1), not port %d' % t.direction)
        return t

    def streams(self, direction=0, tunables=None, **kwargs):
        """The traffic as traffic.Stream objects (no TRex needed)."""
        t = self.tunables(direction, tunables, **kwargs)
        return traffic.clear_streams(t) if self.kind == 'clear' else esp.esp_streams(t)

    def get_streams(self, direction=0, size=None, n_tunnels=None, n_flows=None, proposal=None, peers=None,
                    seed=None, tunables=None, **kwargs):
        """TRex's entry point: direction is the port's parity (0: port 0,
        the DUT's protected side). Tunables come as keyword arguments (TRex
        before v2.89 checks them against this signature, hence each one by
        name, None meaning the profile's default) or as an argv-style list
        in `tunables` (v2.89 and later)."""
        from .stl import to_stl
        named = dict(size=size, n_tunnels=n_tunnels, n_flows=n_flows, proposal=proposal, peers=peers, seed=seed)
        kwargs.update({k: v for k, v in named.items() if v is not None})
        return to_stl(self.streams(direction, tunables, **kwargs))
