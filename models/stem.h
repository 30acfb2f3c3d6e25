#pragma once
// The layers before the first residual block, as a (non-invertible) sequence
// block so that MemSave checkpoints only the image, not the stem's activations.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/sequence_block.h"

namespace revup {

enum class StemKind {
  kCifar,      // 3x3 conv, ReLU
  kImageNet,   // 7x7 stride-2 conv, ReLU, 3x3 stride-2 max pool
  kInjective,  // zero-pad channels (3 -> width): injective, so the whole stage is invertible
  kPatch,      // 4x4 stride-4 conv, ReLU: the ImageNet stem's stride, far cheaper
};
enum class StemNorm { kFixupBias, kBatchNorm };

struct StemBlockImpl : torch::nn::Module, SequenceBlock {
  // dims: 2 (images) or 3 (volumes: the same kernels and strides on every
  // axis, except the patch stem's `patch_strides`, one per axis; empty: 4).
  StemBlockImpl(StemKind kind, StemNorm norm, int64_t in_channels, int64_t width, int64_t dims = 2,
                std::vector<int64_t> patch_strides = {});

  bool invertible() const override { return false; }
  // One conv, ReLU and max-pool on the image: a fraction of one block's cost.
  // BatchNorm would update its running statistics twice.
  bool cheap_to_recompute() const override { return norm == StemNorm::kFixupBias; }
  TensorVector step_parameters() override;
  torch::Tensor apply(const torch::Tensor& x, const TensorVector& p) const override;
  // A Fixup-bias patch stem's by hand (models/patch_conv_gradients.h): no
  // autograd, no unfolded input. Other stems recompute with autograd.
  Gradients gradients(const torch::Tensor& x, const TensorVector& p, const torch::Tensor& grad_y,
                      bool input_needs_grad, bool grad_y_reusable) const override;
  // Fixup-bias stems only: a BatchNorm stem is reported as unsupported.
  int describe(InferenceGraph& graph, int x, const std::string& scope) override;

  // Per spatial axis; the same on every axis except an anisotropic patch stem's.
  std::vector<int64_t> strides() const;
  int64_t padding() const;

  StemKind kind;
  StemNorm norm;
  int64_t width;
  int64_t dims;
  std::vector<int64_t> patch_strides;  // kPatch: its kernel and stride per axis
  torch::Tensor weight, bias;          // conv weight; Fixup's scalar bias
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(StemBlock);

}  // namespace revup
