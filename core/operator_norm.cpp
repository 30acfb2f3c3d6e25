#include "core/operator_norm.h"

#include <stdexcept>

#include "core/spectral_norm.h"

namespace revup {

double circular_conv_norm(const torch::Tensor& weight, int64_t grid) {
  if (weight.dim() != 4 || weight.size(2) != weight.size(3) || weight.size(2) > grid) {
    throw std::invalid_argument(
        "conv_operator_norm: weight must be [out, in, k, k] with k <= grid");
  }
  torch::NoGradGuard no_grad;
  const auto w = weight.detach().to(torch::kCPU, torch::kFloat64);
  const int64_t k = w.size(2);
  // Transfer matrices at every grid frequency: the 2D DFT of the kernel
  // zero-padded to the grid (a shift of the taps changes phases, not norms).
  const auto padded = torch::constant_pad_nd(w, {0, grid - k, 0, grid - k});
  const auto transfer = torch::fft::fft2(padded).permute({2, 3, 0, 1});  // [N, N, out, in]
  // ||K||_2^2 = the largest eigenvalue of the smaller Gram matrix.
  const auto gram = transfer.size(2) >= transfer.size(3)
                        ? torch::matmul(transfer.conj().transpose(-2, -1), transfer)
                        : torch::matmul(transfer, transfer.conj().transpose(-2, -1));
  const auto eig = torch::linalg_eigvalsh(gram);  // ascending, real
  return std::sqrt(std::max(0.0, eig.select(-1, -1).max().item<double>()));
}

double conv_operator_norm(const torch::Tensor& weight, int64_t grid) {
  const double margin =
      SpectralNormConv2dImpl::sampling_margin(weight.size(2), static_cast<int>(grid));
  if (margin <= 0) throw std::invalid_argument("conv_operator_norm: grid too small for the kernel");
  return circular_conv_norm(weight, grid) * margin;
}

}  // namespace revup
