#pragma once
// Spectral normalization of a stride-1 convolution with a bound that holds at
// every input size, at a cost that does not depend on the training image.
//
// Why not i-ResNet's probe: a zero-padded convolution on an n x n input is a
// restriction of the circular convolution on any grid >= n + k - 1, whose
// singular values are those of the kernel's transfer matrices K(w) at that
// grid's frequencies. So sup_w ||K(w)|| bounds the layer at every size. We run
// power iteration on the circular convolution of a small fixed grid (G x G,
// default 32), which converges to the maximum over the grid frequencies, and
// turn that into a bound on the supremum with a proven sampling margin:
//   for the trigonometric polynomial q(w) = v* K(w)* K(w) v of degree d = k - 1
//   per axis, Bernstein's inequality for its second derivative at the maximum
//   gives  max_grid q >= sup q * (1 - 2 pi^2 d^2 / G^2).
// The estimate is sigma_grid / sqrt(1 - 2 pi^2 d^2 / G^2) (4 % above sigma_grid
// for 3x3 kernels on a 32 grid; exact for 1x1). Power iteration itself
// approaches sigma_grid from below, as in the paper, and c < 1 covers that lag.
#include <torch/torch.h>

namespace revup {

struct SpectralNormOptions {
  double coeff = 0.9;          // c: target Lipschitz constant of the layer
  int power_iterations = 1;    // P per training step
  int grid = 32;               // G: side of the circular probe grid
  int warmup_iterations = 50;  // when the vectors are (re)seeded
};

struct SpectralNormConv2dImpl : torch::nn::Module {
  SpectralNormConv2dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                         SpectralNormOptions options = {});

  // Once per training step (a no-op in eval mode): P power iterations on the
  // persistent probe vector.
  void step();

  // max(1, gain * sigma_bound(w, probe) / c), differentiable in w and gain.
  // A pure function of its inputs, so MemSave can recompute it in backward from
  // the same probe instead of keeping anything weight-sized per layer alive.
  // `gain` folds a multiplier that follows the conv (Fixup's scale) into the bound.
  torch::Tensor divisor(const torch::Tensor& w, const torch::Tensor& probe,
                        const torch::Tensor& gain = {}) const;

  // step(), then weight / divisor(weight, probe, gain): for use outside MemSave.
  torch::Tensor normalized_weight(const torch::Tensor& gain = {});
  torch::Tensor divisor(const torch::Tensor& gain = {});

  // Runs n power iterations without touching the weight (for warm-up and tests).
  void power_iterate(int n);
  // The current bound on ||conv||_2 at any input size (no grad).
  double sigma_bound();
  // Factor from the grid maximum to the supremum over all frequencies.
  static double sampling_margin(int64_t kernel_size, int grid);

  torch::Tensor weight;  // raw parameter [out, in, k, k]
  torch::Tensor probe;   // persistent power-iteration vector [1, in, G, G]
  int64_t kernel_size;
  SpectralNormOptions options;

 private:
  torch::Tensor circular_conv(const torch::Tensor& x, const torch::Tensor& w) const;
  torch::Tensor circular_conv_adjoint(const torch::Tensor& y, const torch::Tensor& w) const;
  torch::Tensor sigma_grid(const torch::Tensor& w, const torch::Tensor& u) const;
  void reseed_probe();
};
TORCH_MODULE(SpectralNormConv2d);

}  // namespace revup
