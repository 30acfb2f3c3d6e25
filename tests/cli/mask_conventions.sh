#!/usr/bin/env bash
# Masks as a new user's tools write them, here by GDAL (GeoTIFF and PNG):
# 0/255 binary with re-encoded edges, sparse values, an image given as its
# own mask. `train` must say how it read them, store the reading in the run,
# refuse what cannot be right, and `predict` must write the masks' values.
set -euo pipefail
cli=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

/usr/bin/python3 - "$tmp" <<'PY' || fail "python3-gdal and python3-numpy are needed (./revup.sh deps)"
import os, sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
root = sys.argv[1]
rng = np.random.default_rng(0)

def write(path, array, driver):
    bands = 1 if array.ndim == 2 else array.shape[0]
    h, w = array.shape[-2:]
    mem = gdal.GetDriverByName("MEM").Create("", w, h, bands, gdal.GDT_Byte)
    for b in range(bands):
        mem.GetRasterBand(b + 1).WriteArray(array if bands == 1 else array[b])
    gdal.GetDriverByName(driver).CreateCopy(path, mem)

def photo(h, w, mask):
    # The class is visible in the picture: bright where the mask is foreground.
    base = rng.integers(0, 90, (3, h, w)).astype(np.uint8)
    base[:, mask > 0] += 140
    return base

def dataset(name, masks, mask_driver, ext):
    os.makedirs(f"{root}/{name}/images")
    os.makedirs(f"{root}/{name}/masks")
    for i, m in enumerate(masks):
        write(f"{root}/{name}/images/{i}.png", photo(*m.shape, m), "PNG")
        write(f"{root}/{name}/masks/{i}{ext}", m, mask_driver)

