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

}  // namespace

Gradients preactivation_gradients(
    const BranchShape& shape, const torch::Tensor& x, const TensorVector& p,
    const torch::Tensor& grad_y, bool input_needs_grad,
    const std::function<TensorVector(const TensorVector&)>& branch_parameters, int projection) {
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

  Gradients result = unpack_gradients(grads, p, /*input_needs_grad=*/false);
  torch::NoGradGuard no_grad;
  if (projection >= 0) {
    const auto& w = p[static_cast<size_t>(projection)];
    const auto x_read = subsample(x, shape.stride);
    if (w.requires_grad())
      result.second[static_cast<size_t>(projection)] = conv1x1_weight_grad(grad_y, x_read);
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

}  // namespace revup
