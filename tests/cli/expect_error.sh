#!/usr/bin/env bash
# expect_error.sh REGEX COMMAND...: passes when COMMAND exits non-zero without
# crashing (no signal) and its output matches REGEX.
set -u
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
if ! grep -Eq -- "$regex" <<<"$output"; then
  echo "FAIL: error message does not match /$regex/:"
  echo "$output"
  exit 1
fi
echo "ok: exit $code, message: $(grep -E -- "$regex" <<<"$output" | head -1)"
