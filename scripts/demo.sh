#!/usr/bin/env bash
# Corridor's demo: a real IPsec tunnel with real traffic between network
# namespaces. Two corridor-dataplane gateways (net_af_packet on veth pairs,
# static AES-256-GCM SAs) connect two hosts; host A pings host B, sends UDP
# and a TCP stream through the tunnel, and a capture on the WAN link shows
# only ESP. Every step is printed; the exit status says whether it all worked.
#
#   scripts/demo.sh            run it and tear everything down
#   scripts/demo.sh --keep     leave the namespaces and gateways running
#
# Needs root (namespaces, packet sockets). Installs what is missing and
# builds corridor-dataplane first.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh needs root: network namespaces and packet sockets" >&2
  exit 1
fi
scripts/deps.sh all
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build dataplane/corridor-dataplane >/dev/null
exec /usr/bin/python3 tests/integration/netns_tunnel.py build/dataplane/corridor-dataplane --demo "$@"
