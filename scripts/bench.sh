#!/usr/bin/env bash
# Corridor's benchmarks. Figures on a shared machine are noisy: run on a quiet
# machine, more than once, and compare ratios measured in the same run.
# Each figure in docs/performance.md names the command that produced it.
#
#   scripts/bench.sh [channel|engine|dataplane]     (default: all three)
#   scripts/bench.sh dataplane [options of scripts/bench_dataplane.py]
#                      corridor-dataplane forwarding a TRex kit profile
#                      (scripts/trex/) replayed from a pcap; default: IMIX,
#                      encrypt, then the same IMIX as ESP, decrypt (root)
#   scripts/bench.sh secgw [options of scripts/bench_secgw.py]
#                      DPDK's ipsec-secgw example on the same harness and
#                      traffic, for the comparison (root; builds build-secgw/
#                      from Debian's dpdk-doc)
#   scripts/bench.sh ike [options of scripts/bench_ike.py]
#                      IKEv2 responders, corridor-control against strongSwan
#                      (root; not part of "all": it takes minutes)
# CORRIDOR_BUILD: another build dir than build/.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${CORRIDOR_BUILD:-build}
machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
}
if [ "${1:-}" = ike ]; then
  shift
  scripts/deps.sh test >/dev/null  # strongSwan and iproute2 besides the build tools
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" >/dev/null
  fi
  ninja -C "$build" control/corridor-control tests/bench/corridor-bench-ike >/dev/null
  machine
  exec /usr/bin/python3 scripts/bench_ike.py --build "$build" "$@"
fi
if [ "${1:-}" = secgw ]; then
  shift
  scripts/deps.sh test >/dev/null
  dpkg -s dpdk-doc >/dev/null 2>&1 || apt-get install -y -q dpdk-doc >/dev/null
  machine
  exec /usr/bin/python3 scripts/bench_secgw.py --secgw-build "${build}-secgw" "$@"
fi
if [ "${1:-}" = dataplane ] && [ $# -gt 1 ]; then
  shift
  scripts/deps.sh test >/dev/null   # scapy renders the profiles
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" >/dev/null
  fi
  ninja -C "$build" dataplane/corridor-dataplane >/dev/null
  machine
  exec /usr/bin/python3 scripts/bench_dataplane.py --build "$build" "$@"
fi
what=${1:-all}
case "$what" in
  all|dataplane) scripts/deps.sh test >/dev/null ;;  # scapy renders the profiles
  *) scripts/deps.sh build >/dev/null ;;
esac
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" >/dev/null
fi
ninja -C "$build" tests/bench/channel_bench tests/bench/corridor-bench dataplane/corridor-dataplane >/dev/null

machine
if [ "$what" = all ] || [ "$what" = channel ]; then
  echo "== SA channel: control -> dataplane command ring, two threads on two cores"
  "$build"/tests/bench/channel_bench 20000000
  "$build"/tests/bench/channel_bench 20000000 --raw
fi
if [ "$what" = all ] || [ "$what" = engine ]; then
  echo "== Packet engine: ESP burst stages on one core against the crypto alone"
  "$build"/tests/bench/corridor-bench engine --iterations 20000 --repeat 5
fi
if [ "$what" = all ] || [ "$what" = dataplane ]; then
  echo "== corridor-dataplane on pcap replay (net_pcap in, net_null out), one lcore, TRex kit IMIX, 16 tunnels"
  /usr/bin/python3 scripts/bench_dataplane.py --build "$build" --profile udp_imix -t n_tunnels=16,n_flows=64
  /usr/bin/python3 scripts/bench_dataplane.py --build "$build" --profile esp_decrypt -t n_tunnels=16,n_flows=64
fi
