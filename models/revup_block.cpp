#include "models/revup_block.h"

#include <string>

#include "core/torch_compat.h"

namespace revup {

// ---- RevUpBlock ------------------------------------------------------------

RevUpBlockImpl::RevUpBlockImpl(BlockKind kind, int64_t channels, int64_t total_blocks,
                               SpectralNormOptions sn) {
  shape.kind = kind;
  shape.in = shape.out = channels;
  shape.mid = kind == BlockKind::kBasic ? channels : channels / 4;
  const auto ch = shape.channels();
  const auto k = shape.kernels();
  TensorVector raw;
  for (int j = 0; j < shape.convs(); ++j) {
    convs.push_back(register_module("conv" + std::to_string(j + 1),
                                    SpectralNormConv2d(ch[j], ch[j + 1], k[j], sn)));
    raw.push_back(convs.back()->weight);
  }
  scalars = register_fixup_scalars(*this, shape.convs());
  fixup_init(raw, total_blocks);
  for (auto& c : convs) c->power_iterate(sn.warmup_iterations);
}

// Parameters: raw weights w_1..w_m, Fixup scalars, then the probes u_1..u_m.
// Each use normalizes w_j / divisor(w_j, u_j) afresh, so nothing weight-sized
// per block outlives the block's own computation.
TensorVector RevUpBlockImpl::step_parameters() {
  TensorVector p;
  for (auto& c : convs) {
    c->step();
    p.push_back(c->weight);
  }
  p.insert(p.end(), scalars.begin(), scalars.end());
  for (auto& c : convs) p.push_back(c->probe);
  return p;
}

// The normalized weights w_j / divisor(w_j, u_j) and the Fixup scalars, in
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
  return fixup_branch(shape, torch::relu(x), branch_parameters(p));
}

torch::Tensor RevUpBlockImpl::apply(const torch::Tensor& x, const TensorVector& p) const {
  return branch(x, p).add_(x);  // the branch's output is a fresh tensor
}

namespace {

// Adds autograd::grad results b into a (both aligned with the same `wrt`).
void accumulate(TensorVector& a, const TensorVector& b) {
  for (size_t k = 0; k < a.size(); ++k) {
    if (!b[k].defined()) continue;
    a[k] = a[k].defined() ? a[k] + b[k] : b[k];
  }
}

}  // namespace

