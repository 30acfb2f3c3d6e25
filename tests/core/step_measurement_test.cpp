#include "core/step_measurement.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/memory_tracker.h"
#include "core/spectral_norm.h"

namespace revup {
namespace {

const c10::Device kCpu(c10::DeviceType::CPU);

std::int64_t parameter_bytes(torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += static_cast<std::int64_t>(p.nbytes());
  return n;
}

TEST(StepMeasurement, CountsTheOptimizerStateAsLiveBeforeALaterStep) {
  MemoryTracker::install_cpu_tracking();
  torch::manual_seed(0);
  torch::nn::Linear net(256, 512);
  const auto x = torch::randn({8, 256});
  auto optimizer = measurement_optimizer(*net);
  const auto live_at_start = MemoryTracker::live_bytes(kCpu);
  const auto m =
      measure_step(*net, *optimizer, kCpu, [&] { return net->forward(x).square().sum(); });

  const auto params = parameter_bytes(*net);
  // SGD with momentum: one buffer per parameter, created before the measured step.
  EXPECT_EQ(m.optimizer_state_bytes, params);
  EXPECT_EQ(optimizer_state_bytes(*optimizer), params);
  // Before the step: what was live at the start plus gradients and momentum.
  EXPECT_EQ(m.live_before_bytes, live_at_start + 2 * params);
  // The whole step includes forward and backward, then the optimizer's step.
  EXPECT_GE(m.whole_step_peak_bytes, m.peak_bytes);
  EXPECT_GT(m.activation_peak_bytes, 0);
  EXPECT_EQ(m.activation_peak_bytes, m.peak_bytes - m.live_before_bytes);
}

TEST(StepMeasurement, TheOptimizersStepIsPartOfTheWholeStep) {
  // Adam with weight decay holds two weight-sized temporaries at once in its
  // step (grad + wd * p, and the denominator); forward and backward of a
  // one-sample linear layer hold one (the weight's fresh gradient). The whole
  // step's peak must see the optimizer's, and the optimizer must have moved
  // the weights inside the measured step.
  MemoryTracker::install_cpu_tracking();
  torch::manual_seed(0);
  torch::nn::Linear net(1024, 1024);
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3).weight_decay(1e-4));
  const auto x = torch::randn({1, 1024});
  const auto m = measure_step(*net, adam, kCpu, [&] { return net->forward(x).sum(); });
  const auto weight_before = net->weight.detach().clone();
  const auto later = measure_step(*net, adam, kCpu, [&] { return net->forward(x).sum(); });
  EXPECT_FALSE(torch::equal(weight_before, net->weight.detach()));
  const auto weight_bytes = static_cast<std::int64_t>(net->weight.nbytes());
  for (const auto& step : {m, later}) {
    EXPECT_GE(step.whole_step_peak_bytes - step.live_before_bytes, 2 * weight_bytes);
    EXPECT_LT(step.peak_bytes - step.live_before_bytes, 2 * weight_bytes);
  }
}

TEST(StepMeasurement, TheTrainingStateCountsTheSpectralNormsProbes) {
  // A 3D conv's probe (32^3 per input channel) is far larger than its weight,
  // and every step reads and advances it: what a device must hold for the step.
  SpectralNormConv conv(8, 8, 3, SpectralNormOptions{}, /*dims=*/3);
  auto optimizer = measurement_optimizer(*conv);
  for (auto& p : conv->parameters()) p.mutable_grad() = torch::zeros_like(p);
  optimizer->step();
  const auto weights = parameter_bytes(*conv);
  const auto probe = static_cast<std::int64_t>(conv->probe.nbytes());
  EXPECT_EQ(probe, 8 * 32 * 32 * 32 * 2);
  EXPECT_EQ(training_state_bytes(*conv, *optimizer), 3 * weights + probe);
}

TEST(StepMeasurement, AdamStateCountsBothMoments) {
  torch::nn::Linear net(64, 64);
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  for (auto& p : net->parameters()) p.mutable_grad() = torch::ones_like(p);
  adam.step();
  EXPECT_EQ(optimizer_state_bytes(adam), 2 * parameter_bytes(*net));
}

}  // namespace
}  // namespace revup
