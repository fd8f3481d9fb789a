"""TRex STL profile: pre-encrypted ESP from the tunnels' peers, for decrypt-only tests.

    trex-console> start -f corridor_esp_decrypt.py -m 1mpps --port 1 -t size=imix,n_tunnels=1000,n_flows=4000

Tunables and topology: scripts/trex/README.md.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from corridor_trex.profile import Profile  # noqa: E402


def register():
    return Profile('esp', __doc__.splitlines()[0], size='imix')
