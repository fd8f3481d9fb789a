#!/usr/bin/env bash
# Installs the Debian 12 packages Corridor needs, if any is missing.
# Idempotent and quiet when everything is present; sourced or run by
# scripts/test.sh and scripts/demo.sh. Usage: scripts/deps.sh [build|test|all]
set -euo pipefail

# Build: the toolchain and the libraries fixed by the design (BRIEF.md);
# python3-yaml for control/api/openapi_embed.py, which compiles
# docs/api/openapi.yaml into the daemon (GET /api/v1/openapi.json).
build_pkgs=(g++ meson ninja-build pkg-config libdpdk-dev libipsec-mb-dev libssl-dev libboost-dev
            nlohmann-json3-dev libgtest-dev googletest python3-yaml)
# Tests: clang's libFuzzer for the bounded fuzz runs, tools the test scripts use;
# scapy (with python3-cryptography) is the independent ESP/AH implementation
# the packet engine is cross-checked against; ping and ethtool for the
# network-namespace tests (ethtool turns off veth checksum offload there);
# strongSwan as the real IKE peer of the interop tests (tests/interop/strongswan/,
# see PEERS.md: libstrongswan-standard-plugins holds openssl and gcm), with
# nftables for the NAT namespace between the peers and tcpdump for captures;
# prometheus for promtool, which checks the API's /metrics output
# (promtool check metrics).
test_pkgs=(clang libclang-rt-14-dev iproute2 iputils-ping ethtool binutils python3 python3-scapy python3-cryptography
           strongswan-charon strongswan-swanctl strongswan-pki libcharon-extra-plugins libcharon-extauth-plugins
           libstrongswan-extra-plugins libstrongswan-standard-plugins nftables tcpdump prometheus)

want=("${build_pkgs[@]}")
case "${1:-all}" in
  build) ;;
  test|all) want+=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 64 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "corridor: missing packages: ${missing[*]}" >&2
  echo "corridor: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "corridor: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
