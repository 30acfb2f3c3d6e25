#!/bin/bash
# Writes the fuzz harnesses' seed corpus, tests/fuzz/corpus/HARNESS/, from
# the files the tests already use or make: Fashion-MNIST's IDX files
# (cut to their first records), labelme's class lists, the run folders and
# manifests the CLI's bad-input tests leave in build/tests/scratch/bad, .npy
# arrays in NumPy's layout, and checkpoints our own Trainer writes
# (revup_fuzz_checkpoint_seeds). Each seed stays a few KB; run once, commit
# the output. Usage: tests/fuzz/make_seeds.sh [BUILD_DIR]   (default build/)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
scratch=$root/build/tests/scratch/bad  # the CLI tests' (normal build)
out=$here/corpus
mkdir -p "$out"/{npy,idx,class_table,run_config,metrics_csv,dataset_manifest,checkpoint,plugin_entry,project,label_files}

# .npy: the dtypes, orders and versions read_npy takes, and a labelme mask.
python3 - "$out" <<'PY'
# No NumPy needed: .npy is a short header and the raw array (NumPy's format
# description, numpy.lib.format), written here as NumPy writes it.
import gzip, json, os, struct, sys
out = sys.argv[1]

def npy(descr, shape, values, fortran=False, version=1):
    """values in C order; stored in Fortran order when asked."""
    if fortran and len(shape) == 2:
        h, w = shape
        values = [values[r * w + c] for c in range(w) for r in range(h)]
    dims = ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "")
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, "True" if fortran else "False", dims)
    size_bytes = 2 if version == 1 else 4
    header += " " * (63 - (10 + (size_bytes - 2) + len(header)) % 64) + "\n"
    code = {"|u1": "B", "|i1": "b", "<i2": "h", "<u2": "H", "<i4": "i", "<u4": "I",
            "<i8": "q", "<f4": "f", "<f8": "d", "|b1": "?"}[descr]
    return (b"\x93NUMPY" + bytes([version, 0]) +
            len(header).to_bytes(size_bytes, "little") + header.encode() +
            struct.pack("<%d%s" % (len(values), code), *values))

def save(name, data):
    with open(os.path.join(out, "npy", name), "wb") as f:
        f.write(data)

r = list(range(24))
save("u1.npy", npy("|u1", (4, 6), r))
save("i1.npy", npy("|i1", (4, 6), [v - 12 for v in r]))
save("i2.npy", npy("<i2", (4, 6), r))
save("u2.npy", npy("<u2", (4, 6), [v * 2000 for v in r]))
save("i4_labelme.npy", npy("<i4", (4, 6), [v % 3 - 1 for v in r]))  # labelme's -1 = ignore
save("u4.npy", npy("<u4", (4, 6), r))
save("i8.npy", npy("<i8", (4, 6), r))
save("f4.npy", npy("<f4", (4, 6), [v / 7 for v in r]))
save("f8_fortran.npy", npy("<f8", (4, 6), [v / 3 for v in r], fortran=True))
save("b1.npy", npy("|b1", (4, 6), [v % 2 == 0 for v in r]))
save("rgb.npy", npy("|u1", (4, 6, 3), [v for v in r for _ in range(3)]))
save("cube.npy", npy("|u1", (3, 4, 6), list(range(72))))
save("scalar.npy", npy("<i4", (), [5]))
save("empty.npy", npy("|u1", (0, 6), []))
save("v2.npy", npy("|u1", (4, 6), r, version=2))
save("v3.npy", npy("|u1", (4, 6), r, version=3))
save("truncated.npy", npy("|u1", (4, 6), r)[:-5])

# IDX: Fashion-MNIST's first records, plain and gzip, and a label file.
src = "/usr/share/datasets/fashion-mnist"
def idx_head(name, records, record_bytes):
    with gzip.open(os.path.join(src, name), "rb") as f:
        magic = f.read(4)
        shape = [int.from_bytes(f.read(4), "big") for _ in range(magic[3])]
        body = f.read(records * record_bytes)
    shape[0] = records
    return magic + b"".join(s.to_bytes(4, "big") for s in shape) + body
if os.path.isdir(src):
    images = idx_head("t10k-images-idx3-ubyte.gz", 2, 784)
    labels = idx_head("t10k-labels-idx1-ubyte.gz", 16, 1)
    open(os.path.join(out, "idx", "images-2-idx3-ubyte"), "wb").write(images)
    open(os.path.join(out, "idx", "images-2-idx3-ubyte.gz"), "wb").write(gzip.compress(images, mtime=0))
    open(os.path.join(out, "idx", "labels-16-idx1-ubyte.gz"), "wb").write(gzip.compress(labels, mtime=0))
