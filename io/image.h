#pragma once
// An image as the rest of RevUp sees it: a tensor in the dtype it was stored
// in, plus what a user's other tools need to line results up with it
// (georeferencing for rasters, voxel geometry for volumes). Header-only on
// purpose: plugins use it without linking any RevUp library.
#include <torch/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace revup {

// GDAL's affine geotransform: x = t0 + col*t1 + row*t2, y = t3 + col*t4 + row*t5.
struct GeoReference {
  std::array<double, 6> transform{0, 1, 0, 0, 0, 1};
  std::string crs_wkt;
};

// ITK's physical frame, in ITK's axis order (x, y, z); the tensor's axes are
// [D, H, W] = (z, y, x). `direction` is the 3x3 matrix, row-major.
struct VoxelGeometry {
  std::array<double, 3> spacing{1, 1, 1}, origin{0, 0, 0};
  std::array<double, 9> direction{1, 0, 0, 0, 1, 0, 0, 0, 1};
};

struct Image {
  // [C, H, W] for 2D, [C, D, H, W] for a volume; dtype as stored: kUInt8,
  // kInt16, kInt32 (holds uint16 losslessly: LibTorch 1.13 has no uint16),
  // kInt64 (uint32), kFloat32, kFloat64.
  torch::Tensor pixels;
  std::string path;                     // where it came from (for error messages)
  std::vector<std::string> band_names;  // may be empty
  std::optional<double> nodata;
  std::optional<GeoReference> geo;      // rasters
  std::optional<VoxelGeometry> voxels;  // volumes
  // What the user should know about how it was read, one sentence each, for
  // front ends to show: files of a DICOM folder skipped and why, series not
  // read. Empty when the file read as it is.
  std::vector<std::string> warnings;

  int64_t channels() const { return pixels.size(0); }
  bool is_volume() const { return pixels.dim() == 4; }
  int64_t depth() const { return is_volume() ? pixels.size(1) : 1; }
  int64_t height() const { return pixels.size(pixels.dim() - 2); }
  int64_t width() const { return pixels.size(pixels.dim() - 1); }
};

// Size and type without reading the pixels (what a viewer asks first).
struct ImageInfo {
  int64_t channels = 0, depth = 1, height = 0, width = 0;
  torch::Dtype dtype = torch::kUInt8;
  int overview_count = 0;  // reduced-resolution copies stored in the file
};

// A rectangle of a 2D image, read at (out_width x out_height); a smaller
// output than the window averages, and formats with overviews use them.
struct Window {
  int64_t x = 0, y = 0, width = 0, height = 0;
  int64_t out_width = 0, out_height = 0;  // 0: the window's size
};

}  // namespace revup
