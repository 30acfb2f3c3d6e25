#pragma once
// One measured training step: forward, backward and the optimizer's step, with
// the allocator peak of each part and the per-block memory timeline. The
// benchmarks, the demo and the GUI's baseline curve all measure through this
// one function.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/memory_timeline.h"

namespace revup {

struct StepMeasurement {
  std::int64_t live_before_bytes = 0;      // weights, gradients, buffers and optimizer state
  std::int64_t optimizer_state_bytes = 0;  // part of live_before (SGD: momentum buffers)
  std::int64_t state_bytes = 0;            // training_state_bytes: part of live_before
  std::int64_t peak_bytes = 0;             // allocator peak during forward + backward
  std::int64_t whole_step_peak_bytes = 0;  // allocator peak of the whole step, optimizer included
  std::int64_t activation_peak_bytes = 0;  // peak_bytes minus live_before_bytes
  double seconds = 0.0;                    // the whole step
  std::vector<MemoryEvent> timeline;

  // The whole step's own memory: its training state plus all the step
  // allocated on top, without whatever else the process held (loaded images,
  // a GUI's buffers). What a device must have for this step.
  std::int64_t whole_step_own_bytes() const {
    return whole_step_peak_bytes - live_before_bytes + state_bytes;
  }
};

// The optimizer a measured step uses when the caller brings none: the
// trainer's (SGD with momentum 0.9 and weight decay 5e-4) over every parameter.
std::unique_ptr<torch::optim::Optimizer> measurement_optimizer(torch::nn::Module& module);

// Bytes of the optimizer's state (SGD's momentum buffers, Adam's moments).
std::int64_t optimizer_state_bytes(const torch::optim::Optimizer& optimizer);

// Weights, their gradients, the module's buffers and the optimizer's state:
// what training holds between steps. The buffers are the spectral norms'
// probes, which every step reads and advances: a 3D model's are 28 MiB (the
// cpu preset, 32^3 grids in half precision), so a step's memory without them
// would not be what a device must hold for it.
std::int64_t training_state_bytes(torch::nn::Module& module,
                                  const torch::optim::Optimizer& optimizer);

// One training step of `loss()` as the trainer runs it: gradients zeroed,
// forward + backward, optimizer step. The step measured is a later one, as in
// any training after its first: the gradients are allocated and the
// optimizer's state exists before it begins (a first step on zero gradients
// creates the state when the optimizer has none, without a forward pass).
StepMeasurement measure_step(torch::nn::Module& module, torch::optim::Optimizer& optimizer,
                             const c10::Device& device, const std::function<torch::Tensor()>& loss,
                             bool record_timeline = true);

}  // namespace revup
