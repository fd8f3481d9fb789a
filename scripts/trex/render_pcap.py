#!/usr/bin/python3
"""Render a TRex profile of this kit into a pcap, and the DUT config that
matches it, without TRex.

    /usr/bin/python3 scripts/trex/render_pcap.py PROFILE -o traffic.pcap
        [-t NAME=VALUE ...] [--direction 0|1] [--packets N]
        [--config gateway.json [--ports PROTECTED UNPROTECTED] [--tg-macs M0 M1]
                               [--topology 2n|3n] [--dut 1|2]]

PROFILE is a file under scripts/trex/profiles/ or its short name
(udp_imix, esp_decrypt, ...). Tunables as TRex takes them: size, n_tunnels,
n_flows, proposal, peers, seed. The pcap holds whole cycles of the profile's
streams in the order TRex's rates interleave them, at least one period of
every field-engine variable (every flow of every tunnel) and at least
--packets frames. scripts/bench.sh replays it with net_pcap; --config writes
the Corridor config whose static SAs, routes and neighbors match the
traffic (the ports named by --ports, PCI addresses or vdevs).
"""
import argparse
import importlib.util
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corridor_trex import gateway, pcap, traffic  # noqa: E402

PROFILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'profiles')


def resolve(name):
    """A profile's file, from its path or its short name (udp_imix)."""
    if os.path.exists(name):
        return name
    path = os.path.join(PROFILES, 'corridor_%s.py' % name.removeprefix('corridor_').removesuffix('.py'))
    if not os.path.exists(path):
        known = sorted(f[len('corridor_'):-3] for f in os.listdir(PROFILES) if f.startswith('corridor_'))
        raise SystemExit('no profile %r (known: %s)' % (name, ', '.join(known)))
    return path


def load_profile(name):
    """register() of a profile module, by path or by short name."""
    path = resolve(name)
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.register()


def parse_assignments(items):
    out = {}
    for item in items or []:
        for part in item.split(','):
            name, sep, value = part.partition('=')
            if not sep:
                raise SystemExit('render_pcap: tunable %r is not NAME=VALUE' % part)
            out[name.strip()] = value.strip()
    return out


def render(profile, direction, tunables, packets=0, max_packets=None):
    """(frames, Tunables) for a loaded profile."""
    t = profile.tunables(direction, **tunables)
    return traffic.render(profile.streams(direction, **tunables), packets, max_packets), t


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('profile')
    parser.add_argument('-o', '--output', required=True, help='pcap to write')
    parser.add_argument('-t', '--tunable', action='append', metavar='NAME=VALUE[,NAME=VALUE]')
    parser.add_argument('--direction', type=int, default=None,
                        help='0: from TRex port 0 (clear, protected side), 1: from port 1; '
                             'default 1 for ESP profiles, else 0')
    parser.add_argument('--packets', type=int, default=0, help='at least this many frames')
    parser.add_argument('--max-packets', type=int, help='at most this many (whole IMIX cycles)')
    parser.add_argument('--config', help='also write the matching Corridor config here')
    parser.add_argument('--ports', nargs=2, metavar=('PROTECTED', 'UNPROTECTED'),
                        default=['0000:3b:00.0', '0000:3b:00.1'],
                        help='DPDK port names for --config (default: two PCI addresses to edit)')
    parser.add_argument('--tg-macs', nargs=2, metavar=('PORT0', 'PORT1'),
                        help='MACs of TRex\'s ports 0 and 1 for --config: the DUT sends to them '
                             '(default: the topology\'s, corridor_trex/topology.py)')
    parser.add_argument('--topology', choices=('2n', '3n'), default='2n',
                        help='--config for the 2-node topology (TRex and one DUT) or the 3-node one '
                             '(DUT1 and DUT2 between TRex\'s ports; needs -t peers=one)')
    parser.add_argument('--dut', type=int, choices=(1, 2), default=1, help='3-node: DUT1 or DUT2 (the mirror)')
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    direction = args.direction if args.direction is not None else (1 if profile.kind == 'esp' else 0)
    try:
        frames, t = render(profile, direction, parse_assignments(args.tunable), args.packets, args.max_packets)
    except ValueError as e:
        raise SystemExit('render_pcap: %s' % e)
    pcap.write(args.output, frames)
    sizes = sorted({len(f) + traffic.FCS for f in frames})
    print('%s: %d frames (%s bytes with FCS), %d tunnels, %d flows, direction %d' % (
        args.output, len(frames), '/'.join(map(str, sizes)), t.n_tunnels, t.n_flows, t.direction))
    if args.config:
        try:
            cfg = gateway.config(t, gateway.port(args.ports[0], 'protected', dut=args.dut),
                                 gateway.port(args.ports[1], 'unprotected', dut=args.dut),
                                 tg_macs=args.tg_macs, topology=args.topology, dut=args.dut)
        except ValueError as e:
            raise SystemExit('render_pcap: %s' % e)
        with open(args.config, 'w') as f:
            json.dump(cfg, f, indent=2)
            f.write('\n')
        os.chmod(args.config, 0o600)   # it holds the static SAs' keys
        print('%s: %s DUT%d, %d static SAs for %d tunnels (keys from seed %r: benchmark use only)' % (
            args.config, args.topology, args.dut, len(cfg['dataplane']['static_sas']), t.n_tunnels, t.seed))
    return 0


if __name__ == '__main__':
    sys.exit(main())
