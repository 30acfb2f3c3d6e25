#pragma once
// Spectral normalization of a stride-1 2D or 3D convolution with a bound that
// holds at every input size, at a cost that does not depend on the training
// image or volume.
//
// Why not i-ResNet's probe: a zero-padded convolution on an n x n input is a
// restriction of the circular convolution on any grid >= n + k - 1, whose
// singular values are those of the kernel's transfer matrices K(w) at that
// grid's frequencies. So sup_w ||K(w)|| bounds the layer at every size. We run
// power iteration on the circular convolution of a small fixed grid (G^n for
// n = 2 or 3 axes, G = 32 by default), which converges to the maximum over the
// grid frequencies, and turn that into a bound on the supremum with a proven
// sampling margin (core/operator_norm.h):
//   for the trigonometric polynomial q(w) = v* K(w)* K(w) v of degree d = k - 1
//   per axis, Bernstein's inequality for its second derivative at the maximum
//   gives  max_grid q >= sup q * (1 - n^2 pi^2 d^2 / (2 G^2)).
// The estimate is sigma_grid / sqrt of that: 4 % above sigma_grid for 3x3
// kernels on a 32^2 grid, 10 % for 3x3x3 on 32^3, exact for 1x1. The probe's
// cost is that of the grid alone, whatever the volume. The power iteration
// runs per frequency (block diagonal in the Fourier domain), so one iteration a
// training step keeps up with the weights: measured by `bench lipschitz`
// against the true operator norms (core/operator_norm.h).
#include <torch/torch.h>

#include <vector>

namespace revup {

struct SpectralNormOptions {
  double coeff = 0.9;          // c: target Lipschitz constant of the layer
  int power_iterations = 1;    // P per training step
  int grid = 32;               // G: side of the circular probe grid
  int warmup_iterations = 50;  // when the vectors are (re)seeded
};

// A conv weight of `dims` spatial axes (2: [out, in, k, k], 3: [out, in, k, k, k])
// with its normalization; the block applies the convolution itself.
struct SpectralNormConvImpl : torch::nn::Module {
  SpectralNormConvImpl(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                       SpectralNormOptions options = {}, int64_t dims = 2);

  // Once per step: P power iterations on the persistent probe (training mode
  // only), then the direction G = d sigma / dW at the probe's vectors (no
  // grad, shaped like the weight). sigma = sum(W * G) is linear in W, so G is
  // all a normalization needs for the rest of the step: forward, inverse and
  // backward then cost an elementwise product each, not a probe convolution.
  torch::Tensor step();

  // max(1, |gain| * margin * sum(w * direction) / c), differentiable in w and
  // gain; a pure function of its inputs, so MemSave can recompute it anywhere.
  // `gain` folds a multiplier that follows the conv (Fixup's scale) into the bound.
  torch::Tensor divisor(const torch::Tensor& w, const torch::Tensor& direction,
                        const torch::Tensor& gain = {}) const;

  // step(), then weight / divisor(weight, direction, gain): for use outside MemSave.
  torch::Tensor normalized_weight(const torch::Tensor& gain = {});
  torch::Tensor divisor(const torch::Tensor& gain = {});

  // Module::load, reading a probe stored in another precision than this one's
  // (a float32 3D probe from a checkpoint before half-precision probes) by value.
  void load(torch::serialize::InputArchive& archive) override;

  // Runs n power iterations without touching the weight (for tests).
  void power_iterate(int n);
  // Power iterations until the estimate rises by at most `tolerance`
  // (relative) in one, at most `max_iterations`; returns how many ran. A
  // freshly seeded probe settles in far fewer than a fixed count would spend
  // (a 3D probe's iteration costs ~0.2 s at 32 channels).
  int warm_up(int max_iterations, double tolerance = 1e-4);
  // While set, step() reads the probe without iterating: the second and later
  // images of one optimizer step (gradient accumulation) see the weights the
  // first one saw, so the probe advances once per step, as on every rank of a
  // data-parallel run. See ProbesOncePerStep.
  bool probe_frozen = false;
  // While remember_direction is set, step() keeps the direction it gave in
  // last_direction, which frozen steps return (not direction(): that one is
  // taken at the probe alone, step()'s at the iteration's two vectors).
  bool remember_direction = false;
  torch::Tensor last_direction;
  // G at the current probe, without iterating.
  torch::Tensor direction() const;
  // The current bound on ||conv||_2 at any input size (no grad).
  double sigma_bound() const;
  // Factor from the grid maximum to the supremum over all frequencies.
  double sampling_margin() const;

