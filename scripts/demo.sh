#!/usr/bin/env bash
# Corridor's demo: the whole appliance negotiating an IPsec tunnel with IKEv2
# (or IKEv1) and carrying real traffic between network namespaces.
#
#   host A -- [Corridor gateway A] -- WAN -- [gateway B] -- host B
#
# Gateway A is corridor-dataplane (owning its LAN and WAN veths through
# net_af_packet, with its exception TAP) and corridor-control behind it.
# Gateway B is a second Corridor appliance, or strongSwan 5.9.8. Phase 1 and
# Phase 2 are negotiated (PSK, AES-256-GCM, ECP-384), host A pings host B and
# sends UDP and a 2 MB TCP stream through the tunnel, a capture shows only
# ESP and IKE on the WAN, both sides' SAs and counters are printed, and the
# IKE SA is deleted on the way out. Exit status 0 when every step worked.
#
#   scripts/demo.sh                    Corridor <-> Corridor
#   scripts/demo.sh --peer strongswan  gateway B is strongSwan (ESP in UDP 4500: it always encapsulates)
#   scripts/demo.sh --ike 1            IKEv1: Main Mode (PSK, AES-256/SHA-384, ECP-384), then Quick Mode
#   scripts/demo.sh --ike 1 --aggressive   IKEv1 Aggressive Mode (allowed with the PSK on both sides)
#   scripts/demo.sh --nat              gateway A behind a NAT that remaps ports (NAT-T)
#   scripts/demo.sh --keep             leave everything running until Ctrl-C
#   scripts/demo.sh --static           the earlier demo: static SAs, no IKE
#
# Needs root (namespaces, packet sockets). Installs what is missing and
# builds the two programs first.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh needs root: network namespaces and packet sockets" >&2
  exit 1
fi
args=()
static=false
while [ $# -gt 0 ]; do
  case "$1" in
    --static) static=true ;;
    --ike)
      case "${2:-}" in
        1|2) args+=("$1" "$2") ;;
        *) echo "demo.sh: --ike takes 1 (IKEv1) or 2 (IKEv2, the default)" >&2; exit 64 ;;
      esac
      shift ;;
    --peer|--nat|--keep|--aggressive|strongswan|corridor) args+=("$1") ;;
    *) echo "demo.sh: unknown option '$1' (see the comment at the top of $0)" >&2; exit 64 ;;
  esac
  shift
done
scripts/deps.sh all
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build dataplane/corridor-dataplane control/corridor-control >/dev/null
if $static; then
  exec /usr/bin/python3 tests/integration/netns_tunnel.py build/dataplane/corridor-dataplane --demo ${args[@]+"${args[@]}"}
fi
exec /usr/bin/python3 tests/integration/ike_tunnel.py build --demo ${args[@]+"${args[@]}"}
