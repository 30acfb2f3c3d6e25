#include "core/augmentation.h"

#include <cmath>

namespace revup {
namespace {
double uniform(double lo, double hi) { return lo + (hi - lo) * torch::rand({1}).item<double>(); }
bool coin() { return torch::rand({1}).item<double>() < 0.5; }
}  // namespace

Example augment(const Example& example, const AugmentationOptions& o) {
  namespace F = torch::nn::functional;
  torch::NoGradGuard no_grad;
  auto x = example.input;   // [C, H, W]
  auto y = example.target;  // [H, W]
  if (o.min_scale != 1.0 || o.max_scale != 1.0) {
    const double s = uniform(o.min_scale, o.max_scale);
    const std::vector<int64_t> size = {std::max<int64_t>(8, std::llround(x.size(1) * s)),
                                       std::max<int64_t>(8, std::llround(x.size(2) * s))};
    x = F::interpolate(
            x.unsqueeze(0),
            F::InterpolateFuncOptions().size(size).mode(torch::kBilinear).align_corners(false))
            .squeeze(0);
    // Nearest neighbour keeps labels labels (no blended class ids).
    y = F::interpolate(y.unsqueeze(0).unsqueeze(0).to(torch::kFloat),
                       F::InterpolateFuncOptions().size(size).mode(torch::kNearest))
            .squeeze(0)
            .squeeze(0)
            .to(torch::kLong);
  }
  if (o.flips && coin()) {
    x = x.flip({2});
    y = y.flip({1});
  }
  if (o.flips && coin()) {
    x = x.flip({1});
    y = y.flip({0});
  }
  if (o.rotations) {
    const auto k = torch::randint(0, 4, {1}).item<int64_t>();
    if (k > 0) {
      x = torch::rot90(x, k, {1, 2});
      y = torch::rot90(y, k, {0, 1});
    }
  }
  if (o.intensity_jitter > 0) {
    const int64_t c = x.size(0);
    const auto gain = 1 + (torch::rand({c, 1, 1}) * 2 - 1) * o.intensity_jitter;
    const auto offset = (torch::rand({c, 1, 1}) * 2 - 1) * o.intensity_jitter;
    x = x * gain + offset;
  }
  return {x.contiguous(), y.contiguous()};
}

}  // namespace revup
