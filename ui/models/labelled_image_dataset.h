#pragma once
// The image open in the window with the labels painted on it, as the
// trainer's dataset: one example for a 2D image; for a volume, the whole
// volume as one example (dims 3, a 3D model) or one per slice holding labels
// (dims 2). Unlabelled pixels (the ignore value) teach nothing, so
// a user can label a few strokes and train.
#include <torch/torch.h>

#include <optional>
#include <vector>

#include "core/dataset.h"
#include "io/channel_stats.h"
#include "io/image.h"

namespace revup::ui {

class LabelledImageDataset : public revup::Dataset {
 public:
  // `labels`: [H, W] (or [D, H, W] for a volume) int64 class ids, ignoreIndex
  // where unlabelled. Throws std::runtime_error naming the image when sizes
  // differ or nothing is labelled. `axis`: the volume's slice axis (0, 1, 2).
  // `stats`: the normalization to apply (a resumed run's own); by default the
  // image's. `dims`: 3 serves a volume whole, 2 slice by slice along `axis`.
  LabelledImageDataset(const Image& image, torch::Tensor labels, int64_t ignoreIndex, int axis = 0,
                       std::optional<ChannelStats> stats = std::nullopt, int dims = 2);

  size_t size() const override { return slices_.size(); }
  Example get(size_t index) const override;

  const ChannelStats& stats() const { return stats_; }
  // The whole normalized image [C, H, W] (or [C, D, H, W]) as the model sees it.
  const torch::Tensor& normalized() const { return normalized_; }
  const torch::Tensor& labels() const { return labels_; }
  // For a volume served slice by slice, the slice index of example `index`.
  int64_t sliceOf(size_t index) const { return slices_.at(index); }
  int axis() const { return axis_; }
  // One example holding the whole image or volume (its prediction is the whole one's).
  bool servesWhole() const { return !volume_ || wholeVolume_; }

 private:
  torch::Tensor normalized_, labels_;
  ChannelStats stats_;
  std::vector<int64_t> slices_;
  bool volume_ = false;
  bool wholeVolume_ = false;
  int axis_ = 0;
};

}  // namespace revup::ui
