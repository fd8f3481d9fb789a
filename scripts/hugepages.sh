#!/usr/bin/env bash
# Reserves 2 MB hugepages and mounts hugetlbfs at /dev/hugepages when this
# machine allows it (root, hugetlbfs in the kernel). Never fails: DPDK tests
# also run with --no-huge. Prints whether hugepages are usable.
set -u
want=${CORRIDOR_HUGEPAGES:-256}
nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ -w "$nr" ] && [ "$(cat "$nr")" -lt "$want" ]; then
  echo "$want" > "$nr" 2>/dev/null || true
fi
if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
  mkdir -p /dev/hugepages 2>/dev/null && mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
fi
have=$(cat "$nr" 2>/dev/null || echo 0)
if [ "$have" -gt 0 ] && grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
  echo "hugepages: $have x 2 MB at /dev/hugepages"
else
  echo "hugepages: not available here; DPDK tests run with --no-huge"
fi
