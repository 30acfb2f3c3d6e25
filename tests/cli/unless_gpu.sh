#!/usr/bin/env bash
# unless_gpu.sh COMMAND...: runs COMMAND, unless nvidia-smi finds a GPU; then it
# prints "SKIP: a GPU is present" (the test's SKIP_REGULAR_EXPRESSION) and
# passes. For tests of what happens without a GPU.
if nvidia-smi -L >/dev/null 2>&1; then
  echo "SKIP: a GPU is present, so '$*' would not fail"
  exit 0
fi
exec "$@"
