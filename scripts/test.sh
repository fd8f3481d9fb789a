#!/usr/bin/env bash
# Corridor's one test command. On a fresh Debian 12 machine (as root) it
# installs what is missing, prepares hugepages when it can, builds, and runs
# every suite:
#   1. build/        the normal build (g++, -Werror under CI): unit,
#                    fuzz-replay and integration tests
#   2. build-fuzz/   the same code under clang with AddressSanitizer + UBSan
#                    and libFuzzer's coverage: the unit tests, then every
#                    fuzz target for FUZZ_SECONDS (seed corpus first)
# Exit 0 only if all pass. The last lines are meson's test summary of the
# normal build, then one "N passed, N failed" line for all suites together.
#
# Environment: CI=true adds -Werror; FUZZ_SECONDS (default 20) per target;
# SKIP_SANITIZE=1 leaves stage 2 out on a quick local run.
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

if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
  step "sanitizer build (build-fuzz/: clang, ASan + UBSan, libFuzzer coverage)"
  scripts/fuzz.sh --build-only
  # What the unit suite runs (test binaries and the targets tests depend
  # on), not the benchmarks: ninja paths from meson's introspection.
  mapfile -t unit_targets < <(python3 - build-fuzz <<'PY'
import json, os, subprocess, sys
build = os.path.abspath(sys.argv[1])
intro = lambda what: json.loads(subprocess.check_output(['meson', 'introspect', build, what]))
files = {t['id']: t['filename'] for t in intro('--targets')}
out = set()
for test in intro('--tests'):
    if 'corridor:unit' not in test['suite']:
        continue
    paths = [test['cmd'][0]] + [f for d in test.get('depends', []) for f in files.get(d, [])]
    out.update(os.path.relpath(p, build) for p in paths if p.startswith(build + '/'))
print('\n'.join(sorted(out)))
PY
)
  ninja -C build-fuzz -j "$jobs" "${unit_targets[@]}"
  step "unit tests under ASan/UBSan (build-fuzz/)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  if ! meson test -C build-fuzz --no-rebuild --suite unit --print-errorlogs --num-processes "$jobs"; then
    failed=1
  fi
  count_results build-fuzz
  unset ASAN_OPTIONS UBSAN_OPTIONS

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
