#include "models/network_steps.h"

#include "models/segmentation_loss.h"

namespace revup {

StepMeasurement measure_training_step(Network& net, const torch::Tensor& input,
                                      const torch::Tensor& target, bool record_timeline,
                                      torch::optim::Optimizer* optimizer) {
  std::unique_ptr<torch::optim::Optimizer> own;
  if (optimizer == nullptr) {
    own = measurement_optimizer(*net);
    optimizer = own.get();
  }
  return measure_step(
      *net, *optimizer, input.device(),
      [&] { return torch::nn::functional::cross_entropy(net->forward(input), target); },
      record_timeline);
}

StepMeasurement measure_segmentation_step(const SegmentationConfig& config, const std::string& arch,
                                          const torch::Tensor& input, const torch::Tensor& target,
                                          const c10::Device& device) {
  auto c = config;
  c.backbone.arch = arch;
  torch::manual_seed(0);
  SegmentationNet net(c);
  net->to(device);
  const auto x = input.to(device);
  const auto y = target.to(device);
  const auto loss = [&] { return segmentation_loss(net->forward_coarse(x), y, {}); };
  const auto optimizer = measurement_optimizer(*net);
  measure_step(*net, *optimizer, device, loss, /*record_timeline=*/false);
  return measure_step(*net, *optimizer, device, loss);
}

}  // namespace revup
