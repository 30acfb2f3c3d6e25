#pragma once
// What the memory-saving machinery needs from a block, independent of its layers.
//
// A block is a pure function y = F(x; p) of its input and of the tensors p that
// `step_parameters()` returns once per step (spectrally normalized weights,
// Fixup scalars). Computing p outside the custom autograd function lets the
// normalization's own graph (W -> W / sigma) stay with autograd, while the
// function sees p as ordinary inputs, so gradients flow the normal way.
#include <torch/torch.h>

#include <memory>
#include <vector>

namespace revup {

using TensorVector = std::vector<torch::Tensor>;

class SequenceBlock {
 public:
  virtual ~SequenceBlock() = default;

  // True when F(x) = x + g(x) with Lip(g) < 1, so x can be rebuilt from y.
  virtual bool invertible() const = 0;
  virtual TensorVector step_parameters() = 0;
  virtual torch::Tensor apply(const torch::Tensor& x, const TensorVector& p) const = 0;
  // The residual branch g; only invertible blocks need it.
  virtual torch::Tensor branch(const torch::Tensor& x, const TensorVector& p) const;
};

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
