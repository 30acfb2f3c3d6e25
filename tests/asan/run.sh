#!/usr/bin/env bash
# The unit and CLI tests under AddressSanitizer (LeakSanitizer on) and
# UndefinedBehaviorSanitizer (issue 17, section 2): the asan preset builds the
# project (no GUI) into build-asan/, then ctest runs the tests labelled unit
# or cli there. Any report fails its test; the summary at the end counts them
# by kind from the tests' output.
#   tests/asan/run.sh [CTEST ARGS...]     e.g. -R Spectral, -j1
# Not in CI: a cold build takes about an hour on 2 cores and the tests run
# 2-3 times slower than in the release build. The result is in the closing
# note of issue 17. Suppressions (suppressions.lsan) say why each one is there.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
here=$root/tests/asan
log=$root/build-asan/asan-ctest.log
cmake --preset asan >/dev/null
nice cmake --build --preset asan -j "${REVUP_JOBS:-2}"

source "$here/env.sh"
status=0
ctest --test-dir build-asan -L 'unit|cli' -E '^fuzz[.]' --output-on-failure --timeout 3600 \
  -j "${REVUP_JOBS:-2}" "$@" 2>&1 | tee "$log" || status=1
# The fuzz replays feed LibTorch archives its zip reader refuses after
# allocating (suppressions.lsan): that frame is seen only through LibTorch's
# own frames, which only the slow unwinder follows.
ASAN_OPTIONS=$ASAN_OPTIONS:fast_unwind_on_malloc=0 \
  LSAN_OPTIONS=${LSAN_OPTIONS/print_suppressions=0/print_suppressions=1} ctest --test-dir build-asan -R '^fuzz[.]' --output-on-failure --timeout 3600 \
  -j "${REVUP_JOBS:-2}" 2>&1 | tee -a "$log" || status=1
echo
echo "sanitizer reports in the tests' output ($log):"
count_sanitizer_reports "$log"
grep -E 'tests passed|tests failed|Suppressions used' "$log" || true
exit $status
