#include "models/lipschitz_audit.h"

#include <cmath>

#include "core/operator_norm.h"
#include "models/revup_block.h"

namespace revup {

LipschitzAudit audit_lipschitz(torch::nn::Module& net, int64_t grid) {
  torch::NoGradGuard no_grad;
  LipschitzAudit audit;
  for (const auto& item : net.named_modules()) {
    auto* block = item.value()->as<RevUpBlockImpl>();
    if (block == nullptr) continue;
    BlockLipschitz b;
    b.name = item.key();
    b.bound = 1.0;
    const auto& scale = block->scalars.back();
    const size_t m = block->convs.size();
    for (size_t j = 0; j < m; ++j) {
      auto& conv = block->convs[j];
      // Fixup's scale follows the last conv and is normalized with it.
      const auto gain = j + 1 == m ? scale : torch::Tensor();
      const double g = gain.defined() ? std::abs(gain.item<double>()) : 1.0;
      const double divisor = conv->divisor(conv->weight, conv->direction(), gain).item<double>();
      ConvLipschitz c;
      c.name = b.name + ".convs." + std::to_string(j);
      c.kernel_size = conv->kernel_size;
      c.true_sigma = conv_operator_norm(conv->weight, grid) * g / divisor;
      c.estimated_sigma = conv->sigma_bound() * g / divisor;
      c.coeff = conv->options.coeff;
      b.bound *= c.true_sigma;
      if (c.true_sigma / c.coeff > audit.max_sigma_over_c) {
        audit.max_sigma_over_c = c.true_sigma / c.coeff;
        audit.worst_conv = c.name;
      }
      b.convs.push_back(std::move(c));
    }
    if (b.bound > audit.max_block_bound) {
      audit.max_block_bound = b.bound;
      audit.worst_block = b.name;
    }
    audit.blocks.push_back(std::move(b));
  }
  return audit;
}

}  // namespace revup
