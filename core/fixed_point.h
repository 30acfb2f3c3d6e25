#pragma once
// Algorithm 1 of the paper: x = y - g(x) by fixed-point iteration from x0 = y.
#include <torch/torch.h>

#include <functional>

namespace revup {

struct FixedPointOptions {
  int iterations = 1;        // N: fixed count (paper trains with N = 1) ...
  double tolerance = 0.0;    // ... or, when > 0, stop once ||x' - x|| / ||x'|| < tolerance
  int max_iterations = 100;  // cap when a tolerance is given
};

struct FixedPointResult {
  torch::Tensor x;
  int iterations = 0;
  double relative_change = 0.0;  // ||x_n - x_{n-1}|| / ||x_n|| of the last step
};

using Branch = std::function<torch::Tensor(const torch::Tensor&)>;

// Runs without building a graph. Eq. 4 bounds the error by
// Lip^n / (1 - Lip) * ||x1 - x0||.
FixedPointResult fixed_point_inverse(const torch::Tensor& y, const Branch& g,
                                     const FixedPointOptions& options);

// out -= g(x) in place, returning ||g(x)||; x may be out itself.
using SubtractBranch = std::function<double(torch::Tensor& out, const torch::Tensor& x)>;

// The same with a fixed iteration count, for a caller that owns y and needs
// only x (MemSave's backward): the last iteration is written into y's own
// storage by `subtract`, so x and y never both exist, and neither does g(x)
// whole when `subtract` works in bands. Returns x, which is y's storage. With a
// tolerance (the count is not known in advance) y is kept: fixed_point_inverse.
FixedPointResult fixed_point_inverse_into(torch::Tensor y, const Branch& g,
                                          const SubtractBranch& subtract,
                                          const FixedPointOptions& options);

// Calls `each(n, x_n)` after every iteration n = 1..iterations (for error curves).
void fixed_point_trace(const torch::Tensor& y, const Branch& g, int iterations,
                       const std::function<void(int, const torch::Tensor&)>& each);

}  // namespace revup
