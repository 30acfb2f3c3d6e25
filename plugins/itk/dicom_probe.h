#pragma once
// Which files of a folder GDCM can read, asked in a child process.
//
// GDCM stops the whole process with an assertion (abort, exit 134) on some
// DICOM objects it meets in a real export folder: JPEG 2000 pixel data it
// cannot decode, malformed files, objects without pixels. Nothing a user opens
// may kill RevUp, so every file is first read (header and pixels) by a forked
// child; a file on which the child dies, fails or hangs is reported with the
// reason, and the parent only ever hands GDCM files the child read in full.
#include <array>
#include <string>
#include <vector>

namespace revup::itk_plugin {

struct DicomProbe {
  std::string path;
  bool readable = false;   // header parsed and every frame decoded
  std::string problem;     // why not, when not
  std::string series_uid;  // Series Instance UID (0020,000e); "" when unknown
  int frames = 1;          // Number of Frames (0028,0008)
  int instance = 0;        // Instance Number (0020,0013)
  bool has_position = false;
  std::array<double, 3> position{};     // Image Position (Patient) (0020,0032)
  std::array<double, 6> orientation{};  // Image Orientation (Patient) (0020,0037)
};

// One result per path, in the given order. One child reads the files one
// after the other and reports each through a pipe; when it dies on a file
// (signal, or no word for `seconds_per_file`) that file is marked unreadable
// and a new child goes on with the next.
std::vector<DicomProbe> probe_dicom_files(const std::vector<std::string>& paths,
                                          int seconds_per_file = 60);

}  // namespace revup::itk_plugin
