#include "core/augmentation.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace revup {
namespace {
double uniform(double lo, double hi) { return lo + (hi - lo) * torch::rand({1}).item<double>(); }
bool coin() { return torch::rand({1}).item<double>() < 0.5; }
}  // namespace

Example augment(const Example& example, const AugmentationOptions& o) {
  namespace F = torch::nn::functional;
  torch::NoGradGuard no_grad;
  auto x = example.input;   // [C, spatial...]
  auto y = example.target;  // [spatial...]
  const int64_t axes = y.dim();
  if (axes != 2 && axes != 3) throw std::invalid_argument("augment: 2 or 3 spatial axes");
  if (!o.window.empty()) {
    if (static_cast<int64_t>(o.window.size()) != axes) {
      throw std::invalid_argument("augment: the window has " + std::to_string(o.window.size()) +
                                  " sizes for " + std::to_string(axes) + " spatial axes");
    }
    for (int64_t a = 0; a < axes; ++a) {
      const int64_t size = std::min(o.window[a], y.size(a));
      const int64_t start = torch::randint(0, y.size(a) - size + 1, {1}).item<int64_t>();
      x = x.narrow(a + 1, start, size);
      y = y.narrow(a, start, size);
    }
  }
  if (o.min_scale != 1.0 || o.max_scale != 1.0) {
    const double s = uniform(o.min_scale, o.max_scale);
    std::vector<int64_t> size;
    for (int64_t a = 0; a < axes; ++a) {
      size.push_back(std::max<int64_t>(8, std::llround(static_cast<double>(y.size(a)) * s)));
    }
    auto smooth = F::InterpolateFuncOptions().size(size).align_corners(false);
    if (axes == 2) {
      smooth.mode(torch::kBilinear);
    } else {
      smooth.mode(torch::kTrilinear);
    }
    x = F::interpolate(x.unsqueeze(0), smooth).squeeze(0);
    // Nearest neighbour keeps labels labels (no blended class ids).
    y = F::interpolate(y.unsqueeze(0).unsqueeze(0).to(torch::kFloat),
                       F::InterpolateFuncOptions().size(size).mode(torch::kNearest))
            .squeeze(0)
            .squeeze(0)
            .to(y.scalar_type());
  }
  // The last axis first: an image's draws are the same as before volumes.
  for (int64_t a = axes - 1; o.flips && a >= 0; --a) {
    if (coin()) {
      x = x.flip({a + 1});
      y = y.flip({a});
    }
  }
  if (o.rotations) {
    const auto k = torch::randint(0, 4, {1}).item<int64_t>();
    if (k > 0) {
      x = torch::rot90(x, k, {axes - 1, axes});
      y = torch::rot90(y, k, {axes - 2, axes - 1});
    }
  }
  if (o.intensity_jitter > 0) {
    const int64_t c = x.size(0);
    std::vector<int64_t> per_channel(axes + 1, 1);
    per_channel[0] = c;
    const auto gain = 1 + (torch::rand(per_channel) * 2 - 1) * o.intensity_jitter;
    const auto offset = (torch::rand(per_channel) * 2 - 1) * o.intensity_jitter;
    x = x * gain + offset;
  }
  return {x.contiguous(), y.contiguous()};
}

}  // namespace revup
