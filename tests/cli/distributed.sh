#!/usr/bin/env bash
# Data-parallel training under torchrun on loopback with Gloo (issue 18):
#  1. 2 processes train as 1 process accumulating 2 images per step: the same
#     weights (1e-6 relative), losses and validation scores; rank 0 alone
#     wrote the run folder, rank 1 logged to logs/rank-1.log.
#  2. --resume with another process count (1) continues that run.
#  3. Ranks that disagree on the configuration are refused at start-up.
#  4. A rank killed with -9 mid-run: the other stops within --dist-timeout
#     with an error naming the failed collective; last.pt stays whole and
#     --resume continues.
#  5. A corrupt image: every rank stops, naming the file; no run is left.
#  6. train-classifier: 2 ranks = 1 process accumulating 2 batches (weights,
#     test accuracy over the test set split between the ranks).
#   distributed.sh CLI [PYTHON]
set -euo pipefail
cli=$(realpath "$1")
python=${2:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v torchrun >/dev/null || fail "torchrun missing: install python3-torch (./revup.sh deps)"
"$cli" info | grep -q "data-parallel   gloo" || fail "this revup-cli has no Gloo: $("$cli" info | grep data-parallel)"

# Five small photos with 3-class masks: an odd count, so one step has a single
# image and the other rank none.
(cd "$tmp" && "$python" -c "
import sys; sys.path.insert(0, '$here'); import make_bad_inputs as m
m.folder('data', [m.mask(96, 64, 2)] * 5, [m.photo(96, 64, i) for i in range(5)])")
train=(train --data "$tmp/data" --val-fraction 0.4 --no-augment --preset cpu --threads 1)
free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Debian's torchrun (1.13) under Python 3.11 fails parsing the default
# --redirects/--tee ("Std.from_str"); 2 (stderr) parses, and tees each rank's
# stderr to this log.
launch() {
  torchrun --no_python --nnodes 1 --nproc_per_node 2 --max_restarts 0 --redirects 2 --tee 2 \
    --master_addr 127.0.0.1 --master_port "$(free_port)" "$@"
}

echo "== 1. two ranks = one process accumulating two images"
"$cli" "${train[@]}" --epochs 2 --accumulate 2 --out "$tmp/alone" >"$tmp/alone.log"
launch "$cli" "${train[@]}" --epochs 2 --dist-timeout 60 --out "$tmp/two" >"$tmp/two.log" 2>&1 || { cat "$tmp/two.log"; fail "torchrun run failed"; }
"$python" "$here/compare_runs.py" "$tmp/alone/last.pt" "$tmp/two/last.pt" 1e-6
"$python" "$here/check_run_folder.py" "$tmp/two" || fail "the two-rank run folder does not read whole"
"$python" - "$tmp/alone" "$tmp/two" <<'PY'
import csv, json, sys
a, b = sys.argv[1:3]
ca, cb = (json.load(open(f"{d}/config.json"))["training"] for d in (a, b))
assert ca["examples_per_step"] == cb["examples_per_step"] == 2, (ca, cb)
assert cb["processes"] == 2 and cb["accumulation_steps"] == 1, cb
assert ca["processes"] == 1 and ca["accumulation_steps"] == 2, ca
ra, rb = (list(csv.DictReader(open(f"{d}/metrics.csv"))) for d in (a, b))
assert len(ra) == len(rb) == 2, (len(ra), len(rb))
for x, y in zip(ra, rb):
    for k in ("train_loss", "miou", "pixel_accuracy"):
        fx, fy = float(x[k]), float(y[k])
        assert abs(fx - fy) <= 1e-6 * max(1.0, abs(fx)), (k, fx, fy)
print("metrics agree:", [(r["epoch"], r["train_loss"], r["miou"]) for r in rb])
PY
grep -q "rank 1 of 2" "$tmp/two/logs/rank-1.log" || fail "rank 1 wrote no log in the run folder"
[[ ! -e $tmp/two/logs/rank-0.log ]] || fail "rank 0 logged to a file instead of the terminal"

echo "== 2. --resume with one process"
"$cli" "${train[@]}" --epochs 3 --accumulate 2 --resume --out "$tmp/alone" >>"$tmp/alone.log"
"$cli" "${train[@]}" --epochs 3 --accumulate 2 --resume --out "$tmp/two" >"$tmp/resume.log"
"$python" "$here/compare_runs.py" "$tmp/alone/last.pt" "$tmp/two/last.pt" 1e-6
[[ $(($(wc -l <"$tmp/two/metrics.csv") - 1)) -eq 3 ]] || fail "the resumed run lacks epoch 3"

echo "== 3. ranks that disagree"
cat >"$tmp/disagree.sh" <<SH
#!/usr/bin/env bash
lr=0.02; [[ \$RANK == 1 ]] && lr=0.05
exec "$cli" ${train[*]} --epochs 2 --lr \$lr --out "$tmp/disagree"
SH
chmod +x "$tmp/disagree.sh"
if launch "$tmp/disagree.sh" >"$tmp/disagree.log" 2>&1; then fail "ranks with different settings trained"; fi
grep -q "the ranks disagree on the run's configuration (config.json) (rank 1 differs from rank 0" \
  "$tmp/disagree.log" || { cat "$tmp/disagree.log"; fail "no clear error for disagreeing ranks"; }
grep -q '"lr": 0.05' "$tmp/disagree.log" || fail "the error does not show where the ranks differ"
[[ ! -e $tmp/disagree/last.pt ]] || fail "a refused run saved a checkpoint"

echo "== 4. a rank killed mid-run"
cat >"$tmp/killed.sh" <<SH
#!/usr/bin/env bash
if [[ \$RANK == 1 ]]; then
  "$cli" ${train[*]} --epochs 4 --dist-timeout 30 --out "$tmp/killed" &
  pid=\$!
  until [[ -f "$tmp/killed/last.pt" ]]; do sleep 0.05; done
  kill -9 \$pid
  wait \$pid
  exit 137
fi
exec "$cli" ${train[*]} --epochs 4 --dist-timeout 30 --out "$tmp/killed"
SH
chmod +x "$tmp/killed.sh"
start=$(date +%s)
if launch "$tmp/killed.sh" >"$tmp/killed.log" 2>&1; then fail "a run with a killed rank succeeded"; fi
took=$(($(date +%s) - start))
cat "$tmp/killed.log" | grep -E "error|failed" | head -5
grep -q "rank 0 of 2: .* with the other ranks failed" "$tmp/killed.log" ||
  fail "rank 0 did not say that its collective failed"
((took < 90)) || fail "rank 0 took $took s to stop (timeout 30 s)"
"$python" "$here/check_run_folder.py" "$tmp/killed" || fail "the killed run's folder does not read whole"
"$cli" "${train[@]}" --epochs 4 --accumulate 2 --resume --out "$tmp/killed" >"$tmp/killed_resume.log"
[[ $(($(wc -l <"$tmp/killed/metrics.csv") - 1)) -eq 4 ]] || fail "the resume did not finish 4 epochs"
echo "stopped $took s after the launch; resumed to epoch 4"

echo "== 5. a corrupt image"
cp -r "$tmp/data" "$tmp/corrupt"
head -c 120 "$tmp/data/images/3.png" >"$tmp/corrupt/images/3.png"
if launch "$cli" train --data "$tmp/corrupt" --val-fraction 0.4 --no-augment --preset cpu --threads 1 \
  --epochs 2 --out "$tmp/corrupt_run" >"$tmp/corrupt.log" 2>&1; then
  fail "training on a corrupt image succeeded"
fi
for r in 0 1; do
  prefix=""; [[ $r == 1 ]] && prefix="rank 1: "
  grep -q "\[default$r\]:${prefix}revup-cli: error: .*corrupt/images/3.png: truncated or corrupt PNG" \
    "$tmp/corrupt.log" || { cat "$tmp/corrupt.log"; fail "rank $r did not name the corrupt file"; }
done
[[ ! -e $tmp/corrupt_run/last.pt && ! -e $tmp/corrupt_run/config.json ]] ||
  fail "a run that never started left files"

echo "== 6. train-classifier: two ranks = one process accumulating two batches"
classifier=(train-classifier --depth 8 --limit-train 200 --limit-test 100 --batch-size 16 --epochs 2 --lr 0.05)
OMP_NUM_THREADS=1 "$cli" "${classifier[@]}" --accumulate 2 --out "$tmp/c_alone" >"$tmp/c_alone.log"
launch "$cli" "${classifier[@]}" --dist-timeout 60 --out "$tmp/c_two" >"$tmp/c_two.log" 2>&1 ||
  { cat "$tmp/c_two.log"; fail "torchrun train-classifier failed"; }
"$python" "$here/compare_runs.py" "$tmp/c_alone/last.pt" "$tmp/c_two/last.pt" 1e-6
"$python" - "$tmp/c_alone" "$tmp/c_two" <<'PY'
import csv, sys
ra, rb = (list(csv.DictReader(open(f"{d}/metrics.csv"))) for d in sys.argv[1:3])
assert len(ra) == len(rb) == 2, (len(ra), len(rb))
for x, y in zip(ra, rb):
    for k in ("train_loss", "test_accuracy"):
        fx, fy = float(x[k]), float(y[k])
        assert abs(fx - fy) <= 1e-6 * max(1.0, abs(fx)), (k, fx, fy)
print("classifier metrics agree:", [(r["epoch"], r["train_loss"], r["test_accuracy"]) for r in rb])
PY
echo "PASS"
