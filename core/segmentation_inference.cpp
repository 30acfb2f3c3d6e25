#include "core/segmentation_inference.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace revup {
namespace {

// Window starts covering [0, size) with tiles of `tile` overlapping by `overlap`.
std::vector<int64_t> tile_starts(int64_t size, int64_t tile, int64_t overlap) {
  if (tile >= size) return {0};
  const int64_t stride = std::max<int64_t>(1, tile - overlap);
  std::vector<int64_t> starts;
  for (int64_t s = 0;; s += stride) {
    if (s + tile >= size) {
      starts.push_back(size - tile);
      break;
    }
    starts.push_back(s);
  }
  return starts;
}

// 1 in the middle, falling linearly over `overlap` pixels to a small positive
// value at the edges (positive: a pixel covered by one tile only keeps weight).
torch::Tensor ramp(int64_t n, int64_t overlap) {
  auto w = torch::ones({n});
  const int64_t r = std::min(overlap, n / 2);
  for (int64_t i = 0; i < r; ++i) {
    const float v = static_cast<float>(i + 1) / static_cast<float>(r + 1);
    w[i] = v;
    w[n - 1 - i] = v;
  }
  return w;
}

}  // namespace

torch::Tensor predict_logits(const LogitsFunction& forward, const torch::Tensor& image,
                             const TileOptions& tiles) {
  torch::NoGradGuard no_grad;
  const int64_t axes = image.dim() - 1;
  if (axes != 2 && axes != 3) {
    throw std::invalid_argument(
        "predict_logits expects an image [C, H, W] or a volume [C, D, H, W]");
  }
  const auto spatial = image.sizes().slice(1);
  const bool fits =
      std::all_of(spatial.begin(), spatial.end(), [&](int64_t n) { return tiles.tile >= n; });
  if (tiles.tile <= 0 || fits) return forward(image.unsqueeze(0)).squeeze(0);
  if (tiles.overlap < 0 || tiles.overlap >= tiles.tile)
    throw std::invalid_argument("tile overlap must lie in [0, tile)");
  // Per axis: the window's extent, where windows start, and the blending
  // weight along it; a window's weight is the product over its axes.
  std::vector<int64_t> extent;
  std::vector<std::vector<int64_t>> starts;
  torch::Tensor window = torch::ones({});
  for (int64_t a = 0; a < axes; ++a) {
    extent.push_back(std::min(tiles.tile, spatial[a]));
    starts.push_back(tile_starts(spatial[a], extent[a], tiles.overlap));
    std::vector<int64_t> along(axes, 1);
    along[a] = extent[a];
    window = window * ramp(extent[a], tiles.overlap).view(along);
  }
  torch::Tensor sum, weight;
  std::vector<size_t> at(axes, 0);  // the window's index along each axis
  for (;;) {
    auto crop = image;
    for (int64_t a = 0; a < axes; ++a) crop = crop.narrow(a + 1, starts[a][at[a]], extent[a]);
    const auto logits = forward(crop.unsqueeze(0)).squeeze(0).to(torch::kCPU);
    if (!sum.defined()) {
      std::vector<int64_t> shape{logits.size(0)};
      shape.insert(shape.end(), spatial.begin(), spatial.end());
      sum = torch::zeros(shape, logits.options());
      shape[0] = 1;
      weight = torch::zeros(shape, logits.options());
    }
    auto sum_part = sum, weight_part = weight;
    for (int64_t a = 0; a < axes; ++a) {
      sum_part = sum_part.narrow(a + 1, starts[a][at[a]], extent[a]);
      weight_part = weight_part.narrow(a + 1, starts[a][at[a]], extent[a]);
    }
    sum_part.add_(logits * window);
    weight_part.add_(window);
    // The next window: the last axis fastest, like nested loops.
    int64_t a = axes - 1;
    while (a >= 0 && ++at[a] == starts[a].size()) at[a--] = 0;
    if (a < 0) break;
  }
  return sum.div_(weight);
}

torch::Tensor predict_volume_slices(
    const torch::Tensor& x, int axis,
    const std::function<torch::Tensor(const torch::Tensor&)>& predict_plane,
    const std::function<bool(int64_t, int64_t)>& on_slice) {
  const int64_t total = x.size(axis + 1);
  std::vector<torch::Tensor> slices;
  slices.reserve(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) {
    slices.push_back(predict_plane(x.select(axis + 1, i)));
    if (on_slice && !on_slice(i + 1, total)) return {};
  }
  return torch::stack(slices, axis);
}

ConfusionMatrix evaluate_segmentation(const LogitsFunction& forward, const Dataset& data,
                                      int64_t classes, int64_t ignore_index,
                                      const TileOptions& tiles,
                                      const std::function<void(size_t, size_t)>& progress,
                                      const PredictionCallback& on_prediction) {
  ConfusionMatrix cm(classes, ignore_index);
  for (size_t i = 0; i < data.size(); ++i) {
    const auto example = data.get(i);
    const auto ids = predict_logits(forward, example.input, tiles).argmax(0).cpu();
    cm.add(ids, example.target);
    if (on_prediction) on_prediction(i, ids);
    if (progress) progress(i + 1, data.size());
  }
  return cm;
}

}  // namespace revup
