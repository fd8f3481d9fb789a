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
    # Jumbo MTUs: the profiles' frames go up to 9018 bytes (an IP MTU of
    # 9000) on the protected side, and grow by the tunnel's overhead on the
    # unprotected one (9216 is the most the config takes). The NICs and
    # TRex's ports need jumbo frames too.
    if role == 'protected' and dut == 1:
        entry.update(address=topo.DUT_LAN + '/16', mac=topo.DUT_LAN_MAC, mtu=9000)
    elif role == 'protected':
        entry.update(address=topo.DUT2_LAN + '/24', mac=topo.DUT2_LAN_MAC, mtu=9000)
    else:
        entry.update(address=(topo.DUT_WAN if dut == 1 else topo.TG_WAN) + '/24',
                     mac=topo.DUT_WAN_MAC if dut == 1 else topo.TG_WAN_MAC, mtu=9216)
    return entry


def config(tunables, protected, unprotected, workers=(), main_lcore=0, poll_mode='busy',
           sa_channel='/corridor-bench', log_level='warning', tg_macs=None, topology='2n', dut=1):
    """A complete corridor-dataplane config for the DUT of the 2-node
    topology, or DUT1 or DUT2 of the 3-node one. `protected` and
    `unprotected` are port entries (port() makes them, with the same `dut`);
    `tg_macs` the MACs of TRex's port 0 and port 1, where the DUTs send
    clear traffic (and, 2-node, the ESP). Every tunnel gets its out and in
    static SA; DUT2's are DUT1's mirrored."""
    if topology not in ('2n', '3n'):
        raise ValueError('topology is 2n or 3n, not %r' % topology)
    if dut == 2 and topology != '3n':
        raise ValueError('only the 3-node topology has a DUT2')
    if topology == '3n' and tunables.peers != 'one':
        raise ValueError('in the 3-node topology DUT2 terminates every tunnel at one address: '
                         'render with peers=one')
    tg_macs = tg_macs or (topo.TG_LAN_MAC, topo.TG2_LAN_MAC if topology == '3n' else topo.TG_WAN_MAC)
    sas = static_sas(tunables.n_tunnels, tunables.proposal, tunables.seed, tunables.peers)
    if dut == 1:
        # 198.18.0.2 is TRex port 1 (2-node) or DUT2's unprotected port
        # (3-node); the many peers sit behind it, the LAN host is on-link.
        wan_next_hop = tg_macs[1] if topology == '2n' else topo.TG_WAN_MAC
        routes = [] if tunables.peers == 'one' else \
            [{'prefix': topo.PEERS_PREFIX, 'via': topo.TG_WAN, 'port': unprotected['name']}]
        neighbors = [{'ip': topo.TG_WAN, 'mac': wan_next_hop}, {'ip': topo.LAN_HOST, 'mac': tg_macs[0]}]
    else:
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