open(os.path.join(out, "idx", "four-dims"), "wb").write(
    bytes([0, 0, 8, 4]) + b"".join((2).to_bytes(4, "big") for _ in range(4)) + bytes(range(16)))

# The GUI's label files: 2 bytes of .npy length, the .npy, the class table.
table = json.dumps({"classes": [{"name": "background", "color": [0, 0, 0]},
                                {"name": "road", "color": [128, 64, 128]}, "tree"],
                    "ignore_index": 255}).encode()
def label_seed(name, mask, table=b""):
    open(os.path.join(out, "label_files", name), "wb").write(
        len(mask).to_bytes(2, "little") + mask + table)
label_seed("ids_and_table", npy("|u1", (4, 6), [v % 3 for v in r]), table)
label_seed("ids_only", npy("|u1", (4, 6), [v % 3 for v in r]))
label_seed("unlabelled", npy("|u1", (4, 6), [255 if v % 4 == 0 else v % 2 for v in r]))
label_seed("colours", npy("|u1", (4, 6, 3), [c for v in r for c in (0, v % 2 * 128, 0)]),
           b'["background", "aeroplane"]')
PY

# Class tables: labelme's lists and the JSON forms from_json takes.
labelme=/usr/share/doc/labelme-examples/examples
[ -f "$labelme/semantic_segmentation/labels.txt" ] &&
  cp "$labelme/semantic_segmentation/labels.txt" "$out/class_table/labelme_labels.txt"
[ -f "$labelme/semantic_segmentation/data_dataset_voc/class_names.txt" ] &&
  cp "$labelme/semantic_segmentation/data_dataset_voc/class_names.txt" "$out/class_table/labelme_class_names.txt"
[ -f "$scratch/outside/classes.json" ] && cp "$scratch/outside/classes.json" "$out/class_table/classes.json"
echo '{"classes": [{"name": "background", "color": [0, 0, 0]}, "road", {"name": "tree"}], "ignore_index": -1}' \
  > "$out/class_table/mixed.json"
echo '["water", "land"]' > "$out/class_table/array.json"

# Run folders: config.json and metrics.csv of the CLI tests' runs, and a
# classifier's config as train-classifier writes it.
for run in run2 volume_run; do
  [ -f "$scratch/$run/config.json" ] && cp "$scratch/$run/config.json" "$out/run_config/$run.json"
  [ -f "$scratch/$run/metrics.csv" ] && cp "$scratch/$run/metrics.csv" "$out/metrics_csv/$run.csv"
done
cat > "$out/run_config/classifier.json" <<'JSON'
{"task": "classification", "model": {"arch": "revup", "depth": 20, "style": "cifar", "in_channels": 1,
 "num_classes": 10, "widths": [16, 32, 64], "blocks": [3, 3, 3], "block": "basic", "stem_width": 16,
 "stem": "auto", "classifier": true, "injective_stem": false,
 "spectral_norm": {"coeff": 0.9, "power_iterations": 1, "grid": 32},
 "fixed_point": {"iterations": 1, "tolerance": 0.0, "max_iterations": 100}},
 "classes": {"names": ["T-shirt/top", "Trouser"], "source": "Fashion-MNIST's labels"},
 "data": {"path": "/usr/share/datasets/fashion-mnist", "train": 60000, "test": 10000},
 "normalization": {"mean": [0.286], "std": [0.353]}}
JSON
printf 'epoch,train_loss,val_acc,seconds,peak_bytes\n1,2.1,0.5,3.2,1000\n2,nan,,3.1,1000\n3,1.5,0.7\n' \
  > "$out/metrics_csv/gaps.csv"

