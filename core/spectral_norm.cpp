#include "core/spectral_norm.h"

#include <cmath>
#include <stdexcept>

namespace revup {
namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr double kDegenerate = 1e-12;

torch::Tensor unit(const torch::Tensor& t) { return t / t.norm().clamp_min(kDegenerate); }
}  // namespace

SpectralNormConv2dImpl::SpectralNormConv2dImpl(int64_t in_channels, int64_t out_channels,
                                               int64_t kernel_size_, SpectralNormOptions opts)
    : kernel_size(kernel_size_), options(opts) {
  if (kernel_size % 2 == 0) throw std::invalid_argument("spectral norm needs an odd kernel size");
  if (sampling_margin(kernel_size, options.grid) <= 0) {
    throw std::invalid_argument("spectral norm grid too small for the kernel size");
  }
  weight = register_parameter("weight",
                              torch::empty({out_channels, in_channels, kernel_size, kernel_size}));
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  // A 1x1 kernel's transfer matrix is the same at every frequency: a 1 x 1 grid is exact.
  const int64_t g = kernel_size == 1 ? 1 : options.grid;
  probe = register_buffer("probe", unit(torch::randn({1, in_channels, g, g})));
}

double SpectralNormConv2dImpl::sampling_margin(int64_t k, int grid) {
  const double d = static_cast<double>(k - 1);
  if (d == 0) return 1.0;
  const double keep = 1.0 - 2.0 * kPi * kPi * d * d / (static_cast<double>(grid) * grid);
  return keep > 0 ? 1.0 / std::sqrt(keep) : -1.0;
}

torch::Tensor SpectralNormConv2dImpl::circular_conv(const torch::Tensor& x,
                                                    const torch::Tensor& w) const {
  const int64_t p = kernel_size / 2;
  if (p == 0) return torch::conv2d(x, w);
  namespace F = torch::nn::functional;
  const auto padded = F::pad(x, F::PadFuncOptions({p, p, p, p}).mode(torch::kCircular));
  return torch::conv2d(padded, w);
}

torch::Tensor SpectralNormConv2dImpl::circular_conv_adjoint(const torch::Tensor& y,
                                                            const torch::Tensor& w) const {
  // The adjoint of a circular correlation is the circular correlation with the
  // kernel transposed (in <-> out) and flipped.
  return circular_conv(y, w.transpose(0, 1).flip({2, 3}));
}

void SpectralNormConv2dImpl::reseed_probe() { probe.copy_(unit(torch::randn_like(probe))); }

void SpectralNormConv2dImpl::power_iterate(int n) {
  torch::NoGradGuard no_grad;
  const auto w = weight.detach();
  if (probe.norm().item<double>() < kDegenerate) reseed_probe();
  for (int i = 0; i < n; ++i) {
    const auto v = circular_conv(probe, w);
    // Fixup zero-initializes the last conv: W u = 0 would collapse the vector
    // to zero for good and switch normalization off once W grows. Keep u then.
    if (v.norm().item<double>() < kDegenerate) return;
    const auto u = circular_conv_adjoint(unit(v), w);
    if (u.norm().item<double>() < kDegenerate) return;
    probe.copy_(unit(u));
  }
}

torch::Tensor SpectralNormConv2dImpl::sigma_grid(const torch::Tensor& w,
                                                 const torch::Tensor& u) const {
  // sigma = <v, W u> with u, v held fixed (as torch's spectral_norm does) is
  // linear in W: sigma = sum(W * G), G = d<v, W u>/dW. Written that way the
  // graph holds G, not the probe convolution's activations.
  torch::Tensor direction;
  {
    torch::AutoGradMode enable(true);
    auto leaf = w.detach().requires_grad_(true);
    const auto v = circular_conv(u, leaf);
    const auto projection = (v.detach() / v.detach().norm().clamp_min(kDegenerate) * v).sum();
    direction = torch::autograd::grad({projection}, {leaf})[0];
  }
  return (w * direction).sum();
}

double SpectralNormConv2dImpl::sigma_bound() {
  torch::NoGradGuard no_grad;
  return sigma_grid(weight, probe).item<double>() * sampling_margin(kernel_size, options.grid);
}

void SpectralNormConv2dImpl::step() {
  if (is_training()) power_iterate(options.power_iterations);
}

torch::Tensor SpectralNormConv2dImpl::divisor(const torch::Tensor& w, const torch::Tensor& u,
                                              const torch::Tensor& gain) const {
  auto sigma = sigma_grid(w, u) * sampling_margin(kernel_size, options.grid);
  if (gain.defined()) sigma = sigma * gain.abs();
  return torch::clamp_min(sigma / options.coeff, 1.0);
}

torch::Tensor SpectralNormConv2dImpl::divisor(const torch::Tensor& gain) {
  step();
  return divisor(weight, probe, gain);
}

torch::Tensor SpectralNormConv2dImpl::normalized_weight(const torch::Tensor& gain) {
  return weight / divisor(gain);
}

}  // namespace revup
