#!/usr/bin/python3
"""NDR (0 % loss) and PDR (0.5 % loss) search against a Corridor DUT with TRex.

    ndr_search.py --server 127.0.0.1 --profile profiles/corridor_udp_imix.py
        [-t NAME=VALUE ...] [--ports 0] [--max-rate 14.88mpps | --link-gbps 10]
        [--duration 10] [--precision 0.005] [--retries 2] [--time-budget 900]
        [--dut https://dut:8443 --token-file token] [--json out.json] [--csv out.csv]

    2-node encrypt:  --profile udp_imix --ports 0
    2-node decrypt:  --profile esp_decrypt --ports 1
    2-node both:     --profile udp_imix --profile esp_decrypt --ports 0 1
    3-node:          --profile udp_imix --ports 0 1       (-t peers=one)

The search (corridor_trex/search.py) runs trials of --duration seconds at
offered rates between --min-rate and --max-rate until NDR and PDR are each
known within --precision (relative width of the interval between the
highest passing and lowest failing rate), measuring again where trials
contradict each other (--retries), and stops before --time-budget runs out.
With --dut, every trial also records where the DUT lost packets, from its
GET /api/v1/stats before and after. Rates are packets per second over all
transmitting ports together (CSIT's aggregate), split evenly; the default
maximum is the line rate of --link-gbps at the largest mean frame any port
sends. Exit status 0 when every goal is settled, 2 when one ran out of time
or fails even at --min-rate.
"""
import argparse
import csv
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corridor_trex.dut import CorridorDut  # noqa: E402
from corridor_trex.search import GOALS, STATUSES, Search  # noqa: E402


def parse_rate(text):
    """'14.88mpps', '500kpps', '1000000' -> packets per second."""
    t = text.strip().lower().removesuffix('pps')
    scale = {'k': 1e3, 'm': 1e6, 'g': 1e9}.get(t[-1:], 1)
    try:
        return float(t[:-1] if scale != 1 else t) * scale
    except ValueError:
        raise argparse.ArgumentTypeError('not a rate: %r (e.g. 14.88mpps, 500kpps)' % text)


def mean_wire_frame(frames):
    """Mean size of the frames as they go on the wire, with the FCS."""
    return sum(len(f) + 4 for f in frames) / len(frames)


def line_rate_pps(link_gbps, mean_frames):
    """The highest aggregate rate: the search splits a rate evenly over the
    transmitting ports, so the port with the largest frames (mean size per
    port, e.g. ESP is larger than the clear traffic) sets it. A frame takes
    its size + 20 bytes of preamble and inter-frame gap on the link (RFC 2544)."""
    return len(mean_frames) * min(link_gbps * 1e9 / ((mean + 20) * 8) for mean in mean_frames)


def write_csv(path, result):
    with open(path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['kind', 'name', 'rate_pps', 'upper_pps', 'loss_ratio', 'sent', 'received', 'detail'])
        for g in result['goals']:
            w.writerow(['goal', g['name'], g['lower_bound_pps'], g['upper_bound_pps'], g['loss_ratio'], '', '',
                        STATUSES[g['status']]])
        for i, t in enumerate(result['trials']):
            w.writerow(['trial', i + 1, t['rate_pps'], '', t['loss_ratio'], t['sent'], t['received'],
                        ' '.join('%s=%d' % kv for kv in sorted(t['dut'].items()))])