def binary(h, w, seed):
    m = np.zeros((h, w), np.uint8)
    r = np.random.default_rng(seed)
    y, x = r.integers(4, h // 2), r.integers(4, w // 2)
    m[y:y + h // 3, x:x + w // 3] = 255
    # Re-encoded edges: a few values near each end along the square's border.
    m[y, x:x + w // 3] = 254
    m[y - 1, x:x + w // 3] = 2
    return m

dataset("binary_tif", [binary(48, 64, s) for s in range(4)], "GTiff", ".tif")
sparse = []
for s in range(4):
    m = binary(48, 64, s).copy()
    m[m == 254] = 255
    m[m == 2] = 0
    m = (m // 255) * 10  # 0 and 10
    m[:8, :] = 20         # a third class along the top
    sparse.append(m.astype(np.uint8))
dataset("sparse_png", sparse, "PNG", ".png")
# A photo given as its own (grey) mask.
os.makedirs(f"{root}/photo_as_mask/images")
os.makedirs(f"{root}/photo_as_mask/masks")
for i in range(2):
    p = rng.integers(0, 256, (3, 48, 64)).astype(np.uint8)
    write(f"{root}/photo_as_mask/images/{i}.png", p, "PNG")
    write(f"{root}/photo_as_mask/masks/{i}.png", p[0], "PNG")
PY

# 0/255 GeoTIFF masks written by GDAL: binary, two classes, nothing ignored.
"$cli" train --data "$tmp/binary_tif" --epochs 3 --val-fraction 0.25 --out "$tmp/run" \
  >"$tmp/train.log" 2>&1 || { cat "$tmp/train.log"; fail "train on 0/255 masks failed"; }
cat "$tmp/train.log"
grep -q "masks hold 0 ([0-9.]* %), 255 ([0-9.]* %)" "$tmp/train.log" || fail "no report of the mask values"
grep -q "read as binary" "$tmp/train.log" || fail "0/255 masks not read as binary"
grep -q "2 other values (re-encoded edges)" "$tmp/train.log" || fail "stray edge values not named"
/usr/bin/python3 - "$tmp/run/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["masks"]["convention"] == "binary", c["masks"]
assert c["masks"]["values"] == [0, 255], c["masks"]
assert [k["name"] for k in c["classes"]["classes"]] == ["background", "foreground"], c["classes"]
found = dict((v, n) for v, n in c["masks_found"])
assert set(found) == {0, 2, 254, 255}, found
PY
# Predictions come back in the masks' own values.
"$cli" predict --model "$tmp/run" --input "$tmp/binary_tif/images/0.png" --output "$tmp/pred.png"
/usr/bin/python3 - "$tmp/pred.png" <<'PY'
import sys
import numpy as np
from osgeo import gdal
values = set(np.unique(gdal.Open(sys.argv[1]).ReadAsArray()).tolist())
assert values <= {0, 255}, values
print("prediction values", sorted(values))
PY
# evaluate reads the masks as the run was trained.
"$cli" evaluate --model "$tmp/run" --data "$tmp/binary_tif" --json "$tmp/eval.json" >/dev/null
grep -q '"foreground"' "$tmp/eval.json" || fail "evaluate did not score foreground"

# Read as VOC (255 = ignore), the same masks leave nothing to learn: refused.
if "$cli" train --data "$tmp/binary_tif" --epochs 1 --mask-values voc --out "$tmp/voc" \
  >"$tmp/voc.log" 2>&1; then
  fail "0/255 masks read as VOC were accepted"
fi
grep -q "binary_tif: read as voc, value 254 makes 255 classes of which 3 hold pixels" \
  "$tmp/voc.log" || {
  cat "$tmp/voc.log"
  fail "no clear error for 0/255 masks with edges read as VOC"
}
grep -q -- "--mask-values binary" "$tmp/voc.log" || fail "the error does not say what to do"
[[ ! -e "$tmp/voc" ]] || fail "a refused run left its folder behind"
# The same masks with a class table of two classes (255 = its ignore value):
# only background is labelled, nothing to learn.
cp -r "$tmp/binary_tif" "$tmp/with_table"
/usr/bin/python3 - "$tmp/with_table" <<'PY'
import json, sys
import numpy as np
from osgeo import gdal
for i in range(4):  # without the edge values: 0 and 255 only
    path = f"{sys.argv[1]}/masks/{i}.tif"
    ds = gdal.Open(path, gdal.GA_Update)
    a = ds.ReadAsArray()
    ds.GetRasterBand(1).WriteArray(np.where(a > 127, 255, 0).astype(np.uint8))
    ds = None
json.dump({"classes": ["background", "object"]}, open(f"{sys.argv[1]}/classes.json", "w"))
PY
if "$cli" train --data "$tmp/with_table" --epochs 1 --out "$tmp/table" >"$tmp/table.log" 2>&1; then
  fail "0/255 masks with a 2-class table (255 ignored) were accepted"
fi
grep -q "nothing to learn: every labelled pixel is class 'background'; value 255" "$tmp/table.log" || {
  cat "$tmp/table.log"
  fail "no clear error for a class that exists only in ignored pixels"
}

# Sparse values 0/10/20 written by GDAL's PNG driver: three classes in value order.
"$cli" train --data "$tmp/sparse_png" --epochs 1 --val-fraction 0.25 --out "$tmp/sparse" \
  >"$tmp/sparse.log" 2>&1 || { cat "$tmp/sparse.log"; fail "train on sparse masks failed"; }
grep -q "read as sparse" "$tmp/sparse.log" || { cat "$tmp/sparse.log"; fail "not read as sparse"; }
grep -q "3 classes" "$tmp/sparse.log" || fail "sparse masks did not give 3 classes"
grep -q "value_20" "$tmp/run/../sparse/config.json" || fail "class names of sparse values missing"

# A photo given as its own mask: refused, naming the folder.
if "$cli" train --data "$tmp/photo_as_mask" --epochs 1 --out "$tmp/photo" >"$tmp/photo.log" 2>&1; then
  fail "a photo was accepted as a mask"
fi
grep -q "photo_as_mask: the masks hold .* distinct values.*look like images" "$tmp/photo.log" || {
  cat "$tmp/photo.log"
  fail "no clear error for an image given as mask"
}
echo "mask conventions: ok"
