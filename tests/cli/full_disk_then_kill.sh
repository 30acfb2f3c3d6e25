#!/usr/bin/env bash
# A disk that fills up midway through a training run, and the process killed
# right after the failed write, before it could clean up (issue 17, section 3):
# every file the run had written still reads, and on a freed disk `--resume`
# continues from the last complete epoch and removes the half-written
# temporary the dead process left.
#   full_disk_then_kill.sh CLI [DATA]
# Needs root, unshare and strace: a small tmpfs in a private mount namespace
# is the full disk, and strace's fault injection kills the process on entry to
# the unlink that would have removed the half-written file. Otherwise it is
# skipped (exit 77) with the reason.
set -euo pipefail
cli=$1
data=${2:-/usr/share/doc/labelme-examples/examples/semantic_segmentation/data_dataset_voc}
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }
[[ -d $data ]] || fail "$data missing: install labelme-examples (./revup.sh deps)"

if ! strace -f -qq -o /dev/null true 2>/dev/null; then
  echo "SKIPPED: strace cannot trace here (ptrace refused)"
  exit 77
fi
source "$here/private_tmpfs.sh"
private_tmpfs "$0" "$@"
# A checkpoint of this run is about 3.6 MB and is written beside the previous
# one: 9 MiB hold epoch 1 (best.pt and last.pt) but not a new checkpoint of
# epoch 2.
mount -t tmpfs -o size=9m tmpfs "$disk"
train=("$cli" train --data "$data" --epochs 3 --val-fraction 0.34 --out "$disk/run")

# 1. Where the process would remove the half-written file: the first unlink
#    (or unlinkat) after the write that failed for want of space. strace counts
#    each system call's invocations on its own, hence the name and the count.
set +e
strace -f -qq -o "$tmp/trace" -e trace=write,unlink,unlinkat "${train[@]}" >"$tmp/full.log" 2>&1
code=$?
set -e
((code != 0 && code < 128)) || { cat "$tmp/full.log"; fail "the full disk did not end in a clean error (exit $code)"; }
grep -q "No space left on device" "$tmp/full.log" || { cat "$tmp/full.log"; fail "no disk-full error"; }
read -r call nth < <(python3 - "$tmp/trace" <<'PY'
import re, sys
counts, full = {}, False
for line in open(sys.argv[1]):
    m = re.match(r"\d+ +(unlink|unlinkat)\(", line)
    if m:
        counts[m.group(1)] = counts.get(m.group(1), 0) + 1
        if full:
            print(m.group(1), counts[m.group(1)])
            break
    elif re.match(r"\d+ +write\(.*= -1 ENOSPC", line):
        full = True
PY
) || true
[[ -n ${nth:-} ]] || { cat "$tmp/full.log"; fail "no unlink after the failed write"; }
echo "the full disk: $(grep -m1 'could not be written' "$tmp/full.log")"

# 2. The same run, killed on entry to that unlink.
rm -rf "$disk/run"
set +e
strace -f -qq -o /dev/null -e trace="$call" -e inject="$call":signal=KILL:when="$nth" "${train[@]}" \
  >"$tmp/killed.log" 2>&1 &
wait $! 2>/dev/null
code=$?
set -e
((code >= 128)) || { cat "$tmp/killed.log"; fail "the run was not killed (exit $code)"; }
leftover=$(ls -A "$disk/run" | grep '^\.revup-write-' || true)
[[ -n $leftover ]] || fail "the kill left no half-written temporary: the trial did not hit its moment"
echo "killed at $call #$nth, leaving $leftover: $(du -sh "$disk/run/$leftover" | cut -f1)"
python3 "$here/check_run_folder.py" "$disk/run" || fail "a file the run had written does not read"
[[ -f $disk/run/last.pt ]] || fail "epoch 1's last.pt is gone"

# 3. Disk freed: the resume continues and removes the temporary.
mount -o remount,size=64m "$disk"
"${train[@]}" --resume >"$tmp/resume.log" 2>&1 || { cat "$tmp/resume.log"; fail "--resume failed"; }
grep -q "^resuming .* after epoch 1$" "$tmp/resume.log" || { cat "$tmp/resume.log"; fail "did not resume after epoch 1"; }
python3 "$here/check_run_folder.py" "$disk/run" || fail "the resumed run's files do not read"
ls -A "$disk/run" | grep -q '^\.revup-write-' && fail "temporary left after the resume: $(ls -A "$disk/run")"
[[ $(($(wc -l <"$disk/run/metrics.csv") - 1)) -eq 3 ]] || fail "metrics.csv lacks epochs"
echo "resumed after epoch 1 on the freed disk; 3 epochs, no temporary left"
