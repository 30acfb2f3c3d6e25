#include "models/lean_gradients.h"

#include <algorithm>
#include <array>
#include <tuple>
#include <vector>

#include "core/conv3d_slabs.h"
#include "core/torch_compat.h"

namespace revup {
namespace {

bool is_1x1_stride_1(const BranchShape& shape, int j) {
  return shape.kernels()[static_cast<size_t>(j)] == 1 && shape.stride_of(j) == 1;
}

// x[:, :, ::s, ::s(, ::s)]: what a strided 1x1 convolution reads. Sliced
// axis by axis, not through a vector of TensorIndex: copying one copies its
// uninitialized bool member (LibTorch 1.13), undefined behaviour that UBSan
// reported in every training with a downsampling block.
torch::Tensor subsample(const torch::Tensor& x, int64_t s) {
  auto y = x;
  for (int64_t a = 2; a < x.dim(); ++a) y = y.slice(a, 0, x.size(a), s);
  return y;
}

// grad *= alive (0/1 bytes), in place, a chunk at a time: the product converts
// the bytes to grad's type first, a temporary the size of the chunk, not of
// the map. 20 times faster than masked_fill_ on CPU, and the same for finite
// gradients.
void mask_(torch::Tensor& grad, const torch::Tensor& alive) {
  constexpr int64_t kChunk = int64_t{1} << 20;
  auto g = grad.view(-1);
  const auto a = alive.reshape(-1);
  for (int64_t i = 0; i < g.numel(); i += kChunk) {
    const int64_t n = std::min(kChunk, g.numel() - i);
    g.narrow(0, i, n).mul_(a.narrow(0, i, n));
  }
}

// A conv's gradients without a graph; a 3D one's in slabs (core/conv3d_slabs.h).
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> conv_backward(
    const torch::Tensor& grad_output, const torch::Tensor& input, const torch::Tensor& weight,
    int64_t stride, int64_t padding, std::array<bool, 3> wanted) {
  if (weight.dim() == 5) {
    return conv3d_backward_in_slabs(grad_output, input, weight, stride, padding, wanted);
  }
  return compat::conv_backward(grad_output, input, weight, stride, padding, wanted);
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
    const auto grad_out_sum = sum_but_channels(grad_y);  // [out]
    if (w.requires_grad()) {
      result.second[static_cast<size_t>(projection)] =
          conv1x1_weight_grad(grad_y, x_read)
              .add_(as_pointwise_kernel((grad_out_sum * p[pre].detach()).unsqueeze(1), x.dim() - 2)
                        .expand_as(w));
    }
    if (p[pre].requires_grad()) {
      const auto g = (grad_out_sum * w.detach().flatten(1).sum(1)).sum();
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

// What branch_gradients returns: dL/d relu(x), or, when it was accumulated
// into grad_x_into, dL/dx itself.
struct BranchGradients {
  torch::Tensor grad;
  bool is_grad_x = false;
  TensorVector parameters;
};

// The branch (basic: 3x3, 3x3; bottleneck: 1x1, 3x3, 1x1) differentiated
// entirely by hand, conv by conv; autograd only maps the folded convolution
// parameters back to the step's parameters (spectral normalization, Fixup
// scalars). Kept for backward: each conv's input and each inner ReLU's output
// (its mask), where autograd through the branch would also keep the ReLU
// outputs and the pre-biased inputs as separate tensors. A first 1x1 conv reads
// relu(x) itself: that tensor, the size of x, is rebuilt for the weight
// gradient instead of being kept. Returns dL/d relu(x) (undefined unless
// input_needs_grad) and the parameter gradients, aligned with `p`; or dL/dx,
// accumulated into `grad_x_into` (see preactivation_gradients).
BranchGradients branch_gradients(
    const BranchShape& shape, const torch::Tensor& x, const TensorVector& p,
    const torch::Tensor& grad_y, bool input_needs_grad,
    const std::function<TensorVector(const TensorVector&)>& branch_parameters,
    const torch::Tensor& grad_x_into) {
  TensorVector wrt;
  const auto leaves = detached_leaves(p, wrt);
  TensorVector outputs, grads;  // folded parameters and their gradients
  auto add = [&](const torch::Tensor& out, torch::Tensor grad) {
    if (out.requires_grad() && grad.defined()) {
      outputs.push_back(out);
      grads.push_back(std::move(grad));
    }
  };
  const int m = shape.convs();
  std::vector<BranchConv> c(static_cast<size_t>(m));
  {
    torch::AutoGradMode enable(true);
    const auto q = branch_parameters(leaves);
    for (int j = 0; j < m; ++j) c[static_cast<size_t>(j)] = branch_conv(shape, q, j);
  }
  BranchGradients result;
  {
    torch::NoGradGuard no_grad;
    // Kept for backward: each conv's input, except the first conv's (relu(x)
    // + bias: rebuilt from x when its turn comes, one elementwise pass), and
    // where each inner ReLU was alive, as bytes (0 or 1): its output, with the
    // next conv's pre-bias added in place, is that conv's input.
    std::vector<torch::Tensor> inputs(c.size()), alive(c.size());
    const auto first_input = [&] {
      auto in = torch::relu(x);
      return c[0].pre_in_bias ? in : in.add_(c[0].pre.detach());
    };
    // Forward again, without the last conv's output (grad_y is its gradient).
    // A first 1x1 conv reads relu(x) band by band (conv1x1_of_relu).
    const bool first_reads_x = is_1x1_stride_1(shape, 0);
    torch::Tensor h;  // the output of conv j - 1, after its ReLU
    for (size_t j = 0; j + 1 < c.size(); ++j) {
      if (j == 0) {
        h = first_reads_x ? conv1x1_of_relu(x, c[0].weight.detach(), c[0].bias.detach())
                          : convolution(first_input(), c[0].weight.detach(), c[0].bias.detach(),
                                        c[0].stride, c[0].padding);
      } else {
        h = convolution(inputs[j], c[j].weight.detach(), c[j].bias.detach(), c[j].stride,
                        c[j].padding);
      }
      h.relu_();
      alive[j] = h.gt(0).view(torch::kUInt8);
      inputs[j + 1] = c[j + 1].pre_in_bias ? std::move(h) : h.add_(c[j + 1].pre.detach());
      h = torch::Tensor();
    }
    torch::Tensor g = grad_y;  // dL/d(output of conv j)
    for (size_t j = c.size(); j-- > 0;) {
      const auto w = c[j].weight.detach();
      const bool pre_grad = !c[j].pre_in_bias && c[j].pre.requires_grad();
      const bool need_input_grad = j > 0 || input_needs_grad || pre_grad;
      auto in = std::move(inputs[j]);  // undefined for conv 0
      torch::Tensor grad_in, grad_w, grad_b;
      if (is_1x1_stride_1(shape, static_cast<int>(j))) {
        grad_w = in.defined() ? conv1x1_weight_grad(g, in) : conv1x1_weight_grad_of_relu(g, x);
        in = torch::Tensor();
        grad_b = sum_but_channels(g);
        if (j == 0 && input_needs_grad && grad_x_into.defined()) {
          // dL/dx = grad_y + relu'(x) * W^T g, added band by band.
          auto into = grad_x_into;
          add_conv1x1_input_grad_through_relu_(into, g, w, x);
          grad_in = std::move(into);
          result.is_grad_x = true;
        } else if (need_input_grad) {
          grad_in = conv1x1_input_grad(g, w);
        }
      } else {
        if (!in.defined()) in = first_input();
        // The weight's gradient first, then the input is released before the
        // input's gradient is made: never both at once. That gradient reads
        // only the input's shape, given by a tensor alive anyway when one has it.
        std::tie(std::ignore, grad_w, grad_b) =
            conv_backward(g, in, w, c[j].stride, c[j].padding, {false, true, true});
        if (need_input_grad) {
          torch::Tensor shape_source = in;
          if (j == 0) {
            shape_source = x;  // relu(x) + bias
          } else if (in.sizes() == g.sizes()) {
            shape_source = g;
          }
          in = torch::Tensor();  // kept only where it is its own shape's source
          grad_in = std::get<0>(
              conv_backward(g, shape_source, w, c[j].stride, c[j].padding, {true, false, false}));
        }
        in = torch::Tensor();
      }
      add(c[j].weight, grad_w);
      add(c[j].bias, grad_b);
      if (pre_grad) add(c[j].pre, grad_in.sum());
      if (j > 0) {
        mask_(grad_in, alive[j - 1]);  // through relu(conv j-1 + bias)
        alive[j - 1] = torch::Tensor();
      }
      g = std::move(grad_in);
    }
    if (input_needs_grad) result.grad = std::move(g);
  }
  result.parameters.resize(p.size());
  if (!wrt.empty() && !outputs.empty()) {
    const auto g = torch::autograd::grad(outputs, wrt, grads, /*retain_graph=*/false,
                                         /*create_graph=*/false, /*allow_unused=*/true);
    result.parameters = unpack_gradients(g, p, /*input_needs_grad=*/false).second;
  }
  return result;
}

}  // namespace

Gradients preactivation_gradients(
    const BranchShape& shape, const torch::Tensor& x, const TensorVector& p,
    const torch::Tensor& grad_y, bool input_needs_grad,
    const std::function<TensorVector(const TensorVector&)>& branch_parameters, int projection,
    const torch::Tensor& grad_x_into) {
  const bool accumulate = projection < 0 && grad_x_into.defined() && grad_x_into.is_contiguous() &&
                          grad_x_into.sizes() == x.sizes();
  auto b = branch_gradients(shape, x, p, grad_y, input_needs_grad, branch_parameters,
                            accumulate ? grad_x_into : torch::Tensor());
  if (b.is_grad_x) return {std::move(b.grad), std::move(b.parameters)};
  return finish_preactivation(shape, x, p, grad_y, input_needs_grad, projection,
                              {torch::Tensor(), std::move(b.parameters)}, std::move(b.grad));
}

}  // namespace revup
