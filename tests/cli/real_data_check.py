#!/usr/bin/env python3
"""Checks for the real-data and bad-input CLI tests, independent of revup-cli.

  loss RUN_DIR MAX_RATIO        last epoch's train_loss <= MAX_RATIO x the first's
  miou EVAL_JSON FLOOR [IMAGES] evaluate's mIoU >= FLOOR (and the image count)
  same-size INPUT OUTPUT        the mask has the input's width and height (PNG and
                                JPEG read here; rasters through GDAL, volumes
                                through nibabel)
  same-geo INPUT OUTPUT         GDAL: equal geotransform and CRS
  same-voxels INPUT OUTPUT      nibabel: equal shape, spacing, origin and direction
  agree PRED LABELS FLOOR       share of the labelled voxels (LABELS > 0) where the
                                predicted label volume agrees (catches axes written
                                in the wrong order, which a header check cannot)
  dice EVAL_JSON N FLOOR        at least N structures (classes but the first,
                                background) with evaluate's Dice >= FLOOR
  coarser F IN LABELS OUT OUT_LABELS
                                IN and its label volume at 1/F of the resolution
                                (every F-th voxel of each), spacing times F, the
                                same origin and direction
  oblique-copy IN OUT           a slab of IN with anisotropic spacing, a rotated
                                direction and a shifted origin (a harder geometry)
  landsat-labels TIF OUT        deterministic 3-class mask from a Landsat 7 ETM+
                                raster (bands 1-5, 7): water, vegetation, other
  checkpoint-ok FILE            a LibTorch checkpoint archive that is whole (zip
                                with its end record, every member's CRC right)

Prints what it measured; exits 1 with the reason when a check fails. GDAL and
nibabel come from Debian (python3-gdal, python3-nibabel; ./revup.sh deps), so
run it with /usr/bin/python3.
"""
import csv
import json
import struct
import sys
import zipfile


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def need(module, package):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        fail(f"python module {module} missing: install {package} (./revup.sh deps), "
             f"and run this with Debian's /usr/bin/python3 (now {sys.executable})")


def loss(run_dir, max_ratio):
    with open(f"{run_dir}/metrics.csv") as f:
        rows = list(csv.DictReader(f))
    if len(rows) < 2:
        fail(f"{run_dir}/metrics.csv has {len(rows)} epochs; at least 2 are needed")
    first, last = float(rows[0]["train_loss"]), float(rows[-1]["train_loss"])
    print(f"train loss {first:.4f} -> {last:.4f} over {len(rows)} epochs "
          f"(ratio {last / first:.3f}, must be <= {max_ratio})")
    if not last <= float(max_ratio) * first:
        fail("the loss did not fall enough")


def miou(eval_json, floor, images=None):
    d = json.load(open(eval_json))
    print(f"mIoU {d['miou']:.4f} (floor {floor}), pixel accuracy "
          f"{d['pixel_accuracy']:.4f} over {d['images']} images")
    if images is not None and d["images"] != int(images):
        fail(f"evaluated {d['images']} images, expected {images}")
    if not d["miou"] >= float(floor):
        fail(f"mIoU {d['miou']:.4f} below the floor {floor}")


