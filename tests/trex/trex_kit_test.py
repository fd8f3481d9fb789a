#!/usr/bin/python3
"""The TRex kit (scripts/trex/) without TRex.

    /usr/bin/python3 tests/trex/trex_kit_test.py BUILD_ROOT [unittest options]

- Every profile renders, under several tunable settings, into frames that
  scapy parses back with the topology's addresses, the requested sizes and
  IMIX ratios, and exactly the requested numbers of tunnels and flows.
- Pre-encrypted ESP decrypts with the SAs of the config render_pcap.py
  writes (keys read back from the config file, not from the generator), and
  corridor-control --check accepts that config.
- Bad tunables are refused with a message naming the tunable.
- The 3-node topology's two configs (render_pcap.py --dut 1 and --dut 2)
  as two real corridor-dataplane processes on net_pcap ports: each decrypts
  exactly what the other encrypted, both ways, over every tunnel.
- The NDR/PDR search, through its Driver interface, against simulated
  devices: a clean capacity limit, one spurious loss below it, random
  noise, a device that passes at the maximum rate, and a time budget.
- The DUT hook against a real corridor-control API (loopback, plain HTTP,
  a read token made by corridorctl), and its drop attribution.

TRex's own objects (corridor_trex/stl.py, trex_driver.py) are not exercised:
TRex is not installable on this machine.
"""
import ipaddress
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
sys.path.insert(0, os.path.join(ROOT, 'scripts', 'trex'))

from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.utils import checksum  # noqa: E402

import render_pcap  # noqa: E402
from corridor_trex import dut, esp, gateway, pcap, search, traffic  # noqa: E402
from corridor_trex import topology as topo  # noqa: E402

BUILD = None
CLEAR_PROFILES = {'udp_64b': [64], 'udp_imix': [64, 570, 1518], 'udp_1518b': [1518]}
SETTINGS = [{}, {'n_tunnels': '4'}, {'n_tunnels': '3', 'n_flows': '12'}, {'n_tunnels': '300', 'n_flows': '600'}]


def frames_of(profile, direction, **tunables):
    frames, t = render_pcap.render(render_pcap.load_profile(profile), direction, tunables)
    return frames, t


