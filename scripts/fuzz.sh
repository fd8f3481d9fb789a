#!/usr/bin/env bash
# Builds every fuzz target with clang's libFuzzer (coverage guided, ASan and
# UBSan on) and runs each for a bounded time. A crash leaves its input in
# build-fuzz/crashes/ and fails the script.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 20, or $FUZZ_SECONDS)
#   scripts/fuzz.sh --build-only             configure and build, run nothing
# build-fuzz/ is also the sanitizer build scripts/test.sh runs the unit
# tests in: the same ASan + UBSan instrumentation, one build instead of two.
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=false
if [ "${1:-}" = "--build-only" ]; then
  build_only=true
  shift
fi
seconds=${1:-${FUZZ_SECONDS:-20}}
dir=build-fuzz
# The dataplane is built too: the esp_inbound target runs the packet engine.
# -fsanitize=fuzzer-no-link gives every library the coverage
# instrumentation (the targets add -fsanitize=fuzzer themselves), so
# libFuzzer is guided by the code under test, not only by the target file.
options=(-Dfuzzing=true -Ddataplane=enabled -Dcpp_args=-fsanitize=fuzzer-no-link
         -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized)
if [ ! -f "$dir/build.ninja" ]; then
  CXX=clang++ CC=clang meson setup "$dir" "${options[@]}" >/dev/null
else
  # A build-fuzz/ left by an older fuzz.sh (e.g. -Ddataplane=disabled) gets
  # today's options; meson rebuilds only what they change.
  meson configure "$dir" "${options[@]}" >/dev/null
fi
# Regenerate first, so that the target list below reflects the options.
ninja -C "$dir" build.ninja >/dev/null
ninja -C "$dir" $(cd "$dir" && ninja -t targets all | sed -n 's/^\(tests\/fuzz\/[a-z0-9_]*_fuzz\): .*/\1/p') >/dev/null
$build_only && exit 0
mkdir -p "$dir/crashes"
status=0
for bin in "$dir"/tests/fuzz/*_fuzz; do
  name=$(basename "$bin" _fuzz)
  work="$dir/corpus/$name"
  mkdir -p "$work"
  # New inputs go to the scratch corpus; the checked-in seeds are read-only.
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
       -artifact_prefix="$dir/crashes/$name-" "$work" "tests/fuzz/corpus/$name" >"$dir/$name.log" 2>&1; then
    runs=$(grep -o 'Done [0-9]* runs' "$dir/$name.log" | awk '{print $2}')
    echo "fuzz $name: ${runs:-?} inputs in ${seconds}s, no crash"
  else
    echo "fuzz $name: FAILED, see $dir/$name.log and $dir/crashes/"
    tail -n 30 "$dir/$name.log"
    status=1
  fi
done
exit $status
