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

#include <string>
#include <vector>

#include "core/sequence_block.h"

namespace revup {

enum class BlockKind { kBasic, kBottleneck };

struct BranchShape {
  BlockKind kind = BlockKind::kBasic;
  int64_t in = 0, mid = 0, out = 0, stride = 1;
  int64_t dims = 2;  // spatial axes: 2 (images, Conv2d) or 3 (volumes, Conv3d)

  int convs() const { return kind == BlockKind::kBasic ? 2 : 3; }
  std::vector<int64_t> kernels() const;
  std::vector<int64_t> channels() const;  // m + 1 entries: in, ..., out
  int64_t stride_of(int j) const;         // the 3x3 conv carries the stride
};

// conv2d or conv3d, by the weight's dimensionality; stride and padding on every
// axis. A 3D one runs in slabs on the CPU (core/conv3d_slabs.h).
torch::Tensor convolution(const torch::Tensor& x, const torch::Tensor& weight,
                          const torch::Tensor& bias, int64_t stride, int64_t padding);
// Sum over every axis but the channels' (axis 1): a conv's bias gradient.
torch::Tensor sum_but_channels(const torch::Tensor& t);
// A [out, in] matrix as a 1x1 (or 1x1x1) kernel of `dims` spatial axes.
torch::Tensor as_pointwise_kernel(const torch::Tensor& matrix, int64_t dims);

// Registers Fixup scalars (2m biases at 0, a scale at 1) on `module`, in order.
TensorVector register_fixup_scalars(torch::nn::Module& module, int convs);

// Fixup init: He (fan-out) scaled by L^(-1/(2m-2)) for all but the last conv,
// which is zero. `weights` are the raw parameters in branch order.
void fixup_init(const TensorVector& weights, int64_t total_blocks);

// Convolution j of a branch with Fixup's scalars folded in: `weight` carries
// the scale (last conv), `bias` the post-bias and, for a 1x1 kernel, the
// pre-bias; otherwise `pre` must be added to the input first.
struct BranchConv {
  torch::Tensor weight, bias, pre;
  bool pre_in_bias = false;
  int64_t stride = 1, padding = 0;

  torch::Tensor input_from(const torch::Tensor& h) const { return pre_in_bias ? h : h + pre; }
  torch::Tensor run(const torch::Tensor& input) const;
};
BranchConv branch_conv(const BranchShape& shape, const TensorVector& p, int j);

// Runs convolutions first..end-1 on h, each but the branch's last followed by
// its ReLU (h is the input of conv `first`; for first > 0, the ReLU output that
// conv reads). Takes h by value so the caller's full-size input is released
// after the first convolution. `input_owned`: h is a temporary nothing else
// reads, which may then be written in place when there is no graph to build.
torch::Tensor fixup_branch_from(const BranchShape& shape, torch::Tensor h, const TensorVector& p,
                                int first, int end, bool input_owned = false);
torch::Tensor fixup_branch(const BranchShape& shape, torch::Tensor x, const TensorVector& p);
// Full-size tensors that band-wise helpers below never build whole are
// processed in bands of rows (of slabs, for volumes: the first spatial axis)
// of at most this many bytes.
constexpr std::int64_t kReluBandBytes = 32ll << 20;
// fixup_branch(shape, relu(x), p). Without a graph to build (MemSave's
// forward, its inverse, its backward's recompute) a first 1x1 conv reads
// relu(x) band by band, so that tensor, the size of x, never exists whole.
torch::Tensor fixup_branch_of_relu(const BranchShape& shape, const torch::Tensor& x,
                                   const TensorVector& p);
// out -= fixup_branch_of_relu(shape, x, p) in place, returning the branch's
// norm (no graph), for a branch whose last conv is 1x1 with stride 1 (the
// bottleneck's: subtracts_last_conv_in_bands) and a contiguous `out`. That conv
// is computed and subtracted band by band, so the branch's output never exists
// whole; x may be out itself, as every read of x comes before the first write.
bool subtracts_last_conv_in_bands(const BranchShape& shape);
double subtract_fixup_branch_of_relu(const BranchShape& shape, torch::Tensor& out,
                                     const torch::Tensor& x, const TensorVector& p,
                                     std::int64_t band_bytes = kReluBandBytes);

// fixup_branch as plain ops for export, from the same branch_conv folding (so
// the same numbers): a 3x3 conv's pre-bias stays an add, since folding it into
// the conv's bias would be wrong at zero-padded borders. Returns the output value.
int describe_fixup_branch(InferenceGraph& graph, const BranchShape& shape, const TensorVector& p,
                          int x, const std::string& scope);

// A stride-1 1x1 convolution's gradients as batched matrix products: no layout
// conversions or scratch buffers the size of the tensors involved.
torch::Tensor conv1x1_input_grad(const torch::Tensor& grad_out, const torch::Tensor& weight);
torch::Tensor conv1x1_weight_grad(const torch::Tensor& grad_out, const torch::Tensor& input);

// convolution(relu(x), weight, bias) for a 1x1 stride-1 conv, and
// conv1x1_weight_grad(grad_out, relu(x)), computed over bands of rows of at most
// `band_bytes` of x each (no autograd): relu(x) exists one band at a time.
torch::Tensor conv1x1_of_relu(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, std::int64_t band_bytes = kReluBandBytes);
torch::Tensor conv1x1_weight_grad_of_relu(const torch::Tensor& grad_out, const torch::Tensor& x,
                                          std::int64_t band_bytes = kReluBandBytes);
// target += relu'(x) * conv1x1_input_grad(grad_out, weight), in bands of
// `target` of at most `band_bytes` (no autograd): the input gradient of a 1x1
// conv that reads relu(x), added into a gradient already there, without a
// tensor the size of x. target: contiguous, shaped like x.
void add_conv1x1_input_grad_through_relu_(torch::Tensor& target, const torch::Tensor& grad_out,
                                          const torch::Tensor& weight, const torch::Tensor& x,
                                          std::int64_t band_bytes = kReluBandBytes);

}  // namespace revup
