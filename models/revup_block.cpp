#include "models/revup_block.h"

#include <string>
#include <vector>

#include "core/inference_graph.h"
#include "core/torch_compat.h"
#include "models/lean_gradients.h"

namespace revup {

// ---- RevUpBlock ------------------------------------------------------------

RevUpBlockImpl::RevUpBlockImpl(BlockKind kind, int64_t channels, int64_t total_blocks,
                               SpectralNormOptions sn, int64_t dims) {
  shape.kind = kind;
  shape.dims = dims;
  shape.in = shape.out = channels;
  shape.mid = kind == BlockKind::kBasic ? channels : channels / 4;
  const auto ch = shape.channels();
  const auto k = shape.kernels();
  TensorVector raw;
  for (int j = 0; j < shape.convs(); ++j) {
    convs.push_back(register_module("conv" + std::to_string(j + 1),
                                    SpectralNormConv(ch[j], ch[j + 1], k[j], sn, dims)));
    raw.push_back(convs.back()->weight);
  }
  scalars = register_fixup_scalars(*this, shape.convs());
  fixup_init(raw, total_blocks);
  // Fixup's last conv starts at zero, where power iteration leaves the probe
  // as it is: only the others warm up, until their estimates settle.
  for (auto& c : convs) {
    if (c->weight.abs().max().item<double>() > 0) c->warm_up(sn.warmup_iterations);
  }
}

// Parameters: raw weights w_1..w_m, Fixup scalars, then the directions
// G_1..G_m of this step's spectral norms (sigma_j = sum(w_j * G_j)). Each use
// normalizes w_j / divisor(w_j, G_j) afresh, which costs an elementwise product,
// so nothing but the raw parameters and G has to outlive a block's computation.
TensorVector RevUpBlockImpl::step_parameters() {
  TensorVector p;
  TensorVector directions;
  for (auto& c : convs) {
    directions.push_back(c->step());
    p.push_back(c->weight);
  }
  p.insert(p.end(), scalars.begin(), scalars.end());
  p.insert(p.end(), directions.begin(), directions.end());
  return p;
}

// The normalized weights w_j / divisor(w_j, G_j) and the Fixup scalars, in
// fixup_branch's parameter order.
TensorVector RevUpBlockImpl::branch_parameters(const TensorVector& p) const {
  const size_t m = convs.size();
  TensorVector q(p.begin(), p.end() - static_cast<std::ptrdiff_t>(m));
  const auto& scale = q.back();
  for (size_t j = 0; j < m; ++j) {
    // Fixup's scale multiplies the last conv: normalize the two jointly.
    const auto gain = j + 1 == m ? scale : torch::Tensor();
    q[j] = p[j] / convs[j]->divisor(p[j], p[q.size() + j], gain);
  }
  return q;
}

torch::Tensor RevUpBlockImpl::branch(const torch::Tensor& x, const TensorVector& p) const {
  return fixup_branch_of_relu(shape, x, branch_parameters(p));
}

torch::Tensor RevUpBlockImpl::apply(const torch::Tensor& x, const TensorVector& p) const {
  return branch(x, p).add_(x);  // the branch's output is a fresh tensor
}

double RevUpBlockImpl::subtract_branch(torch::Tensor& out, const torch::Tensor& x,
                                       const TensorVector& p) const {
  if (!subtracts_last_conv_in_bands(shape) || !out.is_contiguous()) {
    return SequenceBlock::subtract_branch(out, x, p);
  }
  torch::NoGradGuard no_grad;
  return subtract_fixup_branch_of_relu(shape, out, x, branch_parameters(p));
}

Gradients RevUpBlockImpl::gradients(const torch::Tensor& x, const TensorVector& p,
                                    const torch::Tensor& grad_y, bool input_needs_grad,
                                    bool grad_y_reusable) const {
  return preactivation_gradients(
      shape, x, p, grad_y, input_needs_grad,
      [this](const TensorVector& leaves) { return branch_parameters(leaves); },
      /*projection=*/-1, grad_y_reusable ? grad_y : torch::Tensor());
}

int RevUpBlockImpl::describe(InferenceGraph& graph, int x, const std::string& scope) {
  TORCH_CHECK(!is_training(), scope, ": describe the network in eval mode (training mode would ",
              "advance the spectral norms' power iteration)");
  torch::NoGradGuard no_grad;
  // The weights divided by their spectral-norm divisors, as this forward uses them.
  const auto q = branch_parameters(step_parameters());
  const int pre = graph.add({InferenceOpKind::kRelu, {x}, {}, {}, scope});
  const int g = describe_fixup_branch(graph, shape, q, pre, scope);
  return graph.add({InferenceOpKind::kAdd, {g, x}, {}, {}, scope});
}

double RevUpBlockImpl::lipschitz_bound() {
  torch::NoGradGuard no_grad;
  const auto& scale = scalars.back();
  double bound = std::abs(scale.item<double>());
  for (size_t j = 0; j < convs.size(); ++j) {
    const auto gain = j + 1 == convs.size() ? scale : torch::Tensor();
    bound *= convs[j]->sigma_bound() /
             convs[j]->divisor(convs[j]->weight, convs[j]->direction(), gain).item<double>();
  }
  return bound;
}

// ---- FixupBlock ------------------------------------------------------------

FixupBlockImpl::FixupBlockImpl(BranchShape s, int64_t total_blocks, bool pre_act)
    : shape(s), pre_activation(pre_act), has_projection(s.stride != 1 || s.in != s.out) {
  const auto ch = shape.channels();
  const auto k = shape.kernels();
  const auto kernel = [&](int64_t out, int64_t in, int64_t side) {
    std::vector<int64_t> sizes{out, in};
    sizes.resize(static_cast<size_t>(2 + shape.dims), side);
    return torch::empty(sizes);
  };
  for (int j = 0; j < shape.convs(); ++j) {
    weights.push_back(register_parameter("conv" + std::to_string(j + 1) + "_weight",
                                         kernel(ch[j + 1], ch[j], k[j])));
  }
  fixup_init(weights, total_blocks);
  if (has_projection) {
    auto w = register_parameter("shortcut_weight", kernel(shape.out, shape.in, 1));
    torch::NoGradGuard no_grad;
    compat::kaiming_normal_fan_out(w);  // Fixup leaves the shortcut unscaled
    weights.push_back(w);
  }
  scalars = register_fixup_scalars(*this, shape.convs());
}

TensorVector FixupBlockImpl::step_parameters() {
  TensorVector p(weights.begin(), weights.begin() + shape.convs());
  p.insert(p.end(), scalars.begin(), scalars.end());
  if (has_projection) p.push_back(weights.back());
  return p;
}

// The projection shortcut reads x + bias_1a, as the branch's first conv does
// (Fixup's reference): folded into the 1x1 conv's bias, exact without padding.
torch::Tensor FixupBlockImpl::projection_bias(const TensorVector& p) const {
  return p[static_cast<size_t>(shape.convs())] * p.back().flatten(1).sum(1);
}

torch::Tensor FixupBlockImpl::apply(const torch::Tensor& x, const TensorVector& p) const {
  // The branch first, the projection after: while the branch's first conv
  // reads relu(x) (the size of x), the shortcut's output does not exist yet.
  auto out = pre_activation ? fixup_branch_of_relu(shape, x, p) : fixup_branch(shape, x, p);
  if (has_projection) {
    out.add_(convolution(x, p.back(), projection_bias(p), shape.stride, 0));
  } else {
    out.add_(x);
  }
  return pre_activation ? out : out.relu_();
}

int FixupBlockImpl::describe(InferenceGraph& graph, int x, const std::string& scope) {
  torch::NoGradGuard no_grad;
  const auto p = step_parameters();
  int identity = x;
  if (has_projection) {
    identity = graph.add({conv_op(shape.dims),
                          {x},
                          {graph.add_tensor(scope + ".shortcut.weight", p.back()),
                           graph.add_tensor(scope + ".shortcut.bias", projection_bias(p))},
                          {shape.stride, 0},
                          scope + ".shortcut"});
  }
  const int in = pre_activation ? graph.add({InferenceOpKind::kRelu, {x}, {}, {}, scope}) : x;
  const int g = describe_fixup_branch(graph, shape, p, in, scope);
  const int sum = graph.add({InferenceOpKind::kAdd, {g, identity}, {}, {}, scope});
  return pre_activation ? sum : graph.add({InferenceOpKind::kRelu, {sum}, {}, {}, scope});
}

Gradients FixupBlockImpl::gradients(const torch::Tensor& x, const TensorVector& p,
                                    const torch::Tensor& grad_y, bool input_needs_grad,
                                    bool grad_y_reusable) const {
  if (!pre_activation) {
    return SequenceBlock::gradients(x, p, grad_y, input_needs_grad, grad_y_reusable);
  }
  const auto branch_size = static_cast<std::ptrdiff_t>(3 * shape.convs() + 1);
  return preactivation_gradients(
      shape, x, p, grad_y, input_needs_grad,
      [branch_size](const TensorVector& leaves) {
        return TensorVector(leaves.begin(), leaves.begin() + branch_size);
      },
      has_projection ? static_cast<int>(p.size()) - 1 : -1);
}

// ---- BatchNormBlock --------------------------------------------------------

BatchNormBlockImpl::BatchNormBlockImpl(BranchShape s)
    : shape(s), has_projection(s.stride != 1 || s.in != s.out) {
  const auto ch = shape.channels();
  const auto k = shape.kernels();
  const int n = shape.convs() + (has_projection ? 1 : 0);
  for (int j = 0; j < n; ++j) {
    const bool proj = j == shape.convs();
    const int64_t in = proj ? shape.in : ch[j], out = proj ? shape.out : ch[j + 1];
    const int64_t kernel = proj ? 1 : k[j], stride = proj ? shape.stride : shape.stride_of(j);
    auto opts =
        torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false);
    convs.push_back(register_module("conv" + std::to_string(j + 1), torch::nn::Conv2d(opts)));
    torch::NoGradGuard no_grad;
    compat::kaiming_normal_fan_out(convs.back()->weight);
    norms.push_back(register_module("bn" + std::to_string(j + 1), torch::nn::BatchNorm2d(out)));
  }
}

