#pragma once
// NumPy's .npy format (version 1-3, C or Fortran order, little-endian
// integers, floats and bools): labelme stores its class arrays this way.
#include <torch/types.h>

#include <string>

namespace revup {

// Throws std::runtime_error naming the file and the problem (missing, not
// .npy, unsupported dtype, truncated).
torch::Tensor read_npy(const std::string& path);
// Writes a contiguous C-order array (uint8, int16, int32, int64, float, double).
void write_npy(const torch::Tensor& array, const std::string& path);

}  // namespace revup