# Dataset manifests, naming the files the harness writes beside them.
m=$out/dataset_manifest
echo '{"classes": ["ground", "road", "tree"], "pairs": [{"image": "img.npy", "mask": "mask.npy"}, {"image": "rgb.npy", "mask": "mask.npy", "name": "rgb"}]}' > "$m/pairs.json"
echo '{"pairs": [{"image": "img.npy", "mask": "mask255.npy"}, {"image": "img.npy", "mask": "mask.npy"}]}' > "$m/pairs_no_classes.json"
echo '{"classes": {"classes": [{"name": "a", "color": [1, 2, 3]}, "b", "c"], "ignore_index": 2}, "pairs": [{"image": "img.npy", "mask": "mask.npy"}]}' > "$m/pairs_table.json"
echo '{"volume": "vol.vol.npy", "labels": "labels.vol.npy", "axis": 0}' > "$m/volume.json"
echo '{"volume": "vol.vol.npy", "labels": "labels.vol.npy", "dims": 2, "axis": 2, "label_names": "aal.txt", "include_empty_slices": true}' > "$m/volume_aal.json"
echo '{"volume": "vol.vol.npy", "labels": "labels.vol.npy", "dims": 2, "axis": 1, "classes": ["bg", "x", "y", "z"], "ignore_index": 3}' > "$m/volume_classes.json"
echo '{"volume": "vol.vol.npy", "labels": "negative.vol.npy"}' > "$m/volume_negative.json"
for f in volume missing no_labels; do
  [ -f "$scratch/$f.json" ] && cp "$scratch/$f.json" "$m/cli_$f.json"
done

# Projects as the GUI saves them.
cat > "$out/project/scene.revup" <<'JSON'
{"format": "revup-project", "version": 1, "image": "scene.png", "labels": "scene.labels.png",
 "classes": {"classes": [{"name": "background", "color": [0, 0, 0]}, {"name": "road", "color": [128, 0, 0]}],
             "ignore_index": 255},
 "training": {"preset": "cpu", "lipschitz": 0.9, "fixedPointIterations": 1, "memSave": true,
              "injectiveStem": false, "learningRate": 0.02, "weightDecay": 0.0001, "diceWeight": 0.0,
              "clipGrad": 0.0, "epochs": 100, "augment": true, "device": "cpu", "seed": 0},
 "runs": ["runs/run-001", "/elsewhere/run-002"], "slice_axis": 0, "slice_index": 0}
JSON
echo '{"format": "revup-project", "version": 1, "image": "/data/ch2.nii.gz", "slice_axis": 2, "slice_index": 40}' \
  > "$out/project/volume.revup"

# Plugin entries, in harness_plugin_entry.cpp's layout: which entry points
# are missing, the ABI version byte, the description, then the formats
# registered; the last 16 bytes are what their readers return.
python3 - "$out/plugin_entry" <<'PY'
import os, sys
def text(s): return bytes([len(s)]) + s.encode()
def fmt(name, exts, functions):
    return text(name) + bytes([len(exts)]) + b"".join(text(e) for e in exts) + bytes([functions])
def entry(formats, how=None, missing=0, abi=0, description="", reader=b""):
    # how % 4 formats; how % 7 of 1, 2 or 3 throws (see register_formats).
    how = [0, 5, 6, 7][len(formats)] if how is None else how
    body = bytes([missing, abi]) + text(description) + bytes([how]) + b"".join(formats)
    return body + (reader.ljust(16, b"\0") if reader else b"")
pixels = bytes([0, 3, 1, 4, 6, 0])  # [1, 4, 6] uint8
seeds = {
    "one_reader": entry([fmt("fake", [".fak"], 2)], description="fake test format", reader=pixels),
    "gdal_like": entry([fmt("geotiff", [".tif", ".tiff"], 2 | 4 | 8), fmt("gdal", [".vrt"], 2)],
                       reader=pixels),
    "dicom_folders": entry([fmt("dicom", [".dcm"], 1 | 2)], reader=bytes([0, 4, 1, 3, 4, 6, 4])),
    "wrong_abi": entry([], abi=201),
    "no_register": entry([], missing=2),
    "no_dot": entry([fmt("x", ["tif"], 2)]),
    "reader_throws": entry([fmt("x", [".x"], 2)], reader=bytes([1])),
}
for name, data in seeds.items():
    open(os.path.join(sys.argv[1], name), "wb").write(data)
PY

# Checkpoints from our Trainer, and one cut short.
seeds=$build/tests/fuzz/revup_fuzz_checkpoint_seeds
if [ -x "$seeds" ]; then
  "$seeds" "$out/checkpoint"
  head -c 2000 "$out/checkpoint/fresh.pt" > "$out/checkpoint/truncated.pt"
  # What loaded before the loaders checked shapes and epochs: regressions.
  mkdir -p "$here/crashes/checkpoint"
  mv "$out/checkpoint/negative_epoch.pt" "$here/crashes/checkpoint/negative_epoch.pt"
  cp "$out/checkpoint/wider.pt" "$here/crashes/checkpoint/wider_model.pt"
else
  echo "make_seeds.sh: $seeds not built (ninja -C $build revup_fuzz_checkpoint_seeds); checkpoints skipped" >&2
fi
du -sh "$out"
