#include "core/operator_norm.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/math_constants.h"

namespace revup {

namespace {

// Intra-op threads off while the many small eigenproblems run: OpenBLAS
// splits each one over the threads, which made them 4x slower on 2 threads
// than on 1 (Debian's LibTorch, 2 cores, 64 x 64 matrices).
class OneIntraOpThread {
 public:
  OneIntraOpThread() : saved_(at::get_num_threads()) { at::set_num_threads(1); }
  ~OneIntraOpThread() { at::set_num_threads(saved_); }
  OneIntraOpThread(const OneIntraOpThread&) = delete;
  OneIntraOpThread& operator=(const OneIntraOpThread&) = delete;

 private:
  int saved_;
};

// sqrt of the largest eigenvalue over a batch of Hermitian PSD matrices.
double sqrt_largest_eigenvalue(const torch::Tensor& gram) {
  const OneIntraOpThread one;
  const auto eig = torch::linalg_eigvalsh(gram);  // ascending, real
  return std::sqrt(std::max(0.0, eig.select(-1, -1).max().item<double>()));
}

// K(f)^H K(f) at every frequency of a grid^dims grid whose last axis holds
// half the spectrum, [grid, (grid,) grid/2 + 1, in, in], with K(f) = sum_p
// W_p e^{-i f.p}. It equals sum_d R(d) e^{-i f.d} with R(d) = sum_p W_p^T
// W_{p+d}, the kernel's autocorrelation over the (2k - 1)^dims tap offsets:
// FFTs of those few matrices instead of a matrix product at every frequency.
// The kernel is real, so K(-f) = conj(K(f)) has the same singular values and
// the half spectrum holds every norm. Calls `visit` with each slab of Gram
// matrices along the first frequency axis (3D) or once with all of them (2D),
// so a 3D grid's matrices are never all in memory at once.
template <typename Visit>
void visit_gram_matrices(const torch::Tensor& w, int64_t grid, Visit visit) {
  const int64_t dims = w.dim() - 2, k = w.size(2), in = w.size(1);
  const int64_t taps = w[0][0].numel();  // k^dims
  std::vector<int64_t> tap_first(dims + 2);
  for (int64_t a = 0; a < dims; ++a) tap_first[a] = a + 2;
  tap_first[dims] = 0;
  tap_first[dims + 1] = 1;
  const auto by_tap = w.permute(tap_first).reshape({taps, w.size(0), in});
  // pairs[p][q] = W_p^T W_q
  const auto pairs = torch::matmul(by_tap.transpose(1, 2).unsqueeze(1), by_tap.unsqueeze(0));
  // The offsets' autocorrelation, first axis kept by offset (2k - 1 of them),
  // the others on the grid.
  std::vector<int64_t> shape = {2 * k - 1};
  for (int64_t a = 1; a < dims; ++a) shape.push_back(grid);
  shape.push_back(in);
  shape.push_back(in);
  auto autocorrelation = torch::zeros(shape, w.options());
  const auto coordinate = [k, dims](int64_t tap, int64_t axis) {
    for (int64_t a = dims - 1; a > axis; --a) tap /= k;
    return tap % k;
  };
  for (int64_t p = 0; p < taps; ++p) {
    for (int64_t q = 0; q < taps; ++q) {
      auto slot = autocorrelation[coordinate(q, 0) - coordinate(p, 0) + k - 1];
      for (int64_t a = 1; a < dims; ++a) {
        slot = slot[(coordinate(q, a) - coordinate(p, a) + grid) % grid];
      }
      slot += pairs[p][q];
    }
  }
  // The transform over the later axes, matrices last: [2k - 1, (grid,) grid/2 + 1, in, in].
  const auto matrices_first = autocorrelation.movedim({-2, -1}, {1, 2});
  const auto later =
      dims == 2 ? torch::fft::rfft(matrices_first) : torch::fft::rfft2(matrices_first);
  const auto partial = later.movedim({1, 2}, {-2, -1});
  // The first axis: sum over its offsets d0 of e^{-i f0 d0} times their slabs.
  const auto offsets = torch::arange(-(k - 1), k, w.options());
  const auto frequencies = torch::arange(grid, w.options()) * (2 * kPi / static_cast<double>(grid));
  const auto angle = torch::outer(frequencies, offsets);                     // [grid, 2k - 1]
  const auto phase = torch::complex(torch::cos(angle), -torch::sin(angle));  // e^{-i f0 d0}
  if (dims == 2) {
    visit(torch::tensordot(phase, partial, {1}, {0}));  // [grid, grid/2 + 1, in, in]
    return;
  }
  for (int64_t f0 = 0; f0 < grid; ++f0) visit(torch::tensordot(phase[f0], partial, {0}, {0}));
}

}  // namespace

double sampling_margin(int64_t kernel_size, int64_t grid, int64_t dims) {
  const double d = static_cast<double>(kernel_size - 1);
  if (d == 0) return 1.0;
  const double n = static_cast<double>(dims), g = static_cast<double>(grid);
  const double keep = 1.0 - n * n * kPi * kPi * d * d / (2.0 * g * g);
  return keep > 0 ? 1.0 / std::sqrt(keep) : -1.0;
}

int64_t coarsest_grid(int64_t kernel_size, int64_t dims) {
  int64_t grid = 1;
  while (sampling_margin(kernel_size, grid, dims) <= 0) ++grid;
  return grid;
}

double circular_conv_norm(const torch::Tensor& weight, int64_t grid) {
  const bool cubic = weight.dim() == 5 && weight.size(2) == weight.size(4);
  if ((weight.dim() != 4 && !cubic) || weight.size(2) != weight.size(3) || weight.size(2) > grid) {
    throw std::invalid_argument(
        "conv_operator_norm: weight must be [out, in, k, k] or [out, in, k, k, k] with k <= grid");
  }
  torch::NoGradGuard no_grad;
  auto w = weight.detach().to(torch::kCPU, torch::kFloat64);
  // ||K||_2^2 is the largest eigenvalue of the smaller Gram matrix: K K^H,
  // which is K^T's K^H K at -f (the same grid), when out < in.
  if (w.size(0) < w.size(1)) w = w.transpose(0, 1);
  // A 1x1 kernel's transfer matrix is the same at every frequency.
  if (w.size(2) == 1) {
    const auto m = w.flatten(1);
    return sqrt_largest_eigenvalue(torch::matmul(m.t(), m));
  }
  double largest = 0;
  visit_gram_matrices(w, grid, [&](const torch::Tensor& gram) {
    largest = std::max(largest, sqrt_largest_eigenvalue(gram));
  });
  return largest;
}

double conv_operator_norm(const torch::Tensor& weight, int64_t grid) {
  const double margin = sampling_margin(weight.size(2), grid, weight.dim() - 2);
  if (margin <= 0) throw std::invalid_argument("conv_operator_norm: grid too small for the kernel");
  return circular_conv_norm(weight, grid) * margin;
}

}  // namespace revup
