#!/usr/bin/env bash
# expect_error.sh [--absent PATH]... [--unchanged PATH]... REGEX COMMAND...:
# passes when COMMAND exits non-zero without crashing (no signal) and its
# output matches REGEX; then each --absent PATH must not exist (no output, not
# even half of one) and each --unchanged PATH must hold the bytes it held
# before (earlier results and checkpoints intact). Leftover temporary folders
# of the atomic writes (.revup-write-*) beside an --absent path fail it too.
# --code N: the exit status must be exactly N.
set -u
absent=() unchanged=() sums=() want_code=
while (($# > 0)); do
  case $1 in
    --code) want_code=$2; shift 2 ;;
    --absent) absent+=("$2"); shift 2 ;;
    --unchanged) unchanged+=("$2"); sums+=("$(cksum <"$2")"); shift 2 ;;
    *) break ;;
  esac
done
regex=$1
shift
output=$("$@" 2>&1)
code=$?
if ((code == 0)); then
  echo "FAIL: expected an error, command succeeded: $*"
  echo "$output"
  exit 1
fi
if ((code >= 128)); then
  echo "FAIL: command crashed (exit $code): $*"
  echo "$output"
  exit 1
fi
if [[ -n $want_code ]] && ((code != want_code)); then
  echo "FAIL: exit $code, expected $want_code: $*"
  echo "$output"
  exit 1
fi
if ! grep -Eq -- "$regex" <<<"$output"; then
  echo "FAIL: error message does not match /$regex/:"
  echo "$output"
  exit 1
fi
for p in "${absent[@]+"${absent[@]}"}"; do
  if [[ -e "$p" ]]; then
    echo "FAIL: $p exists after the failed command (half-written output?)"
    exit 1
  fi
  leftovers=$(find "$(dirname "$p")" -maxdepth 1 -name ".revup-write-*" 2>/dev/null)
  if [[ -n "$leftovers" ]]; then
    echo "FAIL: temporary files left behind: $leftovers"
    exit 1
  fi
done
for i in "${!unchanged[@]}"; do
  if [[ "$(cksum <"${unchanged[$i]}")" != "${sums[$i]}" ]]; then
    echo "FAIL: ${unchanged[$i]} changed although the command failed"
    exit 1
  fi
done
echo "ok: exit $code, message: $(grep -E -- "$regex" <<<"$output" | head -1)"
