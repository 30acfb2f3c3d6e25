#pragma once
// Fixup's residual branch as a pure function, shared by every block family.
//
// For m convolutions (basic m = 2: 3x3, 3x3; bottleneck m = 3: 1x1, 3x3, 1x1):
//   h = conv_j(h + bias_ja)            for each j, stride on the 3x3 conv
//   h = relu(h + bias_jb)              between convolutions
//   h = h * scale + bias_mb            after the last one
// Parameters in order: w_1..w_m, then bias_1a, bias_1b, ..., bias_ma, bias_mb, scale.
//
// Computed with as few full-size tensors as the algebra allows, because at 4K
// every one of them is hundreds of megabytes: post-conv biases and the scale
// go into the convolution (bias vector, scaled weight), a pre-conv bias of a
// 1x1 conv too (conv(h + b) = conv(h) + b * sum(W), exact without padding),
// and ReLUs run in place. The results equal the literal formula above.
#include <torch/torch.h>

#include <vector>

#include "core/sequence_block.h"

namespace revup {

enum class BlockKind { kBasic, kBottleneck };

struct BranchShape {
  BlockKind kind = BlockKind::kBasic;
  int64_t in = 0, mid = 0, out = 0, stride = 1;

  int convs() const { return kind == BlockKind::kBasic ? 2 : 3; }
  std::vector<int64_t> kernels() const;
  std::vector<int64_t> channels() const;  // m + 1 entries: in, ..., out
  int64_t stride_of(int j) const;         // the 3x3 conv carries the stride
};

// Registers Fixup scalars (2m biases at 0, a scale at 1) on `module`, in order.
TensorVector register_fixup_scalars(torch::nn::Module& module, int convs);

// Fixup init: He (fan-out) scaled by L^(-1/(2m-2)) for all but the last conv,
// which is zero. `weights` are the raw parameters in branch order.
void fixup_init(const TensorVector& weights, int64_t total_blocks);

// The branch's last convolution, not yet run: an invertible block's backward
// runs it by hand so that its full-size output never exists.
struct LastConv {
  torch::Tensor input;   // what the conv reads (a 3x3 conv's pre-bias already added)
  torch::Tensor weight;  // Fixup's scale folded in
  torch::Tensor bias;    // [out]
  int64_t stride = 1, padding = 0;
  torch::Tensor run() const;
};

LastConv fixup_branch_body(const BranchShape& shape, const torch::Tensor& x, const TensorVector& p);
torch::Tensor fixup_branch(const BranchShape& shape, const torch::Tensor& x, const TensorVector& p);

}  // namespace revup
