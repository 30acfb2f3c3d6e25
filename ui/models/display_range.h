#pragma once
// How stored values become screen grey levels: a window [low, high] mapped
// linearly to 0..255 (window/level in medical viewers; a percentile stretch
// for 16-bit and float rasters). 8-bit images are shown as stored.
#include <torch/types.h>

#include <QImage>

#include <optional>

namespace revup::ui {

struct DisplayRange {
  double low = 0, high = 255;
  double window() const { return high - low; }
  double level() const { return (low + high) / 2; }
  static DisplayRange fromWindowLevel(double window, double level) {
    return {level - window / 2, level + window / 2};
  }
};

// The [lowPercent, highPercent] percentiles of the finite values that are not
// `nodata` (a random sample of at most a million for big inputs); [0, 255]
// for uint8 data.
DisplayRange percentileRange(const torch::Tensor& values, std::optional<double> nodata,
                             double lowPercent = 2, double highPercent = 98);

// [C, H, W] -> an RGB32 image: the first three channels, or the first one as
// grey; non-finite and nodata pixels black.
QImage toQImage(const torch::Tensor& chw, const DisplayRange& range,
                std::optional<double> nodata = std::nullopt);

}  // namespace revup::ui
