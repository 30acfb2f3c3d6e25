#pragma once
// Fixup's residual branch as a pure function, shared by every block family.
//
// For m convolutions (basic m = 2: 3x3, 3x3; bottleneck m = 3: 1x1, 3x3, 1x1):
//   h = conv_j(h + bias_ja)            for each j, stride on the 3x3 conv
//   h = relu(h + bias_jb)              between convolutions
//   h = h * scale + bias_mb            after the last one
// Parameters in order: w_1..w_m, then bias_1a, bias_1b, ..., bias_ma, bias_mb, scale.
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

torch::Tensor fixup_branch(const BranchShape& shape, const torch::Tensor& x, const TensorVector& p);

}  // namespace revup
