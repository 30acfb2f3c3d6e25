#pragma once
// RevUp's invertible block: y = x + g(x), g = Fixup's branch with the ReLU that
// used to follow the sum moved to the branch's front (pre-activation, as in
// i-ResNet), every conv spectrally normalized, and Fixup's scale folded into
// the last conv's bound, so Lip(g) <= c^m <= c including the scale.
#include <torch/torch.h>

#include <string>

#include "core/sequence_block.h"
#include "core/spectral_norm.h"
#include "models/branch.h"

namespace revup {

struct RevUpBlockImpl : torch::nn::Module, SequenceBlock {
  // dims: 2 (Conv2d over images) or 3 (Conv3d over volumes).
  RevUpBlockImpl(BlockKind kind, int64_t channels, int64_t total_blocks,
                 SpectralNormOptions sn = {}, int64_t dims = 2);

  bool invertible() const override { return true; }
  TensorVector step_parameters() override;
  torch::Tensor apply(const torch::Tensor& x, const TensorVector& p) const override;
  torch::Tensor branch(const torch::Tensor& x, const TensorVector& p) const override;
  // A bottleneck's last (1x1) conv is subtracted band by band; a basic
  // block's (3x3) builds the branch whole, as SequenceBlock does.
  double subtract_branch(torch::Tensor& out, const torch::Tensor& x,
                         const TensorVector& p) const override;
  // Holds at most three full-size tensors at once (input, output gradient,
  // input gradient), two when grad_y is reusable and the first conv is 1x1,
  // instead of recomputing y with autograd.
  Gradients gradients(const torch::Tensor& x, const TensorVector& p, const torch::Tensor& grad_y,
                      bool input_needs_grad, bool grad_y_reusable) const override;
  // x + branch with the spectrally normalized weights baked in.
  int describe(InferenceGraph& graph, int x, const std::string& scope) override;

  // Normalized weights and Fixup scalars for fixup_branch, from step parameters.
  TensorVector branch_parameters(const TensorVector& p) const;

  // Bound on Lip(g) from the current weights (no power iteration, no grad).
  double lipschitz_bound();

  BranchShape shape;
  std::vector<SpectralNormConv> convs;
  TensorVector scalars;
};
TORCH_MODULE(RevUpBlock);

// A block that changes shape (stride or channels) and so is not invertible:
// Fixup's block with a 1x1 projection shortcut. MemSave keeps its input.
// `pre_activation` selects RevUp's ReLU placement (branch front) versus
// Fixup's (after the sum).
struct FixupBlockImpl : torch::nn::Module, SequenceBlock {
  FixupBlockImpl(BranchShape shape, int64_t total_blocks, bool pre_activation);

  bool invertible() const override { return false; }
  TensorVector step_parameters() override;
  torch::Tensor apply(const torch::Tensor& x, const TensorVector& p) const override;
  // RevUp's (pre-activation) downsampling blocks use the lean hand-written path.
  Gradients gradients(const torch::Tensor& x, const TensorVector& p, const torch::Tensor& grad_y,
                      bool input_needs_grad, bool grad_y_reusable) const override;
  int describe(InferenceGraph& graph, int x, const std::string& scope) override;
  // bias_1a * sum_i W[o, i]: the shortcut's share of the branch's first pre-bias.
  torch::Tensor projection_bias(const TensorVector& p) const;

  BranchShape shape;
  bool pre_activation;
  bool has_projection;
  TensorVector weights;  // branch convs, then the projection if any
  TensorVector scalars;
};
TORCH_MODULE(FixupBlock);

// The classic BatchNorm ResNet block (conv-BN-ReLU, ..., + shortcut, ReLU).
struct BatchNormBlockImpl : torch::nn::Module, SequenceBlock {
  explicit BatchNormBlockImpl(BranchShape shape);

  bool invertible() const override { return false; }
  TensorVector step_parameters() override;
  torch::Tensor apply(const torch::Tensor& x, const TensorVector& p) const override;

  BranchShape shape;
  bool has_projection;
  std::vector<torch::nn::Conv2d> convs;  // branch, then projection
  std::vector<torch::nn::BatchNorm2d> norms;
};
TORCH_MODULE(BatchNormBlock);

}  // namespace revup