  torch::Tensor weight;  // raw parameter [out, in, k, k] or [out, in, k, k, k]
  // Persistent power-iteration vector [1, in, G, G(, G)], a unit vector per
  // frequency of the grid (see spectral_norm.cpp). Stored in half precision in
  // 3D (the iteration runs in the weight's).
  torch::Tensor probe;
  int64_t kernel_size;
  int64_t dims;  // spatial axes: 2 or 3
  SpectralNormOptions options;

 private:
  torch::Tensor circular_pad(const torch::Tensor& x, c10::ScalarType dtype) const;
  // x by value: a caller's temporary is released once padded.
  torch::Tensor circular_conv(torch::Tensor x, const torch::Tensor& w) const;
  torch::Tensor circular_conv_adjoint(torch::Tensor y, const torch::Tensor& w) const;
  // G = d sigma / dW at the frequency where |K(f) u(f)| is largest (sigma =
  // sum(W * G)), at the current probe.
  torch::Tensor direction_at_probe(const torch::Tensor& w) const;
  // G for sigma = Re(v^H K(f) u(f)) at the frequency where sigma_f is largest
  // (spectra [C, G, ..., G/2 + 1]); zero where that is 0.
  torch::Tensor direction_between(const torch::Tensor& w, const torch::Tensor& v,
                                  const torch::Tensor& u, const torch::Tensor& sigma_f) const;
  // One power iteration on every frequency, u(f) = unit(K(f)^H v(f)) with
  // v(f) = unit(K(f) u(f)); returns the direction at (v, u') (and sigma at the
  // vector it started from, when asked: the catch-up test compares the two).
  torch::Tensor iterate(const torch::Tensor& w, double* sigma_before = nullptr);
  // Real [C, G, ...] -> half spectrum [C, G, ..., G/2 + 1] over the spatial axes, and back
  // to the probe's shape [1, C, G, ...].
  torch::Tensor to_spectrum(const torch::Tensor& x) const;
  torch::Tensor from_spectrum(const torch::Tensor& spectrum) const;
  std::vector<int64_t> spatial_axes(int64_t first) const;  // first, ..., first + dims - 1
  // Rounded to half precision, each frequency's vector is a unit vector only
  // to ~1e-4, and |K(f) u(f)| read at it overshot the grid's maximum by 4e-5
  // (a test's conv): where this holds, sigma is read as |K(f) u(f)| / |u(f)|,
  // off by the rounding's square.
  bool stored_in_lower_precision(const torch::Tensor& w) const {
    return c10::elementSize(probe.scalar_type()) < c10::elementSize(w.scalar_type());
  }
  void reseed_probe();
};
TORCH_MODULE(SpectralNormConv);

// The spectral norms of `module` iterate once per optimizer step, however
// many forwards the step runs (gradient accumulation). Either the first
// forward advances every probe as usual and freeze() makes the later ones
// reuse the directions it gave, or advance() iterates them all before any
// forward. Restores each conv's previous state on destruction (a guard may
// sit inside another: a measured step inside a volume estimate).
class ProbesOncePerStep {
 public:
  explicit ProbesOncePerStep(torch::nn::Module& module);
  ~ProbesOncePerStep();
  ProbesOncePerStep(const ProbesOncePerStep&) = delete;
  ProbesOncePerStep& operator=(const ProbesOncePerStep&) = delete;
  void freeze();
  // Runs every conv's power iteration now, then freezes. The same directions
  // as iterating in each conv's forward (nothing moves the weights before
  // the optimizer's step), but the iteration's scratch meets no activations:
  // a 64-channel 3D conv's is 35 MiB, and at ch2 it sat on top of the
  // stage-3 forward, the whole step's peak.
  void advance();
  // After the step's last forward: the directions then live in the graph
  // only, each released with its block's backward. Held to the step's end,
  // a weight-sized direction per conv sat at the backward's late peak (9 MiB
  // at RevUp-110, batch 128: MemSave's activations grew 17 % from depth 20 to
  // 110 instead of 1 %). An enclosing guard that remembers keeps them.
  void release_directions();

 private:
  struct Saved {
    SpectralNormConvImpl* conv;
    bool frozen, remember;
  };
  std::vector<Saved> convs_;
};

}  // namespace revup
