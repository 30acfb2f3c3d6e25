#!/bin/bash
# Fuzzes our file readers: tests/fuzz/run.sh SECONDS [HARNESS...]
# Builds the fuzz preset (build-fuzz/, clang, ASan+UBSan) where needed, then
# runs each harness (all by default, one after the other) for SECONDS with
# libFuzzer, starting from tests/fuzz/corpus/HARNESS. New inputs go to
# build-fuzz/corpus/HARNESS (not committed); a crash, hang (-timeout), or
# allocation a size field drove (-malloc_limit_mb, -rss_limit_mb) lands in
# tests/fuzz/crashes/HARNESS/ (commit it with its fix: CI replays it).
# Prints per harness: executions, coverage (libFuzzer's cov: edges, ft:
# features) and crashes found; after a crash libFuzzer starts again for the
# time left (at most 3 crashes a harness). Logs: build-fuzz/fuzz-logs/HARNESS.log.
# REVUP_FUZZ_JOBS: build parallelism (default 2).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build-fuzz
seconds=${1:?usage: $0 SECONDS [HARNESS...]}
shift
all=(npy idx class_table run_config dataset_manifest metrics_csv checkpoint plugin_entry project
     label_files)
harnesses=("${@:-${all[@]}}")

export CCACHE_BASEDIR=$root CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
if [ ! -f "$build/build.ninja" ]; then
  (cd "$root" && cmake --preset fuzz) || exit 1
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
nice ninja -C "$build" -j "${REVUP_FUZZ_JOBS:-2}" "${targets[@]}" || exit 1

# LeakSanitizer stays on (libFuzzer checks an input that allocates more than
# it frees); UBSan stops at its first report, so libFuzzer counts it.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/fuzz-logs"
summary=()
for h in "${harnesses[@]}"; do
  crashes=$here/crashes/$h
  work=$build/corpus/$h
  mkdir -p "$crashes" "$work"
  log=$build/fuzz-logs/$h.log
  : > "$log"
  # LibTorch 1.13's PyTorchStreamReader leaks its zip reader's state (19 KB)
  # when its constructor throws on a bad archive (crashes/checkpoint/
  # libtorch_stream_reader_leak.pt): suppressed by that frame, which LSan
  # only sees through LibTorch's frames with the slow unwinder.
  leak_options=()
  [ "$h" = checkpoint ] && leak_options=(env ASAN_OPTIONS=fast_unwind_on_malloc=0
    LSAN_OPTIONS=suppressions=$root/tests/asan/suppressions.lsan)
  echo "== $h: $seconds s (log: $log)"
  # libFuzzer stops at a crash: it starts again on the grown corpus for the
  # time left, up to 3 crashes a harness (the same bug tends to come back).
  deadline=$((SECONDS + seconds))
  execs=0 found=0 rc=0 cov=""
  while left=$((deadline - SECONDS)); [ "$left" -gt 0 ] && [ "$found" -lt 3 ]; do
    "${leak_options[@]}" "$build/tests/fuzz/fuzz_$h" "$work" "$here/corpus/$h" -max_total_time="$left" -timeout=10 \
      -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
      -artifact_prefix="$crashes/" > "$log.run" 2>&1
    rc=$?
    cat "$log.run" >> "$log"
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log.run" | tail -1)
    execs=$((execs + ${n:-0}))
    last=$(grep -E '^#[0-9]+' "$log.run" | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -1)
    cov=${last:-$cov}
    found=$(grep -c '^artifact_prefix=.*Test unit written to' "$log")
    [ "$rc" -eq 0 ] && break
  done
  rm -f "$log.run"
  line=$(printf '%-17s execs %-9s %-22s crashes %s' "$h" "$execs" "${cov:-cov: ? ft: ?}" "$found")
  [ "$found" -gt 0 ] && line+="  (see $log and $crashes)"
  echo "$line"
  summary+=("$line")
done
echo "== summary ($seconds s each)"
printf '%s\n' "${summary[@]}"