def summary(result):
    lines = []
    for g in result['goals']:
        if g['upper_bound_pps'] is None:
            bounds = 'no failing rate'
        else:
            bounds = 'fails at %.4f Mpps, width %.2f %%' % (g['upper_bound_pps'] / 1e6, 100 * g['relative_width'])
        lines.append('%s (loss <= %g %%): %.4f Mpps (%s; %s)' % (
            g['name'], 100 * g['loss_ratio'], g['lower_bound_pps'] / 1e6, bounds, STATUSES[g['status']]))
    lines.append('%d trials%s' % (len(result['trials']), ', stopped by the time budget' if result['out_of_time'] else ''))
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--server', default='127.0.0.1', help='TRex server')
    p.add_argument('--profile', required=True, action='append',
                   help='a profile (file or short name, scripts/trex/profiles/): once for every port, '
                        'or once per port of --ports in that order')
    p.add_argument('-t', '--tunable', action='append', metavar='NAME=VALUE[,NAME=VALUE]')
    p.add_argument('--ports', type=int, nargs='+', default=[0], help='transmitting TRex ports (default 0)')
    p.add_argument('--max-rate', type=parse_rate, help='highest offered rate (default: line rate)')
    p.add_argument('--min-rate', type=parse_rate, help='lowest rate tried (default max / 1000)')
    p.add_argument('--link-gbps', type=float, default=10.0, help='link speed for the default max rate')
    p.add_argument('--duration', type=float, default=10.0, help='seconds per trial')
    p.add_argument('--precision', type=float, default=0.005, help='relative width to reach')
    p.add_argument('--retries', type=int, default=2, help='extra trials at a rate whose result is contradicted')
    p.add_argument('--time-budget', type=float, default=900.0, help='seconds for the whole search')
    p.add_argument('--dut', help='Corridor API base URL, e.g. https://192.0.2.1:8443')
    p.add_argument('--token-file', help='file holding an API bearer token with read scope')
    p.add_argument('--cafile', help='CA bundle for the DUT API\'s certificate')
    p.add_argument('--insecure', action='store_true', help='do not verify the DUT API\'s certificate')
    p.add_argument('--json', help='write the result as JSON here')
    p.add_argument('--csv', help='write goals and trials as CSV here')
    args = p.parse_args(argv)

    # Imported late: only the profile loader needs them, and --help works without scapy.
    import render_pcap
    tunables = render_pcap.parse_assignments(args.tunable)
    if len(args.profile) not in (1, len(args.ports)):
        raise SystemExit('ndr_search: give --profile once, or once per port of --ports')
    port_profiles = list(zip(args.ports, args.profile * len(args.ports) if len(args.profile) == 1 else args.profile))
    means = []
    try:
        for port, name in port_profiles:
            # What the port will send, rendered as TRex sends it (tunables checked for its direction).
            frames, _ = render_pcap.render(render_pcap.load_profile(name), port % 2, tunables, max_packets=4096)
            means.append(mean_wire_frame(frames))
    except ValueError as e:
        raise SystemExit('ndr_search: %s' % e)
    max_rate = args.max_rate or line_rate_pps(args.link_gbps, means)
    dut = None
    if args.dut:
        if not args.token_file:
            raise SystemExit('ndr_search: --dut needs --token-file')
        with open(args.token_file) as f:
            dut = CorridorDut(args.dut, f.read().strip(), cafile=args.cafile, insecure=args.insecure)
        dut.stats()   # fail now, not after the first trial, if the API is unreachable

    from corridor_trex.trex_driver import TrexDriver
    driver = TrexDriver(args.server, [(port, os.path.abspath(render_pcap.resolve(name))) for port, name in port_profiles],
                        tunables)
    try:
        search = Search(driver, max_rate, args.min_rate, args.duration, args.precision, args.retries,
                        args.time_budget, GOALS, dut, log=lambda m: print(m, flush=True))
        result = search.run()
    except RuntimeError as e:
        raise SystemExit('ndr_search: %s' % e)
    finally:
        driver.close()
    result['profiles'] = [{'port': port, 'profile': name, 'mean_frame_bytes': mean}
                          for (port, name), mean in zip(port_profiles, means)]
    result['tunables'] = tunables
    print(summary(result))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    if args.csv:
        write_csv(args.csv, result)
    return 0 if all(g['precision_reached'] for g in result['goals']) else 2




if __name__ == '__main__':
    sys.exit(main())
