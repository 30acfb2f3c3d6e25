#!/usr/bin/env python3
"""A folder of DICOM as it comes from a scanner's export (issue 13, part 2).

    make_dicom_folder.py FOLDER

writes, all in FOLDER:
  a1.dcm a2.dcm a3.dcm  series A: 3 slices of 16x16 uint16, slice k (by
                        position) holds 100*k + row, z = 0, 2, 4; the file
                        names run against the position order (a1 is z = 4)
  a4-broken.dcm         series A, JPEG 2000 transfer syntax with garbage in
                        its pixel fragments: GDCM cannot decode it
  a5-bits12.dcm         series A, 12 bits allocated: GDCM 3.0 aborts decoding
                        it (assertion in gdcmRAWCodec.cxx, exit 134)
  b1.dcm b2.dcm         series B: 2 slices of 12x8 (rows x columns), all 7
  b3-cut.dcm            series B, cut inside its pixel data
  b4-palette.dcm        series B, PALETTE COLOR without a palette: GDCM 3.0
                        aborts reading its header (gdcmPixmapReader.cxx)
  report.dcm            a Basic Text SR: a DICOM object without pixels
  multi.dcm             series M: one multi-frame file, 4 frames of 16x16,
                        frame k holds 10*k + column
  notes.txt             not DICOM at all
The C++ tests (tests/io/dicom_folder_test.cpp) assert these numbers.
"""
import os
import sys

import struct
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (ExplicitVRLittleEndian, JPEG2000Lossless,
                         generate_uid)

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
MULTIFRAME_WORD_SC = "1.2.840.10008.5.1.4.1.1.7.3"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"

STUDY = generate_uid()
SERIES_A, SERIES_B, SERIES_M, SERIES_SR = (generate_uid() for _ in range(4))


def base(sop_class, series, number, transfer_syntax=ExplicitVRLittleEndian):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = transfer_syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientName = "Test^Folder"
    ds.PatientID = "revup-13"
    ds.StudyInstanceUID = STUDY
    ds.SeriesInstanceUID = series
    ds.SeriesNumber = number
    ds.Modality = "CT" if sop_class == CT_IMAGE else "OT"
    return ds


def words(values):
    """Little-endian uint16 pixel data (no NumPy needed)."""
    return struct.pack("<%dH" % len(values), *values)


def image(ds, pixels, shape, z, spacing=(0.5, 0.5)):
    """`pixels`: uint16 values, row by row (frame by frame); `shape`: (rows, columns)."""
    ds.InstanceNumber = int(z // 2) + 1
    ds.ImagePositionPatient = [0.0, 0.0, float(z)]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = list(spacing)
    ds.SliceThickness = 2.0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = words(pixels)
    return ds


def save(ds, folder, name):
    path = os.path.join(folder, name)
    ds.save_as(path, write_like_original=False)
    return path


def main(folder):
    os.makedirs(folder, exist_ok=True)
    def slice_a(k):
        return [100 * k + r for r in range(16) for _ in range(16)]

    # Series A; names against position order so that sorting by name is caught.
    for name, k in (("a1.dcm", 2), ("a2.dcm", 1), ("a3.dcm", 0)):
        save(image(base(CT_IMAGE, SERIES_A, 1), slice_a(k), (16, 16), 2 * k), folder, name)
    broken = image(base(CT_IMAGE, SERIES_A, 1, JPEG2000Lossless), slice_a(3), (16, 16), 6)
    broken.PixelData = encapsulate([b"\xff\x4f\xff\x51" + bytes(range(61)) + b"garbage"])
    broken["PixelData"].VR = "OB"
    save(broken, folder, "a4-broken.dcm")
    bits12 = image(base(CT_IMAGE, SERIES_A, 1), slice_a(4), (16, 16), 8)
    bits12.BitsAllocated = 12
    save(bits12, folder, "a5-bits12.dcm")

    for name, k in (("b1.dcm", 0), ("b2.dcm", 1)):
        save(image(base(CT_IMAGE, SERIES_B, 2), [7] * 96, (12, 8), 2 * k), folder, name)
    cut = save(image(base(CT_IMAGE, SERIES_B, 2), [7] * 96, (12, 8), 4), folder, "b3-cut.dcm")
    with open(cut, "r+b") as f:
        f.truncate(os.path.getsize(cut) - 100)
    palette = image(base(CT_IMAGE, SERIES_B, 2), [7] * 96, (12, 8), 6)
    palette.PhotometricInterpretation = "PALETTE COLOR"
    save(palette, folder, "b4-palette.dcm")

    sr = base(BASIC_TEXT_SR, SERIES_SR, 3)
    sr.Modality = "SR"
    sr.ValueType = "CONTAINER"
    sr.ContinuityOfContent = "SEPARATE"
    sr.CompletionFlag = "COMPLETE"
    sr.VerificationFlag = "UNVERIFIED"
    save(sr, folder, "report.dcm")

    frames = [10 * k + c for k in range(4) for _ in range(16) for c in range(16)]
    multi = image(base(MULTIFRAME_WORD_SC, SERIES_M, 4), frames, (16, 16), 0)
    multi.NumberOfFrames = 4
    save(multi, folder, "multi.dcm")

    with open(os.path.join(folder, "notes.txt"), "w") as f:
        f.write("not DICOM\n")


if __name__ == "__main__":
    main(sys.argv[1])
