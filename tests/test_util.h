#pragma once
// Helpers shared by the tests.
#include <torch/torch.h>

#include "core/spectral_norm.h"
#include "models/network.h"
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

}  // namespace revup::testing
