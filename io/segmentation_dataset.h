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
//  (d) a JSON manifest {"volume": .., "labels": .., "dims": 3|2, "axis": 0|1|2,
//      "label_names": "aal.nii.txt"}: a volume and its label volume, served
//      whole (dims 3, the default: one example, each volume normalized by its
//      own statistics) or slice by slice along the axis (dims 2; slices
//      without labels skipped unless asked for).
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
#include "io/mask_values.h"

namespace revup {

struct DatasetOptions {
  // Volumes: 3 serves each volume whole, 2 slice by slice; 0: the manifest's
  // "dims", else 3.
  int dims = 0;
  int slice_axis = -1;                // volumes: 0, 1, 2 (tensor axes D, H, W); -1: the manifest's
  bool include_empty_slices = false;  // volumes: keep slices with no labelled voxel
  double val_fraction = 0.2;          // share of examples held out for validation
  uint64_t seed = 0;                  // of the split
  // Statistics to normalize inputs with (a trained model's); none: computed
  // over the training split when the dataset is opened.
  std::optional<ChannelStats> stats;
  // How mask values become classes: decided over all masks (auto, or the
  // convention asked for) unless a trained model's reading is given, which
  // then fixes the classes too (evaluate, resume).
  MaskValueOptions mask_values;
  std::optional<ClassTable> classes;  // a class table given by the user (--classes)
  struct FixedReading {
    MaskReading reading;
    ClassTable classes;
  };
  std::optional<FixedReading> reading;
};

struct Split {
  std::vector<size_t> train, val;
};

// 0, 1, ..., n-1: every example of a dataset of n.
std::vector<size_t> all_indices(size_t n);

// Seeded shuffle of 0..n-1 into train and val; with n >= 2 and a positive
// fraction both get at least one example.
Split split_indices(size_t n, double val_fraction, uint64_t seed);

class SegmentationDataset : public Dataset {
 public:
  // Example{input: [C, H, W] float32 normalized with stats(), target: [H, W]
  // int64 class ids with nodata and invalid pixels set to the ignore value};
  // [C, D, H, W] and [D, H, W] where dims() is 3.
  // Throws std::runtime_error naming the files when image and mask differ in
  // size, the mask has ids outside the class table, or pixels are NaN/Inf
  // without being the image's nodata.
  Example get(size_t index) const override;

  const ClassTable& classes() const { return classes_; }
  // How the masks' values were read, and the raw values each mask holds
  // (empty for layouts that do not scan their masks).
  const MaskReading& mask_reading() const { return reading_; }
  const ValueCounts& mask_values(size_t index) const;
  ValueCounts mask_values(const std::vector<size_t>& indices) const;
  // Labelled pixels per class over the masks at `indices`.
  std::vector<int64_t> class_pixels(const std::vector<size_t>& indices) const;
  // The mask-reading report (see describe_mask_reading); "" for layouts that
  // do not scan their masks.
  std::string describe_masks() const;
  virtual std::string name(size_t index) const = 0;
  virtual Image image(size_t index) const = 0;  // raw, with metadata
  // [H, W] (or [D, H, W]) class ids in an integer type (ignore value kept),
  // checked against the class table: get() narrows them to
  // label_dtype_for(classes, ignore) on that promise.
  virtual torch::Tensor mask(size_t index) const = 0;
  // Where the mask comes from, for error messages: its file (default: name()).
  virtual std::string mask_source(size_t index) const { return name(index); }
  virtual std::string layout() const = 0;  // "folders", "voc", "manifest", "volume"
  // Spatial axes of its examples: 2 (images, slices) or 3 (whole volumes).
  virtual int dims() const { return 2; }

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
  MaskReading reading_;
  std::vector<ValueCounts> value_counts_;  // per example; empty when not scanned
  // Throws naming `where` if ids are neither classes nor the ignore value.
  void check_ids(const torch::Tensor& ids, const std::string& where) const;
};

// The classes any mask of `data` holds (every split): what a validation
// split is expected to score (ConfusionMatrix::expect_classes).
std::vector<int64_t> present_classes(const SegmentationDataset& data);

// A validation split whose labelled pixels are all one class scores no other
// class: said before hours of training, not after. "" when the split is fine
// (or its masks were not scanned).
std::string one_class_validation_warning(const SegmentationDataset& data,
                                         const std::vector<size_t>& val);

// Detects the layout of `path` (a folder or a .json manifest) and opens it.
// Throws std::runtime_error naming the path and what was expected.
std::unique_ptr<SegmentationDataset> open_segmentation_dataset(const std::string& path,
                                                               const DatasetOptions& options = {});

}  // namespace revup
