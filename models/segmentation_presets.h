#pragma once
// Named segmentation models sized for the machine they train on, at batch
// size 1 on whole images.
#include <string>
#include <vector>

#include "models/segmentation_net.h"

namespace revup {

struct SegmentationPreset {
  std::string name;
  std::string description;
  SegmentationConfig config;
};

const std::vector<SegmentationPreset>& segmentation_presets();
// The named preset for an input with `in_channels` bands and `num_classes`
// classes; throws std::invalid_argument listing the names for an unknown one.
SegmentationConfig segmentation_preset(const std::string& name, int64_t in_channels,
                                       int64_t num_classes);

// The patch stem's strides for voxels of `spacing` (per spatial axis, tensor
// order): 4 on the finely sampled axes, 2 on an axis sampled 1.5 to 3 times
// as coarsely as the finest, 1 beyond, so the stem's output is closer to
// isotropic and thick slices are not merged four at a time. Empty when every
// axis gets 4 (isotropic or nearly).
std::vector<int64_t> anisotropic_patch_strides(const std::vector<double>& spacing);

// The paper's analysis model: the stem's conv replaced by zero-padded channels
// so that the input image can be rebuilt from the first stage's output. The
// first stage then runs at full resolution (4x4 = 16 times the work of the
// patch stem's): for small images and for studying reconstructions.
void use_injective_stem(SegmentationConfig& config);

}  // namespace revup
