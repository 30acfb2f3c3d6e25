#!/usr/bin/env bash
# End-to-end segmentation: the demo on a small scene; train, resume, predict
# and evaluate on the real labelme VOC example; a bad input is refused.
set -euo pipefail
cli=$1
voc=${2:-/usr/share/doc/labelme-examples/examples/semantic_segmentation/data_dataset_voc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The demo, small: it must train, measure both models and write its pictures.
"$cli" demo --width 256 --height 160 --steps 4 --out "$tmp/demo" | tee "$tmp/demo.log"
python3 - "$tmp/demo/demo.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("miou_before", "miou_after", "revup_peak_bytes", "resnet_fixup_peak_bytes"):
    assert k in d, k
assert d["steps"] == 4, d["steps"]
assert 0 <= d["miou_after"] <= 1
PY
test -s "$tmp/demo/prediction_overlay.png" || fail "demo wrote no overlay"
test -s "$tmp/demo/memory_timeline.json" || fail "demo wrote no memory timeline"

[[ -d "$voc" ]] || fail "$voc missing: install labelme-examples (./revup.sh deps)"
"$cli" train --data "$voc" --epochs 2 --val-fraction 0.34 --out "$tmp/run" --json "$tmp/train.json"
for f in config.json metrics.csv last.pt best.pt memory_timeline.json; do
  test -s "$tmp/run/$f" || fail "train wrote no $f"
done
grep -q '"task": "segmentation"' "$tmp/run/config.json" || fail "config.json lacks the task"
"$cli" train --data "$voc" --epochs 3 --val-fraction 0.34 --out "$tmp/run" --resume
[[ $(wc -l <"$tmp/run/metrics.csv") -eq 4 ]] || fail "resume did not add exactly one epoch"

img=$(ls "$voc"/JPEGImages/*.jpg | head -1)
"$cli" predict --model "$tmp/run" --input "$img" --output "$tmp/mask.png" --overlay "$tmp/overlay.png"
test -s "$tmp/mask.png" && test -s "$tmp/overlay.png"
"$cli" predict --model "$tmp/run" --input "$img" --output "$tmp/tiled.png" --tile 128 --overlap 32
test -s "$tmp/tiled.png"
"$cli" evaluate --model "$tmp/run" --data "$voc" --json "$tmp/eval.json"
python3 - "$tmp/eval.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert 0 <= d["miou"] <= 1 and 0 <= d["pixel_accuracy"] <= 1, d
assert d["images"] == 3, d["images"]
PY

# A one-channel image for a three-channel model: a clear error, no output.
if "$cli" predict --model "$tmp/run" --input "$tmp/mask.png" --output "$tmp/x.png" 2>"$tmp/err"; then
  fail "predict accepted a 1-channel image for a 3-channel model"
fi
grep -q "has 1 channels" "$tmp/err" || { cat "$tmp/err"; fail "unclear channel error"; }
test ! -e "$tmp/x.png" || fail "a failed predict left a file"

echo "segmentation smoke: ok"
