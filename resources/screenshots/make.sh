#!/usr/bin/env bash
# Renders the README's screenshots of revup from real data Debian ships
# (./revup.sh deps installs it): a labelme photo with part of its VOC labels
# as a user would have painted them, trained for a few epochs; the Landsat
# GeoTIFF; the ch2 MRI. Usage: resources/screenshots/make.sh [build/bin]
# Environment: SIZE (window, default 1600x1000: the README's), OUT (folder,
# default resources/screenshots), LANDSAT (the GeoTIFF, default the one
# ./revup.sh deps puts in build/data). Checking another size:
#   SIZE=1280x800 OUT=/tmp/shots resources/screenshots/make.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/bin}
OUT=${OUT:-resources/screenshots}
SIZE=${SIZE:-1600x1000}
LANDSAT=${LANDSAT:-build/data/L7_ETMs.tif}
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export QT_QPA_PLATFORM=offscreen REVUP_LOG_FILE="$WORK/revup.log"

VOC=/usr/share/doc/labelme-examples/examples/semantic_segmentation/data_dataset_voc
cp "$VOC/JPEGImages/2011_000025.jpg" "$WORK/bus.jpg"
resources/screenshots/painted_labels.py "$VOC" "$WORK"

shot() { "$BIN/revup" --size "$SIZE" --screenshot "$@"; }
shot "$OUT/train-memory.png" "$WORK/bus.jpg" --train 12 --panel memory
shot "$OUT/train-reconstruction.png" "$WORK/bus.jpg" --train 6 --panel reconstruction
shot "$OUT/train-metrics.png" "$WORK/bus.jpg" --train 12 --panel metrics
if [[ -f $LANDSAT ]]; then
  shot "$OUT/geotiff.png" "$LANDSAT"
else
  echo "make.sh: no $LANDSAT (./revup.sh deps fetches it); geotiff.png left as it was" >&2
fi
shot "$OUT/volume.png" /usr/share/mricron/templates/ch2.nii.gz 2>/dev/null ||
  shot "$OUT/volume.png" "$(find /usr/share -name ch2.nii.gz | head -1)"
# A photo in a 1600x1000 window is 410-440 KB as lossless PNG; 256 well-chosen
# colours look the same at 40-55 % of that (apt install pngquant). pngquant
# keeps a file it cannot shrink at that quality as it is.
if command -v pngquant >/dev/null; then
  for f in "$OUT"/*.png; do
    pngquant --quality 85-98 --speed 1 --force --output "$f" "$f" || echo "make.sh: $f kept lossless"
  done
fi
ls -la "$OUT"/*.png
