#include "core/sequence_block.h"

#include <stdexcept>

namespace revup {

torch::Tensor SequenceBlock::branch(const torch::Tensor&, const TensorVector&) const {
  throw std::logic_error("branch() called on a block that is not invertible");
}

double SequenceBlock::subtract_branch(torch::Tensor& out, const torch::Tensor& x,
                                      const TensorVector& p) const {
  torch::NoGradGuard no_grad;
  const auto g = branch(x, p);
  const double norm = g.norm().item<double>();
  out.sub_(g);
  return norm;
}

Gradients SequenceBlock::gradients(const torch::Tensor& x, const TensorVector& p,
                                   const torch::Tensor& grad_y, bool input_needs_grad,
                                   bool /*grad_y_reusable*/) const {
  return recompute_gradients(
      [this](const torch::Tensor& xl, const TensorVector& pl) { return apply(xl, pl); }, x, p,
      grad_y, input_needs_grad);
}

int SequenceBlock::describe(InferenceGraph&, int, const std::string& scope) {
  throw std::runtime_error(scope + ": this layer cannot be exported (no plain-op description)");
}

TensorVector detached_leaves(const TensorVector& p, TensorVector& wrt) {
  TensorVector leaves;
  leaves.reserve(p.size());
  for (const auto& t : p) {
    leaves.push_back(t.detach().requires_grad_(t.requires_grad()));
    if (t.requires_grad()) wrt.push_back(leaves.back());
  }
  return leaves;
}

Gradients unpack_gradients(const TensorVector& grads, const TensorVector& p,
                           bool input_needs_grad) {
  size_t next = 0;
  torch::Tensor grad_x;
  if (input_needs_grad) grad_x = grads[next++];
  TensorVector grad_p;
  grad_p.reserve(p.size());
  for (const auto& t : p) grad_p.push_back(t.requires_grad() ? grads[next++] : torch::Tensor());
  return {grad_x, grad_p};
}

Gradients recompute_gradients(const Recompute& f, const torch::Tensor& x, const TensorVector& p,
                              const torch::Tensor& grad_y, bool input_needs_grad) {
  torch::AutoGradMode enable(true);
  TensorVector wrt;
  auto x_leaf = x.detach().requires_grad_(input_needs_grad);
  if (input_needs_grad) wrt.push_back(x_leaf);
  const auto leaves = detached_leaves(p, wrt);
  const auto y = f(x_leaf, leaves);
  if (wrt.empty()) return unpack_gradients({}, p, false);
  const auto grads = torch::autograd::grad({y}, wrt, {grad_y}, /*retain_graph=*/false,
                                           /*create_graph=*/false, /*allow_unused=*/true);
  return unpack_gradients(grads, p, input_needs_grad);
}

}  // namespace revup
