#include "models/state_utils.h"

#include <stdexcept>

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

std::vector<torch::Tensor> scalar_parameters(const torch::nn::Module& module) {
  std::vector<torch::Tensor> out;
  for (const auto& p : module.parameters()) {
    if (p.dim() == 0) out.push_back(p);
  }
  return out;
}

std::vector<torch::Tensor> weight_parameters(const torch::nn::Module& module) {
  std::vector<torch::Tensor> out;
  for (const auto& p : module.parameters()) {
    if (p.dim() != 0) out.push_back(p);
  }
  return out;
}

}  // namespace revup
