#!/usr/bin/env bash
# Real data (issue 3, section 5): the Landsat 7 ETM+ GeoTIFF L7_ETMs.tif
# (349x352, 6 bands, UTM zone 25S; unpacked from Debian's r-cran-stars by
# ./revup.sh deps). It comes without labels, so a deterministic 3-class mask is
# derived from its own bands: water (near infrared < 30), vegetation (NDVI >
# 0.2), everything else (built-up, bare). Trains the cpu preset on the whole
# raster, checks that it learns (the loss falls, the mIoU on the raster clears
# a floor), and that the predicted GeoTIFF has the input's size, geotransform
# and CRS (read back with GDAL's Python bindings).
#   real_data_landsat.sh CLI [L7_ETMs.tif]
set -euo pipefail
cli=$1
source "$(dirname "$0")/real_data_common.sh"
tif=${2:-$here/../../build/data/L7_ETMs.tif}

[[ -f $tif ]] || fail "$tif missing: fetch it with ./revup.sh deps (L7_ETMs.tif from r-cran-stars)"
"$py" -c "from osgeo import gdal" 2>/dev/null ||
  fail "$py cannot import osgeo.gdal: install python3-gdal (./revup.sh deps)"

mkdir "$tmp/data"
check landsat-labels "$tif" "$tmp/data/labels.tif"
cat >"$tmp/data/dataset.json" <<EOF
{"classes": ["other", "water", "vegetation"],
 "pairs": [{"image": "$tif", "mask": "labels.tif"}]}
EOF
# One raster: every epoch is one full-resolution step. Measured on 2 cores:
# loss 0.97 -> 0.24 in 60 epochs, mIoU 0.82 on the raster.
"${rev[@]}" train --data "$tmp/data/dataset.json" --epochs 60 --lr 0.05 --val-fraction 0 --no-augment \
  --out "$tmp/run" >"$tmp/train.log" 2>&1 || { tail -20 "$tmp/train.log"; fail "train failed"; }
grep "^training" "$tmp/train.log"
check loss "$tmp/run" 0.5
"${rev[@]}" evaluate --model "$tmp/run" --data "$tmp/data/dataset.json" --json "$tmp/eval.json" >/dev/null 2>&1
check miou "$tmp/eval.json" 0.5 1

"${rev[@]}" predict --model "$tmp/run" --input "$tif" --output "$tmp/pred.tif" 2>/dev/null |
  grep -v "^  " || fail "predict failed"
check same-size "$tif" "$tmp/pred.tif"
check same-geo "$tif" "$tmp/pred.tif"
# Tiled prediction writes the same georeferencing.
"${rev[@]}" predict --model "$tmp/run" --input "$tif" --output "$tmp/tiled.tif" --tile 128 --overlap 32 \
  >/dev/null 2>&1 || fail "tiled predict failed"
check same-geo "$tif" "$tmp/tiled.tif"
echo "real data, Landsat GeoTIFF: ok"
