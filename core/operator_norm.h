#pragma once
// The l2 operator norm of a stride-1 zero-padded 2D or 3D convolution,
// computed independently of the spectral norm's power iteration: what tests
// and `bench lipschitz` measure the estimator against.
//
// A zero-padded convolution on any input is a restriction of the circular one
// on a grid >= n + k - 1 per axis, whose singular values are those of the
// kernel's transfer matrices K(w) = sum_p W[:, :, p] e^{-i w.p} (p over the
// kernel's taps, in 2 or 3 axes). So sup_w ||K(w)||_2 bounds the layer at
// every input size. We take the maximum over a fine grid of frequencies
// exactly (the largest eigenvalue of K(w)^H K(w) at each), and turn it into an
// upper bound on the supremum with the same proven sampling margin the
// estimator uses (1.0024 for 3x3 kernels on a 128 grid, exact for 1x1).
#include <torch/torch.h>

namespace revup {

// From the maximum of ||K(w)||_2 over a `grid`^dims frequency grid to its
// supremum over all frequencies, for a kernel of side k in `dims` axes.
// v* K(w)* K(w) v is a trigonometric polynomial of degree d = k - 1 per axis;
// at its maximum, the nearest grid point lies within pi / grid per axis, and
// Bernstein's inequality bounds every second derivative by d^2 times the
// supremum, so the grid keeps 1 - dims^2 pi^2 d^2 / (2 grid^2) of it. The
// margin is 1 / sqrt of that: 1.041 for 3x3 on a 32 grid, 1.100 for 3x3x3 on
// a 32^3 grid, 1 for 1x1; -1 when the grid is too coarse for the kernel.
double sampling_margin(int64_t kernel_size, int64_t grid, int64_t dims = 2);
// The coarsest grid with a margin for that kernel: the first G > dims pi (k - 1) / sqrt(2).
int64_t coarsest_grid(int64_t kernel_size, int64_t dims = 2);

// Max over the grid^dims frequency grid of ||K(w)||_2 (no margin): the norm of
// the circular convolution on that grid. Weight [out, in, k, k] or
// [out, in, k, k, k].
double circular_conv_norm(const torch::Tensor& weight, int64_t grid);

// An upper bound on ||conv||_2 at every input size: circular_conv_norm times
// the sampling margin. Weight [out, in, k, k] or [out, in, k, k, k].
double conv_operator_norm(const torch::Tensor& weight, int64_t grid = 128);

}  // namespace revup
