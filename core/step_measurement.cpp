#include "core/step_measurement.h"

#include <chrono>

#include "core/memory_tracker.h"
#include "core/spectral_norm.h"
#include "core/trainer.h"

namespace revup {
namespace {

std::int64_t bytes_of(const torch::Tensor& t) {
  return t.defined() ? static_cast<std::int64_t>(t.nbytes()) : 0;
}

void synchronize(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> measurement_optimizer(torch::nn::Module& module) {
  const TrainerOptions defaults;
  return std::make_unique<torch::optim::SGD>(module.parameters(),
                                             sgd_options(defaults, defaults.lr));
}

std::int64_t optimizer_state_bytes(const torch::optim::Optimizer& optimizer) {
  std::int64_t total = 0;
  for (const auto& [key, state] : optimizer.state()) {
    if (const auto* sgd = dynamic_cast<const torch::optim::SGDParamState*>(state.get())) {
      total += bytes_of(sgd->momentum_buffer());
    } else if (const auto* adam = dynamic_cast<const torch::optim::AdamParamState*>(state.get())) {
      total += bytes_of(adam->exp_avg()) + bytes_of(adam->exp_avg_sq()) +
               bytes_of(adam->max_exp_avg_sq());
    }
  }
  return total;
}

std::int64_t training_state_bytes(torch::nn::Module& module,
                                  const torch::optim::Optimizer& optimizer) {
  std::int64_t total = optimizer_state_bytes(optimizer);
  for (const auto& p : module.parameters()) total += bytes_of(p) + bytes_of(p.grad());
  for (const auto& b : module.buffers()) total += bytes_of(b);
  return total;
}

StepMeasurement measure_step(torch::nn::Module& module, torch::optim::Optimizer& optimizer,
                             const c10::Device& device, const std::function<torch::Tensor()>& loss,
                             bool record_timeline) {
  module.train();
  for (auto& p : module.parameters()) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
  }
  if (optimizer.state().empty()) {
    // The state the step after the first finds: momentum buffers of every parameter.
    for (auto& p : module.parameters()) p.mutable_grad().zero_();
    optimizer.step();
  }
  StepMeasurement m;
  m.optimizer_state_bytes = optimizer_state_bytes(optimizer);
  m.state_bytes = training_state_bytes(module, optimizer);
  synchronize(device);
  const auto start = std::chrono::steady_clock::now();
  {
    MemoryRecording recording(device);
    m.live_before_bytes = recording.baseline_bytes();
    for (auto& p : module.parameters()) p.mutable_grad().zero_();  // zero_grad, as in 1.13
    ProbesOncePerStep probes(module);                              // as the trainer does
    probes.advance();
    auto value = loss();
    probes.release_directions();
    value.backward();
    synchronize(device);
    m.peak_bytes = MemoryTracker::peak_bytes(device);
    if (record_timeline) m.timeline = recording.events();
    optimizer.step();
    synchronize(device);
    m.whole_step_peak_bytes = MemoryTracker::peak_bytes(device);
  }
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.activation_peak_bytes = m.peak_bytes - m.live_before_bytes;
  return m;
}

}  // namespace revup
