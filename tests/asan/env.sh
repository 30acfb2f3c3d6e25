# Sourced by tests/asan/run.sh and long_cli.sh: the sanitizers' options, one
# place for both. halt_on_error stops a test at its first report, so one bug is
# one failure; LibTorch's CPU code is not built with ASan, so its fast paths do
# not trip the container-overflow checks that need both sides instrumented.
asan_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_container_overflow=0:strict_string_checks=1:detect_stack_use_after_return=0
export LSAN_OPTIONS=suppressions=$asan_here/suppressions.lsan:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$asan_here/suppressions.ubsan

# The reports found in a log, by kind.
count_sanitizer_reports() {
  local kind
  for kind in "ERROR: AddressSanitizer" "ERROR: LeakSanitizer" "runtime error:"; do
    printf '  %-26s %s\n' "$kind" "$(grep -c "$kind" "$@" | awk -F: '{s += $NF} END {print s + 0}')"
  done
}
