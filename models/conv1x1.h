#pragma once
// 1x1 stride-1 convolutions as matrix products, for a segmentation decoder on
// maps of full-resolution size (stride 4 of a 4K image: 47 MiB at 32 channels).
//
// Why not torch::conv2d: on CPU its oneDNN kernel reorders a 1x1 conv's input
// and output into blocked layouts, scratch the size of the maps themselves
// (at 4K the decoder's head briefly doubled the step's working memory). A 1x1
// conv is a matrix product over the pixels, which needs no copy at all.
#include <torch/torch.h>

namespace revup {

// conv2d(x, weight, bias) for a 1x1 kernel (conv3d for 1x1x1), differentiable (autograd through
// the product keeps x and the weight, as the convolution would).
torch::Tensor conv1x1(const torch::Tensor& x, const torch::Tensor& weight,
                      const torch::Tensor& bias);

// conv1x1(relu(x), weight, bias) that keeps, for backward, only relu(x), and
// takes dL/dx in the place of dL/d relu(x): autograd through relu then the
// conv holds relu(x) beside both dL/d relu(x) and a fresh dL/dx, one map more
// at the step's peak. The results equal autograd's (a float64 test holds them).
torch::Tensor relu_conv1x1(const torch::Tensor& x, const torch::Tensor& weight,
                           const torch::Tensor& bias);

}  // namespace revup
