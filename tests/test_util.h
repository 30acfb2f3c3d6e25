#pragma once
// Helpers shared by the tests.
#include <torch/torch.h>

#include "models/network.h"

namespace revup::testing {

// Moves every parameter away from Fixup's init: at init g == 0 (the last conv
// of each branch is zero), and gradient or inverse tests would prove nothing.
inline void perturb(torch::nn::Module& module, double weight_std = 0.2, double scalar_std = 0.1) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    p.add_(torch::randn_like(p) * (p.dim() == 0 ? scalar_std : weight_std));
  }
}

// Copies parameters and buffers of `from` into `to` (same architecture family).
inline void copy_state(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto src = from.named_parameters();
  for (auto& p : to.named_parameters()) p.value().copy_(src[p.key()]);
  auto srcb = from.named_buffers();
  for (auto& b : to.named_buffers()) b.value().copy_(srcb[b.key()]);
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

inline double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  const double denom = b.norm().item<double>();
  return (a - b).norm().item<double>() / (denom > 0 ? denom : 1.0);
}

}  // namespace revup::testing
