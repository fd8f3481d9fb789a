"""TRex STL profile: UDP over IPv4, 1518-byte frames.

    trex-console> start -f corridor_udp_1518b.py -m 1mpps --port 0 -t size=1518,n_tunnels=1000,n_flows=4000

Tunables and topology: scripts/trex/README.md.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from corridor_trex.profile import Profile  # noqa: E402


def register():
    return Profile('clear', __doc__.splitlines()[0], size='1518')
