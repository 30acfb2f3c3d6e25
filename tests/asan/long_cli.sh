#!/usr/bin/env bash
# The long CLI trainings under the sanitizers (issue 17, section 2), which
# tests/asan/run.sh leaves to this script: instrumented they run 2-3 times
# longer than the TIMEOUT ctest gives them, so they run here directly, two at a
# time (each at one LibTorch thread, as in ctest), each with its own log.
#   tests/asan/long_cli.sh [TEST ...]   default: all five below
# Builds only what they use (revup-cli and the plugins) in build-asan/. A
# test fails on its own checks or on any sanitizer report (halt_on_error).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source tests/asan/env.sh
tests=("$@")
[[ ${#tests[@]} -gt 0 ]] || tests=(real_data_mri_3d real_data_mri real_data_voc lipschitz_training crash_safety)
cmake --preset asan >/dev/null
nice cmake --build build-asan -j "${REVUP_JOBS:-2}" --target revup-cli revup_plugin_itk revup_plugin_gdal
out=$root/build-asan/long-cli
rm -rf "$out" && mkdir -p "$out"
cli=$root/build-asan/bin/revup-cli

run_one() {
  local name=$1 start=$SECONDS code=0
  tests/cli/$name.sh "$cli" >"$out/$name.log" 2>&1 || code=$?
  echo "$code $((SECONDS - start))" >"$out/$name.result"
}
# Two at a time, longest first (the list's order).
for name in "${tests[@]}"; do
  while [[ $(jobs -rp | wc -l) -ge 2 ]]; do sleep 5; done
  echo "$(date +%T) start $name"
  run_one "$name" &
done
wait

status=0
echo
for name in "${tests[@]}"; do
  read -r code seconds <"$out/$name.result"
  reports=$(grep -cE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$out/$name.log" || true)
  printf '%-22s exit %-3s %5s s  sanitizer reports %s\n' "$name" "$code" "$seconds" "$reports"
  [[ $code -eq 0 && $reports -eq 0 ]] || status=1
done
echo "sanitizer reports over all logs ($out):"
count_sanitizer_reports "$out"/*.log
exit $status
