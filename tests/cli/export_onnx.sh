#!/usr/bin/env bash
# export_onnx.sh CLI [FASHION_MNIST_DIR]: `revup-cli export --format onnx` of
# two short trained runs, a classifier (train-classifier, 64 steps on 2048
# Fashion-MNIST images: past Fixup's zero-initialized classifier, outputs of a
# few units) and a segmentation net (train on two small photos): each export
# passes the ONNX checker and OpenCV's DNN reproduces the model within 1e-4
# (the CLI checks before writing; the card records it). Without --input-size,
# or into a missing folder: a clear error and nothing written.
set -euo pipefail
cli=$1
data=${2:-/usr/share/datasets/fashion-mnist}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export OMP_NUM_THREADS=1
mkdir -p "$tmp/out"

# check_card CARD TASK H W: the card says onnx, opset 11, the size, and a
# read-back by OpenCV within the tolerance.
check_card() {
  python3 - "$@" <<'PY'
import json, sys
path, task, h, w = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
card = json.load(open(path))
assert card["format"] == "onnx" and card["task"] == task, (card["format"], card["task"])
assert card["input"]["size"] == [h, w], card["input"]["size"]
v = card["verification"]
assert v["opset"] == 11 and "readNetFromONNX" in v["reader"], v
assert v["input_shape"] == [1, card["input"]["channels"], h, w], v
assert v["max_abs_difference"] < 1e-4, v
assert v["output_max_abs"] > 0.1, v  # an output near zero would make any difference small
print(f"{path}: {task}, OpenCV DNN vs LibTorch max abs difference {v['max_abs_difference']:.3g} "
      f"on outputs up to {v['output_max_abs']:.3g}")
PY
}

[[ -f "$data/train-images-idx3-ubyte.gz" ]] ||
  fail "Fashion-MNIST not installed at $data (package dataset-fashion-mnist: ./revup.sh deps)"
"$cli" --threads 1 train-classifier --data "$data" --arch revup-memsave --depth 8 --epochs 1 \
  --limit-train 2048 --limit-test 128 --batch-size 32 --out "$tmp/cls" >"$tmp/cls.log"
"$cli" --threads 1 export --model "$tmp/cls" --format onnx --input-size 28x28 \
  --output "$tmp/out/cls.onnx" | tee "$tmp/export.log"
grep -q "read back with cv::dnn::readNetFromONNX, max abs difference" "$tmp/export.log" ||
  fail "export did not report OpenCV's check"
test -s "$tmp/out/cls.onnx" || fail "no cls.onnx"
check_card "$tmp/out/cls.card.json" classification 28 28

python3 "$here/make_bad_inputs.py" "$tmp/data" >/dev/null
"$cli" --threads 1 train --data "$tmp/data/ok" --epochs 1 --val-fraction 0.5 --no-augment \
  --out "$tmp/seg" >"$tmp/seg.log"
"$cli" --threads 1 export --model "$tmp/seg" --format onnx --input-size 48x64 \
  --output "$tmp/out/seg.onnx" | tee "$tmp/export.log"
test -s "$tmp/out/seg.onnx" || fail "no seg.onnx"
check_card "$tmp/out/seg.card.json" segmentation 48 64

if "$cli" export --model "$tmp/seg" --format onnx --output "$tmp/out/nosize.onnx" 2>"$tmp/err"; then
  fail "an ONNX export without --input-size"
fi
grep -q "needs --input-size HxW" "$tmp/err" || { cat "$tmp/err"; fail "unclear missing-size error"; }
if "$cli" export --model "$tmp/seg" --format onnx --input-size 48x64 \
  --output "$tmp/nowhere/seg.onnx" 2>"$tmp/err"; then
  fail "an ONNX export into a missing folder"
fi
grep -q "nowhere/seg.onnx: cannot write" "$tmp/err" || { cat "$tmp/err"; fail "unclear path error"; }
[[ $(ls -A "$tmp/out" | wc -l) -eq 4 ]] || { ls -A "$tmp/out"; fail "export left extra files"; }
echo "export onnx: ok"
