#pragma once
// Helpers shared by the tests.
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "core/spectral_norm.h"
#include "models/network.h"
#include "models/segmentation_net.h"
#include "models/state_utils.h"
#include "tests/core/conv_norms.h"

namespace revup::testing {

// At Fixup's init g == 0: gradient and inverse tests would prove nothing.
// The spectral norms' vectors are then converged on the new weights: vectors
// left from the zero-initialized convs under-estimate sigma, Lip(g) can exceed
// 1, and a fixed point that does not converge makes a comparison fail at random.
inline void perturb(torch::nn::Module& module, double weight_std = 0.2, double scalar_std = 0.1) {
  perturb_parameters(module, weight_std, scalar_std);
  for (const auto& m : module.modules()) {
    if (auto* conv = m->as<SpectralNormConvImpl>()) conv->power_iterate(200);
  }
}

inline ModelConfig small_cifar(const std::string& arch, int depth,
                               std::vector<int64_t> widths = {4, 8, 16}) {
  ModelConfig c;
  c.arch = arch;
  c.depth = depth;
  c.widths = std::move(widths);
  c.num_classes = 5;
  return c;
}

// Every parameter's gradient of `module` in one flat vector, in parameter order.
inline torch::Tensor flat_gradients(torch::nn::Module& module) {
  std::vector<torch::Tensor> g;
  for (const auto& p : module.parameters()) {
    g.push_back(p.grad().defined() ? p.grad().flatten() : torch::zeros_like(p).flatten());
  }
  return torch::cat(g);
}

// A segmentation network of `config` away from init, and its MemSave twin with
// the very same weights, both in float64: power iteration off, the inverse run
// to 1e-13, so the twins' gradients agree to well below 1e-8.
inline std::pair<SegmentationNet, SegmentationNet> segmentation_twins(SegmentationConfig config) {
  config.backbone.arch = "revup";
  config.backbone.sn.power_iterations = 0;
  config.backbone.inverse.tolerance = 1e-13;
  config.backbone.inverse.max_iterations = 400;
  SegmentationNet plain(config);
  perturb(*plain);
  plain->to(torch::kFloat64);
  config.backbone.arch = "revup-memsave";
  SegmentationNet memsave(config);
  memsave->to(torch::kFloat64);
  copy_state(*plain, *memsave);
  return {plain, memsave};
}

}  // namespace revup::testing
