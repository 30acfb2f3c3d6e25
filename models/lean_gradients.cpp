#include "models/lean_gradients.h"

#include <tuple>

#include "core/torch_compat.h"

namespace revup {
namespace {

// Adds autograd::grad results b into a (both aligned with the same `wrt`).
void accumulate(TensorVector& a, const TensorVector& b) {
  for (size_t k = 0; k < a.size(); ++k) {
    if (!b[k].defined()) continue;
    a[k] = a[k].defined() ? a[k] + b[k] : b[k];
  }
}

bool is_1x1_stride_1(const BranchShape& shape, int j) {
  return shape.kernels()[static_cast<size_t>(j)] == 1 && shape.stride_of(j) == 1;
}

// x[:, :, ::s, ::s]: what a strided 1x1 convolution reads.
torch::Tensor subsample(const torch::Tensor& x, int64_t s) {
  if (s == 1) return x;
  using torch::indexing::Slice;
  return x.index({Slice(), Slice(), Slice(torch::indexing::None, torch::indexing::None, s),
                  Slice(torch::indexing::None, torch::indexing::None, s)});
}

// grad *= (x > 0), in place: one fused pass, no mask tensor.
torch::Tensor& relu_backward_(torch::Tensor& grad, const torch::Tensor& x) {
  return at::threshold_backward_out(grad, grad, x, 0);
}

// The shortcut's share: dL/dx from dL/d relu(x) and grad_y (identity), or
// through the 1x1 projection, whose weight gradient is taken here too.
Gradients finish_preactivation(const BranchShape& shape, const torch::Tensor& x,
                               const TensorVector& p, const torch::Tensor& grad_y,
                               bool input_needs_grad, int projection, Gradients result,
                               torch::Tensor grad_r) {
  torch::NoGradGuard no_grad;
  if (projection >= 0) {
    // The shortcut reads x + bias_1a (Fixup's reference): a 1x1 conv of a
    // shifted input is the conv plus bias_1a * sum_i W[o, i].
    const auto& w = p[static_cast<size_t>(projection)];
    const auto pre = static_cast<size_t>(shape.convs());  // bias_1a
    const auto x_read = subsample(x, shape.stride);
    const auto grad_out_sum = grad_y.sum({0, 2, 3});  // [out]
    if (w.requires_grad()) {
      result.second[static_cast<size_t>(projection)] =
          conv1x1_weight_grad(grad_y, x_read)
              .add_((grad_out_sum * p[pre].detach()).view({-1, 1, 1, 1}).expand_as(w));
    }
    if (p[pre].requires_grad()) {
      const auto g = (grad_out_sum * w.detach().sum({1, 2, 3})).sum();
      auto& slot = result.second[pre];
      slot = slot.defined() ? slot + g : g;
    }
    if (input_needs_grad) {
      relu_backward_(grad_r, x);
      subsample(grad_r, shape.stride).add_(conv1x1_input_grad(grad_y, w.detach()));
      result.first = grad_r;
    }
  } else if (input_needs_grad) {
    result.first = relu_backward_(grad_r, x).add_(grad_y);
  }
  return result;
}

// A basic branch (two 3x3 convolutions) differentiated entirely by hand;
// autograd only maps the folded convolution parameters back to the step's
// parameters (spectral normalization, Fixup scalars). Six tensors the size
// of x at most (x, grad_y, both conv inputs, the ReLU output, one gradient)
// where autograd through the middle of the branch holds eight.
// Returns dL/d relu(x) (undefined unless input_needs_grad) and the
// parameter gradients, aligned with `p`.
std::pair<torch::Tensor, TensorVector> basic_branch_gradients(
    const BranchShape& shape, const torch::Tensor& x, const TensorVector& p,
    const torch::Tensor& grad_y, bool input_needs_grad,
    const std::function<TensorVector(const TensorVector&)>& branch_parameters) {
  TensorVector wrt;
  const auto leaves = detached_leaves(p, wrt);
  TensorVector outputs, grads;  // folded parameters and their gradients
  auto add = [&](const torch::Tensor& out, torch::Tensor grad) {
    if (out.requires_grad()) {
      outputs.push_back(out);
      grads.push_back(std::move(grad));
    }
  };
  torch::Tensor grad_r;
  BranchConv c0, c1;
  {
    torch::AutoGradMode enable(true);
    const auto q = branch_parameters(leaves);
    c0 = branch_conv(shape, q, 0);
    c1 = branch_conv(shape, q, 1);
  }
  {
    torch::NoGradGuard no_grad;
    const auto w0 = c0.weight.detach(), w1 = c1.weight.detach();
    auto in0 = torch::relu(x).add_(c0.pre.detach());
    auto h = torch::conv2d(in0, w0, c0.bias.detach(), c0.stride, c0.padding).relu_();
    auto in1 = h + c1.pre.detach();
    auto [grad_in1, grad_w1, grad_b1] =
        compat::conv2d_backward(grad_y, in1, w1, c1.stride, c1.padding);
    in1 = torch::Tensor();
    add(c1.weight, grad_w1);
    add(c1.bias, grad_b1);
    add(c1.pre, grad_in1.sum());
    auto& grad_h = relu_backward_(grad_in1, h);  // through relu(conv0 + bias)
    h = torch::Tensor();
    auto [grad_in0, grad_w0, grad_b0] =
        compat::conv2d_backward(grad_h, in0, w0, c0.stride, c0.padding,
                                {input_needs_grad || c0.pre.requires_grad(), true, true});
    grad_in1 = torch::Tensor();
    in0 = torch::Tensor();
    add(c0.weight, grad_w0);
    add(c0.bias, grad_b0);
    if (grad_in0.defined()) add(c0.pre, grad_in0.sum());
    if (input_needs_grad) grad_r = std::move(grad_in0);
  }
  TensorVector parameter_grads(p.size());
  if (!wrt.empty() && !outputs.empty()) {
    const auto g = torch::autograd::grad(outputs, wrt, grads, /*retain_graph=*/false,
                                         /*create_graph=*/false, /*allow_unused=*/true);
    parameter_grads = unpack_gradients(g, p, /*input_needs_grad=*/false).second;
  }
  return {grad_r, parameter_grads};
}

}  // namespace

Gradients preactivation_gradients(
    const BranchShape& shape, const torch::Tensor& x, const TensorVector& p,
    const torch::Tensor& grad_y, bool input_needs_grad,
    const std::function<TensorVector(const TensorVector&)>& branch_parameters, int projection) {
  if (shape.kind == BlockKind::kBasic) {
    auto [grad_r, parameter_grads] =
        basic_branch_gradients(shape, x, p, grad_y, input_needs_grad, branch_parameters);
    return finish_preactivation(shape, x, p, grad_y, input_needs_grad, projection,
                                {torch::Tensor(), std::move(parameter_grads)}, std::move(grad_r));
  }
  torch::AutoGradMode enable(true);
  TensorVector wrt;
  const auto leaves = detached_leaves(p, wrt);
  if (wrt.empty() && !input_needs_grad) return {torch::Tensor(), TensorVector(p.size())};
  const auto q = branch_parameters(leaves);
  const int m = shape.convs();
  const bool first_by_hand = is_1x1_stride_1(shape, 0);

  // The branch up to its last conv's input, with autograd from `middle_input`:
  // the first conv's output when that conv is done by hand, else relu(x).
  BranchConv first;
  torch::Tensor middle_input;
  if (first_by_hand) {
    first = branch_conv(shape, q, 0);
    {
      torch::NoGradGuard no_grad;
      middle_input = first.run(torch::relu(x));
    }
    middle_input.requires_grad_(true);
  } else {
    middle_input = torch::relu(x.detach()).requires_grad_(input_needs_grad);
  }
  const bool middle_needs_grad = middle_input.requires_grad();
  TensorVector middle_wrt = wrt;
  if (middle_needs_grad) middle_wrt.insert(middle_wrt.begin(), middle_input);
  auto last = first_by_hand ? fixup_branch_body(shape, torch::relu(middle_input), q, /*first=*/1)
                            : fixup_branch_body(shape, middle_input, q);

  torch::Tensor grad_in, grad_w, grad_b;
  if (is_1x1_stride_1(shape, m - 1)) {
    torch::NoGradGuard no_grad;
    grad_in = conv1x1_input_grad(grad_y, last.conv.weight.detach());
    grad_w = conv1x1_weight_grad(grad_y, last.input.detach());
    grad_b = grad_y.sum({0, 2, 3});
  } else {
    std::tie(grad_in, grad_w, grad_b) =
        compat::conv2d_backward(grad_y, last.input.detach(), last.conv.weight.detach(),
                                last.conv.stride, last.conv.padding);
  }
  auto grads = torch::autograd::grad({last.input, last.conv.weight, last.conv.bias}, middle_wrt,
                                     {grad_in, grad_w, grad_b}, /*retain_graph=*/false,
                                     /*create_graph=*/false, /*allow_unused=*/true);
  last = LastConv{};
  grad_in = grad_w = grad_b = torch::Tensor();
  torch::Tensor grad_middle;
  if (middle_needs_grad) {
    grad_middle = grads.front();
    grads.erase(grads.begin());
  }

  torch::Tensor grad_r;  // dL/d relu(x)
  if (first_by_hand) {
    torch::Tensor grad_w1;
    {
      torch::NoGradGuard no_grad;
      grad_w1 = conv1x1_weight_grad(grad_middle, torch::relu(x));  // relu(x) lives only here
      if (input_needs_grad) grad_r = conv1x1_input_grad(grad_middle, first.weight.detach());
    }
    accumulate(grads, torch::autograd::grad({first.weight, first.bias}, wrt,
                                            {grad_w1, grad_middle.sum({0, 2, 3})},
                                            /*retain_graph=*/false, /*create_graph=*/false,
                                            /*allow_unused=*/true));
  } else {
    grad_r = grad_middle;
  }

  return finish_preactivation(shape, x, p, grad_y, input_needs_grad, projection,
                              unpack_gradients(grads, p, /*input_needs_grad=*/false),
                              std::move(grad_r));
}

}  // namespace revup
