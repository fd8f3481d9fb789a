#!/bin/sh
# The architecture's rule: corridor-control never links DPDK or IPsec-MB, so
# it can restart (or run alone against the kernel stack) independently of
# the dataplane. Checks both dynamic dependencies and statically linked symbols.
set -u
bin=$1
needed=$(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
if echo "$needed" | grep -E '^(librte_|libdpdk|libIPSec_MB)'; then
  echo "FAIL: corridor-control links DPDK/IPsec-MB dynamically"; exit 1
fi
if nm -D --undefined-only "$bin" 2>/dev/null | grep -E ' (rte_|imb_|init_mb_mgr)'; then
  echo "FAIL: corridor-control references DPDK/IPsec-MB symbols"; exit 1
fi
if nm "$bin" 2>/dev/null | grep -E ' [TtDdBb] (rte_eal_init|alloc_mb_mgr)$'; then
  echo "FAIL: corridor-control has DPDK/IPsec-MB code linked in"; exit 1
fi
echo "corridor-control links: $(echo $needed)"
echo "control_deps: no DPDK, no IPsec-MB"
