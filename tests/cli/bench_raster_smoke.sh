#!/usr/bin/env bash
# bench raster on a small generated GeoTIFF: it writes one with overviews, reads
# it back every way and reports the times; an unreadable input is an error.
set -euo pipefail
cli=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cli" bench raster --size 1500 --repeats 2 --json "$tmp/r.json" 2>"$tmp/log"
generated=$(sed -n 's/.* to \(.*bench-raster.tif\) .*/\1/p' "$tmp/log")
[[ -n "$generated" ]] || { cat "$tmp/log"; echo "bench raster did not say where it wrote"; exit 1; }
python3 - "$tmp/r.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["size"] == [1500, 1500], d["size"]
assert d["overviews"] >= 2, d["overviews"]  # 750, 375 px: the writer built them
for k in ("whole_image_display_seconds", "screen_window_seconds", "full_read_seconds"):
    assert 0 < d[k] < 60, (k, d[k])
PY
[[ ! -e "$(dirname "$generated")" ]] || { echo "bench raster left $(dirname "$generated")"; exit 1; }
if "$cli" bench raster --input "$tmp/missing.tif" --json "$tmp/x.json" 2>"$tmp/err"; then
  echo "a missing input was accepted"; exit 1
fi
grep -q "missing.tif" "$tmp/err" || { cat "$tmp/err"; echo "the error does not name the file"; exit 1; }
echo "bench raster smoke: ok"
