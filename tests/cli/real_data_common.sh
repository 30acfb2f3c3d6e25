# Sourced by real_data_*.sh after `cli=$1`: the CLI with its thread count, the
# Python that sees Debian's modules, the check helper and a scratch folder.
# One LibTorch thread by default: on 2 cores shared with a build or another
# test, two threads slowed training up to 25-fold here (each step waits for the
# thread that was descheduled); REVUP_TEST_THREADS=2 on an idle machine is faster.
rev=("$cli" --threads "${REVUP_TEST_THREADS:-1}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=/usr/bin/python3
[[ -x $py ]] || py=python3
check() { "$py" "$here/real_data_check.py" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# mricron-data's templates (the ch2 MRI, the AAL atlas and its names) in $1,
# and nibabel, or a failure naming what to install.
require_mricron() {
  local f
  for f in ch2.nii.gz aal.nii.gz aal.nii.txt; do
    [[ -f "$1/$f" ]] || fail "$1/$f missing: install mricron-data (./revup.sh deps)"
  done
  "$py" -c "import nibabel" 2>/dev/null ||
    fail "$py cannot import nibabel: install python3-nibabel (./revup.sh deps)"
}
