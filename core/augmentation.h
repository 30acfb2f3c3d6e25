#pragma once
// Training-time augmentation of (image, label map) pairs, applied identically
// to both. Draws from LibTorch's global generator, which the trainer seeds per
// epoch, so a resumed run sees the same augmented examples.
#include <torch/torch.h>

#include "core/dataset.h"

namespace revup {

// Images [C, H, W] with label maps [H, W], and volumes [C, D, H, W] with
// [D, H, W] (tensor axes z, y, x).
struct AugmentationOptions {
  bool flips = true;  // along every spatial axis, each with p = 0.5
  // Multiples of 90 degrees in the last two axes (an image's plane, a volume's
  // axial plane; square-agnostic: sizes may swap).
  bool rotations = true;
  double intensity_jitter = 0.1;  // per-channel gain 1 +- j and offset +- j (normalized units)
  double min_scale = 1.0;         // random rescale in [min, max]; 1, 1 = off
  double max_scale = 1.0;
  int64_t ignore_index = 255;  // what rescaled-away labels never become
  // A random window of these sizes (one per spatial axis, clipped to the
  // example's) instead of the whole example, taken first; empty: whole.
  std::vector<int64_t> window;
};

// One random augmentation of an example (see AugmentationOptions).
Example augment(const Example& example, const AugmentationOptions& options);

class AugmentedDataset : public Dataset {
 public:
  AugmentedDataset(const Dataset& base, AugmentationOptions options)
      : base_(base), options_(options) {}
  size_t size() const override { return base_.size(); }
  Example get(size_t i) const override { return augment(base_.get(i), options_); }

 private:
  const Dataset& base_;
  AugmentationOptions options_;
};

}  // namespace revup
