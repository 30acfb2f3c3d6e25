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
  if (image.dim() != 3) throw std::invalid_argument("predict_logits expects an image [C, H, W]");
  const int64_t h = image.size(1), w = image.size(2);
  if (tiles.tile <= 0 || (tiles.tile >= h && tiles.tile >= w)) {
    return forward(image.unsqueeze(0)).squeeze(0);
  }
  if (tiles.overlap < 0 || tiles.overlap >= tiles.tile)
    throw std::invalid_argument("tile overlap must lie in [0, tile)");
  const int64_t th = std::min(tiles.tile, h), tw = std::min(tiles.tile, w);
  const auto window = ramp(th, tiles.overlap).unsqueeze(1) * ramp(tw, tiles.overlap).unsqueeze(0);
  torch::Tensor sum, weight;
  for (const int64_t y : tile_starts(h, th, tiles.overlap)) {
    for (const int64_t x : tile_starts(w, tw, tiles.overlap)) {
      const auto crop = image.narrow(1, y, th).narrow(2, x, tw).unsqueeze(0);
      const auto logits = forward(crop).squeeze(0).to(torch::kCPU);
      if (!sum.defined()) {
        sum = torch::zeros({logits.size(0), h, w}, logits.options());
        weight = torch::zeros({1, h, w}, logits.options());
      }
      sum.narrow(1, y, th).narrow(2, x, tw).add_(logits * window);
      weight.narrow(1, y, th).narrow(2, x, tw).add_(window);
    }
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
