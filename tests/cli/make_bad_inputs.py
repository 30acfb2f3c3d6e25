#!/usr/bin/env python3
"""Writes the small inputs of the bad-input tests (issue 3, section 6) into DIR.

Standard library only (PNG, .npy and NIfTI written by hand), so the tests need
nothing beyond python3:

  ok/                2 photos 64x48 with 2-class masks (a run is trained on it)
  three_classes/     the same photos, masks with 3 classes (more than that run)
  wrong_size/        a mask 64x40 for a 64x48 photo
  outside/           classes.json lists 2 classes, a mask holds label 5
  nan/, inf/         a float32 .npy photo with one NaN / +Inf pixel
  volume.nii.gz      a 24x32x40 volume, labels.nii.gz its 3-class label volume
  volume.json        volume + labels (a volume run is trained on it)
  no_labels.json     a volume manifest without "labels"
  corrupt/           a training photo cut in half
  missing.json       a manifest whose mask file does not exist
  big.png            512x512 photo (its .npy mask is 1 MiB: fills a small disk)
  truncated.png      a PNG cut in half; truncated.nii.gz likewise
  unknown.xyz        a file in no known format
  out/, runs/        empty: where the tests' outputs would go
"""
import gzip
import json
import os
import random
import struct
import sys
import zlib


def png(path, rows, channels):
    h, w = len(rows), len(rows[0]) // channels
    raw = b"".join(b"\x00" + bytes(r) for r in rows)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    colour = {1: 0, 3: 2}[channels]
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" +
                chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def npy(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % ", ".join(map(str, shape))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%df" % len(values), *values))


def nifti(path, data, shape):
    """uint8 NIfTI-1, gzipped; shape (x, y, z), data x fastest; 1 mm, origin 0."""
    h = bytearray(352)
    struct.pack_into("<i", h, 0, 348)
    struct.pack_into("<8h", h, 40, 3, *shape, 1, 1, 1, 1)
    struct.pack_into("<hh", h, 70, 2, 8)  # DT_UINT8, 8 bits
    struct.pack_into("<8f", h, 76, 1, 1, 1, 1, 1, 1, 1, 1)
    struct.pack_into("<ff", h, 108, 352, 1)  # vox_offset, scl_slope
    struct.pack_into("<B", h, 123, 10)  # xyzt_units: mm, s
    struct.pack_into("<hh", h, 252, 0, 1)  # qform_code, sform_code
    for row, values in enumerate(((1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0))):
        struct.pack_into("<4f", h, 280 + 16 * row, *values)
    h[344:348] = b"n+1\x00"
    with gzip.open(path, "wb") as f:
        f.write(bytes(h) + bytes(data))


def photo(w, h, seed=0):
    rng = random.Random(seed)
    return [[(x * 4 + c * 60 + y * 2 + rng.randrange(16)) % 256 for x in range(w) for c in range(3)]
            for y in range(h)]


def mask(w, h, top=1):
    return [[min(top, (x // 16 + y // 16) % (top + 1)) for x in range(w)] for y in range(h)]


def folder(name, masks, photos=None, classes=None):
    os.makedirs(f"{name}/images", exist_ok=True)
    os.makedirs(f"{name}/masks", exist_ok=True)
    for i, m in enumerate(masks):
        png(f"{name}/images/{i}.png", photos[i] if photos else photo(64, 48, i), 3)
        png(f"{name}/masks/{i}.png", m, 1)
    if classes:
        json.dump({"classes": classes}, open(f"{name}/classes.json", "w"))


def cut_in_half(src, dst):
    data = open(src, "rb").read()
    open(dst, "wb").write(data[:len(data) // 2])


def main(out):
    os.makedirs(out, exist_ok=True)
    os.chdir(out)
    folder("ok", [mask(64, 48), mask(64, 48)])
    folder("three_classes", [mask(64, 48, top=2), mask(64, 48, top=2)])
    folder("wrong_size", [mask(64, 40), mask(64, 40)])
    folder("outside", [mask(64, 48, top=5), mask(64, 48)], classes=["ground", "object"])
    for name, bad in (("nan", float("nan")), ("inf", float("inf"))):
        os.makedirs(f"{name}/images", exist_ok=True)
        os.makedirs(f"{name}/masks", exist_ok=True)
        values = [float((i * 7) % 251) for i in range(48 * 64 * 3)]
        values[1000] = bad
        npy(f"{name}/images/0.npy", (48, 64, 3), values)
        png(f"{name}/masks/0.png", mask(64, 48), 1)

    x, y, z = 40, 32, 24
    vol, lab = bytearray(), bytearray()
    for k in range(z):
        for j in range(y):
            for i in range(x):
                inside = (i - 20) ** 2 + (j - 16) ** 2 < 100 + 4 * k
                label = (1 + (i > 20)) if inside else 0
                lab.append(label)
                vol.append(40 + 80 * label + (i * 3 + j * 5 + k * 7) % 23)
    nifti("volume.nii.gz", vol, (x, y, z))
    nifti("labels.nii.gz", lab, (x, y, z))
    json.dump({"volume": "volume.nii.gz", "labels": "labels.nii.gz", "dims": 2, "axis": 0},
              open("volume.json", "w"))
    json.dump({"volume": "volume.nii.gz", "axis": 0}, open("no_labels.json", "w"))

    png("big.png", photo(512, 512, 7), 3)
    cut_in_half("big.png", "truncated.png")
    cut_in_half("volume.nii.gz", "truncated.nii.gz")
    folder("corrupt", [mask(64, 48), mask(64, 48)])
    cut_in_half("corrupt/images/1.png", "corrupt/images/1.png")
    json.dump({"classes": ["ground", "object"],
               "pairs": [{"image": "ok/images/0.png", "mask": "ok/masks/gone.png"}]},
              open("missing.json", "w"))
    open("unknown.xyz", "w").write("not an image\n")
    os.makedirs("out", exist_ok=True)
    os.makedirs("runs", exist_ok=True)


if __name__ == "__main__":
    main(sys.argv[1])
