#pragma once
// Helpers shared by the tests.
#include <torch/torch.h>

#include "core/spectral_norm.h"
#include "models/network.h"
#include "models/state_utils.h"

namespace revup::testing {

// At Fixup's init g == 0: gradient and inverse tests would prove nothing.
// The spectral norms' vectors are then converged on the new weights: vectors
// left from the zero-initialized convs under-estimate sigma, Lip(g) can exceed
// 1, and a fixed point that does not converge makes a comparison fail at random.
inline void perturb(torch::nn::Module& module, double weight_std = 0.2, double scalar_std = 0.1) {
  perturb_parameters(module, weight_std, scalar_std);
  for (const auto& m : module.modules()) {
    if (auto* conv = m->as<SpectralNormConv2dImpl>()) conv->power_iterate(200);
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

// ||conv||_2 of a zero-padded stride-1 convolution on an n x n image, by many
// power iterations with the real layer (a lower estimate that converges).
inline double zero_padded_conv_norm(const torch::Tensor& w, int64_t n, int iterations = 300) {
  torch::NoGradGuard no_grad;
  const auto p = w.size(-1) / 2;
  auto u = torch::randn({1, w.size(1), n, n}, w.options());
  double sigma = 0;
  for (int i = 0; i < iterations; ++i) {
    u = u / u.norm();
    const auto v = torch::conv2d(u, w, {}, 1, p);
    sigma = v.norm().item<double>();
    u = torch::conv_transpose2d(v, w, {}, 1, p);
  }
  return sigma;
}

inline double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  const double denom = b.norm().item<double>();
  return (a - b).norm().item<double>() / (denom > 0 ? denom : 1.0);
}

}  // namespace revup::testing
