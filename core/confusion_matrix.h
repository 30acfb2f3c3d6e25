#pragma once
// Segmentation metrics from a confusion matrix accumulated over images:
// per-class IoU and Dice, their means and pixel accuracy, ignoring an
// "unlabelled" value.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace revup {

class ConfusionMatrix {
 public:
  ConfusionMatrix(int64_t classes, int64_t ignore_index);

  // prediction, target: same shape, int64 class ids (target may hold ignore_index).
  void add(const torch::Tensor& prediction, const torch::Tensor& target);
  // Another matrix's counts ([classes, classes], as counts() gives them): the
  // ranks of a data-parallel run each score a share of the images.
  void add_counts(const torch::Tensor& counts);

  // Classes known to exist in the data (its masks, all splits): one that
  // the scored pixels never hold nor predict counts as IoU 0 in the mean, so
  // a validation split of background alone cannot read 100 %.
  void expect_classes(std::vector<int64_t> ids) { expected_ = std::move(ids); }
  // Expected classes with neither labelled pixels nor predictions here.
  std::vector<int64_t> unscored_classes() const;

  // IoU per class; NaN for a class absent from both targets and predictions.
  std::vector<double> class_iou() const;
  // Mean over classes with a defined IoU, and the expected classes.
  double mean_iou() const;
  // Dice per class, 2 TP / (2 TP + FP + FN) = 2 IoU / (1 + IoU) (what medical
  // imaging reports); NaN and the mean as for IoU.
  std::vector<double> class_dice() const;
  double mean_dice() const;
  double pixel_accuracy() const;
  int64_t labelled_pixels() const;
  const torch::Tensor& counts() const { return counts_; }  // [target, prediction]

  // {"miou", "mean_dice", "pixel_accuracy", "iou/<class>"...}: what trainers and evaluate report.
  std::map<std::string, double> metrics(const std::vector<std::string>& class_names = {}) const;

 private:
  static constexpr int64_t kChunkElements = int64_t{1} << 20;
  torch::Tensor chunk_counts(const torch::Tensor& prediction, const torch::Tensor& target) const;

  int64_t classes_;
  int64_t ignore_index_;
  torch::Tensor counts_;  // int64 [classes, classes]
  std::vector<int64_t> expected_;
  // Mean over the defined values, the unscored expected classes counting 0.
  double mean_with_unscored(const std::vector<double>& per_class) const;
};

}  // namespace revup
