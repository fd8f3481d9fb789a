#!/bin/sh
# corridor-control as a daemon: starts on a valid config, creates its SA
# channel segment private to its user (0600), refuses a second control plane
# on the same segment with a clear message, logs its state, and shuts down
# cleanly on SIGTERM.
set -u
bin=$1
dir=$(mktemp -d)
name="corridor-smoke-$$"
trap 'kill $pid 2>/dev/null; rm -rf "$dir"; rm -f "/dev/shm/$name"' EXIT
cat > "$dir/corridor.json" <<JSON
{ "sa_channel": { "name": "/$name", "command_slots": 256, "event_slots": 256 },
  "logging": { "level": "debug", "file": "$dir/control.log" } }
JSON
fail() { echo "FAIL: $*"; echo "--- log ---"; cat "$dir/control.log" 2>/dev/null; exit 1; }

"$bin" --config "$dir/corridor.json" &
pid=$!
i=0
until grep -q 'attached to SA channel' "$dir/control.log" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 100 ] && fail "daemon did not attach within 10 s"
  kill -0 $pid 2>/dev/null || fail "daemon exited early"
  sleep 0.1
done
[ -e "/dev/shm/$name" ] || fail "segment /dev/shm/$name not created"
mode=$(stat -c %a "/dev/shm/$name")
[ "$mode" = 600 ] || fail "segment mode is $mode, expected 600 (it holds keys)"

# A second control plane on the same channel must be refused, not share it.
out=$("$bin" --config "$dir/corridor.json" 2>&1 >/dev/null; echo "exit=$?")
echo "$out" | grep -q 'exit=1' || fail "second control plane was not refused: $out"
grep -q 'error' "$dir/control.log" || fail "refusal not logged"

kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 0 ] || fail "exit code $rc after SIGTERM"
grep -q 'received SIGTERM, shutting down' "$dir/control.log" || fail "no shutdown line"
grep -q 'SA sync totals:' "$dir/control.log" || fail "no totals line"
echo "daemon_smoke: all assertions passed"
