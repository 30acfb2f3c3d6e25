#pragma once
// Gradients of a convolution whose kernel equals its stride on every axis (a
// patch stem: the patches tile the input, padding 0), computed tap by tap
// without autograd and without an unfolded input.
//
// Why: every input voxel feeds one output voxel through one tap, so for each
// tap t (an offset inside the patch) the convolution is a 1x1 convolution of
// the strided view x[:, :, t_0::s_0, t_1::s_1, ...]. Its weight gradient is
// grad_out times that view, its input gradient the tap's weights times
// grad_out, written into the view. The scratch is one tap's view (the input
// divided by the patch volume). LibTorch's conv3d backward under autograd
// allocated two tensors of 256 MiB per step for a 256^3 volume here, the 3D
// step's peak.
#include <torch/torch.h>

namespace revup {

struct PatchConvGradients {
  torch::Tensor input, weight;  // undefined where not wanted
};

// grad_output: [N, C_out, out...]; input: [N, C_in, in...] with in >= out * s
// per axis (the remainder is not read, as the convolution does not read it);
// weight: [C_out, C_in, s...]. Any floating type; the input's device.
PatchConvGradients patch_conv_gradients(const torch::Tensor& grad_output,
                                        const torch::Tensor& input, const torch::Tensor& weight,
                                        bool input_wanted, bool weight_wanted);

}  // namespace revup
