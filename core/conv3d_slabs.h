#pragma once
// 3D convolutions on the CPU in slabs of output planes, so that their scratch
// stays bounded whatever the volume.
//
// Why: LibTorch's CPU conv3d (slow_conv3d, forward and backward; Debian's 1.13
// has no oneDNN path for it) unfolds its whole input first, a buffer of
// k^3 times the input: 27 MiB for a [1, 8, 32, 32, 32] activation, 1.5 GiB for
// 16 channels of a 181 x 217 x 181 brain at stride 2. That buffer, not the
// activations, would set a 3D step's peak. Computed over slabs of output
// planes (each reads its planes' receptive field, zero planes beyond the
// borders), the unfolded buffer is one slab's, at most `budget_bytes`. The
// results equal the whole convolution's (the slabs partition the output; the
// input gradient sums the overlapping receptive fields). On a GPU (cuDNN) and
// when one slab covers the volume, the whole convolution runs as it is.
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <tuple>

namespace revup {

// The unfolded buffer of one slab stays below this (at least one plane).
// Without a graph (MemSave's forward, inverse and hand-written backward) a
// slab costs nothing beyond its scratch, so slabs are small: 8 MiB instead of
// 32 took 21 MiB off a 256^3 step at the same speed.
constexpr std::int64_t kConvSlabBytes = 8ll << 20;
// Under autograd each slab's input window is a narrow of the input, whose
// backward fills a gradient the size of the whole input: 8 MiB slabs made
// ResNet+Fixup's 256^3 step 32 % slower (756 instead of 786 MiB).
constexpr std::int64_t kConvSlabBytesWithGraph = 32ll << 20;
// The hand-written backward's slabs: 4 MiB. At ch2 (bench seg3d) the
// downsampling block's backward into stage 1's 16 channels was the step's
// peak once the head moved into the loss: 8 MiB slabs held 2.2 MiB more, at
// the same speed (13.4 and 13.5 s a step).
constexpr std::int64_t kConvSlabBackwardBytes = 4ll << 20;

// conv3d(x, weight, bias, stride, padding) with the same stride and padding on
// every axis; budget_bytes 0: one of the two above, by grad mode.
torch::Tensor conv3d_in_slabs(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, int64_t stride, int64_t padding,
                              std::int64_t budget_bytes = 0);

// Its gradients (input, weight, bias) for grad_output, those `wanted`, no graph.
// For the input's gradient only its shape is read from `input`.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> conv3d_backward_in_slabs(
    const torch::Tensor& grad_output, const torch::Tensor& input, const torch::Tensor& weight,
    int64_t stride, int64_t padding, std::array<bool, 3> wanted = {true, true, true},
    std::int64_t budget_bytes = kConvSlabBackwardBytes);

}  // namespace revup
