#pragma once
// One measured training step of a network: allocator peak, activation peak and
// the per-block memory timeline. Shared by the memory, speed and 4K benchmarks.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/memory_timeline.h"
#include "models/network.h"

namespace revup::cli {

struct StepMeasurement {
  std::int64_t live_before_bytes = 0;
  std::int64_t peak_bytes = 0;             // allocator peak during the step
  std::int64_t activation_peak_bytes = 0;  // peak minus what was live before
  double seconds = 0.0;
  std::vector<MemoryEvent> timeline;
};

// One forward + backward of `loss()` (no optimizer step), gradients of
// `module` allocated first (as after any earlier step), so the step's extra
// memory is activations, their gradients and temporaries.
StepMeasurement measure_step(torch::nn::Module& module, const c10::Device& device,
                             const std::function<torch::Tensor()>& loss,
                             bool record_timeline = true);

// Gradients are allocated first (as after any earlier step), so the step's
// extra memory is activations, their gradients and temporaries.
StepMeasurement measure_training_step(Network& net, const torch::Tensor& input,
                                      const torch::Tensor& target, bool record_timeline = true);

// A random input and label batch of the given NCHW shape on `device`.
std::pair<torch::Tensor, torch::Tensor> random_batch(const std::vector<int64_t>& shape,
                                                     int64_t classes, c10::Device device);

double median(std::vector<double> values);

}  // namespace revup::cli
