#pragma once
// Between class ids and colours: masks drawn for people, and colour-coded
// label images (VOC palette PNGs, which OpenCV expands to RGB) read back.
#include <torch/types.h>

#include "io/class_table.h"

namespace revup {

// [H, W] class ids -> [3, H, W] uint8 in the table's colours; the ignore
// value and ids outside the table are black.
torch::Tensor colorize(const torch::Tensor& mask, const ClassTable& classes);

// The image (its first three channels, or grey replicated; non-8-bit
// stretched to its 2-98 % range) blended with the colourized mask:
// [3, H, W] uint8. Ignored pixels show the image alone.
torch::Tensor overlay(const torch::Tensor& image, const torch::Tensor& mask,
                      const ClassTable& classes, double alpha = 0.5);

// [3, H, W] uint8 colours -> [H, W] int64 class ids through the table's
// colours; the VOC "void" colour (224, 224, 192) maps to
// the ignore value. Throws std::runtime_error naming `path` and the first
// colour that is no class's.
torch::Tensor colors_to_ids(const torch::Tensor& rgb, const ClassTable& classes,
                            const std::string& path);

// Any image [C, H, W] as displayable RGB uint8 [3, H, W].
torch::Tensor to_display_rgb(const torch::Tensor& image);

}  // namespace revup
