#pragma once
// One measured training step: allocator peak, activation peak and the
// per-block memory timeline. The benchmarks, the demo and the GUI's baseline
// curve all measure through this one function.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "core/memory_timeline.h"

namespace revup {

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

}  // namespace revup