TensorVector BatchNormBlockImpl::step_parameters() {
  TensorVector p;
  for (size_t j = 0; j < convs.size(); ++j) {
    p.push_back(convs[j]->weight);
    p.push_back(norms[j]->weight);
    p.push_back(norms[j]->bias);
  }
  return p;
}

torch::Tensor BatchNormBlockImpl::apply(const torch::Tensor& x, const TensorVector& p) const {
  auto conv_bn = [&](int j, const torch::Tensor& in) {
    const bool proj = j == shape.convs();
    const int64_t kernel = p[3 * j].size(-1);
    auto h = torch::conv2d(in, p[3 * j], {}, proj ? shape.stride : shape.stride_of(j), kernel / 2);
    const auto& bn = norms[j];
    return torch::batch_norm(h, p[3 * j + 1], p[3 * j + 2], bn->running_mean, bn->running_var,
                             is_training(), bn->options.momentum().value(), bn->options.eps(),
                             /*cudnn_enabled=*/true);
  };
  torch::Tensor h = x;
  for (int j = 0; j < shape.convs(); ++j) {
    h = conv_bn(j, h);
    if (j + 1 < shape.convs()) h = torch::relu(h);
  }
  return torch::relu(h + (has_projection ? conv_bn(shape.convs(), x) : x));
}

}  // namespace revup
