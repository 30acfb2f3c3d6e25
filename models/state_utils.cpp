#include "models/state_utils.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/spectral_norm.h"

namespace revup {

void copy_state(const torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  const auto params = from.named_parameters();
  const auto buffers = from.named_buffers();
  for (auto& p : to.named_parameters()) {
    const auto* src = params.find(p.key());
    if (src == nullptr) throw std::invalid_argument("copy_state: no parameter " + p.key());
    p.value().copy_(*src);
  }
  for (auto& b : to.named_buffers()) {
    const auto* src = buffers.find(b.key());
    if (src == nullptr) throw std::invalid_argument("copy_state: no buffer " + b.key());
    b.value().copy_(*src);
  }
}

void perturb_parameters(torch::nn::Module& module, double weight_std, double scalar_std) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    p.add_(torch::randn_like(p) * (p.dim() == 0 ? scalar_std : weight_std));
  }
}

int converge_spectral_norms(torch::nn::Module& module, double tolerance, int max_iterations) {
  torch::NoGradGuard no_grad;
  int most = 0;
  for (const auto& m : module.modules()) {
    auto* conv = m->as<SpectralNormConvImpl>();
    if (conv == nullptr) continue;
    const int n = conv->warm_up(max_iterations, tolerance);
    most = std::max(most, n);
  }
  return most;
}

namespace {

// Fixup's reference implementation trains every bias and every scale at
// lr/10: its 0-d scalars, and the biases of its layers (the classifier's and,
// here, the decoder's). BatchNorm's affine parameters belong to the BatchNorm
// baseline, which is not Fixup: they keep the full rate.
bool is_fixup_scalar(const torch::nn::Module& owner, const std::string& name,
                     const torch::Tensor& p) {
  if (p.dim() == 0) return true;
  if (owner.as<torch::nn::BatchNorm2dImpl>() != nullptr) return false;
  return name == "bias";
}

std::vector<torch::Tensor> split_parameters(const torch::nn::Module& module, bool scalars) {
  std::vector<torch::Tensor> out;
  for (const auto& m : module.modules()) {
    for (const auto& p : m->named_parameters(/*recurse=*/false)) {
      if (is_fixup_scalar(*m, p.key(), p.value()) == scalars) out.push_back(p.value());
    }
  }
  return out;
}

}  // namespace

std::vector<torch::Tensor> scalar_parameters(const torch::nn::Module& module) {
  return split_parameters(module, true);
}

std::vector<torch::Tensor> weight_parameters(const torch::nn::Module& module) {
  return split_parameters(module, false);
}

}  // namespace revup
