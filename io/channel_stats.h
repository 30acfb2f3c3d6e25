#pragma once
// Per-channel normalization statistics: computed once over the training
// images, stored with the model, applied to every input (training, predict).
#include <torch/types.h>
#include <nlohmann/json.hpp>

#include <vector>

#include "io/image.h"

namespace revup {

struct ChannelStats {
  std::vector<double> mean, std;
  // Each image (volume) normalized by its own mean and std, as MRI and CT
  // volumes are: scanners and sessions scale intensities differently. mean
  // and std are then the training data's, kept for reference.
  bool per_image = false;
  bool empty() const { return mean.empty(); }
};

void to_json(nlohmann::json& j, const ChannelStats& stats);
void from_json(const nlohmann::json& j, ChannelStats& stats);

// Sums over valid pixels (finite, not nodata) of images added one by one, so
// a dataset never holds more than one image.
class ChannelStatsAccumulator {
 public:
  void add(const Image& image);
  // Throws std::runtime_error when nothing was added; a constant channel
  // gets std 1 (dividing by ~0 would blow its noise up).
  ChannelStats finish() const;

 private:
  std::vector<double> count_, sum_, sum_squares_;
};

// Pixels that are neither nodata nor NaN/Inf: [H, W] (or [D, H, W]) bool,
// true where every channel is valid.
torch::Tensor valid_pixels(const Image& image);

// (pixels - mean) / std per channel as float32 (the image's own with
// stats.per_image); invalid pixels become 0 (the mean). Throws std::runtime_error naming the image
// when channel counts differ.
torch::Tensor normalize(const Image& image, const ChannelStats& stats);

}  // namespace revup
