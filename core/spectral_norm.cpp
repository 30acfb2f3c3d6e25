#include "core/spectral_norm.h"

#include <cmath>
#include <stdexcept>

#include "core/torch_compat.h"

namespace revup {
namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr double kDegenerate = 1e-12;
// Extra power iterations on a step whose estimate still rose by more than
// kCatchUpTolerance (relative), at most kMaxCatchUpIterations.
constexpr double kCatchUpTolerance = 1e-4;
constexpr int kMaxCatchUpIterations = 16;

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
  probe = register_buffer("probe", torch::zeros({1, in_channels, g, g}));
  reseed_probe();
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

// The probe is kept as one unit vector per grid frequency (in the Fourier
// domain of the circular convolution, where the operator is block diagonal:
// fft2(W * x)(f) = K(f) fft2(x)(f)). Power iteration then runs on every
// frequency's small matrix K(f) at once, and the estimate is the largest of
// them. Iterating on the whole operator instead converges at the rate of its
// two largest singular values, which are nearly equal for any convolution
// (neighbouring frequencies): measured during ordinary training with one
// iteration per step, that probe fell 20-40 % behind sigma and the blocks
// stopped being contractive (bench lipschitz). Each frequency's matrix has a
// real gap, so one iteration a step keeps up. The cost is the same circular
// convolution and its adjoint, plus FFTs of the probe-sized tensors.
namespace {

// Per frequency: X(f) / |X(f)| where |X(f)| > 0, else `fallback`(f).
torch::Tensor unit_per_frequency(const torch::Tensor& x, const torch::Tensor& fallback) {
  const auto norms = x.abs().square().sum(0, /*keepdim=*/true).sqrt();
  const auto ok = norms.gt(kDegenerate);
  return torch::where(ok, x / norms.clamp_min(kDegenerate), fallback);
}

}  // namespace

torch::Tensor SpectralNormConv2dImpl::probe_spectrum() const {
  // In the probe's precision: these tensors are probe-sized (a few hundred kB
  // for 64 channels) but live while a block's activations do.
  return torch::fft::fft2(probe[0]);  // [in, G, G] complex
}

void SpectralNormConv2dImpl::set_probe_spectrum(const torch::Tensor& spectrum) {
  // Unit vectors per frequency keep the spectrum Hermitian: the probe stays real.
  probe.copy_(torch::real(torch::fft::ifft2(spectrum)).unsqueeze(0).to(probe.scalar_type()));
}

void SpectralNormConv2dImpl::reseed_probe() {
  torch::NoGradGuard no_grad;
  const auto spectrum = torch::fft::fft2(torch::randn_like(probe[0]));
  set_probe_spectrum(unit_per_frequency(spectrum, spectrum));
}

torch::Tensor SpectralNormConv2dImpl::direction_at_probe(const torch::Tensor& w,
                                                         torch::Tensor* v_unit) const {
  torch::NoGradGuard no_grad;
  const auto u = probe_spectrum();                        // unit per frequency
  auto y = torch::fft::fft2(circular_conv(probe, w)[0]);  // K(f) u(f)
  const auto sigma_f = y.abs().square().sum(0).sqrt();    // [G, G]: |K(f) u(f)|
  const int64_t best = sigma_f.flatten().argmax().item<int64_t>();
  const double sigma = sigma_f.flatten()[best].item<double>();
  // Fixup zero-initializes the last conv. W u = 0 gives a zero direction (sigma
  // at u is 0, which is right) and no new vector: normalizing it would collapse
  // u to zero for good and switch normalization off once W grows.
  if (sigma < kDegenerate) return torch::zeros_like(w);
  const int64_t g = sigma_f.size(1), f1 = best / g, f2 = best % g;
  const auto u_best = u.index({torch::indexing::Slice(), f1, f2});          // [in]
  const auto v_best = y.index({torch::indexing::Slice(), f1, f2}) / sigma;  // [out]
  if (v_unit != nullptr) *v_unit = y.div_(sigma_f.clamp_min(kDegenerate));  // per frequency
  // sigma = Re(v^H K(f) u) with K(f) = sum_ab W_ab exp(2 pi i (f1 (a - p) + f2 (b - p)) / G)
  // (conv2d correlates; circular padding p): linear in W, so its gradient G
  // is Re(conj(v_o) u_i exp(...)) and sigma = sum(W * G) exactly.
  const int64_t k = kernel_size, p = k / 2;
  const auto real = torch::TensorOptions().dtype(probe.scalar_type()).device(w.device());
  const auto taps = torch::arange(k, real) - static_cast<double>(p);
  const double step = 2.0 * kPi / static_cast<double>(g);
  const auto phase =
      torch::polar(torch::ones({k, k}, real), step * (static_cast<double>(f1) * taps.unsqueeze(1) +
                                                      static_cast<double>(f2) * taps.unsqueeze(0)));
  const auto outer = v_best.conj().unsqueeze(1) * u_best.unsqueeze(0);  // [out, in]
  return torch::real(outer.unsqueeze(-1).unsqueeze(-1) * phase).to(w.scalar_type());
}

torch::Tensor SpectralNormConv2dImpl::iterate(const torch::Tensor& w, double* sigma_before) {
  torch::NoGradGuard no_grad;
  if (probe.norm().item<double>() < kDegenerate) reseed_probe();
  torch::Tensor v_unit;
  const auto g_before = direction_at_probe(w, &v_unit);
  if (sigma_before != nullptr) *sigma_before = (w * g_before).sum().item<double>();
  if (v_unit.defined()) {
    // u(f) = unit(K(f)^H v(f)) for every frequency at once.
    const auto back = circular_conv_adjoint(
        torch::real(torch::fft::ifft2(v_unit)).unsqueeze(0).to(probe.scalar_type()), w);
    v_unit = torch::Tensor();
    set_probe_spectrum(unit_per_frequency(torch::fft::fft2(back[0]), probe_spectrum()));
  }
  // sigma at the updated vector: the closer of the two.
  return direction_at_probe(w, nullptr);
}

void SpectralNormConv2dImpl::power_iterate(int n) {
  const auto w = weight.detach();
  for (int i = 0; i < n; ++i) iterate(w);
}

torch::Tensor SpectralNormConv2dImpl::direction() const {
  return direction_at_probe(weight.detach(), nullptr);
}

double SpectralNormConv2dImpl::sigma_bound() const {
  torch::NoGradGuard no_grad;
  return (weight * direction()).sum().item<double>() * sampling_margin(kernel_size, options.grid);
}

torch::Tensor SpectralNormConv2dImpl::step() {
  if (!is_training() || options.power_iterations < 1) return direction();
  const auto w = weight.detach();
  power_iterate(options.power_iterations - 1);
  // An iteration that still raises the estimate means the probe lags behind
  // weights the optimizer moved: keep iterating while it does (a few extra
  // probe-sized convolutions, only on such steps), so sigma is not read low.
  double before = 0;
  auto g = iterate(w, &before);
  for (int extra = 0; extra < kMaxCatchUpIterations; ++extra) {
    const double after = (w * g).sum().item<double>();
    if (after <= before * (1.0 + kCatchUpTolerance)) break;
    before = after;
    g = iterate(w);
  }
  return g;
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
