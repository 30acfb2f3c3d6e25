#include "core/spectral_norm.h"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "core/conv3d_slabs.h"
#include "core/math_constants.h"
#include "core/operator_norm.h"
#include "core/torch_compat.h"

namespace revup {
namespace {
constexpr double kDegenerate = 1e-12;
// Extra power iterations on a step whose estimate still rose by more than
// kCatchUpTolerance (relative), at most kMaxCatchUpIterations.
constexpr double kCatchUpTolerance = 1e-3;
constexpr int kMaxCatchUpIterations = 16;

// A 3D probe is a vector per frequency of a G^3 grid: at G = 32, 128 KiB per
// input channel, 56 MiB for the 3D cpu preset, the largest thing a whole-volume
// step keeps besides the volume. Half precision halves that; the iteration
// itself runs in the weight's precision. 2D probes are 32x smaller and stay
// float32.
torch::Dtype probe_storage_type(int64_t dims, int64_t grid) {
  return dims == 3 && grid > 1 ? torch::kHalf : torch::kFloat;
}

}  // namespace

SpectralNormConvImpl::SpectralNormConvImpl(int64_t in_channels, int64_t out_channels,
                                           int64_t kernel_size_, SpectralNormOptions opts,
                                           int64_t dims_)
    : kernel_size(kernel_size_), dims(dims_), options(opts) {
  if (dims != 2 && dims != 3) throw std::invalid_argument("spectral norm: 2 or 3 spatial axes");
  if (kernel_size % 2 == 0) throw std::invalid_argument("spectral norm needs an odd kernel size");
  if (sampling_margin() <= 0) {
    throw std::invalid_argument("spectral norm grid too small for the kernel size");
  }
  std::vector<int64_t> shape{out_channels, in_channels};
  shape.resize(2 + dims, kernel_size);
  weight = register_parameter("weight", torch::empty(shape));
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  // A 1x1 kernel's transfer matrix is the same at every frequency: a grid of one point is exact.
  const int64_t g = kernel_size == 1 ? 1 : options.grid;
  shape = {1, in_channels};
  shape.resize(2 + dims, g);
  probe = register_buffer("probe", torch::zeros(shape, probe_storage_type(dims, g)));
  reseed_probe();
}

double SpectralNormConvImpl::sampling_margin() const {
  return revup::sampling_margin(kernel_size, options.grid, dims);
}

std::vector<int64_t> SpectralNormConvImpl::spatial_axes(int64_t first) const {
  std::vector<int64_t> axes(dims);
  for (int64_t a = 0; a < dims; ++a) axes[a] = first + a;
  return axes;
}

torch::Tensor SpectralNormConvImpl::circular_pad(const torch::Tensor& x,
                                                 c10::ScalarType dtype) const {
  const int64_t p = kernel_size / 2;
  if (p == 0) return x.to(dtype);
  // One allocation, in the convolution's precision: the interior is copied
  // (and converted) once, then each axis's wrap is copied from the padded
  // tensor itself. Padding axis by axis with concatenations held the input
  // and two partly padded copies at once (3.3 probes); LibTorch 1.13's
  // circular F::pad copies slice by slice (a thousand small copies a step
  // over a RevUp-56).
  const auto axes = spatial_axes(2);
  auto sizes = x.sizes().vec();
  for (const int64_t axis : axes) sizes[axis] += 2 * p;
  auto padded = torch::empty(sizes, x.options().dtype(dtype));
  auto interior = padded;
  for (const int64_t axis : axes) interior = interior.narrow(axis, p, x.size(axis));
  interior.copy_(x);
  for (size_t a = 0; a < axes.size(); ++a) {
    // Axes before this one are padded already (their full extent wraps too);
    // axes after it are filled only inside.
    auto slab = padded;
    for (size_t later = a + 1; later < axes.size(); ++later) {
      slab = slab.narrow(axes[later], p, x.size(axes[later]));
    }
    const int64_t axis = axes[a], n = x.size(axis);
    slab.narrow(axis, 0, p).copy_(slab.narrow(axis, n, p));
    slab.narrow(axis, n + p, p).copy_(slab.narrow(axis, p, p));
  }
  return padded;
}

torch::Tensor SpectralNormConvImpl::circular_conv(torch::Tensor x, const torch::Tensor& w) const {
  // A 3D probe in slabs: unfolded whole, a 32^3 probe of 64 channels would
  // take 226 MiB of scratch a step.
  // Padded straight into w's precision: a half-precision probe is never
  // copied whole into float beside the padded one. The unpadded input is
  // released before the output exists.
  const auto padded = circular_pad(x, w.scalar_type());
  x = torch::Tensor();
  return dims == 2 ? torch::conv2d(padded, w) : conv3d_in_slabs(padded, w, {}, 1, 0);
}

torch::Tensor SpectralNormConvImpl::circular_conv_adjoint(torch::Tensor y,
                                                          const torch::Tensor& w) const {
  // The adjoint of a circular correlation is the circular correlation with the
  // kernel transposed (in <-> out) and flipped.
  return circular_conv(std::move(y), w.transpose(0, 1).flip(spatial_axes(2)));
}

// The probe is kept as one unit vector per grid frequency (in the Fourier
// domain of the circular convolution, where the operator is block diagonal:
// fft(W * x)(f) = K(f) fft(x)(f) over the spatial axes). Power iteration then runs on every
// frequency's small matrix K(f) at once, and the estimate is the largest of
// them. Iterating on the whole operator instead converges at the rate of its
// two largest singular values, which are nearly equal for any convolution
// (neighbouring frequencies): measured during ordinary training with one
// iteration per step, that probe fell 20-40 % behind sigma and the blocks
// stopped being contractive (bench lipschitz). Each frequency's matrix has a
// real gap, so one iteration a step keeps up. The cost is the same circular
// convolution and its adjoint, plus FFTs of the probe-sized tensors: real
// FFTs, since the probe is real (its spectrum is Hermitian and half of it
// says everything).
namespace {

// |X(f)| for every frequency of a spectrum [C, G, ..., G/2 + 1]: the norm over the channels.
torch::Tensor frequency_norms(const torch::Tensor& x) {
  return x.abs().square_().sum(0).sqrt_();  // one real temporary, half a spectrum
}

// Per frequency: X(f) / |X(f)| where |X(f)| > 0, else 0; the norms |X(f)| in `norms_out` when
// asked. Divides x in place: a 32^3 spectrum of 64 channels is 9 MiB, and the probe's temporaries
// were the largest part of a 3D step's peak.
torch::Tensor unit_per_frequency(torch::Tensor x, torch::Tensor* norms_out = nullptr) {
  const auto norms = frequency_norms(x).unsqueeze(0);
  const auto ok = norms.gt(kDegenerate);
  x.div_(norms.clamp_min(kDegenerate));
  x.masked_fill_(ok.logical_not(), 0);
  if (norms_out != nullptr) *norms_out = norms[0];
  return x;
}

// A spectrum kept in a lower precision than its own (a half-precision
// probe's): as the real view [C, ..., 2]. Otherwise as it is.
torch::Tensor keep_spectrum(torch::Tensor spectrum, c10::ScalarType precision) {
  if (c10::elementSize(precision) * 2 >= c10::elementSize(spectrum.scalar_type())) return spectrum;
  return torch::view_as_real(spectrum).to(precision);
}

// Frequency f (a flat index) of a spectrum [C, ...], or of one keep_spectrum
// stored as its real view, as a complex vector of `real` parts: [C].
torch::Tensor spectrum_column(const torch::Tensor& spectrum, int64_t f, c10::ScalarType real) {
  if (spectrum.is_complex()) return spectrum.flatten(1).select(1, f);
  return torch::view_as_complex(spectrum.flatten(1, -2).select(1, f).to(real).contiguous());
}

}  // namespace

torch::Tensor SpectralNormConvImpl::to_spectrum(const torch::Tensor& x) const {
  return torch::fft::rfftn(x, c10::nullopt, spatial_axes(1));  // [C, G, ..., G/2 + 1] complex
}

torch::Tensor SpectralNormConvImpl::from_spectrum(const torch::Tensor& spectrum) const {
  const std::vector<int64_t> sizes(dims, probe.size(2));
  return torch::fft::irfftn(spectrum, sizes, spatial_axes(1)).unsqueeze(0);
}

void SpectralNormConvImpl::reseed_probe() {
  torch::NoGradGuard no_grad;
  const auto spectrum = to_spectrum(torch::randn(probe[0].sizes(), weight.options()));
  // Unit vectors per frequency keep the spectrum Hermitian: the probe stays real.
  probe.copy_(from_spectrum(unit_per_frequency(spectrum)));
}

torch::Tensor SpectralNormConvImpl::direction_between(const torch::Tensor& w,
                                                      const torch::Tensor& v,
                                                      const torch::Tensor& u,
                                                      const torch::Tensor& sigma_f) const {
  const int64_t best = sigma_f.flatten().argmax().item<int64_t>();
  const double sigma = sigma_f.flatten()[best].item<double>();
  // Fixup zero-initializes the last conv. W u = 0 gives a zero direction (sigma
  // at u is 0, which is right) and no new vector: normalizing it would collapse
  // u to zero for good and switch normalization off once W grows.
  if (sigma < kDegenerate) return torch::zeros_like(w);
  // Unit: rounded to half precision, a vector is so only to ~1e-4.
  const auto unit = [](const torch::Tensor& x) { return x / x.abs().square().sum().sqrt(); };
  const auto v_best = unit(spectrum_column(v, best, w.scalar_type()));  // [out]
  const auto u_best = unit(spectrum_column(u, best, w.scalar_type()));  // [in]
  // sigma = Re(v^H K(f) u) with K(f) = sum_t W_t exp(2 pi i f.(t - p) / G) over
  // the taps t (conv correlates; circular padding p): linear in W, so its
  // gradient G is Re(conj(v_o) u_i exp(...)) and sigma = sum(W * G) exactly.
  const int64_t k = kernel_size, p = k / 2, g = probe.size(2);
  const auto real = torch::TensorOptions().dtype(w.scalar_type()).device(w.device());
  const auto taps = torch::arange(k, real) - static_cast<double>(p);
  const double step = 2.0 * kPi / static_cast<double>(g);
  // The frequency's index on each axis, from the last (the half axis) back.
  auto angle = torch::zeros(std::vector<int64_t>(dims, k), real);
  int64_t rest = best;
  for (int64_t axis = dims - 1; axis >= 0; --axis) {
    const int64_t extent = sigma_f.size(axis);
    std::vector<int64_t> along(dims, 1);
    along[axis] = k;
    angle = angle + step * static_cast<double>(rest % extent) * taps.view(along);
    rest /= extent;
  }
  const auto phase = torch::polar(torch::ones_like(angle), angle);
  const auto outer = v_best.conj().unsqueeze(1) * u_best.unsqueeze(0);  // [out, in]
  std::vector<int64_t> broadcast{outer.size(0), outer.size(1)};
  broadcast.resize(2 + dims, 1);
  return torch::real(outer.view(broadcast) * phase).to(w.scalar_type());
}

torch::Tensor SpectralNormConvImpl::direction_at_probe(const torch::Tensor& w) const {
  torch::NoGradGuard no_grad;
  const auto u = to_spectrum(probe[0].to(w.scalar_type()));  // unit per frequency, up to rounding
  torch::Tensor sigma_f;                                     // |K(f) u(f)|
  const auto v = unit_per_frequency(to_spectrum(circular_conv(probe, w)[0]), &sigma_f);
  if (stored_in_lower_precision(w)) {
    sigma_f.div_(frequency_norms(u).clamp_min(kDegenerate));
  }
  return direction_between(w, v, u, sigma_f);
}

torch::Tensor SpectralNormConvImpl::iterate(const torch::Tensor& w, double* sigma_before) {
  torch::NoGradGuard no_grad;
  if (probe.to(w.scalar_type()).norm().item<double>() < kDegenerate) reseed_probe();
  // v(f) = unit(K(f) u(f)); where K(f) u(f) = 0, v(f) = 0 and u(f) stays.
  torch::Tensor sigma_u;
  // Two statements: the convolution's output is gone before the norms' temporaries exist.
  auto v = to_spectrum(circular_conv(probe, w)[0]);
  v = unit_per_frequency(std::move(v), &sigma_u);
  if (sigma_before != nullptr) {
    if (stored_in_lower_precision(w)) {
      const auto u = to_spectrum(probe[0].to(w.scalar_type()));
      sigma_u.div_(frequency_norms(u).clamp_min(kDegenerate));
    }
    *sigma_before = sigma_u.max().item<double>();
  }
  // u'(f) = unit(K(f)^H v(f)) for every frequency at once. With it,
  // Re(v^H K u') = |K^H v| >= |K u|: the estimate at the updated vector, read
  // from the adjoint's output without a third convolution (as in Miyato et
  // al.'s spectral norm, sigma = u^T W v).
  auto spatial = from_spectrum(v);
  // Only the best frequency's v is read again: through the adjoint's
  // convolution, the iteration's peak, v is kept in the probe's precision.
  const auto v_kept = keep_spectrum(std::move(v), probe.scalar_type());
  auto updated = to_spectrum(circular_conv_adjoint(std::move(spatial), w)[0]);  // K(f)^H v(f)
  const auto sigma_f = frequency_norms(updated);
  const auto ok = sigma_f.gt(kDegenerate);
  updated.div_(sigma_f.clamp_min(kDegenerate));
  // Where K(f)^H v(f) = 0 (a zero weight, Fixup's last conv at init) the old
  // u(f) stays: it is only needed there, so only then transformed.
  if (!ok.all().item<bool>()) {
    updated = torch::where(ok, updated, to_spectrum(probe[0].to(w.scalar_type())));
  }
  const auto direction = direction_between(w, v_kept, updated, sigma_f);
  probe.copy_(from_spectrum(updated));
  return direction;
}

void SpectralNormConvImpl::load(torch::serialize::InputArchive& archive) {
  // LibTorch's load swaps the archive's storage into the buffer as it is: a
  // float32 probe would be read as if its bytes were half precision. So the
  // buffer takes the archive's type for the load and returns to its own after.
  const auto storage = probe.scalar_type();
  torch::Tensor saved;
  if (archive.try_read("probe", saved, /*is_buffer=*/true) && saved.scalar_type() != storage) {
    probe.set_data(torch::empty(probe.sizes(), probe.options().dtype(saved.scalar_type())));
  }
  torch::nn::Module::load(archive);
  if (probe.scalar_type() != storage) probe.set_data(probe.to(storage));
}

void SpectralNormConvImpl::power_iterate(int n) {
  const auto w = weight.detach();
  for (int i = 0; i < n; ++i) iterate(w);
}

int SpectralNormConvImpl::warm_up(int max_iterations, double tolerance) {
  const auto w = weight.detach();
  int n = 0;
  while (n < max_iterations) {
    double before = 0;
    const auto g = iterate(w, &before);
    ++n;
    const double after = (w * g).sum().item<double>();
    if (std::abs(after - before) <= tolerance * std::abs(after)) break;
  }
  return n;
}

torch::Tensor SpectralNormConvImpl::direction() const {
  return direction_at_probe(weight.detach());
}

double SpectralNormConvImpl::sigma_bound() const {
  torch::NoGradGuard no_grad;
  return (weight * direction()).sum().item<double>() * sampling_margin();
}

torch::Tensor SpectralNormConvImpl::step() {
  if (probe_frozen && last_direction.defined()) return last_direction;
  if (!is_training() || options.power_iterations < 1 || probe_frozen) return direction();
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
  if (remember_direction) last_direction = g;
  return g;
}

torch::Tensor SpectralNormConvImpl::divisor(const torch::Tensor& w, const torch::Tensor& direction,
                                            const torch::Tensor& gain) const {
  auto sigma = (w * direction).sum() * sampling_margin();
  if (gain.defined()) sigma = sigma * gain.abs();
  return torch::clamp_min(sigma / options.coeff, 1.0);
}

torch::Tensor SpectralNormConvImpl::divisor(const torch::Tensor& gain) {
  return divisor(weight, step(), gain);
}

torch::Tensor SpectralNormConvImpl::normalized_weight(const torch::Tensor& gain) {
  return weight / divisor(gain);
}

ProbesOncePerStep::ProbesOncePerStep(torch::nn::Module& module) {
  for (const auto& m : module.modules()) {
    if (auto* conv = m->as<SpectralNormConvImpl>()) {
      convs_.push_back({conv, conv->probe_frozen, conv->remember_direction});
      conv->remember_direction = true;
    }
  }
}

void ProbesOncePerStep::freeze() {
  for (auto& saved : convs_) saved.conv->probe_frozen = true;
}

void ProbesOncePerStep::advance() {
  for (auto& saved : convs_) {
    // step() remembers the direction; a frozen conv returns the one it has.
    saved.conv->step();
    saved.conv->probe_frozen = true;
  }
}

void ProbesOncePerStep::release_directions() {
  for (auto& saved : convs_) {
    if (!saved.remember) saved.conv->last_direction = torch::Tensor();
  }
}

ProbesOncePerStep::~ProbesOncePerStep() {
  for (auto& saved : convs_) {
    saved.conv->probe_frozen = saved.frozen;
    saved.conv->remember_direction = saved.remember;
    // An enclosing guard keeps the newest direction, as step() would have.
    if (!saved.remember) saved.conv->last_direction = torch::Tensor();
  }
}

}  // namespace revup
