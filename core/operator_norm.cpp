#include "core/operator_norm.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/spectral_norm.h"

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

// K(f)^H K(f) at the half spectrum of an N x N grid, [N, N/2 + 1, in, in],
// with K(f) = sum_p W_p e^{-i f.p}. It equals sum_d R(d) e^{-i f.d} with
// R(d) = sum_p W_p^T W_{p+d}, the kernel's autocorrelation over the
// (2k - 1)^2 tap offsets: one FFT of those few matrices instead of a matrix
// product at every frequency. The kernel is real, so K(-f) = conj(K(f)) has
// the same singular values and the half spectrum holds every norm.
torch::Tensor gram_half_spectrum(const torch::Tensor& w, int64_t grid) {
  const int64_t k = w.size(2);
  const auto taps = w.permute({2, 3, 0, 1}).reshape({k * k, w.size(0), w.size(1)});
  // pairs[p][q] = W_p^T W_q
  const auto pairs = torch::matmul(taps.transpose(1, 2).unsqueeze(1), taps.unsqueeze(0));
  auto autocorrelation = torch::zeros({grid, grid, w.size(1), w.size(1)}, w.options());
  for (int64_t p = 0; p < k * k; ++p) {
    for (int64_t q = 0; q < k * k; ++q) {
      const int64_t d0 = (q / k - p / k + grid) % grid, d1 = (q % k - p % k + grid) % grid;
      autocorrelation[d0][d1] += pairs[p][q];
    }
  }
  return torch::fft::rfft2(autocorrelation.permute({2, 3, 0, 1})).permute({2, 3, 0, 1});
}

}  // namespace

double circular_conv_norm(const torch::Tensor& weight, int64_t grid) {
  if (weight.dim() != 4 || weight.size(2) != weight.size(3) || weight.size(2) > grid) {
    throw std::invalid_argument(
        "conv_operator_norm: weight must be [out, in, k, k] with k <= grid");
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
  return sqrt_largest_eigenvalue(gram_half_spectrum(w, grid));
}

double conv_operator_norm(const torch::Tensor& weight, int64_t grid) {
  const double margin =
      SpectralNormConv2dImpl::sampling_margin(weight.size(2), static_cast<int>(grid));
  if (margin <= 0) throw std::invalid_argument("conv_operator_norm: grid too small for the kernel");
  return circular_conv_norm(weight, grid) * margin;
}

}  // namespace revup
