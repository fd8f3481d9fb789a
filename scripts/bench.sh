#!/usr/bin/env bash
# Corridor's benchmarks. Figures on a shared machine are noisy: run on a quiet
# machine, more than once, and compare ratios measured in the same run.
# Each figure in docs/performance.md names the command that produced it.
#
#   scripts/bench.sh [channel|engine]        (default: all)
#   scripts/bench.sh ike [options of scripts/bench_ike.py]
#                      IKEv2 responders, corridor-control against strongSwan
#                      (root; not part of "all": it takes minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = ike ]; then
  shift
  # CORRIDOR_BUILD: another build dir (e.g. one without the dataplane).
  build=${CORRIDOR_BUILD:-build}
  scripts/deps.sh test >/dev/null  # strongSwan and iproute2 besides the build tools
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" >/dev/null
  fi
  ninja -C "$build" control/corridor-control tests/bench/corridor-bench-ike >/dev/null
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  exec /usr/bin/python3 scripts/bench_ike.py --build "$build" "$@"
fi
scripts/deps.sh build
if [ ! -f build/build.ninja ]; then
  meson setup build >/dev/null
fi
ninja -C build tests/bench/channel_bench tests/bench/corridor-bench >/dev/null

what=${1:-all}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
if [ "$what" = all ] || [ "$what" = channel ]; then
  echo "== SA channel: control -> dataplane command ring, two threads on two cores"
  build/tests/bench/channel_bench 20000000
  build/tests/bench/channel_bench 20000000 --raw
fi
if [ "$what" = all ] || [ "$what" = engine ]; then
  echo "== Packet engine: ESP burst stages on one core against the crypto alone"
  build/tests/bench/corridor-bench engine --iterations 20000 --repeat 5
fi
