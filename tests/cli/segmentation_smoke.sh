#!/usr/bin/env bash
# End-to-end segmentation: the demo on a small scene; train, resume, predict,
# evaluate and export on the real labelme VOC example; bad inputs are refused.
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
for k in ("miou_before", "miou_after", "revup_peak_bytes", "resnet_fixup_peak_bytes",
          "revup_whole_step_bytes", "resnet_fixup_whole_step_bytes"):
    assert k in d, k
assert d["revup_whole_step_bytes"] > 0
assert d["revup_over_resnet_fixup"] < 1, d["revup_over_resnet_fixup"]
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

# Export: TorchScript and weights, each with its model card, checked on read-back.
mkdir -p "$tmp/export"
"$cli" export --model "$tmp/run" --format torchscript --output "$tmp/export/model.pt" \
  --input-size 96x128 | tee "$tmp/export.log"
grep -q "max abs difference" "$tmp/export.log" || fail "export did not report its check"
"$cli" export --model "$tmp/run" --format weights --output "$tmp/export/weights.pth"
for f in model.pt model.card.json weights.pth weights.architecture.json weights.card.json; do
  test -s "$tmp/export/$f" || fail "export wrote no $f"
done
python3 - "$tmp/export" <<'PY'
import json, sys, zipfile
d = sys.argv[1]
card = json.load(open(f"{d}/model.card.json"))
for k in ("task", "architecture", "classes", "input", "training", "tool", "format", "verification"):
    assert k in card, k
assert card["format"] == "torchscript" and card["input"]["size"] == [96, 128], card["input"]
assert card["verification"]["max_abs_difference"] < 1e-5, card["verification"]
assert len(card["input"]["normalization"]["mean"]) == card["input"]["channels"] == 3
assert card["training"]["metrics"]["epochs"] == 3, card["training"]["metrics"]
arch = json.load(open(f"{d}/weights.architecture.json"))
assert arch["graph"]["ops"][0]["op"] == "normalize", arch["graph"]["ops"][0]
assert zipfile.is_zipfile(f"{d}/model.pt") and zipfile.is_zipfile(f"{d}/weights.pth")
PY

# A run whose checkpoints are corrupt, and a folder that does not exist: clear
# errors naming the file, and no file written.
cp -r "$tmp/run" "$tmp/broken"
printf 'garbage' >"$tmp/broken/best.pt"
printf 'garbage' >"$tmp/broken/last.pt"
if "$cli" export --model "$tmp/broken" --format torchscript --output "$tmp/export/broken.pt" \
  2>"$tmp/err"; then
  fail "export accepted a corrupt checkpoint"
fi
grep -q "best.pt: unreadable checkpoint" "$tmp/err" || { cat "$tmp/err"; fail "unclear checkpoint error"; }
if "$cli" export --model "$tmp/run" --format weights --output "$tmp/nowhere/w.pth" 2>"$tmp/err"; then
  fail "export wrote into a missing folder"
fi
grep -q "nowhere/w.pth: cannot write" "$tmp/err" || { cat "$tmp/err"; fail "unclear path error"; }
test ! -e "$tmp/export/broken.pt" && test ! -e "$tmp/export/broken.card.json" ||
  fail "a failed export left a file"
[[ $(ls -A "$tmp/export" | wc -l) -eq 5 ]] || { ls -A "$tmp/export"; fail "export left extra files"; }

# A one-channel image for a three-channel model: a clear error, no output.
if "$cli" predict --model "$tmp/run" --input "$tmp/mask.png" --output "$tmp/x.png" 2>"$tmp/err"; then
  fail "predict accepted a 1-channel image for a 3-channel model"
fi
grep -q "has 1 channels" "$tmp/err" || { cat "$tmp/err"; fail "unclear channel error"; }
test ! -e "$tmp/x.png" || fail "a failed predict left a file"

echo "segmentation smoke: ok"