Gradients RevUpBlockImpl::gradients(const torch::Tensor& x, const TensorVector& p,
                                    const torch::Tensor& grad_y, bool input_needs_grad) const {
  // y = x + g(r), r = relu(x): dL/dx = grad_y + relu'(x) * dL/dr. At 4K every
  // tensor the size of x is hundreds of megabytes, so only the middle of the
  // branch goes through autograd. The last conv is differentiated by hand (its
  // output is never built); for bottlenecks the first (1x1) conv too, so r
  // exists only while its weight gradient is taken. At most three tensors the
  // size of x are alive at once: x, grad_y and r or dL/dr.
  torch::AutoGradMode enable(true);
  TensorVector wrt;
  const auto leaves = detached_leaves(p, wrt);
  if (wrt.empty() && !input_needs_grad) return {torch::Tensor(), TensorVector(p.size())};
  const auto q = branch_parameters(leaves);
  const bool bottleneck = shape.kind == BlockKind::kBottleneck;

  torch::Tensor z1;  // the first conv's output, a leaf when that conv is done by hand
  BranchConv first;
  torch::Tensor r;
  if (bottleneck) {
    first = branch_conv(shape, q, 0);
    {
      torch::NoGradGuard no_grad;
      z1 = first.run(torch::relu(x));
    }
    z1.requires_grad_(true);
  } else {
    r = torch::relu(x.detach()).requires_grad_(input_needs_grad);
  }
  TensorVector middle_wrt = wrt;
  torch::Tensor middle_input = bottleneck ? z1 : r;
  const bool middle_input_needs_grad = bottleneck || input_needs_grad;
  if (middle_input_needs_grad) middle_wrt.insert(middle_wrt.begin(), middle_input);

  auto last = bottleneck ? fixup_branch_body(shape, torch::relu(z1), q, /*first=*/1)
                         : fixup_branch_body(shape, r, q);
  torch::Tensor grad_in, grad_w, grad_b;
  if (shape.kernels().back() == 1) {
    grad_in = conv1x1_input_grad(grad_y, last.conv.weight.detach());
    grad_w = conv1x1_weight_grad(grad_y, last.input.detach());
    grad_b = grad_y.sum({0, 2, 3});
  } else {
    std::tie(grad_in, grad_w, grad_b) = compat::conv2d_backward(
        grad_y, last.input, last.conv.weight, last.conv.stride, last.conv.padding);
  }
  auto grads = torch::autograd::grad({last.input, last.conv.weight, last.conv.bias}, middle_wrt,
                                     {grad_in, grad_w, grad_b}, /*retain_graph=*/false,
                                     /*create_graph=*/false, /*allow_unused=*/true);
  last = LastConv{};
  torch::Tensor grad_middle_input;
  if (middle_input_needs_grad) {
    grad_middle_input = grads.front();
    grads.erase(grads.begin());
  }

  torch::Tensor grad_r;
  if (bottleneck) {
    torch::Tensor grad_w1;
    {
      torch::NoGradGuard no_grad;
      grad_w1 = conv1x1_weight_grad(grad_middle_input, torch::relu(x));  // r lives only here
      if (input_needs_grad) grad_r = conv1x1_input_grad(grad_middle_input, first.weight.detach());
    }
    if (!wrt.empty()) {
      accumulate(grads, torch::autograd::grad({first.weight, first.bias}, wrt,
                                              {grad_w1, grad_middle_input.sum({0, 2, 3})},
                                              /*retain_graph=*/false, /*create_graph=*/false,
                                              /*allow_unused=*/true));
    }
  } else {
    grad_r = grad_middle_input;
  }

  Gradients result = unpack_gradients(grads, p, /*input_needs_grad=*/false);
  if (input_needs_grad) {
    torch::NoGradGuard no_grad;
    result.first = grad_r.masked_fill_(x <= 0, 0).add_(grad_y);
  }
  return result;
}

double RevUpBlockImpl::lipschitz_bound() {
  torch::NoGradGuard no_grad;
  const auto& scale = scalars.back();
  double bound = std::abs(scale.item<double>());
  for (size_t j = 0; j < convs.size(); ++j) {
    const auto gain = j + 1 == convs.size() ? scale : torch::Tensor();
    bound *= convs[j]->sigma_bound() /
             convs[j]->divisor(convs[j]->weight, convs[j]->probe, gain).item<double>();
  }
  return bound;
}

// ---- FixupBlock ------------------------------------------------------------

FixupBlockImpl::FixupBlockImpl(BranchShape s, int64_t total_blocks, bool pre_act)
    : shape(s), pre_activation(pre_act), has_projection(s.stride != 1 || s.in != s.out) {
  const auto ch = shape.channels();
  const auto k = shape.kernels();
  for (int j = 0; j < shape.convs(); ++j) {
    weights.push_back(register_parameter("conv" + std::to_string(j + 1) + "_weight",
                                         torch::empty({ch[j + 1], ch[j], k[j], k[j]})));
  }
  fixup_init(weights, total_blocks);
  if (has_projection) {
    auto w = register_parameter("shortcut_weight", torch::empty({shape.out, shape.in, 1, 1}));
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

torch::Tensor FixupBlockImpl::apply(const torch::Tensor& x, const TensorVector& p) const {
  const auto identity = has_projection ? torch::conv2d(x, p.back(), {}, shape.stride) : x;
  auto out = fixup_branch(shape, pre_activation ? torch::relu(x) : x, p).add_(identity);
  return pre_activation ? out : out.relu_();
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
