#pragma once
// Measured training steps of this project's networks (see
// core/step_measurement.h): what the benchmarks compare and what the GUI
// draws as the ResNet+Fixup baseline next to RevUp's memory curve.
#include <torch/torch.h>

#include <string>

#include "core/step_measurement.h"
#include "models/network.h"
#include "models/segmentation_net.h"

namespace revup {

// A classification step: cross-entropy of net(input) against target, then
// `optimizer`'s step (the trainer's SGD, made afresh, when it is null).
StepMeasurement measure_training_step(Network& net, const torch::Tensor& input,
                                      const torch::Tensor& target, bool record_timeline = true,
                                      torch::optim::Optimizer* optimizer = nullptr);

// A freshly initialised segmentation network built from `config` with its
// backbone's architecture replaced by `arch`, one full-resolution step on
// [1, C, H, W] `input` and [1, H, W] `target` (the trainer's path: coarse
// logits, banded loss). The second of two steps is reported: the first pays
// one-time costs (oneDNN kernel selection, first-touch pages).
StepMeasurement measure_segmentation_step(const SegmentationConfig& config, const std::string& arch,
                                          const torch::Tensor& input, const torch::Tensor& target,
                                          const c10::Device& device);

// What a whole-volume training step of `net` on [1, C, D, H, W] `input`
// will need, estimated before it runs: one measured step on a slab of the
// volume (full H and W, `slab_depth` thin along D) gives the spectral norms'
// power iterations their share; two more, `slab_depth` and twice that deep
// with the probes frozen, are extrapolated linearly in D (activation memory
// grows with the voxels; the loss's bands are planes of H x W, the same in
// every slab), and the share is added. The steps use a learning rate of 0,
// so the weights do not move. With D within the slabs, one step on the whole
// volume, measured.
struct VolumeStepEstimate {
  std::int64_t bytes = 0;  // the whole step's own memory (StepMeasurement::whole_step_own_bytes)
  bool measured = false;   // true: a step on the whole volume, not extrapolated
  std::int64_t state_bytes = 0;  // of `bytes`: weights, gradients, buffers, optimizer state
};
VolumeStepEstimate estimate_volume_step(SegmentationNet& net, const torch::Tensor& input,
                                        const torch::Tensor& target, const c10::Device& device,
                                        std::int64_t slab_depth = 16);

}  // namespace revup
