#pragma once
// Images with label maps, as the trainer sees them (core's Dataset) and as a
// user's tools see them (raw image with metadata, class table, names).
//
// Layouts, detected by open_segmentation_dataset:
//  (a) a folder with images/ and masks/ (matching file stems); class names
//      from classes.json, class_names.txt or labels.txt when present;
//  (b) Pascal-VOC / labelme export: JPEGImages/ with SegmentationClass/*.npy
//      or SegmentationClassPNG/ (palette colours mapped back through the
//      class colours), class_names.txt or labels.txt;
//  (c) a JSON manifest {"classes": [...], "pairs": [{"image": .., "mask": ..}]}
//      with paths relative to it;
//  (d) a JSON manifest {"volume": .., "labels": .., "axis": 0|1|2,
//      "label_names": "aal.nii.txt"}: a volume and its label volume, served
//      slice by slice along the axis (slices without labels skipped unless
//      asked for).
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dataset.h"
#include "io/channel_stats.h"
#include "io/class_table.h"
#include "io/image.h"

namespace revup {

struct DatasetOptions {
  int slice_axis = -1;                // volumes: 0, 1, 2 (tensor axes D, H, W); -1: the manifest's
  bool include_empty_slices = false;  // volumes: keep slices with no labelled voxel
  double val_fraction = 0.2;          // share of examples held out for validation
  uint64_t seed = 0;                  // of the split
  // Statistics to normalize inputs with (a trained model's); none: computed
  // over the training split when the dataset is opened.
  std::optional<ChannelStats> stats;
};

struct Split {
  std::vector<size_t> train, val;
};

// Seeded shuffle of 0..n-1 into train and val; with n >= 2 and a positive
// fraction both get at least one example.
Split split_indices(size_t n, double val_fraction, uint64_t seed);

class SegmentationDataset : public Dataset {
 public:
  // Example{input: [C, H, W] float32 normalized with stats(), target: [H, W]
  // int64 class ids with nodata and invalid pixels set to the ignore value}.
  // Throws std::runtime_error naming the files when image and mask differ in
  // size, the mask has ids outside the class table, or pixels are NaN/Inf
  // without being the image's nodata.
  Example get(size_t index) const override;

  const ClassTable& classes() const { return classes_; }
  virtual std::string name(size_t index) const = 0;
  virtual Image image(size_t index) const = 0;  // raw, with metadata
  // [H, W] int64 class ids as stored (ignore value kept), checked against
  // the class table.
  virtual torch::Tensor mask(size_t index) const = 0;
  // Where the mask comes from, for error messages: its file (default: name()).
  virtual std::string mask_source(size_t index) const { return name(index); }
  virtual std::string layout() const = 0;  // "folders", "voc", "manifest", "volume"

  const DatasetOptions& options() const { return options_; }
  Split split() const { return split_indices(size(), options_.val_fraction, options_.seed); }
  const ChannelStats& stats() const { return stats_; }
  void set_stats(ChannelStats stats) { stats_ = std::move(stats); }
  // Over the raw images at `indices`, valid pixels only.
  ChannelStats compute_stats(const std::vector<size_t>& indices) const;

 protected:
  ClassTable classes_;
  DatasetOptions options_;
  ChannelStats stats_;
  // Throws naming `where` if ids are neither classes nor the ignore value.
  void check_ids(const torch::Tensor& ids, const std::string& where) const;
};

// Detects the layout of `path` (a folder or a .json manifest) and opens it.
// Throws std::runtime_error naming the path and what was expected.
std::unique_ptr<SegmentationDataset> open_segmentation_dataset(const std::string& path,
                                                               const DatasetOptions& options = {});

}  // namespace revup
