#include "core/fixed_point.h"

#include <algorithm>
#include <cmath>

namespace revup {
namespace {

// y - g(x), written into g's own buffer when it has one: at 4K that saves a
// full-size tensor per iteration.
torch::Tensor y_minus(const torch::Tensor& y, torch::Tensor g, const torch::Tensor& x) {
  const bool owns = !g.storage().is_alias_of(y.storage()) &&
                    !g.storage().is_alias_of(x.storage()) && g.sizes() == y.sizes() &&
                    g.dtype() == y.dtype() && g.is_contiguous();
  if (!owns) return y - g;
  return at::sub_out(g, y, g);
}

// ||a - b|| in chunks: a - b whole would be one more tensor the size of the
// activation, and at 4K it was the backward's peak.
double distance(const torch::Tensor& a, const torch::Tensor& b) {
  constexpr int64_t kChunk = int64_t{1} << 22;
  const auto fa = a.reshape(-1), fb = b.reshape(-1);
  auto total = torch::zeros({}, a.options().dtype(torch::kFloat64));
  for (int64_t i = 0; i < fa.numel(); i += kChunk) {
    const int64_t len = std::min(kChunk, fa.numel() - i);
    total += (fa.narrow(0, i, len) - fb.narrow(0, i, len)).square().sum().to(torch::kFloat64);
  }
  return std::sqrt(total.item<double>());
}

}  // namespace

FixedPointResult fixed_point_inverse(const torch::Tensor& y, const Branch& g,
                                     const FixedPointOptions& options) {
  torch::NoGradGuard no_grad;
  const bool by_tolerance = options.tolerance > 0;
  const int limit = by_tolerance ? options.max_iterations : options.iterations;
  FixedPointResult result;
  result.x = y;
  for (int n = 1; n <= limit; ++n) {
    auto next = y_minus(y, g(result.x), result.x);
    // The relative change is a reduction over the whole tensor: only pay for it
    // when it decides when to stop, or on the last step where it is reported.
    if (by_tolerance || n == limit) {
      const double change = distance(next, result.x);
      const double scale = next.norm().item<double>();
      result.relative_change = scale > 0 ? change / scale : change;
    }
    result.x = std::move(next);
    result.iterations = n;
    if (by_tolerance && result.relative_change < options.tolerance) break;
  }
  return result;
}

FixedPointResult fixed_point_inverse_into(torch::Tensor y, const Branch& g,
                                          const SubtractBranch& subtract,
                                          const FixedPointOptions& options) {
  if (options.tolerance > 0 || options.iterations < 1) return fixed_point_inverse(y, g, options);
  torch::NoGradGuard no_grad;
  FixedPointResult result;
  torch::Tensor x = y;
  for (int n = 1; n < options.iterations; ++n) x = y_minus(y, g(x), x);
  // The last iteration, x_N = y - g(x_{N-1}), in place. With N = 1, x_0 is y
  // itself and x_N - x_{N-1} is -g(y), whose norm `subtract` returns.
  const bool from_y = x.is_same(y);
  const double g_norm = subtract(y, x);
  const double change = from_y ? g_norm : distance(y, x);
  x = torch::Tensor();
  const double scale = y.norm().item<double>();
  result.relative_change = scale > 0 ? change / scale : change;
  result.iterations = options.iterations;
  result.x = std::move(y);
  return result;
}

void fixed_point_trace(const torch::Tensor& y, const Branch& g, int iterations,
                       const std::function<void(int, const torch::Tensor&)>& each) {
  torch::NoGradGuard no_grad;
  torch::Tensor x = y;
  for (int n = 1; n <= iterations; ++n) {
    x = y_minus(y, g(x), x);
    each(n, x);
  }
}

}  // namespace revup
