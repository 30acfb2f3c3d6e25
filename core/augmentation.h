#pragma once
// Training-time augmentation of (image, label map) pairs, applied identically
// to both. Draws from LibTorch's global generator, which the trainer seeds per
// epoch, so a resumed run sees the same augmented examples.
#include <torch/torch.h>

#include "core/dataset.h"

namespace revup {

struct AugmentationOptions {
  bool flips = true;              // horizontal and vertical, each with p = 0.5
  bool rotations = true;          // multiples of 90 degrees (square-agnostic: sizes may swap)
  double intensity_jitter = 0.1;  // per-channel gain 1 +- j and offset +- j (normalized units)
  double min_scale = 1.0;         // random rescale in [min, max]; 1, 1 = off
  double max_scale = 1.0;
  int64_t ignore_index = 255;  // what rescaled-away labels never become
};

// One random augmentation of an example (input [C, H, W], target [H, W]).
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
