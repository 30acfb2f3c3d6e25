#pragma once
// The l2 operator norm of a stride-1 zero-padded 2D convolution, computed
// independently of the spectral norm's power iteration: what tests and
// `bench lipschitz` measure the estimator against.
//
// A zero-padded convolution on any n x n input is a restriction of the
// circular one on a grid >= n + k - 1, whose singular values are those of the
// kernel's transfer matrices K(w) = sum_ab W[:, :, a, b] e^{-i(w1 a + w2 b)}.
// So sup_w ||K(w)||_2 bounds the layer at every input size. We take the
// maximum over a fine N x N grid of frequencies exactly (the largest
// eigenvalue of K(w)^H K(w) at each), and turn it into an upper bound on the
// supremum with the same proven sampling margin the estimator uses
// (SpectralNormConv2dImpl::sampling_margin: 1.0024 for 3x3 kernels on a
// 128 grid, exact for 1x1).
#include <torch/torch.h>

namespace revup {

// Max over an N x N frequency grid of ||K(w)||_2 (no margin): the norm of the
// circular convolution on that grid.
double circular_conv_norm(const torch::Tensor& weight, int64_t grid);

// An upper bound on ||conv||_2 at every input size: circular_conv_norm on a
// `grid` x `grid` grid times the sampling margin. Weight [out, in, k, k], k odd.
double conv_operator_norm(const torch::Tensor& weight, int64_t grid = 128);

}  // namespace revup
