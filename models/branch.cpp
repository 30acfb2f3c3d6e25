#include "models/branch.h"

#include <cmath>
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

torch::Tensor fixup_branch(const BranchShape& shape, const torch::Tensor& x,
                           const TensorVector& p) {
  const int m = shape.convs();
  const auto kernels = shape.kernels();
  auto bias = [&](int j, int ab) { return p[m + 2 * j + ab]; };
  torch::Tensor h = x;
  for (int j = 0; j < m; ++j) {
    h = torch::conv2d(h + bias(j, 0), p[j], {}, shape.stride_of(j), kernels[j] / 2);
    if (j + 1 < m) h = torch::relu(h + bias(j, 1));
  }
  return h * p[3 * m] + bias(m - 1, 1);
}

}  // namespace revup