class ClearProfiles(unittest.TestCase):
    def check_profile(self, name, sizes, direction, tunables):
        frames, t = frames_of(name, direction, **tunables)
        n_tunnels = int(tunables.get('n_tunnels', 1))
        n_flows = int(tunables.get('n_flows', n_tunnels))
        self.assertEqual((t.n_tunnels, t.n_flows), (n_tunnels, n_flows))
        tunnels, flows, by_size = set(), set(), {}
        for raw in frames:
            p = Ether(raw)
            self.assertIn(len(raw) + 4, sizes)
            by_size[len(raw) + 4] = by_size.get(len(raw) + 4, 0) + 1
            ip, udp = p[IP], p[UDP]
            local, remote = (ip.src, ip.dst) if direction == 0 else (ip.dst, ip.src)
            self.assertEqual(local, topo.LAN_HOST)
            # Direction 1 is the 3-node topology's: into DUT2's protected port.
            self.assertEqual(p.dst, topo.DUT_LAN_MAC if direction == 0 else topo.DUT2_LAN_MAC)
            # The remote host of a tunnel: 10.128.0.0 + 256 t + 10.
            offset = int(ipaddress.IPv4Address(remote)) - topo.ip_int(topo.REMOTE_BASE) - topo.REMOTE_HOST
            self.assertEqual(offset % 256, 0, remote)
            self.assertLess(offset // 256, n_tunnels)
            self.assertEqual(udp.dport, topo.UDP_DPORT)
            self.assertEqual(ip.len, len(raw) - 14)
            # The IPv4 checksum is right after the field engine's writes.
            header = bytearray(raw[14:14 + ip.ihl * 4])
            header[10:12] = b'\0\0'
            self.assertEqual(ip.chksum, checksum(bytes(header)))
            tunnels.add(remote)
            flows.add((remote, udp.sport))
        self.assertEqual(len(tunnels), n_tunnels)
        self.assertEqual(len(flows), n_flows)
        self.assertEqual({sport for _, sport in flows},
                         set(range(topo.UDP_SPORT_BASE, topo.UDP_SPORT_BASE + n_flows)))
        if len(sizes) == 3:   # IMIX: 28 : 16 : 4 exactly, over whole cycles
            cycles = len(frames) // 48
            self.assertEqual(len(frames) % 48, 0)
            self.assertEqual(by_size, {64: 28 * cycles, 570: 16 * cycles, 1518: 4 * cycles})
            # Spread out as TRex's rates interleave them, not in runs of 28.
            first_cycle = [len(f) + 4 for f in frames[:48]]
            self.assertLessEqual(max_run(first_cycle, 64), 3)

    def test_every_clear_profile_and_setting(self):
        for name, sizes in CLEAR_PROFILES.items():
            for direction in (0, 1):
                for tunables in SETTINGS:
                    with self.subTest(profile=name, direction=direction, **tunables):
                        self.check_profile(name, sizes, direction, tunables)

    def test_flow_variables_step_as_trex_does(self):
        """TRex's datapath steps an "inc" variable modulo its range: past
        max it goes on from min + (step - (max - current) - 1). The model
        render() uses must agree, also where the range is no multiple of
        the step."""
        for lo, hi, step in ((0, 9, 1), (100, 1123, 256), (100, 868, 256), (5, 17, 4)):
            v = traffic.FlowVar('x', 'IP.dst', lo, hi, step)
            current, seen = lo, []
            for i in range(3 * (hi - lo + 1)):
                self.assertEqual(v.value(i), current, (lo, hi, step, i))
                seen.append(current)
                current = lo + (step - (hi - current) - 1) if current + step > hi else current + step
            self.assertEqual(v.count, len(set(seen)), (lo, hi, step))

    def test_size_tunable(self):
        frames, _ = frames_of('udp_64b', 0, size='128')
        self.assertEqual({len(f) + 4 for f in frames}, {128})
        frames, _ = frames_of('udp_1518b', 0, size='imix')
        self.assertEqual({len(f) + 4 for f in frames}, {64, 570, 1518})

    def test_tunables_as_trex_argv(self):
        """TRex v2.89+ passes tunables as an argv list."""
        profile = render_pcap.load_profile('udp_64b')
        t = profile.tunables(0, tunables=['--size', '256', '--n_tunnels', '2', '--n_flows', '8'])
        self.assertEqual((t.size, t.n_tunnels, t.n_flows), ('256', 2, 8))
        t = profile.tunables(direction=1, port_id=1, size='imix')   # as older TRex passes them
        self.assertEqual((t.size, t.direction), ('imix', 1))

    def test_get_streams_signature_takes_every_tunable(self):
        """TRex before v2.89 lists a profile's tunables from get_streams()'s
        signature (every argument after self needs a default) and refuses
        `-t name=value` for a name not in it."""
        import inspect
        for name in list(CLEAR_PROFILES) + ['esp_decrypt']:
            params = inspect.signature(render_pcap.load_profile(name).get_streams).parameters
            positional = [p for p in params.values() if p.kind == p.POSITIONAL_OR_KEYWORD]
            self.assertTrue(all(p.default is not p.empty for p in positional), name)
            for tunable in traffic.STRING_TUNABLES + traffic.INT_TUNABLES + ('direction', 'tunables'):
                self.assertIn(tunable, params, name)

    def test_bad_tunables_are_refused(self):
        profile = render_pcap.load_profile('udp_imix')
        cases = [({'size': '63'}, 'size'), ({'size': 'jumbo'}, 'size'), ({'n_tunnels': '0'}, 'n_tunnels'),
                 ({'n_tunnels': '40000'}, 'n_tunnels'), ({'n_tunnels': '4', 'n_flows': '6'}, 'multiple'),
                 ({'colour': 'red'}, 'colour'), ({'proposal': 'des-md5'}, 'proposal'),
                 ({'peers': 'some'}, 'peers')]
        for tunables, word in cases:
            with self.subTest(**tunables):
                with self.assertRaises(ValueError) as e:
                    profile.streams(0, **tunables)
                self.assertIn(word, str(e.exception))
        with self.assertRaises(ValueError) as e:
            render_pcap.load_profile('esp_decrypt').streams(0)
        self.assertIn('port 1', str(e.exception))


def max_run(values, value):
    best = run = 0
    for v in values:
        run = run + 1 if v == value else 0
        best = max(best, run)
    return best


class EspProfile(unittest.TestCase):
    def render_with_config(self, workdir, *tunables):
        out, config = os.path.join(workdir, 'esp.pcap'), os.path.join(workdir, 'gw.json')
        args = ['esp_decrypt', '-o', out, '--config', config, '--ports', 'net_pcap0', 'net_pcap1']
        for t in tunables:
            args += ['-t', t]
        self.assertEqual(render_pcap.main(args), 0)
        with open(config) as f:
            return pcap.read(out), json.load(f), config

    def sa_from_config(self, entry):
        """A peer's SA from the DUT's static_sas entry: the keys as the DUT will read them."""
        crypt, _, auth, _ = esp.PROPOSALS[entry['proposal']]
        return SecurityAssociation(ESP, spi=int(entry['spi'], 16), crypt_algo=crypt,
                                   crypt_key=bytes.fromhex(entry['key'][2:]), auth_algo=auth,
                                   auth_key=bytes.fromhex(entry['integ_key'][2:]) if 'integ_key' in entry else None,
                                   tunnel_header=IP(src=entry['remote'], dst=entry['local']))

    def test_esp_decrypts_with_the_rendered_config(self):
        for proposal in esp.PROPOSALS:
            for tunables in ('n_tunnels=3,n_flows=6', 'size=64', 'n_tunnels=2,size=1518'):
                with self.subTest(proposal=proposal, tunables=tunables), tempfile.TemporaryDirectory() as wd:
                    frames, config, path = self.render_with_config(wd, tunables, 'proposal=' + proposal)
                    self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
                    t = traffic.parse_tunables({'size': 'imix'}, 1, **dict(
                        kv.split('=') for kv in tunables.split(',')))
                    inbound = {int(e['spi'], 16): e for e in config['dataplane']['static_sas']
                               if e['direction'] == 'in'}
                    self.assertEqual(len(inbound), t.n_tunnels)
                    self.assertTrue(all(e['replay_window'] == 0 for e in inbound.values()))
                    want_sizes = {s for s, _ in t.frame_sizes()}
                    flows = set()
                    for raw in frames:
                        p = Ether(raw)
                        self.assertEqual((p.dst, p[IP].dst), (topo.DUT_WAN_MAC, topo.DUT_WAN))
                        entry = inbound[p[ESP].spi]
                        self.assertEqual(p[IP].src, entry['remote'])
                        inner = self.sa_from_config(entry).decrypt(p[IP])
                        # The clear frame the DUT puts out: 14 + inner IP + FCS.
                        self.assertIn(14 + len(inner) + 4, want_sizes)
                        self.assertEqual(inner[IP].dst, topo.LAN_HOST)
                        self.assertIn(ipaddress.IPv4Address(inner[IP].src),
                                      ipaddress.IPv4Network(entry['remote_ts'][0]))
                        flows.add((inner[IP].src, inner[UDP].sport))
                    self.assertEqual(len(flows), t.n_flows)

    def test_corridor_accepts_the_rendered_config(self):
        with tempfile.TemporaryDirectory() as wd:
            _, config, path = self.render_with_config(wd, 'n_tunnels=50,proposal=aes256-sha256')
            self.assertEqual(len(config['dataplane']['static_sas']), 100)
            r = subprocess.run([os.path.join(BUILD, 'control', 'corridor-control'), '--config', path, '--check'],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_configs_per_topology(self):
        t = traffic.parse_tunables({'size': '64'}, n_tunnels='2', peers='one')
        ports = lambda dut: (gateway.port('p0', 'protected', dut=dut), gateway.port('p1', 'unprotected', dut=dut))
        macs = ('0c:00:00:00:00:10', '0c:00:00:00:00:11')
        neighbors = lambda cfg: {n['ip']: n['mac'] for n in cfg['dataplane']['neighbors']}
        two = gateway.config(t, *ports(1), tg_macs=macs)
        self.assertEqual(neighbors(two), {topo.TG_WAN: macs[1], topo.LAN_HOST: macs[0]})
        dut1 = gateway.config(t, *ports(1), tg_macs=macs, topology='3n', dut=1)
        # 3-node: DUT1's ESP goes to DUT2's port, its clear traffic to TRex port 0.
        self.assertEqual(neighbors(dut1), {topo.TG_WAN: topo.TG_WAN_MAC, topo.LAN_HOST: macs[0]})
        dut2 = gateway.config(t, *ports(2), tg_macs=macs, topology='3n', dut=2)
        self.assertEqual(neighbors(dut2), {topo.DUT_WAN: topo.DUT_WAN_MAC, topo.TG2_LAN: macs[1]})
        self.assertEqual(dut2['dataplane']['ports'][1]['mac'], topo.TG_WAN_MAC)
        # The mirror: DUT2's out SA is DUT1's in SA, same SPI and key, addresses swapped.
        sas1 = {(sa['spi'], sa['direction']): sa for sa in dut1['dataplane']['static_sas']}
        for sa in dut2['dataplane']['static_sas']:
            other = sas1[(sa['spi'], 'in' if sa['direction'] == 'out' else 'out')]
            self.assertEqual((sa['key'], sa['local'], sa['remote'], sa['local_ts']),
                             (other['key'], other['remote'], other['local'], other['remote_ts']))
        for kw, word in (({'dut': 2}, '3-node'), ({'topology': '4n'}, 'topology')):
            with self.subTest(**kw), self.assertRaises(ValueError) as e:
                gateway.config(t, *ports(1), **kw)
            self.assertIn(word, str(e.exception))
        with self.assertRaises(ValueError) as e:
            gateway.config(traffic.parse_tunables({}), *ports(1), topology='3n')
        self.assertIn('peers=one', str(e.exception))

    def test_rendering_is_reproducible(self):
        """The same tunables give the same bytes: the IVs come from the seed."""
        first, _ = frames_of('esp_decrypt', 1, n_tunnels='3', proposal='aes128-sha256')
        again, _ = frames_of('esp_decrypt', 1, n_tunnels='3', proposal='aes128-sha256')
        self.assertEqual(first, again)
        other, _ = frames_of('esp_decrypt', 1, n_tunnels='3', proposal='aes128-sha256', seed='other')
        self.assertNotEqual(first, other)

    def test_too_many_esp_streams_for_trex(self):
        from corridor_trex import stl
        streams = render_pcap.load_profile('esp_decrypt').streams(1, n_tunnels='10', n_flows='40')
        limit, stl.MAX_STREAMS = stl.MAX_STREAMS, 100   # 3 x 40 frames: over a limit of 100
        try:
            with self.assertRaises(ValueError) as e:     # refused before TRex is needed
                stl.to_stl(streams)
        finally:
            stl.MAX_STREAMS = limit
        self.assertIn('n_flows', str(e.exception))

    def test_keys_differ_per_sa_and_per_seed(self):
        sas = esp.static_sas(64, 'aes128gcm16', 'a')
        self.assertEqual(len({sa.key for sa in sas}), 128)
        self.assertNotEqual(esp.static_sas(1, 'aes128gcm16', 'b')[0].key, sas[0].key)


class ThreeNode(unittest.TestCase):
    """DUT1 and DUT2 of the 3-node topology as two real corridor-dataplane
    processes on net_pcap ports, their WAN sides joined through pcap files:
    DUT2 encrypts the direction-1 traffic, DUT1 decrypts that and encrypts
    the direction-0 traffic, DUT2 decrypts that. What comes out of each
    protected port is what went into the other one. Checks that the two
    rendered configs mirror each other."""

    def run_dut(self, wd, name, dut, t, protected_rx, unprotected_rx):
        paths = {'lan_out': os.path.join(wd, name + '-lan-out.pcap'), 'wan_out': os.path.join(wd, name + '-wan-out.pcap')}
        ports = [gateway.port('net_pcap0', 'protected', 'rx_pcap=%s,tx_pcap=%s' % (protected_rx, paths['lan_out']), dut),
                 gateway.port('net_pcap1', 'unprotected', 'rx_pcap=%s,tx_pcap=%s' % (unprotected_rx, paths['wan_out']),
                              dut)]
        tag = 'corridor-trex-%s-%d' % (name, os.getpid())
        cfg = gateway.config(t, *ports, poll_mode='adaptive', sa_channel='/' + tag, topology='3n', dut=dut)
        config, stats = os.path.join(wd, name + '.json'), os.path.join(wd, name + '-stats.json')
        with open(config, 'w') as f:
            json.dump(cfg, f)
        expected = len(pcap.read(protected_rx)) + len(pcap.read(unprotected_rx))
        proc = subprocess.Popen([os.path.join(BUILD, 'dataplane', 'corridor-dataplane'), '--no-huge', '-m', '256',
                                 '--file-prefix', tag, '--log-level', 'error', '--', '--config', config,
                                 '--stats', stats], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.time() + 30
            while time.time() < deadline and proc.poll() is None:
                if os.path.exists(stats):
                    proc.send_signal(signal.SIGUSR1)
                    time.sleep(0.2)
                    with open(stats) as f:
                        if json.load(f)['forwarding']['rx'] >= expected:
                            break
                time.sleep(0.1)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            output = proc.communicate(timeout=30)[0]
            subprocess.run(['rm', '-rf', '/dev/shm/' + tag, '/var/run/dpdk/' + tag])
        self.assertEqual(proc.returncode, 0, output)
        with open(stats) as f:
            final = json.load(f)
        self.assertEqual(final['forwarding']['rx'], expected, final['forwarding'])
        self.assertFalse({k: v for k, v in final['forwarding']['drops'].items() if v}, name)
        return {k: pcap.read(v) if os.path.getsize(v) > 24 else [] for k, v in paths.items()}, final

    @staticmethod
    def flows(frames):
        """What must survive the tunnel: addresses, ports, length, payload."""
        out = []
        for raw in frames:
            ip = Ether(raw)[IP]
            out.append((ip.src, ip.dst, ip[UDP].sport, ip.len, bytes(ip[UDP].payload)))
        return sorted(out)

    def test_dut1_and_dut2_terminate_each_other(self):
        if not os.path.exists(os.path.join(BUILD, 'dataplane', 'corridor-dataplane')):
            self.skipTest('built without the dataplane (no DPDK or IPsec-MB)')
        tunables = {'n_tunnels': '4', 'n_flows': '8', 'peers': 'one', 'proposal': 'aes256gcm16'}
        with tempfile.TemporaryDirectory() as wd:
            inputs = {}
            for direction in (0, 1):
                frames, t = frames_of('udp_imix', direction, **tunables)
                inputs[direction] = os.path.join(wd, 'clear%d.pcap' % direction)
                pcap.write(inputs[direction], frames)
            empty = os.path.join(wd, 'empty.pcap')
            pcap.write(empty, [])
            dut2_first, _ = self.run_dut(wd, 'dut2-a', 2, t, inputs[1], empty)
            dut1, stats1 = self.run_dut(wd, 'dut1', 1, t, inputs[0], os.path.join(wd, 'dut2-a-wan-out.pcap'))
            dut2, stats2 = self.run_dut(wd, 'dut2-b', 2, t, empty, os.path.join(wd, 'dut1-wan-out.pcap'))
            clear = {d: pcap.read(inputs[d]) for d in (0, 1)}
            self.assertEqual(len(dut2_first['wan_out']), len(clear[1]))
            self.assertTrue(all(Ether(f).haslayer(ESP) for f in dut1['wan_out'] + dut2_first['wan_out']))
            self.assertEqual(self.flows(dut1['lan_out']), self.flows(clear[1]))    # DUT2 -> DUT1
            self.assertEqual(self.flows(dut2['lan_out']), self.flows(clear[0]))    # DUT1 -> DUT2
            for stats in (stats1, stats2):
                inbound = [sa for sa in stats['sas'] if sa['direction'] == 'in']
                self.assertEqual(len(inbound), 4)
                self.assertTrue(all(sa['packets'] > 0 and not sa['drops'] for sa in inbound), inbound)


# --- The search against simulated devices ---------------------------------

class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class SimulatedDevice(search.Driver):
    """Forwards up to `capacity` packets per second; above it the excess is
    lost. `spurious` maps a rate to how many of its trials lose 0.1 % of
    the packets anyway (fails NDR, passes PDR); `noise` is a probability of
    that on any trial. Each trial moves the clock by its duration plus 1 s
    of set-up."""

    def __init__(self, capacity, clock, spurious=None, noise=0.0, seed=1):
        self.capacity = capacity
        self.clock = clock
        self.spurious = dict(spurious or {})
        self.noise = noise
        self.rng = random.Random(seed)
        self.rates = []

    def trial(self, rate, duration):
        self.rates.append(rate)
        self.clock.now += duration + 1
        sent = int(rate * duration)
        received = min(sent, int(self.capacity * duration))
        hit = self.rng.random() < self.noise
        for r in list(self.spurious):
            if abs(r - rate) < 1e-6 * r and self.spurious[r] > 0:
                self.spurious[r] -= 1
                hit = True
        if hit:
            received -= max(1, sent // 1000)
        return sent, received


def run_search(device, clock, **kw):
    options = dict(max_rate=10e6, duration=10, precision=0.005, retries=2, time_budget=3600, clock=clock)
    options.update(kw)
    return search.Search(device, **options).run()


def goal(result, name):
    return next(g for g in result['goals'] if g['name'] == name)


class SearchLogic(unittest.TestCase):
    def assert_brackets(self, g, true_rate, precision=0.005):
        self.assertTrue(g['precision_reached'], g)
        self.assertLessEqual(g['lower_bound_pps'], true_rate * (1 + 1e-9), g)
        self.assertGreater(g['upper_bound_pps'], true_rate, g)
        self.assertLessEqual(g['relative_width'], precision, g)

    def test_finds_ndr_and_pdr_within_precision(self):
        for capacity in (1.234e6, 4e6, 9.9e6):
            with self.subTest(capacity=capacity):
                clock = Clock()
                result = run_search(SimulatedDevice(capacity, clock), clock)
                self.assert_brackets(goal(result, 'NDR'), capacity)
                # PDR: loss = 1 - capacity / rate <= 0.5 %  <=>  rate <= capacity / 0.995.
                self.assert_brackets(goal(result, 'PDR'), capacity / 0.995)
                self.assertFalse(result['out_of_time'])
                self.assertLess(len(result['trials']), 40)
                # The second trial is the receive rate the first one measured.
                self.assertAlmostEqual(result['trials'][1]['rate_pps'], capacity, delta=1)

    def test_a_spurious_loss_is_measured_again(self):
        clock = Clock()
        capacity = 3e6
        # The second trial is at the first one's receive rate, the capacity
        # itself: make it lose once, so that it looks like the upper bound.
        victim = capacity
        device = SimulatedDevice(capacity, clock, spurious={victim: 1})
        result = run_search(device, clock)
        self.assert_brackets(goal(result, 'NDR'), capacity)
        self.assertGreaterEqual(sum(1 for r in device.rates if r == victim), 2,
                                'the contradicted rate was not measured again')

    def test_noise_with_retries(self):
        for seed in range(1, 11):
            with self.subTest(seed=seed):
                clock = Clock()
                capacity = 2e6
                result = run_search(SimulatedDevice(capacity, clock, noise=0.1, seed=seed), clock, retries=4)
                ndr = goal(result, 'NDR')
                self.assertTrue(ndr['precision_reached'])
                # Noise only loses packets: it can pull a result down, never
                # push it up; with retries it stays close.
                for g, true_rate in ((ndr, capacity), (goal(result, 'PDR'), capacity / 0.995)):
                    self.assertTrue(g['precision_reached'], g)
                    self.assertLessEqual(g['lower_bound_pps'], true_rate, g)
                    self.assertGreater(g['lower_bound_pps'], true_rate * 0.95, g)
                    self.assertLessEqual(g['relative_width'], 0.005, g)

    def test_max_rate_passes(self):
        clock = Clock()
        result = run_search(SimulatedDevice(20e6, clock), clock)
        for g in result['goals']:
            self.assertEqual((g['lower_bound_pps'], g['upper_bound_pps']), (10e6, None))
        self.assertEqual(len(result['trials']), 2)   # the one passing trial, confirmed

    def test_stops_within_its_time_budget(self):
        for budget in (5, 25, 53, 80):
            with self.subTest(budget=budget):
                clock = Clock()
                device = SimulatedDevice(1e6, clock, spurious={1e6: 1})
                result = run_search(device, clock, time_budget=budget)
                self.assertTrue(result['out_of_time'])
                # Each trial takes 11 s (1 s beyond its duration): none starts without room for it.
                self.assertLessEqual(clock.now, budget)
                self.assertEqual(len(result['trials']), len(device.rates))
                for g in result['goals']:
                    self.assertFalse(g['precision_reached'], g)
                    self.assertIn(g['status'], ('out_of_time', 'not_started'))
                    self.assert_consistent(result, g)
        clock = Clock()
        result = run_search(SimulatedDevice(1e6, clock), clock, time_budget=5)
        self.assertEqual([g['status'] for g in result['goals']], ['not_started', 'not_started'])
        self.assertEqual(result['trials'], [])

    def assert_consistent(self, result, g):
        """The reported bounds are what the trials say, by majority."""
        def passes(rate):
            verdicts = [t['loss_ratio'] <= g['loss_ratio'] for t in result['trials'] if t['rate_pps'] == rate]
            return sum(verdicts) * 2 > len(verdicts)
        if g['lower_bound_pps']:
            self.assertTrue(passes(g['lower_bound_pps']), g)
        if g['upper_bound_pps'] is not None:
            self.assertFalse(passes(g['upper_bound_pps']), g)
            self.assertLess(g['lower_bound_pps'], g['upper_bound_pps'])

    def test_fails_even_at_min_rate(self):
        class Broken(SimulatedDevice):
            def trial(self, rate, duration):
                sent, _ = super().trial(rate, duration)
                return sent, 0         # a DUT that forwards nothing
        clock = Clock()
        result = run_search(Broken(1e6, clock), clock, min_rate=1e5)
        for g in result['goals']:
            self.assertEqual(g['status'], 'fails_at_min_rate')
            self.assertFalse(g['precision_reached'])
            self.assertEqual(g['lower_bound_pps'], 0)
        self.assertIn('fails even at the minimum rate', __import__('ndr_search').summary(result))

    def test_disputed_rates_get_an_odd_number_of_trials(self):
        for retries, most in ((0, 3), (1, 3), (2, 5), (3, 5)):
            self.assertEqual(search.Search(None, max_rate=1e6, retries=retries).max_trials_at_rate, most)

    def test_dut_breakdown_goes_into_each_trial(self):
        class FakeDut:
            def __init__(self):
                self.n = 0

            def snapshot(self, after_trial=False):
                self.n += 1
                return {'dataplane': {'replay_drops': self.n, 'forward_drops': {'no_policy': 2 * self.n}}}

            breakdown = staticmethod(dut.breakdown)
        clock = Clock()
        result = search.Search(SimulatedDevice(1e6, clock), max_rate=1e6, clock=clock, dut=FakeDut()).run()
        self.assertEqual(result['trials'][0]['dut'], {'replay': 1, 'policy': 2})

    def test_report_json_csv_and_summary(self):
        import csv
        import ndr_search
        clock = Clock()
        result = search.Search(SimulatedDevice(2e6, clock), max_rate=10e6, clock=clock).run()
        with tempfile.TemporaryDirectory() as wd:
            path = os.path.join(wd, 'r.csv')
            ndr_search.write_csv(path, result)
            with open(path) as f:
                rows = list(csv.DictReader(f))
        goals = {r['name']: r for r in rows if r['kind'] == 'goal'}
        self.assertEqual(float(goals['NDR']['rate_pps']), goal(result, 'NDR')['lower_bound_pps'])
        self.assertEqual(len([r for r in rows if r['kind'] == 'trial']), len(result['trials']))
        json.dumps(result)   # serialisable as it is
        text = ndr_search.summary(result)
        self.assertIn('NDR (loss <= 0 %): 2.0000 Mpps', text)
        self.assertIn('PDR (loss <= 0.5 %)', text)
        self.assertEqual(ndr_search.parse_rate('14.88mpps'), 14.88e6)
        self.assertEqual(ndr_search.parse_rate('500kpps'), 500e3)
        self.assertEqual(ndr_search.parse_rate('1000'), 1000)
        frames, _ = frames_of('udp_imix', 0)
        # 10 Gbit/s of IMIX (mean 353.8 B + 20 B of preamble and gap): 3.34 Mpps.
        self.assertAlmostEqual(ndr_search.line_rate_pps(10, [ndr_search.mean_wire_frame(frames)]) / 1e6,
                               3.344, places=3)
        # Two ports, one sending larger (ESP) frames: it sets the rate of both.
        esp_frames, _ = frames_of('esp_decrypt', 1, size='64')
        self.assertEqual(ndr_search.mean_wire_frame(esp_frames), 118)
        self.assertAlmostEqual(ndr_search.line_rate_pps(10, [64, 118]), 2 * 10e9 / (138 * 8))

    def test_bad_settings(self):
        for kw in ({'max_rate': 0}, {'max_rate': 1e6, 'precision': 1.5}, {'max_rate': 1e6, 'min_rate': 0},
                   {'max_rate': 1e6, 'min_rate': 2e6}, {'max_rate': 1e6, 'retries': -1}):
            with self.subTest(**kw), self.assertRaises(ValueError):
                search.Search(None, **kw)


# --- The DUT hook against corridor-control --------------------------------

class DutHook(unittest.TestCase):
    def test_breakdown_by_place(self):
        before = {'dataplane': {'icv_failures': 1, 'malformed_drops': 0, 'replay_drops': 5,
                                'ports': [{'rx_missed': 10, 'rx_errors': 0, 'rx_no_mbuf': 0, 'tx_errors': 1}],
                                'workers': [{'engine_drops': 6}],
                                'forward_drops': {'no_route': 3}}}
        # During the trial: 100 frames missed by the NIC, 3 ICV failures, 1
        # malformed, 2 replayed and 1 other engine drop (the engine counted
        # all 7), 7 without a policy, 1 for an SA just deleted, 4 TX full.
        after = {'dataplane': {'icv_failures': 4, 'malformed_drops': 1, 'replay_drops': 7,
                               'ports': [{'rx_missed': 110, 'rx_errors': 0, 'rx_no_mbuf': 0, 'tx_errors': 1}],
                               'workers': [{'engine_drops': 13}],
                               'forward_drops': {'no_route': 3, 'no_policy': 7, 'sa_gone': 1, 'tx_full': 4}}}
        self.assertEqual(dut.breakdown(before, after),
                         {'nic': 100, 'crypto': 5, 'replay': 2, 'policy': 8, 'forwarding': 4})
        self.assertEqual(dut.breakdown({}, {}), {})

    def test_against_corridor_control(self):
        with tempfile.TemporaryDirectory() as wd:
            tokens = os.path.join(wd, 'tokens.json')
            ctl = os.path.join(BUILD, 'tools', 'corridorctl', 'corridorctl')
            token = subprocess.run([ctl, 'token', 'create', '--scope', 'read', '--tokens', tokens],
                                   capture_output=True, text=True, check=True).stdout.strip()
            with socket.socket() as s:
                s.bind(('127.0.0.1', 0))
                port = s.getsockname()[1]
            config = os.path.join(wd, 'control.json')
            with open(config, 'w') as f:
                json.dump({'api': {'listen': '127.0.0.1:%d' % port, 'allow_plain_http': True, 'tokens': tokens},
                           'sa_channel': {'name': '/corridor-trex-test-%d' % os.getpid()},
                           'logging': {'level': 'warning'}}, f)
            proc = subprocess.Popen([os.path.join(BUILD, 'control', 'corridor-control'), '--config', config],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                hook = dut.CorridorDut('http://127.0.0.1:%d' % port, token, settle=0)
                deadline = time.time() + 20
                while True:
                    try:
                        stats = hook.snapshot()
                        break
                    except OSError:
                        if time.time() > deadline or proc.poll() is not None:
                            raise
                        time.sleep(0.1)
                self.assertIn('dataplane', stats)
                self.assertIn('sa_channel', stats)
                self.assertEqual(hook.breakdown(stats, hook.snapshot(after_trial=True)), {})
                bad = dut.CorridorDut('http://127.0.0.1:%d' % port, 'crd_wrong_token')
                with self.assertRaises(OSError) as e:    # urllib's HTTPError is an OSError
                    bad.stats()
                self.assertIn('401', str(e.exception))
            finally:
                proc.terminate()
                proc.communicate(timeout=30)
                subprocess.run(['rm', '-f', '/dev/shm/corridor-trex-test-%d' % os.getpid()])


if __name__ == '__main__':
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(64)
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=1)
