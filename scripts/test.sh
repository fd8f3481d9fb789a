#!/usr/bin/env bash
# Corridor's one test command. On a fresh Debian 12 machine (as root) it
# installs what is missing, prepares hugepages when it can, builds, and runs
# every suite:
#   1. build/        the normal build (-Werror under CI): unit, fuzz-replay
#                    and integration tests
#   2. build-asan/   the same code with AddressSanitizer + UBSan: unit and
#                    fuzz-replay tests
#   3. build-fuzz/   clang libFuzzer targets, each run for FUZZ_SECONDS
# Exit 0 only if all pass. The last lines are meson's test summary of the
# normal build, then one "N passed, N failed" line for all suites together.
#
# Environment: CI=true adds -Werror; FUZZ_SECONDS (default 20) per target;
# SKIP_ASAN=1 / SKIP_FUZZ=1 to leave those stages out on a quick local run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc 2>/dev/null || echo 2)

# Each stage header carries the seconds since the start, so a CI log shows
# where the time goes.
step() { printf '\n== %s  [%ds]\n' "$*" "$SECONDS"; }

step "dependencies"
scripts/deps.sh test
scripts/hugepages.sh

werror=false
[ "${CI:-}" = "true" ] && werror=true

configure() {  # dir, meson options...
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" -Dwerror=$werror "$@" >/dev/null
  else
    meson setup "$dir" -Dwerror=$werror "$@" >/dev/null
  fi
}

failed=0
passed_total=0
failed_total=0
count_results() {  # dir: add meson's results from the last run to the totals
  local log=$1/meson-logs/testlog.json
  [ -f "$log" ] || return 0
  local p f
  p=$(grep -c '"result": "OK"' "$log" || true)
  f=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\|UNEXPECTEDPASS\)"' "$log" || true)
  passed_total=$((passed_total + p))
  failed_total=$((failed_total + f))
}

step "build (build/)"
configure build
ninja -C build -j "$jobs"

if [ "${SKIP_ASAN:-0}" != 1 ]; then
  step "sanitizer build (build-asan/: address, undefined)"
  # -O1, as AddressSanitizer's docs advise: reports keep their frames and
  # the build is quicker. Only what the unit and fuzz suites run is built:
  # the daemons and benchmarks get their sanitizer coverage from build-fuzz/.
  configure build-asan -Db_sanitize=address,undefined -Db_lundef=false -Doptimization=1
  ninja -C build-asan build.ninja >/dev/null
  mapfile -t asan_targets < <(meson introspect build-asan --tests | python3 -c '
import json, os, sys
root = os.path.abspath("build-asan")
for t in json.load(sys.stdin):
    if {"corridor:unit", "corridor:fuzz"} & set(t["suite"]) and t["cmd"][0].startswith(root + "/"):
        print(os.path.relpath(t["cmd"][0], root))
' | sort -u)
  ninja -C build-asan -j "$jobs" "${asan_targets[@]}"
  step "unit and fuzz-replay tests under ASan/UBSan"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  if ! meson test -C build-asan --no-rebuild --suite unit --suite fuzz --print-errorlogs --num-processes "$jobs"; then
    failed=1
  fi
  count_results build-asan
  unset ASAN_OPTIONS UBSAN_OPTIONS
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  step "libFuzzer runs (build-fuzz/, ${FUZZ_SECONDS:-20}s per target)"
  if scripts/fuzz.sh; then
    passed_total=$((passed_total + 1))
  else
    failed=1
    failed_total=$((failed_total + 1))
  fi
fi

step "all tests (build/)"
if ! meson test -C build --print-errorlogs --num-processes "$jobs"; then
  failed=1
fi
count_results build
echo "corridor: ${passed_total} passed, ${failed_total} failed"
exit $failed
