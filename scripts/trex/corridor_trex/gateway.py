"""The DUT's side of the benchmark: a Corridor config whose static SAs,
routes and neighbors match the traffic of the profiles (topology.py)."""
from . import topology as topo
from .esp import static_sas


def port(name, role, devargs=None):
    """A `dataplane.ports` entry with the topology's address and MAC for its role."""
    entry = {'name': name, 'role': role}
    if devargs:
        entry['devargs'] = devargs
    if role == 'protected':
        entry.update(address=topo.DUT_LAN + '/16', mac=topo.DUT_LAN_MAC)
    else:
        # 1518-byte frames grow by the tunnel's overhead: a 1500-byte MTU
        # would drop them as mtu_exceeded. The TRex ports need jumbo frames too.
        entry.update(address=topo.DUT_WAN + '/24', mac=topo.DUT_WAN_MAC, mtu=9000)
    return entry


def config(tunables, protected, unprotected, workers=(1,), main_lcore=0, poll_mode='busy',
           sa_channel='/corridor-bench', log_level='warning'):
    """A complete corridor-dataplane config. `protected` and `unprotected`
    are port entries (port() makes them). Every tunnel gets its out and in
    static SA; the in SAs have anti-replay off (pre-encrypted ESP repeats)."""
    sas = static_sas(tunables.n_tunnels, tunables.proposal, tunables.seed)
    return {
        'dataplane': {
            'ports': [protected, unprotected],
            # The tunnels' peers sit behind TRex port 1; the LAN host is on-link.
            'routes': [{'prefix': topo.PEERS_PREFIX, 'via': topo.TG_WAN, 'port': unprotected['name']}],
            'neighbors': [{'ip': topo.TG_WAN, 'mac': topo.TG_WAN_MAC},
                          {'ip': topo.LAN_HOST, 'mac': topo.TG_LAN_MAC}],
            'static_sas': [sa.config() for sa in sas],
            'cores': {'main': main_lcore, 'workers': list(workers)},
            'poll_mode': poll_mode,
        },
        'sa_channel': {'name': sa_channel},
        'logging': {'level': log_level},
    }
