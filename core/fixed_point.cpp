#include "core/fixed_point.h"

namespace revup {

FixedPointResult fixed_point_inverse(const torch::Tensor& y, const Branch& g,
                                     const FixedPointOptions& options) {
  torch::NoGradGuard no_grad;
  const bool by_tolerance = options.tolerance > 0;
  const int limit = by_tolerance ? options.max_iterations : options.iterations;
  FixedPointResult result;
  result.x = y;
  for (int n = 1; n <= limit; ++n) {
    auto next = y - g(result.x);
    // The relative change is a reduction over the whole tensor: only pay for it
    // when it decides when to stop, or on the last step where it is reported.
    if (by_tolerance || n == limit) {
      const double change = (next - result.x).norm().item<double>();
      const double scale = next.norm().item<double>();
      result.relative_change = scale > 0 ? change / scale : change;
    }
    result.x = std::move(next);
    result.iterations = n;
    if (by_tolerance && result.relative_change < options.tolerance) break;
  }
  return result;
}

void fixed_point_trace(const torch::Tensor& y, const Branch& g, int iterations,
                       const std::function<void(int, const torch::Tensor&)>& each) {
  torch::NoGradGuard no_grad;
  torch::Tensor x = y;
  for (int n = 1; n <= iterations; ++n) {
    x = y - g(x);
    each(n, x);
  }
}

}  // namespace revup
