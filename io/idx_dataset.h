#pragma once
// IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/dataset.h"

namespace revup {

// Reads an IDX file into a uint8 tensor of the shape its header declares.
// Throws std::runtime_error naming the file and the problem (missing,
// truncated, not IDX, not unsigned bytes).
torch::Tensor read_idx(const std::string& path);

// Images as float [N, 1, H, W] scaled to [0, 1], labels as int64 [N].
class IdxClassificationDataset : public Dataset {
 public:
  IdxClassificationDataset(const std::string& images_path, const std::string& labels_path,
                           int64_t limit = 0);
  size_t size() const override { return static_cast<size_t>(labels_.size(0)); }
  Example get(size_t i) const override;
  const torch::Tensor& images() const { return images_; }
  // Standardizes the images in place: (x - mean) / std. Without BatchNorm
  // (Fixup, RevUp) the network sees the raw input scale, so this matters.
  void normalize(double mean, double std);
  const torch::Tensor& labels() const { return labels_; }

 private:
  torch::Tensor images_, labels_;
};

// Fashion-MNIST's ten label names, in label order (its README; the IDX files
// hold only the numbers).
const std::vector<std::string>& fashion_mnist_class_names();

}  // namespace revup
