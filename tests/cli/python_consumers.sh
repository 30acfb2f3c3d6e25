#!/usr/bin/env bash
# python_consumers.sh FIXTURE [PYTHON]: Debian's Python with python3-torch
# (/usr/bin/python3, not a pyenv or venv one that lacks it) loads our
# TorchScript and weights exports and reproduces the C++ model's output
# (python_consumers.py). python3-torch missing is a failure, never a skip:
# the setup installs it for this test.
set -euo pipefail
fixture=$1
python=${2:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1

if [[ ! -x "$python" ]] || ! "$python" -c "import torch" 2>"$tmp/import.err"; then
  cat "$tmp/import.err" 2>/dev/null || true
  echo "FAIL: $python cannot import torch: install python3-torch (./revup.sh deps)"
  exit 1
fi
"$fixture" "$tmp"
"$python" "$here/python_consumers.py" "$tmp"
echo "python consumers: ok"
