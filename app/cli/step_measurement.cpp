#include "app/cli/step_measurement.h"

#include <algorithm>
#include <chrono>

#include "core/memory_tracker.h"

namespace revup::cli {

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

StepMeasurement measure_training_step(Network& net, const torch::Tensor& input,
                                      const torch::Tensor& target, bool record_timeline) {
  return measure_step(
      *net, input.device(),
      [&] { return torch::nn::functional::cross_entropy(net->forward(input), target); },
      record_timeline);
}

std::pair<torch::Tensor, torch::Tensor> random_batch(const std::vector<int64_t>& shape,
                                                     int64_t classes, c10::Device device) {
  auto x = torch::randn(shape, torch::TensorOptions().device(device));
  auto y = torch::randint(0, classes, {shape[0]},
                          torch::TensorOptions().device(device).dtype(torch::kLong));
  return {x, y};
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace revup::cli
