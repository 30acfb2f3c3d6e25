#pragma once
// Measurements the tests of every layer share that need core alone.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "core/memory_tracker.h"

namespace revup::testing {

// ||conv||_2 of a zero-padded stride-1 convolution on an n x n image (weight
// [out, in, k, k]) or an n^3 volume ([out, in, k, k, k]), by many power
// iterations with the real layer (a lower estimate that converges).
inline double zero_padded_conv_norm(const torch::Tensor& w, int64_t n, int iterations = 300) {
  torch::NoGradGuard no_grad;
  const auto p = w.size(-1) / 2;
  const bool volume = w.dim() == 5;
  std::vector<int64_t> shape{1, w.size(1)};
  shape.resize(w.dim(), n);
  auto u = torch::randn(shape, w.options());
  double sigma = 0;
  for (int i = 0; i < iterations; ++i) {
    u = u / u.norm();
    const auto v = volume ? torch::conv3d(u, w, {}, 1, p) : torch::conv2d(u, w, {}, 1, p);
    sigma = v.norm().item<double>();
    u = volume ? torch::conv_transpose3d(v, w, {}, 1, p) : torch::conv_transpose2d(v, w, {}, 1, p);
  }
  return sigma;
}

// Peak allocator bytes on the CPU while f() runs, above what was live before it.
template <class F>
std::int64_t peak_bytes_of(F f) {
  const c10::Device cpu(c10::DeviceType::CPU);
  MemoryTracker::install_cpu_tracking();
  MemoryTracker::reset_peak(cpu);
  const auto before = MemoryTracker::live_bytes(cpu);
  f();
  return MemoryTracker::peak_bytes(cpu) - before;
}

inline double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  const double denom = b.norm().item<double>();
  return (a - b).norm().item<double>() / (denom > 0 ? denom : 1.0);
}

}  // namespace revup::testing
