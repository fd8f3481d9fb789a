#!/bin/sh
# corridor-control --check on an invalid config: exit 2, every error printed
# as "error: <JSON pointer>: <message>", and nothing claims the config is OK.
set -u
bin=$1
bad=$2
out=$("$bin" --config "$bad" --check)
rc=$?
fail() { echo "FAIL: $*"; echo "--- output (exit $rc) ---"; echo "$out"; exit 1; }
[ "$rc" -eq 2 ] || fail "expected exit 2"
echo "$out" | grep -qx 'error: /connections/site-b/children/lans/local_ts/1: not a CIDR: 10.1.0.0/33 (prefix length must be 0..32: 10.1.0.0/33)' || fail "local_ts/1 error missing"
echo "$out" | grep -qx "error: /connections/site-b/children/lans/start_action: must be one of none, trap, start (got 'strat')" || fail "start_action error missing"
echo "$out" | grep -qx "error: /connections/site-b/dpd_dealy: unknown key 'dpd_dealy', did you mean 'dpd_delay'?" || fail "typo suggestion missing"
echo "$out" | grep -q 'config OK' && fail "printed config OK"
echo "$out" | tail -n 1 | grep -q '3 errors, nothing applied' || fail "summary line missing"

# Usage errors are not config errors.
"$bin" --check >/dev/null 2>&1
[ $? -eq 64 ] || { echo "FAIL: missing --config should exit 64"; exit 1; }
"$bin" --config /nonexistent.json --check >/dev/null
[ $? -eq 2 ] || { echo "FAIL: unreadable config should exit 2"; exit 1; }
echo "check_cli: all assertions passed"
