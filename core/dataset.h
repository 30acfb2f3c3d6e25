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

// Stacks the examples at `indices` into one batch.
Example collate(const Dataset& data, const std::vector<size_t>& indices);

}  // namespace revup
