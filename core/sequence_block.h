#pragma once
// What the memory-saving machinery needs from a block, independent of its layers.
//
// A block is a pure function y = F(x; p) of its input and of the tensors p that
// `step_parameters()` returns once per step (spectrally normalized weights,
// Fixup scalars). Computing p outside the custom autograd function lets the
// normalization's own graph (W -> W / sigma) stay with autograd, while the
// function sees p as ordinary inputs, so gradients flow the normal way.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace revup {

class InferenceGraph;

using TensorVector = std::vector<torch::Tensor>;
using Gradients = std::pair<torch::Tensor, TensorVector>;  // dL/dx, dL/dp

class SequenceBlock {
 public:
  virtual ~SequenceBlock() = default;

  // True when F(x) = x + g(x) with Lip(g) < 1, so x can be rebuilt from y.
  virtual bool invertible() const = 0;
  // True when apply() is cheap next to the blocks after it and gives the same
  // result again (no randomness, no running statistics): MemSave then keeps
  // this block's input but not its output, and rebuilds the output when the
  // next block's backward needs it (a stem whose output is far larger than the
  // image it reads).
  virtual bool cheap_to_recompute() const { return false; }
  virtual TensorVector step_parameters() = 0;
  virtual torch::Tensor apply(const torch::Tensor& x, const TensorVector& p) const = 0;
  // The residual branch g; only invertible blocks need it.
  virtual torch::Tensor branch(const torch::Tensor& x, const TensorVector& p) const;
  // out -= g(x) in place (no graph); returns ||g(x)||. x may be `out` itself:
  // a block reads all of x before it writes out. The default builds g(x) whole;
  // a block may write it band by band so that g(x) never exists whole (MemSave
  // rebuilds a block's input into its output's storage this way).
  virtual double subtract_branch(torch::Tensor& out, const torch::Tensor& x,
                                 const TensorVector& p) const;

  // dL/dx and dL/dp of y = apply(x, p) for a given dL/dy (undefined where no
  // gradient is needed). MemSave's backward calls it with the rebuilt input.
  // The default recomputes apply() with autograd; a block may override it to
  // hold fewer full-size tensors at once. `grad_y_reusable`: nothing reads
  // grad_y after this call, so the block may accumulate dL/dx into its storage
  // and return it instead of allocating another tensor its size.
  virtual Gradients gradients(const torch::Tensor& x, const TensorVector& p,
                              const torch::Tensor& grad_y, bool input_needs_grad,
                              bool grad_y_reusable) const;

  // Appends what apply() computes in eval mode to `graph` as plain ops reading
  // value `x`, tensors baked and named under `scope`; returns the output value.
  // Export is built on it. The default throws, naming `scope`: a block that
  // cannot be written as plain ops is an unsupported layer, never a guess.
  virtual int describe(InferenceGraph& graph, int x, const std::string& scope);
};

// Recomputes y = f(x, p) with grad from detached copies of x and p and
// backpropagates grad_y: the generic way to get a block's (or a stage's) gradients.
using Recompute = std::function<torch::Tensor(const torch::Tensor&, const TensorVector&)>;
Gradients recompute_gradients(const Recompute& f, const torch::Tensor& x, const TensorVector& p,
                              const torch::Tensor& grad_y, bool input_needs_grad);

// Leaves for a recompute: detached copies of p that require grad where p does;
// those that do are appended to `wrt`.
TensorVector detached_leaves(const TensorVector& p, TensorVector& wrt);
// Maps autograd::grad's results (for `wrt` = [x if needed] + leaves needing
// grad) back to (dL/dx, one entry per p).
Gradients unpack_gradients(const TensorVector& grads, const TensorVector& p, bool input_needs_grad);

struct BlockLabel {
  int stage = 0;
  int block = 0;
};

// A block with its place in the network, for the memory timeline.
struct LabeledBlock {
  std::shared_ptr<SequenceBlock> block;
  BlockLabel label;
};

}  // namespace revup
