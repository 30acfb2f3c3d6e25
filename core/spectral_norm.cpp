#include "core/spectral_norm.h"

#include <cmath>
#include <stdexcept>

#include "core/torch_compat.h"

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

torch::Tensor SpectralNormConv2dImpl::circular_pad(const torch::Tensor& x) const {
  const int64_t p = kernel_size / 2;
  if (p == 0) return x;
  namespace F = torch::nn::functional;
  return F::pad(x, F::PadFuncOptions({p, p, p, p}).mode(torch::kCircular));
}

torch::Tensor SpectralNormConv2dImpl::circular_conv(const torch::Tensor& x,
                                                    const torch::Tensor& w) const {
  return torch::conv2d(circular_pad(x), w);
}

torch::Tensor SpectralNormConv2dImpl::circular_conv_adjoint(const torch::Tensor& y,
                                                            const torch::Tensor& w) const {
  // The adjoint of a circular correlation is the circular correlation with the
  // kernel transposed (in <-> out) and flipped.
  return circular_conv(y, w.transpose(0, 1).flip({2, 3}));
}

void SpectralNormConv2dImpl::reseed_probe() { probe.copy_(unit(torch::randn_like(probe))); }

torch::Tensor SpectralNormConv2dImpl::direction_at_probe(const torch::Tensor& w,
                                                         torch::Tensor* v_unit) const {
  torch::NoGradGuard no_grad;
  const auto padded = circular_pad(probe);
  const auto v = torch::conv2d(padded, w);
  const double norm = v.norm().item<double>();
  // Fixup zero-initializes the last conv. W u = 0 gives a zero direction (sigma
  // at u is 0, which is right) and no new vector: normalizing it would collapse
  // u to zero for good and switch normalization off once W grows.
  if (norm < kDegenerate) return torch::zeros_like(w);
  *v_unit = v / norm;
  // d<v, W u>/dW is the convolution's weight gradient for grad_output v.
  return std::get<1>(compat::conv2d_backward(*v_unit, padded, w, /*stride=*/1, /*padding=*/0,
                                             {false, true, false}));
}

torch::Tensor SpectralNormConv2dImpl::iterate(const torch::Tensor& w) {
  torch::NoGradGuard no_grad;
  if (probe.norm().item<double>() < kDegenerate) reseed_probe();
  torch::Tensor v_unit;
  auto direction = direction_at_probe(w, &v_unit);
  if (v_unit.defined()) {
    const auto u = circular_conv_adjoint(v_unit, w);
    if (u.norm().item<double>() >= kDegenerate) probe.copy_(unit(u));
  }
  return direction;
}

void SpectralNormConv2dImpl::power_iterate(int n) {
  const auto w = weight.detach();
  for (int i = 0; i < n; ++i) iterate(w);
}

torch::Tensor SpectralNormConv2dImpl::direction() const {
  torch::Tensor unused;
  return direction_at_probe(weight.detach(), &unused);
}

double SpectralNormConv2dImpl::sigma_bound() const {
  torch::NoGradGuard no_grad;
  return (weight * direction()).sum().item<double>() * sampling_margin(kernel_size, options.grid);
}

torch::Tensor SpectralNormConv2dImpl::step() {
  if (!is_training() || options.power_iterations < 1) return direction();
  power_iterate(options.power_iterations - 1);
  // The last iteration's direction is taken at the vector it starts from: one
  // convolution fewer per step. Power iteration approaches sigma from below
  // either way, and c < 1 covers that lag.
  return iterate(weight.detach());
}

torch::Tensor SpectralNormConv2dImpl::divisor(const torch::Tensor& w,
                                              const torch::Tensor& direction,
                                              const torch::Tensor& gain) const {
  auto sigma = (w * direction).sum() * sampling_margin(kernel_size, options.grid);
  if (gain.defined()) sigma = sigma * gain.abs();
  return torch::clamp_min(sigma / options.coeff, 1.0);
}

torch::Tensor SpectralNormConv2dImpl::divisor(const torch::Tensor& gain) {
  return divisor(weight, step(), gain);
}

torch::Tensor SpectralNormConv2dImpl::normalized_weight(const torch::Tensor& gain) {
  return weight / divisor(gain);
}

}  // namespace revup
