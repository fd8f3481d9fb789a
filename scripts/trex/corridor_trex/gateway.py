"""The DUTs' side of the benchmark: Corridor configs whose static SAs,
routes and neighbors match the traffic of the profiles (topology.py)."""
from . import topology as topo
from .esp import static_sas


def port(name, role, devargs=None, dut=1):
    """A `dataplane.ports` entry with the topology's address and MAC for
    its role, on DUT1 (the only DUT of the 2-node topology) or DUT2."""
    entry = {'name': name, 'role': role}
    if devargs:
        entry['devargs'] = devargs
    if role == 'protected' and dut == 1:
        entry.update(address=topo.DUT_LAN + '/16', mac=topo.DUT_LAN_MAC)
    elif role == 'protected':
        entry.update(address=topo.DUT2_LAN + '/24', mac=topo.DUT2_LAN_MAC)
    else:
        # 1518-byte frames grow by the tunnel's overhead: a 1500-byte MTU
        # would drop them as mtu_exceeded. The TRex ports need jumbo frames too.
        entry.update(address=(topo.DUT_WAN if dut == 1 else topo.TG_WAN) + '/24',
                     mac=topo.DUT_WAN_MAC if dut == 1 else topo.TG_WAN_MAC, mtu=9000)
    return entry


def config(tunables, protected, unprotected, workers=(), main_lcore=0, poll_mode='busy',
           sa_channel='/corridor-bench', log_level='warning', tg_macs=None, dut=1):
    """A complete corridor-dataplane config for DUT1 or DUT2. `protected`
    and `unprotected` are port entries (port() makes them, with the same
    `dut`); `tg_macs` the MACs of TRex's port 0 and port 1 (the DUT sends
    to them). Every tunnel gets its out and in static SA."""
    if dut == 2 and tunables.peers != 'one':
        raise ValueError('a second DUT terminates every tunnel at one address: render with peers=one')
    sas = static_sas(tunables.n_tunnels, tunables.proposal, tunables.seed, tunables.peers)
    if dut == 1:
        tg_macs = tg_macs or (topo.TG_LAN_MAC, topo.TG_WAN_MAC)
        # The LAN host is on-link; so is the one peer, or the many peers
        # sit behind TRex port 1.
        routes = [] if tunables.peers == 'one' else \
            [{'prefix': topo.PEERS_PREFIX, 'via': topo.TG_WAN, 'port': unprotected['name']}]
        neighbors = [{'ip': topo.TG_WAN, 'mac': tg_macs[1]}, {'ip': topo.LAN_HOST, 'mac': tg_macs[0]}]
    else:
        tg_macs = tg_macs or (topo.TG_LAN_MAC, topo.TG2_LAN_MAC)
        routes = [{'prefix': topo.REMOTE_PREFIX, 'via': topo.TG2_LAN, 'port': protected['name']}]
        neighbors = [{'ip': topo.DUT_WAN, 'mac': topo.DUT_WAN_MAC}, {'ip': topo.TG2_LAN, 'mac': tg_macs[1]}]
    return {
        'dataplane': {
            'ports': [protected, unprotected],
            'routes': routes,
            'neighbors': neighbors,
            'static_sas': [sa.config(mirror=dut == 2) for sa in sas],
            'cores': {'main': main_lcore, 'workers': list(workers)},
            'poll_mode': poll_mode,
        },
        'sa_channel': {'name': sa_channel},
        'logging': {'level': log_level},
    }
