#include "core/step_measurement.h"

#include <chrono>

#include "core/memory_tracker.h"

namespace revup {

StepMeasurement measure_step(torch::nn::Module& module, const c10::Device& device,
                             const std::function<torch::Tensor()>& loss, bool record_timeline) {
  module.train();
  for (auto& p : module.parameters()) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    p.mutable_grad().zero_();
  }
  StepMeasurement m;
  if (device.is_cuda()) torch::cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  {
    MemoryRecording recording(device);
    m.live_before_bytes = recording.baseline_bytes();
    loss().backward();
    if (device.is_cuda()) torch::cuda::synchronize();
    m.peak_bytes = MemoryTracker::peak_bytes(device);
    if (record_timeline) m.timeline = recording.events();
  }
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.activation_peak_bytes = m.peak_bytes - m.live_before_bytes;
  return m;
}

}  // namespace revup
