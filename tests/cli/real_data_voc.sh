#!/usr/bin/env bash
# Real data (issue 3, section 5): the labelme VOC exports from Debian's
# labelme-examples. Trains the cpu preset on the photos at full resolution and
# checks that it learns: the training loss falls and the mIoU on the training
# photos clears a floor; a prediction has its photo's size.
#   real_data_voc.sh CLI [SEMANTIC_VOC_DIR] [VIDEO_VOC_DIR]
set -euo pipefail
cli=$1
source "$(dirname "$0")/real_data_common.sh"
examples=/usr/share/doc/labelme-examples/examples
semantic=${2:-$examples/semantic_segmentation/data_dataset_voc}
video=${3:-$examples/video_annotation/data_dataset_voc}

for d in "$semantic" "$video"; do
  [[ -d "$d/JPEGImages" ]] || fail "$d missing: install labelme-examples (./revup.sh deps)"
done

# learn NAME DATA EPOCHS LR LOSS_RATIO MIOU_FLOOR IMAGES: train on every image
# (no validation split: the floor is on the training images, the issue's
# "model learns" check), evaluate on them, predict the first one.
learn() {
  local name=$1 data=$2 epochs=$3 lr=$4 ratio=$5 floor=$6 images=$7
  echo "== $name: $data"
  "${rev[@]}" train --data "$data" --epochs "$epochs" --lr "$lr" --val-fraction 0 --no-augment \
    --out "$tmp/$name" >"$tmp/$name.log" 2>&1 || { tail -20 "$tmp/$name.log"; fail "train failed"; }
  grep "^training" "$tmp/$name.log"
  check loss "$tmp/$name" "$ratio"
  "${rev[@]}" evaluate --model "$tmp/$name" --data "$data" --json "$tmp/$name.json" >/dev/null 2>&1
  check miou "$tmp/$name.json" "$floor" "$images"
  local img
  img=$(ls "$data"/JPEGImages/*.jpg | head -1)
  "${rev[@]}" predict --model "$tmp/$name" --input "$img" --output "$tmp/$name.png" >/dev/null
  check same-size "$img" "$tmp/$name.png"
}

# 3 photos (about 500x375), 21 VOC classes of which 7 occur. Measured: loss
# 3.0 -> 0.22-0.26, training-image mIoU 0.56-0.59 (floor 0.40).
learn semantic "$semantic" 100 0.05 0.25 0.40 3
# 5 video frames (1000x563), 3 classes (background, car, track). Measured:
# loss 0.82-0.90 -> 0.09-0.14, mIoU 0.56-0.58 (floor 0.40).
learn video "$video" 40 0.05 0.5 0.40 5
echo "real data, labelme VOC: ok"
