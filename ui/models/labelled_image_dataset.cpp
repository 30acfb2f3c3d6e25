#include "ui/models/labelled_image_dataset.h"

#include <stdexcept>
#include <string>

#include "core/label_ids.h"

namespace revup::ui {
namespace {

std::string shapeText(at::IntArrayRef sizes) {
  std::string s;
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? "x" : "") + std::to_string(sizes[i]);
  return s;
}

}  // namespace

LabelledImageDataset::LabelledImageDataset(const Image& image, torch::Tensor labels,
                                           int64_t ignoreIndex, int axis,
                                           std::optional<ChannelStats> stats, int dims)
    : volume_(image.is_volume()), wholeVolume_(image.is_volume() && dims == 3), axis_(axis) {
  const auto spatial = image.pixels.sizes().slice(1);
  if (labels.sizes() != spatial) {
    throw std::runtime_error(image.path + ": the labels are " + shapeText(labels.sizes()) +
                             " but the image is " + shapeText(spatial));
  }
  if (stats) {
    if (static_cast<int64_t>(stats->mean.size()) != image.channels()) {
      throw std::runtime_error(image.path + ": has " + std::to_string(image.channels()) +
                               " channels; the run's model takes " +
                               std::to_string(stats->mean.size()));
    }
    stats_ = *stats;
  } else {
    ChannelStatsAccumulator accumulator;
    accumulator.add(image);
    stats_ = accumulator.finish();
  }
  normalized_ = normalize(image, stats_);
  // Pixels the image marks invalid (nodata, NaN) never count as labelled.
  // Kept for the whole training in the smallest type that holds them (core/label_ids.h).
  labels_ = compact_label_ids(labels, ignoreIndex)
                .masked_fill(valid_pixels(image).logical_not(), ignoreIndex);
  const auto labelled = labels_.ne(ignoreIndex);
  if (servesWhole()) {
    if (labelled.any().item<bool>()) slices_.push_back(0);
  } else {
    if (axis < 0 || axis > 2) throw std::invalid_argument("slice axis must be 0, 1 or 2");
    std::vector<int64_t> others;
    for (int64_t d = 0; d < 3; ++d) {
      if (d != axis) others.push_back(d);
    }
    const auto perSlice = labelled.sum(others);
    for (int64_t i = 0; i < perSlice.size(0); ++i) {
      if (perSlice[i].item<int64_t>() > 0) slices_.push_back(i);
    }
  }
  if (slices_.empty()) {
    throw std::runtime_error(image.path + ": nothing is labelled yet; paint some pixels first");
  }
}

Example LabelledImageDataset::get(size_t index) const {
  if (servesWhole()) return {normalized_, labels_};
  const int64_t slice = slices_.at(index);
  return {normalized_.select(axis_ + 1, slice).contiguous(),
          labels_.select(axis_, slice).contiguous()};
}

}  // namespace revup::ui
