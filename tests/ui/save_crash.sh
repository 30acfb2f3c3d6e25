#!/usr/bin/env bash
# kill -9 while the GUI saves its project and labels (issue 17, section 3): the
# files on disk are always one whole earlier save, never a torn one, and the
# next save removes what the dead process left.
#   save_crash.sh SAVE_LOOP [TRIALS] [SEED]
# SAVE_LOOP is revup_save_loop (tests/tools): the GUI's own save code in a
# loop. Half the trials are killed on entry to an fsync or a rename (strace's
# fault injection: right inside a save), the rest at random moments.
set -euo pipefail
loop=$1
trials=${2:-20}
seed=${3:-$(date +%s)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
RANDOM=$seed
echo "save crash trials: $trials, seed $seed (rerun: $0 $loop $trials $seed)"
inject=yes
strace -f -qq -o /dev/null true 2>/dev/null ||
  { inject=; echo "NOTE: strace cannot trace here (ptrace refused): every trial is a timed kill"; }

# save_then_kill DIR LOG N: saves into DIR until LOG shows N whole saves,
# then kill -9; the killed loop's pid in $pid.
save_then_kill() {
  "$loop" save "$1" >"$2" 2>&1 &
  pid=$!
  until [[ $(grep -c "^saved" "$2" 2>/dev/null) -ge $3 ]]; do
    kill -0 $pid 2>/dev/null || { cat "$2"; fail "the save loop died by itself"; }
    sleep 0.05
  done
  kill -9 $pid
  wait $pid 2>/dev/null || true
}

for ((n = 1; n <= trials; n++)); do
  dir=$tmp/t$n
  mkdir "$dir"
  # Some saves first, so that an earlier generation is there to keep.
  save_then_kill "$dir" "$dir.log" 2
  if [[ -n $inject && $((n % 2)) -eq 1 ]]; then
    # Each save: classes.json, labels.png, scene.revup, each an fsync of the
    # file and one of its folder, and one rename. 6 fsyncs and 3 renames a save.
    if ((RANDOM % 2)); then call=fsync; nth=$((1 + RANDOM % 12)); else call=rename; nth=$((1 + RANDOM % 6)); fi
    calls=$call
    [[ $call == rename ]] && calls=rename,renameat,renameat2
    set +e
    strace -f -qq -o /dev/null -e trace="$calls" -e inject="$calls":signal=KILL:when="$nth" \
      "$loop" save "$dir" >>"$dir.log" 2>&1 &
    wait $! 2>/dev/null
    code=$?
    set -e
    ((code >= 128)) || { cat "$dir.log"; fail "trial $n: not killed at $call #$nth (exit $code)"; }
    moment="on entry to $call #$nth"
  else
    "$loop" save "$dir" >>"$dir.log" 2>&1 &
    pid=$!
    delay_ms=$((300 + RANDOM % 2500))
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    kill -9 $pid
    wait $pid 2>/dev/null || true
    moment="after $delay_ms ms"
  fi
  before=$(grep -c "^saved" "$dir.log")
  result=$("$loop" check "$dir") || fail "trial $n (killed $moment): $result"
  echo "trial $n: killed $moment after $before whole saves; $result"
  # The next save cleans up after the dead one.
  save_then_kill "$dir" "$dir.next.log" 1
  stale=$(ls -A "$dir" | grep '^\.revup-write-' || true)
  # Only the second loop's own, if it was killed inside a save.
  for s in $stale; do
    [[ $s == .revup-write-$pid-* ]] || fail "trial $n: the next save left $s of a dead process"
  done
done
echo "all $trials trials: every file whole"
