#!/usr/bin/env bash
# Setup of the bad-input tests (issue 3, section 6): small inputs, good and
# bad (make_bad_inputs.py), a 2-class photo run and a volume run trained on
# the good ones, and a GeoTIFF cut in half.
#   bad_input_fixtures.sh CLI DIR
set -euo pipefail
cli=$1
dir=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$dir"
python3 "$here/make_bad_inputs.py" "$dir"
cd "$dir"
# --val-fraction 0.5: one photo validates, so best.pt is written besides last.pt.
"$cli" train --data ok --epochs 1 --val-fraction 0.5 --no-augment --out run2 >train.log
test -s run2/last.pt && test -s run2/best.pt || { echo "setup: run2 has no checkpoints"; exit 1; }
plugins=$("$cli" info)
if grep -q "revup-plugin-itk.so: loaded" <<<"$plugins"; then
  "$cli" train --data volume.json --epochs 1 --val-fraction 0 --no-augment --out volume_run >>train.log
  test -s volume_run/last.pt || { echo "setup: volume_run has no checkpoint"; exit 1; }
fi
if grep -q "revup-plugin-gdal.so: loaded" <<<"$plugins"; then
  # A GeoTIFF (tiled, compressed, with overviews) from the GDAL plugin, cut in half.
  "$cli" predict --model run2 --input big.png --output big.tif >/dev/null
  python3 -c "d = open('big.tif', 'rb').read(); open('truncated.tif', 'wb').write(d[:len(d) // 2])"
fi
echo "bad-input fixtures ready in $dir"
