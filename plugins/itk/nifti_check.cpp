#include "plugins/itk/nifti_check.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

namespace revup {

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

template <typename T>
T at(const unsigned char* p, size_t offset) {
  T v;
  std::memcpy(&v, p + offset, sizeof(T));
  return v;
}

}  // namespace

void check_nifti_complete(const std::string& path) {
  // gzopen reads plain files as they are, so one path serves .nii and .nii.gz.
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f) throw std::runtime_error(path + ": cannot be opened");
  unsigned char header[540];
  const int got = gzread(f.get(), header, sizeof header);
  if (got < 348) throw std::runtime_error(path + ": truncated NIfTI header");
  // Little-endian headers only (what every tool writes today); others are
  // left to ITK.
  uint64_t voxels = 1, expected = 0;
  const int32_t size = at<int32_t>(header, 0);
  if (size == 348) {
    const int16_t dims = at<int16_t>(header, 40);
    for (int i = 1; i <= dims && i <= 7; ++i)
      voxels *= std::max<int16_t>(at<int16_t>(header, 40 + 2 * i), 1);
    const int16_t bitpix = at<int16_t>(header, 72);
    expected = static_cast<uint64_t>(at<float>(header, 108)) + voxels * bitpix / 8;
  } else if (size == 540 && got == 540) {
    const int64_t dims = at<int64_t>(header, 16);
    for (int i = 1; i <= dims && i <= 7; ++i)
      voxels *= std::max<int64_t>(at<int64_t>(header, 16 + 8 * i), 1);
    const int16_t bitpix = at<int16_t>(header, 14);
    expected = static_cast<uint64_t>(at<int64_t>(header, 168)) + voxels * bitpix / 8;
  } else {
    return;
  }
  uint64_t total = static_cast<uint64_t>(got);
  std::vector<unsigned char> buffer(1 << 20);
  for (;;) {
    const int n = gzread(f.get(), buffer.data(), static_cast<unsigned>(buffer.size()));
    if (n < 0) break;
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
  }
  int err = Z_OK;
  const char* message = gzerror(f.get(), &err);
  if (err != Z_OK && err != Z_STREAM_END) {
    throw std::runtime_error(path + ": truncated or corrupt (" + message + ")");
  }
  if (total < expected) {
    throw std::runtime_error(path + ": truncated (" + std::to_string(total) + " of " +
                             std::to_string(expected) + " bytes)");
  }
}

}  // namespace revup
