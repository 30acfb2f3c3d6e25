#include "models/conv1x1.h"

#include "models/branch.h"

namespace revup {

namespace {

// The product itself, no graph. Written into a tensor of the output's shape
// (not a view of the product): callers accumulate into it in place.
torch::Tensor conv1x1_product(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias) {
  const int64_t n = x.size(0), i = x.size(1), o = weight.size(0);
  auto sizes = x.sizes().vec();
  sizes[1] = o;
  auto out = torch::empty(sizes, x.options());
  auto flat = out.view({n, o, -1});
  at::bmm_out(flat, weight.view({o, i}).expand({n, o, i}), x.reshape({n, i, -1}));
  if (bias.defined()) flat.add_(bias.view({1, o, 1}));
  return out;
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Gradients of conv1x1_product(input, weight, bias) for the inputs autograd
// asks for; the input's comes back as W^T g, which the caller may mask.
variable_list product_gradients(AutogradContext* ctx, const torch::Tensor& grad_out,
                                const torch::Tensor& input, const torch::Tensor& weight) {
  const auto g = grad_out.contiguous();
  torch::Tensor grad_x, grad_w, grad_b;
  if (ctx->needs_input_grad(1)) grad_w = conv1x1_weight_grad(g, input);
  if (ctx->needs_input_grad(2)) grad_b = sum_but_channels(g);
  if (ctx->needs_input_grad(0)) grad_x = conv1x1_input_grad(g, weight);
  return {grad_x, grad_w, grad_b};
}

// Autograd through the product would take the weight's gradient from a
// transposed copy of x (measured: one more map at the step's peak).
struct Conv1x1Function : torch::autograd::Function<Conv1x1Function> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias) {
    ctx->save_for_backward({x, weight});
    return conv1x1_product(x, weight, bias);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    return product_gradients(ctx, grad_outputs[0], saved[0], saved[1]);
  }
};

struct ReluConv1x1Function : torch::autograd::Function<ReluConv1x1Function> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias) {
    const auto r = torch::relu(x);
    ctx->save_for_backward({r, weight});
    return conv1x1_product(r, weight, bias);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& r = saved[0];  // relu(x)
    auto grads = product_gradients(ctx, grad_outputs[0], r, saved[1]);
    if (grads[0].defined()) at::threshold_backward_out(grads[0], grads[0], r, 0);  // relu'(x)
    return grads;
  }
};

}  // namespace

torch::Tensor conv1x1(const torch::Tensor& x, const torch::Tensor& weight,
                      const torch::Tensor& bias) {
  TORCH_CHECK((weight.dim() == 4 || weight.dim() == 5) && weight[0][0].numel() == 1 &&
                  weight.dim() == x.dim(),
              "conv1x1 needs a 1x1 (or 1x1x1) kernel of the input's dimensionality");
  if (!torch::GradMode::is_enabled()) return conv1x1_product(x, weight, bias);
  return Conv1x1Function::apply(x, weight, bias);
}

torch::Tensor relu_conv1x1(const torch::Tensor& x, const torch::Tensor& weight,
                           const torch::Tensor& bias) {
  if (!torch::GradMode::is_enabled()) return conv1x1_product(torch::relu(x), weight, bias);
  return ReluConv1x1Function::apply(x, weight, bias);
}

}  // namespace revup
