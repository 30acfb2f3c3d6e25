#pragma once
// DICOM as it comes out of a scanner's export: a folder of files from several
// series, some of which GDCM cannot decode, some not images at all.
//
// A file opened reads its own series (by Series Instance UID), single- or
// multi-frame; a folder opened reads its series with the most files. Files
// that cannot be read are skipped and named, with the reason, in
// Image::warnings, and so are the series not read. Every file is checked in
// a child process first (dicom_probe.h), so that GDCM aborting on one of them
// does not end RevUp.
#include <string>

#include "io/image.h"

namespace revup::itk_plugin {

// `path`: a DICOM file or a folder. Always a volume [C, D, H, W]: a
// single-frame file is one slice, a multi-frame file one slice per frame.
// Errors name the file (or folder) and the problem.
Image read_dicom(const std::string& path);

}  // namespace revup::itk_plugin
