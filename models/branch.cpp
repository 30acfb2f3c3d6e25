#include "models/branch.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "core/torch_compat.h"

namespace revup {

std::vector<int64_t> BranchShape::kernels() const {
  return kind == BlockKind::kBasic ? std::vector<int64_t>{3, 3} : std::vector<int64_t>{1, 3, 1};
}

std::vector<int64_t> BranchShape::channels() const {
  return kind == BlockKind::kBasic ? std::vector<int64_t>{in, out, out}
                                   : std::vector<int64_t>{in, mid, mid, out};
}

int64_t BranchShape::stride_of(int j) const {
  const int strided = kind == BlockKind::kBasic ? 0 : 1;
  return j == strided ? stride : 1;
}

TensorVector register_fixup_scalars(torch::nn::Module& module, int convs) {
  TensorVector scalars;
  for (int j = 1; j <= convs; ++j) {
    for (const char* suffix : {"a", "b"}) {
      scalars.push_back(
          module.register_parameter("bias" + std::to_string(j) + suffix, torch::zeros({})));
    }
  }
  scalars.push_back(module.register_parameter("scale", torch::ones({})));
  return scalars;
}

void fixup_init(const TensorVector& weights, int64_t total_blocks) {
  torch::NoGradGuard no_grad;
  const auto m = static_cast<double>(weights.size());
  const double depth_scale = std::pow(static_cast<double>(total_blocks), -1.0 / (2.0 * m - 2.0));
  for (size_t j = 0; j + 1 < weights.size(); ++j) {
    auto w = weights[j];
    compat::kaiming_normal_fan_out(w);
    w.mul_(depth_scale);
  }
  weights.back().zero_();
}

torch::Tensor LastConv::run() const { return torch::conv2d(input, weight, bias, stride, padding); }

LastConv fixup_branch_body(const BranchShape& shape, const torch::Tensor& x,
                           const TensorVector& p) {
  const int m = shape.convs();
  const auto kernels = shape.kernels();
  const auto channels = shape.channels();
  const auto& scale = p[3 * m];
  torch::Tensor h = x;
  for (int j = 0; j < m; ++j) {
    const bool last = j + 1 == m;
    const auto& pre = p[m + 2 * j];
    const auto& post = p[m + 2 * j + 1];
    const int64_t k = kernels[j];
    const auto weight = last ? p[j] * scale : p[j];
    auto bias = post.expand({channels[j + 1]});
    const auto input = k == 1 ? h : h + pre;
    if (k == 1) bias = bias + pre * weight.sum({1, 2, 3});
    if (last) return {input, weight, bias, shape.stride_of(j), k / 2};
    h = torch::conv2d(input, weight, bias, shape.stride_of(j), k / 2);
    h.relu_();
  }
  throw std::logic_error("a branch has at least one convolution");
}

torch::Tensor fixup_branch(const BranchShape& shape, const torch::Tensor& x,
                           const TensorVector& p) {
  return fixup_branch_body(shape, x, p).run();
}

}  // namespace revup
