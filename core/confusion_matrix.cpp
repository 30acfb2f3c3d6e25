#include "core/confusion_matrix.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace revup {

ConfusionMatrix::ConfusionMatrix(int64_t classes, int64_t ignore_index)
    : classes_(classes),
      ignore_index_(ignore_index),
      counts_(torch::zeros({classes, classes}, torch::kLong)) {
  if (classes < 1) throw std::invalid_argument("a confusion matrix needs at least one class");
}

void ConfusionMatrix::add(const torch::Tensor& prediction, const torch::Tensor& target) {
  if (prediction.sizes() != target.sizes()) {
    throw std::invalid_argument("prediction and target sizes differ");
  }
  // In chunks: a whole 4K (or 10000x10000) map as int64 temporaries would cost hundreds of MiB
  // beside the labels, which are bytes.
  const auto t_all = target.reshape(-1).to(torch::kCPU);
  const auto p_all = prediction.reshape(-1).to(torch::kCPU);
  const int64_t n = t_all.numel();
  // Counted aside: a bad id in a later chunk leaves the matrix as it was.
  auto counts = torch::zeros_like(counts_);
  for (int64_t begin = 0; begin < n; begin += kChunkElements) {
    const int64_t length = std::min(kChunkElements, n - begin);
    counts += chunk_counts(p_all.narrow(0, begin, length), t_all.narrow(0, begin, length));
  }
  counts_ += counts;
}

torch::Tensor ConfusionMatrix::chunk_counts(const torch::Tensor& prediction,
                                            const torch::Tensor& target) const {
  const auto t = target.to(torch::kLong);
  const auto keep = t.ne(ignore_index_);
  const auto tk = t.masked_select(keep);
  if (tk.numel() == 0) return torch::zeros_like(counts_);
  if (tk.min().item<int64_t>() < 0 || tk.max().item<int64_t>() >= classes_) {
    throw std::invalid_argument("a target holds a class id outside 0.." +
                                std::to_string(classes_ - 1) + " that is not the ignore value " +
                                std::to_string(ignore_index_));
  }
  const auto pk = prediction.to(torch::kLong).masked_select(keep);
  return torch::bincount(tk * classes_ + pk.clamp(0, classes_ - 1), {}, classes_ * classes_)
      .view({classes_, classes_});
}

std::vector<double> ConfusionMatrix::class_iou() const {
  const auto diag = counts_.diagonal();
  const auto union_ = counts_.sum(0) + counts_.sum(1) - diag;
  std::vector<double> iou(static_cast<size_t>(classes_));
  for (int64_t c = 0; c < classes_; ++c) {
    const auto u = union_[c].item<int64_t>();
    iou[static_cast<size_t>(c)] =
        u == 0 ? std::numeric_limits<double>::quiet_NaN()
               : static_cast<double>(diag[c].item<int64_t>()) / static_cast<double>(u);
  }
  return iou;
}

std::vector<int64_t> ConfusionMatrix::unscored_classes() const {
  const auto iou = class_iou();
  std::vector<int64_t> out;
  for (int64_t c : expected_) {
    if (c >= 0 && c < classes_ && std::isnan(iou[static_cast<size_t>(c)])) out.push_back(c);
  }
  return out;
}

double ConfusionMatrix::mean_with_unscored(const std::vector<double>& per_class) const {
  double sum = 0;
  int64_t n = 0;
  for (double v : per_class) {
    if (!std::isnan(v)) {
      sum += v;
      ++n;
    }
  }
  n += static_cast<int64_t>(unscored_classes().size());  // each with 0
  return n == 0 ? 0.0 : sum / static_cast<double>(n);
}

double ConfusionMatrix::mean_iou() const { return mean_with_unscored(class_iou()); }

std::vector<double> ConfusionMatrix::class_dice() const {
  auto dice = class_iou();
  for (double& v : dice) v = 2 * v / (1 + v);  // NaN stays NaN
  return dice;
}

double ConfusionMatrix::mean_dice() const { return mean_with_unscored(class_dice()); }

void ConfusionMatrix::add_counts(const torch::Tensor& counts) {
  TORCH_CHECK(counts.sizes() == counts_.sizes(), "add_counts: a ", counts.sizes(),
              " matrix added to a ", counts_.sizes(), " one");
  counts_ += counts.to(counts_.device(), torch::kLong);
}

int64_t ConfusionMatrix::labelled_pixels() const { return counts_.sum().item<int64_t>(); }

double ConfusionMatrix::pixel_accuracy() const {
  const auto total = labelled_pixels();
  return total == 0 ? 0.0
                    : static_cast<double>(counts_.diagonal().sum().item<int64_t>()) /
                          static_cast<double>(total);
}

std::map<std::string, double> ConfusionMatrix::metrics(
    const std::vector<std::string>& class_names) const {
  std::map<std::string, double> m{
      {"miou", mean_iou()}, {"mean_dice", mean_dice()}, {"pixel_accuracy", pixel_accuracy()}};
  const auto iou = class_iou();
  for (size_t c = 0; c < iou.size(); ++c) {
    const auto name = c < class_names.size() ? class_names[c] : std::to_string(c);
    m["iou/" + name] = iou[c];
  }
  return m;
}

}  // namespace revup
