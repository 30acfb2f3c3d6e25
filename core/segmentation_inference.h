#pragma once
// Inference for segmentation, written against a plain forward function so the
// same code serves the CLI, the GUI and any model family.
#include <torch/torch.h>

#include <functional>

#include "core/confusion_matrix.h"
#include "core/dataset.h"

namespace revup {

using LogitsFunction =
    std::function<torch::Tensor(const torch::Tensor&)>;  // [1,C,...] -> [1,K,...]

struct TileOptions {
  int64_t tile = 0;      // 0: the whole image in one pass
  int64_t overlap = 64;  // pixels shared by neighbouring tiles
};

// Class scores for one image [C, H, W] -> [K, H, W] or volume [C, D, H, W] ->
// [K, D, H, W], without a graph. With tiles (cubes for a volume: a sliding
// window), overlapping windows are blended with weights that fall linearly to
// the tile edges, so seams do not show; only one tile's activations live at once.
torch::Tensor predict_logits(const LogitsFunction& forward, const torch::Tensor& image,
                             const TileOptions& tiles = {});

// Class ids of a volume x [C, D, H, W], one slice along `axis` (0, 1, 2: D, H,
// W) at a time through `predict_plane` ([C, a, b] -> [a, b]), stacked back in
// place. `on_slice(done, total)` after each slice; false stops, and the result
// is then an undefined tensor.
torch::Tensor predict_volume_slices(
    const torch::Tensor& x, int axis,
    const std::function<torch::Tensor(const torch::Tensor&)>& predict_plane,
    const std::function<bool(int64_t, int64_t)>& on_slice = {});

// Runs the model over every example of `data` (targets [H, W] or [D, H, W]) and accumulates
// the confusion matrix. `progress(i, n)` is called after each image, and
// `on_prediction(index, ids)` with its predicted class ids [H, W] (CPU).
using PredictionCallback = std::function<void(size_t, const torch::Tensor&)>;
ConfusionMatrix evaluate_segmentation(const LogitsFunction& forward, const Dataset& data,
                                      int64_t classes, int64_t ignore_index,
                                      const TileOptions& tiles = {},
                                      const std::function<void(size_t, size_t)>& progress = {},
                                      const PredictionCallback& on_prediction = {});

}  // namespace revup
