#!/usr/bin/env bash
# DICOM as it comes and outputs shaped like their inputs (issue 13, parts 2
# and 3), end to end through revup-cli: a model trained for one epoch on
# series A of the export folder (tests/io/make_dicom_folder.py) predicts on a
# file of that folder and on the folder itself, which also holds a file GDCM
# cannot decode, a report without pixels and another series: the command
# succeeds (it aborted with exit 134 before) and its warnings name the files
# it skipped. A 2D MetaImage input gives a 2D NRRD mask (dimension 2, no
# third size of 1).
#   dicom_predict.sh CLI
set -euo pipefail
cli=$1
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
[[ -x $py ]] || py=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}

"$py" "$here/../io/make_dicom_folder.py" "$tmp/export" ||
  fail "cannot write the DICOM folder: install python3-pydicom (./revup.sh deps)"
# Labels on series A's grid (3 slices of 16x16, the lower half class 1) and a
# 2D input (16 wide, 12 high), both MetaImage.
"$py" - "$tmp" <<'PY'
import sys
tmp = sys.argv[1]
def mha(path, sizes, kind, data):
    header = ("ObjectType = Image\nNDims = %d\nDimSize = %s\nElementType = %s\n"
              "ElementSpacing = %s\nElementDataFile = LOCAL\n"
              % (len(sizes), " ".join(map(str, sizes)), kind, " ".join(["0.5"] * len(sizes))))
    with open(path, "wb") as f:
        f.write(header.encode() + data)
mha(tmp + "/labels.mha", (16, 16, 3), "MET_UCHAR",
    bytes(0 if y < 8 else 1 for z in range(3) for y in range(16) for x in range(16)))
mha(tmp + "/flat.mha", (16, 12), "MET_SHORT",
    b"".join((7 * x).to_bytes(2, "little") for y in range(12) for x in range(16)))
PY
printf '{"volume": "%s", "labels": "%s", "dims": 2, "axis": 0}\n' "$tmp/export/a2.dcm" "$tmp/labels.mha" \
  >"$tmp/series.json"
"$cli" train --data "$tmp/series.json" --epochs 1 --val-fraction 0 --no-augment --out "$tmp/run" \
  >"$tmp/train.log" 2>&1 || {
  tail -20 "$tmp/train.log"
  fail "train failed"
}

predict() { # predict INPUT OUTPUT: fails on a crash or an error, shows what it said
  local code=0
  "$cli" predict --model "$tmp/run" --input "$1" --output "$2" >"$tmp/out.log" 2>&1 || code=$?
  cat "$tmp/out.log"
  ((code < 128)) || fail "predict on $1 crashed (exit $code)"
  ((code == 0)) || fail "predict on $1 failed (exit $code)"
}
predict "$tmp/export/a1.dcm" "$tmp/a.nii.gz"
grep -q "warning: .*skipped .*a4-broken.dcm (" "$tmp/out.log" || fail "no warning naming a4-broken.dcm"
predict "$tmp/export" "$tmp/folder.nii.gz"
grep -q "warning: .*series; read the one with the most files" "$tmp/out.log" ||
  fail "no warning naming the series not read"
grep -q "report.dcm (" "$tmp/out.log" || fail "no warning naming report.dcm"

predict "$tmp/flat.mha" "$tmp/flat.nrrd"
grep -aq "^dimension: 2" "$tmp/flat.nrrd" || fail "a 2D input gave a mask that is not 2D"
grep -aq "^sizes: 16 12" "$tmp/flat.nrrd" || fail "the 2D mask's sizes are not 16 12"
echo "ok: DICOM file and folder read with warnings, a 2D input gave a 2D mask"
