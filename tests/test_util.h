#pragma once
// Helpers shared by the tests.
#include <torch/torch.h>

#include "models/network.h"
#include "models/state_utils.h"

namespace revup::testing {

// At Fixup's init g == 0: gradient and inverse tests would prove nothing.
inline void perturb(torch::nn::Module& module, double weight_std = 0.2, double scalar_std = 0.1) {
  perturb_parameters(module, weight_std, scalar_std);
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
