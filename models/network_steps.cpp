#include "models/network_steps.h"

#include <algorithm>

#include "core/spectral_norm.h"
#include "core/trainer.h"

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
  const auto objective = training_objective(net, {});
  const auto loss = [&] { return objective.loss(objective.model.forward(x), y); };
  const auto optimizer = measurement_optimizer(*net);
  measure_step(*net, *optimizer, device, loss, /*record_timeline=*/false);
  return measure_step(*net, *optimizer, device, loss);
}

VolumeStepEstimate estimate_volume_step(SegmentationNet& net, const torch::Tensor& input,
                                        const torch::Tensor& target, const c10::Device& device,
                                        std::int64_t slab_depth) {
  if (input.dim() != 5) throw std::invalid_argument("estimate_volume_step: input [1, C, D, H, W]");
  const TrainerOptions defaults;
  const auto objective = training_objective(net, {});
  torch::optim::SGD optimizer(net->parameters(), sgd_options(defaults, 0.0));
  VolumeStepEstimate e;
  const auto bytes_at = [&](std::int64_t depth) {
    const auto x = input.narrow(2, 0, depth).to(device);
    const auto y = target.narrow(1, 0, depth).to(device);
    const auto loss = [&] { return objective.loss(objective.model.forward(x), y); };
    const auto m = measure_step(*net, optimizer, device, loss, /*record_timeline=*/false);
    e.state_bytes = m.state_bytes;
    return m.whole_step_own_bytes();
  };
  const std::int64_t depth = input.size(2);
  if (depth <= 2 * slab_depth) {
    e.bytes = bytes_at(depth);
    e.measured = true;
  } else {
    // The spectral norms' power iterations run before the forward
    // (ProbesOncePerStep::advance): their scratch is the probes' at any depth,
    // and a step's peak is the larger of it and the activations' (with the
    // logits and the loss), which grow with the depth. On thin slabs the
    // iterations dominate, and a line through two such peaks is flat: ch2's
    // step was once estimated at 94 MiB and took 197. So one step gives the
    // iterations' peak, the slabs are measured with the probes frozen after
    // it (at lr 0 the weights do not move: the same directions), and only
    // those are extrapolated.
    ProbesOncePerStep probes(*net);
    const std::int64_t with_iterations = bytes_at(slab_depth);
    probes.freeze();
    const std::int64_t thin = bytes_at(slab_depth);
    const std::int64_t thick = bytes_at(2 * slab_depth);
    const double per_plane = static_cast<double>(thick - thin) / static_cast<double>(slab_depth);
    e.bytes = std::max<std::int64_t>(
        with_iterations,
        thick + static_cast<std::int64_t>(per_plane * static_cast<double>(depth - 2 * slab_depth)));
  }
  for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
  return e;
}

}  // namespace revup