def png_size(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def jpeg_size(data):
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    return None


def size_of(path):
    """(width, height[, depth]) of an image, raster or volume."""
    name = path.lower()
    if name.endswith((".nii", ".nii.gz", ".mha", ".nrrd")):
        nib = need("nibabel", "python3-nibabel")
        return tuple(nib.load(path).shape[:3])  # (x, y, z)
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    size = png_size(head) or jpeg_size(head)
    if size:
        return tuple(size)
    gdal = need("osgeo.gdal", "python3-gdal")
    d = gdal.Open(path)
    if d is None:
        fail(f"{path}: GDAL cannot open it")
    return d.RasterXSize, d.RasterYSize


def same_size(inp, out):
    a, b = size_of(inp), size_of(out)
    print(f"{inp}: {a}; {out}: {b}")
    if a != b:
        fail(f"{out} has size {b}, its input {a}")


def same_geo(inp, out):
    gdal = need("osgeo.gdal", "python3-gdal")
    osr = need("osgeo.osr", "python3-gdal")
    a, b = gdal.Open(inp), gdal.Open(out)
    ta, tb = a.GetGeoTransform(can_return_null=True), b.GetGeoTransform(can_return_null=True)
    print(f"geotransform {ta} / {tb}")
    if ta is None or tb is None or any(abs(x - y) > 1e-9 * max(1.0, abs(x)) for x, y in zip(ta, tb)):
        fail(f"{out}: geotransform {tb} differs from {inp}'s {ta}")
    sa, sb = osr.SpatialReference(), osr.SpatialReference()
    if not a.GetProjection() or sa.ImportFromWkt(a.GetProjection()) != 0:
        fail(f"{inp}: has no CRS to compare")
    if not b.GetProjection() or sb.ImportFromWkt(b.GetProjection()) != 0:
        fail(f"{out}: has no CRS")
    print(f"CRS {sa.GetName()} / {sb.GetName()}")
    if not sa.IsSame(sb):
        fail(f"{out}: CRS {sb.GetName()} differs from {inp}'s {sa.GetName()}")
    if (a.RasterXSize, a.RasterYSize) != (b.RasterXSize, b.RasterYSize):
        fail(f"{out}: size {b.RasterXSize}x{b.RasterYSize}, input {a.RasterXSize}x{a.RasterYSize}")


def same_voxels(inp, out):
    nib = need("nibabel", "python3-nibabel")
    np = need("numpy", "python3-numpy")
    a, b = nib.load(inp), nib.load(out)
    print(f"shape {a.shape} / {b.shape}; spacing {a.header.get_zooms()[:3]} / "
          f"{b.header.get_zooms()[:3]}")
    print(f"affine (origin and direction x spacing)\n{a.affine}\n{b.affine}")
    if a.shape[:3] != b.shape[:3]:
        fail(f"{out}: shape {b.shape}, input {a.shape}")
    if not np.allclose(a.header.get_zooms()[:3], b.header.get_zooms()[:3], atol=1e-5):
        fail(f"{out}: spacing {b.header.get_zooms()[:3]}, input {a.header.get_zooms()[:3]}")
    if not np.allclose(a.affine, b.affine, atol=1e-4):
        fail(f"{out}: origin/direction differ from the input's")


def agree(pred, labels, floor):
    nib = need("nibabel", "python3-nibabel")
    np = need("numpy", "python3-numpy")
    p = np.asarray(nib.load(pred).dataobj)
    t = np.asarray(nib.load(labels).dataobj)
    if p.shape != t.shape:
        fail(f"{pred}: shape {p.shape}, labels {t.shape}")
    fg = t > 0
    share = float((p[fg] == t[fg]).mean())
    print(f"{pred}: agrees with {labels} on {share:.4f} of the labelled voxels "
          f"(floor {floor}), {float((p == t).mean()):.4f} of all")
    if not share >= float(floor):
        fail("the predicted label volume does not line up with the atlas")


def dice(eval_json, structures, floor):
    d = json.load(open(eval_json))
    scored = [(c["dice"], c["class"]) for c in d["per_class"][1:] if c.get("dice") is not None]
    learnt = sorted([x for x in scored if x[0] >= float(floor)], reverse=True)
    over = sum(x[0] for x in scored) / max(len(scored), 1)
    print(f"mean Dice {d['mean_dice']:.4f} over all classes, {over:.4f} over the "
          f"{len(scored)} structures scored (background excluded); {len(learnt)} with Dice >= "
          f"{floor} (floor {structures}): " + ", ".join(f"{n} {v:.2f}" for v, n in learnt[:6]))
    if len(learnt) < int(structures):
        fail(f"{len(learnt)} structures with Dice >= {floor}, fewer than {structures}")


def coarser(factor, inp, labels, out, out_labels):
    nib = need("nibabel", "python3-nibabel")
    np = need("numpy", "python3-numpy")
    a, b = nib.load(inp), nib.load(labels)
    f = int(factor)
    # Every f-th voxel of both: the kept voxels' centres, and so the origin, stay.
    x = np.asarray(a.dataobj, dtype=np.float32)[::f, ::f, ::f]
    y = np.asarray(b.dataobj)[::f, ::f, ::f].astype(np.uint8)
    affine = a.affine.copy()
    affine[:3, :3] = affine[:3, :3] * f
    for data, path in ((x, out), (y, out_labels)):
        img = nib.Nifti1Image(data, affine)
        img.set_qform(affine, code=1)
        img.set_sform(affine, code=1)
        nib.save(img, path)
    print(f"{out}, {out_labels}: {x.shape} at {f} times the spacing")


def oblique_copy(inp, out):
    nib = need("nibabel", "python3-nibabel")
    np = need("numpy", "python3-numpy")
    a = nib.load(inp)
    data = np.asarray(a.dataobj)[:, :, 70:110]  # 40 axial slices through the middle
    t = np.deg2rad(12.0)
    rotation = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag([0.9, 1.1, 1.5])
    affine[:3, 3] = [-81.5, -120.25, -12.0]
    img = nib.Nifti1Image(data, affine)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    nib.save(img, out)
    print(f"{out}: {data.shape}, spacing (0.9, 1.1, 1.5), rotated 12 degrees about z")


def landsat_labels(tif, out):
    gdal = need("osgeo.gdal", "python3-gdal")
    np = need("numpy", "python3-numpy")
    d = gdal.Open(tif)
    if d is None or d.RasterCount != 6:
        fail(f"{tif}: expected the 6-band Landsat 7 ETM+ raster")
    x = d.ReadAsArray().astype(np.int64)  # [band, row, col], bands 1, 2, 3, 4, 5, 7
    red, nir = x[2], x[3]
    labels = np.zeros(red.shape, np.uint8)  # 0: other (built-up, bare)
    labels[5 * (nir - red) > nir + red] = 2  # NDVI > 0.2: vegetation
    labels[nir < 30] = 1  # dark in the near infrared: water
    drv = gdal.GetDriverByName("GTiff")
    o = drv.Create(out, d.RasterXSize, d.RasterYSize, 1, gdal.GDT_Byte)
    o.SetGeoTransform(d.GetGeoTransform())
    o.SetProjection(d.GetProjection())
    o.GetRasterBand(1).WriteArray(labels)
    o = None
    shares = [float((labels == k).mean()) for k in range(3)]
    print(f"labels from {tif}: other {shares[0]:.3f}, water {shares[1]:.3f}, "
          f"vegetation {shares[2]:.3f}")


def checkpoint_ok(path):
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
            names = z.namelist()
    except (zipfile.BadZipFile, OSError) as e:
        fail(f"{path}: not a whole checkpoint ({e})")
    if bad is not None:
        fail(f"{path}: member {bad} is corrupt")
    print(f"{path}: whole ({len(names)} members)")


COMMANDS = {"loss": loss, "miou": miou, "same-size": same_size, "same-geo": same_geo,
            "same-voxels": same_voxels, "landsat-labels": landsat_labels,
            "checkpoint-ok": checkpoint_ok, "agree": agree, "oblique-copy": oblique_copy,
            "dice": dice, "coarser": coarser}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        sys.exit(2)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
