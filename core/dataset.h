#pragma once
// The trainer's view of data: indexed examples, stacked into batches.
#include <torch/torch.h>

#include <cstddef>
#include <vector>

namespace revup {

struct Example {
  torch::Tensor input;   // [C, H, W]
  torch::Tensor target;  // class index [] or label map [H, W]
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  virtual Example get(size_t index) const = 0;
};

// A view of some examples of another dataset (a train or validation split).
class SubsetDataset : public Dataset {
 public:
  SubsetDataset(const Dataset& base, std::vector<size_t> indices)
      : base_(base), indices_(std::move(indices)) {}
  size_t size() const override { return indices_.size(); }
  Example get(size_t i) const override { return base_.get(indices_.at(i)); }

 private:
  const Dataset& base_;
  std::vector<size_t> indices_;
};

// Examples already in memory (built-in scenes, a benchmark's images).
class ExampleList : public Dataset {
 public:
  explicit ExampleList(std::vector<Example> examples) : examples_(std::move(examples)) {}
  size_t size() const override { return examples_.size(); }
  Example get(size_t i) const override { return examples_.at(i); }

 private:
  std::vector<Example> examples_;
};

// Stacks the examples at `indices` into one batch.
Example collate(const Dataset& data, const std::vector<size_t>& indices);

}  // namespace revup
